"""Value ranges for choosing fixed-point types: observed on calibration data, or propagated by
interval arithmetic from a declared input range. Both work on the float graph and return
{value name: (min, max)}."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .ir.graph import Graph, Node
from .sim.run import simulate
from .tables import WIDE_TABLES


def calibrate(graph: Graph, inputs: Sequence[np.ndarray], batch: int = 256) -> dict[str, tuple[float, float]]:
    """min/max of every value over the calibration data (run through the float simulator in batches)."""
    from .progress import track

    ranges: dict[str, tuple[float, float]] = {}
    n = len(inputs[0])
    for start in track(range(0, n, batch), -(-n // batch), "calibrating", min_total=4):
        chunk = [x[start:start + batch] for x in inputs]
        outs, kept = simulate(graph, chunk, keep=lambda node: True)
        for v, x in zip(graph.inputs, chunk):
            kept[v.name] = x
        for name, arr in kept.items():
            if arr.size == 0 or not np.issubdtype(arr.dtype, np.floating):
                continue
            lo, hi = float(arr.min()), float(arr.max())
            if name in ranges:
                lo, hi = min(lo, ranges[name][0]), max(hi, ranges[name][1])
            ranges[name] = (lo, hi)
    return ranges


def _interval_dense(x, w, b):
    lo, hi = x
    pos, neg = np.maximum(w, 0), np.minimum(w, 0)
    out_hi = hi * pos.sum(axis=0) + lo * neg.sum(axis=0)
    out_lo = lo * pos.sum(axis=0) + hi * neg.sum(axis=0)
    if b is not None:
        out_hi, out_lo = out_hi + b, out_lo + b
    return float(out_lo.min()), float(out_hi.max())


def _interval_conv(x, w, b):
    lo, hi = x
    flat = w.reshape(w.shape[0], -1).T  # [C*K, M]
    lo_, hi_ = min(lo, 0.0), max(hi, 0.0)  # zero padding
    return _interval_dense((lo_, hi_), flat, b)


def intervals(graph: Graph, input_range: tuple[float, float]) -> dict[str, tuple[float, float]]:
    """Sound bounds of every float value given every graph input element in `input_range`."""
    from .passes.base import is_static

    r: dict[str, tuple[float, float]] = {v.name: tuple(map(float, input_range)) for v in graph.inputs}

    def get(v):
        if v.const is not None:
            return float(v.const.min()), float(v.const.max())
        return r[v.name]

    for node in graph.toposort():
        if all(v is None or is_static(graph, v) for v in node.inputs):
            continue
        x = get(node.inputs[0])
        op = node.op
        if op == "Dense":
            w = _static_value(graph, node.inputs[1])
            b = _static_value(graph, node.input(2)) if node.input(2) is not None else None
            out = _interval_dense(x, w, b)
        elif op == "Conv":
            w = _static_value(graph, node.inputs[1])
            b = _static_value(graph, node.input(2)) if node.input(2) is not None else None
            out = _interval_conv(x, w, b)
        elif op == "Relu":
            out = (max(x[0], 0.0), max(x[1], 0.0))
        elif op == "LeakyRelu":
            a = node.attrs["alpha"]
            f = (lambda v: v if v >= 0 else a * v)
            cands = [f(x[0]), f(x[1])] + ([0.0] if x[0] < 0 < x[1] else [])
            out = (min(cands), max(cands))
        elif op == "Clip":
            lo = node.attrs["min"] if node.attrs["min"] is not None else -math.inf
            hi = node.attrs["max"] if node.attrs["max"] is not None else math.inf
            out = (min(max(x[0], lo), hi), max(min(x[1], hi), lo))
        elif op in ("Sigmoid", "HardSigmoid", "Softmax"):
            out = (0.0, 1.0)
        elif op in ("Tanh", "Bipolar"):
            out = (-1.0, 1.0)
        elif op in WIDE_TABLES:  # the extremes of f on [lo, hi], on a fine grid with the end points
            from .tables import FUNCTIONS, table_params
            grid = np.linspace(x[0], x[1], 4097) if math.isfinite(x[0]) and math.isfinite(x[1]) else np.asarray(x)
            y = np.asarray(FUNCTIONS[op](grid, *table_params(node)), np.float64)
            out = (float(y.min()), float(y.max()))
        elif op in ("Add", "Sub", "Mul", "Div"):
            y = get(node.inputs[1])
            if op == "Add":
                out = (x[0] + y[0], x[1] + y[1])
            elif op == "Sub":
                out = (x[0] - y[1], x[1] - y[0])
            elif op == "Mul":
                c = [x[0] * y[0], x[0] * y[1], x[1] * y[0], x[1] * y[1]]
                out = (min(c), max(c))
            else:
                if y[0] <= 0 <= y[1]:
                    raise ValueError(f"Div node {node.name}: divisor range includes 0")
                c = [x[0] / y[0], x[0] / y[1], x[1] / y[0], x[1] / y[1]]
                out = (min(c), max(c))
        elif op == "Concat":
            rs = [get(v) for v in node.inputs]
            out = (min(a for a, _ in rs), max(b for _, b in rs))
        elif op == "BatchNormalization":
            from .sim.float_ops import batchnorm_affine
            a, b = batchnorm_affine(*[v.const for v in node.inputs[1:]], node.attrs["epsilon"], np.float64)
            c = np.concatenate([a * x[0] + b, a * x[1] + b])
            out = (float(c.min()), float(c.max()))
        elif op == "Pad" and node.attrs["mode"] == "constant":
            v = node.attrs["value"]
            out = (min(x[0], v), max(x[1], v))
        else:  # data movement, pooling, identity: the range is kept
            out = x
        for o in node.outputs:
            r[o.name] = out
    return r


def _static_value(graph: Graph, v) -> np.ndarray:
    """The value of a static (weight) sub-graph as float64."""
    from .passes.base import static_value

    return np.asarray(static_value(v), np.float64)
