"""Bit-exact numpy models of LiteRT's (TFLite's) int8 kernels, per op resolver path.

Every op function takes int8 numpy arrays (any leading batch dimensions), the
quantization parameters exactly as stored in the flatbuffer (scales are float32 there:
pass Python floats or np.float32 and they are rounded to float32 first), and a `mode`
naming the interpreter's op resolver:

- ``"ref"``      ``OpResolverType.BUILTIN_REF``: TFLite reference kernels.
- ``"xnnpack"``  ``OpResolverType.AUTO`` / ``BUILTIN``: optimized kernels with the default
  XNNPACK delegate. Ops the delegate does not take (AVERAGE_POOL_2D, SOFTMAX for int8)
  run the builtin optimized kernel, so for those ``"xnnpack"`` equals ``"builtin"``.
- ``"builtin"``  ``OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES``: TFLite's optimized
  kernels (ruy GEMM on x86) without XNNPACK.

The formulas were measured against ai-edge-litert 2.3.0 on x86-64 (see
docs/tflite_arithmetic.md for the evidence) and checked by tests/sim/test_tflite_arith.py.

Rounding vocabulary used in the docstrings:

- *half away*: ties away from zero (C ``std::round``),
- *half even*: ties to even (``lrintf``/``cvtps2dq`` under the default MXCSR, ``np.rint``),
- *half up*: ties toward +inf (``(x + 2^(n-1)) >> n``),
- *gemmlowp double rounding*: ``RDBPOT(SRDHM(x * 2^left, m), right)``; SRDHM rounds half up
  (it rounds half away for positive products and half toward zero for negative ones,
  which is "up" in both cases), RDBPOT rounds half away from zero.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from typing import Sequence

import numpy as np

__all__ = [
    "MODES",
    "quantize_multiplier",
    "saturating_rounding_doubling_high_mul",
    "rounding_divide_by_pot",
    "multiply_by_quantized_multiplier",
    "multiply_by_quantized_multiplier_round_up",
    "requantize_fp32",
    "round_half_away",
    "activation_range",
    "fully_connected",
    "conv_2d",
    "depthwise_conv_2d",
    "max_pool_2d",
    "average_pool_2d",
    "mean_hw",
    "add",
    "mul",
    "concatenation",
    "reshape",
    "pad",
    "softmax",
    "logistic",
    "tanh",
    "quantize",
    "dequantize",
]

MODES = ("ref", "xnnpack", "builtin")

_I32_MIN = -(2**31)
_I32_MAX = 2**31 - 1
_f32 = np.float32


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")


def _f32s(s) -> np.ndarray:
    """Scales as stored in the flatbuffer: float32, at least 1-D."""
    return np.atleast_1d(np.asarray(s, dtype=np.float64)).astype(np.float32)


# ----------------------------------------------------------------------------------------
# Building blocks
# ----------------------------------------------------------------------------------------
def round_half_away(x: np.ndarray) -> np.ndarray:
    """C ``std::round`` (ties away from zero), exact in the array's own float precision."""
    x = np.asarray(x)
    t = np.trunc(x)
    frac = x - t  # exact
    return t + np.where(np.abs(frac) >= 0.5, np.sign(x), 0).astype(x.dtype)


