"""Fixed-point simulator: one function per IR op over integer mantissas, each ending with the cast
into the node's output type, exactly as the HLS kernels compute (docs/FIXED_POINT.md).

`fn(node, *inputs)`: inputs are mantissa arrays (int64, or object arrays of Python ints when wider
than 62 bits) typed by `node.inputs[i].type.elem`. Nodes whose output is a float type (the float
tail of a model, e.g. a final Softmax the model left unquantized) run the float function.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from .. import tables
from ..ir.graph import Node
from ..ir.types import FixedType, FloatType
from . import float_ops
from .exact import int_conv, int_matmul
from .fixed import cast, from_float, to_float


def _in(node: Node, i: int) -> FixedType:
    t = node.inputs[i].type.elem
    if not isinstance(t, FixedType):
        raise TypeError(f"{node.op} node {node.name}: input {i} is {t}, not a fixed-point type")
    return t


def _out(node: Node, i: int = 0) -> FixedType:
    return node.outputs[i].type.elem


def _align(m: np.ndarray, k: int) -> np.ndarray:
    """m * 2^k for k >= 0 (exact)."""
    if k < 0:
        raise ValueError("aligning would drop bits")
    return m if k == 0 else m << k


def _channel(v: np.ndarray, rank: int, axis: int = 1) -> np.ndarray:
    return np.asarray(v).reshape((-1,) + (1,) * (rank - 1 - axis))


def _accumulate(node: Node, acc: np.ndarray, f_acc: int, bias, channel_axis: int) -> tuple[np.ndarray, int]:
    """Add the bias and wrap into the accumulator type, as `accum_t acc = bias; acc += x*w ...`."""
    a = node.attrs.get("accum")
    if bias is not None:
        fb = _in(node, 2).frac_bits
        b = cast(bias, fb, a) if a is not None else bias
        fb_acc = a.frac_bits if a is not None else fb
        if fb_acc > f_acc:
            raise ValueError(f"{node.op} node {node.name}: bias has more fractional bits than the accumulator")
        acc = acc + _channel(_align(b, f_acc - fb_acc), acc.ndim, channel_axis)
    if a is not None:
        if a.frac_bits != f_acc:
            raise ValueError(f"{node.op} node {node.name}: accumulator {a} must keep the {f_acc} fractional bits of the products")
        acc = cast(acc, f_acc, a)
    return acc, f_acc


def _weight_shift(node: Node, acc: np.ndarray, axis: int) -> np.ndarray:
    ws = node.attrs.get("weight_shift")
    if not ws:
        return acc
    return acc << _channel(np.asarray(ws, np.int64), acc.ndim, axis)


def dense(node, x, w, b=None):
    acc = int_matmul(x, w)
    acc = _weight_shift(node, acc, acc.ndim - 1)
    acc, f = _accumulate(node, acc, _in(node, 0).frac_bits + _in(node, 1).frac_bits, b, acc.ndim - 1)
    return cast(acc, f, _out(node))


def conv(node, x, w, b=None):
    a = node.attrs
    acc = int_conv(x, w, a["strides"], a["dilations"], a["pads"], a["group"])
    acc = _weight_shift(node, acc, 1)
    acc, f = _accumulate(node, acc, _in(node, 0).frac_bits + _in(node, 1).frac_bits, b, 1)
    return cast(acc, f, _out(node))


def relu(node, x):
    return cast(np.maximum(x, 0), _in(node, 0).frac_bits, _out(node))


def bipolar(node, x):
    """x >= 0 ? +1 : -1, as mantissas of the output type (integer, 2-bit signed)."""
    t = _out(node)
    return np.where(x >= 0, 1 << t.frac_bits, -(1 << t.frac_bits)).astype(np.int64)


def prelu(node, x, slope):
    """m_x < 0 ? m_x·m_s[c] : m_x << f_s (slope mantissas per channel), then the cast."""
    fx, fs = _in(node, 0).frac_bits, _in(node, 1).frac_bits
    s = np.asarray(slope, np.int64)
    return cast(np.where(x < 0, x * s, x << fs), fx + fs, _out(node))


def _param(value: float, t: FixedType) -> int:
    return int(from_float(np.asarray([value], np.float64), t)[0])


def leaky_relu(node, x):
    pt = node.attrs["param_type"]
    alpha = _param(node.attrs["alpha"], pt)
    fx = _in(node, 0).frac_bits
    y = np.where(x < 0, x * alpha, x << pt.frac_bits)
    return cast(y, fx + pt.frac_bits, _out(node))


def clip_bounds(node) -> tuple[int | None, int | None]:
    """Clip's bounds as mantissas on the input's grid: min rounded up, max rounded down (None: no bound).
    The HLS generator writes the same numbers."""
    fx = _in(node, 0).frac_bits
    lo, hi = node.attrs["min"], node.attrs["max"]
    return (math.ceil(Fraction(lo) * Fraction(2) ** fx) if lo is not None else None,
            math.floor(Fraction(hi) * Fraction(2) ** fx) if hi is not None else None)


def clip(node, x):
    lo, hi = clip_bounds(node)
    y = x
    if lo is not None:
        y = np.maximum(y, lo)
    if hi is not None:
        y = np.minimum(y, hi)
    return cast(y, _in(node, 0).frac_bits, _out(node))


def hard_sigmoid(node, x):
    pt = node.attrs["param_type"]
    fx = _in(node, 0).frac_bits
    f = fx + pt.frac_bits
    v = x * _param(node.attrs["alpha"], pt) + (_param(node.attrs["beta"], pt) << fx)
    return cast(np.clip(v, 0, 1 << f), f, _out(node))


def _table_fn(name):
    def run(node, x):
        a = node.attrs
        table = tables.function_table(name, a["table_bits"], a["range_bits"], _out(node), tables.table_params(node))
        return table[tables.function_index(x, _in(node, 0).frac_bits, a["table_bits"], a["range_bits"])]
    run.__name__ = name.lower()
    return run


def softmax_parts(node, x):
    """(e, inv, f_e, f_inv): exp-table values of max - x and the inverse-table value of their exact sum,
    as mantissas (shared by every simulator mode that runs the table softmax)."""
    a = node.attrs
    fx = _in(node, 0).frac_bits
    ax = a["axis"]
    neg_d = x.max(axis=ax, keepdims=True) - x
    et, it = a["exp_type"], a["inv_type"]
    e = tables.exp_table(a["exp_table_bits"], a["exp_range_bits"], et)[
        tables.exp_index(neg_d, fx, a["exp_table_bits"], a["exp_range_bits"])]
    s = e.sum(axis=ax, keepdims=True)
    inv = tables.inv_table(a["inv_table_bits"], a["inv_range_bits"], it)[
        tables.inv_index(s, et.frac_bits, a["inv_table_bits"], a["inv_range_bits"])]
    return e, inv, et.frac_bits, it.frac_bits


def softmax(node, x):
    e, inv, fe, fi = softmax_parts(node, x)
    return cast(e * inv, fe + fi, _out(node))


def max_pool(node, x):
    a = node.attrs
    lowest = np.iinfo(np.int64).min
    w = float_ops._windows(x.astype(np.int64), a["kernel_shape"], a["strides"], a["dilations"], a["pads"], lowest,
                           float_ops._ceil_extra(node, x.shape))
    nd = len(a["kernel_shape"])
    return cast(w.max(axis=tuple(range(-nd, 0))), _in(node, 0).frac_bits, _out(node))


def _avg_counts(node, x_shape) -> np.ndarray:
    """The ONNX divisor of every output window (in-bounds taps, or taps inside the explicit padding)."""
    a = node.attrs
    nd = len(a["kernel_shape"])
    ones = [1] * nd
    extra = float_ops._ceil_extra(node, x_shape)
    axes = tuple(range(-nd, 0))
    if a["count_include_pad"]:
        padded = (1, 1) + tuple(x_shape[2 + i] + a["pads"][i] + a["pads"][nd + i] for i in range(nd))
        cnt = float_ops._windows(np.ones(padded, np.int64), a["kernel_shape"], a["strides"], ones, [0] * (2 * nd), 0, extra)
    else:
        cnt = float_ops._windows(np.ones((1, 1) + tuple(x_shape[2:]), np.int64), a["kernel_shape"], a["strides"], ones,
                                 a["pads"], 0, extra)
    return cnt.sum(axis=axes)


def average_pool(node, x):
    a = node.attrs
    nd = len(a["kernel_shape"])
    s = float_ops._windows(x.astype(np.int64), a["kernel_shape"], a["strides"], [1] * nd, a["pads"], 0,
                           float_ops._ceil_extra(node, x.shape)).sum(axis=tuple(range(-nd, 0)))
    cnt = _avg_counts(node, x.shape)
    r = tables.reciprocal_table(math.prod(a["kernel_shape"]), a["recip_bits"])
    return cast(s * r[cnt], _in(node, 0).frac_bits + a["recip_bits"], _out(node))


def global_average_pool(node, x):
    axes = tuple(range(2, x.ndim))
    n = math.prod(x.shape[2:])
    r = int(tables.reciprocal_table(n, node.attrs["recip_bits"])[n])
    return cast(x.sum(axis=axes, keepdims=True) * r, _in(node, 0).frac_bits + node.attrs["recip_bits"], _out(node))


def global_max_pool(node, x):
    return cast(x.max(axis=tuple(range(2, x.ndim)), keepdims=True), _in(node, 0).frac_bits, _out(node))


def _add_sub(sign):
    def run(node, a, b):
        fa, fb = _in(node, 0).frac_bits, _in(node, 1).frac_bits
        f = max(fa, fb)
        return cast(_align(a, f - fa) + sign * _align(b, f - fb), f, _out(node))
    return run


def mul(node, a, b):
    return cast(a * b, _in(node, 0).frac_bits + _in(node, 1).frac_bits, _out(node))


def concat(node, *xs):
    y = _out(node)
    return np.concatenate([cast(x, _in(node, i).frac_bits, y) for i, x in enumerate(xs)], axis=node.attrs["axis"])


def _moving(fn):
    def run(node, x, *rest):
        y = fn(node, x)
        t_in, t_out = _in(node, 0), _out(node)
        return y if t_in == t_out else cast(y, t_in.frac_bits, t_out)
    run.__name__ = fn.__name__
    return run


def pad(node, x):
    a = node.attrs
    r = x.ndim
    width = [(a["pads"][i], a["pads"][r + i]) for i in range(r)]
    if a["mode"] == "constant":
        v = Fraction(a["value"]) * Fraction(2) ** _in(node, 0).frac_bits
        if v.denominator != 1:
            raise ValueError(f"Pad node {node.name}: value {a['value']} is not on the input's grid")
        return np.pad(x, width, mode="constant", constant_values=int(v))
    return np.pad(x, width, mode=a["mode"])


def from_float_op(node, x):
    s = node.attrs.get("scale")
    if s is not None:
        x = x.astype(np.float32) / np.float32(s)
    return from_float(x.astype(np.float64), _out(node))


def to_float_op(node, x):
    y = to_float(x, _in(node, 0))
    a = node.attrs
    if a.get("scale") is not None:
        y = y * _channel(np.asarray(a["scale"], np.float64), y.ndim, a["axis"])
    if a.get("offset") is not None:
        y = y + _channel(np.asarray(a["offset"], np.float64), y.ndim, a["axis"])
    return y


def rescale(node, x, m, b=None):
    fx, fm = _in(node, 0).frac_bits, _in(node, 1).frac_bits
    ax = node.attrs["axis"]
    v = x * _channel(m, x.ndim, ax)
    if b is not None:
        fb = _in(node, 2).frac_bits
        v = v + _channel(_align(np.asarray(b), fx + fm - fb), x.ndim, ax)
    return cast(v, fx + fm, _out(node))


def cast_op(node, x):
    src = node.inputs[0].type.elem
    if isinstance(src, FloatType):
        return from_float(x.astype(np.float64), _out(node))
    return cast(x, src.frac_bits, _out(node))


FIXED_OPS = {
    "Dense": dense, "Conv": conv, "Relu": relu, "LeakyRelu": leaky_relu, "Clip": clip, "HardSigmoid": hard_sigmoid,
    "Sigmoid": _table_fn("Sigmoid"), "Tanh": _table_fn("Tanh"), "Softmax": softmax,
    "MaxPool": max_pool, "AveragePool": average_pool, "GlobalAveragePool": global_average_pool,
    "GlobalMaxPool": global_max_pool, "Add": _add_sub(1), "Sub": _add_sub(-1), "Mul": mul, "Concat": concat,
    "Reshape": _moving(float_ops.reshape), "Transpose": _moving(float_ops.transpose), "Pad": _moving(pad),
    "Resize": _moving(float_ops.resize), "Identity": _moving(float_ops.identity),
    "FromFloat": from_float_op, "ToFloat": to_float_op, "Rescale": rescale, "Cast": cast_op,
    "Bipolar": bipolar, "PRelu": prelu, **{op: _table_fn(op) for op in tables.WIDE_TABLES},
}


def run_node(node: Node, *args):
    """Dispatch: float-typed nodes (a float tail) run the float function, the rest the fixed one."""
    if isinstance(node.output.type.elem, FloatType) and node.op != "ToFloat":
        return float_ops.FLOAT_OPS[node.op](node, *args)
    return FIXED_OPS[node.op](node, *args)
