"""CancelTransposes: Transpose(Transpose(x, p), q) becomes Transpose(x, r) with r[i] = p[q[i]], or x
itself when r is the identity (as exporters leave around a channels-last layer); a lone identity
Transpose is removed. Pure data movement: exact."""

from __future__ import annotations

from ..ir.graph import Graph
from .base import Pass


def _bypass(graph: Graph, node, src) -> bool:
    """Replace `node`'s output by `src`, unless that would make a graph input or constant a graph output."""
    if node.output in graph.outputs and (src in graph.inputs or src in graph.outputs or src.const is not None):
        return False
    graph.replace_all_uses(node.output, src)
    graph.remove_node(node)
    return True


class CancelTransposes(Pass):
    name = "cancel-transposes"

    def run(self, graph: Graph) -> bool:
        changed = False
        for t in graph.toposort():
            if t.op != "Transpose" or t not in graph.nodes:
                continue
            perm = list(t.attrs["perm"])
            src = t.inputs[0]
            inner = src.producer
            if inner is not None and inner.op == "Transpose":
                perm = [inner.attrs["perm"][i] for i in perm]
                src = inner.inputs[0]
            if perm == sorted(perm):
                changed |= _bypass(graph, t, src)
            elif src is not t.inputs[0]:
                graph.set_input(t, 0, src)
                t.attrs["perm"] = perm
                changed = True
            if inner is not None and inner.op == "Transpose" and not inner.output.uses and inner.output not in graph.outputs:
                graph.remove_node(inner)
        return changed
