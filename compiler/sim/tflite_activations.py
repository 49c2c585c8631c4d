"""Bit-exact numpy models of LiteRT's int8 activation kernels, per op resolver (`mode`): LOGISTIC and TANH
(256-entry tables from the C library's expf/tanhf, as the kernels build them) and SOFTMAX (gemmlowp's
fixed-point exp and reciprocal in the reference kernel, a float table in the optimized one)."""

from __future__ import annotations

import ctypes
import ctypes.util
import math

import numpy as np

from .tflite_requant import (_I32_MAX, _I32_MIN, _check_mode, _f32, quantize_multiplier, round_half_away,
                             rounding_divide_by_pot, saturating_rounding_doubling_high_mul)


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
