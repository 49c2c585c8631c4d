"""DivToMul: Div(x, c) with a constant floating-point divisor c (no zero entry) becomes Mul(x, r) with
r = 1/c computed in float64 and rounded once to c's dtype. Exact when every c is a power of two;
otherwise x·r differs from the correctly rounded x/c by at most 2 ulp (two roundings instead of one)."""

from __future__ import annotations

import numpy as np

from ..ir.graph import Graph
from .base import Pass, take_place


class DivToMul(Pass):
    name = "div-to-mul"

    def run(self, graph: Graph) -> bool:
        changed = False
        for div in [n for n in graph.nodes if n.op == "Div"]:
            x, c = div.inputs
            if c.const is None or x.const is not None or not np.issubdtype(c.const.dtype, np.floating) \
                    or not np.all(c.const != 0):
                continue
            r = (1.0 / c.const.astype(np.float64)).astype(c.const.dtype)
            mul = graph.add_node("Mul", [x, graph.constant(r, c.name + "_recip")],
                                 index=graph.nodes.index(div))
            take_place(graph, div, mul)
            changed = True
        return changed
