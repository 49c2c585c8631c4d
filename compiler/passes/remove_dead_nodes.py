"""RemoveDeadNodes: drop nodes none of whose outputs reach a graph output."""

from __future__ import annotations

from ..ir.graph import Graph
from .base import Pass


class RemoveDeadNodes(Pass):
    name = "remove-dead-nodes"

    def run(self, graph: Graph) -> bool:
        changed = False
        for node in reversed(graph.toposort()):
            if all(not o.uses and o not in graph.outputs for o in node.outputs):
                graph.remove_node(node)
                changed = True
        return changed
