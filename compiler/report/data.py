"""What the report shows when data is given: top-1 accuracy of the compiled model (the target's
simulator mode) and of the float model it was compiled from, and per layer the error of the
fixed-point values against float: relative RMS, sqrt(mean((fixed - float)^2) / mean(float^2)), over
the layers whose name and shape the two graphs share (fixed-point graphs only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..ir.graph import Graph
from ..ir.types import FixedType
from ..sim.run import simulate


def top1(logits: np.ndarray, labels: np.ndarray | None) -> float | None:
    from ..commands.simulate import accuracy

    if labels is None:
        return None
    correct, n = accuracy(labels, logits)  # a count that does not match the outputs is a user error
    return correct / n


def compare(graph: Graph, xs: list[np.ndarray], labels: np.ndarray | None) -> dict:
    """{"samples", "accuracy": {"compiled", "float"}, "layer_error": {node: relative RMS}, "notes"}."""
    from ..compile_model import load_onnx_model
    from ..pipeline import optimize

    mode = graph.metadata.get("sim_mode") or ("fixed" if graph.metadata.get("fixed") else "float")
    fixed = mode == "fixed"
    outs, kept = simulate(graph, xs, mode=mode, keep=lambda n: fixed)
    result = {"samples": int(len(xs[0])), "accuracy": {"compiled": top1(np.asarray(outs[0], np.float64), labels),
                                                         "float": None}, "layer_error": {}, "notes": []}
    source = graph.metadata.get("source")
    if not source or not Path(source).exists():
        result["notes"].append(f"the float model ({source or 'unknown'}) is not at hand: no float comparison")
        return result
    fg = load_onnx_model(source)
    optimize(fg)
    fouts, fkept = simulate(fg, xs, mode="float", keep=lambda n: True)
    result["accuracy"]["float"] = top1(np.asarray(fouts[0], np.float64), labels)
    if not fixed:
        result["notes"].append(f"per-layer error needs a fixed-point model (this one runs in {mode} mode)")
        return result
    float_nodes = {n.name: n for n in fg.nodes}
    for n in graph.toposort():
        f = float_nodes.get(n.name)
        t = n.output.type.elem
        if f is None or not isinstance(t, FixedType) or n.output.name not in kept or f.output.name not in fkept:
            continue
        a = np.asarray(kept[n.output.name], np.float64) * 2.0 ** -t.frac_bits
        b = np.asarray(fkept[f.output.name], np.float64)
        if a.shape != b.shape:
            continue
        power = float(np.mean(b * b))
        result["layer_error"][n.name] = float(np.sqrt(np.mean((a - b) ** 2) / power)) if power > 0 else 0.0
    return result


def float_weights(graph: Graph) -> dict[str, np.ndarray]:
    """The float model's Dense/Conv weights by node name (empty when the source model is not at hand)."""
    from ..compile_model import load_onnx_model
    from ..pipeline import optimize

    source = graph.metadata.get("source")
    if not source or not Path(source).exists():
        return {}
    fg = load_onnx_model(source)
    optimize(fg)
    return {n.name: np.asarray(n.inputs[1].const) for n in fg.nodes
            if n.op in ("Dense", "Conv") and n.inputs[1].const is not None}
