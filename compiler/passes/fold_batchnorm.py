"""FoldBatchNorm: Conv/Dense with constant weights followed by BatchNormalization becomes one
Conv/Dense: with a = scale / sqrt(var + eps) and b = bias - mean * a (float32, as onnxruntime's
kernel), W'[m, ...] = W[m, ...] * a[m] (Dense: W'[:, m]) and bias' = bias * a + b."""

from __future__ import annotations

import numpy as np

from ..ir.graph import Graph
from ..sim.float_ops import batchnorm_affine
from .base import Pass


class FoldBatchNorm(Pass):
    name = "fold-batchnorm"

    def run(self, graph: Graph) -> bool:
        changed = False
        for bn in [n for n in graph.nodes if n.op == "BatchNormalization"]:
            prev = bn.inputs[0].producer
            if prev is None or prev.op not in ("Conv", "Dense") or graph.single_consumer(prev.output) is not bn:
                continue
            params = [v.const for v in bn.inputs[1:]]
            w, b = prev.inputs[1].const, prev.input(2).const if prev.input(2) is not None else None
            if any(p is None for p in params) or w is None or (prev.input(2) is not None and b is None):
                continue  # quantized or run-time weights cannot absorb a float scale
            dt = w.dtype
            a, shift = batchnorm_affine(*params, bn.attrs["epsilon"], dt)
            if prev.op == "Conv":
                w_new = (w * a.reshape((-1,) + (1,) * (w.ndim - 1))).astype(dt)
            else:
                w_new = (w * a.reshape(1, -1)).astype(dt)
            b_new = ((b if b is not None else np.zeros_like(a)) * a + shift).astype(dt)
            graph.set_input(prev, 1, graph.constant(w_new, prev.inputs[1].name + "_bn"))
            graph.set_input(prev, 2, graph.constant(b_new, f"{prev.name}_bias_bn"))
            graph.replace_all_uses(bn.output, prev.output)
            graph.remove_node(bn)
            changed = True
        return changed
