"""The "openvino-fp16" simulator mode (`--target ncs2`): the fixed-point IR as the FP16 IR that
backends/openvino_emit.py writes computes it, one function per op (`FP16_FORMS`), and the same functions
carrying, per element, a bound on |runtime - simulator| ("openvino-fp16-bound-<precision>" modes).

Values are float64 arrays holding float16 numbers (real values, not mantissas). Each IR op is one
exact computation on its f16 inputs followed by one rounding to f16 (kernels that accumulate in f32
and store f16); an activation that follows a Dense/Conv is fused into it and computed in f32 on the
accumulator. A cast is the emitted Clamp -> Multiply(2^f) -> Round half to even -> Multiply(2^-f) for
types of at most 11 bits (FP16 holds their grid exactly), a Clamp alone for wider types; a scaled
quantizer (Rescale, FromFloat scale, average pooling) first multiplies by m and adds b.
Measured on this CPU (AVX512_FP16, INFERENCE_PRECISION_HINT f16): equal to OpenVINO's output for the
digits examples; the bound modes propagate |runtime - simulator| for other executors.

Bound modes: a runtime whose roundings have unit roundoff u_run (`UNIT_ROUNDOFF`: f16 2^-11, bf16 2^-8,
f32 2^-24). Assumptions: each rounding on either side has relative error <= u; the runtime accumulates a
sum of K products in f32 (within K·2^-24·Σ|x·w| of exact, any order) and rounds the result once; where the
two pre-cast values may lie on both sides of a rounding boundary, the cast output may differ by the error
plus one step, else not at all; monotone tables are bounded over the perturbed bucket range; a Softmax
row whose input is perturbed (or not exact in f16) is bounded by 1. Their values are `Bounded`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import fixed_ops, float_ops, tables
from ..errors import HwcError
from ..ir.types import FixedType
from .openvino_casts import (Quantize, _channel, _clip_bounds, _f32, _in, _out, affine, avg_quantizer,
                             concat_quantizers, grid_bounds, plan, rounds_in_fp16, to_float_quantizer)
from .openvino_ops import window_counts

UNIT_ROUNDOFF = {"f32": 2.0 ** -24, "f16": 2.0 ** -11, "bf16": 2.0 ** -8}

FUSED_ACTIVATIONS = ("Relu", "Clip", "LeakyRelu")


def h(v) -> np.ndarray:
    """Round to float16 (round half to even), kept as float64."""
    return np.asarray(v, np.float64).astype(np.float16).astype(np.float64)


def r32(v) -> np.ndarray:
    return np.asarray(v, np.float64).astype(np.float32).astype(np.float64)


def fused16(node) -> bool:
    """A Dense/Conv whose only consumer is an activation: the CPU plugin runs the activation and its cast
    as post-ops on the f32 accumulator, so nothing is rounded to f16 in between."""
    if node.op not in ("Dense", "Conv") or len(node.output.uses) != 1:
        return False
    return node.output.uses[0].node.op in FUSED_ACTIVATIONS


@dataclass
class _Cast:
    q: Quantize | None
    rnd: object = h  # rounding of intermediate results (h, or r32 inside a fused chain)
    shaper: object = None  # reshapes per-channel constants to the tensor


def cast16(v: np.ndarray, c: _Cast) -> np.ndarray:
    q = c.q
    if q is None:
        return v
    mb = affine(q)
    if mb is not None:
        m, b = (np.asarray(a) if c.shaper is None else c.shaper(a) for a in mb)
        v = c.rnd(v * h(m))
        if np.any(b != 0):
            v = c.rnd(v + h(b))
    lo, hi = grid_bounds(q)
    v = np.clip(v, h(lo), h(hi))
    if rounds_in_fp16(q):
        v = np.ldexp(np.rint(c.rnd(np.ldexp(v, q.frac))), -q.frac)
    return v


def cast16_err(v: np.ndarray, e: np.ndarray, c: _Cast, R) -> np.ndarray:
    """Bound on |runtime - simulator| after the cast, from the pre-cast value v (simulator) and its bound e."""
    q = c.q
    if q is None:
        return R.store(v, e)
    mb = affine(q)
    if mb is not None:
        m, b = (np.asarray(a) if c.shaper is None else c.shaper(a) for a in mb)
        v = v * m
        e = R.store(v, e * np.abs(m))
        v = v + b
        e = R.store(v, e)
    lo, hi = grid_bounds(q)
    v = np.clip(v, lo, hi)
    e = R.store(v, e)
    if not rounds_in_fp16(q):
        return e
    step = 2.0 ** -q.frac
    t = v / step
    dist = np.abs(t - (np.floor(t) + 0.5)) * step  # distance to the nearest rounding boundary
    return np.where((e > 0) & (dist <= e), e + step, 0.0)


def _real_const(v) -> np.ndarray:
    t = v.type.elem
    return np.asarray(v.const, np.float64) * 2.0 ** -t.frac_bits


def _real_weights(node) -> np.ndarray:
    w = np.asarray(node.inputs[1].const, np.float64) * 2.0 ** -_in(node, 1).frac_bits
    ws = node.attrs.get("weight_shift")
    if ws:
        s = 2.0 ** np.asarray(ws, np.float64)
        w = w * (s.reshape(1, -1) if node.op == "Dense" else s.reshape((-1,) + (1,) * (w.ndim - 1)))
    return w


def _bias16(node, rank, axis):
    if node.input(2) is None:
        return 0.0
    return h(_channel(_real_const(node.inputs[2]), rank, axis))


def _reals(node, xs):
    """Constant operands arrive as mantissas: their real values."""
    return [(_real_const(v) if v is not None and v.const is not None and isinstance(v.type.elem, FixedType) else x)
            for v, x in zip(node.inputs, xs)]


def _fused_input(node) -> bool:
    p = node.inputs[0].producer
    return node.op in FUSED_ACTIVATIONS and p is not None and fused16(p)


def _layer_value(node, x):
    if node.op == "Dense":
        return np.matmul(x, _real_weights(node))
    a = node.attrs
    return float_ops._conv_windows_matmul(x, _real_weights(node), a["strides"], a["dilations"], a["pads"], a["group"],
                                          np.float64)


def _windows_sum(node, x, pad=0.0):
    if node.op == "GlobalAveragePool":
        return x.sum(axis=tuple(range(2, x.ndim)), keepdims=True)
    a = node.attrs
    nd = len(a["kernel_shape"])
    return float_ops._windows(x, a["kernel_shape"], a["strides"], [1] * nd, a["pads"], pad,
                              float_ops._ceil_extra(node, x.shape)).sum(axis=tuple(range(-nd, 0)))


def _index16(x, k: int, offset: int, n: int) -> np.ndarray:
    return np.clip(np.floor(h(np.ldexp(x, k))) + offset, 0, n - 1).astype(np.int64)


def _table(node):
    a = node.attrs
    t = _out(node)
    tab = h(tables.function_table(node.op, a["table_bits"], a["range_bits"], t, tables.table_params(node)) * 2.0 ** -t.frac_bits)
    n = 1 << a["table_bits"]
    return tab, (lambda x: _index16(x, a["table_bits"] - a["range_bits"] - 1, n // 2, n))


def _softmax_pre(node, x):
    a = node.attrs
    ax = a["axis"]
    et, it = a["exp_type"], a["inv_type"]
    d = h(x.max(axis=ax, keepdims=True) - x)
    exp_t = h(tables.exp_table(a["exp_table_bits"], a["exp_range_bits"], et) * 2.0 ** -et.frac_bits)
    e = exp_t[_index16(d, a["exp_table_bits"] - a["exp_range_bits"], 0, 1 << a["exp_table_bits"])]
    s = h(e.sum(axis=ax, keepdims=True))
    inv_t = h(tables.inv_table(a["inv_table_bits"], a["inv_range_bits"], it) * 2.0 ** -it.frac_bits)
    inv = inv_t[_index16(s, a["inv_table_bits"] - a["inv_range_bits"], 0, 1 << a["inv_table_bits"])]
    return e * inv, d


def _moving_value(node, x):
    return float_ops.FLOAT_OPS[node.op](node, x)


MOVING = ("MaxPool", "GlobalMaxPool", "Reshape", "Transpose", "Pad", "Resize", "Identity")



def _done(pre, e_pre, c: _Cast, R):
    """The cast of a pre-cast value (and its bound), stored in f16."""
    return h(cast16(pre, c)), (cast16_err(pre, e_pre, c, R) if R is not None else None)


def _from_float(node, xs, es, R):
    x = np.asarray(xs[0], np.float32).astype(np.float64)
    return _done(h(x), R.store(x, np.zeros(x.shape)) if R else None, _Cast(plan(node)), R)


def _to_float(node, xs, es, R):
    x, ex = xs[0], (es[0] if R else None)
    q = to_float_quantizer(node)
    if q is None:
        return x.astype(_f32), ex
    m, b = affine(q)
    v = h(h(x * h(m)) + h(b))
    return v.astype(_f32), (R.store(v, R.store(x * m, ex * np.abs(m))) if R else None)


def _layer(node, xs, es, R):
    """Dense/Conv: exact products, f32 accumulation; the cast in f32 when an activation is fused."""
    x = xs[0]
    axis = 1 if node.op == "Conv" else x.ndim - 1
    pre = r32(_layer_value(node, x) + _bias16(node, x.ndim, axis))
    e = None
    if R:
        w = np.abs(_real_weights(node))
        k = w.shape[0] if node.op == "Dense" else int(np.prod(w.shape[1:]))
        mag = _layer_value(node, np.abs(x)) + np.abs(_bias16(node, x.ndim, axis))
        e = _layer_value_abs(node, es[0], w) + k * R.u_acc * mag
    if fused16(node):
        c = _Cast(plan(node), r32)
        return cast16(pre, c), (cast16_err(pre, e, c, R) if R else None)
    return _done(h(pre), R.store(pre, e) if R else None, _Cast(plan(node)), R)


def _activation(node, xs, es, R):
    """Relu, Clip, LeakyRelu, Cast: in f32 when fused into the layer before, else in f16."""
    op, x, ex = node.op, xs[0], (es[0] if R else None)
    if op == "Relu":
        pre = np.maximum(x, 0)
    elif op == "Clip":
        t = _in(node)
        lo, hi = _clip_bounds(node, t)
        pre = np.clip(x, lo * 2.0 ** -t.frac_bits, hi * 2.0 ** -t.frac_bits)
    elif op == "LeakyRelu":
        pt = node.attrs["param_type"]
        a = h(fixed_ops._param(node.attrs["alpha"], pt) * 2.0 ** -pt.frac_bits)
        pre = np.where(x < 0, x * a, x)
        ex = R.store(pre, ex * max(1.0, abs(a))) if R else None
    else:
        pre = x
    if _fused_input(node):
        return _done(r32(pre), ex, _Cast(plan(node), r32), R)
    return _done(h(pre), ex, _Cast(plan(node)), R)


def _moving_op(node, xs, es, R):
    pre = _moving_value(node, xs[0])
    e = None
    if R:
        e = _moving_value(node, es[0]) if node.op != "Pad" else float_ops.pad(_zero_pad(node), es[0])
    return _done(h(pre), e, _Cast(plan(node)), R)


def _arith(node, xs, es, R):
    """Add, Sub, Mul of two values (or a value and a constant)."""
    op = node.op
    a, b = xs
    pre = a + b if op == "Add" else a - b if op == "Sub" else a * b
    e = None
    if R:
        ea, eb = (es[0], es[1]) if len(es) > 1 else (es[0], 0.0)
        ea = 0.0 if node.inputs[0].const is not None else ea
        eb = 0.0 if node.inputs[1].const is not None else eb
        e = (ea + eb) if op != "Mul" else (ea * np.abs(b) + eb * np.abs(a) + ea * eb)
        e = R.store(pre, e)
    return _done(h(pre), e, _Cast(plan(node)), R)


def _concat(node, xs, es, R):
    qs = concat_quantizers(node)
    vals = [h(cast16(v, _Cast(q))) for v, q in zip(xs, qs)]
    ax = node.attrs["axis"]
    if not R:
        return np.concatenate(vals, axis=ax), None
    errs = [cast16_err(v, e, _Cast(q), R) for v, e, q in zip(xs, es, qs)]
    return np.concatenate(vals, axis=ax), np.concatenate(errs, axis=ax)


def _rescale(node, xs, es, R):
    ax, rank = node.attrs["axis"], node.output.type.rank
    return _done(xs[0], es[0] if R else None, _Cast(plan(node), h, lambda a: _channel(a, rank, ax)), R)


def _average_pool(node, xs, es, R):
    x = xs[0]
    counts = window_counts(node, x.shape)
    pre = h(_windows_sum(node, x))
    e = None
    if R:
        k = int(counts.max())
        e = R.store(pre, _windows_sum(node, es[0]) + k * R.u_acc * _windows_sum(node, np.abs(x)))
    return _done(pre, e, _Cast(avg_quantizer(node, counts)), R)


def _table_op(node, xs, es, R):
    """Sigmoid, Tanh: the f16 table at the f16 index."""
    x = xs[0]
    tab, idx = _table(node)
    v = tab[idx(x)]
    e = None
    if R:
        w = R.store(x, es[0])
        e = np.abs(tab[idx(x + w)] - tab[idx(x - w)])  # the tables are monotone
    return v, e


def _softmax(node, xs, es, R):
    x = xs[0]
    pre, d = _softmax_pre(node, x)
    e = None
    if R:
        ax = node.attrs["axis"]
        m = x.max(axis=ax, keepdims=True)
        unsure = ((es[0] > 0) | ((h(m - x) != m - x) & (not R.same))).any(axis=ax, keepdims=True)
        e = np.where(unsure, 1.0, R.store(pre, np.zeros(pre.shape)))
    v, ec = _done(h(pre), e, _Cast(plan(node)), R)
    return v, (np.maximum(ec, np.where(e >= 1.0, 1.0, 0.0)) if R else None)


#: IR op -> fn(node, values, bounds or None, Roundoff or None) -> (value, bound or None)
FP16_FORMS: dict[str, Callable] = {
    "FromFloat": _from_float, "ToFloat": _to_float, "Dense": _layer, "Conv": _layer,
    **dict.fromkeys(FUSED_ACTIVATIONS + ("Cast",), _activation), **dict.fromkeys(MOVING, _moving_op),
    "Add": _arith, "Sub": _arith, "Mul": _arith, "Concat": _concat, "Rescale": _rescale,
    "AveragePool": _average_pool, "GlobalAveragePool": _average_pool, "Sigmoid": _table_op, "Tanh": _table_op,
    "Softmax": _softmax,
}


def fp16_node(node, xs, es=None, R=None):
    """(value, error bound or None) of one node in the "openvino-fp16" mode; es: the inputs' bounds
    (with R, the Roundoff that propagates them)."""
    fn = FP16_FORMS.get(node.op)
    if fn is None:
        raise HwcError(f"no FP16 form for {node.op}", node=node.name, op=node.op)
    return fn(node, _reals(node, xs), es, R)


def _layer_value_abs(node, e, w_abs):
    if node.op == "Dense":
        return np.matmul(e, w_abs)
    a = node.attrs
    return float_ops._conv_windows_matmul(e, w_abs, a["strides"], a["dilations"], a["pads"], a["group"], np.float64)


def _zero_pad(node):
    """A Pad node whose padding value is 0 (for padding error bounds)."""
    class _N:
        attrs = {**node.attrs, "mode": "constant" if node.attrs["mode"] == "constant" else node.attrs["mode"],
                 "value": 0.0}
    return _N()


class Roundoff:
    """How a rounding of the runtime and of the simulator move a value apart. When both round to the same
    precision (u_run == u_sim) at the same places, equal inputs give equal results and different inputs
    results at most e + 2u|v| apart (`store`); otherwise each side rounds independently: e + (u_run +
    u_sim)|v|. u_acc: unit roundoff of the runtime's accumulators (oneDNN accumulates f16/bf16 in f32)."""

    def __init__(self, u_run: float, u_sim: float = 2.0 ** -11, u_acc: float = 2.0 ** -24):
        self.u_run, self.u_sim, self.u_acc = u_run, u_sim, u_acc
        self.same = u_run == u_sim

    def __call__(self, a):
        return (self.u_run + self.u_sim) * a

    def store(self, v, e):
        if self.same:
            return np.where(e > 0, e + 2 * self.u_sim * np.abs(v), 0.0)
        return e + self(np.abs(v))


