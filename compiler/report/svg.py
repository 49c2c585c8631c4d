"""Small hand-written SVG plots for the report: horizontal bars, a histogram over a quantization grid,
and the layer graph. Every plot is an <svg class="plot"> with a viewBox, so it scales with the page."""

from __future__ import annotations

from html import escape

FONT = 'font-family="system-ui, sans-serif" font-size="12"'
BAR = "#3b6fb6"
OVER = "#c0392b"


def _num(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() or abs(v) >= 100 else f"{v:,.3g}"


def hbars(title: str, labels: list[str], values: list[float], unit: str = "", limit: float | None = None,
          width: int = 560, plot_id: str = "") -> str:
    """One bar per label; `limit` draws a dashed line (e.g. 100 %) and colours the bars beyond it."""
    row, left, right = 20, 150, 90
    h = 28 + row * max(1, len(labels))
    top = max([*values, limit or 0, 1e-12])
    scale = (width - left - right) / top
    out = [f'<svg class="plot" id="{escape(plot_id)}" viewBox="0 0 {width} {h}" width="100%" style="max-width:{width}px" '
           f'role="img" aria-label="{escape(title)}" {FONT}>', f'<title>{escape(title)}</title>',
           f'<text x="0" y="14" font-weight="600">{escape(title)}</text>']
    for i, (lab, v) in enumerate(zip(labels, values)):
        y = 24 + i * row
        colour = OVER if limit is not None and v > limit else BAR
        out.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{escape(lab[:22])}</text>')
        out.append(f'<rect x="{left}" y="{y + 2}" width="{max(v * scale, 0.5):.1f}" height="{row - 6}" fill="{colour}"/>')
        out.append(f'<text x="{left + v * scale + 4:.1f}" y="{y + 13}">{_num(v)} {escape(unit)}</text>')
    if limit is not None:
        x = left + limit * scale
        out.append(f'<line x1="{x:.1f}" y1="20" x2="{x:.1f}" y2="{h}" stroke="#555" stroke-dasharray="4 3"/>')
    out.append("</svg>")
    return "\n".join(out)


def histogram(title: str, levels: list[float], counts: list[int], grid: list[float], width: int = 360,
              plot_id: str = "", subtitle: str = "", overlay: list[tuple[float, float]] | None = None) -> str:
    """Bars at `levels` (their counts), tick marks at every point of the quantization `grid`; `overlay`:
    (x, height 0..1) points of a line drawn over the bars (the float weights' distribution)."""
    h, pad, base = 166, 30, 136
    xs_all = grid + levels + [x for x, _ in overlay or []]
    lo, hi = min(xs_all), max(xs_all)
    span = (hi - lo) or 1.0
    xs = lambda v: pad + (v - lo) / span * (width - 2 * pad)  # noqa: E731
    top = max(counts + [1])
    bw = max(1.5, (width - 2 * pad) / max(len(grid), len(levels), 1) * 0.8)
    out = [f'<svg class="plot" id="{escape(plot_id)}" viewBox="0 0 {width} {h}" width="100%" style="max-width:{width}px" '
           f'role="img" aria-label="{escape(title)}" {FONT}>', f'<title>{escape(title)}</title>',
           f'<text x="0" y="14" font-weight="600">{escape(title)}</text>',
           f'<text x="0" y="30" font-size="11" fill="#5b6776">{escape(subtitle)}</text>']
    for g in grid:
        out.append(f'<line x1="{xs(g):.1f}" y1="{base}" x2="{xs(g):.1f}" y2="{base + 5}" stroke="#888"/>')
    for v, c in zip(levels, counts):
        bh = c / top * (base - 40)
        colour = "#999" if v == 0 else BAR
        out.append(f'<rect x="{xs(v) - bw / 2:.1f}" y="{base - bh:.1f}" width="{bw:.1f}" height="{max(bh, 0.5):.1f}" '
                   f'fill="{colour}"><title>{v:g}: {c}</title></rect>')
    if overlay:
        pts = " ".join(f"{xs(x):.1f},{base - y * (base - 40):.1f}" for x, y in overlay)
        out.append(f'<polyline points="{pts}" fill="none" stroke="#e67e22" stroke-width="1.5"><title>float weights</title></polyline>')
    out.append(f'<line x1="{pad}" y1="{base}" x2="{width - pad}" y2="{base}" stroke="#333"/>')
    out.append(f'<text x="{pad}" y="{base + 20}" text-anchor="middle">{lo:.3g}</text>')
    out.append(f'<text x="{width - pad}" y="{base + 20}" text-anchor="middle">{hi:.3g}</text>')
    out.append(f'<text x="{width / 2}" y="{base + 20}" text-anchor="middle">{len(grid)} grid levels</text>')
    out.append("</svg>")
    return "\n".join(out)


def layer_graph(nodes: list[tuple[str, str, str]], edges: list[tuple[str, str]], width: int = 1100,
                plot_id: str = "graph") -> str:
    """nodes: (name, op, caption) in topological order; columns by longest path from an input."""
    depth: dict[str, int] = {}
    preds: dict[str, list[str]] = {}
    for a, b in edges:
        preds.setdefault(b, []).append(a)
    for name, _, _ in nodes:
        depth[name] = max((depth.get(p, 0) + 1 for p in preds.get(name, [])), default=0)
    cols: dict[int, list[str]] = {}
    for name, _, _ in nodes:
        cols.setdefault(depth[name], []).append(name)
    ncol = max(cols) + 1 if cols else 1
    per_row = max(1, min(ncol, 8))
    bw, bh, gx, gy = 118, 46, 18, 34
    band = (max(len(c) for c in cols.values()) if cols else 1) * (bh + 10)
    pos = {}
    for d, names in cols.items():
        r, c = divmod(d, per_row)
        for k, name in enumerate(names):
            pos[name] = (10 + c * (bw + gx), 10 + r * (band + gy) + k * (bh + 10))
    rows = (ncol + per_row - 1) // per_row
    h = 20 + rows * (band + gy)
    w = 20 + per_row * (bw + gx)
    out = [f'<svg class="plot" id="{plot_id}" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="layer graph" {FONT}>',
           '<title>layer graph</title>',
           '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="6" markerHeight="6" orient="auto">'
           '<path d="M0,0 L8,4 L0,8 z" fill="#666"/></marker></defs>']
    for a, b in edges:
        if a in pos and b in pos:
            (x1, y1), (x2, y2) = pos[a], pos[b]
            if y2 > y1 + band // 2 and x2 < x1:  # wrapped to the next row
                out.append(f'<path d="M{x1 + bw / 2},{y1 + bh} C{x1 + bw / 2},{y1 + bh + gy} {x2 + bw / 2},{y2 - gy} '
                           f'{x2 + bw / 2},{y2}" fill="none" stroke="#666" marker-end="url(#arrow)"/>')
            else:
                out.append(f'<line x1="{x1 + bw}" y1="{y1 + bh / 2}" x2="{x2}" y2="{y2 + bh / 2}" stroke="#666" '
                           'marker-end="url(#arrow)"/>')
    for name, op, caption in nodes:
        x, y = pos[name]
        out.append(f'<g><title>{escape(name)}</title><rect x="{x}" y="{y}" width="{bw}" height="{bh}" rx="6" '
                   f'fill="#eef3fb" stroke="#3b6fb6"/>'
                   f'<text x="{x + bw / 2}" y="{y + 18}" text-anchor="middle" font-weight="600">{escape(op)}</text>'
                   f'<text x="{x + bw / 2}" y="{y + 35}" text-anchor="middle" font-size="10">{escape(caption[:20])}</text></g>')
    out.append("</svg>")
    return "\n".join(out)
