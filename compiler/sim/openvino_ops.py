"""Simulator modes for the OpenVINO targets (docs/OPENVINO.md): the fixed-point IR as the IR that
backends/openvino.py emits computes it.

"openvino" (`--target openvino`, CPU, INFERENCE_PRECISION_HINT f32). Every value of the emitted model
is an f32 tensor holding a fixed-point value m·2^-f exactly (|m| <= 2^24, checked at compile time), so
sums, maxima, copies and power-of-two scalings are exact in any order. The only roundings are where
the IR casts and drops bits: there the model has a FakeQuantize, computed here as the CPU plugin does
(`openvino_arith.fake_quantize`; `fake_quantize_postop` when it is fused into the Dense/Conv before it).
This mode equals the "fixed" mode on power-of-two grids except where f32 differs from an exact RND_CONV
cast (signed types whose input has more than 24 - width fraction bits); it differs near ties where a
non-power-of-two scale is folded into a FakeQuantize (Rescale, FromFloat/ToFloat scales, average pooling
reciprocals) and in Softmax's f32 product.

How each cast runs (`plan`, shared with the emitter so that the two cannot disagree):
- nothing when the source range and fraction fit the destination;
- a Clamp when no bits are dropped (saturation only; OpenVINO 2026.4 computes an int8 FullyConnected
  with a bias followed by a FakeQuantize of the accumulator's own step wrongly);
- else FakeQuantize(levels 2^w, [min, max] of the destination, same output interval), followed by a
  Clamp for SAT_SYM ([-max, max]) and for w = 16: OpenVINO >= 2025 removes FakeQuantizes of 65536
  levels whose input and output intervals are equal (FQStrippingTransformation, an int16 QDQ pair),
  so a 16-bit type is a 2^17-level FakeQuantize over the doubled range, then a Clamp;
- ops that multiply by a constant before the cast (Rescale, FromFloat with a scale, average pooling)
  fold the constant into the FakeQuantize input interval: il' = (il - B)/M, ih' = (ih - B)/M.

"openvino-fp16" (`--target ncs2`): the same graph in float16 (section below; `fp16_run` also bounds
how far a runtime may be from it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .. import tables
from ..errors import HwcError
from ..ir.graph import Node
from ..ir.types import FixedType, Overflow, Rounding
from . import fixed_ops, float_ops
from . import openvino_arith as oa
from .exact import int_conv, int_matmul
from .fixed_ops import softmax_parts
from .fixed import cast

F32_EXACT = 1 << 24  # integers up to 2^24 are exact in f32
_f32 = np.float32
FQ_STRIPPED_LEVELS = 65536  # measured: OpenVINO 2026.4 strips such FakeQuantizes when il=ol, ih=oh


# ---- casts ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Quantize:
    """FakeQuantize(levels, il, ih, ol, oh) then Clamp(lo, hi) when `clamp` (real f32 values,
    arrays broadcastable to the tensor); levels 0: the Clamp alone. `frac`: fraction bits of the
    destination grid."""

    levels: int
    il: np.ndarray
    ih: np.ndarray
    ol: np.ndarray
    oh: np.ndarray
    clamp: tuple[float, float] | None
    frac: int

    def with_input_interval(self, il, ih) -> "Quantize":
        """The same quantizer applied to a value before y = x·M + B: il, ih are the f32 bounds on x."""
        return Quantize(self.levels, np.asarray(il, _f32), np.asarray(ih, _f32), self.ol, self.oh, self.clamp, self.frac)


def _r(v) -> np.ndarray:
    return np.asarray(v, np.float64).astype(_f32)


def fq_for(dst: FixedType, where: str = "") -> Quantize:
    """The FakeQuantize (and Clamp) that casts an f32 value to `dst` with round half to even and
    saturation (SAT, or SAT_SYM with the Clamp)."""
    if dst.width > 24:
        raise HwcError(f"{dst} is {dst.width} bits wide: OpenVINO holds fixed-point values in f32 (24 bits)", node=where)
    if dst.overflow not in (Overflow.SAT, Overflow.SAT_SYM):
        raise HwcError(f"{dst} overflows by {dst.overflow.value}: a FakeQuantize saturates", node=where)
    lsb = Fraction(2) ** -dst.frac_bits
    w = dst.width
    clamp = None
    if dst.overflow is Overflow.SAT_SYM and dst.signed:
        clamp = (-dst.max_mantissa * lsb, dst.max_mantissa * lsb)
    if (1 << w) == FQ_STRIPPED_LEVELS:
        w += 1
        clamp = clamp or (dst.min_mantissa * lsb, dst.max_mantissa * lsb)
    lo_m = -(1 << (w - 1)) if dst.signed else 0
    hi_m = lo_m + (1 << w) - 1
    lo, hi = _r(float(lo_m * lsb)), _r(float(hi_m * lsb))
    c = None if clamp is None else (float(clamp[0]), float(clamp[1]))
    return Quantize(1 << w, lo, hi, lo, hi, c, dst.frac_bits)


def is_exact(lo_m: int, hi_m: int, f_src: int, dst: FixedType) -> bool:
    """True when casting any mantissa in [lo_m, hi_m] at f_src to dst neither rounds nor overflows."""
    if f_src > dst.frac_bits:
        return False
    k = dst.frac_bits - f_src
    lo_d = -dst.max_mantissa if (dst.overflow is Overflow.SAT_SYM and dst.signed) else dst.min_mantissa
    return (lo_m << k) >= lo_d and (hi_m << k) <= dst.max_mantissa


def clamp_for(dst: FixedType, where: str = "") -> Quantize:
    """Saturation alone (no bits dropped): Clamp to dst's range, no FakeQuantize (levels 0)."""
    if dst.overflow not in (Overflow.SAT, Overflow.SAT_SYM):
        raise HwcError(f"{dst} overflows by {dst.overflow.value}: OpenVINO can only saturate", node=where)
    lsb = 2.0 ** -dst.frac_bits
    lo_m = -dst.max_mantissa if (dst.overflow is Overflow.SAT_SYM and dst.signed) else dst.min_mantissa
    z = np.zeros((), _f32)
    return Quantize(0, z, z, z, z, (lo_m * lsb, dst.max_mantissa * lsb), dst.frac_bits)


