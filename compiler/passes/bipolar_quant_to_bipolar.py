"""BipolarQuantToBipolar: BipolarQuant(x, s) on a run-time x with s = 1 (binarised activations, as
Brevitas and FINN export them) becomes Bipolar(x) = x >= 0 ? +1 : -1, the same value: an activation
every backend has a form for (fixed point: ±1 in 2 bits; TFLite: an int8 table)."""

from __future__ import annotations

import numpy as np

from ..ir.graph import Graph
from .base import Pass, is_static, take_place


class BipolarQuantToBipolar(Pass):
    name = "bipolar-quant-to-bipolar"

    def run(self, graph: Graph) -> bool:
        changed = False
        for q in [n for n in graph.nodes if n.op == "BipolarQuant"]:
            s = q.inputs[1].const
            if s is None or not np.all(np.asarray(s) == 1) or is_static(graph, q.inputs[0]):
                continue
            take_place(graph, q, graph.add_node("Bipolar", [q.inputs[0]], index=graph.nodes.index(q)))
            changed = True
        return changed
