"""The sweep report: the non-dominated points per cost figure as a text table, an offline HTML page
(`SWEEP_DIR/report.html`: inline SVG scatter plots with the front highlighted, no scripts, no CDN),
and the best point's exact `hwc compile` command line."""

from __future__ import annotations

import html
import math
from typing import Any

from .pareto import best_point, cost_keys, front, scored

W, H, PAD = 640, 360, 56


def summary(rows: list[dict], meta: dict) -> tuple[list[str], dict | None]:
    """Text lines of the report and the best point (None when no point finished)."""
    ok = [r for r in rows if r["status"] == "ok"]
    failed = [r for r in rows if r["status"] != "ok"]
    ref = meta.get("float_accuracy", 1.0)
    tol = meta.get("tolerance", 0.01)
    metric = "top-1 accuracy" if meta.get("metric") == "top1" else "agreement with float"
    lines = [f"{len(rows)} points: {len(ok)} ok, {len(failed)} failed; the float model: {metric} {ref:.4f}"]
    for r in failed[:5]:
        lines.append(f"  failed {point_text(r)}: {r['error']}")
    best = None
    for cost in cost_keys(rows):
        f = front(rows, cost)
        lines.append(f"Pareto front, {metric} vs {cost} ({len(f)} of {len(scored(rows, cost))} points):")
        lines += table(f, cost)
    if cost_keys(rows):
        best = best_point(rows, cost_keys(rows)[0], ref, tol)
    if best is not None:
        lines.append(f"best point (cheapest in {cost_keys(rows)[0]} within {tol:.4g} of float): "
                     f"{best['accuracy']:.4f}, {cost_keys(rows)[0]} {best['cost'][cost_keys(rows)[0]]:,}")
        lines.append(f"  {best['command']}")
    return lines, best


def point_text(r: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in (r["point"] or {}).items()) or "(the only point)"


def table(rows: list[dict], cost: str) -> list[str]:
    body = [(f"{r['accuracy']:.4f}", f"{r['cost'][cost]:,}", point_text(r)) for r in rows]
    head = ("accuracy", cost, "point")
    widths = [max(len(x[i]) for x in [head] + body) for i in range(3)]
    return ["  " + "  ".join(c.rjust(w) if i < 2 else c for i, (c, w) in enumerate(zip(x, widths))).rstrip()
            for x in [head] + body]


def html_page(rows: list[dict], meta: dict, lines: list[str]) -> str:
    title = f"hwc sweep: {html.escape(str(meta.get('model', '')))} for --target {html.escape(str(meta.get('target', '')))}"
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title><style>"
             "body{font-family:sans-serif;margin:2em;max-width:60em}pre{background:#f4f4f4;padding:1em;overflow-x:auto}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}"
             "td:nth-child(n+3){text-align:left}"
             "</style></head><body>", f"<h1>{title}</h1>"]
    for cost in cost_keys(rows):
        parts.append(f"<h2>accuracy vs {html.escape(cost)}</h2>")
        parts.append(scatter(scored(rows, cost), front(rows, cost), cost, meta.get("float_accuracy")))
        parts.append("<table><tr><th>accuracy</th><th>" + html.escape(cost) + "</th><th>point</th><th>command</th></tr>")
        for r in front(rows, cost):
            parts.append(f"<tr><td>{r['accuracy']:.4f}</td><td>{r['cost'][cost]:,}</td>"
                         f"<td>{html.escape(point_text(r))}</td><td><code>{html.escape(r['command'])}</code></td></tr>")
        parts.append("</table>")
    parts.append("<h2>summary</h2><pre>" + html.escape("\n".join(lines)) + "</pre></body></html>\n")
    return "\n".join(parts)


def scatter(points: list[dict], front_rows: list[dict], cost: str, reference: float | None) -> str:
    """An SVG scatter plot: cost on a log axis, accuracy linear; front points red and joined by steps."""
    if not points:
        return "<p>no finished points</p>"
    xs = [math.log10(max(r["cost"][cost], 1)) for r in points]
    ys = [r["accuracy"] for r in points] + ([reference] if reference is not None else [])
    x0, x1 = math.floor(min(xs)), max(math.ceil(max(xs)), math.floor(min(xs)) + 1)
    y0, y1 = min(ys), max(ys)
    y0, y1 = (y0 - 0.01, y1 + 0.01) if y1 - y0 < 0.02 else (y0 - 0.05 * (y1 - y0), y1 + 0.05 * (y1 - y0))

    def px(c):
        return PAD + (math.log10(max(c, 1)) - x0) / (x1 - x0) * (W - 2 * PAD)

    def py(a):
        return H - PAD - (a - y0) / (y1 - y0) * (H - 2 * PAD)

    s = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{W}' height='{H}' font-size='11'>",
         f"<rect x='{PAD}' y='{PAD}' width='{W - 2 * PAD}' height='{H - 2 * PAD}' fill='none' stroke='#888'/>"]
    for e in range(x0, x1 + 1):
        x = px(10 ** e)
        s.append(f"<line x1='{x:.1f}' y1='{H - PAD}' x2='{x:.1f}' y2='{H - PAD + 4}' stroke='#888'/>"
                 f"<text x='{x:.1f}' y='{H - PAD + 16}' text-anchor='middle'>1e{e}</text>")
    for k in range(5):
        a = y0 + k * (y1 - y0) / 4
        s.append(f"<text x='{PAD - 4}' y='{py(a) + 4:.1f}' text-anchor='end'>{a:.3f}</text>")
    s.append(f"<text x='{W / 2}' y='{H - 12}' text-anchor='middle'>{html.escape(cost)} (log)</text>"
             f"<text x='14' y='{H / 2}' transform='rotate(-90 14 {H / 2})' text-anchor='middle'>accuracy</text>")
    if reference is not None:
        s.append(f"<line x1='{PAD}' y1='{py(reference):.1f}' x2='{W - PAD}' y2='{py(reference):.1f}' "
                 "stroke='#3a7' stroke-dasharray='4 3'><title>float model</title></line>")
    steps = []
    for r in front_rows:
        x, y = px(r["cost"][cost]), py(r["accuracy"])
        if steps:
            steps.append(f"{x:.1f},{steps[-1].split(',')[1]}")
        steps.append(f"{x:.1f},{y:.1f}")
    if steps:
        s.append(f"<polyline points='{' '.join(steps)}' fill='none' stroke='#c33'/>")
    on_front = {r["key"] for r in front_rows}
    for r in sorted(points, key=lambda r: r["key"] in on_front):
        hot = r["key"] in on_front
        s.append(f"<circle cx='{px(r['cost'][cost]):.1f}' cy='{py(r['accuracy']):.1f}' r='{4 if hot else 3}' "
                 f"fill='{'#c33' if hot else '#999'}'><title>{html.escape(point_text(r))}: {r['accuracy']:.4f}, "
                 f"{cost} {r['cost'][cost]:,}</title></circle>")
    s.append("</svg>")
    return "\n".join(s)
