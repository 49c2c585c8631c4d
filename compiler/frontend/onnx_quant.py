"""ONNX → IR handlers for quantization as it arrives: QONNX (Quant/IntQuant, BipolarQuant, Trunc)
and ONNX QDQ (QuantizeLinear, DequantizeLinear, QLinearConv, QLinearMatMul, MatMulInteger,
ConvInteger). The IR keeps each quantizer as a node with its exact formula (see `ir/ops.py`).
"""

from __future__ import annotations

import numpy as np
import onnx

from ..ir.types import F32, elem_from_numpy, IntType
from .context import Ctx
from .onnx_attrs import spatial_attrs

_QDQ_TYPES = {np.dtype(t) for t in (np.int8, np.uint8, np.int16, np.uint16, np.int32)}


def _int_attr(ctx: Ctx, v, what) -> int:
    arr = ctx.need_const(v, what)
    a = np.asarray(arr).reshape(-1)
    if a.size != 1:
        raise ctx.fail(f"{what} must be one number, got {a.size}")
    f = float(a[0])
    if not np.isfinite(f) or f != int(f) or f < 1 or f > 64:
        raise ctx.fail(f"{what} must be an integer in 1..64, got {f}")
    return int(f)


def Quant(ctx: Ctx, X, scale, zeropt, bitwidth, *, signed=1, narrow=0, rounding_mode="ROUND"):
    """QONNX Quant / IntQuant: q = round(clamp(x/s + z, qmin, qmax)), y = (q - z) s (1-bit signed = bipolar)."""
    return ctx.emit("Quant", [X, scale, zeropt], bitwidth=_int_attr(ctx, bitwidth, "Quant bitwidth"),
                    signed=bool(signed), narrow=bool(narrow), rounding_mode=str(rounding_mode).upper())


IntQuant = Quant


def BipolarQuant(ctx: Ctx, X, scale):
    return ctx.emit("BipolarQuant", [X, scale])


def Trunc(ctx: Ctx, X, scale, zeropt, input_bit_width, *rest, rounding_mode="FLOOR", signed=1, narrow=0):
    """v1: (X, scale, zeropt, in_bw, out_bw); v2: (X, scale, zeropt, in_bw, out_scale, out_bw)."""
    if len(rest) == 1:
        out_scale, out_bw = None, rest[0]
    elif len(rest) == 2:
        out_scale, out_bw = rest
    else:
        raise ctx.fail(f"Trunc takes 5 or 6 inputs, got {4 + len(rest)}")
    inputs = [X, scale, zeropt] + ([out_scale] if out_scale is not None else [])
    return ctx.emit("Trunc", inputs, in_bitwidth=_int_attr(ctx, input_bit_width, "Trunc input bit width"),
                    out_bitwidth=_int_attr(ctx, out_bw, "Trunc output bit width"), rounding_mode=str(rounding_mode).upper(),
                    signed=bool(signed), narrow=bool(narrow))


def _qdq_axis(ctx: Ctx, x, scale, axis):
    s = scale.type
    if s.rank == 0 or s.shape == (1,):
        return 1
    if s.rank != 1:
        raise ctx.fail("blocked quantization is not supported (scale must be a scalar or 1-D)")
    return axis % x.type.rank


def QuantizeLinear(ctx: Ctx, x, y_scale, y_zero_point=None, *, axis=1, saturate=1, output_dtype=0, block_size=0,
                   precision=0):
    if block_size:
        raise ctx.fail("blocked quantization is not supported")
    if y_zero_point is not None:
        dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(_onnx_elem(y_zero_point)))
    elif output_dtype:
        dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(output_dtype))
    else:
        dtype = np.dtype(np.uint8)
    if dtype not in _QDQ_TYPES:
        raise ctx.fail(f"quantization to {dtype} is not supported (int8, uint8, int16, uint16, int32 are)")
    return ctx.emit("QuantizeLinear", [x, y_scale, y_zero_point], axis=_qdq_axis(ctx, x, y_scale, axis),
                    to=elem_from_numpy(dtype), saturate=bool(saturate))


