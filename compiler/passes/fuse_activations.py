"""FuseActivations: Relu / Clip(0, 6) / Clip(-1, 1) / Clip(0, ∞) after a Conv/Dense (its only consumer) become
the layer's fused `activation` (RELU, RELU6, RELU_N1_TO_1, RELU); Clip(0, c) becomes RELU with the output range
[0, c] (int8 saturation then clips at the top, to within one step). The fused output takes the activation's
range or carried parameters.
"""

from __future__ import annotations

from ..ir.graph import Graph
from .affine_params import AffinePass

CLIP_KINDS = {(0.0, 6.0): "RELU6", (-1.0, 1.0): "RELU_N1_TO_1", (0.0, None): "RELU"}


class FuseActivations(AffinePass):
    name = "fuse-activations"

    def run(self, graph: Graph) -> bool:
        st = self.state
        changed = False
        for act in [n for n in graph.toposort() if n.op in ("Relu", "Clip")]:
            prev = act.inputs[0].producer
            if prev is None or prev.op not in ("Dense", "Conv") or prev.attrs.get("activation") is not None \
                    or graph.single_consumer(prev.output) is not act or prev.output in st.carried:
                continue
            if act.op == "Relu":
                kind, forced = "RELU", None
            else:
                lo, hi = act.attrs["min"], act.attrs["max"]
                kind = CLIP_KINDS.get((None if lo is None else float(lo), None if hi is None else float(hi)))
                forced = None
                if kind is None and lo is not None and float(lo) == 0.0:
                    kind, forced = "RELU", (0.0, float(hi))
                    st.notes.append(f"{act.name}: Clip(0, {hi:g}) is RELU with the output range [0, {hi:g}] "
                                    "(int8 saturation clips at the top, to within one step)")
                if kind is None:
                    continue
            prev.attrs["activation"] = kind
            p = st.carried.pop(act.output, None)
            if p is None:  # the fused output takes the activation's range
                st.ranges[prev.output] = forced or st.range(act.output)
            graph.replace_all_uses(act.output, prev.output)
            graph.remove_node(act)
            if p is not None:
                st.carried[prev.output] = p
            changed = True
        return changed
