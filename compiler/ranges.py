"""Value ranges for choosing fixed-point types: observed on calibration data, or propagated by
interval arithmetic from a declared input range. Both work on the float graph and return
{value name: (min, max)}."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .ir.graph import Graph, Node
from .ir.static import is_static, static_f64
from .sim.run import simulate
from .sim.tables import WIDE_TABLES

DEFAULT_INPUT_RANGE = (-1.0, 1.0)  # inputs assumed for interval analysis without --calib or --input-range


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


def _weights(graph: Graph, node: Node):
    w = static_f64(node.inputs[1])
    b = static_f64(node.input(2)) if node.input(2) is not None else None
    return w, b


def _leaky_relu(node, x, get, graph):
    a = node.attrs["alpha"]
    f = (lambda v: v if v >= 0 else a * v)
    cands = [f(x[0]), f(x[1])] + ([0.0] if x[0] < 0 < x[1] else [])
    return min(cands), max(cands)


def _prelu(node, x, get, graph):
    """x >= 0 keeps x; x < 0 is multiplied by a slope in the slope's range."""
    s = get(node.inputs[1])
    cands = [max(x[0], 0.0), max(x[1], 0.0)] if x[1] >= 0 else []
    if x[0] < 0:
        cands += [a * b for a in (x[0], min(x[1], 0.0)) for b in s]
    return min(cands), max(cands)


def _clip(node, x, get, graph):
    lo = node.attrs["min"] if node.attrs["min"] is not None else -math.inf
    hi = node.attrs["max"] if node.attrs["max"] is not None else math.inf
    return min(max(x[0], lo), hi), max(min(x[1], hi), lo)


def _wide_table(node, x, get, graph):
    """The extremes of f on [lo, hi], on a fine grid with the end points (the table functions)."""
    from .sim.tables import FUNCTIONS, table_params

    grid = np.linspace(x[0], x[1], 4097) if math.isfinite(x[0]) and math.isfinite(x[1]) else np.asarray(x)
    y = np.asarray(FUNCTIONS[node.op](grid, *table_params(node)), np.float64)
    return float(y.min()), float(y.max())


def _binary(node, x, get, graph):
    y = get(node.inputs[1])
    op = node.op
    if op == "Add":
        return x[0] + y[0], x[1] + y[1]
    if op == "Sub":
        return x[0] - y[1], x[1] - y[0]
    if op == "Div" and y[0] <= 0 <= y[1]:
        raise ValueError(f"Div node {node.name}: divisor range includes 0")
    f = (lambda a, b: a * b) if op == "Mul" else (lambda a, b: a / b)
    c = [f(x[0], y[0]), f(x[0], y[1]), f(x[1], y[0]), f(x[1], y[1])]
    return min(c), max(c)


def _matmul(node, x, get, graph):
    """a @ b: with a static b as a Dense; otherwise |y| <= K * max|a| * max|b|."""

    if is_static(graph, node.inputs[1]):
        w = static_f64(node.inputs[1])
        return _interval_dense(x, w.reshape(w.shape[0], -1) if w.ndim == 2 else w.reshape(-1, w.shape[-1]), None)
    y = get(node.inputs[1])
    k = node.inputs[0].type.shape[-1]
    b = k * max(abs(x[0]), abs(x[1])) * max(abs(y[0]), abs(y[1]))
    return -b, b


def _integer_product(node, x, get, graph):
    """ConvInteger/MatMulInteger: |y| <= K * max|x - x_zero| * max|w - w_zero| (K: terms per output)."""
    def centred(r, z):
        return r if z is None else (r[0] - get(z)[1], r[1] - get(z)[0])

    xr, wr = centred(x, node.input(2)), centred(get(node.inputs[1]), node.input(3))
    shape = node.inputs[1].type.shape
    k = node.inputs[0].type.shape[-1] if node.op == "MatMulInteger" else math.prod(shape[1:])
    b = k * max(abs(xr[0]), abs(xr[1])) * max(abs(wr[0]), abs(wr[1]))
    return -b, b


