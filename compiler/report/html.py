"""The report page: one self-contained HTML file (inline CSS and SVG, no script, no network) rendering
`hwc inspect --json`'s document for a compiled directory, and the data comparison when given.
Every number taken from the figures carries data-fig="NODE:NAME" (or "total:NAME", "util:NAME"),
so a test can check the page against `hwc inspect --json`."""

from __future__ import annotations

from html import escape

import numpy as np

from ..ir.graph import Graph
from ..ir.types import FixedType
from . import svg

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2733;background:#f6f8fb}
main{max-width:1240px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0 2px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d5dce6;padding-bottom:4px}
.sub{color:#5b6776;font-size:13px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px;margin-top:14px}
.card{background:#fff;border:1px solid #d5dce6;border-radius:8px;padding:8px 12px}
.card .v{font-size:20px;font-weight:600}.card .k{font-size:12px;color:#5b6776}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(380px,1fr));gap:12px}
.grid3{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:12px}
.panel{background:#fff;border:1px solid #d5dce6;border-radius:8px;padding:10px}
table{border-collapse:collapse;font-size:12px;background:#fff;width:100%}
th,td{border-bottom:1px solid #e3e8ef;padding:3px 5px;text-align:right;white-space:nowrap}
th{background:#eef2f7;position:sticky;top:0}td.l,th.l{text-align:left}
.scroll{overflow-x:auto;border:1px solid #d5dce6;border-radius:8px}
.est{color:#7a8594;font-size:11px}.note{color:#7a5a00;font-size:13px}
"""


# column headings of the layer table ({} is the figure's unit)
HEADER = {"multipliers": "multipliers", "dsp": "{}", "lut": "{}", "ff": "{}", "bram": "{}", "latency": "latency (cycles)",
          "latency_ns": "latency (ns)", "ii": "II (cycles)", "macs": "MACs", "bops": "BOPs", "weight_bytes": "weights (B)",
          "activation_bytes": "activations (B)", "param_bytes": "TPU parameters (B)", "ops_accel": "ops on the TPU",
          "ops_cpu": "ops on the CPU"}


def fmt(v) -> str:
    return f"{v:,}"


def _fig(cost: list[dict], name: str, source: str = "estimated"):
    return next((f for f in cost if f["name"] == name and f["source"] == source), None)


def _label(f: dict) -> str:
    return f["name"] if f["unit"] in (f["name"], "") else f"{f['name']} ({f['unit']})"


def _cards(doc: dict) -> str:
    figs = doc.get("figures") or {}
    out = []
    for f in figs.get("total", []):
        out.append(f'<div class="card"><div class="v" data-fig="total:{f["name"]}{":measured" if f["source"] == "measured" else ""}">'
                   f'{fmt(f["value"])}</div><div class="k">{escape(_label(f))} ({f["source"]})</div></div>')
    t = doc["total"]
    out.append(f'<div class="card"><div class="v">{fmt(t["params"])}</div><div class="k">parameters</div></div>')
    return '<div class="cards">' + "".join(out) + "</div>"


def _layer_table(doc: dict) -> str:
    names = [f["name"] for f in (doc.get("figures") or {}).get("total", []) if f["source"] == "estimated"]
    units = {f["name"]: f["unit"] for f in (doc.get("figures") or {}).get("total", [])}
    head = ["node", "op", "output type", "weight type", "accumulator"] + [HEADER.get(n, "{}").format(units[n]) for n in names]
    rows = []
    for r in doc["layers"]:
        cells = [f'<td class="l">{escape(r["node"])}</td>', f'<td class="l">{escape(r["op"])}</td>',
                 f'<td class="l">{escape(r.get("output", ""))}</td>', f'<td class="l">{escape(r.get("weight", ""))}</td>',
                 f'<td class="l">{escape(r.get("accum", ""))}</td>']
        for n in names:
            f = _fig(r.get("cost", []), n)
            cells.append(f'<td data-fig="{escape(r["node"])}:{n}">{fmt(f["value"])}</td>' if f else "<td></td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    header = "".join(f'<th class="{"l" if i < 5 else ""}">{escape(h)}</th>' for i, h in enumerate(head))
    return f'<div class="scroll"><table><thead><tr>{header}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def _per_layer_charts(doc: dict, names: list[str], pid: str) -> str:
    figs = doc.get("figures") or {}
    units = {f["name"]: f["unit"] for f in figs.get("total", [])}
    panels = []
    for n in names:
        if n not in units:
            continue
        labels, values = [], []
        for l in figs["layers"]:
            f = _fig(l["figures"], n)
            if f is not None and (f["value"] or n in ("latency",)):
                labels.append(l["node"])
                values.append(f["value"])
        if labels:
            panels.append(f'<div class="panel">{svg.hbars(f"{n} per layer", labels, values, units[n], plot_id=f"{pid}-{n}")}</div>')
    return '<div class="grid2">' + "".join(panels) + "</div>" if panels else ""


def _device(doc: dict) -> str:
    d = (doc.get("figures") or {}).get("device")
    if not d:
        return '<p class="note">no device capacities for this part: utilisation not computed</p>'
    labels = [f"{k} ({d['unit'][k]})" for k in d["capacity"]]
    values = [d["utilisation"][k] for k in d["capacity"]]
    spans = " · ".join(f'{escape(k)} <span data-fig="util:{k}">{fmt(d["utilisation"][k])}</span> % of {fmt(c)}'
                       for k, c in d["capacity"].items())
    chart = svg.hbars(f"utilisation of {d['part']} (%)", labels, values, "%", limit=100.0, plot_id="fit")
    return (f'<div class="panel">{chart}'
            f'<div class="sub">{spans}</div><div class="est">capacities: {escape(d.get("source", ""))}</div></div>')


def _precision(graph: Graph) -> str:
    labels, outs, weights, accs = [], [], [], []
    for n in graph.toposort():
        t = n.output.type.elem
        if n.op in ("FromFloat", "ToFloat") or not isinstance(t, FixedType):
            continue
        labels.append(n.name)
        outs.append(t.width)
        w = n.inputs[1].type.elem if n.op in ("Dense", "Conv") else None
        weights.append(w.width if isinstance(w, FixedType) else 0)
        acc = n.attrs.get("accum") if n.op in ("Dense", "Conv") else None
        accs.append(acc.width if isinstance(acc, FixedType) else 0)
    if not labels:
        return '<p class="note">this target does not compute in fixed point (see the layer table for its types)</p>'
    charts = [svg.hbars("activation (output) width", labels, outs, "bits", plot_id="prec-out"),
              svg.hbars("weight width", labels, weights, "bits", plot_id="prec-weight"),
              svg.hbars("accumulator width", labels, accs, "bits", plot_id="prec-accum")]
    return '<div class="grid3">' + "".join(f'<div class="panel">{c}</div>' for c in charts) + "</div>"


def _float_line(w: np.ndarray | None, lo: float, hi: float) -> list[tuple[float, float]] | None:
    """The float weights' histogram (16 to 96 bins over the plotted range) as (x, height 0..1) points."""
    if w is None or w.size == 0:
        return None
    w = w.astype(np.float64).reshape(-1)
    lo, hi = min(lo, float(w.min())), max(hi, float(w.max()))
    counts, edges = np.histogram(w, bins=int(min(96, max(16, w.size // 8))), range=(lo, hi) if hi > lo else None)
    top = counts.max() or 1
    return [(float((a + b) / 2), float(c / top)) for a, b, c in zip(edges[:-1], edges[1:], counts)]


def _histograms(graph: Graph, float_weights: dict[str, np.ndarray] | None = None) -> str:
    float_weights = float_weights or {}
    panels = []
    for k, n in enumerate(graph.toposort()):
        if n.op not in ("Dense", "Conv") or n.inputs[1].const is None:
            continue
        t = n.inputs[1].type.elem
        m = np.asarray(n.inputs[1].const).reshape(-1)
        if isinstance(t, FixedType):
            scale = 2.0 ** -t.frac_bits
            levels, counts = np.unique(m, return_counts=True)
            grid_m = np.arange(t.min_mantissa, t.max_mantissa + 1)
            if grid_m.size > 129:  # too many levels to draw: 64 bins, grid ticks at the bin edges
                edges = np.linspace(t.min_mantissa, t.max_mantissa, 65)
                counts, _ = np.histogram(m, bins=edges)
                levels = (edges[:-1] + edges[1:]) / 2
                grid_m = edges
            sub = f"{t}: {int(np.count_nonzero(m)):,} of {m.size:,} nonzero (grey: zero)"
            grid = [float(g * scale) for g in grid_m]
            fw = float_weights.get(n.name)
            if fw is None or fw.size != m.size:
                fw = None
            panels.append(svg.histogram(n.name, [float(v * scale) for v in levels], [int(c) for c in counts], grid,
                                        plot_id=f"hist-{k}", subtitle=sub, overlay=_float_line(fw, grid[0], grid[-1])))
        else:
            counts, edges = np.histogram(m.astype(np.float64), bins=48)
            panels.append(svg.histogram(f"{n.name}: {t}", [float(v) for v in (edges[:-1] + edges[1:]) / 2],
                                        [int(c) for c in counts], [float(edges[0]), float(edges[-1])], plot_id=f"hist-{k}"))
    return '<div class="grid3">' + "".join(f'<div class="panel">{p}</div>' for p in panels) + "</div>"


def _graph(graph: Graph, doc: dict) -> str:
    nodes, edges = [], []
    producer = {}
    for n in graph.toposort():
        for v in n.outputs:
            producer[id(v)] = n.name
    for n in graph.toposort():
        shape = "x".join(str(d) for d in n.output.type.shape if d is not None)
        nodes.append((n.name, n.op, shape))
        for v in n.inputs:
            if v is not None and id(v) in producer:
                edges.append((producer[id(v)], n.name))
    return f'<div class="panel">{svg.layer_graph(nodes, edges)}</div>'


def _data(data: dict | None) -> str:
    if not data:
        return ('<p class="sub">run <code>hwc report DIR --input X --labels Y</code> for accuracy against float and the '
                'per-layer error of the fixed-point model.</p>')
    acc = data["accuracy"]
    rows = [f'<tr><td class="l">{k}</td><td data-acc="{k}">{"—" if v is None else f"{100 * v:.2f} %"}</td></tr>'
            for k, v in (("compiled (target arithmetic)", acc["compiled"]), ("float model", acc["float"]))]
    out = [f'<p class="sub">{data["samples"]:,} samples</p><table style="width:auto"><tr><th class="l">model</th>'
           f'<th>top-1 accuracy</th></tr>{"".join(rows)}</table>']
    if data["layer_error"]:
        labels = list(data["layer_error"])
        values = [round(100 * v, 4) for v in data["layer_error"].values()]
        chart = svg.hbars("relative RMS error of the fixed-point layer outputs against float", labels, values, "%",
                          plot_id="layer-error")
        out.append(f'<div class="panel" style="margin-top:10px">{chart}</div>')
    out += [f'<p class="note">{escape(n)}</p>' for n in data["notes"]]
    return "".join(out)


def render(doc: dict, graph: Graph, manifest: dict | None, data: dict | None = None,
           float_weights: dict[str, np.ndarray] | None = None) -> str:
    """float_weights: node name -> the float model's weights (the orange line of the histograms)."""
    figs = doc.get("figures") or {}
    target = figs.get("target") or (manifest or {}).get("target", "sim")
    opts = (manifest or {}).get("options", {})
    opt_text = ", ".join(f"{k} {v}" for k, v in opts.items() if k in ("io", "strategy", "reuse", "part", "clock", "wbits", "abits"))
    hls = any(f["name"] == "lut" for f in figs.get("total", []))
    sections = [
        f"<header><h1>hwc report: {escape(str(doc['model']))}</h1>"
        f'<div class="sub">target {escape(target)}{" · " + escape(opt_text) if opt_text else ""} · '
        f'{doc["total"]["nodes"]} nodes · all cost figures are estimated before synthesis unless marked measured</div>'
        f"{_cards(doc)}</header>",
        f"<h2>Layer graph</h2>{_graph(graph, doc)}",
        f"<h2>Device fit</h2>{_device(doc)}",
        f"<h2>Layers</h2>{_layer_table(doc)}",
        f"<h2>Precision per layer</h2>{_precision(graph)}",
        "<h2>Multipliers and resources per layer</h2>" +
        _per_layer_charts(doc, ["multipliers", "dsp", "lut", "ff", "bram"] if hls else
                          ["macs", "bops", "weight_bytes", "activation_bytes", "param_bytes", "ops_accel", "ops_cpu"], "res"),
    ]
    if hls:
        ii = _fig(figs["total"], "ii")  # the verilog target takes one sample per cycle at any clock: no II, no ns
        rate = f", II {fmt(ii['value'])} cycles at {figs.get('clock_ns')} ns" if ii else ", one sample per cycle"
        sections.append(f"<h2>Latency</h2><p class=\"sub\">total <span data-fig=\"total:latency\">{fmt(_fig(figs['total'], 'latency')['value'])}</span> "
                        f"cycles{rate}</p>" + _per_layer_charts(doc, ["latency", "ii"] if ii else ["latency"], "lat"))
    sections.append("<h2>Weights and their quantization grid</h2><p class=\"sub\">bars: the weights as compiled, on their "
                    "type's grid (ticks; grey: zero, i.e. pruned or rounded away); orange line: the float model's weights "
                    "(when it is at hand)</p>" + _histograms(graph, float_weights))
    sections.append(f"<h2>Accuracy and error against float</h2>{_data(data)}")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>hwc report</title><style>{CSS}</style></head><body><main>\n" + "\n".join(sections) +
            "\n</main></body></html>\n")
