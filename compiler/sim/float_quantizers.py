"""Float simulator, quantizers: exact, operation by operation in float32 as their references compute them
(QONNX's `int_quant`, ONNX's QuantizeLinear), so outputs are equal to qonnx's and onnxruntime's."""

from __future__ import annotations

import numpy as np

from .arrays import channel_shape, out_dtype


def _round(mode: str, y: np.ndarray) -> np.ndarray:
    """QONNX rounding modes, as qonnx.custom_op.general.intquant.resolve_rounding_mode."""
    if mode in ("ROUND", "HALF_EVEN"):
        return np.round(y)
    if mode == "CEIL":
        return np.ceil(y)
    if mode == "FLOOR":
        return np.floor(y)
    if mode == "UP":
        return np.sign(y) * np.ceil(np.abs(y))
    if mode == "DOWN":
        return np.fix(y)
    if mode == "HALF_UP":
        return np.sign(y) * np.floor(np.abs(y) + 0.5)
    if mode == "HALF_DOWN":
        return np.sign(y) * np.ceil(np.abs(y) - 0.5)
    raise ValueError(mode)


def qonnx_int_range(bitwidth: int, signed: bool, narrow: bool) -> tuple[int, int]:
    lo = -(1 << (bitwidth - 1)) + int(narrow) if signed else 0
    hi = (1 << (bitwidth - 1)) - 1 if signed else (1 << bitwidth) - 1 - int(narrow)
    return lo, hi


def quant(node, x, scale, zp):
    """q = round(clamp(x/s + z, qmin, qmax)); y = (q - z) * s; bitwidth 1 signed = bipolar (as qonnx)."""
    a = node.attrs
    y = x / scale
    y = y + zp
    if a["bitwidth"] == 1 and a["signed"]:
        ones = np.ones(y.shape, dtype=y.dtype)
        y = np.where(y >= 0.0, ones, -ones)
    else:
        lo, hi = qonnx_int_range(a["bitwidth"], a["signed"], a["narrow"])
        y = np.where(y > hi, np.asarray(hi).astype(y.dtype), y)
        y = np.where(y < lo, np.asarray(lo).astype(y.dtype), y)
        y = _round(a["rounding_mode"], y)
    return ((y - zp) * scale).astype(out_dtype(node))


def bipolar_quant(node, x, scale):
    ones = np.ones(x.shape, dtype=x.dtype)
    return (np.where(x >= 0.0, ones, -ones) * scale).astype(out_dtype(node))


def trunc(node, x, scale, zp, out_scale=None):
    """QONNX Trunc v1 and v2 (see the IR schema), step for step as qonnx computes them."""
    a = node.attrs
    y = np.round(x / scale + zp)
    if out_scale is None:
        y = y / np.asarray(2.0 ** (a["in_bitwidth"] - a["out_bitwidth"]), np.float32)
        y = _round(a["rounding_mode"], y)
        return ((y - zp) * scale).astype(out_dtype(node))
    t = 2 ** np.round(np.log2(out_scale / scale))
    y = y / t
    lo, hi = qonnx_int_range(a["out_bitwidth"], a["signed"], a["narrow"])
    y = np.where(y > hi, np.asarray(hi).astype(y.dtype), y)
    y = np.where(y < lo, np.asarray(lo).astype(y.dtype), y)
    y = _round(a["rounding_mode"], y)
    return ((y - zp / t) * out_scale).astype(out_dtype(node))


def quantize_linear(node, x, scale, zp=None):
    """q = saturate(round_half_even(x / s) + z), computed as ONNX's reference does (float32 divide)."""
    a = node.attrs
    dt = out_dtype(node)
    s = channel_shape(scale, x.ndim, a["axis"])
    q = np.rint(x / s).astype(np.int64)
    if zp is not None:
        q = q + channel_shape(zp.astype(np.int64), x.ndim, a["axis"])
    info = np.iinfo(dt)
    if a["saturate"]:
        q = np.clip(q, info.min, info.max)
    return q.astype(dt)


def dynamic_quantize_linear(node, x):
    """As onnxruntime: s = (max(0, max x) - min(0, min x)) / 255 in float32 (1 when both are 0; ONNX's
    reference evaluator gives 1/255 there, which changes nothing else as x is then all zero),
    z = rint(clamp(0 - min/s, 0, 255)), y = clamp(rint(x / s) + z, 0, 255); per sample when batched."""
    batched = node.inputs[0].type.batched
    axes = tuple(range(1, x.ndim)) if batched else None
    f32 = np.float32
    hi = np.maximum(f32(0), x.max(axis=axes, keepdims=batched)).astype(f32)
    lo = np.minimum(f32(0), x.min(axis=axes, keepdims=batched)).astype(f32)
    s = np.where(hi == lo, f32(1), (hi - lo) / f32(255)).astype(f32)
    z = np.rint(np.clip(f32(0) - lo / s, 0, 255)).astype(f32)
    y = np.clip(np.rint(x.astype(f32) / s) + z, 0, 255)
    return y.astype(np.uint8), s.astype(x.dtype), z.astype(np.uint8)


def dequantize_linear(node, x, scale, zp=None):
    a = node.attrs
    s = channel_shape(scale, x.ndim, a["axis"])
    xf = x.astype(np.float32)
    if zp is not None:
        xf = xf - channel_shape(zp, x.ndim, a["axis"]).astype(np.float32)
    return (xf * s).astype(out_dtype(node))


def requantize(node, x, multiplier, zp=None):
    """y = saturate(rint(x * M + z)) in float64, as ONNX's QLinearConv/QLinearMatMul reference."""
    dt = out_dtype(node)
    r = x.astype(np.float64) * multiplier.astype(np.float64)
    if zp is not None:
        r = r + zp.astype(np.float64)
    info = np.iinfo(dt)
    return np.clip(np.rint(r), info.min, info.max).astype(dt)
