"""How the OpenVINO forms cast (docs/OPENVINO.md), planned once and shared by the simulator modes
(compiler/sim/openvino_ops.py, openvino_fp16.py) and the emitter (backends/openvino_emit.py), so that
they cannot disagree; and the exactness conditions the backend checks at compile time.

How each cast runs (`plan`):
- nothing when the source range and fraction fit the destination;
- a Clamp when no bits are dropped (saturation only; OpenVINO 2026.4 computes an int8 FullyConnected
  with a bias followed by a FakeQuantize of the accumulator's own step wrongly);
- else FakeQuantize(levels 2^w, [min, max] of the destination, same output interval), followed by a
  Clamp for SAT_SYM ([-max, max]) and for w = 16: OpenVINO >= 2025 removes FakeQuantizes of 65536
  levels whose input and output intervals are equal (FQStrippingTransformation, an int16 QDQ pair),
  so a 16-bit type is a 2^17-level FakeQuantize over the doubled range, then a Clamp;
- ops that multiply by a constant before the cast (Rescale, FromFloat with a scale, average pooling)
  fold the constant into the FakeQuantize input interval: il' = (il - B)/M, ih' = (ih - B)/M.
In the FP16 (NCS2) form the same quantizer is a Clamp -> Multiply(2^f) -> Round -> Multiply(2^-f)
(`affine`, `grid_bounds`, `rounds_in_fp16`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from . import fixed_ops, tables
from ..errors import HwcError
from ..ir.graph import Node
from ..ir.types import FixedType, Overflow, Rounding

F32_EXACT = 1 << 24  # integers up to 2^24 are exact in f32
_f32 = np.float32
FQ_STRIPPED_LEVELS = 65536  # measured: OpenVINO 2026.4 strips such FakeQuantizes when il=ol, ih=oh
FP16_GRID_LEVELS = 1 << 11  # FP16 holds the grid of a type of at most 11 bits exactly

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



@dataclass(frozen=True)
class Limbs:
    """A Dense/Conv whose f32 sums would reach 2^24 units, computed exactly from two limbs of its input:
    m_x = H·2^k + L (H = floor(m_x / 2^k), 0 <= L < 2^k), A = 2^k·A_H + A_L with A_H = Σ H·w and
    A_L = Σ L·w + b each below 2^24 units (exact f32 sums in any order). The cast that drops s bits is then
        t = A_H·2^(k-s),  I = 2·floor(t/2),  u = (t - I) + A_L·2^-s,  y = clamp(I + round_half_even(u))
    which equals clamp(round_half_even(A / 2^s)): I is even, so I + round_half_even(u) = round_half_even(I + u)
    (an odd I would flip the ties); t - I in [0, 2) is exact; u is exact while 2^(s+1) + |A_L| < 2^24; I + round(u)
    rounds only beyond 2^24, where the clamp gives the same bound (|m| <= 2^24)."""

    k: int  # input split
    s: int  # bits the output cast drops (<= 0: none)
    lo: int  # clamp range of the output mantissa
    hi: int
    frac: int  # fraction bits of the output grid
    relu: Node | None = None  # the Relu fused into the cast when the layer's own output is wider than f32


def fused_relu(node: Node) -> Node | None:
    """The Relu that a Dense/Conv on limbs casts into directly: the layer's output type is wider than f32
    holds and exact (an accumulator), and its only consumer is a Relu of at most 24 bits.
    relu(x) then cast = clamp(round_half_even(x), 0, max): round_half_even is monotone and keeps 0."""
    y = _out(node)
    uses = node.output.uses
    if y.width <= 24 + y.signed or len(uses) != 1 or uses[0].node.op != "Relu":
        return None
    r = uses[0].node
    a = node.attrs.get("accum")
    if a is None or y.frac_bits < a.frac_bits or y.max_mantissa < (a.max_mantissa << (y.frac_bits - a.frac_bits)):
        return None  # the layer's own output rounds or saturates: a second cast
    return r if _out(r).width <= 24 + _out(r).signed else None


def limb_split(node: Node) -> Limbs | None:
    """The Limbs of a Dense/Conv that needs them and can take them, else None (fits f32, or cannot)."""
    b = f32_bound(node)
    if b is None or b[0] < F32_EXACT:
        return None
    relu = fused_relu(node)
    y, x = _out(relu if relu is not None else node), _in(node)
    if y.width > 24 + y.signed or y.overflow not in (Overflow.SAT, Overflow.SAT_SYM) or y.rounding is not Rounding.RND_CONV:
        return None
    w = np.abs(np.asarray(node.inputs[1].const, np.int64))
    ws = node.attrs.get("weight_shift")
    if node.op == "Dense":
        wsum = (w << np.asarray(ws, np.int64).reshape(1, -1) if ws else w).sum(axis=0)
    else:
        w = w << np.asarray(ws, np.int64).reshape((-1,) + (1,) * (w.ndim - 1)) if ws else w
        wsum = w.reshape(w.shape[0], -1).sum(axis=1)
    f_acc = x.frac_bits + _in(node, 1).frac_bits
    bias = 0
    if node.input(2) is not None:
        bt = _in(node, 2)
        if bt.frac_bits > f_acc:
            return None
        bias = np.abs(np.asarray(node.inputs[2].const, np.int64)) << (f_acc - bt.frac_bits)
    s = f_acc - y.frac_bits
    hmax = max(abs(x.min_mantissa), abs(x.max_mantissa))
    for k in range(1, x.width):
        top = max(abs(x.min_mantissa >> k), abs(x.max_mantissa >> k))
        low = int(((1 << k) - 1) * wsum.max(initial=0) + np.max(bias, initial=0))
        if top * int(wsum.max(initial=0)) < F32_EXACT and low + (1 << max(s + 1, 0)) < F32_EXACT and hmax >> k:
            lo = -y.max_mantissa if (y.overflow is Overflow.SAT_SYM and y.signed) else y.min_mantissa
            return Limbs(k, s, max(lo, 0) if relu is not None else lo, y.max_mantissa, y.frac_bits, relu)
    return None


def hard_sigmoid_bound(node) -> float:
    """max |x_m·alpha_m| + |beta_m|·2^f_x: the f32 sum in units of 2^-(f_x + f_param)."""
    pt, t = node.attrs["param_type"], _in(node)
    a, b = abs(fixed_ops._param(node.attrs["alpha"], pt)), abs(fixed_ops._param(node.attrs["beta"], pt))
    return max(abs(t.min_mantissa), t.max_mantissa) * a + b * 2.0 ** t.frac_bits


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
