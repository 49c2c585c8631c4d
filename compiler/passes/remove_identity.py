"""RemoveIdentity: Identity(x) → x and Dropout(x) → x (inference), uses rewired to the input."""

from __future__ import annotations

from ..ir.graph import Graph
from .base import Pass


class RemoveIdentity(Pass):
    name = "remove-identity"

    def run(self, graph: Graph) -> bool:
        changed = False
        for node in [n for n in graph.nodes if n.op in ("Identity", "Dropout")]:
            src, out = node.inputs[0], node.output
            if out in graph.outputs and (src in graph.inputs or src in graph.outputs or src.const is not None):
                continue  # keep a node so the graph output stays a distinct, produced value
            graph.replace_all_uses(out, src)
            graph.remove_node(node)
            changed = True
        return changed
