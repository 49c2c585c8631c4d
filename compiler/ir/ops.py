"""IR op schemas: inputs, typed attributes with defaults, and output type inference.

Every IR op has exactly one schema here. The front end normalises ONNX (all opset versions) into
these ops with explicit attributes, so passes, the simulator and the backends never look at opsets.
Shapes use `None` for the batch dimension; broadcasting treats `None` like any size that matches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from .graph import IRError, Node
from .types import F32, I32, AffineType, FixedType, FloatType, IntType, TensorType

# attribute kinds: a validator per kind
_KINDS: dict[str, Callable[[Any], bool]] = {
    "int": lambda a: isinstance(a, int) and not isinstance(a, bool),
    "float": lambda a: isinstance(a, (int, float)) and not isinstance(a, bool),
    "bool": lambda a: isinstance(a, bool),
    "str": lambda a: isinstance(a, str),
    "str?": lambda a: a is None or isinstance(a, str),  # [tflite] optional string (fused activation)
    "ints": lambda a: isinstance(a, (list, tuple)) and all(isinstance(x, int) for x in a),
    "floats": lambda a: isinstance(a, (list, tuple)) and all(isinstance(x, (int, float)) for x in a),
    "shape": lambda a: isinstance(a, (list, tuple)) and all(x is None or isinstance(x, int) for x in a),
    "float?": lambda a: a is None or (isinstance(a, (int, float)) and not isinstance(a, bool)),
    "int?": lambda a: a is None or isinstance(a, int),
    # [tflite] AffineType: a Cast between affine types is a requantization
    "elem": lambda a: isinstance(a, (FloatType, IntType, FixedType, AffineType)),
    "fixed?": lambda a: a is None or isinstance(a, FixedType),
    "ints?": lambda a: a is None or isinstance(a, (list, tuple)) and all(isinstance(x, int) for x in a),
    "floats?": lambda a: a is None or isinstance(a, (list, tuple)) and all(isinstance(x, (int, float)) for x in a),
    "any": lambda a: True,
}

REQUIRED = object()


@dataclass
class OpSchema:
    name: str
    inputs: tuple[str, ...]  # a trailing '?' marks an optional input, a trailing '*' a variadic one
    attrs: dict[str, tuple[str, Any]] = field(default_factory=dict)  # name -> (kind, default or REQUIRED)
    infer: Callable[[Node], list[TensorType]] | None = None
    doc: str = ""

    @property
    def min_inputs(self) -> int:
        return sum(1 for i in self.inputs if not i.endswith(("?", "*")))

    @property
    def max_inputs(self) -> float:
        return math.inf if any(i.endswith("*") for i in self.inputs) else len(self.inputs)


SCHEMAS: dict[str, OpSchema] = {}


def _schema(name, inputs, attrs=None, doc=""):
    def register(fn):
        SCHEMAS[name] = OpSchema(name, tuple(inputs), dict(attrs or {}), fn, doc)
        return fn
    return register


# ---- shape helpers ---------------------------------------------------------------------------

def _t(node: Node, i: int) -> TensorType:
    v = node.inputs[i]
    if v is None:
        raise IRError(f"{node.op} node {node.name}: input {i} is missing")
    return v.type


def broadcast_shapes(*shapes) -> tuple:
    """numpy broadcasting; a None (batch) dimension broadcasts with 1 and with None."""
    rank = max(len(s) for s in shapes)
    out = []
    for dims in zip(*[(1,) * (rank - len(s)) + tuple(s) for s in shapes]):
        if None in dims:
            if any(d not in (None, 1) for d in dims):
                raise IRError(f"cannot broadcast shapes {shapes}: batch dimension against a fixed size")
            out.append(None)
            continue
        big = {d for d in dims if d != 1}
        if len(big) > 1:
            raise IRError(f"cannot broadcast shapes {shapes}")
        out.append(big.pop() if big else 1)
    return tuple(out)


def pool_out(size: int, k: int, s: int, d: int, pb: int, pe: int, ceil_mode: bool = False) -> int:
    """Output length of a sliding window (ONNX/PyTorch rule, including ceil_mode's last-window check)."""
    span = size + pb + pe - d * (k - 1) - 1
    if span < 0:
        raise IRError(f"window {k} (dilation {d}) larger than padded input {size + pb + pe}")
    if not ceil_mode:
        return span // s + 1
    out = -(-span // s) + 1
    if (out - 1) * s >= size + pb:  # the last window would start in the end padding
        out -= 1
    return out


def _same(node: Node) -> list[TensorType]:
    return [_t(node, 0)]


def _binary(node: Node) -> list[TensorType]:
    a, b = _t(node, 0), _t(node, 1)
    return [TensorType(a.elem, broadcast_shapes(a.shape, b.shape))]


def _window_attrs(spatial_rank_attr=True):
    return {"kernel_shape": ("ints", REQUIRED), "strides": ("ints", REQUIRED), "pads": ("ints", REQUIRED)}


def _spatial(node: Node, x: TensorType, kernel, strides, dilations, pads, ceil_mode=False):
    nd = len(kernel)
    if x.rank != nd + 2:
        raise IRError(f"{node.op} node {node.name}: input rank {x.rank} does not match a {nd}-D kernel")
    return tuple(pool_out(x.shape[2 + i], kernel[i], strides[i], dilations[i], pads[i], pads[nd + i], ceil_mode)
                 for i in range(nd))


# ---- dense algebra ---------------------------------------------------------------------------

_FIXED_ACC = {"accum": ("fixed?", None), "weight_shift": ("ints?", None)}
# [tflite] fused activation of an int8 Dense/Conv: None, "RELU", "RELU6" or "RELU_N1_TO_1" (the output is
# clamped to that range after requantization, as TFLite's fused_activation_function)
_FUSED_ACT = {"activation": ("str?", None)}


@_schema("Dense", ["x", "weight", "bias?"], {**_FIXED_ACC, **_FUSED_ACT},
         doc="y[..., m] = sum_k x[..., k] * W[k, m] + b[m]; fixed point: accumulated in `accum`, per-channel `weight_shift`")
def _dense(node):
    x, w = _t(node, 0), _t(node, 1)
    if w.rank != 2 or x.shape[-1] != w.shape[0]:
        raise IRError(f"Dense node {node.name}: input {x} does not match weight {w}")
    b = node.input(2)
    if b is not None and b.type.shape not in ((w.shape[1],),):
        raise IRError(f"Dense node {node.name}: bias shape {b.type.shape} is not ({w.shape[1]},)")
    return [TensorType(x.elem, x.shape[:-1] + (w.shape[1],))]


@_schema("MatMul", ["a", "b"], doc="numpy matmul")
def _matmul(node):
    a, b = _t(node, 0), _t(node, 1)
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
    spatial = _spatial(node, x, w.shape[2:], a["strides"], a["dilations"], a["pads"])
    return (x.shape[0], w.shape[0]) + spatial


@_schema("Conv", ["x", "weight", "bias?"], {**_CONV_FIXED, **_FUSED_ACT},
         doc="N-D convolution (cross-correlation), NC[D]HW")
def _conv(node):
    x, w = _t(node, 0), _t(node, 1)
    b = node.input(2)
    if b is not None and b.type.shape != (w.shape[0],):
        raise IRError(f"Conv node {node.name}: bias shape {b.type.shape} is not ({w.shape[0]},)")
    return [TensorType(x.elem, _conv_shape(node, x, w))]


@_schema("ConvInteger", ["x", "weight", "x_zero_point?", "w_zero_point?"], _CONV_ATTRS,
         doc="integer convolution of (x - x_zp) and (w - w_zp), int32 result")
def _conv_integer(node):
    return [TensorType(I32, _conv_shape(node, _t(node, 0), _t(node, 1)))]


@_schema("MatMulInteger", ["a", "b", "a_zero_point?", "b_zero_point?"], doc="matmul of (a - a_zp)(b - b_zp), int32")
def _matmul_integer(node):
    return [TensorType(I32, _matmul(node)[0].shape)]


@_schema("BatchNormalization", ["x", "scale", "bias", "mean", "var"], {"epsilon": ("float", 1e-5)},
         doc="y = (x - mean) / sqrt(var + eps) * scale + bias, over channel axis 1")
def _batchnorm(node):
    x = _t(node, 0)
    c = x.shape[1] if x.rank > 1 else None
    for i in range(1, 5):
        if _t(node, i).shape != (c,):
            raise IRError(f"BatchNormalization node {node.name}: parameter {i} shape {_t(node, i).shape} is not ({c},)")
    return [x]


# ---- elementwise -----------------------------------------------------------------------------

_TABLE = {"table_bits": ("int?", None), "range_bits": ("int?", None)}

for _name, _attrs, _doc in [
    ("Relu", {}, "max(x, 0)"),
    ("LeakyRelu", {"alpha": ("float", 0.01), "param_type": ("fixed?", None)}, "x if x >= 0 else alpha * x"),
    ("Clip", {"min": ("float?", None), "max": ("float?", None)}, "min(max(x, min), max)"),
    ("Sigmoid", {"table_bits": ("int?", None), "range_bits": ("int?", None)}, "1 / (1 + exp(-x)); fixed point: a table"),
    ("HardSigmoid", {"alpha": ("float", 0.2), "beta": ("float", 0.5), "param_type": ("fixed?", None)},
     "max(0, min(1, alpha * x + beta))"),
    ("Tanh", {"table_bits": ("int?", None), "range_bits": ("int?", None)}, "tanh(x); fixed point: a table"),
    ("Selu", {"alpha": ("float", 1.67326319217681884765625), "gamma": ("float", 1.05070102214813232421875), **_TABLE},
     "gamma * (x if x > 0 else alpha * (exp(x) - 1)); fixed point: a table over x's range"),
    ("Elu", {"alpha": ("float", 1.0), **_TABLE}, "x if x > 0 else alpha * (exp(x) - 1); fixed point: a table over x's range"),
    ("Softplus", dict(_TABLE), "log(1 + exp(x)); fixed point: a table over x's range"),
    ("HardSwish", dict(_TABLE), "x * max(0, min(1, x / 6 + 1/2)); fixed point: a table over x's range"),
    ("Swish", {"alpha": ("float", 1.0), **_TABLE}, "x * sigmoid(alpha * x) (SiLU: alpha 1); fixed point: a table over x's range"),
    ("Gelu", {"approximate": ("str", "none"), **_TABLE},
     "x * Phi(x) (approximate 'tanh': the tanh formula); fixed point: a table over x's range"),
    ("Bipolar", {}, "x >= 0 ? +1 : -1 (a binarised activation; fixed point: mantissas +-1 in a 2-bit signed type)"),
    ("Identity", {}, "x"),
    ("Dropout", {}, "x (inference)"),
]:
    _schema(_name, ["x"], _attrs, _doc)(_same)


@_schema("Softmax", ["x"], {"axis": ("int", REQUIRED), "exp_type": ("fixed?", None), "exp_table_bits": ("int?", None),
                             "exp_range_bits": ("int?", None), "inv_type": ("fixed?", None), "inv_table_bits": ("int?", None),
                             "inv_range_bits": ("int?", None)},
         doc="exp(x - max) / sum(exp(x - max)) along axis; fixed point: exp and 1/x tables")
def _softmax(node):
    x = _t(node, 0)
    if not -x.rank <= node.attrs["axis"] < x.rank:
        raise IRError(f"Softmax node {node.name}: axis {node.attrs['axis']} out of range for {x}")
    return [x]


@_schema("PRelu", ["x", "slope"], {"param_type": ("fixed?", None)},
         doc="x if x >= 0 else slope * x (slope broadcast); fixed point: one slope per channel of param_type")
def _prelu(node):
    x, s = _t(node, 0), _t(node, 1)
    if broadcast_shapes(x.shape, s.shape) != x.shape:
        raise IRError(f"PRelu node {node.name}: slope {s.shape} does not broadcast to {x.shape}")
    return [x]


for _name in ("Add", "Sub", "Mul", "Div"):
    _schema(_name, ["a", "b"], doc=f"numpy-broadcast {_name}")(_binary)


@_schema("Cast", ["x"], {"to": ("elem", REQUIRED)}, doc="numeric conversion (C semantics: float->int truncates)")
def _cast(node):
    return [_t(node, 0).with_elem(node.attrs["to"])]


# ---- pooling ---------------------------------------------------------------------------------

@_schema("MaxPool", ["x"], {**_window_attrs(), "dilations": ("ints", REQUIRED), "ceil_mode": ("bool", False)},
         doc="max over each window; padding never wins")
def _maxpool(node):
    x = _t(node, 0)
    a = node.attrs
    return [x.with_shape(x.shape[:2] + _spatial(node, x, a["kernel_shape"], a["strides"], a["dilations"], a["pads"], a["ceil_mode"]))]


@_schema("AveragePool", ["x"], {**_window_attrs(), "ceil_mode": ("bool", False), "count_include_pad": ("bool", False),
                                "recip_bits": ("int?", None)},
         doc="mean over each window; divisor counts padding only with count_include_pad (never the ceil_mode overhang)")
def _avgpool(node):
    x = _t(node, 0)
    a = node.attrs
    ones = [1] * len(a["kernel_shape"])
    return [x.with_shape(x.shape[:2] + _spatial(node, x, a["kernel_shape"], a["strides"], ones, a["pads"], a["ceil_mode"]))]


def _global_pool(node):
    x = _t(node, 0)
    return [x.with_shape(x.shape[:2] + (1,) * (x.rank - 2))]


_schema("GlobalAveragePool", ["x"], {"recip_bits": ("int?", None)}, doc="mean over all spatial axes (kept as size 1)")(_global_pool)
_schema("GlobalMaxPool", ["x"], doc="max over all spatial axes (kept as size 1)")(_global_pool)


# ---- data movement ---------------------------------------------------------------------------

@_schema("Concat", ["inputs*"], {"axis": ("int", REQUIRED)}, doc="concatenate along axis")
def _concat(node):
    ts = [_t(node, i) for i in range(len(node.inputs))]
    axis = node.attrs["axis"] % ts[0].rank
    for t in ts[1:]:
        if t.rank != ts[0].rank or any(a != b for i, (a, b) in enumerate(zip(t.shape, ts[0].shape)) if i != axis):
            raise IRError(f"Concat node {node.name}: shapes {[t.shape for t in ts]} differ off axis {axis}")
    if any(t.shape[axis] is None for t in ts):
        raise IRError(f"Concat node {node.name}: cannot concatenate along the batch axis")
    return [ts[0].with_shape(ts[0].shape[:axis] + (sum(t.shape[axis] for t in ts),) + ts[0].shape[axis + 1:])]


@_schema("Reshape", ["x"], {"shape": ("shape", REQUIRED)},
         doc="reshape (row-major) to `shape`; a None entry is the batch and must stay the leading axis")
def _reshape(node):
    x = _t(node, 0)
    shape = tuple(node.attrs["shape"])
    fixed_in = math.prod(d for d in x.shape if d is not None)
    fixed_out = math.prod(d for d in shape if d is not None)
    if (None in x.shape) != (None in shape) or fixed_in != fixed_out:
        raise IRError(f"Reshape node {node.name}: cannot reshape {x} to {shape}")
    if None in shape and (shape.index(None) != 0 or x.shape.index(None) != 0):
        raise IRError(f"Reshape node {node.name}: the batch must stay the leading axis")
    return [x.with_shape(shape)]


@_schema("Transpose", ["x"], {"perm": ("ints", REQUIRED)}, doc="permute axes")
def _transpose(node):
    x = _t(node, 0)
    perm = node.attrs["perm"]
    if sorted(perm) != list(range(x.rank)):
        raise IRError(f"Transpose node {node.name}: perm {perm} is not a permutation of {x.rank} axes")
    return [x.with_shape(tuple(x.shape[p] for p in perm))]


@_schema("Pad", ["x"], {"pads": ("ints", REQUIRED), "mode": ("str", "constant"), "value": ("float", 0.0)},
         doc="pad (begins..., ends...) with a constant, the edge value or a reflection")
def _pad(node):
    x = _t(node, 0)
    pads = node.attrs["pads"]
    r = x.rank
    if len(pads) != 2 * r or node.attrs["mode"] not in ("constant", "edge", "reflect"):
        raise IRError(f"Pad node {node.name}: pads {pads} / mode {node.attrs['mode']} invalid for {x}")
    shape = []
    for i, d in enumerate(x.shape):
        if d is None:
            if pads[i] or pads[r + i]:
                raise IRError(f"Pad node {node.name}: cannot pad the batch axis")
            shape.append(None)
        else:
            shape.append(d + pads[i] + pads[r + i])
    return [x.with_shape(tuple(shape))]


@_schema("Resize", ["x"], {"scales": ("floats", REQUIRED), "shape": ("shape", REQUIRED),
                            "coordinate_transformation_mode": ("str", "half_pixel"),
                            "nearest_mode": ("str", "round_prefer_floor")},
         doc="nearest-neighbour resize to `shape` (ONNX coordinate transform and nearest mode)")
def _resize(node):
    x = _t(node, 0)
    shape = tuple(node.attrs["shape"])
    if len(shape) != x.rank or any((a is None) != (b is None) for a, b in zip(shape, x.shape)):
        raise IRError(f"Resize node {node.name}: output shape {shape} does not fit {x}")
    return [x.with_shape(shape)]


# ---- quantization as it arrives --------------------------------------------------------------

_QONNX_ROUNDING = ("ROUND", "HALF_EVEN", "CEIL", "FLOOR", "UP", "DOWN", "HALF_UP", "HALF_DOWN")


def _quant_like(node):
    x = _t(node, 0)
    for i in range(1, len(node.inputs)):
        v = node.inputs[i]
        if v is not None and broadcast_shapes(x.shape, v.type.shape) != x.shape:
            raise IRError(f"{node.op} node {node.name}: parameter {v.name} {v.type.shape} does not broadcast to {x.shape}")
    if node.attrs.get("rounding_mode", "ROUND") not in _QONNX_ROUNDING:
        raise IRError(f"{node.op} node {node.name}: unknown rounding mode {node.attrs['rounding_mode']}")
    return [x]


_schema("Quant", ["x", "scale", "zero_point"],
        {"bitwidth": ("int", REQUIRED), "signed": ("bool", True), "narrow": ("bool", False), "rounding_mode": ("str", "ROUND")},
        doc="QONNX: q = round(clamp(x/s + z, qmin, qmax)); y = (q - z) * s")(_quant_like)
_schema("BipolarQuant", ["x", "scale"], doc="QONNX: y = s * (x >= 0 ? 1 : -1)")(_quant_like)
_schema("Trunc", ["x", "scale", "zero_point", "out_scale?"],
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


@_schema("QuantizeLinear", ["x", "scale", "zero_point?"], {"axis": ("int", 1), "to": ("elem", REQUIRED), "saturate": ("bool", True)},
         doc="ONNX: q = saturate(round_half_even(x / s) + z)")
def _quantize_linear(node):
    x = _t(node, 0)
    _axis_param_check(node, x, node.attrs["axis"])
    return [x.with_elem(node.attrs["to"])]


@_schema("DynamicQuantizeLinear", ["x"],
         doc="ONNX: uint8 y, scale s = (max(0, max x) - min(0, min x)) / 255 and zero point z from each "
             "inference's own values (per sample along a batch axis: s and z then have shape (N, 1, ...))")
def _dynamic_quantize_linear(node):
    x = _t(node, 0)
    p = (None,) + (1,) * (x.rank - 1) if x.batched else ()
    return [x.with_elem(IntType(8, False)), TensorType(x.elem, p), TensorType(IntType(8, False), p)]


@_schema("DequantizeLinear", ["x", "scale", "zero_point?"], {"axis": ("int", 1)}, doc="ONNX: y = (x - z) * s")
def _dequantize_linear(node):
    x = _t(node, 0)
    _axis_param_check(node, x, node.attrs["axis"])
    return [x.with_elem(_t(node, 1).elem)]


@_schema("Requantize", ["x", "multiplier", "zero_point?"], {"to": ("elem", REQUIRED)},
         doc="ONNX QLinear* output stage: y = saturate(round_half_even(x * M + z)), in float64 (M broadcast)")
def _requantize(node):
    x = _t(node, 0)
    if broadcast_shapes(x.shape, _t(node, 1).shape) != x.shape:
        raise IRError(f"Requantize node {node.name}: multiplier {_t(node, 1).shape} does not broadcast to {x.shape}")
    return [x.with_elem(node.attrs["to"])]


# ---- fixed-point boundary and rescaling ------------------------------------------------------

@_schema("FromFloat", ["x"], {"scale": ("float?", None)},
         doc="host-side conversion of a real input into the output's FixedType (its rounding, overflow); "
             "with a scale s: of float32(x) / float32(s), as a QONNX input quantizer computes it")
def _from_float(node):
    return [_t(node, 0)]


@_schema("ToFloat", ["x"], {"scale": ("floats?", None), "offset": ("floats?", None), "axis": ("int", 1)},
         doc="real value of a fixed-point tensor as float64: m * 2^-f, times scale[c] plus offset[c] per channel "
             "on `axis` when given (the float tail of a model with non-power-of-two scales)")
def _to_float(node):
    return [_t(node, 0).with_elem(FloatType(64))]


@_schema("Rescale", ["x", "multiplier", "offset?"], {"axis": ("int", 1)},
         doc="per channel c on `axis`: y = cast(x * M[c] + B[c]) (M, B fixed-point constants)")
def _rescale(node):
    x = _t(node, 0)
    for i in (1, 2):
        v = node.input(i)
        if v is not None and v.type.shape not in ((), (1,), (x.shape[node.attrs["axis"]],)):
            raise IRError(f"Rescale node {node.name}: parameter {v.type.shape} does not match axis {node.attrs['axis']} of {x}")
    return [x]


# ---- checking --------------------------------------------------------------------------------

def infer_types(node: Node) -> list[TensorType]:
    schema = SCHEMAS.get(node.op)
    if schema is None:
        raise IRError(f"node {node.name}: unknown IR op {node.op}")
    fill_defaults(node)
    return schema.infer(node)


def fill_defaults(node: Node) -> None:
    """Add defaults for missing optional attributes; raise for missing required ones or unknown names."""
    schema = SCHEMAS[node.op]
    for name, (kind, default) in schema.attrs.items():
        if name not in node.attrs:
            if default is REQUIRED:
                raise IRError(f"{node.op} node {node.name}: missing attribute {name}")
            node.attrs[name] = default
    unknown = set(node.attrs) - set(schema.attrs)
    if unknown:
        raise IRError(f"{node.op} node {node.name}: unknown attributes {sorted(unknown)}")


def check_node(node: Node) -> None:
    """Schema check: input count, attribute kinds, and output shapes equal to the inferred ones."""
    schema = SCHEMAS.get(node.op)
    if schema is None:
        raise IRError(f"node {node.name}: unknown IR op {node.op}")
    n = len(node.inputs)
    if not schema.min_inputs <= n <= schema.max_inputs:
        raise IRError(f"{node.op} node {node.name}: {n} inputs, expected {schema.min_inputs}..{schema.max_inputs}")
    for i, name in enumerate(schema.inputs):
        if not name.endswith(("?", "*")) and i < n and node.inputs[i] is None:
            raise IRError(f"{node.op} node {node.name}: required input {name} is missing")
    fill_defaults(node)
    for name, (kind, _) in schema.attrs.items():
        if not _KINDS[kind](node.attrs[name]):
            raise IRError(f"{node.op} node {node.name}: attribute {name}={node.attrs[name]!r} is not a {kind}")
    inferred = schema.infer(node)
    if len(inferred) != len(node.outputs):
        raise IRError(f"{node.op} node {node.name}: {len(node.outputs)} outputs, schema gives {len(inferred)}")
    for out, t in zip(node.outputs, inferred):
        if out.type.shape != t.shape:
            raise IRError(f"{node.op} node {node.name}: output {out.name} has shape {out.type.shape}, inferred {t.shape}")


#: the quantizer ops of the IR (the front end maps QONNX IntQuant to Quant)
QUANTIZER_OPS = frozenset({"Quant", "BipolarQuant", "Trunc", "QuantizeLinear", "DequantizeLinear"})


def has_quantizers(graph) -> bool:
    """Whether the model carries its own quantizers (QONNX or QDQ) rather than being float."""
    return any(n.op in QUANTIZER_OPS for n in graph.nodes)
