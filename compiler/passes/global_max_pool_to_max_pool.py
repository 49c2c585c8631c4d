"""GlobalMaxPoolToMaxPool: GlobalMaxPool(x) over static spatial axes becomes MaxPool with one window
the size of the feature map (stride 1, no padding): the same maximum, for targets that have a windowed
max pool but no global one (TFLite's MAX_POOL_2D)."""

from __future__ import annotations

from ..ir.graph import Graph
from .base import Pass, take_place


class GlobalMaxPoolToMaxPool(Pass):
    name = "global-max-pool-to-max-pool"

    def run(self, graph: Graph) -> bool:
        changed = False
        for gp in [n for n in graph.nodes if n.op == "GlobalMaxPool"]:
            spatial = gp.inputs[0].type.shape[2:]
            if not spatial or not all(isinstance(d, int) for d in spatial):
                continue
            nd = len(spatial)
            mp = graph.add_node("MaxPool", [gp.inputs[0]], {"kernel_shape": list(spatial), "strides": [1] * nd,
                                                            "pads": [0] * (2 * nd), "dilations": [1] * nd},
                                index=graph.nodes.index(gp))
            take_place(graph, gp, mp)
            changed = True
        return changed