def cast_quantizer(lo_m: int, hi_m: int, f_src: int, dst: FixedType, where: str = "") -> Quantize | None:
    """None (the cast is exact: nothing is emitted), a Clamp (it only saturates) or the FakeQuantize
    that rounds. A FakeQuantize whose step equals its int8 producer's accumulator step is computed wrongly
    by OpenVINO 2026.4 when the layer has a bias (measured): such casts never round, so they are Clamps."""
    if is_exact(lo_m, hi_m, f_src, dst):
        return None
    if f_src <= dst.frac_bits:
        return clamp_for(dst, where)
    if dst.rounding is not Rounding.RND_CONV:
        raise HwcError(f"rounding {dst.rounding.value} to {dst}: OpenVINO's FakeQuantize rounds half to even "
                       "(RND_CONV)", node=where)
    return fq_for(dst, where)


def _range(t: FixedType) -> tuple[int, int]:
    return t.min_mantissa, t.max_mantissa


def _in(node: Node, i: int = 0) -> FixedType:
    t = node.inputs[i].type.elem
    if not isinstance(t, FixedType):
        raise HwcError(f"input {i} is {t}, not fixed point", node=node.name, op=node.op)
    return t


def _out(node: Node) -> FixedType:
    return node.output.type.elem


def _scaled(q: Quantize, mul, add) -> Quantize:
    """q on x where the value is y = x·mul + add (mul != 0 per channel, float64 arrays): the input
    interval becomes [(il - add)/mul, (ih - add)/mul] (swapped with the output interval for mul < 0)."""
    mul = np.asarray(mul, np.float64)
    add = np.asarray(add, np.float64)
    if np.any(mul == 0):
        raise HwcError("a zero scale before a quantizer")
    a = (q.il.astype(np.float64) - add) / mul
    b = (q.ih.astype(np.float64) - add) / mul
    neg = mul < 0
    il, ih = np.where(neg, b, a), np.where(neg, a, b)
    ol = np.where(neg, q.oh, q.ol)
    oh = np.where(neg, q.ol, q.oh)
    return Quantize(q.levels, _r(il), _r(ih), _r(ol), _r(oh), q.clamp, q.frac)


def _channel(v, rank: int, axis: int) -> np.ndarray:
    v = np.asarray(v)
    if v.ndim == 0 or v.size == 1:
        return v.reshape(())
    return v.reshape((-1,) + (1,) * (rank - 1 - axis))


