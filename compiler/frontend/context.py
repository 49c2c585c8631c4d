"""What an ONNX op handler sees while the front end converts a node (`Ctx`), and the signal that a
handler needs a graph input as a constant (`NeedsConstant`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import onnx

from ..errors import HwcError
from ..ir.errors import IRError
from ..ir.graph import Graph, Value


class NeedsConstant(Exception):
    """A handler needs the value of a graph input as a constant (node tests feed parameters as inputs)."""

    def __init__(self, input_name: str):
        self.input_name = input_name


@dataclass
class Ctx:
    """What a handler sees: the graph being built, the opset, the ONNX node, and helpers."""

    graph: Graph
    opset: int
    path: str
    node: onnx.NodeProto | None = None
    bindable: dict[str, Value] = field(default_factory=dict)  # graph inputs that may be bound to constants

    @property
    def name(self) -> str:
        return self.node.name or (self.node.output[0] if self.node.output else self.node.op_type)

    def fail(self, reason: str) -> HwcError:
        return HwcError(reason, self.path, self.name, self.node.op_type if self.node else None)

    def emit(self, op: str, inputs, **attrs) -> Value:
        """Add one IR node for the current ONNX node and return its (single) output."""
        try:
            n = self.graph.add_node(op, inputs, attrs, name=self.name)
        except IRError as e:
            raise self.fail(str(e)) from None
        return n.output

    def const(self, v: Value | None) -> np.ndarray | None:
        return None if v is None else v.const

    def need_const(self, v: Value | None, what: str) -> np.ndarray | None:
        """The constant array behind `v`; a graph input is bound on a second pass if the caller has its data."""
        if v is None:
            return None
        if v.const is not None:
            return v.const
        if v.name in self.bindable and self.bindable[v.name] is v:
            raise NeedsConstant(v.name)
        raise self.fail(f"{what} must be a constant, but it is computed at run time ({v.name})")

    def constant(self, array, name: str | None = None) -> Value:
        return self.graph.constant(np.asarray(array), name or f"{self.name}_c")
