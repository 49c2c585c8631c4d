"""FoldBatchNormIntoNext: BatchNormalization (y = x·a + b per channel, constant statistics) whose only
user is a Dense or Conv with constant weights is folded into that layer's input side — the form of an
exporter's input normalisation, (x - mean) / std before the first layer:
  Dense: W'[k, m] = a[k]·W[k, m], bias'[m] = bias[m] + Σ_k b[k]·W[k, m];
  Conv:  W'[m, j, ...] = a[c]·W[m, j, ...], bias'[m] = bias[m] + Σ_{j,taps} b[c]·W[m, j, ...], with c the
         input channel of W[m, j] (group-aware).
The shift is exact only where every tap reads the input, so a padded Conv takes the fold only when b = 0.
Computed in float64 and rounded once to the weights' dtype (a reassociation of the float sum).
Weights the model quantizes itself, Quant(W, s) with zero point 0, take one power-of-two a > 0 for all
channels exactly: Quant(W, s)·a = Quant(W·a, s·a) (scaling by 2^k changes no rounding), with
W·b summed on the quantized weights."""

from __future__ import annotations

import numpy as np

from ..ir.graph import Graph
from ..sim.float_ops import batchnorm_affine
from .base import Pass, static_value


def input_channel(w: np.ndarray, groups: int) -> np.ndarray:
    """[M, C/g]: the input channel that conv weight W[m, j, ...] reads."""
    m, cg = w.shape[:2]
    return (np.arange(m)[:, None] // (m // groups)) * cg + np.arange(cg)[None, :]


def input_shift(op: str, w: np.ndarray, b: np.ndarray, groups: int = 1) -> np.ndarray:
    """What a per-input-channel shift b adds to each output of Dense (W [K, M]) or Conv (W [M, C/g, ...]):
    Σ_k b[k]·W[k, m], or Σ over taps of b[c]·W[m, j, ...]."""
    if op == "Dense":
        return b @ w
    return (w * b[input_channel(w, groups)][(...,) + (None,) * (w.ndim - 2)]).reshape(w.shape[0], -1).sum(axis=1)


def _quantizer(graph: Graph, w):
    """The Quant (constant input, scale and zero point 0) a weight comes from through Transposes, used
    by nothing else; None otherwise."""
    v = w
    while v.producer is not None and v.producer.op == "Transpose" and graph.single_consumer(v.producer.output) is not None:
        v = v.producer.inputs[0]
    q = v.producer
    if q is None or q.op != "Quant" or graph.single_consumer(q.output) is None or \
            any(i.const is None for i in q.inputs[:3]) or np.any(q.inputs[2].const != 0):
        return None
    return q


def _is_pow2(a: float) -> bool:
    return a > 0 and float(np.exp2(np.round(np.log2(a)))) == a


class FoldBatchNormIntoNext(Pass):
    name = "fold-batchnorm-into-next"

    def run(self, graph: Graph) -> bool:
        changed = False
        for bn in [n for n in graph.nodes if n.op == "BatchNormalization"]:
            layer = graph.single_consumer(bn.output)
            if layer is None or layer.op not in ("Dense", "Conv") or layer.inputs[0] is not bn.output:
                continue
            w_v, bias_v = layer.inputs[1], layer.input(2)
            if (bias_v is not None and bias_v.const is None) or any(v.const is None for v in bn.inputs[1:]):
                continue
            a, b = batchnorm_affine(*[v.const for v in bn.inputs[1:]], bn.attrs["epsilon"], np.float64)
            bias = bias_v.const.astype(np.float64) if bias_v is not None else None
            if w_v.const is None:
                q = _quantizer(graph, w_v)
                if q is None or not (np.all(a == a[0]) and _is_pow2(float(a[0]))) or \
                        (layer.op == "Conv" and any(layer.attrs["pads"]) and np.any(b != 0)) or \
                        (layer.op == "Dense" and bn.inputs[0].type.rank != 2):
                    continue
                shift = input_shift(layer.op, static_value(w_v).astype(np.float64), b, layer.attrs.get("group", 1))
                for i in (0, 1):
                    c = q.inputs[i].const
                    graph.set_input(q, i, graph.constant((c * np.asarray(a[0], c.dtype)).astype(c.dtype), q.inputs[i].name + "_prenorm"))
                dt = np.float32 if bias is None else bias_v.const.dtype
                graph.set_input(layer, 2, graph.constant((shift if bias is None else bias + shift).astype(dt),
                                                         f"{layer.name}_bias_prenorm"))
                graph.replace_all_uses(bn.output, bn.inputs[0])
                graph.remove_node(bn)
                changed = True
                continue
            w = w_v.const.astype(np.float64)
            if layer.op == "Dense":
                if bn.inputs[0].type.rank != 2:
                    continue
                w_new = w * a[:, None]
            else:
                if any(layer.attrs["pads"]) and np.any(b != 0):
                    continue
                w_new = w * a[input_channel(w, layer.attrs["group"])][(...,) + (None,) * (w.ndim - 2)]
            shift = input_shift(layer.op, w, b, layer.attrs.get("group", 1))
            dt = w_v.const.dtype
            bias_new = shift if bias is None else bias + shift
            graph.set_input(layer, 1, graph.constant(w_new.astype(dt), w_v.name + "_prenorm"))
            graph.set_input(layer, 2, graph.constant(bias_new.astype(dt), f"{layer.name}_bias_prenorm"))
            graph.replace_all_uses(bn.output, bn.inputs[0])
            graph.remove_node(bn)
            changed = True
        return changed