def _concat(node, x, get, graph):
    rs = [get(v) for v in node.inputs]
    return min(a for a, _ in rs), max(b for _, b in rs)


def _batchnorm(node, x, get, graph):
    from .sim.float_ops import batchnorm_affine

    a, b = batchnorm_affine(*[v.const for v in node.inputs[1:]], node.attrs["epsilon"], np.float64)
    c = np.concatenate([a * x[0] + b, a * x[1] + b])
    return float(c.min()), float(c.max())


def _pad(node, x, get, graph):
    if node.attrs["mode"] != "constant":
        return x  # edge and reflect repeat values of x
    v = node.attrs["value"]
    return min(x[0], v), max(x[1], v)


def _layer_norm(node, x, get, graph):
    """|x_i - mean| / std <= sqrt(K - 1) over K values (equality when all but one are equal), so
    y_i lies within bias_i -+ sqrt(K - 1) * |scale_i|."""
    k = math.prod(node.inputs[0].type.shape[node.attrs["axis"]:])
    g = np.abs(static_f64(node.inputs[1]))
    b = static_f64(node.input(2)) if node.input(2) is not None else np.zeros_like(g)
    r = math.sqrt(max(k - 1, 0)) * g
    return float((b - r).min()), float((b + r).max())


def _keep(node, x, get, graph):
    return x


#: op -> interval rule (node, range of input 0, range of any value, graph) -> (lo, hi). Data movement,
#: pooling and casts keep the range; quantizers too (their own type bounds the value where it matters).
INTERVALS = {
    "Dense": lambda node, x, get, graph: _interval_dense(x, *_weights(graph, node)),
    "Conv": lambda node, x, get, graph: _interval_conv(x, *_weights(graph, node)),
    "Relu": lambda node, x, get, graph: (max(x[0], 0.0), max(x[1], 0.0)),
    "LeakyRelu": _leaky_relu, "PRelu": _prelu, "Clip": _clip, **dict.fromkeys(WIDE_TABLES, _wide_table),
    "Sigmoid": lambda *a: (0.0, 1.0), "HardSigmoid": lambda *a: (0.0, 1.0), "Softmax": lambda *a: (0.0, 1.0),
    "Tanh": lambda *a: (-1.0, 1.0), "Bipolar": lambda *a: (-1.0, 1.0),
    "DynamicQuantizeLinear": lambda *a: (0.0, 255.0),  # uint8 values (every hardware target refuses the op)
    "Add": _binary, "Sub": _binary, "Mul": _binary, "Div": _binary, "MatMul": _matmul,
    "ConvInteger": _integer_product, "MatMulInteger": _integer_product,
    "Concat": _concat, "BatchNormalization": _batchnorm, "Pad": _pad, "LayerNormalization": _layer_norm,
    **dict.fromkeys(("Reshape", "Transpose", "Identity", "Dropout", "Resize", "Cast", "MaxPool", "GlobalMaxPool",
                     "AveragePool", "GlobalAveragePool", "Gather", "Quant", "BipolarQuant", "Trunc", "QuantizeLinear",
                     "DequantizeLinear"), _keep),
}


def intervals(graph: Graph, input_range: tuple[float, float]) -> dict[str, tuple[float, float]]:
    """Sound bounds of every float value given every graph input element in `input_range`."""
    from .errors import HwcError

    r: dict[str, tuple[float, float]] = {v.name: tuple(map(float, input_range)) for v in graph.inputs}

    def get(v):
        if v.const is not None:
            return float(v.const.min()), float(v.const.max())
        return r[v.name]

    for node in graph.toposort():
        if all(v is None or is_static(graph, v) for v in node.inputs):
            continue
        rule = INTERVALS.get(node.op)
        if rule is None:
            raise HwcError("no interval rule for this op: give --calib data for its value ranges",
                           node=node.name, op=node.op)
        out = rule(node, get(node.inputs[0]), get, graph)
        for o in node.outputs:
            r[o.name] = out
    return r
