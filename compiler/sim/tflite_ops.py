"""TFLite-mode simulator: one function per IR op over int8 arrays, computing what LiteRT 2.3.0
computes for the int8 model the TFLite backend writes, per op resolver (docs/TFLITE.md).

`fn(node, *inputs, mode)`: inputs are int8 arrays in the IR layout (NCHW); every activation is
typed `AffineType` (real = scale * (q - zero_point)) by the `quantize-affine` pass, weights are
int8 constants with per-channel scales, biases int32. Functions transpose to NHWC where
`tflite_arith` wants it and back. Modes (registered in `run.MODES`):

- ``tflite-ref``      ``BUILTIN_REF``: reference kernels.
- ``tflite-xnnpack``  the interpreter's default: XNNPACK for the nodes it takes (`xnnpack_takes`),
  builtin kernels for the rest.
- ``tflite-builtin``  ``BUILTIN_WITHOUT_DEFAULT_DELEGATES``: optimized builtin kernels.

Edges: FromFloat is LiteRT's QUANTIZE (float32 -> int8) of the mode, ToFloat its DEQUANTIZE; with
int8 I/O the host performs them, and the simulator takes the same formulas so that a model
compiled with or without --float-io simulates identically. A Cast between two AffineTypes is a
requantization (LiteRT QUANTIZE int8 -> int8); between two storages of equal scale it is the
exact zero-point shift (uint8 <-> int8).
"""

from __future__ import annotations

import functools

import numpy as np

from ..ir.graph import Node
from ..ir.types import AffineType, FloatType, IntType
from . import tflite_arith as ta
from . import tflite_layers as tl
from . import tflite_16x8 as t16
from . import tflite_requant as tr
from .exact import int_conv
from .float_ops import FLOAT_OPS, resize_indices

RESOLVER_MODES = {"tflite-ref": "ref", "tflite-xnnpack": "xnnpack", "tflite-builtin": "builtin"}

NHWC = (0, 2, 3, 1)  # IR NCHW -> NHWC
NCHW = (0, 3, 1, 2)

# Unary ops without a TFLite int8 kernel that the backend writes as a 256-entry table lookup
# (CAST int8->int32, ADD 128, GATHER): exact in every mode, not mapped by the Edge TPU.
LUT_OPS = ("Selu", "LeakyRelu", "HardSigmoid", "Clip", "Elu", "Softplus", "HardSwish", "Swish", "Gelu", "Bipolar")

_F32 = np.float32


# ---- parameters ------------------------------------------------------------------------------

def affine(v) -> AffineType:
    t = v.type.elem
    if not isinstance(t, AffineType):
        raise TypeError(f"value {v.name} is {t}, not an affine integer type (run quantize-affine first)")
    return t


def qparams(v) -> tuple[float, int]:
    """(scale, zero point) of a per-tensor affine value; the scale as float32, as the flatbuffer stores it."""
    t = affine(v)
    if len(t.scale) != 1:
        raise TypeError(f"value {v.name} is per-channel; a per-tensor activation was expected")
    return float(_F32(t.scale[0])), int(t.zero_point[0])


def fused_activation(node: Node) -> str | None:
    return node.attrs.get("activation")


def weight_zero_points(node: Node) -> np.ndarray:
    return np.asarray(affine(node.inputs[1]).zero_point, np.int64)


# ---- XNNPACK delegation (measured on ai-edge-litert 2.3.0, docs/TFLITE.md) -------------------

def xnnpack_takes(node: Node) -> bool:
    """Whether the default XNNPACK delegate runs this node (else the builtin kernel does)."""
    op = node.op
    if any(v is not None and is_16x8(v) for v in list(node.inputs) + list(node.outputs)):
        return False  # XNNPACK has no int16 operator
    if op in ("Dense", "Conv"):
        return isinstance(node.inputs[1].type.elem, FloatType) or not weight_zero_points(node).any()
    if op == "Add":
        so = _F32(qparams(node.output)[0])
        return all(2.0**-10 <= _F32(qparams(v)[0]) / so < 2.0**8 for v in node.inputs)
    if op == "Mul":
        so = _F32(qparams(node.output)[0])
        r = (_F32(qparams(node.inputs[0])[0]) * _F32(qparams(node.inputs[1])[0])) / so
        return 2.0**-16 <= r < 2.0**8
    if op == "Cast":
        r = _F32(qparams(node.inputs[0])[0]) / _F32(qparams(node.output)[0])
        return 2.0**-8 <= r <= 2.0**7
    if op in ("AveragePool", "Softmax", "Relu", "Resize") or op in LUT_OPS:
        return False
    return True