def DequantizeLinear(ctx: Ctx, x, x_scale, x_zero_point=None, *, axis=1, block_size=0, output_dtype=0):
    if block_size:
        raise ctx.fail("blocked quantization is not supported")
    if np.dtype(x.type.elem.numpy_dtype if isinstance(x.type.elem, IntType) else np.float32) not in _QDQ_TYPES:
        raise ctx.fail(f"dequantization of {x.type.elem} is not supported")
    return ctx.emit("DequantizeLinear", [x, x_scale, x_zero_point], axis=_qdq_axis(ctx, x, x_scale, axis))


def _onnx_elem(v) -> int:
    return onnx.helper.np_dtype_to_tensor_dtype(v.type.elem.numpy_dtype)


def _requantize(ctx: Ctx, acc, a_scale, b_scale, y_scale, y_zero_point, out_dtype, channel_axis):
    """M = a_scale * b_scale / y_scale in float32 (as the ONNX reference computes it), broadcast per channel."""
    sa, sb, sy = (np.asarray(ctx.need_const(v, "QLinear scale"), np.float32) for v in (a_scale, b_scale, y_scale))
    m = (sa * sb / sy).astype(np.float32)
    if m.size > 1 and channel_axis is not None:
        m = m.reshape((-1,) + (1,) * (acc.type.rank - 1 - channel_axis))
    to = elem_from_numpy(y_zero_point.type.elem.numpy_dtype if y_zero_point is not None else out_dtype)
    return ctx.emit("Requantize", [acc, ctx.constant(m, f"{ctx.name}_multiplier"), y_zero_point], to=to)


def QLinearConv(ctx: Ctx, x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B=None, *,
                auto_pad="NOTSET", dilations=None, group=1, kernel_shape=None, pads=None, strides=None):
    """ConvInteger(x - xz, w - wz) + B, then Requantize by x_scale * w_scale / y_scale."""
    acc = ConvInteger(ctx, x, w, x_zero_point, w_zero_point, auto_pad=auto_pad, dilations=dilations, group=group,
                      kernel_shape=kernel_shape, pads=pads, strides=strides)
    if B is not None:
        b = ctx.const(B)
        bias = ctx.constant(b.reshape((-1,) + (1,) * (acc.type.rank - 2)), f"{ctx.name}_bias") if b is not None else B
        acc = ctx.emit("Add", [acc, bias])
    return _requantize(ctx, acc, x_scale, w_scale, y_scale, y_zero_point, x.type.elem.numpy_dtype, 1)


def QLinearMatMul(ctx: Ctx, a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point):
    acc = MatMulInteger(ctx, a, b, a_zero_point, b_zero_point)
    return _requantize(ctx, acc, a_scale, b_scale, y_scale, y_zero_point, a.type.elem.numpy_dtype, None)


def DynamicQuantizeLinear(ctx: Ctx, x):
    node = ctx.graph.add_node("DynamicQuantizeLinear", [x], name=ctx.name, num_outputs=3)
    return tuple(node.outputs)


def MatMulInteger(ctx: Ctx, A, B, a_zero_point=None, b_zero_point=None):
    return ctx.emit("MatMulInteger", [A, B, a_zero_point, b_zero_point])


def ConvInteger(ctx: Ctx, x, w, x_zero_point=None, w_zero_point=None, *, auto_pad="NOTSET", dilations=None, group=1,
                kernel_shape=None, pads=None, strides=None):
    kernel = list(kernel_shape or w.type.shape[2:])
    s, p, d = spatial_attrs(ctx, x.type, kernel, strides, pads, dilations, auto_pad)
    return ctx.emit("ConvInteger", [x, w, x_zero_point, w_zero_point], strides=s, pads=p, dilations=d, group=int(group))


HANDLERS = {
    "Quant": Quant, "IntQuant": IntQuant, "BipolarQuant": BipolarQuant, "Trunc": Trunc,
    "QuantizeLinear": QuantizeLinear, "DequantizeLinear": DequantizeLinear, "QLinearConv": QLinearConv,
    "QLinearMatMul": QLinearMatMul, "MatMulInteger": MatMulInteger, "ConvInteger": ConvInteger,
    "DynamicQuantizeLinear": DynamicQuantizeLinear,
}
