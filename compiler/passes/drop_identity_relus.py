"""DropIdentityRelus: a Relu on int8 codes whose zero point is -128 holds no negative value: it is the
identity and goes (unless its output is a graph output, whose name it keeps)."""

from __future__ import annotations

from ..ir.graph import Graph
from ..ir.types import AffineType
from .base import Pass


class DropIdentityRelus(Pass):
    name = "drop-identity-relus"

    def run(self, graph: Graph) -> bool:
        changed = False
        for n in [n for n in graph.nodes if n.op == "Relu"]:
            t = n.inputs[0].type.elem
            if isinstance(t, AffineType) and t.zero_point[0] == -128 and n.output not in graph.outputs:
                graph.replace_all_uses(n.output, n.inputs[0])
                graph.remove_node(n)
                changed = True
        return changed