def plan(node: Node):
    """How the emitted model computes node's output cast: None (exact) or a Quantize whose input is
    the value named by `pre_value` (for the scaled ops: the value before the multiplication)."""
    op = node.op
    y = _out(node)
    if op in ("Dense", "Conv"):
        a = node.attrs.get("accum")
        if a is None:
            raise HwcError("no accumulator type", node=node.name, op=op)
        return cast_quantizer(*_range(a), a.frac_bits, y, node.name)
    if op == "Relu":
        t = _in(node)
        return cast_quantizer(max(0, t.min_mantissa), max(0, t.max_mantissa), t.frac_bits, y, node.name)
    if op == "Clip":
        t = _in(node)
        lo, hi = _clip_bounds(node, t)
        return cast_quantizer(max(lo, t.min_mantissa), min(hi, t.max_mantissa), t.frac_bits, y, node.name)
    if op in ("Add", "Sub"):
        lo, hi, f = _add_range(node)
        return cast_quantizer(lo, hi, f, y, node.name)
    if op == "Mul":
        lo, hi, f = _mul_range(node)
        if max(-lo, hi) >= F32_EXACT:
            return fq_for(y, node.name)  # the f32 product rounds, then the cast rounds
        return cast_quantizer(lo, hi, f, y, node.name)
    if op in ("LeakyRelu", "HardSigmoid", "PRelu"):
        return fq_for(y, node.name)
    if op == "Rescale":
        x, mt = _in(node), _in(node, 1)
        m = np.asarray(node.inputs[1].const, np.float64) * 2.0 ** -mt.frac_bits
        b = 0.0
        if node.input(2) is not None:
            b = np.asarray(node.inputs[2].const, np.float64) * 2.0 ** -_in(node, 2).frac_bits
        return _scaled(fq_for(y, node.name), m, b)
    if op == "FromFloat":
        s = node.attrs.get("scale")
        q = fq_for(y, node.name) if y.rounding is Rounding.RND_CONV else _rounding_error(node, y)
        return q if s is None else _scaled(q, 1.0 / np.float64(_f32(s)), 0.0)
    if op in ("AveragePool", "GlobalAveragePool"):
        return fq_for(y, node.name)  # input interval per window: `avg_quantizer`
    if op == "Softmax":
        return fq_for(y, node.name)
    if op in ("MaxPool", "GlobalMaxPool", "Reshape", "Transpose", "Pad", "Resize", "Identity", "Cast"):
        t = _in(node)
        return cast_quantizer(*_range(t), t.frac_bits, y, node.name)
    if op in ("Sigmoid", "Tanh", "Concat", "ToFloat", "Bipolar") or op in tables.WIDE_TABLES:
        return None  # tables hold output values; Concat casts per input; ToFloat: `to_float_quantizer`; Bipolar: +-1
    raise HwcError(f"no OpenVINO form for {op}", node=node.name, op=op)


def _rounding_error(node, y):
    raise HwcError(f"input rounding {y.rounding.value}: OpenVINO's FakeQuantize rounds half to even (RND_CONV)",
                   node=node.name, op=node.op)


def concat_quantizers(node: Node) -> list[Quantize | None]:
    y = _out(node)
    return [cast_quantizer(*_range(_in(node, i)), _in(node, i).frac_bits, y, node.name) for i in range(len(node.inputs))]


def to_float_quantizer(node: Node) -> Quantize | None:
    """ToFloat with a scale/offset: a FakeQuantize over the input type's grid whose output interval is
    [min·s + d, max·s + d] (per channel); OpenVINO itself folds a Multiply after a FakeQuantize into
    its output interval, so the model states it explicitly."""
    a = node.attrs
    if a.get("scale") is None and a.get("offset") is None:
        return None
    t = _in(node)
    rank = node.inputs[0].type.rank
    s = _channel(np.asarray(a["scale"] if a.get("scale") is not None else [1.0], np.float64), rank, a["axis"])
    d = _channel(np.asarray(a["offset"] if a.get("offset") is not None else [0.0], np.float64), rank, a["axis"])
    lsb = 2.0 ** -t.frac_bits
    w = t.width
    if w > 24:
        raise HwcError(f"{t} is wider than f32's 24 bits", node=node.name, op=node.op)
    lo, hi = t.min_mantissa * lsb, t.max_mantissa * lsb
    levels = 1 << w
    il, ih = _r(lo), _r(hi)
    ol, oh = _r(lo * s + d), _r(hi * s + d)
    return Quantize(levels, np.broadcast_to(il, ol.shape).astype(_f32), np.broadcast_to(ih, oh.shape).astype(_f32),
                    ol, oh, None, t.frac_bits)


def avg_quantizer(node: Node, counts: np.ndarray) -> Quantize:
    """AveragePool/GlobalAveragePool: y = sum·R[n]·2^-r, folded into the quantizer's input interval
    (one per output position when padding makes the divisors differ)."""
    r = node.attrs["recip_bits"]
    rt = tables.reciprocal_table(int(counts.max()), r)
    mul = rt[counts].astype(np.float64) * 2.0 ** -r
    return _scaled(fq_for(_out(node), node.name), mul, 0.0)


def _clip_bounds(node, t):
    fx = t.frac_bits
    lo, hi = node.attrs["min"], node.attrs["max"]
    lo_m = t.min_mantissa if lo is None else math.ceil(Fraction(lo) * Fraction(2) ** fx)
    hi_m = t.max_mantissa if hi is None else math.floor(Fraction(hi) * Fraction(2) ** fx)
    return lo_m, hi_m


