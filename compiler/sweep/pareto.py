"""The non-dominated points of a sweep for one cost figure: no other point is at most as costly and
at least as accurate with one of the two strictly better. Ordered by increasing cost (and accuracy)."""

from __future__ import annotations

from typing import Any


def scored(rows: list[dict[str, Any]], cost: str) -> list[dict[str, Any]]:
    """Finished points that have an accuracy and this cost figure."""
    return [r for r in rows if r["status"] == "ok" and r["accuracy"] is not None and cost in (r["cost"] or {})]


def front(rows: list[dict[str, Any]], cost: str) -> list[dict[str, Any]]:
    out, best = [], None
    for r in sorted(scored(rows, cost), key=lambda r: (r["cost"][cost], -r["accuracy"], r["key"])):
        if best is None or r["accuracy"] > best:
            out.append(r)
            best = r["accuracy"]
    return out


# cost figures (lower is better) in the order the report shows them; a measured figure is NAME_measured
COSTS = ("bops", "lut", "dsp", "ff", "bram", "latency", "latency_ns", "ii", "param_bits", "macs", "multipliers",
         "weight_bytes", "activation_bytes", "param_bytes", "ops_cpu")


def cost_keys(rows: list[dict[str, Any]]) -> list[str]:
    """The cost figures present in the table that a front minimises, in `COSTS` order (measured after estimated)."""
    present = {k for r in rows for k, v in (r["cost"] or {}).items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return [k for c in COSTS for k in (c, f"{c}_measured") if k in present]


def best_point(rows: list[dict[str, Any]], cost: str, reference: float, tolerance: float) -> dict[str, Any] | None:
    """The cheapest front point within `tolerance` of the reference accuracy, else the most accurate."""
    f = front(rows, cost)
    if not f:
        return None
    within = [r for r in f if r["accuracy"] >= reference - tolerance - 1e-12]
    return within[0] if within else f[-1]
