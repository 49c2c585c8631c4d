"""ApplyAffineTypes: every run-time value with chosen parameters becomes `AffineType` (int8, or uint8 where a
graph input is stored so), the element type the TFLite backend and simulator read."""

from __future__ import annotations

from ..ir.graph import Graph
from .affine_params import AffinePass, I8


class ApplyAffineTypes(AffinePass):
    name = "apply-affine-types"

    def run(self, graph: Graph) -> bool:
        P = self.state.params
        changed = False
        for v in graph.values():
            if v in P and v.const is None:
                t = v.type.with_elem(P[v].elem(self.state.in_storage.get(v, I8)))
                changed |= t != v.type
                graph.retype(v, t)
        return changed
