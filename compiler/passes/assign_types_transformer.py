"""AssignTypes for the ops transformers add (a part of the AssignTypes pass, kept apart by op family).

- LayerNormalization: the scale becomes a `param_bits` constant of scale·√K, the bias a `param_bits`
  constant; 1/√Q comes from a 2^table_bits table of `RSQRT_BITS`-bit entries (compiler/sim/
  transformer_ops.py). Refused when an intermediate of that exact algorithm could exceed 62 bits.
- MatMul of two activations: the exact products' fraction, an accumulator wide enough for every input
  the operand types admit (`accum`), output rounded to `abits` from its range.
- Gather keeps its input type.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import HwcError
from ..ir.graph import Graph, Node
from ..sim.transformer_ops import layer_norm_eps
from .fixed_type_rules import exact_int_type, fixed_const

RSQRT_BITS = 18  # fraction bits of the 1/sqrt table entries
_MAX_BITS = 62  # int64 mantissa arithmetic in the simulator and the kernel


def layer_norm(at, graph: Graph, node: Node):
    c = at.config
    x = at.elem(node.inputs[0])
    k = math.prod(node.inputs[0].type.shape[node.attrs["axis"]:])
    if node.inputs[1].const is None or (node.input(2) is not None and node.inputs[2].const is None):
        raise HwcError("LayerNormalization scale and bias must be constants", node=node.name, op=node.op)
    g = fixed_const(graph, np.asarray(node.inputs[1].const, np.float64) * math.sqrt(k), c.param_bits,
                    f"{node.name}_scale_q")
    graph.set_input(node, 1, g)
    if node.input(2) is not None:
        graph.set_input(node, 2, fixed_const(graph, np.asarray(node.inputs[2].const, np.float64), c.param_bits,
                                             f"{node.name}_bias_q"))
    node.attrs.update(table_bits=c.table_bits, rsqrt_bits=RSQRT_BITS)
    d = k * (x.max_mantissa - x.min_mantissa)
    q = k * d * d + layer_norm_eps(node.attrs["epsilon"], k, x.frac_bits)
    p = d * int(np.abs(g.const).max()) * (1 << RSQRT_BITS)
    if max(q, p).bit_length() > _MAX_BITS:
        raise HwcError(f"the exact LayerNormalization of {k} values of {x} needs more than {_MAX_BITS}-bit "
                       "intermediates: give the input fewer bits", node=node.name, op=node.op)
    at.activation_out(graph, node, at.rounded(node.output, node, graph))


def matmul(at, graph: Graph, node: Node):
    a, b = at.operand(graph, node, 0), at.operand(graph, node, 1)
    k = node.inputs[0].type.shape[-1]
    cands = [x * y for x in (a.min_mantissa, a.max_mantissa) for y in (b.min_mantissa, b.max_mantissa)]
    lo, hi = k * min(min(cands), 0), k * max(max(cands), 0)
    if max(-lo, hi).bit_length() > _MAX_BITS:
        raise HwcError(f"the sums of this MatMul of {a} and {b} over {k} terms need more than {_MAX_BITS} bits",
                       node=node.name, op=node.op)
    acc = exact_int_type(lo, hi, a.frac_bits + b.frac_bits)
    node.attrs["accum"] = acc
    at.activation_out(graph, node, acc)


def gather(at, graph: Graph, node: Node):
    at.set_type(graph, node.output, at.elem(node.inputs[0]))


RULES = {"LayerNormalization": layer_norm, "MatMul": matmul, "Gather": gather}
