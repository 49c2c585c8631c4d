"""QuantizeAffineWeights: Conv/Dense weights → int8 codes, symmetric, one scale per output channel (Conv axis 0
of OIHW, Dense axis 1 of [K, M]); the bias stays float (QuantizeAffineBiases makes it int32 once s_in is known).

Codes come from the model's own weight quantizer when the weights are integer multiples of its scale within
int8, else s_c = f max|W_c| / qmax (qmax = 2^(wbits-1) - 1; f = 1 at 8 bits, else the f in [0.2, 1] with the
least squared error), q = clip(round_half_even(W / s_c), -qmax, qmax). A BatchNorm folded before scales them.
"""

from __future__ import annotations

import numpy as np

from ..ir.graph import Graph, Value
from ..ir.static import static_f64
from ..ir.types import AffineType
from .affine_params import AffinePass, I8, f32


class QuantizeAffineWeights(AffinePass):
    name = "quantize-affine-weights"

    def run(self, graph: Graph) -> bool:
        qmax = (1 << (self.state.wbits - 1)) - 1
        changed = False
        for n in [n for n in graph.toposort() if n.op in ("Dense", "Conv")]:
            w = n.inputs[1]
            if isinstance(w.type.elem, AffineType):
                continue  # from a QLinear op, or quantized already
            axis = 0 if n.op == "Conv" else 1
            wv = np.asarray(static_f64(w), np.float64)
            bias = static_f64(n.input(2)) if n.input(2) is not None else np.zeros(wv.shape[axis])
            a, shift = self.state.bn_fold.get(n, (None, None))
            q, scales = self._carried_weights(w, wv, axis)
            shape = [1] * wv.ndim
            shape[axis] = -1
            if a is not None:
                bias = bias * a + shift
                if q is not None:
                    q = q * np.sign(a).reshape(shape).astype(np.int64)
                    scales = [f32(s * abs(x)) for s, x in zip(scales, a)]
                wv = wv * a.reshape(shape)
            if q is None:
                scales = weight_scales(np.moveaxis(wv, axis, 0).reshape(wv.shape[axis], -1), qmax)
                q = np.clip(np.rint(wv / np.asarray(scales).reshape(shape)), -qmax, qmax).astype(np.int64)
            elem = AffineType(I8, tuple(scales), (0,) * len(scales), axis)
            graph.set_input(n, 1, graph.constant(q.astype(np.int8), f"{n.name}_w", elem=elem))
            graph.set_input(n, 2, graph.constant(np.asarray(bias, np.float64), f"{n.name}_bias_f"))
            changed = True
        return changed

    def _carried_weights(self, w: Value, wv: np.ndarray, axis: int):
        """(codes, per-channel scales) when the weight comes from the model's own quantizer, else (None, None)."""
        v, ax = w, axis
        while v.producer is not None and v.producer.op == "Transpose":
            ax = v.producer.attrs["perm"][ax]
            v = v.producer.inputs[0]
        q = v.producer
        if q is None or q.op not in ("Quant", "BipolarQuant", "DequantizeLinear"):
            return None, None
        if q.inputs[1].const is None:
            return None, None
        s = np.asarray(q.inputs[1].const, np.float64)
        rank = q.output.type.rank
        if s.size == 1:
            s = np.full(wv.shape[axis], float(s.reshape(-1)[0]))
        elif q.op == "DequantizeLinear":
            if q.attrs["axis"] % rank != ax:
                return None, None
            s = s.reshape(-1)
        else:  # QONNX: the scale broadcasts against the quantizer's output
            full = s.reshape((1,) * (rank - s.ndim) + s.shape)
            if [i for i, d in enumerate(full.shape) if d > 1] != [ax]:
                return None, None
            s = full.reshape(-1)
        shape = [1] * wv.ndim
        shape[axis] = -1
        s32 = np.asarray([f32(x) for x in s])
        codes = wv / s32.reshape(shape)
        q_int = np.rint(codes)
        if np.abs(codes - q_int).max(initial=0) > 1e-3 or np.abs(q_int).max(initial=0) > 127:
            self.state.notes.append(f"{q.name}: weights are not integer multiples of their scale within int8; "
                                    "quantized anew from their values")
            return None, None
        return q_int.astype(np.int64), [float(x) for x in s32]


def weight_scales(w: np.ndarray, qmax: int) -> list[float]:
    """Per row of w [C, K]: s = max|w| / qmax for 8 bits; below, the s = f max|w| / qmax (f in [0.2, 1]) with the
    least squared error of s * clip(round(w / s), -qmax, qmax) (a compile-time choice; 8-bit clipping never helps)."""
    amax = np.abs(w).max(axis=1)
    f = np.linspace(0.2, 1.0, 33) if qmax < 127 else np.ones(1)
    s = np.maximum(amax, 1e-30)[:, None] * f[None, :] / qmax  # [C, F]
    err = np.empty(s.shape)
    for j in range(len(f)):  # one candidate at a time: temporaries of w's size, not 33 times it
        sj = s[:, j:j + 1]
        q = np.clip(np.rint(w / sj), -qmax, qmax)
        err[:, j] = ((q * sj - w) ** 2).sum(axis=1)
    best = s[np.arange(len(s)), err.argmin(axis=1)]
    # an all-zero channel takes the smallest other scale: any scale is exact for it, and a large one would
    # push the requantization multiplier s_in s_w / s_out towards XNNPACK's limit of 256
    spare = f32(best[amax > 0].min()) if (amax > 0).any() else 1.0
    return [f32(b) if m > 0 else spare for b, m in zip(best, amax)]
