"""LowerQuantizers: the model's own quantizers become fixed-point types, exactly.

A quantizer with a power-of-two scale 2^-f and zero point 0 over b bits is the type
FixedType(b, b - f, signed) with its rounding (ROUND/half-even → RND_CONV, FLOOR → TRN, DOWN →
TRN_ZERO, HALF_UP → RND_INF, HALF_DOWN → RND_ZERO) and SAT (SAT_SYM when narrow and signed):
- applied to a constant (weights, biases) it becomes the constant's mantissas, computed here;
- applied to a run-time value it becomes a `Cast` to that type (fused into the producer later).
QONNX `Quant`, `BipolarQuant` (constants: mantissas ±1) and the ONNX QCDQ chains
`DequantizeLinear(Clip?(QuantizeLinear(x)))` (activations) and `DequantizeLinear(Clip?(int const))`
(weights, int32 biases) are handled. Per-channel power-of-two weight scales become `weight_shift`.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import HwcError
from ..ir.graph import Graph, Node, Value
from ..ir.static import is_static, static_f64
from ..ir.types import FixedType, IntType, Overflow, Rounding
from ..sim.fixed import from_float
from .base import Pass

QONNX_ROUNDING = {"ROUND": Rounding.RND_CONV, "HALF_EVEN": Rounding.RND_CONV, "FLOOR": Rounding.TRN,
                  "DOWN": Rounding.TRN_ZERO, "HALF_UP": Rounding.RND_INF, "HALF_DOWN": Rounding.RND_ZERO}


def pow2_frac(scale: np.ndarray, node: Node) -> np.ndarray:
    """f with scale = 2^-f for every entry, or a clear error."""
    s = np.asarray(scale, np.float64).reshape(-1)
    if (s <= 0).any():
        raise HwcError("scale must be positive", node=node.name, op=node.op)
    f = -np.log2(s)
    if not np.all(f == np.round(f)):
        raise HwcError(f"scale {s[0]:.6g}{' (per channel)' if s.size > 1 else ''} is not a power of two; "
                       "fixed-point targets take power-of-two scales for now", node=node.name, op=node.op)
    return np.round(f).astype(np.int64)


def _overflow_for(lo: int, hi: int, bits: int, signed: bool, node: Node) -> Overflow:
    if signed and (lo, hi) == (-(1 << (bits - 1)), (1 << (bits - 1)) - 1):
        return Overflow.SAT
    if signed and (lo, hi) == (-(1 << (bits - 1)) + 1, (1 << (bits - 1)) - 1):
        return Overflow.SAT_SYM
    if not signed and (lo, hi) == (0, (1 << bits) - 1):
        return Overflow.SAT
    raise HwcError(f"integer range [{lo}, {hi}] is not a {bits}-bit fixed-point range", node=node.name, op=node.op)


class LowerQuantizers(Pass):
    name = "lower-quantizers"

    def run(self, graph: Graph) -> bool:
        changed = False
        for node in list(graph.toposort()):
            if node not in graph.nodes:
                continue
            if node.op == "Quant":
                changed |= self._quant(graph, node)
            elif node.op == "BipolarQuant":
                changed |= self._bipolar(graph, node)
            elif node.op == "DequantizeLinear":
                changed |= self._dequantize(graph, node)
            elif node.op in ("QuantizeLinear", "Trunc"):
                continue  # a QuantizeLinear is consumed with its DequantizeLinear; alone it stays (and is reported)
        return changed

    # -- helpers --
    def _replace_with_const(self, graph: Graph, node: Node, mantissas: np.ndarray, t: FixedType, shift=None,
                            axis: int | None = None) -> None:
        """The quantizer's output becomes a constant of mantissas; per-channel shifts go to the layer
        that consumes the weight (through Transposes, which move the channel axis)."""
        c = graph.constant(mantissas.astype(np.int64), node.output.name + "_q", elem=t)
        if shift is not None:
            for use in node.output.uses:
                self._mark_shift(use.node, use.index, axis, shift, node)
        graph.replace_all_uses(node.output, c)
        graph.remove_node(node)

    def _mark_shift(self, user: Node, index: int, axis: int, shift, q: Node) -> None:
        if user.op == "Transpose":
            new_axis = list(user.attrs["perm"]).index(axis)
            for use in user.output.uses:
                self._mark_shift(use.node, use.index, new_axis, shift, q)
            return
        out_axis = {"Dense": 1, "MatMul": 1, "Conv": 0}.get(user.op)
        if index != 1 or out_axis is None or axis != out_axis:
            raise HwcError("per-channel scales are supported on the output channels of Dense/Conv weights only",
                           node=q.name, op=q.op)
        user.attrs["weight_shift"] = shift

    def _replace_with_cast(self, graph: Graph, node: Node, x: Value, t: FixedType) -> None:
        """The quantizer (node, whose output ends the chain) becomes Cast(x) to `t`, keeping the names."""
        name, out_name = node.name, node.output.name
        cast = graph.add_node("Cast", [x], {"to": t}, name=name + "_cast", output_names=[out_name + "_cast"],
                              output_types=[node.output.type.with_elem(t)], index=graph.nodes.index(node))
        graph.replace_all_uses(node.output, cast.output)
        graph.remove_node(node)
        graph.rename_node(cast, name)
        graph.rename(cast.output, out_name)

    def _per_channel_consts(self, node, values: np.ndarray, fracs: np.ndarray, make_type, axis: int):
        """Mantissas for per-channel scales; the type has the finest fraction, weight_shift aligns the rest."""
        fmax = int(fracs.max())
        mants = []
        for c in range(values.shape[axis]):
            t = make_type(int(fracs[c]))
            mants.append(from_float(np.take(values, c, axis=axis), t).astype(np.int64))
        m = np.stack(mants, axis=axis)
        return m, make_type(fmax), [int(fmax - f) for f in fracs]

    # -- QONNX --
    def _quant(self, graph: Graph, node: Node) -> bool:
        a = node.attrs
        zp = node.inputs[2]
        if zp.const is None or np.any(zp.const != 0):
            raise HwcError("a non-zero zero point is not supported for fixed-point targets", node=node.name, op=node.op)
        if node.inputs[1].const is None:
            raise HwcError("the scale must be a constant", node=node.name, op=node.op)
        b, signed, narrow = a["bitwidth"], a["signed"], a["narrow"]
        if b == 1 and signed:
            return self._bipolar(graph, node)
        rounding = QONNX_ROUNDING.get(a["rounding_mode"])
        if rounding is None:
            raise HwcError(f"rounding mode {a['rounding_mode']} has no ap_fixed equivalent", node=node.name, op=node.op)
        if narrow and not signed:
            raise HwcError("narrow unsigned quantization (max 2^b - 2) is not a fixed-point range", node=node.name, op=node.op)
        overflow = Overflow.SAT_SYM if narrow else Overflow.SAT
        fracs = pow2_frac(node.inputs[1].const, node)

        def make(f):
            return FixedType(b, b - f, signed, rounding, overflow)

        x = node.inputs[0]
        if is_static(graph, x):
            values = static_f64(x)
            if fracs.size == 1:
                t = make(int(fracs[0]))
                self._replace_with_const(graph, node, from_float(values, t), t)
            else:
                axis = self._channel_axis(node, values, fracs)
                m, t, shift = self._per_channel_consts(node, values, fracs, make, axis)
                self._replace_with_const(graph, node, m, t, shift if any(shift) else None, axis)
            return True
        if fracs.size != 1:
            raise HwcError("per-channel activation scales are not supported for fixed-point targets", node=node.name, op=node.op)
        self._replace_with_cast(graph, node, x, make(int(fracs[0])))
        return True

    def _channel_axis(self, node, values, fracs) -> int:
        """The axis of a per-channel scale: the one whose size matches and whose scale shape is not 1."""
        shape = np.asarray(node.inputs[1].const).shape
        for ax, n in enumerate(shape):
            if n == fracs.size and n > 1:
                return ax if len(shape) == values.ndim else values.ndim - len(shape) + ax
        raise HwcError(f"cannot tell the channel axis of a scale of shape {shape}", node=node.name, op=node.op)

    def _bipolar(self, graph: Graph, node: Node) -> bool:
        x = node.inputs[0]
        if not is_static(graph, x):
            raise HwcError("bipolar activations are not supported for fixed-point targets", node=node.name, op=node.op)
        f = pow2_frac(node.inputs[1].const, node)
        if f.size != 1:
            raise HwcError("per-channel bipolar scales are not supported", node=node.name, op=node.op)
        values = static_f64(x)
        if node.op == "Quant":  # 1-bit signed Quant: sign of x/s + z, as qonnx computes it
            values = values / float(np.asarray(node.inputs[1].const).reshape(-1)[0]) + float(np.asarray(node.inputs[2].const).reshape(-1)[0])
        m = np.where(values >= 0, 1, -1)
        t = FixedType(2, 2 - int(f[0]), True, Rounding.RND_CONV, Overflow.SAT)
        self._replace_with_const(graph, node, m, t)
        return True

    # -- ONNX QDQ --
    def _dequantize(self, graph: Graph, node: Node) -> bool:
        x, scale, zp = node.inputs[0], node.inputs[1], node.input(2)
        if scale.const is None:
            raise HwcError("the scale must be a constant", node=node.name, op=node.op)
        if zp is not None and (zp.const is None or np.any(zp.const != 0)):
            raise HwcError("a non-zero zero point is not supported for fixed-point targets", node=node.name, op=node.op)
        fracs = pow2_frac(scale.const, node)
        storage = x.type.elem
        if not isinstance(storage, IntType):
            raise HwcError(f"cannot dequantize {storage}", node=node.name, op=node.op)
        lo, hi = storage.min, storage.max
        src = x
        clip = None
        if x.producer is not None and x.producer.op == "Clip":
            clip = x.producer
            lo = max(lo, int(math.ceil(clip.attrs["min"]))) if clip.attrs["min"] is not None else lo
            hi = min(hi, int(math.floor(clip.attrs["max"]))) if clip.attrs["max"] is not None else hi
            src = clip.inputs[0]
        if clip is None:
            bits, signed = storage.bits, storage.signed
        else:
            signed = lo < 0
            bits = max(hi.bit_length(), (-lo - 1).bit_length()) + 1 if signed else hi.bit_length()
        overflow = _overflow_for(lo, hi, bits, signed, node)

        def make(f):
            return FixedType(bits, bits - f, signed, Rounding.RND_CONV, overflow)

        if is_static(graph, src):
            values = np.asarray(static_f64(src)).astype(np.int64)
            values = np.clip(values, lo, hi)
            if fracs.size == 1:
                self._replace_with_const(graph, node, values, make(int(fracs[0])))
            else:
                axis = node.attrs["axis"] % values.ndim
                fmax = int(fracs.max())
                shift = [int(fmax - f) for f in fracs]
                self._replace_with_const(graph, node, values, make(fmax), shift if any(shift) else None, axis)
            self._drop_if_dead(graph, clip)
            return True
        q = src.producer
        if q is None or q.op != "QuantizeLinear":
            raise HwcError("DequantizeLinear of a run-time integer tensor needs its QuantizeLinear", node=node.name, op=node.op)
        if pow2_frac(q.inputs[1].const, q).tolist() != fracs.tolist():
            raise HwcError("QuantizeLinear and DequantizeLinear scales differ", node=node.name, op=node.op)
        if fracs.size != 1:
            raise HwcError("per-channel activation scales are not supported for fixed-point targets", node=node.name, op=node.op)
        if q.input(2) is not None and np.any(q.inputs[2].const != 0):
            raise HwcError("a non-zero zero point is not supported for fixed-point targets", node=q.name, op=q.op)
        self._replace_with_cast(graph, node, q.inputs[0], make(int(fracs[0])))
        self._drop_if_dead(graph, clip)
        self._drop_if_dead(graph, q)
        return True

    @staticmethod
    def _drop_if_dead(graph: Graph, node: Node | None) -> None:
        if node is not None and node in graph.nodes and not node.output.uses and node.output not in graph.outputs:
            graph.remove_node(node)
