"""Bit-exact numpy models of LiteRT's int8 layer and data-movement kernels, per op resolver (`mode`):
FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D, pools, MEAN, ADD, MUL, CONCATENATION, RESHAPE, PAD, QUANTIZE,
DEQUANTIZE (conventions: compiler/sim/tflite_arith.py)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .tflite_requant import (_check_mode, _f32, _f32s, _finish, _requantize_f64_half_away,
                             multiply_by_quantized_multiplier, multiply_by_quantized_multiplier_round_up,
                             quantize_multiplier, requantize_fp32, round_half_away)


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