@dataclass(frozen=True)
class Bounded:
    """A value of a bound mode: the simulated f16 value and, per element, a bound on |runtime - it|."""

    value: np.ndarray
    error: np.ndarray


def _value_op(node, *xs):
    return fp16_node(node, list(xs))[0]


def bound_ops(u_run: float) -> dict[str, Callable]:
    """The op table of the bound mode for a runtime of unit roundoff u_run: inputs and constants enter
    exact (bound 0), every op returns a `Bounded`."""
    R = Roundoff(u_run)

    def run(node, *args):
        xs, es = [], []
        for v, a in zip(node.inputs, args):
            if v is None:
                continue
            xs.append(a.value if isinstance(a, Bounded) else a)
            es.append(a.error if isinstance(a, Bounded) else np.zeros(np.shape(a)))
        return Bounded(*fp16_node(node, xs, es, R))

    return dict.fromkeys(FP16_FORMS, run)


def unbound(outputs) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(values, bounds) of a bound mode's outputs (an output that is an input: exact)."""
    pairs = [o if isinstance(o, Bounded) else Bounded(o, np.zeros(np.shape(o))) for o in outputs]
    return [p.value for p in pairs], [p.error for p in pairs]


FP16_MODES = {"openvino-fp16": dict.fromkeys(FP16_FORMS, _value_op),
              **{f"openvino-fp16-bound-{p}": bound_ops(u) for p, u in UNIT_ROUNDOFF.items()}}
