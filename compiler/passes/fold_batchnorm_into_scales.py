"""FoldBatchNormIntoScales: a BatchNormalization after a Conv/Dense leaves the int8 graph; its per-channel
y = a x + b is recorded for `QuantizeAffineWeights` (w' = a w, bias' = a bias + b; carried codes keep their
magnitude, sign(a) moves into them and |a| into their scale). The BN's range and parameters move to the layer.
"""

from __future__ import annotations

import numpy as np

from ..errors import HwcError
from ..ir.graph import Graph
from ..sim.float_ops import batchnorm_affine
from .affine_params import AffinePass


class FoldBatchNormIntoScales(AffinePass):
    name = "fold-batchnorm-into-scales"

    def run(self, graph: Graph) -> bool:
        st = self.state
        bns = [n for n in graph.toposort() if n.op == "BatchNormalization"]
        for bn in bns:
            prev = bn.inputs[0].producer
            if prev is None or prev.op not in ("Conv", "Dense") or graph.single_consumer(prev.output) is not bn \
                    or prev.output in st.carried or any(v.const is None for v in bn.inputs[1:]):
                raise HwcError("BatchNormalization must follow a Conv/Dense (with constant statistics)",
                               node=bn.name, op=bn.op)
            a, b = batchnorm_affine(*[v.const for v in bn.inputs[1:]], bn.attrs["epsilon"], np.float64)
            st.bn_fold[prev] = (np.asarray(a, np.float64), np.asarray(b, np.float64))
            p = st.carried.pop(bn.output, None)
            graph.replace_all_uses(bn.output, prev.output)
            graph.remove_node(bn)
            if p is not None:
                st.carried[prev.output] = p
            if bn.output in st.ranges:
                st.ranges[prev.output] = st.ranges[bn.output]
        return bool(bns)