def _mode(node: Node, mode: str) -> str:
    if mode == "xnnpack" and not xnnpack_takes(node):
        return "builtin"
    return mode


# ---- padding ---------------------------------------------------------------------------------

def tflite_padding(in_hw, kernel, strides, dilations, pads, out_hw) -> str | None:
    """"VALID" or "SAME" when TFLite's padding rule gives exactly these ONNX pads and output size."""
    same = valid = True
    for i in range(2):
        eff = (kernel[i] - 1) * dilations[i] + 1
        v_out = (in_hw[i] - eff + strides[i]) // strides[i]
        if pads[i] or pads[2 + i] or v_out != out_hw[i]:
            valid = False
        s_out = (in_hw[i] + strides[i] - 1) // strides[i]
        total = max((s_out - 1) * strides[i] + eff - in_hw[i], 0)
        if (pads[i], pads[2 + i]) != (total // 2, total - total // 2) or s_out != out_hw[i]:
            same = False
    return "VALID" if valid else "SAME" if same else None


def _spatial(node: Node):
    x, y = node.inputs[0].type.shape, node.output.type.shape
    return x[2:], y[2:]


def window_padding(node: Node) -> str | None:
    a = node.attrs
    in_hw, out_hw = _spatial(node)
    kernel = a.get("kernel_shape") or node.inputs[1].type.shape[2:]
    return tflite_padding(in_hw, kernel, a["strides"], a.get("dilations") or [1, 1], a["pads"], out_hw)


def depthwise_multiplier(node: Node) -> int | None:
    """TFLite DEPTHWISE_CONV_2D multiplier for a Conv with group == C_in > 1 (else None)."""
    g = node.attrs["group"]
    c_in = node.inputs[0].type.shape[1]
    if g == 1 or g != c_in:
        return None
    return node.inputs[1].type.shape[0] // g


# ---- table lookups ---------------------------------------------------------------------------

def lut_table(node: Node) -> np.ndarray:
    """int8 table[q + 128] = clamp(round_half_even(f(s_in (q - z_in)) / s_out) + z_out), f in float64."""
    s_in, z_in = qparams(node.inputs[0])
    s_out, z_out = qparams(node.output)
    real = s_in * (np.arange(-128, 128, dtype=np.float64) - z_in)
    y = np.asarray(FLOAT_OPS[node.op](node, real), np.float64)
    return np.clip(np.rint(y / s_out) + z_out, -128, 127).astype(np.int8)


# ---- edges and requantization ----------------------------------------------------------------

def _vector_and_tail(node, x, vec, tail, lanes: int = 8):
    """The builtin kernels treat the first lanes * floor(n / lanes) elements of one invoke (n = flat size of
    one sample, in memory order) with SIMD code and the rest with scalar code of different rounding."""
    x = np.asarray(x)
    batched = node.output.type.shape[:1] == (None,)
    flat = x.reshape(len(x), -1) if batched else x.reshape(1, -1)
    n_vec = (flat.shape[1] // lanes) * lanes
    return np.concatenate([vec(flat[:, :n_vec]), tail(flat[:, n_vec:])], axis=1).reshape(x.shape)


def from_float(node, x, *, mode):
    """QUANTIZE float32 -> int8. builtin: rint(x * f32(1/s)) + z on the SIMD part, round_half_away(double(x) /
    double(s)) + z on the scalar tail of each invoke (measured, docs/TFLITE.md)."""
    s, z = qparams(node.output)
    x = np.asarray(x, np.float32)
    if is_16x8(node.output):  # host-side only (the 16x8 mode has int16 I/O)
        return t16.quantize_host(x, s)
    if mode != "builtin":
        return ta.quantize(x, s, z, mode=mode)

    def tail(v):
        r = ta.round_half_away(v.astype(np.float64) / np.float64(s))
        return np.clip(r + z, -128, 127).astype(np.int8)

    return _vector_and_tail(node, x, lambda v: ta.quantize(v, s, z, mode="builtin"), tail)


def to_float(node, x, *, mode):
    """DEQUANTIZE int8 -> float32. builtin: two float32 roundings on the SIMD part, one on the scalar tail."""
    s, z = qparams(node.inputs[0])
    if mode != "builtin":
        return ta.dequantize(x, s, z, mode=mode)
    return _vector_and_tail(node, x, lambda v: ta.dequantize(v, s, z, mode="builtin"),
                            lambda v: ta.dequantize(v, s, z, mode="ref"))


def cast(node, x, *, mode):
    """Requantize between affine types (LiteRT QUANTIZE int8 -> int8; exact for equal scales).

    ref: MBQM(x - z_in, QM(s_in/s_out)) + z_out; builtin: the round-up pair; xnnpack (ratio r in
    [2^-8, 2^7]): M = rint(256 r), out = ((z_out << 8) - M z_in + 128 + M x) >> 8.
    """
    s1, z1 = qparams(node.inputs[0])
    s2, z2 = qparams(node.output)
    out_t = affine(node.output).storage
    xi = np.asarray(x, np.int64)
    m = _mode(node, mode)
    if m == "xnnpack":
        M = int(np.rint(_F32(256.0) * (_F32(s1) / _F32(s2))))
        r = ((z2 << 8) - M * z1 + 128 + M * xi) >> 8
    else:
        mm, e = ta.quantize_multiplier(np.float64(s1) / np.float64(s2))
        f = ta.multiply_by_quantized_multiplier if m == "ref" else ta.multiply_by_quantized_multiplier_round_up
        r = f(xi - z1, mm, e) + z2
    return np.clip(r, out_t.min, out_t.max).astype(out_t.numpy_dtype)


# ---- dense algebra ---------------------------------------------------------------------------

FLOAT_ACTIVATION = {None: (-np.inf, np.inf), "RELU": (0.0, np.inf), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}


def float_dense(node, x, w, b=None):
    """Float32 FULLY_CONNECTED (every resolver): made only by ExactFloatOutput where every partial sum is
    an integer multiple of the same power of two below 2^24 of them, so f32 sums are exact in any order
    and equal the float64 sum computed here; then the fused activation's clamp."""
    y = np.asarray(x, np.float64) @ np.asarray(w, np.float64)
    if b is not None:
        y = y + np.asarray(b, np.float64)
    lo, hi = FLOAT_ACTIVATION[fused_activation(node)]
    return np.clip(y, lo, hi).astype(_F32)


def is_16x8(v) -> bool:
    """An int16 activation of the 16x8 mode (compiler/sim/tflite_16x8.py)."""
    t = v.type.elem
    return isinstance(t, AffineType) and t.storage.bits == 16


def dense(node, x, w, b=None, *, mode):
    if isinstance(node.inputs[0].type.elem, FloatType):
        return float_dense(node, x, w, b)
    if is_16x8(node.inputs[0]):
        acc = np.asarray(x, np.int64) @ np.asarray(w, np.int64) + (0 if b is None else np.asarray(b, np.int64))
        r = t16.requantize(acc, qparams(node.inputs[0])[0], affine(node.inputs[1]).scale, qparams(node.output)[0])
        return t16.finish(r, fused_activation(node), qparams(node.output)[0])
    s_in, z_in = qparams(node.inputs[0])
    s_out, z_out = qparams(node.output)
    wt = affine(node.inputs[1])
    w_eff = np.asarray(w, np.int64) - weight_zero_points(node)  # zero points per tensor (or 0)
    return ta.fully_connected(x, w_eff.T, b, s_in, z_in, wt.scale, s_out, z_out, fused_activation(node),
                              mode=_mode(node, mode))


def conv(node, x, w, b=None, *, mode):
    """CONV_2D (group 1) or DEPTHWISE_CONV_2D (group == C_in). acc = sum (x - z_in) w over in-bounds taps + b
    (padding taps add 0, whether TFLite pads by SAME or by an explicit PAD with z_in), computed exactly with
    BLAS; requantized per output channel as `tflite_arith.conv_2d` / `depthwise_conv_2d` do."""
    a = node.attrs
    s_in, z_in = qparams(node.inputs[0])
    s_out, z_out = qparams(node.output)
    sw = affine(node.inputs[1]).scale
    acc = int_conv(np.asarray(x, np.int64) - z_in, np.asarray(w, np.int64), a["strides"], a["dilations"], a["pads"],
                   a["group"])
    if b is not None:
        acc = acc + np.asarray(b, np.int64).reshape(1, -1, 1, 1)
    acc = np.moveaxis(acc, 1, -1)
    if is_16x8(node.inputs[0]):
        r = t16.requantize(acc, s_in, sw, s_out, reduced=True)
        return np.moveaxis(t16.finish(r, fused_activation(node), s_out), -1, 1)
    m = _mode(node, mode)
    r = tl._requantize_conv(acc, s_in, sw, s_out, m)
    if m == "builtin" and depthwise_multiplier(node) is not None:
        # DepthwiseConvGeneral on x86: channels below 8 floor(OC/8) round up, the scalar tail double-rounds
        oc = acc.shape[-1]
        dbl = tl._requantize_conv(acc, s_in, sw, s_out, m, builtin_round_up=False)
        r = np.where(np.arange(oc) < (oc // 8) * 8, r, dbl)
    return np.moveaxis(tr._finish(r, z_out, fused_activation(node), s_out), -1, 1)


# ---- pooling ---------------------------------------------------------------------------------

def _pool(fn, node, x, mode):
    a = node.attrs
    s, z = qparams(node.output)
    y = fn(np.transpose(x, NHWC), a["kernel_shape"], a["strides"], window_padding(node), s, z, mode=_mode(node, mode))
    return np.transpose(y, NCHW)


def max_pool(node, x, *, mode):
    if is_16x8(node.inputs[0]):  # the maximum is exact in any width: the int8 kernel's arithmetic, int16's clamp
        a = node.attrs
        return np.transpose(t16.max_pool(np.transpose(x, NHWC), a["kernel_shape"], a["strides"], window_padding(node)),
                            NCHW)
    return _pool(ta.max_pool_2d, node, x, mode)


def average_pool(node, x, *, mode):
    if is_16x8(node.inputs[0]):
        a = node.attrs
        return np.transpose(t16.average_pool(np.transpose(x, NHWC), a["kernel_shape"], a["strides"],
                                             window_padding(node)), NCHW)
    return _pool(ta.average_pool_2d, node, x, mode)


def global_average_pool(node, x, *, mode):
    """MEAN over H, W (keep_dims).
    builtin (optimized_integer_ops::Mean, one thread): channels below 16 floor(C/16) go through the SIMD path,
    which rounds with the round-up pair; the rest use MBQM (tflite_arith).
    xnnpack: sc = f32(s_in / s_out) * f32(1 / n) (tflite_arith's s_in / (s_out n) misses exhaustive sweeps once in
    ~10^6), b = f32(z_out) - f32(f32(z_in n) sc), out = rint(f32(f32(S) sc) + b)."""
    s_in, z_in = qparams(node.inputs[0])
    s_out, z_out = qparams(node.output)
    xh = np.transpose(x, NHWC)
    m = _mode(node, mode)
    y = ta.mean_hw(xh, s_in, z_in, s_out, z_out, keep_dims=True, mode=m)
    if m == "xnnpack":
        n = xh.shape[1] * xh.shape[2]
        sc = _F32(_F32(s_in) / _F32(s_out)) * _F32(_F32(1.0) / _F32(n))
        b = _F32(z_out) - _F32(_F32(z_in * n) * sc)
        S = xh.astype(np.int64).sum(axis=(1, 2), keepdims=True).astype(np.float32)
        y = np.clip(np.rint((S * sc).astype(np.float32) + b), -128, 127).astype(np.int8)
    if m == "builtin":
        B, H, W, C = xh.shape
        S = xh.astype(np.int64).sum(axis=(1, 2))
        t = _F32(_F32(z_in) * _F32(s_in)) / _F32(s_out)
        t = _F32(t + _F32(0.5)) if t > 0 else _F32(t - _F32(0.5))
        bias = z_out - int(np.trunc(t))
        mm, e = ta.quantize_multiplier(np.float64(_F32(s_in) / (_F32(H * W) * _F32(s_out))))
        up = np.clip(ta.multiply_by_quantized_multiplier_round_up(S, mm, e) + bias, -128, 127).reshape(B, 1, 1, C)
        y = np.where(np.arange(C) < (C // 16) * 16, up, y).astype(np.int8)
    return np.transpose(y, NCHW)


# ---- elementwise -----------------------------------------------------------------------------

def add(node, a, b, *, mode):
    (s1, z1), (s2, z2) = qparams(node.inputs[0]), qparams(node.inputs[1])
    s, z = qparams(node.output)
    return ta.add(a, s1, z1, b, s2, z2, s, z, mode=_mode(node, mode))


def mul(node, a, b, *, mode):
    """MUL; the builtin kernel's int16 lanes depend on one invoke's flat size: one sample at a time."""
    (s1, z1), (s2, z2) = qparams(node.inputs[0]), qparams(node.inputs[1])
    s, z = qparams(node.output)
    m = _mode(node, mode)
    if m == "builtin" and node.output.type.shape[:1] == (None,):
        a, b = np.broadcast_arrays(a, b)
        return np.stack([ta.mul(a[i], s1, z1, b[i], s2, z2, s, z, mode=m) for i in range(len(a))]) if len(a) else \
            np.zeros(a.shape, np.int8)
    return ta.mul(a, s1, z1, b, s2, z2, s, z, mode=m)


def relu(node, x, *, mode):
    """RELU with equal input and output parameters: max(x, z)."""
    _, z = qparams(node.output)
    x = np.asarray(x, np.int16 if is_16x8(node.output) else np.int8)
    return np.maximum(x, x.dtype.type(z))


def sigmoid(node, x, *, mode):
    s_in, z_in = qparams(node.inputs[0])
    s_out, z_out = qparams(node.output)
    return ta.logistic(x, s_in, z_in, s_out, z_out, mode=mode)


def tanh(node, x, *, mode):
    s_in, z_in = qparams(node.inputs[0])
    s_out, z_out = qparams(node.output)
    return ta.tanh(x, s_in, z_in, s_out, z_out, mode=mode)


def softmax(node, x, *, mode):
    s_in, z_in = qparams(node.inputs[0])
    s_out, z_out = qparams(node.output)
    ax = node.attrs["axis"] % x.ndim
    y = ta.softmax(np.moveaxis(x, ax, -1), s_in, z_in, 1.0, s_out, z_out, mode=mode)
    return np.moveaxis(y, -1, ax)


def table_lookup(node, x, *, mode):
    return lut_table(node)[np.asarray(x, np.int64) + 128]


# ---- data movement ---------------------------------------------------------------------------

def concat(node, *xs, mode):
    return np.concatenate(xs, axis=node.attrs["axis"])


def reshape(node, x, *, mode):
    return FLOAT_OPS["Reshape"](node, x)


def transpose(node, x, *, mode):
    return np.transpose(x, node.attrs["perm"])


def pad(node, x, *, mode):
    _, z = qparams(node.output)
    p = node.attrs["pads"]
    r = x.ndim
    return np.pad(x, [(p[i], p[r + i]) for i in range(r)], constant_values=z)


def resize(node, x, *, mode):
    a = node.attrs
    y = x
    for ax, (scale, out) in enumerate(zip(a["scales"], a["shape"])):
        if out is None or out == x.shape[ax]:
            continue
        idx = resize_indices(x.shape[ax], out, scale, a["coordinate_transformation_mode"], a["nearest_mode"])
        y = np.take(y, idx, axis=ax)
    return y


def tflite_resize_indices(in_size: int, out_size: int) -> np.ndarray:
    """RESIZE_NEAREST_NEIGHBOR (no align_corners, no half_pixel_centers): min(floor(o * f32(in/out)), in - 1)."""
    scale = _F32(in_size) / _F32(out_size)
    o = np.arange(out_size, dtype=np.float32)
    return np.minimum(np.floor((o * scale).astype(np.float32)).astype(np.int64), in_size - 1)


OPS = {
    "FromFloat": from_float, "ToFloat": to_float, "Cast": cast,
    "Dense": dense, "Conv": conv,
    "MaxPool": max_pool, "AveragePool": average_pool, "GlobalAveragePool": global_average_pool,
    "Add": add, "Mul": mul, "Relu": relu, "Sigmoid": sigmoid, "Tanh": tanh, "Softmax": softmax,
    "Concat": concat, "Reshape": reshape, "Transpose": transpose, "Pad": pad, "Resize": resize,
    **{op: table_lookup for op in LUT_OPS},
}


def ops_for(resolver: str) -> dict:
    """op -> fn(node, *inputs) for one resolver path ("ref", "xnnpack", "builtin")."""
    return {op: functools.partial(fn, mode=resolver) for op, fn in OPS.items()}


TFLITE_MODES = {name: ops_for(resolver) for name, resolver in RESOLVER_MODES.items()}


def is_int8(v) -> bool:
    t = v.type.elem
    return isinstance(t, AffineType) and t.storage == IntType(8)
