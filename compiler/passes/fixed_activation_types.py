"""AssignTypes' rules for activations: an output typed exactly where only a cast (the model's quantizer) reads
it, else rounded to `abits` over its range; tables (Sigmoid, Tanh, Softmax, HardSigmoid) give `abits` with one
integer bit; the wide-range tables (Selu, Elu, Softplus, HardSwish, Swish, Gelu) are typed by their range;
parameters (alpha, slopes) are `param_bits` fixed-point constants."""

from __future__ import annotations

import math

import numpy as np

from ..errors import HwcError
from ..ir.types import F32, FixedType, Overflow, Rounding
from ..sim import tables
from ..sim.fixed import from_float
from .fixed_type_rules import exact_int_type, type_for_range

TABLE_RANGE_BITS = {"Sigmoid": 3, "Tanh": 2}


def relu(at, graph, node):
    x = at.elem(node.inputs[0])
    exact = FixedType(x.width - 1, x.int_bits - 1, False, x.rounding, x.overflow) if x.signed and x.width > 1 else x
    at.activation_out(graph, node, exact, signed=False)


def clip(at, graph, node):
    at.activation_out(graph, node, at.elem(node.inputs[0]))


def leaky_relu(at, graph, node):
    x = at.elem(node.inputs[0])
    a = node.attrs["alpha"]
    pt = type_for_range(-abs(a), abs(a), at.config.param_bits, Rounding.RND_CONV, Overflow.SAT, True)
    node.attrs["param_type"] = pt
    lo_m = min(x.min_mantissa * int(from_float(np.asarray([a]), pt)[0]), 0)
    hi_m = x.max_mantissa << pt.frac_bits
    at.activation_out(graph, node, exact_int_type(lo_m, hi_m, x.frac_bits + pt.frac_bits))


def hard_sigmoid(at, graph, node):
    a, b = node.attrs["alpha"], node.attrs["beta"]
    m = max(abs(a), abs(b))
    node.attrs["param_type"] = type_for_range(-m, m, at.config.param_bits, Rounding.RND_CONV, Overflow.SAT, True)
    _table_like_out(at, graph, node, signed=False)


def _table_like_out(at, graph, node, signed: bool):
    c = at.config
    bits = c.output_bits if node.output in graph.outputs else c.abits
    t = c.override(FixedType(bits, 1, signed, c.rounding, c.overflow), c.layer(node.name, node.op).get("output"))
    at.set_type(graph, node.output, t)
    at.decide(node, output=t)


def _float_output_function(at, graph, node) -> bool:
    """Target sim may keep a final Softmax/Sigmoid/Tanh in float (the model left it unquantized)."""
    if not (at.config.float_output_functions and node.output in graph.outputs):
        return False
    x = node.inputs[0]
    exact = graph.add_node("ToFloat", [x], name=f"{x.name}_to_float", output_names=[f"{x.name}_float"])
    f32 = graph.add_node("Cast", [exact.output], {"to": F32}, name=f"{x.name}_f32")
    graph.set_input(node, 0, f32.output)
    at.set_type(graph, node.output, F32)
    at.decide(node, note="float (left unquantized by the model)")
    return True


def sigmoid(at, graph, node):
    if _float_output_function(at, graph, node):
        return
    node.attrs.update(table_bits=at.config.table_bits, range_bits=TABLE_RANGE_BITS["Sigmoid"])
    _table_like_out(at, graph, node, signed=False)


def tanh(at, graph, node):
    if _float_output_function(at, graph, node):
        return
    node.attrs.update(table_bits=at.config.table_bits, range_bits=TABLE_RANGE_BITS["Tanh"])
    _table_like_out(at, graph, node, signed=True)


def table(at, graph, node):
    """Selu, Elu, Softplus, HardSwish, Swish, Gelu: a table of 2^table_bits entries over the whole range
    of x (exact per input value when x has at most table_bits bits), output typed by its range."""
    x_t = at.operand(graph, node, 0)
    node.attrs.update(table_bits=at.config.table_bits, range_bits=tables.wide_range_bits(x_t))
    t = at.rounded(node.output, node, graph)
    at.set_type(graph, node.output, t)
    at.decide(node, output=t)


def softmax(at, graph, node):
    if _float_output_function(at, graph, node):
        return
    c = at.config
    n = node.inputs[0].type.shape[node.attrs["axis"]]
    node.attrs.update(exp_type=FixedType(18, 1, False, Rounding.RND_CONV, Overflow.SAT), exp_table_bits=c.table_bits,
                      exp_range_bits=3, inv_type=FixedType(18, 2, False, Rounding.RND_CONV, Overflow.SAT),
                      inv_table_bits=c.table_bits, inv_range_bits=max(1, math.floor(math.log2(n)) + 1))
    _table_like_out(at, graph, node, signed=False)


def prelu(at, graph, node):
    """x < 0 ? x·slope[c] : x with one slope per channel (axis 1), slopes as fixed-point constants."""
    from .merge_affine_chain import channel_vector

    x = at.elem(node.inputs[0])
    s = node.inputs[1].const
    c = channel_vector(np.asarray(s, np.float64), node.inputs[0]) if s is not None else None
    if c is None:
        raise HwcError("a PRelu slope that varies along other axes than the channels (axis 1) has no "
                       "fixed-point form here", node=node.name, op=node.op)
    m = float(np.abs(c).max())
    pt = type_for_range(-m, m, at.config.param_bits, Rounding.RND_CONV, Overflow.SAT, True)
    node.attrs["param_type"] = pt
    shape = (len(c),) + (1,) * (node.inputs[0].type.rank - 2)
    sm = from_float(c, pt).astype(np.int64)
    graph.set_input(node, 1, graph.constant(sm.reshape(shape), node.inputs[1].name + "_q", elem=pt))
    lo_m = min(x.min_mantissa * int(sm.max()), x.min_mantissa * int(sm.min()), 0)
    hi_m = max(x.max_mantissa << pt.frac_bits, 0)
    at.activation_out(graph, node, exact_int_type(lo_m, hi_m, x.frac_bits + pt.frac_bits))


def bipolar(at, graph, node):
    """x >= 0 ? +1 : -1: mantissas +-1 in a 2-bit signed integer type."""
    at.operand(graph, node, 0)
    at.set_type(graph, node.output, FixedType(2, 2, True))


#: op -> rule(at, graph, node), `at` the running AssignTypes
RULES = {"Relu": relu, "Clip": clip, "LeakyRelu": leaky_relu, "HardSigmoid": hard_sigmoid, "Sigmoid": sigmoid,
         "Tanh": tanh, "Softmax": softmax, "PRelu": prelu, "Bipolar": bipolar,
         **dict.fromkeys(("Selu", "Elu", "Softplus", "HardSwish", "Swish", "Gelu", "Erf"), table)}
