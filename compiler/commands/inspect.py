"""`hwc inspect MODEL|DIR`: layers, shapes, parameters, MACs, quantization; types of a compiled model."""

from __future__ import annotations

import json
import sys

from ..analysis import layer_table
from ..errors import HwcError
from ..ir.printer import format_graph
from ..summary import format_rows, layer_rows
from ..compile_model import load_onnx_model
from .common import is_compiled_dir, load_compiled


def _shape(s) -> str:
    return "x".join("N" if d is None else str(d) for d in s)


def _synthesis(d) -> dict:
    """The `hwc synth` results saved in a compiled directory, by family."""
    from pathlib import Path

    return {p.stem[len("synth_"):]: _read_json(p) for p in sorted(Path(d).glob("synth_*.json"))}


def _print_synthesis(d) -> None:
    from .synth import pnr_text, synth_table, timing

    for family, result in _synthesis(d).items():
        print(f"synthesis ({family}, {result['tool']}, {timing(result)}):")
        print(synth_table(result))
        if "pnr" in result:
            print(pnr_text(result))


def run(args) -> int:
    compiled = is_compiled_dir(args.model)
    graph = load_compiled(args.model) if compiled else load_onnx_model(args.model)
    if args.ir:
        sys.stdout.write(format_graph(graph))
        return 0
    doc, figs = inspect_doc(args.model, graph, compiled)
    rows, totals = doc["layers"], doc["total"]
    if args.json:
        synthesis = _synthesis(args.model) if compiled else {}
        if synthesis:
            doc["synthesis"] = synthesis
        print(json.dumps(doc, indent=1))
        return 0
    print(f"{args.model}: {totals['nodes']} nodes, {totals['params']:,} parameters, {totals['macs']:,} MACs per sample")
    print("inputs:  " + ", ".join(f"{v.name} {v.type}" for v in graph.inputs))
    print("outputs: " + ", ".join(f"{v.name} {v.type}" for v in graph.outputs))
    if compiled:
        pruning = graph.metadata.get("pruning")
        if pruning:  # what the model had before it was pruned
            from ..summary import pruning_line

            print(pruning_line(pruning))
        hls = figs.value("lut", default=None) is not None
        print(format_rows(layer_rows(graph), figs if hls else None))
        for line in cost_lines(figs):
            print(line)
        _print_synthesis(args.model)
        return 0
    header = ("node", "op", "input shape", "output", "params", "MACs", "quantization")
    table = [header] + [(r["node"], r["op"], " ".join(_shape(s) for s in r["inputs"]), _shape(r["output"]),
                         f"{r['params']:,}", f"{r['macs']:,}", r["quant"]) for r in rows]
    table.append(("total", "", "", "", f"{totals['params']:,}", f"{totals['macs']:,}", ""))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for k, row in enumerate(table):
        print("  ".join(c.ljust(w) if i in (0, 1, 2, 3, 6) else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip())
        if k == 0 or k == len(table) - 2:
            print("  ".join("-" * w for w in widths))
    return 0


def inspect_doc(path, graph, compiled: bool):
    """What `hwc inspect --json` prints (and `hwc report` renders), and the cost figures behind it."""
    rows = layer_table(graph)
    totals = {"params": sum(r["params"] for r in rows), "macs": sum(r["macs"] for r in rows), "nodes": len(rows)}
    figs = None
    if compiled:
        typed = layer_rows(graph)
        for r, t in zip(rows, typed):
            r.update({k: t[k] for k in ("output", "weight", "accum", "multipliers", "weight_bits")})
        totals.update(multipliers=sum(t["multipliers"] for t in typed), weight_bits=sum(t["weight_bits"] for t in typed))
        figs = compiled_figures(path, graph)
        for r in rows:
            lf = figs.layer(r["node"])
            r["cost"] = [f.to_json() for f in lf.figures] if lf is not None else []
    doc = {"model": str(path), "compiled": compiled, "inputs": {v.name: str(v.type) for v in graph.inputs},
           "outputs": {v.name: str(v.type) for v in graph.outputs}, "layers": rows, "total": totals}
    if figs is not None:
        doc["figures"] = figs.to_json()
    return doc, figs


def compiled_figures(path, graph):
    """The cost figures of a compiled directory: those `hwc compile` wrote into hwc.json (with any
    measured figures added since), or, for --target sim, the operation counts of its IR."""
    from pathlib import Path

    from ..cost.figures import Figures
    from ..cost.ops import ops_figures

    manifest = Path(path) / "hwc.json"
    figs, target = None, "sim"
    if manifest.exists():
        doc = _read_figures(manifest, "figures")
        figs = Figures.from_json(doc) if doc is not None else None
        target = _read_json(manifest).get("target", target)
    figs = figs or ops_figures(graph, target)
    for result in _synthesis(path).values():  # `hwc synth`: measured figures next to the estimates
        add_synthesis(figs, result)
    return figs


# `hwc synth` result field -> figure name (backends/synth.py; units are the family's cells)
SYNTH_FIGURES = {"luts": "lut", "ffs": "ff", "dsps": "dsp", "brams": "bram"}
SYNTH_UNITS = {"xilinx": {"luts": "LUT", "ffs": "FF", "dsps": "DSP", "brams": "RAMB"},
               "ice40": {"luts": "LUT4", "ffs": "FF", "dsps": "SB_MAC16", "brams": "EBR4K"},
               "ecp5": {"luts": "LUT4", "ffs": "FF", "dsps": "MULT18X18D", "brams": "EBR18K"}}


def add_synthesis(figs, result: dict) -> None:
    """A `hwc synth` result (synth_<family>.json) as measured figures, per layer and in total."""
    from ..cost.figures import MEASURED, Figure, LayerFigures

    units = SYNTH_UNITS.get(result.get("family"))
    if units is None:  # `gates` counts cells, not FPGA resources
        return
    for key, name in SYNTH_FIGURES.items():
        if key in result.get("total", {}):
            figs.add_measured(name, result["total"][key], units[key])
    for l in result.get("layers", []):
        if figs.layer(l["node"]) is None:
            figs.layers.append(LayerFigures(l["node"], l["op"], []))
        for key, name in SYNTH_FIGURES.items():
            if key in l:
                figs.layer(l["node"]).figures.append(Figure(name, l[key], units[key], MEASURED))


def _read_json(path):
    try:
        return json.loads(path.read_text())
    except ValueError as e:
        raise HwcError(f"unreadable synthesis result ({e})", str(path)) from None


def _read_figures(path, key):
    from ..cost.figures import Figures

    try:
        doc = json.loads(path.read_text())
        doc = doc.get(key) if key else doc
        if doc is not None:
            Figures.from_json(doc)
        return doc
    except (ValueError, KeyError, TypeError, AttributeError, OSError) as e:  # OSError: a directory, unreadable
        raise HwcError(f"unreadable cost figures ({e})", str(path)) from None


def cost_lines(figs) -> list[str]:
    """The totals under the table: latency and utilisation (HLS), the parameter cache (Edge TPU), counts."""
    from ..cost.fit import utilisation_line
    from ..cost.figures import KINDS

    lines = []
    if figs.value("latency", default=None) is not None and figs.value("latency_ns", default=None) is not None:
        lines.append(f"estimated latency {figs.value('latency'):,} cycles = {figs.value('latency_ns'):,.1f} ns, "
                     f"II {figs.value('ii'):,} cycles")
        if figs.device:
            lines.append(utilisation_line(figs))
    else:
        lines.append("estimated: " + ", ".join(f"{f.name} {f.value:,} {f.unit}" for f in figs.total if f.name in KINDS))
        if figs.device:
            d = figs.device
            lines.append(f"{d['part']}: " + ", ".join(f"{k} {figs.value(k):,}/{c:,} {d['unit'][k]} ({d['utilisation'][k]:.2f} %)"
                                                      for k, c in d["capacity"].items()))
    lines += [measured_line(figs, f) for f in figs.total if f.source == "measured"]
    return lines


def measured_line(figs, f) -> str:
    """'lut 17,707 LUT (measured; estimated 18,100, error +2.2 %)': a synthesis figure next to the estimate."""
    est = figs.value(f.name, default=None)
    if est is None:
        return f"{f.name} {f.value:,} {f.unit} (measured)"
    err = f", error {100 * (est - f.value) / f.value:+.1f} %" if f.value else ""
    return f"{f.name} {f.value:,} {f.unit} (measured; estimated {est:,}{err})"
