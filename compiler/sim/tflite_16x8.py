"""TFLite's 16x8 mode (`--abits 16`): int16 activations (symmetric, zero point 0), int8 weights, int64 biases,
as LiteRT (ai-edge-litert 2.3.0) computes it. XNNPACK takes no int16 operator, so every resolver runs the
reference integer kernels and the three modes are one (measured: tests/backends/test_tflite_16x8.py).

- FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D: acc = Σ x·w + b exactly in int64; per output channel
  M = double(s_in)·double(s_w[c]) / double(s_out), (q, e) = QuantizeMultiplier(M), and the int64
  MultiplyByQuantizedMultiplier rounds once, half up: out = (acc·q + 2^(30-e)) >> (31-e); then the fused
  activation's clamp in int16 (RELU: [0, 32767]; RELU6: up to round_half_away(6/s)).
- MAX_POOL_2D: the maximum over in-bounds taps (input and output parameters equal); RELU: max(x, 0);
  AVERAGE_POOL_2D: the int8 kernel's rounding division (half away from zero), clamped to int16.
The host converts float32 to int16 codes as q = clip(rint(x / s), -32768, 32767) and back as s·q."""

from __future__ import annotations

import numpy as np

from .tflite_requant import _f32, quantize_multiplier, round_half_away

I16_MIN, I16_MAX = -(1 << 15), (1 << 15) - 1


def requantize(acc, s_in, s_w, s_out, reduced: bool = False) -> np.ndarray:
    """int64 accumulators [..., C] -> codes before the clamp: one rounding, half up (per channel C).
    reduced: the int64 MultiplyByQuantizedMultiplier of CONV_2D/DEPTHWISE_CONV_2D, which first rounds the
    multiplier to 16 bits: m16 = (q + 2^15) >> 16 (0x7FFF from q >= 0x7FFF0000), then (acc·m16 + 2^(14-e)) >> (15-e)."""
    M = np.float64(_f32(s_in)) * np.asarray(s_w, np.float32).astype(np.float64) / np.float64(_f32(s_out))
    q, e = quantize_multiplier(M)
    q, e = np.asarray(q, np.int64), np.asarray(e, np.int64)
    acc = np.asarray(acc, np.int64)
    if reduced:
        m16 = np.where(q < 0x7FFF0000, (q + (1 << 15)) >> 16, 0x7FFF)
        shift = 15 - e
        return (acc * m16 + (np.int64(1) << (shift - 1))) >> shift
    shift = 31 - e
    return (acc * q + (np.int64(1) << (shift - 1))) >> shift


def activation_range(activation: str | None, s_out: float) -> tuple[int, int]:
    """The fused activation's clamp in int16 codes (zero point 0)."""
    s = _f32(s_out)

    def q(v: float) -> int:
        return int(round_half_away(_f32(v) / s))

    lo, hi = {None: (I16_MIN, I16_MAX), "NONE": (I16_MIN, I16_MAX), "RELU": (0, I16_MAX),
              "RELU6": (0, min(I16_MAX, q(6.0))), "RELU_N1_TO_1": (max(I16_MIN, q(-1.0)), min(I16_MAX, q(1.0)))}[activation]
    return lo, hi


def finish(r, activation, s_out) -> np.ndarray:
    lo, hi = activation_range(activation, s_out)
    return np.clip(r, lo, hi).astype(np.int16)


def quantize_host(x, s) -> np.ndarray:
    return np.clip(np.rint(np.asarray(x, np.float64) / np.float64(_f32(s))), I16_MIN, I16_MAX).astype(np.int16)


def max_pool(x_nhwc, kernel, strides, padding) -> np.ndarray:
    """MAX_POOL_2D over the in-bounds taps of an NHWC int16 tensor."""
    from .tflite_layers import _patches

    pat, _ = _patches(np.asarray(x_nhwc, np.int64), kernel[0], kernel[1], strides, padding, (1, 1), -(1 << 20))
    return pat.max(axis=(3, 4)).astype(np.int16)


def average_pool(x_nhwc, kernel, strides, padding) -> np.ndarray:
    """AVERAGE_POOL_2D of an NHWC int16 tensor: the int8 kernel's arithmetic (sum over the n in-bounds taps,
    (acc ± n/2) / n truncated: half away from zero), clamped to int16."""
    from .tflite_layers import _patches

    pat, mask = _patches(np.asarray(x_nhwc, np.int64), kernel[0], kernel[1], strides, padding, (1, 1), 0)
    acc = pat.sum(axis=(3, 4))
    n = mask.sum(axis=(2, 3)).astype(np.int64)[None, :, :, None]
    num = np.where(acc > 0, acc + n // 2, acc - n // 2)
    return np.clip(np.sign(num) * (np.abs(num) // n), I16_MIN, I16_MAX).astype(np.int16)
