"""IR op schemas of dense algebra: Dense, MatMul, Conv, their integer forms, BatchNormalization."""

from __future__ import annotations

from .errors import IRError
from .schema import REQUIRED, op_schema
from .shapes import broadcast_shapes, input_type, spatial_out
from .types import I32, TensorType

_FIXED_ACC = {"accum": ("fixed?", None), "weight_shift": ("ints?", None)}
# [tflite] fused activation of an int8 Dense/Conv: None, "RELU", "RELU6" or "RELU_N1_TO_1" (the output is
# clamped to that range after requantization, as TFLite's fused_activation_function)
_FUSED_ACT = {"activation": ("str?", None)}


@op_schema("Dense", ["x", "weight", "bias?"], {**_FIXED_ACC, **_FUSED_ACT},
           doc="y[..., m] = sum_k x[..., k] * W[k, m] + b[m]; fixed point: accumulated in `accum`, per-channel `weight_shift`")
def _dense(node):
    x, w = input_type(node, 0), input_type(node, 1)
    if w.rank != 2 or x.shape[-1] != w.shape[0]:
        raise IRError(f"Dense node {node.name}: input {x} does not match weight {w}")
    b = node.input(2)
    if b is not None and b.type.shape not in ((w.shape[1],),):
        raise IRError(f"Dense node {node.name}: bias shape {b.type.shape} is not ({w.shape[1]},)")
    return [TensorType(x.elem, x.shape[:-1] + (w.shape[1],))]


@op_schema("MatMul", ["a", "b"], {"accum": ("fixed?", None)},
           doc="numpy matmul; of two activations in fixed point: exact products summed in `accum`")
def _matmul(node):
    a, b = input_type(node, 0), input_type(node, 1)
    sa, sb = a.shape, b.shape
    if len(sa) == 1 and len(sb) == 1:
        return [TensorType(a.elem, ())]
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise IRError(f"MatMul node {node.name}: inner dimensions {ka} and {kb} differ")
    if len(sb) == 1:
        return [TensorType(a.elem, sa[:-1])]
    if len(sa) == 1:
        return [TensorType(a.elem, sb[:-2] + sb[-1:])]
    batch = broadcast_shapes(sa[:-2], sb[:-2])
    return [TensorType(a.elem, batch + (sa[-2], sb[-1]))]


_CONV_ATTRS = {"strides": ("ints", REQUIRED), "pads": ("ints", REQUIRED), "dilations": ("ints", REQUIRED),
               "group": ("int", 1)}
_CONV_FIXED = {**_CONV_ATTRS, "accum": ("fixed?", None), "weight_shift": ("ints?", None)}


def _conv_shape(node, x, w):
    nd = w.rank - 2
    a = node.attrs
    g = a["group"]
    if x.rank != nd + 2 or x.shape[1] != w.shape[1] * g or w.shape[0] % g:
        raise IRError(f"{node.op} node {node.name}: input {x} does not match weight {w} with group {g}")
    spatial = spatial_out(node, x, w.shape[2:], a["strides"], a["dilations"], a["pads"])
    return (x.shape[0], w.shape[0]) + spatial


@op_schema("Conv", ["x", "weight", "bias?"], {**_CONV_FIXED, **_FUSED_ACT},
           doc="N-D convolution (cross-correlation), NC[D]HW")
def _conv(node):
    x, w = input_type(node, 0), input_type(node, 1)
    b = node.input(2)
    if b is not None and b.type.shape != (w.shape[0],):
        raise IRError(f"Conv node {node.name}: bias shape {b.type.shape} is not ({w.shape[0]},)")
    return [TensorType(x.elem, _conv_shape(node, x, w))]


@op_schema("ConvInteger", ["x", "weight", "x_zero_point?", "w_zero_point?"], _CONV_ATTRS,
           doc="integer convolution of (x - x_zp) and (w - w_zp), int32 result")
def _conv_integer(node):
    return [TensorType(I32, _conv_shape(node, input_type(node, 0), input_type(node, 1)))]


@op_schema("MatMulInteger", ["a", "b", "a_zero_point?", "b_zero_point?"], doc="matmul of (a - a_zp)(b - b_zp), int32")
def _matmul_integer(node):
    return [TensorType(I32, _matmul(node)[0].shape)]


@op_schema("BatchNormalization", ["x", "scale", "bias", "mean", "var"], {"epsilon": ("float", 1e-5)},
           doc="y = (x - mean) / sqrt(var + eps) * scale + bias, over channel axis 1")
def _batchnorm(node):
    x = input_type(node, 0)
    c = x.shape[1] if x.rank > 1 else None
    for i in range(1, 5):
        if input_type(node, i).shape != (c,):
            raise IRError(f"BatchNormalization node {node.name}: parameter {i} shape {input_type(node, i).shape} is not ({c},)")
    return [x]
