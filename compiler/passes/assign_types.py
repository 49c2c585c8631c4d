"""AssignTypes: turn a float graph (possibly carrying the model's own fixed types from
LowerQuantizers) into the fixed-point form of docs/FIXED_POINT.md.

- Graph inputs get a `FromFloat` (input_bits, range from calibration or the declared input range),
  graph outputs a `ToFloat`.
- Dense/Conv weights are quantized at compile time (round half to even, saturate) to `wbits` with a
  power-of-two scale per layer, or per output channel (`weight_shift`); 1 bit is ±2^k (binary),
  2 bits with `ternary` is {-1, 0, 1}·2^k. Biases are quantized at the accumulator's fraction.
- The accumulator of every Dense/Conv gets the products' fraction and enough integer bits for every
  input the input type admits (interval arithmetic over the exact weights); `accum_cap` makes it
  narrower and wrapping (with a warning).
- Where a value is rounded: layer outputs that feed something other than an activation, and
  activation outputs, get `abits` (graph outputs `output_bits`) with a power-of-two range from the
  value ranges, `rounding`/`overflow` from the config. Data movement and max keep their input type;
  a value that feeds only a cast (a quantizer the model carried) is computed exactly and the cast is
  fused into its producer, so the model's quantizer rounds once, as in the model.

The per-op rules are the table TYPE_RULES, from fixed_layer_types, fixed_activation_types and
fixed_elementwise_types; the type choices themselves are in fixed_type_rules and weight_mantissas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import HwcError
from ..ir.graph import Graph, Node, Value
from ..ir.types import FixedType, FloatType
from ..quant_config import QuantConfig
from . import assign_types_transformer, fixed_activation_types, fixed_elementwise_types, fixed_layer_types
from .base import Pass
from .fixed_type_rules import fixed_const, input_port_type, type_for_range

#: op -> rule(assign_types, graph, node): types the node's output (and its weights, accumulator, parameters)
TYPE_RULES = {**fixed_layer_types.RULES, **fixed_activation_types.RULES, **fixed_elementwise_types.RULES,
              **assign_types_transformer.RULES}
TYPE_REFUSALS = fixed_elementwise_types.REFUSALS


@dataclass
class Decision:
    """One line of the compile summary."""
    node: str
    op: str
    output: FixedType | None = None
    weight: FixedType | None = None
    accum: FixedType | None = None
    note: str = ""


class AssignTypes(Pass):
    name = "assign-types"

    def __init__(self, config: QuantConfig, ranges: dict[str, tuple[float, float]]):
        self.config = config
        self.ranges = ranges
        self.decisions: list[Decision] = []
        self.chosen: dict[str, FixedType] = {}  # values whose type the compiler chose from their range

    # ---- what the rules use --------------------------------------------------------------------
    def range_of(self, v: Value) -> tuple[float, float]:
        if v.name in self.ranges:
            return self.ranges[v.name]
        raise HwcError(f"no value range for {v.name}: give --calib data or --input-range", node=v.producer.name if v.producer else v.name)

    def rounded(self, v: Value, node: Node, graph: Graph, signed: bool | None = None) -> FixedType:
        """`abits` (graph outputs `output_bits`) over v's range, with the config's modes and per-layer override."""
        c = self.config
        lo, hi = self.range_of(v)
        bits = c.output_bits if v in graph.outputs else c.abits
        t = type_for_range(lo, hi, bits, c.rounding, c.overflow, signed)
        t = c.override(t, c.layer(node.name, node.op).get("output"))
        self.chosen[v.name] = t
        return t

    @staticmethod
    def elem(v: Value) -> FixedType:
        t = v.type.elem
        if not isinstance(t, FixedType):
            raise HwcError(f"input {v.name} has no fixed-point type ({t})", node=v.uses[0].node.name if v.uses else None)
        return t

    def feeds_only(self, graph: Graph, v: Value, ops) -> bool:
        c = graph.single_consumer(v)
        return c is not None and c.op in ops

    def set_type(self, graph: Graph, v: Value, t) -> None:
        graph.retype(v, v.type.with_elem(t))

    def decide(self, node: Node, **kw) -> None:
        self.decisions.append(Decision(node.name, node.op, **kw))

    def activation_out(self, graph: Graph, node: Node, exact: FixedType, signed=None) -> None:
        """The output exactly (`exact`) when only a cast (the model's quantizer) reads it, else rounded."""
        out = node.output
        if self.feeds_only(graph, out, {"Cast"}) and out not in graph.outputs:
            t = exact
        else:
            t = self.rounded(out, node, graph, signed)
        self.set_type(graph, out, t)
        self.decide(node, output=t)

    def operand(self, graph: Graph, node: Node, i: int) -> FixedType:
        """The type of input i; a float constant there becomes a `param_bits` fixed-point constant first."""
        v = node.inputs[i]
        if v.const is not None and not isinstance(v.type.elem, FixedType):
            q = fixed_const(graph, np.asarray(v.const, np.float64), self.config.param_bits, v.name + "_q")
            graph.set_input(node, i, q)
            v = q
        return self.elem(v)

    # ---- the pass ------------------------------------------------------------------------------
    def run(self, graph: Graph) -> bool:
        if graph.metadata.get("fixed"):
            return False
        c = self.config
        for v in list(graph.inputs):
            if isinstance(v.type.elem, FloatType) and not all(u.node.op == "FromFloat" for u in v.uses):
                t = input_port_type(c, *(c.input_range or self.range_of(v)))
                n = graph.add_node("FromFloat", [v], name=f"{v.name}_to_fixed", output_names=[f"{v.name}_fixed"],
                                   output_types=[v.type.with_elem(t)], index=0)
                graph.replace_all_uses(v, n.output, skip=n)
                self.decisions.append(Decision(n.name, "FromFloat", output=t))
        for node in graph.toposort():
            if node.op in ("FromFloat", "ToFloat") or (node.op == "Rescale" and isinstance(node.output.type.elem, FixedType)):
                continue  # already typed by a lowering pass
            if node.op in TYPE_REFUSALS:
                raise HwcError(TYPE_REFUSALS[node.op], node=node.name, op=node.op)
            rule = TYPE_RULES.get(node.op)
            if rule is None:
                raise HwcError(f"no fixed-point form for {node.op} yet", node=node.name, op=node.op)
            rule(self, graph, node)
        self._fuse_casts(graph)
        for v in list(graph.outputs):
            if isinstance(v.type.elem, FixedType):
                n = graph.add_node("ToFloat", [v], name=f"{v.name}_to_float", output_names=[f"{v.name}_float"])
                graph.replace_all_uses(v, n.output, skip=n)
        graph.metadata["fixed"] = True
        graph.metadata["quant"] = {"wbits": c.wbits, "abits": c.abits, "input_bits": c.in_bits, "output_bits": c.output_bits,
                                   "rounding": c.rounding.value, "overflow": c.overflow.value, "per_channel": c.per_channel}
        return True


    # ---- fusing the model's quantizers into their producers ---------------------------------------
    # -- fusing the model's quantizers into their producers --
    def _fuse_casts(self, graph: Graph) -> None:
        for cast_node in [n for n in graph.nodes if n.op == "Cast" and isinstance(n.output.type.elem, FixedType)]:
            src = cast_node.inputs[0]
            prod = src.producer
            if prod is None or graph.single_consumer(src) is not cast_node or prod.op in ("Cast",):
                continue
            if not isinstance(src.type.elem, FixedType):
                continue
            self.set_type(graph, src, cast_node.output.type.elem)
            graph.replace_all_uses(cast_node.output, src)
            graph.remove_node(cast_node)
            for d in self.decisions:
                if d.node == prod.name:
                    d.output = src.type.elem