def _add_range(node):
    a, b = _in(node, 0), _in(node, 1)
    f = max(a.frac_bits, b.frac_bits)
    sa, sb = 1 << (f - a.frac_bits), 1 << (f - b.frac_bits)
    if node.op == "Add":
        return a.min_mantissa * sa + b.min_mantissa * sb, a.max_mantissa * sa + b.max_mantissa * sb, f
    return a.min_mantissa * sa - b.max_mantissa * sb, a.max_mantissa * sa - b.min_mantissa * sb, f


def _mul_range(node):
    a, b = _in(node, 0), _in(node, 1)
    c = [x * y for x in (a.min_mantissa, a.max_mantissa) for y in (b.min_mantissa, b.max_mantissa)]
    return min(c), max(c), a.frac_bits + b.frac_bits


# ---- exactness conditions (checked at compile time) --------------------------------------------

def f32_bound(node: Node) -> tuple[int, int] | None:
    """(largest |partial sum| in units of the accumulator lsb, frac) of a Dense/Conv for any input of
    its input type, or None for other ops. Exact in f32 (any order, FMA or not) below 2^24."""
    if node.op not in ("Dense", "Conv"):
        return None
    x = _in(node)
    w = np.asarray(node.inputs[1].const, np.int64)
    ws = node.attrs.get("weight_shift")
    if node.op == "Dense":
        if ws:
            w = w << np.asarray(ws, np.int64).reshape(1, -1)
        per_out = np.abs(w).sum(axis=0)
    else:
        if ws:
            w = w << np.asarray(ws, np.int64).reshape((-1,) + (1,) * (w.ndim - 1))
        per_out = np.abs(w.reshape(w.shape[0], -1)).sum(axis=1)
    xm = max(abs(x.min_mantissa), abs(x.max_mantissa))
    f_acc = x.frac_bits + _in(node, 1).frac_bits
    b = 0
    if node.input(2) is not None:
        bt = _in(node, 2)
        b = np.abs(np.asarray(node.inputs[2].const, np.int64)) << (f_acc - bt.frac_bits)
    return int((xm * per_out + b).max()), f_acc


# ---- the "openvino" mode: one function per op ---------------------------------------------------

def _val(m, f: int) -> np.ndarray:
    """f32 value of mantissas m·2^-f; they must be exact (|m| < 2^24 checked at compile time)."""
    m = np.asarray(m)
    if m.size and max(abs(int(m.min())), abs(int(m.max()))) > F32_EXACT:
        raise HwcError(f"a value needs more than 24 bits ({max(abs(int(m.min())), abs(int(m.max())))}): not exact in f32")
    return np.ldexp(m.astype(np.float64), -f).astype(_f32)


def _mantissa(y: np.ndarray, frac: int) -> np.ndarray:
    m = np.ldexp(y.astype(np.float64), frac)
    r = np.rint(m)
    if np.any(r != m):
        raise HwcError("a FakeQuantize output is off its grid (an output interval that is not on the type's grid)")
    return r.astype(np.int64)


