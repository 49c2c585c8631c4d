"""IR op schemas of quantization as it arrives (QONNX, ONNX QDQ) and of the fixed-point boundary and rescaling."""

from __future__ import annotations

from .errors import IRError
from .schema import REQUIRED, op_schema
from .shapes import broadcast_shapes, input_type
from .types import FloatType, IntType, TensorType

# ---- quantization as it arrives --------------------------------------------------------------

_QONNX_ROUNDING = ("ROUND", "HALF_EVEN", "CEIL", "FLOOR", "UP", "DOWN", "HALF_UP", "HALF_DOWN")


def _quant_like(node):
    x = input_type(node, 0)
    for i in range(1, len(node.inputs)):
        v = node.inputs[i]
        if v is not None and broadcast_shapes(x.shape, v.type.shape) != x.shape:
            raise IRError(f"{node.op} node {node.name}: parameter {v.name} {v.type.shape} does not broadcast to {x.shape}")
    if node.attrs.get("rounding_mode", "ROUND") not in _QONNX_ROUNDING:
        raise IRError(f"{node.op} node {node.name}: unknown rounding mode {node.attrs['rounding_mode']}")
    return [x]


op_schema("Quant", ["x", "scale", "zero_point"],
          {"bitwidth": ("int", REQUIRED), "signed": ("bool", True), "narrow": ("bool", False), "rounding_mode": ("str", "ROUND")},
          doc="QONNX: q = round(clamp(x/s + z, qmin, qmax)); y = (q - z) * s")(_quant_like)
op_schema("BipolarQuant", ["x", "scale"], doc="QONNX: y = s * (x >= 0 ? 1 : -1)")(_quant_like)
op_schema("Trunc", ["x", "scale", "zero_point", "out_scale?"],
          {"in_bitwidth": ("int", REQUIRED), "out_bitwidth": ("int", REQUIRED), "rounding_mode": ("str", "FLOOR"),
           "signed": ("bool", True), "narrow": ("bool", False)},
          doc="QONNX Trunc. v1 (no out_scale): y = (R(round(x/s + z) / 2^(in - out)) - z) * s; "
              "v2: t = 2^round(log2(out_scale/s)), y = (R(clamp(round(x/s + z) / t)) - z/t) * out_scale")(_quant_like)


def _axis_param_check(node, x, axis):
    for i in (1, 2):
        v = node.input(i)
        if v is None or v.type.rank == 0 or v.type.shape == (1,):
            continue
        if v.type.rank != 1 or x.shape[axis] != v.type.shape[0]:
            raise IRError(f"{node.op} node {node.name}: per-axis parameter {v.type.shape} does not match axis {axis} of {x}")


@op_schema("QuantizeLinear", ["x", "scale", "zero_point?"], {"axis": ("int", 1), "to": ("elem", REQUIRED), "saturate": ("bool", True)},
           doc="ONNX: q = saturate(round_half_even(x / s) + z)")
def _quantize_linear(node):
    x = input_type(node, 0)
    _axis_param_check(node, x, node.attrs["axis"])
    return [x.with_elem(node.attrs["to"])]


@op_schema("DynamicQuantizeLinear", ["x"],
           doc="ONNX: uint8 y, scale s = (max(0, max x) - min(0, min x)) / 255 and zero point z from each "
               "inference's own values (per sample along a batch axis: s and z then have shape (N, 1, ...))")
def _dynamic_quantize_linear(node):
    x = input_type(node, 0)
    p = (None,) + (1,) * (x.rank - 1) if x.batched else ()
    return [x.with_elem(IntType(8, False)), TensorType(x.elem, p), TensorType(IntType(8, False), p)]


@op_schema("DequantizeLinear", ["x", "scale", "zero_point?"], {"axis": ("int", 1)}, doc="ONNX: y = (x - z) * s")
def _dequantize_linear(node):
    x = input_type(node, 0)
    _axis_param_check(node, x, node.attrs["axis"])
    return [x.with_elem(input_type(node, 1).elem)]


@op_schema("Requantize", ["x", "multiplier", "zero_point?"], {"to": ("elem", REQUIRED)},
           doc="ONNX QLinear* output stage: y = saturate(round_half_even(x * M + z)), in float64 (M broadcast)")
def _requantize(node):
    x = input_type(node, 0)
    if broadcast_shapes(x.shape, input_type(node, 1).shape) != x.shape:
        raise IRError(f"Requantize node {node.name}: multiplier {input_type(node, 1).shape} does not broadcast to {x.shape}")
    return [x.with_elem(node.attrs["to"])]


# ---- fixed-point boundary and rescaling ------------------------------------------------------

@op_schema("FromFloat", ["x"], {"scale": ("float?", None)},
           doc="host-side conversion of a real input into the output's FixedType (its rounding, overflow); "
               "with a scale s: of float32(x) / float32(s), as a QONNX input quantizer computes it")
def _from_float(node):
    return [input_type(node, 0)]


@op_schema("ToFloat", ["x"], {"scale": ("floats?", None), "offset": ("floats?", None), "axis": ("int", 1)},
           doc="real value of a fixed-point tensor as float64: m * 2^-f, times scale[c] plus offset[c] per channel "
               "on `axis` when given (the float tail of a model with non-power-of-two scales)")
def _to_float(node):
    return [input_type(node, 0).with_elem(FloatType(64))]


@op_schema("Rescale", ["x", "multiplier", "offset?"], {"axis": ("int", 1)},
           doc="per channel c on `axis`: y = cast(x * M[c] + B[c]) (M, B fixed-point constants)")
def _rescale(node):
    x = input_type(node, 0)
    for i in (1, 2):
        v = node.input(i)
        if v is not None and v.type.shape not in ((), (1,), (x.shape[node.attrs["axis"]],)):
            raise IRError(f"Rescale node {node.name}: parameter {v.type.shape} does not match axis {node.attrs['axis']} of {x}")
    return [x]


#: the quantizer ops of the IR (the front end maps QONNX IntQuant to Quant)
QUANTIZER_OPS = frozenset({"Quant", "BipolarQuant", "Trunc", "QuantizeLinear", "DequantizeLinear"})


def has_quantizers(graph) -> bool:
    """Whether the model carries its own quantizers (QONNX or QDQ) rather than being float."""
    return any(n.op in QUANTIZER_OPS for n in graph.nodes)
