"""TFLite's (LiteRT's) integer requantization primitives, as its kernels compute them: gemmlowp's fixed-point
multipliers (`quantize_multiplier`, SRDHM, RDBPOT, `multiply_by_quantized_multiplier` and ruy's round-up
variant), XNNPACK's fp32 requantization, and the fused-activation clamp. Rounding vocabulary:
compiler/sim/tflite_arith.py."""

from __future__ import annotations

import numpy as np

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