def fake_quantize_postop(x, il, ih, ol, oh, levels: int) -> np.ndarray:
    """FakeQuantize as the CPU plugin computes it when fused into the Convolution/FullyConnected that
    produces x (DnnlPostOpsComposer: the FakeQuantize node's inputScale/inputShift, a linear post-op
    in two f32 roundings, round half to even, the crop in index space, the output linear):

        isc = f32((L-1) / f32(ih - il))     ish = f32(f32(-il·(L-1)) / f32(ih - il))
        r   = clip(rint(f32(f32(x·isc) + ish)), rint(il·isc + ish), rint(ih·isc + ish))
        y   = f32(f32(r·osc) + ol),          osc = f32(f32(oh - ol) / (L-1))

    For power-of-two grids it equals `openvino_arith.fake_quantize` (every step is exact); it differs
    near ties when the interval is scaled by a non-power-of-two (Rescale), which is where it matters.
    Measured: 0 of 3,932,160 ESPCN outputs differ (`openvino_arith.fake_quantize`: 5)."""
    x, il, ih, ol, oh = (np.asarray(a, _f32) for a in (x, il, ih, ol, oh))
    lm1 = _f32(levels - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        isc = _f32(lm1 / _f32(ih - il))
        ish = _f32(_f32(-il * lm1) / _f32(ih - il))
    clo = np.rint(_f32(_f32(il * isc) + ish))
    chi = np.rint(_f32(_f32(ih * isc) + ish))
    r = np.clip(np.rint(_f32(_f32(x * isc) + ish)), np.minimum(clo, chi), np.maximum(clo, chi)).astype(_f32)
    osc = _f32(_f32(oh - ol) / lm1)
    return _f32(_f32(r * osc) + ol)


def quantize(v: np.ndarray, q: Quantize, fused: bool = False) -> np.ndarray:
    """f32 values -> f32 values, as FakeQuantize (+ Clamp) computes them on the CPU; `fused`: the
    FakeQuantize is a post-op of the Convolution/FullyConnected that produces v."""
    if not q.levels:
        y = np.asarray(v, _f32)
    elif fused:
        y = fake_quantize_postop(v, q.il, q.ih, q.ol, q.oh, q.levels)
    else:
        y = oa.fake_quantize(v, q.il, q.ih, q.ol, q.oh, q.levels)
    if q.clamp is not None:
        y = np.clip(y, _f32(q.clamp[0]), _f32(q.clamp[1])).astype(_f32)
    return y


def _finish(node: Node, m, f: int, q: Quantize | None, fused: bool = False) -> np.ndarray:
    """The node's output mantissas from the exact pre-cast value m·2^-f."""
    if q is None:
        return cast(m, f, _out(node))
    return _mantissa(quantize(_val(m, f), q, fused), _out(node).frac_bits)


def _finish_f32(node: Node, v: np.ndarray, q: Quantize | None) -> np.ndarray:
    if q is None:
        raise HwcError("an inexact f32 value needs a quantizer", node=node.name, op=node.op)
    return _mantissa(quantize(v, q), _out(node).frac_bits)


def _acc(node, acc, f_x, w_t, b):
    acc = fixed_ops._weight_shift(node, acc, 1 if node.op == "Conv" else acc.ndim - 1)
    axis = 1 if node.op == "Conv" else acc.ndim - 1
    acc, f = fixed_ops._accumulate(node, acc, f_x + w_t.frac_bits, b, axis)
    return acc, f


def dense(node, x, w, b=None):
    acc, f = _acc(node, int_matmul(x, w), _in(node).frac_bits, _in(node, 1), b)
    return _finish(node, acc, f, plan(node), fused=True)


def conv(node, x, w, b=None):
    a = node.attrs
    acc = int_conv(x, w, a["strides"], a["dilations"], a["pads"], a["group"])
    acc, f = _acc(node, acc, _in(node).frac_bits, _in(node, 1), b)
    return _finish(node, acc, f, plan(node), fused=True)


def relu(node, x):
    return _finish(node, np.maximum(x, 0), _in(node).frac_bits, plan(node))


def clip(node, x):
    lo, hi = _clip_bounds(node, _in(node))
    return _finish(node, np.clip(x, lo, hi), _in(node).frac_bits, plan(node))


def leaky_relu(node, x):
    pt = node.attrs["param_type"]
    alpha = fixed_ops._param(node.attrs["alpha"], pt)
    v = _val(x, _in(node).frac_bits)
    a = _f32(alpha * 2.0 ** -pt.frac_bits)
    return _finish_f32(node, np.where(v < 0, v * a, v).astype(_f32), plan(node))


def prelu(node, x, slope):
    """OpenVINO's PRelu with per-channel slopes: x < 0 ? x·a[c] : x in f32, then the cast (as LeakyRelu)."""
    st = _in(node, 1)
    a = (np.asarray(slope, np.float64) * 2.0 ** -st.frac_bits).astype(_f32)
    v = _val(x, _in(node).frac_bits)
    return _finish_f32(node, np.where(v < 0, v * a, v).astype(_f32), plan(node))


def hard_sigmoid(node, x):
    """OpenVINO's HardSigmoid max(0, min(1, alpha·x + beta)) in f32 — exact while |x·alpha| + |beta| stays
    below 2^24 units of the product's grid (`hard_sigmoid_bound`, checked by the backend) — then the cast."""
    pt = node.attrs["param_type"]
    a = _f32(fixed_ops._param(node.attrs["alpha"], pt) * 2.0 ** -pt.frac_bits)
    b = _f32(fixed_ops._param(node.attrs["beta"], pt) * 2.0 ** -pt.frac_bits)
    v = _val(x, _in(node).frac_bits)
    return _finish_f32(node, np.clip(v * a + b, _f32(0), _f32(1)).astype(_f32), plan(node))


def hard_sigmoid_bound(node) -> float:
    """max |x_m·alpha_m| + |beta_m|·2^f_x: the f32 sum in units of 2^-(f_x + f_param)."""
    pt, t = node.attrs["param_type"], _in(node)
    a, b = abs(fixed_ops._param(node.attrs["alpha"], pt)), abs(fixed_ops._param(node.attrs["beta"], pt))
    return max(abs(t.min_mantissa), t.max_mantissa) * a + b * 2.0 ** t.frac_bits


def _moving(fn):
    def run(node, x, *rest):
        y = fn(node, x)
        return _finish(node, y, _in(node).frac_bits, plan(node))
    run.__name__ = fn.__name__
    return run


def add_sub(node, a, b):
    fa, fb = _in(node, 0).frac_bits, _in(node, 1).frac_bits
    f = max(fa, fb)
    s = 1 if node.op == "Add" else -1
    return _finish(node, (a << (f - fa)) + s * (b << (f - fb)), f, plan(node))


def mul(node, a, b):
    fa, fb = _in(node, 0).frac_bits, _in(node, 1).frac_bits
    lo, hi, f = _mul_range(node)
    if max(-lo, hi) >= F32_EXACT:
        return _finish_f32(node, (_val(a, fa) * _val(b, fb)).astype(_f32), plan(node))
    return _finish(node, a * b, f, plan(node))


def concat(node, *xs):
    qs = concat_quantizers(node)
    y = _out(node)
    parts = [cast(x, _in(node, i).frac_bits, y) if q is None else _mantissa(quantize(_val(x, _in(node, i).frac_bits), q), y.frac_bits)
             for i, (x, q) in enumerate(zip(xs, qs))]
    return np.concatenate(parts, axis=node.attrs["axis"])


def rescale(node, x, m, b=None):
    q = plan(node)
    rank = x.ndim
    ax = node.attrs["axis"]
    q = Quantize(q.levels, _channel(q.il, rank, ax), _channel(q.ih, rank, ax), _channel(q.ol, rank, ax),
                 _channel(q.oh, rank, ax), q.clamp, q.frac)
    return _mantissa(quantize(_val(x, _in(node).frac_bits), q, fused=follows_layer(node)), _out(node).frac_bits)


def follows_layer(node: Node) -> bool:
    """True when node's input comes straight from a Dense/Conv that feeds nothing else: OpenVINO then
    runs the node's FakeQuantize as a post-op of that layer."""
    p = node.inputs[0].producer
    return p is not None and p.op in ("Dense", "Conv") and len(node.inputs[0].uses) == 1


def from_float(node, x):
    return _mantissa(quantize(np.asarray(x).astype(_f32), plan(node)), _out(node).frac_bits)


def to_float(node, x):
    v = _val(x, _in(node).frac_bits)
    q = to_float_quantizer(node)
    return v if q is None else quantize(v, q)


def window_counts(node, x_shape) -> np.ndarray:
    """Divisor of every output position of an AveragePool, shaped [*O] (GlobalAveragePool: scalar)."""
    if node.op == "GlobalAveragePool":
        return np.asarray(math.prod(x_shape[2:]))
    return fixed_ops._avg_counts(node, x_shape).reshape(node.output.type.shape[2:])


def window_sums(node, x) -> np.ndarray:
    if node.op == "GlobalAveragePool":
        return x.sum(axis=tuple(range(2, x.ndim)), keepdims=True)
    a = node.attrs
    nd = len(a["kernel_shape"])
    return float_ops._windows(x.astype(np.int64), a["kernel_shape"], a["strides"], [1] * nd, a["pads"], 0,
                              float_ops._ceil_extra(node, x.shape)).sum(axis=tuple(range(-nd, 0)))


def average_pool(node, x):
    q = avg_quantizer(node, window_counts(node, x.shape))
    fused = node.op == "AveragePool"  # the window sums are a GroupConvolution
    return _mantissa(quantize(_val(window_sums(node, x), _in(node).frac_bits), q, fused), _out(node).frac_bits)


def softmax(node, x):
    e, inv, fe, fi = softmax_parts(node, x)
    return _finish_f32(node, (_val(e, fe) * _val(inv, fi)).astype(_f32), plan(node))


def cast_op(node, x):
    return _finish(node, x, _in(node).frac_bits, plan(node))


OPENVINO_OPS = {
    "Dense": dense, "Conv": conv, "Relu": relu, "Clip": clip, "LeakyRelu": leaky_relu, "HardSigmoid": hard_sigmoid, "PRelu": prelu,
    "Sigmoid": fixed_ops.FIXED_OPS["Sigmoid"], "Tanh": fixed_ops.FIXED_OPS["Tanh"], "Softmax": softmax,
    "MaxPool": _moving(fixed_ops.max_pool), "GlobalMaxPool": _moving(fixed_ops.global_max_pool),
    "AveragePool": average_pool, "GlobalAveragePool": average_pool,
    "Add": add_sub, "Sub": add_sub, "Mul": mul, "Concat": concat,
    "Reshape": _moving(float_ops.reshape), "Transpose": _moving(float_ops.transpose), "Pad": _moving(fixed_ops.pad),
    "Resize": _moving(float_ops.resize), "Identity": _moving(float_ops.identity),
    "FromFloat": from_float, "ToFloat": to_float, "Rescale": rescale, "Cast": cast_op,
    "Bipolar": fixed_ops.FIXED_OPS["Bipolar"], **{op: fixed_ops.FIXED_OPS[op] for op in tables.WIDE_TABLES},
}

OPENVINO_MODES = {"openvino": OPENVINO_OPS}


# ---- the "openvino-fp16" mode (the NCS2 form) ---------------------------------------------------
# Values are float64 arrays holding float16 numbers (real values, not mantissas). Each IR op is one
# exact computation on its f16 inputs followed by one rounding to f16 (kernels that accumulate in f32
# and store f16); an activation that follows a Dense/Conv is fused into it and computed in f32 on the
# accumulator. A cast is the emitted Clamp -> Multiply(2^f) -> Round half to even -> Multiply(2^-f) for
# types of at most 11 bits (FP16 holds their grid exactly), a Clamp alone for wider types; a scaled
# quantizer (Rescale, FromFloat scale, average pooling) first multiplies by m and adds b.
# Measured on this CPU (AVX512_FP16, INFERENCE_PRECISION_HINT f16): equal to OpenVINO's output for the
# digits examples; `fp16_run` also propagates a bound on |runtime - simulator| for other executors.

FP16_GRID_LEVELS = 1 << 11
FUSED_ACTIVATIONS = ("Relu", "Clip", "LeakyRelu")


def h(v) -> np.ndarray:
    """Round to float16 (round half to even), kept as float64."""
    return np.asarray(v, np.float64).astype(np.float16).astype(np.float64)


def r32(v) -> np.ndarray:
    return np.asarray(v, np.float64).astype(np.float32).astype(np.float64)


def affine(q: Quantize):
    """(m, b) with [il, ih]·m + b = [ol, oh]: the scaling a quantizer's input interval stands for;
    None when the intervals are equal."""
    il, ih, ol, oh = (np.asarray(a, np.float64) for a in (q.il, q.ih, q.ol, q.oh))
    if q.levels == 0 or (np.array_equal(il, ol) and np.array_equal(ih, oh)):
        return None
    m = (oh - ol) / (ih - il)
    return m, ol - il * m


def grid_bounds(q: Quantize) -> tuple[float, float]:
    if q.levels == 0:
        return q.clamp
    lo = float(np.minimum(q.ol, q.oh).min())
    hi = float(np.maximum(q.ol, q.oh).max())
    if q.clamp is not None:
        lo, hi = max(lo, q.clamp[0]), min(hi, q.clamp[1])
    return lo, hi


def rounds_in_fp16(q: Quantize) -> bool:
    return 0 < q.levels <= FP16_GRID_LEVELS


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


def fp16_node(node, xs, es=None, R=None):
    """(value, error bound or None) of one node in the "openvino-fp16" mode; es: the inputs' bounds."""
    op = node.op
    xs = _reals(node, xs)
    x = xs[0] if xs else None
    ex = es[0] if es is not None else None
    rank = node.output.type.rank
    track = es is not None

    def done(pre, e_pre, c: _Cast, store=h):
        v = store(cast16(pre, c))
        return v, (cast16_err(pre, e_pre, c, R) if track else None)

    if op == "FromFloat":
        x = np.asarray(x, np.float32).astype(np.float64)
        return done(h(x), R.store(x, np.zeros(x.shape)) if track else None, _Cast(plan(node)))
    if op == "ToFloat":
        q = to_float_quantizer(node)
        if q is None:
            return x.astype(_f32), ex
        m, b = affine(q)
        v = h(h(x * h(m)) + h(b))
        return v.astype(_f32), (R.store(v, R.store(x * m, ex * np.abs(m))) if track else None)
    if op in ("Dense", "Conv"):
        axis = 1 if op == "Conv" else x.ndim - 1
        pre = r32(_layer_value(node, x) + _bias16(node, x.ndim, axis))
        e = None
        if track:
            w = np.abs(_real_weights(node))
            k = w.shape[0] if op == "Dense" else int(np.prod(w.shape[1:]))
            mag = _layer_value(node, np.abs(x)) + np.abs(_bias16(node, x.ndim, axis))
            e = _layer_value_abs(node, ex, w) + k * R.u_acc * mag
        if fused16(node):
            return cast16(pre, _Cast(plan(node), r32)), (cast16_err(pre, e, _Cast(plan(node), r32), R) if track else None)
        return done(h(pre), R.store(pre, e) if track else None, _Cast(plan(node)))
    if op in FUSED_ACTIVATIONS or op == "Cast":
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
            ex = R.store(pre, ex * max(1.0, abs(a))) if track else None
        else:
            pre = x
        if _fused_input(node):
            return done(r32(pre), ex, _Cast(plan(node), r32))
        return done(h(pre), ex, _Cast(plan(node)))
    if op in MOVING:
        pre = _moving_value(node, x)
        e = _moving_value(node, ex) if track and op != "Pad" else (float_ops.pad(_zero_pad(node), ex) if track else None)
        return done(h(pre), e, _Cast(plan(node)))
    if op in ("Add", "Sub", "Mul"):
        a, b = xs
        pre = a + b if op == "Add" else a - b if op == "Sub" else a * b
        e = None
        if track:
            ea, eb = (es[0], es[1]) if len(es) > 1 else (es[0], 0.0)
            ea = 0.0 if node.inputs[0].const is not None else ea
            eb = 0.0 if node.inputs[1].const is not None else eb
            e = (ea + eb) if op != "Mul" else (ea * np.abs(b) + eb * np.abs(a) + ea * eb)
            e = R.store(pre, e)
        return done(h(pre), e, _Cast(plan(node)))
    if op == "Concat":
        qs = concat_quantizers(node)
        vals = [h(cast16(v, _Cast(q))) for v, q in zip(xs, qs)]
        errs = [cast16_err(v, e, _Cast(q), R) for v, e, q in zip(xs, es, qs)] if track else None
        ax = node.attrs["axis"]
        return np.concatenate(vals, axis=ax), (np.concatenate(errs, axis=ax) if track else None)
    if op == "Rescale":
        ax = node.attrs["axis"]
        return done(x, ex, _Cast(plan(node), h, lambda a: _channel(a, rank, ax)))
    if op in ("AveragePool", "GlobalAveragePool"):
        counts = window_counts(node, x.shape)
        pre = h(_windows_sum(node, x))
        e = None
        if track:
            k = int(counts.max())
            e = R.store(pre, _windows_sum(node, ex) + k * R.u_acc * _windows_sum(node, np.abs(x)))
        return done(pre, e, _Cast(avg_quantizer(node, counts)))
    if op in ("Sigmoid", "Tanh"):
        tab, idx = _table(node)
        v = tab[idx(x)]
        e = None
        if track:
            w = R.store(x, ex)
            e = np.abs(tab[idx(x + w)] - tab[idx(x - w)])  # the tables are monotone
        return v, e
    if op == "Softmax":
        pre, d = _softmax_pre(node, x)
        e = None
        if track:
            ax = node.attrs["axis"]
            m = x.max(axis=ax, keepdims=True)
            unsure = ((ex > 0) | ((h(m - x) != m - x) & (not R.same))).any(axis=ax, keepdims=True)
            e = np.where(unsure, 1.0, R.store(pre, np.zeros(pre.shape)))
        v, ec = done(h(pre), e, _Cast(plan(node)))
        return v, (np.maximum(ec, np.where(e >= 1.0, 1.0, 0.0)) if track else None)
    raise HwcError(f"no FP16 form for {op}", node=node.name, op=op)


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


def _fp16_op(node, *xs):
    return fp16_node(node, list(xs))[0]


FP16_OPS = {op: _fp16_op for op in OPENVINO_OPS}
OPENVINO_MODES["openvino-fp16"] = FP16_OPS


def fp16_run(graph, inputs, u_run: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The "openvino-fp16" outputs and, per element, a bound on |runtime - simulator| for a runtime whose
    roundings have unit roundoff u_run (2^-11 f16, 2^-8 bf16, 2^-24 f32). Assumptions: each rounding on
    either side has relative error <= u; the runtime accumulates a sum of K products in f32 (within
    K·2^-24·Σ|x·w| of exact, any order) and rounds the result once;
    where the two pre-cast values may lie on both sides of a rounding boundary, the cast output may differ
    by the error plus one step, else not at all; monotone tables are bounded over the perturbed bucket
    range; a Softmax row whose input is perturbed (or not exact in f16) is bounded by 1."""
    from .run import check_inputs

    R = Roundoff(u_run)
    arrays = check_inputs(graph, inputs)
    env = {id(v): (np.asarray(a), np.zeros(np.shape(a))) for v, a in zip(graph.inputs, arrays)}
    for n in graph.toposort():
        xs, es = [], []
        for v in n.inputs:
            if v is None:
                continue
            if v.const is not None:
                xs.append(v.const)
                es.append(np.zeros(np.shape(v.const)))
            else:
                xs.append(env[id(v)][0])
                es.append(env[id(v)][1])
        env[id(n.output)] = fp16_node(n, xs, es, R)
    return [env[id(v)][0] for v in graph.outputs], [env[id(v)][1] for v in graph.outputs]
