"""AssignTypes' rules for data movement, pooling and elementwise arithmetic: data movement keeps its input's
type; Add/Sub/Mul are exact over their operands' mantissa intervals unless rounded (see `activation_out`);
Concat rounds to `abits` over its range; constant operands become `param_bits` fixed-point constants."""

from __future__ import annotations

from ..errors import DYNAMIC_QUANT_REFUSAL, HwcError
from ..ir.types import FixedType, FloatType
from .fixed_type_rules import exact_int_type


def keep_type(at, graph, node):
    t = at.elem(node.inputs[0])
    at.set_type(graph, node.output, t)


def pad(at, graph, node):
    x = at.elem(node.inputs[0])
    if node.attrs["mode"] == "constant":
        v = node.attrs["value"]
        if v * 2 ** x.frac_bits != round(v * 2 ** x.frac_bits) or not x.min <= v <= x.max:
            raise HwcError(f"pad value {v} is not representable in {x}", node=node.name, op=node.op)
    at.set_type(graph, node.output, x)


def average_pool(at, graph, node):
    node.attrs["recip_bits"] = at.config.recip_bits
    at.activation_out(graph, node, at.elem(node.inputs[0]))


def add(at, graph, node, sign=1):
    a, b = at.operand(graph, node, 0), at.operand(graph, node, 1)
    f = max(a.frac_bits, b.frac_bits)
    sa, sb = 1 << (f - a.frac_bits), 1 << (f - b.frac_bits)
    if sign > 0:
        lo, hi = a.min_mantissa * sa + b.min_mantissa * sb, a.max_mantissa * sa + b.max_mantissa * sb
    else:
        lo, hi = a.min_mantissa * sa - b.max_mantissa * sb, a.max_mantissa * sa - b.min_mantissa * sb
    at.activation_out(graph, node, exact_int_type(lo, hi, f))


def sub(at, graph, node):
    add(at, graph, node, sign=-1)


def mul(at, graph, node):
    a, b = at.operand(graph, node, 0), at.operand(graph, node, 1)
    cands = [x * y for x in (a.min_mantissa, a.max_mantissa) for y in (b.min_mantissa, b.max_mantissa)]
    at.activation_out(graph, node, exact_int_type(min(cands), max(cands), a.frac_bits + b.frac_bits))


def concat(at, graph, node):
    for i in range(len(node.inputs)):
        at.operand(graph, node, i)
    t = at.rounded(node.output, node, graph)
    at.set_type(graph, node.output, t)
    at.decide(node, output=t)


def cast(at, graph, node):
    if not isinstance(node.output.type.elem, (FixedType, FloatType)):
        raise HwcError("cast to an integer type is not supported in fixed point", node=node.name, op=node.op)


#: op -> why it has no fixed-point form (AssignTypes refuses it naming the node)
REFUSALS = {"Div": "division by a run-time tensor has no fixed-point form here (division by a constant becomes a "
                   "multiplication)",
            "DynamicQuantizeLinear": DYNAMIC_QUANT_REFUSAL}

#: op -> rule(at, graph, node), `at` the running AssignTypes
RULES = {**dict.fromkeys(("MaxPool", "GlobalMaxPool", "Reshape", "Transpose", "Resize", "Identity", "Dropout"),
                         keep_type),
         "Pad": pad, "AveragePool": average_pool, "GlobalAveragePool": average_pool, "Add": add, "Sub": sub,
         "Mul": mul, "Concat": concat, "Cast": cast}
