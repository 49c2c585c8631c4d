"""WidenActivations: the int8 affine (TFLite) IR becomes TFLite's 16x8 mode (`--abits 16`): every int8
activation becomes int16, symmetric (zero point 0) over the real range its int8 parameters cover,
s16 = f32(max(|s·(-128 - z)|, |s·(127 - z)|) / 32767); weights stay int8; a Dense/Conv bias becomes int64
at s16_in·s_w[c] (q = rint(b_real / (s16_in·s_w[c])), from the int8 form's bias value). Values that share
int8 parameters (MaxPool, Reshape, Transpose, Relu, Concat) share int16 ones. Ops without a 16x8 form here
are refused with the reason."""

from __future__ import annotations

import numpy as np

from ..errors import HwcError
from ..ir.graph import Graph
from ..ir.types import AffineType, IntType
from .base import Pass

I8, I16, I64 = IntType(8), IntType(16), IntType(64)
FORMS_16X8 = ("FromFloat", "ToFloat", "Dense", "Conv", "MaxPool", "AveragePool", "Reshape", "Transpose", "Relu")


def _f32(x) -> float:
    return float(np.float32(x))


def wide(t: AffineType) -> AffineType:
    """The int16 parameters covering the real range of per-tensor int8 parameters t."""
    s, z = float(np.float32(t.scale[0])), t.zero_point[0]
    span = max(abs(s * (-128 - z)), abs(s * (127 - z)))
    return AffineType(I16, (_f32(span / 32767),), (0,), None)


class WidenActivations(Pass):
    name = "widen-activations"

    def run(self, graph: Graph) -> bool:
        for n in graph.toposort():
            if n.op not in FORMS_16X8:
                raise HwcError(f"{n.op} has no form in TFLite's 16x8 mode here (only {', '.join(FORMS_16X8)}); "
                               "use --abits 8", node=n.name, op=n.op)
        changed = False
        for v in graph.values():
            t = v.type.elem
            if v.const is None and isinstance(t, AffineType) and t.storage == I8:
                if len(t.scale) != 1:
                    raise HwcError(f"{v.name}: per-channel activation parameters have no 16x8 form")
                graph.retype(v, v.type.with_elem(wide(t)))
                changed = True
        for n in [n for n in graph.nodes if n.op in ("Dense", "Conv") and n.input(2) is not None]:
            b, s_in = n.inputs[2], n.inputs[0].type.elem.scale[0]
            sw = np.asarray(n.inputs[1].type.elem.scale, np.float64)
            real = np.asarray(b.const, np.float64) * np.asarray(b.type.elem.scale, np.float64)
            sb = np.float64(np.float32(s_in)) * np.asarray(sw, np.float32).astype(np.float64)
            q = np.rint(real / sb).astype(np.int64)
            graph.set_input(n, 2, graph.constant(q, f"{n.name}_b64", elem=AffineType(
                I64, tuple(float(x) for x in sb), (0,) * len(sb), 0)))
            changed = True
        return changed
