"""LowerQLinear: ConvInteger/MatMulInteger (+ int32 bias Add) + Requantize(M, z_y) → Conv/Dense in TFLite int8 form.

The input and output take scale 1 (zero points z_x, z_y) and the weights s_w[c] = M[c], so the kernel's multiplier
s_in s_w / s_out is exactly the model's M. Integer weights w - w_zp keep their codes when they fit [-127, 127],
else are divided by their gcd g (scale M g, bias divided by g); a Dense whose codes fit neither keeps its zero
point per tensor (LiteRT's FULLY_CONNECTED honours it).
"""

from __future__ import annotations

import numpy as np

from ..errors import HwcError
from ..ir.graph import Graph
from ..ir.static import is_static, static_f64
from ..ir.types import AffineType
from .affine_params import AffinePass, F32_ELEM, I32, I8, Params, U8, bypass, constant_scalar, f32


class LowerQLinear(AffinePass):
    name = "lower-qlinear"

    def run(self, graph: Graph) -> bool:
        requantizes = [n for n in graph.toposort() if n.op == "Requantize"]
        for rq in requantizes:
            self._lower(graph, rq)
        return bool(requantizes)

    def _lower(self, graph: Graph, rq) -> None:
        st = self.state
        acc, bias = rq.inputs[0], None
        p = acc.producer
        if p is not None and p.op == "Add":
            c = [v for v in p.inputs if v.const is not None]
            if len(c) != 1:
                raise HwcError("the accumulator of a QLinear op must take a constant bias", node=p.name, op=p.op)
            bias = np.asarray(c[0].const, np.int64).reshape(-1)
            p = next(v for v in p.inputs if v.const is None).producer
        if p is None or p.op not in ("ConvInteger", "MatMulInteger"):
            raise HwcError("Requantize of something other than ConvInteger/MatMulInteger has no TFLite form",
                           node=rq.name, op=rq.op)
        x, w, xz, wz = (p.input(i) for i in range(4))
        if not is_static(graph, w):
            raise HwcError("QLinear weights must be constant", node=p.name, op=p.op)
        conv = p.op == "ConvInteger"
        wv = np.asarray(static_f64(w)).astype(np.int64)
        axis = 0 if conv else 1
        n_out = wv.shape[axis]
        wzv = np.broadcast_to(np.asarray(static_f64(wz) if wz is not None else 0, np.int64).reshape(-1), (n_out,))
        mult = np.broadcast_to(np.asarray(rq.inputs[1].const, np.float64).reshape(-1), (n_out,))
        shape = [1] * wv.ndim
        shape[axis] = n_out
        vals = wv - wzv.reshape(shape)
        q, scales, zps = integer_weights(vals, wv, wzv, mult, axis, conv, w.type.elem, p)
        if any(zps) and bias is not None and np.any(bias):
            raise HwcError("integer weights that need a zero point cannot take a bias in LiteRT (XNNPACK fails "
                           "to prepare FULLY_CONNECTED with both)", node=p.name, op=p.op)
        x_storage = x.type.elem
        xp = Params(1.0, int(constant_scalar(xz, p, "zero point")) - (128 if x_storage == U8 else 0))
        x = st.carry(graph, x, xp, p)
        if x in graph.inputs:
            st.in_storage[x] = x_storage
        to = rq.attrs["to"]
        yp = Params(1.0, int(constant_scalar(rq.input(2), rq, "zero point")) - (128 if to == U8 else 0))
        wconst = graph.constant(q.astype(np.int8), f"{p.name}_w", elem=AffineType(I8, tuple(scales), tuple(zps), axis))
        # the codes were divided by g (scale M g): the accumulator shrinks by g, and so must the bias
        gain = np.broadcast_to(np.asarray(scales), (n_out,)) / np.asarray([f32(m) for m in mult])
        b = np.zeros(n_out, np.int64) if bias is None else np.broadcast_to(bias, (n_out,))
        bq = np.round(b / gain).astype(np.int64)
        if np.any(np.abs(bq * gain - b) > 1e-6 * np.maximum(np.abs(b), 1)):
            st.notes.append(f"{p.name}: the int32 bias is rounded after rescaling the weights")
        bconst = graph.constant(bq.astype(np.int32), f"{p.name}_b",
                                elem=AffineType(I32, tuple(float(s) for s in np.broadcast_to(scales, (n_out,))),
                                                (0,) * n_out, 0))
        attrs = {k: p.attrs[k] for k in ("strides", "pads", "dilations", "group")} if conv else {}
        node = graph.add_node("Conv" if conv else "Dense", [x, wconst, bconst], attrs, name=p.name,
                              output_types=[rq.output.type.with_elem(F32_ELEM)])
        st.carried[node.output] = yp
        if rq.output in graph.outputs and to == U8:
            st.out_storage[node.output] = U8
        bypass(graph, rq, node.output, acc.producer if acc.producer is not p else None, p)


def integer_weights(vals, raw, wz, mult, axis, conv, storage, node):
    """int8 codes, scales and zero points for integer weights `vals` = raw - wz with multiplier M per channel:
    the codes themselves when they fit [-127, 127], else divided by their gcd (scale M * g); a Dense whose
    codes fit neither keeps its zero point (per tensor: XNNPACK then declines the node)."""
    q = np.empty_like(vals)
    scales, zps = [], []
    for c in range(vals.shape[axis]):
        v = np.take(vals, c, axis=axis)
        g = 1
        if np.abs(v).max(initial=0) > 127:
            g = int(np.gcd.reduce(np.abs(v).reshape(-1))) or 1
        if np.abs(v // g).max(initial=0) > 127:
            break
        idx = [slice(None)] * vals.ndim
        idx[axis] = c
        q[tuple(idx)] = v // g
        scales.append(f32(mult[c] * g))
        zps.append(0)
    else:
        return q, scales, zps
    if conv or len(set(wz.tolist())) != 1 or len(set(np.asarray(mult).tolist())) != 1:
        raise HwcError("integer weights span more than 255 codes after removing the zero point; TFLite "
                       "int8 weights must be symmetric here", node=node.name, op=node.op)
    shift = 128 if storage == U8 else 0
    return raw - shift, [f32(mult[0])], [int(wz[0]) - shift]