def quantize_multiplier(real_multiplier) -> tuple[np.ndarray, np.ndarray]:
    """TFLite ``QuantizeMultiplier``: M (float64) -> (m, shift) with M ~= m * 2^(shift - 31).

    (q, e) = frexp(M); m = round_half_away(q * 2^31); if m == 2^31: m /= 2, e += 1;
    if e < -31: (m, e) = (0, 0). M == 0 gives (0, 0). Vectorised over arrays of M.
    """
    M = np.atleast_1d(np.asarray(real_multiplier, dtype=np.float64))
    q, e = np.frexp(M)
    m = round_half_away(q * 2.0**31).astype(np.int64)
    e = e.astype(np.int64)
    big = m == 2**31
    m = np.where(big, m // 2, m)
    e = np.where(big, e + 1, e)
    tiny = (e < -31) | (M == 0)
    m = np.where(tiny, 0, m)
    e = np.where(tiny, 0, e)
    return m, e


def saturating_rounding_doubling_high_mul(a, b) -> np.ndarray:
    """gemmlowp SRDHM: (a*b + (a*b >= 0 ? 2^30 : 1 - 2^30)) / 2^31, C division (toward 0).

    Equals round-half-up of a*b / 2^31; INT32_MIN * INT32_MIN saturates to INT32_MAX.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    ab = a * b
    r = ab + np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    q = np.where(r >= 0, r >> 31, -((-r) >> 31))
    return np.where((a == _I32_MIN) & (b == _I32_MIN), _I32_MAX, q)


def rounding_divide_by_pot(x, exponent) -> np.ndarray:
    """gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero."""
    x = np.asarray(x, dtype=np.int64)
    n = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << n) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> n) + (remainder > threshold)


def multiply_by_quantized_multiplier(x, m, shift) -> np.ndarray:
    """TFLite ``MultiplyByQuantizedMultiplier`` (default build, gemmlowp double rounding).

    RDBPOT(SRDHM(x * 2^max(shift,0), m), max(-shift, 0)). Used by the reference kernels
    (CONV_2D, DEPTHWISE_CONV_2D, ADD, MUL, MEAN) and by builtin ADD/MUL/MEAN/DEPTHWISE.
    """
    x = np.asarray(x, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x << left, m), right)


def multiply_by_quantized_multiplier_round_up(x, m, shift) -> np.ndarray:
    """ruy's fixed-point multiplier (builtin FULLY_CONNECTED / CONV_2D on x86).

    Two roundings, both half up: r = SRDHM(x * 2^max(shift,0), m), then
    (r + 2^(n-1)) >> n with n = max(-shift, 0). Differs from the double-rounding version
    only when the final right shift hits an exact tie on a negative value.
    """
    x = np.asarray(x, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    r = saturating_rounding_doubling_high_mul(x << left, m)
    half = np.where(right > 0, np.int64(1) << np.maximum(right - 1, 0), 0)
    return (r + half) >> right


def requantize_fp32(acc, scale) -> np.ndarray:
    """XNNPACK "fp32" requantization: rint(float32(acc) * float32(scale)), ties to even."""
    acc = np.asarray(acc, dtype=np.int64).astype(np.float32)
    return np.rint(acc * np.asarray(scale, dtype=np.float32)).astype(np.int64)


def _requantize_f64_half_away(acc, eff_scale) -> np.ndarray:
    """TFLite reference FULLY_CONNECTED: round_half_away(double(acc) * effective_scale)."""
    v = np.asarray(acc, dtype=np.float64) * np.asarray(eff_scale, dtype=np.float64)
    return np.clip(round_half_away(v), _I32_MIN, _I32_MAX).astype(np.int64)


def activation_range(activation: str | None, s_out: float, z_out: int) -> tuple[int, int]:
    """Quantized clamp range of a fused activation (TFLite CalculateActivationRangeQuantized).

    NONE -> [-128, 127]; RELU -> [max(-128, z), 127]; RELU6 -> [max(-128, z),
    min(127, z + round_half_away(float32(6 / s)))]; RELU_N1_TO_1 -> the same with -1 and 1.
    """
    lo, hi = -128, 127
    s = _f32(s_out)

    def q(v: float) -> int:
        return int(z_out) + int(round_half_away(_f32(v) / s))

    if activation in (None, "NONE"):
        return lo, hi
    if activation == "RELU":
        return max(lo, q(0.0)), hi
    if activation == "RELU6":
        return max(lo, q(0.0)), min(hi, q(6.0))
    if activation == "RELU_N1_TO_1":
        return max(lo, q(-1.0)), min(hi, q(1.0))
    raise ValueError(f"unsupported fused activation {activation!r}")


def _finish(r, z_out, activation, s_out) -> np.ndarray:
    lo, hi = activation_range(activation, s_out, z_out)
    return np.clip(np.asarray(r, dtype=np.int64) + int(z_out), lo, hi).astype(np.int8)


# ----------------------------------------------------------------------------------------
# FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D
# ----------------------------------------------------------------------------------------
def fully_connected(x, w, bias, s_in, z_in, s_w, s_out, z_out, activation=None, mode="ref") -> np.ndarray:
    """FULLY_CONNECTED, int8 x [..., K], int8 weights w [N, K] (zero point 0), int32 bias [N].

    acc = sum_k (x - z_in) * w[n, k] + bias[n] (exact int32). Requantization per mode:

    - ref: out = round_half_away(double(acc) * (double(s_in) * double(s_w[n]) / double(s_out)))
      (float64, no fixed-point multiplier; LiteRT >= 2025 reference kernel), per tensor too.
    - builtin (ruy): M = double(s_in)*double(s_w[n])/double(s_out) per channel, or
      double(float32(s_in*s_w))/double(s_out) per tensor; (m, e) = QuantizeMultiplier(M);
      out = multiply_by_quantized_multiplier_round_up(acc, m, e) (two roundings, half up).
    - xnnpack: out = rint(float32(acc) * float32(float32(s_in*s_w[n]) / s_out)), half even.

    Then + z_out and clamp to the fused activation range (NONE/RELU/RELU6/RELU_N1_TO_1).
    `s_w` is a scalar (per tensor) or one scale per output channel.
    """
    _check_mode(mode)
    x = np.asarray(x)
    w = np.asarray(w, dtype=np.int64)
    acc = (x.astype(np.int64) - int(z_in)) @ w.T
    if bias is not None:
        acc = acc + np.asarray(bias, dtype=np.int64)
    per_tensor = _f32s(s_w).size == 1
    si, so = _f32(s_in), _f32(s_out)
    sw = _f32s(s_w)
    if mode == "ref":
        M = np.float64(si) * sw.astype(np.float64) / np.float64(so)
        r = _requantize_f64_half_away(acc, M)
    elif mode == "xnnpack":
        r = requantize_fp32(acc, (si * sw) / so)
    else:
        if per_tensor:
            M = np.float64(si * sw) / np.float64(so)
        else:
            M = np.float64(si) * sw.astype(np.float64) / np.float64(so)
        m, e = quantize_multiplier(M)
        r = multiply_by_quantized_multiplier_round_up(acc, m, e)
    return _finish(r, z_out, activation, s_out)


def _same_padding(in_size: int, k: int, stride: int, dilation: int) -> tuple[int, int, int]:
    """TFLite SAME padding: (out, pad_before, pad_after)."""
    eff = (k - 1) * dilation + 1
    out = (in_size + stride - 1) // stride
    total = max((out - 1) * stride + eff - in_size, 0)
    return out, total // 2, total - total // 2


def _out_and_pads(in_size, k, stride, dilation, padding):
    if padding == "SAME":
        return _same_padding(in_size, k, stride, dilation)
    if padding == "VALID":
        eff = (k - 1) * dilation + 1
        return (in_size - eff + stride) // stride, 0, 0
    raise ValueError(f"padding must be SAME or VALID, got {padding!r}")


def _patches(x, kh, kw, strides, padding, dilation, pad_value):
    """Extract windows: x [B, H, W, C] -> [B, OH, OW, kh, kw, C] and in-bounds mask [OH, OW, kh, kw]."""
    B, H, W, C = x.shape
    sh, sw = strides
    dh, dw = dilation
    oh, pt, pb = _out_and_pads(H, kh, sh, dh, padding)
    ow, pl, pr = _out_and_pads(W, kw, sw, dw, padding)
    xp = np.full((B, H + pt + pb, W + pl + pr, C), pad_value, dtype=x.dtype)
    xp[:, pt:pt + H, pl:pl + W, :] = x
    valid = np.zeros((H + pt + pb, W + pl + pr), dtype=bool)
    valid[pt:pt + H, pl:pl + W] = True
    iy = (np.arange(oh) * sh)[:, None] + (np.arange(kh) * dh)[None, :]  # [oh, kh]
    ix = (np.arange(ow) * sw)[:, None] + (np.arange(kw) * dw)[None, :]  # [ow, kw]
    pat = xp[:, iy[:, None, :, None], ix[None, :, None, :], :]  # [B, oh, ow, kh, kw, C]
    mask = valid[iy[:, None, :, None], ix[None, :, None, :]]  # [oh, ow, kh, kw]
    return pat, mask


def conv_2d(x, w, bias, s_in, z_in, s_w, s_out, z_out, strides=(1, 1), padding="VALID",
            dilation=(1, 1), activation=None, mode="ref") -> np.ndarray:
    """CONV_2D, NHWC int8 x [B, H, W, I], weights w [O, kh, kw, I] (per-channel scales on O).

    acc[o] = sum over in-bounds taps of (x - z_in) * w + bias[o] (TFLite SAME padding:
    total = max((out-1)*stride + (k-1)*dilation + 1 - in, 0), before = total // 2).
    Requantization with M[o] = double(s_in) * double(s_w[o]) / double(s_out):

    - ref: gemmlowp double rounding, multiply_by_quantized_multiplier(acc, QM(M)).
    - builtin (im2col + ruy): multiply_by_quantized_multiplier_round_up(acc, QM(M)).
    - xnnpack: rint(float32(acc) * float32(float32(s_in*s_w[o]) / s_out)), half even.

    Then + z_out, clamp to the activation range.
    """
    _check_mode(mode)
    x = np.asarray(x)
    w = np.asarray(w, dtype=np.int64)
    O, kh, kw, I = w.shape
    pat, _ = _patches(x.astype(np.int64) - int(z_in), kh, kw, strides, padding, dilation, 0)
    acc = np.einsum("bhwijc,oijc->bhwo", pat, w, optimize=True)
    if bias is not None:
        acc = acc + np.asarray(bias, dtype=np.int64)
    return _finish(_requantize_conv(acc, s_in, s_w, s_out, mode), z_out, activation, s_out)


def _requantize_conv(acc, s_in, s_w, s_out, mode, builtin_round_up=True):
    si, so = _f32(s_in), _f32(s_out)
    sw = _f32s(s_w)
    if mode == "xnnpack":
        return requantize_fp32(acc, (si * sw) / so)
    M = np.float64(si) * sw.astype(np.float64) / np.float64(so)
    m, e = quantize_multiplier(M)
    if mode == "builtin" and builtin_round_up:
        return multiply_by_quantized_multiplier_round_up(acc, m, e)
    return multiply_by_quantized_multiplier(acc, m, e)


def depthwise_conv_2d(x, w, bias, s_in, z_in, s_w, s_out, z_out, strides=(1, 1), padding="VALID",
                      dilation=(1, 1), depth_multiplier=1, activation=None, mode="ref") -> np.ndarray:
    """DEPTHWISE_CONV_2D, NHWC int8 x [B, H, W, C], weights w [1, kh, kw, C*dm] (scales on axis 3).

    Output channel o = c * depth_multiplier + j reads input channel c. Accumulation as
    CONV_2D. Requantization with M[o] = double(s_in)*double(s_w[o])/double(s_out):

    - ref: gemmlowp double rounding.
    - builtin (DepthwiseConvGeneral + optimized Quantize on x86): output channels
      o < 8*floor(OC/8) are requantized 8 at a time with the round-half-up pair
      (multiply_by_quantized_multiplier_round_up); the remaining OC mod 8 channels go
      through the scalar gemmlowp double rounding.
    - xnnpack: rint(float32(acc) * float32(float32(s_in*s_w[o]) / s_out)), half even.
    """
    _check_mode(mode)
    x = np.asarray(x)
    w = np.asarray(w, dtype=np.int64)
    _, kh, kw, OC = w.shape
    C = x.shape[-1]
    dm = int(depth_multiplier)
    if OC != C * dm:
        raise ValueError(f"depthwise weights have {OC} channels, expected {C}*{dm}")
    pat, _ = _patches(x.astype(np.int64) - int(z_in), kh, kw, strides, padding, dilation, 0)
    pat = np.repeat(pat, dm, axis=-1)  # input channel c feeds outputs c*dm .. c*dm+dm-1
    acc = np.einsum("bhwijo,ijo->bhwo", pat, w[0], optimize=True)
    if bias is not None:
        acc = acc + np.asarray(bias, dtype=np.int64)
    if mode == "builtin":
        # Vectorised channels (groups of 8) round half up, the scalar tail double-rounds.
        n_vec = (OC // 8) * 8
        up = _requantize_conv(acc, s_in, s_w, s_out, mode, builtin_round_up=True)
        dbl = _requantize_conv(acc, s_in, s_w, s_out, mode, builtin_round_up=False)
        r = np.where(np.arange(OC) < n_vec, up, dbl)
    else:
        r = _requantize_conv(acc, s_in, s_w, s_out, mode)
    return _finish(r, z_out, activation, s_out)


# ----------------------------------------------------------------------------------------
# Pooling and reductions
# ----------------------------------------------------------------------------------------
def max_pool_2d(x, filter_size, strides=(1, 1), padding="VALID", s_out=1.0, z_out=0,
                activation=None, mode="ref") -> np.ndarray:
    """MAX_POOL_2D (NHWC, input and output quantization equal): max over the in-bounds taps.

    Padded positions are ignored. Clamped to the fused activation range. Same in every mode.
    """
    _check_mode(mode)
    x = np.asarray(x)
    kh, kw = filter_size
    pat, mask = _patches(x.astype(np.int64), kh, kw, strides, padding, (1, 1), -(1 << 20))
    m = pat.max(axis=(3, 4))
    return _finish(m - int(z_out), z_out, activation, s_out)


def average_pool_2d(x, filter_size, strides=(1, 1), padding="VALID", s_out=1.0, z_out=0,
                    activation=None, mode="ref") -> np.ndarray:
    """AVERAGE_POOL_2D (NHWC, input and output quantization equal).

    acc = sum of the raw q over the n in-bounds taps (padding excluded from sum and count);
    out = acc > 0 ? (acc + n/2) / n : (acc - n/2) / n with C (truncating) division, i.e.
    rounding half away from zero. XNNPACK does not take int8 AVERAGE_POOL_2D, so all three
    modes compute this. Clamped to the fused activation range.
    """
    _check_mode(mode)
    x = np.asarray(x)
    kh, kw = filter_size
    pat, mask = _patches(x.astype(np.int64), kh, kw, strides, padding, (1, 1), 0)
    acc = pat.sum(axis=(3, 4))
    n = mask.sum(axis=(2, 3)).astype(np.int64)[None, :, :, None]
    half = n // 2
    num = np.where(acc > 0, acc + half, acc - half)
    q = np.sign(num) * (np.abs(num) // n)
    return _finish(q - int(z_out), z_out, activation, s_out)


def mean_hw(x, s_in, z_in, s_out, z_out, keep_dims=True, mode="ref") -> np.ndarray:
    """MEAN over axes (1, 2) of an NHWC int8 tensor (global average pooling), n = H*W.

    S = sum of the raw q over H, W. Per mode:

    - ref (reference_ops::QuantizedMeanOrSum): (m, e) = QM(double(s_in)/double(s_out));
      k = min(floor(log2 n), 32, 31 + e); m' = (m << k) // n; e' = e - k;
      out = MBQM(S - z_in*n, m', e') + z_out (gemmlowp double rounding).
    - builtin, keep_dims (optimized_integer_ops::Mean): t = float32(z_in*s_in)/s_out;
      bias = z_out - trunc(t > 0 ? t + 0.5f : t - 0.5f) (float32 ops);
      (m, e) = QM(float32(s_in / (float32(n) * s_out))); out = MBQM(S, m, e) + bias.
      Without keep_dims the builtin path falls back to the reference formula.
    - xnnpack: sc = float32(s_in / (s_out * float32(n))); b = float32(z_out) -
      float32(float32(z_in*n) * sc); out = rint(float32(float32(S) * sc) + b) (half even,
      zero point added before rounding).

    Output [B, 1, 1, C] with keep_dims, else [B, C]; clamped to int8.
    """
    _check_mode(mode)
    x = np.asarray(x)
    B, H, W, C = x.shape
    n = H * W
    S = x.astype(np.int64).sum(axis=(1, 2))
    si, so = _f32(s_in), _f32(s_out)
    if mode == "xnnpack":
        sc = si / (so * _f32(n))
        b = _f32(z_out) - _f32(_f32(z_in * n) * sc)
        r = np.rint((S.astype(np.float32) * sc).astype(np.float32) + b)
        out = np.clip(r, -128, 127).astype(np.int8)
    elif mode == "builtin" and keep_dims:
        t = _f32(_f32(z_in) * si) / so
        t = _f32(t + _f32(0.5)) if t > 0 else _f32(t - _f32(0.5))
        bias = int(z_out) - int(np.trunc(t))
        m, e = quantize_multiplier(np.float64(si / (_f32(n) * so)))
        r = multiply_by_quantized_multiplier(S, m, e) + bias
        out = np.clip(r, -128, 127).astype(np.int8)
    else:
        m, e = quantize_multiplier(np.float64(si) / np.float64(so))
        m, e = int(m[0]), int(e[0])
        k = min(n.bit_length() - 1, 32, 31 + e)
        m2 = (m << k) // n
        r = multiply_by_quantized_multiplier(S - int(z_in) * n, m2, e - k) + int(z_out)
        out = np.clip(r, -128, 127).astype(np.int8)
    return out.reshape(B, 1, 1, C) if keep_dims else out


# ----------------------------------------------------------------------------------------
# Elementwise binary ops
# ----------------------------------------------------------------------------------------
def add(x1, s1, z1, x2, s2, z2, s_out, z_out, activation=None, mode="ref") -> np.ndarray:
    """ADD of two int8 tensors (numpy broadcasting).

    - ref and builtin (gemmlowp): left_shift = 20, t = 2*max(s1, s2) (double);
      (m_i, e_i) = QM(s_i / t), (m_o, e_o) = QM(t / (2^20 * s_out));
      out = MBQM(MBQM((x1 - z1) << 20, m_1, e_1) + MBQM((x2 - z2) << 20, m_2, e_2), m_o, e_o)
      + z_out, all gemmlowp double rounding.
    - xnnpack: a = float32(s1/s_out), b = float32(s2/s_out); shift = 20 - exponent(max(|a|,|b|));
      A = rint(a * 2^shift), B = rint(b * 2^shift) (20-bit multipliers);
      out = (2^(shift-1) - A*z1 - B*z2 + A*x1 + B*x2) >> shift (floor, i.e. half up) + z_out.
    """
    _check_mode(mode)
    x1 = np.asarray(x1, dtype=np.int64)
    x2 = np.asarray(x2, dtype=np.int64)
    if mode == "xnnpack":
        a = _f32(s1) / _f32(s_out)
        b = _f32(s2) / _f32(s_out)
        mx = max(abs(a), abs(b))
        exp = int(np.asarray(mx, dtype=np.float32).view(np.uint32) >> 23) - 127
        shift = 20 - exp
        A = int(np.rint(a * _f32(2.0**shift)))
        B = int(np.rint(b * _f32(2.0**shift)))
        acc = (1 << (shift - 1)) - A * int(z1) - B * int(z2) + A * x1 + B * x2
        r = acc >> shift
    else:
        d1, d2, do = float(_f32(s1)), float(_f32(s2)), float(_f32(s_out))
        t = 2.0 * max(d1, d2)
        m1, e1 = quantize_multiplier(d1 / t)
        m2, e2 = quantize_multiplier(d2 / t)
        mo, eo = quantize_multiplier(t / ((1 << 20) * do))
        r1 = multiply_by_quantized_multiplier((x1 - int(z1)) << 20, m1, e1)
        r2 = multiply_by_quantized_multiplier((x2 - int(z2)) << 20, m2, e2)
        r = multiply_by_quantized_multiplier(r1 + r2, mo, eo)
    return _finish(r, z_out, activation, s_out)


def mul(x1, s1, z1, x2, s2, z2, s_out, z_out, activation=None, mode="ref") -> np.ndarray:
    """MUL of two int8 tensors (numpy broadcasting). p = (x1 - z1) * (x2 - z2).

    - ref: out = MBQM(p, QM(double(float32(float32(s1*s2) / s_out)))) + z_out (gemmlowp
      double rounding; the real multiplier is formed in float32).
    - builtin: the same, but the vectorised part (the first 16*floor(size/16) elements of
      the flattened tensor, i.e. of one invoke) computes in int16 lanes:
      out = wrap16(sat16(MBQM(p)) + z_out), then the int8 clamp; only matters when
      |MBQM(p)| + |z_out| exceeds 32767 (products with s1*s2/s_out >~ 0.5). The tail is exact.
    - xnnpack: out = rint(float32(p) * float32(float32(s1*s2) / s_out)) + z_out (half even).

    Broadcasting is modelled as plain numpy broadcasting; only same-shape inputs were measured.
    """
    _check_mode(mode)
    p = (np.asarray(x1, dtype=np.int64) - int(z1)) * (np.asarray(x2, dtype=np.int64) - int(z2))
    if mode == "xnnpack":
        r = requantize_fp32(p, (_f32(s1) * _f32(s2)) / _f32(s_out))
    else:
        # mul.cc Prepare: the real multiplier is formed in float32, then widened.
        M = np.float64((_f32(s1) * _f32(s2)) / _f32(s_out))
        m, e = quantize_multiplier(M)
        r = multiply_by_quantized_multiplier(p, m, e)
        if mode == "builtin":
            # The optimized kernel handles 16 elements at a time in int16 lanes: the
            # rescaled product saturates to int16, then the zero point is added with
            # int16 wrap-around. The scalar tail (flat size mod 16) is exact int32.
            flat = r.reshape(-1)
            n_vec = (flat.size // 16) * 16
            vec = np.clip(flat[:n_vec], -32768, 32767) + int(z_out)
            vec = ((vec + 32768) & 0xFFFF) - 32768 - int(z_out)
            r = np.concatenate([vec, flat[n_vec:]]).reshape(r.shape)
    return _finish(r, z_out, activation, s_out)


# ----------------------------------------------------------------------------------------
# Data movement
# ----------------------------------------------------------------------------------------
def concatenation(xs: Sequence[np.ndarray], scales: Sequence[float], zero_points: Sequence[int],
                  axis: int, s_out: float, z_out: int, mode="ref") -> np.ndarray:
    """CONCATENATION of int8 tensors along `axis`: a plain copy.

    LiteRT's int8 kernel refuses inputs whose scale or zero point differ from the output's
    (every mode; the XNNPACK delegate fails to prepare), so this raises ValueError then.
    """
    _check_mode(mode)
    for s, z in zip(scales, zero_points):
        if _f32(s) != _f32(s_out) or int(z) != int(z_out):
            raise ValueError("int8 CONCATENATION needs equal input and output quantization")
    return np.concatenate([np.asarray(x, dtype=np.int8) for x in xs], axis=axis)


def reshape(x, new_shape, mode="ref") -> np.ndarray:
    """RESHAPE: the same bytes in a new shape (quantization unchanged)."""
    _check_mode(mode)
    return np.asarray(x).reshape(new_shape)


def pad(x, paddings, z_out, mode="ref") -> np.ndarray:
    """PAD (constant): pads with the output zero point. `paddings` is [[before, after]] per dim."""
    _check_mode(mode)
    return np.pad(np.asarray(x, dtype=np.int8), [tuple(int(v) for v in p) for p in paddings],
                  constant_values=int(z_out))


# ----------------------------------------------------------------------------------------
# Float helpers for the table-based ops: glibc expf / tanhf when available (that is what
# LiteRT's kernels call on Linux); otherwise float64 rounded to float32, which agrees with
# glibc's (< 0.51 ulp) results except in extremely rare cases.
# ----------------------------------------------------------------------------------------
def _load_libm():
    try:
        name = ctypes.util.find_library("m") or "libm.so.6"
        lib = ctypes.CDLL(name)
        for fn in ("expf", "tanhf"):
            getattr(lib, fn).restype = ctypes.c_float
            getattr(lib, fn).argtypes = [ctypes.c_float]
        return lib
    except (OSError, AttributeError):
        return None


_LIBM = _load_libm()


def _expf(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    if _LIBM is not None:
        return np.array([_LIBM.expf(float(t)) for t in v.ravel()], dtype=np.float32).reshape(v.shape)
    return np.exp(v.astype(np.float64)).astype(np.float32)


def _tanhf(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    if _LIBM is not None:
        return np.array([_LIBM.tanhf(float(t)) for t in v.ravel()], dtype=np.float32).reshape(v.shape)
    return np.tanh(v.astype(np.float64)).astype(np.float32)


def _lut_int8(s_in, z_in, s_out, z_out, transform) -> np.ndarray:
    """TFLite LUTPopulate<int8>: table[q] = clamp(round_half_away(f(s_in*(q - z_in)) * (1/s_out)) + z_out)."""
    q = np.arange(-128, 128, dtype=np.int64)
    deq = _f32(s_in) * (q - int(z_in)).astype(np.float32)
    y = transform(deq.astype(np.float32))
    inv = _f32(1.0) / _f32(s_out)
    r = round_half_away((y * inv).astype(np.float32))
    return np.clip(r.astype(np.int64) + int(z_out), -128, 127).astype(np.int8)


def logistic(x, s_in, z_in, s_out=1.0 / 256, z_out=-128, mode="ref") -> np.ndarray:
    """LOGISTIC int8 (output scale 1/256, zero point -128): a 256-entry table, same in all modes.

    table[q] = clamp(round_half_away(float32(1 / (1 + expf(-float32(s_in*(q - z_in))))) *
    float32(1/s_out)) + z_out). The XNNPACK delegate takes the op; its table agreed with
    this one on every (scale, zero point) tried.
    """
    _check_mode(mode)

    def sig(v):
        return (_f32(1.0) / (_f32(1.0) + _expf(-v))).astype(np.float32)

    lut = _lut_int8(s_in, z_in, s_out, z_out, sig)
    return lut[np.asarray(x, dtype=np.int64) + 128]


def tanh(x, s_in, z_in, s_out=1.0 / 128, z_out=0, mode="ref") -> np.ndarray:
    """TANH int8 (output scale 1/128, zero point 0): a 256-entry table, same in all modes.

    table[q] = clamp(round_half_away(tanhf(float32(s_in*(q - z_in))) * float32(1/s_out)) + z_out).
    """
    _check_mode(mode)
    lut = _lut_int8(s_in, z_in, s_out, z_out, _tanhf)
    return lut[np.asarray(x, dtype=np.int64) + 128]


# ----------------------------------------------------------------------------------------
# SOFTMAX
# ----------------------------------------------------------------------------------------
def _sat_shl(x, exponent: int) -> np.ndarray:
    """gemmlowp SaturatingRoundingMultiplyByPOT for a positive exponent (saturating shift)."""
    thr = (1 << (31 - exponent)) - 1
    r = np.asarray(x, dtype=np.int64) << exponent
    r = np.where(x > thr, _I32_MAX, r)
    return np.where(x < -thr, _I32_MIN, r)


def _wrap32(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.int64)
    return ((x + 2**31) & 0xFFFFFFFF) - 2**31


def _exp_on_interval(a) -> np.ndarray:
    """gemmlowp exp_on_interval_between_negative_one_quarter_and_0_excl (Q0.31 in and out)."""
    srdhm = saturating_rounding_doubling_high_mul
    constant_term = 1895147668
    constant_1_over_3 = 715827883
    x = _wrap32(a + (1 << 28))
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = rounding_divide_by_pot(x4, 2)
    t = _wrap32(srdhm(_wrap32(x4_over_4 + x3), constant_1_over_3) + x2)
    poly = rounding_divide_by_pot(t, 1)
    return _wrap32(constant_term + srdhm(constant_term, _wrap32(x + poly)))


def _exp_on_negative_values(a) -> np.ndarray:
    """gemmlowp exp_on_negative_values for FixedPoint<int32, 5> input, Q0.31 output."""
    srdhm = saturating_rounding_doubling_high_mul
    a = np.asarray(a, dtype=np.int64)
    k_frac = 26
    one_quarter = 1 << (k_frac - 2)
    mask = one_quarter - 1
    a_mod = _wrap32((a & mask) - one_quarter)
    result = _exp_on_interval(_sat_shl(a_mod, 5))  # Rescale<0> of a Q5.26 value
    remainder = _wrap32(a_mod - a)
    for exponent, mult in ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
                           (2, 39332535), (3, 720401), (4, 242)):
        bit = 1 << (k_frac + exponent)
        result = np.where((remainder & bit) != 0, srdhm(result, mult), result)
    return np.where(a == 0, _I32_MAX, result)


def _one_over_one_plus_x(a) -> np.ndarray:
    """gemmlowp one_over_one_plus_x_for_x_in_0_1 (Q0.31 in and out), Newton-Raphson."""
    srdhm = saturating_rounding_doubling_high_mul
    a = np.asarray(a, dtype=np.int64)
    s = a + _I32_MAX
    half_den = np.where(s >= 0, (s + 1) // 2, -((-s + 1) // 2))  # RoundingHalfSum
    c48_17 = 1515870810
    cneg32_17 = -1010580540
    x = _wrap32(c48_17 + srdhm(half_den, cneg32_17))
    one_f2 = 1 << 29
    for _ in range(3):
        hdx = srdhm(half_den, x)
        one_minus = _wrap32(one_f2 - hdx)
        x = _wrap32(x + _sat_shl(srdhm(x, one_minus), 2))
    return _sat_shl(x, 1)


def _softmax_ref(x, s_in, beta) -> np.ndarray:
    """reference_ops::Softmax for int8 in/out (gemmlowp fixed point, Q5.26 diffs, Q12 sum)."""
    srdhm = saturating_rounding_doubling_high_mul
    real = min(float(beta) * float(_f32(s_in)) * (1 << 26), (1 << 31) - 1.0)
    m, e = quantize_multiplier(real)
    m, left = int(m[0]), int(e[0])
    radius = math.floor(1.0 * 31 * (1 << 26) / (1 << left))
    diff_min = -radius
    x = np.asarray(x, dtype=np.int64)
    mx = x.max(axis=-1, keepdims=True)
    diff = x - mx
    ok = diff >= diff_min
    scaled = srdhm(diff * (1 << left), m)
    e0 = _exp_on_negative_values(scaled)
    contrib = np.where(ok, rounding_divide_by_pot(e0, 12), 0)
    sum_of_exps = _wrap32(contrib.sum(axis=-1, keepdims=True))
    # GetReciprocal(sum, 12): headroom = CountLeadingZeros(uint32(sum))
    u = sum_of_exps & 0xFFFFFFFF
    _, bitlen = np.frexp(u.astype(np.float64))
    clz = np.where(u == 0, 32, 32 - bitlen.astype(np.int64))
    num_bits_over_unit = 12 - clz
    shifted_minus_one = _wrap32(((u << clz) & 0xFFFFFFFF) - (1 << 31))
    shifted_scale = _one_over_one_plus_x(shifted_minus_one)
    unsat = rounding_divide_by_pot(srdhm(shifted_scale, e0), num_bits_over_unit + 31 - 8)
    out = np.clip(unsat - 128, -128, 127)
    return np.where(ok, out, -128).astype(np.int8)


def _softmax_lut(x, s_in, beta, s_out, z_out) -> np.ndarray:
    """optimized_ops::Softmax (x86, float table): see `softmax`."""
    x = np.asarray(x, dtype=np.int64)
    scale = _f32(-_f32(s_in) * _f32(beta))
    vals = np.arange(256, dtype=np.int64)
    table = np.empty(256, dtype=np.float32)
    table[255 - vals] = _expf((scale * vals.astype(np.float32)).astype(np.float32))
    mx = x.max(axis=-1, keepdims=True)
    t = table[255 - (mx - x)]  # exp(-s_in*beta*(max - x))
    sum_exp = np.zeros(x.shape[:-1] + (1,), dtype=np.float32)
    for j in range(x.shape[-1]):  # sequential float32 accumulation, as the C loop
        sum_exp = (sum_exp + t[..., j:j + 1]).astype(np.float32)
    inv = (_f32(1.0) / (sum_exp * _f32(s_out))).astype(np.float32)
    prob = (t * inv).astype(np.float32)
    r = round_half_away(prob).astype(np.int64) + int(z_out)
    return np.clip(r, -128, 127).astype(np.int8)


def softmax(x, s_in, z_in, beta=1.0, s_out=1.0 / 256, z_out=-128, mode="ref") -> np.ndarray:
    """SOFTMAX over the last axis, int8 in, int8 out (scale 1/256, zero point -128).

    The input zero point cancels (only max - x matters).

    - ref (reference_ops::Softmax): gemmlowp fixed point. (m, l) = QM(min(beta*s_in*2^26,
      2^31-1)); diff_min = -floor(31 * 2^26 / 2^l); for d = x - max >= diff_min:
      e = exp_on_negative_values(SRDHM(d * 2^l, m)) in Q0.31; sum = sum(RDBPOT(e, 12)) (Q12.19);
      recip = one_over_one_plus_x(...) with num_bits_over_unit = 12 - clz(sum);
      out = RDBPOT(SRDHM(recip, e), num_bits_over_unit + 23) - 128; d < diff_min gives -128.
    - builtin and xnnpack (the delegate does not take int8 SOFTMAX): float table
      T[i] = expf(float32(-s_in*beta) * (255 - i)); t_j = T[255 - (max - x_j)];
      S = float32 sum of t_j in index order; inv = 1.0f / (S * s_out);
      out = round_half_away(float32(t_j * inv)) + z_out.
    """
    _check_mode(mode)
    if mode == "ref":
        return _softmax_ref(x, s_in, beta)
    return _softmax_lut(x, s_in, beta, s_out, z_out)


# ----------------------------------------------------------------------------------------
# QUANTIZE / DEQUANTIZE
# ----------------------------------------------------------------------------------------
def quantize(x, s_out, z_out, mode="ref") -> np.ndarray:
    """QUANTIZE float32 -> int8 (per tensor).

    - ref: out = round_half_away(float32(x / s)) + z (float32 division).
    - builtin and xnnpack: out = rint(float32(x * float32(1/s))) + z (reciprocal, half even).

    Clamped to [-128, 127].
    """
    _check_mode(mode)
    x = np.asarray(x, dtype=np.float32)
    s = _f32(s_out)
    if mode == "ref":
        r = round_half_away((x / s).astype(np.float32))
    else:
        r = np.rint((x * (_f32(1.0) / s)).astype(np.float32))
    r = np.clip(r.astype(np.float64) + int(z_out), -128, 127)
    return r.astype(np.int8)


def dequantize(q, s_in, z_in, mode="ref") -> np.ndarray:
    """DEQUANTIZE int8 -> float32 (per tensor).

    - ref and xnnpack: float32(double(s) * (q - z)) (one rounding).
    - builtin: float32(float32(q * s) - float32(z * s)) (two roundings; can differ by 1 ulp).
    """
    _check_mode(mode)
    q = np.asarray(q, dtype=np.int64)
    s = _f32(s_in)
    if mode == "builtin":
        return (q.astype(np.float32) * s).astype(np.float32) - _f32(_f32(int(z_in)) * s)
    return (np.float64(s) * (q - int(z_in))).astype(np.float32)
