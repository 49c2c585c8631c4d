"""Cost of a TFLite model on the Edge TPU, from the operators the writer emitted and the mapping rules
of backends/edgetpu_report.py: per IR node its parameter bytes, how many of its operators the Edge
TPU maps and how many fall back to the CPU, its MACs; in total the parameters of the mapped operators
against the 8 MiB on-chip parameter cache (the device). All figures are "estimated" (the Edge TPU
compiler is a closed binary not run here)."""

from __future__ import annotations

from hwc.compiler.analysis import macs
from hwc.compiler.ir.graph import Graph

from .figures import Figure, Figures, LayerFigures, sum_layers

PARAMETER_CACHE = 8 * 1024 * 1024


def tflite_figures(g: Graph, ops, status: list[str], target: str) -> Figures:
    """ops: the writer's OpInfo list; status: edgetpu_report.analyse's verdict per operator."""
    by_node = {n.name: n for n in g.nodes}
    layers: dict[str, LayerFigures] = {}
    for o, s in zip(ops, status):
        l = layers.setdefault(o.node, LayerFigures(o.node, o.ir_op, []))
        mapped = s == "Edge TPU"
        l.figures.append(Figure("ops_accel" if mapped else "ops_cpu", 1))
        l.figures.append(Figure("param_bytes" if mapped else "weight_bytes", o.param_bytes))
    out = []
    for l in layers.values():
        merged: dict[str, float] = {}
        for f in l.figures:
            merged[f.name] = merged.get(f.name, 0) + f.value
        n = by_node.get(l.node)
        figs = [Figure(k, merged.get(k, 0)) for k in ("ops_accel", "ops_cpu", "param_bytes")]
        figs.append(Figure("weight_bytes", merged.get("param_bytes", 0) + merged.get("weight_bytes", 0)))
        figs.append(Figure("macs", macs(n) if n is not None else 0))
        out.append(LayerFigures(l.node, l.op, figs))
    total = sum_layers(out, ("ops_accel", "ops_cpu", "param_bytes", "weight_bytes", "macs"))
    figs = Figures(target, out, total, part="Edge TPU")
    used = figs.value("param_bytes")
    figs.device = {"part": "Edge TPU", "family": "edgetpu", "capacity": {"param_bytes": PARAMETER_CACHE},
                   "unit": {"param_bytes": "B"}, "utilisation": {"param_bytes": round(100.0 * used / PARAMETER_CACHE, 2)},
                   "source": "coral.ai/docs/edgetpu/compiler: 8 MiB of on-chip SRAM caches the model's parameters"}
    return figs
