"""PruneWeights: unstructured magnitude pruning. In every Dense/Conv (or only those named), the
round(fraction · size) weights of smallest |w| become exactly 0 (per layer, or by one global
threshold with `scope="global"`). With `refit`, each layer's remaining weights and bias are then
solved by least squares (per output unit, over its nonzero weights only) so that its output on the
calibration data matches the unpruned layer's. Zeros stay zeros through quantization (0 maps to mantissa 0), and
the HLS kernels skip them. Weights behind a quantizer (QONNX Quant on a constant) are pruned in the
float constant the quantizer reads."""

from __future__ import annotations

import numpy as np

from ..ir.graph import Graph, Node, Value
from ..ir.static import constant_source
from .base import Pass


def weight_constant(node: Node) -> Value | None:
    """The float constant holding a layer's weights, through quantizers and layout ops."""
    v = constant_source(node.inputs[1])
    return v if v is not None and np.issubdtype(v.const.dtype, np.floating) else None


class PruneWeights(Pass):
    name = "prune-weights"

    def __init__(self, fraction: float, scope: str = "layer", layers: dict[str, float] | None = None,
                 calib=None, do_refit: bool = False):
        if not 0.0 <= fraction < 1.0:
            raise ValueError("fraction must be in [0, 1)")
        if do_refit and calib is None:
            raise ValueError("refit needs calibration data")
        self.fraction = fraction
        self.scope = scope
        self.layers = layers or {}  # node name -> fraction (overrides)
        self.calib, self.do_refit = calib, do_refit

    def _fraction(self, node: Node) -> float:
        return self.layers.get(node.name, self.layers.get(node.op, self.fraction))

    def run(self, graph: Graph) -> bool:
        targets = [(n, weight_constant(n)) for n in graph.toposort() if n.op in ("Dense", "Conv")]
        targets = [(n, w) for n, w in targets if w is not None]
        if not targets:
            return False
        masks = {}
        if self.scope == "global":
            mags = np.concatenate([np.abs(w.const).reshape(-1) for _, w in targets])
            k = int(round(self.fraction * mags.size))
            if k == 0:
                return False
            order = np.argsort(mags, kind="stable")
            keep = np.ones(mags.size, bool)
            keep[order[:k]] = False
            start = 0
            for n, w in targets:
                masks[id(w)] = keep[start:start + w.const.size].reshape(w.const.shape)
                start += w.const.size
        else:
            for n, w in targets:
                k = int(round(self._fraction(n) * w.const.size))
                if k == 0:
                    continue
                order = np.argsort(np.abs(w.const).reshape(-1), kind="stable")
                keep = np.ones(w.const.size, bool)
                keep[order[:k]] = False
                masks[id(w)] = keep.reshape(w.const.shape)
        changed = False
        original = graph.clone() if self.do_refit else None
        for n, w in targets:
            mask = masks.get(id(w))
            if mask is None or mask.all():
                continue
            pruned = np.where(mask, w.const, np.zeros((), w.const.dtype))
            if np.array_equal(pruned, w.const):
                continue
            new = graph.constant(pruned, w.name + "_pruned")
            for use in list(w.uses):
                graph.set_input(use.node, use.index, new)
            changed = True
        if changed and self.do_refit:
            from .prune_channels import refit

            for n, _ in targets:  # in order: each layer sees the already refitted layers before it
                if n.inputs[1].const is not None:
                    refit(graph, original, [n], self.calib, masked=True)
        return changed
