"""FuseSwish: Mul(x, Sigmoid(x)) becomes Swish(x) (SiLU, as PyTorch exports it), and
Mul(x, HardSigmoid(x; alpha 1/6, beta 1/2)) becomes HardSwish(x): one table in fixed point instead
of a table and a product of two activations. The float value is the same product."""

from __future__ import annotations

from ..ir.graph import Graph
from .base import Pass, take_place


class FuseSwish(Pass):
    name = "fuse-swish"

    def run(self, graph: Graph) -> bool:
        changed = False
        for mul in [n for n in graph.nodes if n.op == "Mul"]:
            for x, gate in (mul.inputs, mul.inputs[::-1]):
                g = gate.producer
                if g is None or g.inputs[0] is not x or graph.single_consumer(gate) is not mul:
                    continue
                if g.op == "Sigmoid":
                    op, attrs = "Swish", {"alpha": 1.0}
                elif g.op == "HardSigmoid" and abs(g.attrs["alpha"] - 1 / 6) < 1e-7 and g.attrs["beta"] == 0.5:
                    op, attrs = "HardSwish", {}
                else:
                    continue
                fused = graph.add_node(op, [x], attrs, index=graph.nodes.index(mul))
                take_place(graph, mul, fused)
                graph.remove_node(g)
                changed = True
                break
        return changed
