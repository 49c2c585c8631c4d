"""QuantizeAffineBiases: a Dense/Conv float bias → int32 at scale s_in * s_w[c], zero point 0:
b_q = clip(round_half_even(b / (s_in s_w[c])), int32) with s_in and s_w as float32 (TFLite's bias scale)."""

from __future__ import annotations

import numpy as np

from ..ir.graph import Graph
from ..ir.types import AffineType
from .affine_params import AffinePass, I32


class QuantizeAffineBiases(AffinePass):
    name = "quantize-affine-biases"

    def run(self, graph: Graph) -> bool:
        changed = False
        for n in [n for n in graph.nodes if n.op in ("Dense", "Conv")]:
            b = n.input(2)
            if b is not None and isinstance(b.type.elem, AffineType):
                continue
            s_in = np.float64(np.float32(self.state.params[n.inputs[0]].scale))
            sw = np.asarray(n.inputs[1].type.elem.scale, np.float32).astype(np.float64)
            sb = s_in * sw
            q = np.rint(np.asarray(b.const, np.float64) / sb)
            if np.abs(q).max(initial=0) > 2**31 - 1:
                self.state.notes.append(f"{n.name}: bias saturates int32")
            q = np.clip(q, -(2**31), 2**31 - 1).astype(np.int32)
            graph.set_input(n, 2, graph.constant(q, f"{n.name}_b", elem=AffineType(I32, tuple(float(x) for x in sb),
                                                                                  (0,) * len(sb), 0)))
            changed = True
        return changed
