"""SubToAdd: Sub(x, c) with a constant c becomes Add(x, -c); Sub(c, x) becomes Add(Mul(x, -1), c).
Exact in floating point: negation is exact and a + (-b) is the same rounding of a - b."""

from __future__ import annotations

import numpy as np

from ..ir.graph import Graph
from .base import Pass, take_place


class SubToAdd(Pass):
    name = "sub-to-add"

    def run(self, graph: Graph) -> bool:
        changed = False
        for sub in [n for n in graph.nodes if n.op == "Sub"]:
            a, b = sub.inputs
            if (a.const is None) == (b.const is None) or not np.issubdtype((a.const if b.const is None else b.const).dtype,
                                                                           np.floating):
                continue
            index = graph.nodes.index(sub)
            if b.const is not None:  # x - c = x + (-c)
                inputs = [a, graph.constant(-b.const, b.name + "_neg")]
            else:  # c - x = (-1)·x + c
                neg = graph.add_node("Mul", [b, graph.constant(np.asarray(-1, a.const.dtype), sub.name + "_minus_one")],
                                     name=sub.name + "_neg", index=index)
                inputs = [neg.output, a]
                index += 1
            add = graph.add_node("Add", inputs, index=index)
            take_place(graph, sub, add)
            changed = True
        return changed
