"""FoldBatchNormIntoNext: BatchNormalization (y = x·a + b per channel, constant statistics) whose only
user is a Dense or Conv with constant weights is folded into that layer's input side — the form of an
exporter's input normalisation, (x - mean) / std before the first layer:
  Dense: W'[k, m] = a[k]·W[k, m], bias'[m] = bias[m] + Σ_k b[k]·W[k, m];
  Conv:  W'[m, j, ...] = a[c]·W[m, j, ...], bias'[m] = bias[m] + Σ_{j,taps} b[c]·W[m, j, ...], with c the
         input channel of W[m, j] (group-aware).
The shift is exact only where every tap reads the input, so a padded Conv takes the fold only when b = 0.
Computed in float64 and rounded once to the weights' dtype (a reassociation of the float sum)."""

from __future__ import annotations

import numpy as np

from ..ir.graph import Graph
from ..sim.float_ops import batchnorm_affine
from .base import Pass


class FoldBatchNormIntoNext(Pass):
    name = "fold-batchnorm-into-next"

    def run(self, graph: Graph) -> bool:
        changed = False
        for bn in [n for n in graph.nodes if n.op == "BatchNormalization"]:
            layer = graph.single_consumer(bn.output)
            if layer is None or layer.op not in ("Dense", "Conv") or layer.inputs[0] is not bn.output:
                continue
            w_v, bias_v = layer.inputs[1], layer.input(2)
            if w_v.const is None or (bias_v is not None and bias_v.const is None) \
                    or any(v.const is None for v in bn.inputs[1:]):
                continue
            w = w_v.const.astype(np.float64)
            a, b = batchnorm_affine(*[v.const for v in bn.inputs[1:]], bn.attrs["epsilon"], np.float64)
            bias = bias_v.const.astype(np.float64) if bias_v is not None else None
            if layer.op == "Dense":
                if bn.inputs[0].type.rank != 2:
                    continue
                w_new, shift = w * a[:, None], b @ w
            else:
                if any(layer.attrs["pads"]) and np.any(b != 0):
                    continue
                m, cg = w.shape[:2]
                groups = layer.attrs["group"]
                channel = (np.arange(m)[:, None] // (m // groups)) * cg + np.arange(cg)[None, :]  # [M, C/g]
                expand = (slice(None), slice(None)) + (None,) * (w.ndim - 2)
                w_new = w * a[channel][expand]
                shift = (w * b[channel][expand]).reshape(m, -1).sum(axis=1)
            dt = w_v.const.dtype
            bias_new = shift if bias is None else bias + shift
            graph.set_input(layer, 1, graph.constant(w_new.astype(dt), w_v.name + "_prenorm"))
            graph.set_input(layer, 2, graph.constant(bias_new.astype(dt), f"{layer.name}_bias_prenorm"))
            graph.replace_all_uses(bn.output, bn.inputs[0])
            graph.remove_node(bn)
            changed = True
        return changed
