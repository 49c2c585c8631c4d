"""The "openvino" simulator mode (`--target openvino`, CPU, INFERENCE_PRECISION_HINT f32; docs/OPENVINO.md):
the fixed-point IR as the IR that backends/openvino_emit.py emits computes it, one function per op.

Every value of the emitted model is an f32 tensor holding a fixed-point value m·2^-f exactly (|m| <= 2^24,
checked at compile time), so sums, maxima, copies and power-of-two scalings are exact in any order. The
only roundings are where the IR casts and drops bits (`openvino_casts.plan`): there the model has a
FakeQuantize, computed here as the CPU plugin does (`openvino_arith.fake_quantize`; `fake_quantize_postop`
when it is fused into the Dense/Conv before it). This mode equals the "fixed" mode on power-of-two grids
except where f32 differs from an exact RND_CONV cast (signed types whose input has more than 24 - width
fraction bits); it differs near ties where a non-power-of-two scale is folded into a FakeQuantize
(Rescale, FromFloat/ToFloat scales, average pooling reciprocals) and in Softmax's f32 product.

"openvino-fp16" (`--target ncs2`): compiler/sim/openvino_fp16.py.
"""

from __future__ import annotations

import math

import numpy as np

from . import tables
from ..errors import HwcError
from ..ir.graph import Node
from . import fixed_ops, float_ops
from . import openvino_arith as oa
from .exact import int_conv, int_matmul
from .fixed_ops import softmax_parts
from .fixed import cast
from .openvino_casts import (F32_EXACT, Quantize, _channel, _clip_bounds, _f32, _in, _mul_range, _out,
                             avg_quantizer, concat_quantizers, limb_split, plan, to_float_quantizer)

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
    if limb_split(node) is not None:
        return cast(acc, f, _out(node))  # the limb form computes the exact cast (openvino_casts.Limbs)
    return _finish(node, acc, f, plan(node), fused=True)


def conv(node, x, w, b=None):
    a = node.attrs
    acc = int_conv(x, w, a["strides"], a["dilations"], a["pads"], a["group"])
    acc, f = _acc(node, acc, _in(node).frac_bits, _in(node, 1), b)
    if limb_split(node) is not None:
        return cast(acc, f, _out(node))
    return _finish(node, acc, f, plan(node), fused=True)


def relu(node, x):
    if fused_into_limbs(node):
        return cast(np.maximum(x, 0), _in(node).frac_bits, _out(node))  # the layer's limb form casts exactly
    return _finish(node, np.maximum(x, 0), _in(node).frac_bits, plan(node))


def fused_into_limbs(node: Node) -> bool:
    """A Relu that the Dense/Conv before it computes on limbs (`openvino_casts.fused_relu`)."""
    p = node.inputs[0].producer
    return p is not None and p.op in ("Dense", "Conv") and (lim := limb_split(p)) is not None and lim.relu is node


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
