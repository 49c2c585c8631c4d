"""The non-dominated front and the best point."""

from __future__ import annotations

from hwc.compiler.sweep.pareto import best_point, cost_keys, front


def row(key, acc, bops, status="ok"):
    return {"key": key, "status": status, "accuracy": acc, "cost": {"bops": bops, "param_bits": 10 * bops}}


ROWS = [row("a", 0.90, 100), row("b", 0.95, 100), row("c", 0.93, 200), row("d", 0.97, 400), row("e", 0.99, 800),
        row("f", 0.99, 900), row("g", 0.5, 1, status="failed")]


def test_front_drops_dominated_and_failed_points():
    assert [r["key"] for r in front(ROWS, "bops")] == ["b", "d", "e"]


def test_best_point_cheapest_within_tolerance():
    assert best_point(ROWS, "bops", reference=0.99, tolerance=0.02)["key"] == "d"
    assert best_point(ROWS, "bops", reference=0.99, tolerance=0.0)["key"] == "e"
    assert best_point(ROWS, "bops", reference=1.5, tolerance=0.01)["key"] == "e"  # none within: the most accurate


def test_cost_keys_are_costs_in_report_order():
    rows = [{"cost": {"param_bits": 1, "bops": 2, "note": "x", "ops_accel": 3, "lut_measured": 4, "lut": 5}}]
    assert cost_keys(rows) == ["bops", "lut", "lut_measured", "param_bits"]  # more ops_accel is better: no front
