"""PReluToLeakyRelu: PRelu(x, slope) with one constant slope for every channel (PyTorch's default
nn.PReLU(), a Keras PReLU with shared axes) becomes LeakyRelu(x, alpha=slope), the same formula
x >= 0 ? x : slope·x in the same float32 product — a form every target has."""

from __future__ import annotations

import numpy as np

from ..ir.graph import Graph
from .base import Pass, take_place


class PReluToLeakyRelu(Pass):
    name = "prelu-to-leaky-relu"

    def run(self, graph: Graph) -> bool:
        changed = False
        for p in [n for n in graph.nodes if n.op == "PRelu"]:
            s = p.inputs[1].const
            if s is None or s.size == 0 or not np.all(s == s.reshape(-1)[0]) or p.inputs[0].const is not None:
                continue
            leaky = graph.add_node("LeakyRelu", [p.inputs[0]], {"alpha": float(s.reshape(-1)[0])}, index=graph.nodes.index(p))
            take_place(graph, p, leaky)
            changed = True
        return changed
