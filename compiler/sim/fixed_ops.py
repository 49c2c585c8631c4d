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

from . import tables
from ..ir.graph import Node
from ..ir.types import FixedType, FloatType
from . import float_ops
from .exact import int_conv, int_matmul, max_abs
from .fixed import cast, from_float, to_float, type_bounds
from .transformer_ops import TRANSFORMER_OPS


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


def _bounds(node: Node, i: int) -> tuple[int, int] | None:
    """The interval of input i proven by its type: every fixed op ends in the cast to its output type,
    so a value another node computed lies in its type's range. Constants and graph inputs: None (scan)."""
    v = node.inputs[i]
    if v.const is not None or v.producer is None or not isinstance(v.type.elem, FixedType):
        return None
    return type_bounds(v.type.elem)


def _accumulate(node: Node, acc: np.ndarray, f_acc: int, bias, channel_axis: int) -> tuple[np.ndarray, int]:
    """Add the bias and wrap into the accumulator type, as `accum_t acc = bias; acc += x*w ...`."""
    acc, f, _ = _accumulate_bounded(node, acc, f_acc, bias, channel_axis, None)
    return acc, f


def _accumulate_bounded(node: Node, acc: np.ndarray, f_acc: int, bias, channel_axis: int,
                        bound: int | None) -> tuple[np.ndarray, int, tuple[int, int] | None]:
    """`_accumulate` given a proven max |acc| (or None), also returning a proven interval of the result
    (the cast into the accumulator is then skipped when range analysis shows it is an identity)."""
    a = node.attrs.get("accum")
    if bias is not None:
        fb = _in(node, 2).frac_bits
        b = cast(bias, fb, a) if a is not None else bias
        fb_acc = a.frac_bits if a is not None else fb
        if fb_acc > f_acc:
            raise ValueError(f"{node.op} node {node.name}: bias has more fractional bits than the accumulator")
        b = _align(np.asarray(b), f_acc - fb_acc)
        acc = acc + _channel(b, acc.ndim, channel_axis)
        bound = None if bound is None else bound + max_abs(b)
    interval = None if bound is None else (-bound, bound)
    if a is not None:
        if a.frac_bits != f_acc:
            raise ValueError(f"{node.op} node {node.name}: accumulator {a} must keep the {f_acc} fractional bits of the products")
        acc = cast(acc, f_acc, a, interval)
        lo, hi = type_bounds(a)
        interval = (lo, hi) if interval is None else (max(lo, interval[0]), min(hi, interval[1]))
    return acc, f_acc, interval


def _weight_shift(node: Node, acc: np.ndarray, axis: int) -> np.ndarray:
    ws = node.attrs.get("weight_shift")
    if not ws:
        return acc
    return acc << _channel(np.asarray(ws, np.int64), acc.ndim, axis)


def _product_bound(node: Node, x, xb, w: np.ndarray, per_out: np.ndarray) -> int:
    """max |Σ x·w| by interval arithmetic: max|x| times the largest Σ|w| of one output, times
    2^max(weight_shift). per_out: the weights with one output per row."""
    l1 = int(np.abs(per_out).sum(axis=1).max(initial=0)) if per_out.dtype != object else \
        max((sum(abs(int(v)) for v in row) for row in per_out), default=0)
    return (max_abs(x, xb) * l1) << max(node.attrs.get("weight_shift") or [0])


def dense(node, x, w, b=None):
    xb, mw = _bounds(node, 0), max_abs(w)
    acc = _weight_shift(node, int_matmul(x, w, xb, (-mw, mw)), x.ndim - 1)
    acc, f, ab = _accumulate_bounded(node, acc, _in(node, 0).frac_bits + _in(node, 1).frac_bits, b, acc.ndim - 1,
                                     _product_bound(node, x, xb, w, w.reshape(w.shape[0], -1).T))
    return cast(acc, f, _out(node), ab)


def conv(node, x, w, b=None):
    a = node.attrs
    xb, mw = _bounds(node, 0), max_abs(w)
    acc = int_conv(x, w, a["strides"], a["dilations"], a["pads"], a["group"], xb, (-mw, mw))
    acc = _weight_shift(node, acc, 1)
    acc, f, ab = _accumulate_bounded(node, acc, _in(node, 0).frac_bits + _in(node, 1).frac_bits, b, 1,
                                     _product_bound(node, x, xb, w, w.reshape(w.shape[0], -1)))
    return cast(acc, f, _out(node), ab)


def relu(node, x):
    xb = _bounds(node, 0)
    return cast(np.maximum(x, 0), _in(node, 0).frac_bits, _out(node), xb and (max(xb[0], 0), max(xb[1], 0)))


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


def _tap_reduce(ufunc, w: np.ndarray, nd: int) -> np.ndarray:
    """ufunc over the last nd (kernel) axes of a window view, one tap at a time: numpy's reductions
    over tiny trailing axes run an inner loop of 2 or 3 elements; this runs over whole feature maps."""
    taps = list(np.ndindex(*w.shape[-nd:]))
    acc = np.array(w[(Ellipsis,) + taps[0]])
    for tap in taps[1:]:
        ufunc(acc, w[(Ellipsis,) + tap], out=acc)
    return acc


def max_pool(node, x):
    a = node.attrs
    lowest = np.iinfo(np.int64).min
    w = float_ops._windows(np.asarray(x, np.int64), a["kernel_shape"], a["strides"], a["dilations"], a["pads"], lowest,
                           float_ops._ceil_extra(node, x.shape))
    return cast(_tap_reduce(np.maximum, w, len(a["kernel_shape"])), _in(node, 0).frac_bits, _out(node), _bounds(node, 0))


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
        ba, bb = _bounds(node, 0), _bounds(node, 1)
        y = _align(a, f - fa) + sign * _align(b, f - fb)
        if ba is None or bb is None:
            return cast(y, f, _out(node))
        m = (max_abs(a, ba) << (f - fa)) + (max_abs(b, bb) << (f - fb))
        return cast(y, f, _out(node), (-m, m))
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
        t = _in(node, 0)
        if not t.min_mantissa <= v <= t.max_mantissa:  # consumers rely on every value being in its type
            raise ValueError(f"Pad node {node.name}: value {a['value']} is outside the range of {t}")
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
    "Bipolar": bipolar, "PRelu": prelu, **{op: _table_fn(op) for op in tables.WIDE_TABLES}, **TRANSFORMER_OPS,
}


def run_node(node: Node, *args):
    """Dispatch: float-typed nodes (a float tail) run the float function, the rest the fixed one."""
    if isinstance(node.output.type.elem, FloatType) and node.op != "ToFloat":
        return float_ops.FLOAT_OPS[node.op](node, *args)
    return FIXED_OPS[node.op](node, *args)
