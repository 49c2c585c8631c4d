"""IR op schemas of elementwise ops: activations (table-based in fixed point), Softmax, PRelu, arithmetic, Cast."""

from __future__ import annotations

from .errors import IRError
from .schema import REQUIRED, op_schema
from .shapes import broadcast_shapes, broadcast_type, input_type, same_type

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
    ("Erf", dict(_TABLE), "erf(x); fixed point: a table over x's range (x * Phi(x) chains fuse into Gelu: FuseGelu)"),
    ("Bipolar", {}, "x >= 0 ? +1 : -1 (a binarised activation; fixed point: mantissas +-1 in a 2-bit signed type)"),
    ("Identity", {}, "x"),
    ("Dropout", {}, "x (inference)"),
]:
    op_schema(_name, ["x"], _attrs, _doc)(same_type)


@op_schema("Softmax", ["x"], {"axis": ("int", REQUIRED), "exp_type": ("fixed?", None), "exp_table_bits": ("int?", None),
                               "exp_range_bits": ("int?", None), "inv_type": ("fixed?", None), "inv_table_bits": ("int?", None),
                               "inv_range_bits": ("int?", None)},
           doc="exp(x - max) / sum(exp(x - max)) along axis; fixed point: exp and 1/x tables")
def _softmax(node):
    x = input_type(node, 0)
    if not -x.rank <= node.attrs["axis"] < x.rank:
        raise IRError(f"Softmax node {node.name}: axis {node.attrs['axis']} out of range for {x}")
    return [x]


@op_schema("PRelu", ["x", "slope"], {"param_type": ("fixed?", None)},
           doc="x if x >= 0 else slope * x (slope broadcast); fixed point: one slope per channel of param_type")
def _prelu(node):
    x, s = input_type(node, 0), input_type(node, 1)
    if broadcast_shapes(x.shape, s.shape) != x.shape:
        raise IRError(f"PRelu node {node.name}: slope {s.shape} does not broadcast to {x.shape}")
    return [x]


for _name in ("Add", "Sub", "Mul", "Div"):
    op_schema(_name, ["a", "b"], doc=f"numpy-broadcast {_name}")(broadcast_type)


@op_schema("Cast", ["x"], {"to": ("elem", REQUIRED)}, doc="numeric conversion (C semantics: float->int truncates)")
def _cast(node):
    return [input_type(node, 0).with_elem(node.attrs["to"])]
