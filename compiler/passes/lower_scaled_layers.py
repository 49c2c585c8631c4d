"""LowerScaledLayers: models whose quantizers have non-power-of-two scales (or keep a float
BatchNorm after quantized weights) become integer layers with explicit rescaling.

Every activation quantizer Q (scale s, zero point 0, b bits) makes its tensor an integer k with real
value k·s. A Dense/Conv on such an input with quantized weights (integers k_w, scales s_w[c]) sums
acc = Σ k·k_w exactly; its float tail up to the next activation quantizer — bias, BatchNorm, Add/Mul
by constants, Relu — is affine per channel, y = A[c]·acc + B[c], so the next quantizer computes
k' = clamp(round(acc·M[c] + B'[c])) with M = A/s', B' = B/s'. That is a `Rescale` with M and B' as
fixed-point constants (`multiplier_bits` significant bits), its cast rounding the quantizer's mode.
The graph input's quantizer becomes `FromFloat` with the scale; outputs get `ToFloat` with the real
scale (and offset, for an unquantized affine tail). Only the rounding of M and B' differs from the
model's float arithmetic.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import HwcError
from ..ir.graph import Graph, Node, Value
from ..ir.static import is_static, static_f64
from ..ir.types import F32, FixedType, Overflow, Rounding
from ..sim.fixed import from_float
from ..sim.float_ops import batchnorm_affine, qonnx_int_range
from .fixed_type_rules import exact_int_type
from .base import Pass
from .fold_batchnorm_into_next import input_shift
from .lower_quantizers import QONNX_ROUNDING

KEEPS_SCALE = frozenset({"MaxPool", "GlobalMaxPool", "Resize", "Reshape", "Transpose", "Identity", "Dropout"})


def _is_pow2(s: np.ndarray) -> bool:
    s = np.asarray(s, np.float64).reshape(-1)
    return bool(np.all(s > 0) and np.all(np.exp2(np.round(np.log2(s))) == s))


def _quant_params(node: Node):
    a = node.attrs
    if node.inputs[1].const is None or node.inputs[2].const is None:
        raise HwcError("scale and zero point must be constants", node=node.name, op=node.op)
    if np.any(node.inputs[2].const != 0):
        raise HwcError("a non-zero zero point is not supported for fixed-point targets", node=node.name, op=node.op)
    if a["bitwidth"] == 1 and a["signed"]:
        raise HwcError("bipolar activations are not supported with non-power-of-two scales", node=node.name, op=node.op)
    return np.asarray(node.inputs[1].const, np.float64), a["bitwidth"], a["signed"], a["narrow"]


def _anchor_type(node: Node) -> FixedType:
    s, b, signed, narrow = _quant_params(node)
    rounding = QONNX_ROUNDING.get(node.attrs["rounding_mode"])
    if rounding is None:
        raise HwcError(f"rounding mode {node.attrs['rounding_mode']} has no ap_fixed equivalent", node=node.name, op=node.op)
    if narrow and not signed:
        raise HwcError("narrow unsigned quantization is not a fixed-point range", node=node.name, op=node.op)
    return FixedType(b, b, signed, rounding, Overflow.SAT_SYM if narrow else Overflow.SAT)


def _drop_dead(graph: Graph, v: Value) -> None:
    """Remove the producers of a value nobody uses any more (a weight's quantizer chain)."""
    node = v.producer
    if node is None or v.uses or v in graph.outputs or node not in graph.nodes:
        return
    inputs = [i for i in node.inputs if i is not None]
    graph.remove_node(node)
    for i in inputs:
        _drop_dead(graph, i)


class LowerScaledLayers(Pass):
    name = "lower-scaled-layers"

    def __init__(self, multiplier_bits: int = 24, input_type=None):
        self.multiplier_bits = multiplier_bits
        # input_type(value) -> FixedType: the power-of-two port type of a graph input the model does not
        # quantize itself (from --input-bits and the input range); None: such an input is an error
        self.input_type = input_type

    @staticmethod
    def needed(graph: Graph) -> bool:
        """True when some quantizer has a non-power-of-two scale, or a float BatchNorm follows
        quantized weights (the power-of-two path of LowerQuantizers cannot absorb either)."""
        for n in graph.nodes:
            if n.op == "Quant" and n.inputs[1].const is not None and not _is_pow2(n.inputs[1].const):
                return True
            if n.op == "BatchNormalization":
                prev = n.inputs[0].producer
                if prev is not None and prev.op in ("Conv", "Dense") and prev.inputs[1].producer is not None \
                        and prev.inputs[1].producer.op == "Quant":
                    return True
        return False

    def run(self, graph: Graph) -> bool:
        if graph.metadata.get("scaled") or not self.needed(graph):
            return False
        self.scales: dict[int, float] = {}  # id(value) -> real scale of an integer tensor
        self._inputs(graph)
        for node in graph.toposort():
            if node not in graph.nodes:
                continue
            if node.op in KEEPS_SCALE and id(node.inputs[0]) in self.scales:
                self.scales[id(node.output)] = self.scales[id(node.inputs[0])]
            elif node.op in ("Dense", "Conv"):
                self._layer(graph, node)
        self._outputs(graph)
        graph.metadata["scaled"] = True
        return True

    # -- graph boundary --
    def _inputs(self, graph: Graph) -> None:
        for x in graph.inputs:
            users = [u.node for u in x.uses]
            chain = users[0] if len(users) == 1 else None
            relu = None
            if chain is not None and chain.op == "Relu" and graph.single_consumer(chain.output) is not None:
                relu, chain = chain, graph.single_consumer(chain.output)
            if (chain is None or chain.op != "Quant") and self.input_type is not None:
                self._port(graph, x)
                continue
            if chain is None or chain.op != "Quant":
                raise HwcError(f"input {x.name} must be quantized by the model (a Quant on the input) when it uses "
                               "non-power-of-two scales", node=users[0].name if users else None)
            s, b, signed, _ = _quant_params(chain)
            t = _anchor_type(chain)
            if relu is not None and signed:
                raise HwcError("Relu before a signed input quantizer is not supported", node=chain.name, op=chain.op)
            n = graph.add_node("FromFloat", [x], {"scale": float(s.reshape(-1)[0])}, name=f"{x.name}_to_fixed",
                               output_names=[chain.output.name + "_in"], output_types=[x.type.with_elem(t)], index=0)
            graph.replace_all_uses(chain.output, n.output)
            graph.remove_node(chain)
            if relu is not None:
                graph.remove_node(relu)
            graph.rename(n.output, chain.output.name)
            self.scales[id(n.output)] = float(s.reshape(-1)[0])

    def _port(self, graph: Graph, x: Value) -> None:
        """An input the model leaves float: its port type t (power of two) as integers k with x ~ k·2^-f."""
        t = self.input_type(x)
        t_int = FixedType(t.width, t.width, t.signed, t.rounding, t.overflow)
        s = 2.0 ** -t.frac_bits
        n = graph.add_node("FromFloat", [x], {"scale": s}, name=f"{x.name}_to_fixed", output_names=[f"{x.name}_fixed"],
                           output_types=[x.type.with_elem(t_int)], index=0)
        graph.replace_all_uses(x, n.output, skip=n)
        self.scales[id(n.output)] = s

    def _pre_affine(self, graph: Graph, node: Node):
        """A BatchNormalization x·a + b between a scaled tensor and this layer, with one a > 0 for every
        channel (an exporter's input normalisation, e.g. (x + 1) / 2): a joins the input scale and b the
        bias, b·W summed exactly on the integer weights. Returns the shift's contribution or None."""
        bn = node.inputs[0].producer
        if bn is None or bn.op != "BatchNormalization" or id(bn.inputs[0]) not in self.scales \
                or graph.single_consumer(bn.output) is not node or any(v.const is None for v in bn.inputs[1:]):
            return None
        a, b = batchnorm_affine(*[v.const for v in bn.inputs[1:]], bn.attrs["epsilon"], np.float64)
        if not (np.all(a == a[0]) and a[0] > 0) or (node.op == "Conv" and any(node.attrs["pads"]) and np.any(b != 0)):
            return None
        x = bn.inputs[0]
        self.scales[id(node.inputs[0])] = self.scales[id(x)] * float(a[0])
        return x, bn, b

    def _outputs(self, graph: Graph) -> None:
        for v in list(graph.outputs):
            if id(v) in self.scales:
                n = graph.add_node("ToFloat", [v], {"scale": [self.scales[id(v)]]}, name=f"{v.name}_to_float",
                                   output_names=[f"{v.name}_float"])
                graph.replace_all_uses(v, n.output, skip=n)

    # -- layers --
    def _weights(self, graph: Graph, node: Node) -> np.ndarray:
        """Integer weights k = round(clamp(W / s_w)) computed in float32 as qonnx does replace the
        quantized weight (through any Transposes); returns s_w per output channel."""
        w = node.inputs[1]
        q, transposes = w.producer, []
        while q is not None and q.op == "Transpose":
            transposes.append(q)
            q = q.inputs[0].producer
        if q is None or q.op != "Quant" or not is_static(graph, q.inputs[0]):
            raise HwcError("weights must be quantized by the model (Quant on a constant)", node=node.name, op=node.op)
        s, b, signed, narrow = _quant_params(q)
        raw = static_f64(q.inputs[0]).astype(np.float32)
        lo, hi = qonnx_int_range(b, signed, narrow)
        k = np.round(np.clip(raw / s.astype(np.float32), lo, hi)).astype(np.int64)
        axis = None
        if s.size > 1:
            shape = (1,) * (raw.ndim - s.ndim) + s.shape
            axis = next(i for i, d in enumerate(shape) if d > 1)
        for t in reversed(transposes):
            k = np.transpose(k, t.attrs["perm"])
            axis = None if axis is None else list(t.attrs["perm"]).index(axis)
        out_axis = 0 if node.op == "Conv" else 1
        if axis is not None and axis != out_axis:
            raise HwcError("per-channel weight scales must be on the output channels", node=q.name, op=q.op)
        width = max(abs(lo), hi).bit_length() + 1
        t = FixedType(width, width, True, Rounding.RND_CONV, Overflow.SAT)
        graph.set_input(node, 1, graph.constant(k, w.name + "_int", elem=t))
        _drop_dead(graph, w)
        n_out = k.shape[out_axis]
        return np.broadcast_to(s.reshape(-1), (n_out,)).astype(np.float64)

    def _layer(self, graph: Graph, node: Node) -> None:
        pre = self._pre_affine(graph, node)
        x = node.inputs[0]
        if id(x) not in self.scales:
            raise HwcError("the input of this layer is not quantized by the model", node=node.name, op=node.op)
        s_w = self._weights(graph, node)
        a = self.scales[id(x)] * s_w  # acc -> real, per output channel
        b = np.zeros_like(a)
        if pre is not None:  # Σ_k b[c(k)]·k_w[k, m]·s_w[m], exact on the integers
            src, bn, shift = pre
            k = node.inputs[1].const.astype(np.float64)
            b = b + input_shift(node.op, k, shift, node.attrs.get("group", 1)) * s_w
            graph.set_input(node, 0, src)
            graph.remove_node(bn)
        bias = node.input(2)
        if bias is not None:
            b = b + np.asarray(static_f64(bias), np.float64).reshape(-1)
            graph.set_input(node, 2, None)
            _drop_dead(graph, bias)
        # walk the float tail to the next activation quantizer
        v, relu, tail = node.output, False, []
        while True:
            nxt = graph.single_consumer(v)
            if nxt is None:
                break
            if nxt.op == "BatchNormalization" and not relu:
                sc, sh = batchnorm_affine(*[p.const for p in nxt.inputs[1:]], nxt.attrs["epsilon"], np.float64)
                a, b = a * sc, b * sc + sh
            elif nxt.op in ("Add", "Mul") and not relu and nxt.inputs[1].const is not None:
                c = np.broadcast_to(np.asarray(nxt.inputs[1].const, np.float64).reshape(-1), a.shape)
                a, b = (a, b + c) if nxt.op == "Add" else (a * c, b * c)
            elif nxt.op == "Relu" and not relu:
                relu = True
            else:
                break
            tail.append(nxt)
            v = nxt.output
        q = graph.single_consumer(v)
        axis = 1
        if q is not None and q.op in ("BipolarQuant", "Bipolar") and not relu and (q.op == "Bipolar" or q.inputs[1].const is not None):
            s_out = 1.0 if q.op == "Bipolar" else float(np.asarray(q.inputs[1].const).reshape(-1)[0])
            self._bipolar(graph, node, tail + [q], a, b, s_out)
            return
        if q is not None and q.op == "Quant" and not is_static(graph, q.inputs[0]):
            s_out, bits, signed, _ = _quant_params(q)
            if s_out.size != 1:
                raise HwcError("per-channel activation scales are not supported", node=q.name, op=q.op)
            if relu and signed:
                raise HwcError("Relu before a signed quantizer is not supported with non-power-of-two scales",
                               node=q.name, op=q.op)
            s_out = float(s_out.reshape(-1)[0])
            target = q.output
            out_t = _anchor_type(q)
            tail.append(q)
        elif v in graph.outputs and not relu:
            # an unquantized affine tail at the output: exact integers, the real value on the host
            self._retire(graph, node, tail, node.output)
            self.scales.pop(id(node.output), None)
            n = graph.add_node("ToFloat", [node.output], {"scale": a.tolist(), "offset": b.tolist(), "axis": axis},
                               name=f"{node.name}_to_float", output_names=[f"{node.output.name}_float"])
            graph.replace_all_uses(node.output, n.output, skip=n)
            return
        else:
            raise HwcError("the float tail of this layer does not end in an activation quantizer", node=node.name, op=node.op)
        m, off = self._rescale_constants(graph, node, a / s_out, b / s_out)
        r = graph.add_node("Rescale", [node.output, m, off], {"axis": axis}, name=f"{node.name}_rescale",
                           output_names=[target.name + "_r"], output_types=[target.type.with_elem(out_t)],
                           index=graph.nodes.index(node) + 1)
        self._retire(graph, node, tail, r.output, target)
        graph.rename(r.output, target.name)
        self.scales[id(r.output)] = s_out

    def _rescale_constants(self, graph: Graph, node: Node, m_real: np.ndarray, b_real: np.ndarray):
        """Rescale's M (multiplier_bits significant bits) and B (on M's grid, rounded half to even)."""
        m_t = self._multiplier_type(m_real)
        m = graph.constant(from_float(m_real, m_t), f"{node.name}_multiplier", elem=m_t)
        bt = FixedType(64, 64 - m_t.frac_bits, True, Rounding.RND_CONV, Overflow.SAT)
        b_m = from_float(b_real, bt).astype(np.int64)
        off = graph.constant(b_m, f"{node.name}_offset", elem=exact_int_type(int(b_m.min()), int(b_m.max()), m_t.frac_bits))
        return m, off

    def _bipolar(self, graph: Graph, node: Node, tail: list[Node], a: np.ndarray, b: np.ndarray, s_out: float) -> None:
        """A tail ending in BipolarQuant(s): y = s·(a·acc + b >= 0 ? 1 : -1). Rescale(acc, M = a, B = b)
        into a 2-bit type that rounds toward -inf and saturates keeps the sign of a·acc + b exactly
        (floor(v) >= 0 iff v >= 0); Bipolar maps it to +-1, the scale s goes to the output."""
        target = tail[-1].output
        m, off = self._rescale_constants(graph, node, a, b)
        sign_t = FixedType(2, 2, True, Rounding.TRN, Overflow.SAT)
        index = graph.nodes.index(node) + 1
        r = graph.add_node("Rescale", [node.output, m, off], {"axis": 1}, name=f"{node.name}_rescale",
                           output_names=[target.name + "_r"], output_types=[target.type.with_elem(sign_t)], index=index)
        bip = graph.add_node("Bipolar", [r.output], name=f"{node.name}_bipolar", output_names=[target.name + "_pm1"],
                             output_types=[target.type.with_elem(FixedType(2, 2, True))], index=index + 1)
        self._retire(graph, node, tail, bip.output)
        graph.rename(bip.output, target.name)
        self.scales[id(bip.output)] = s_out

    def _retire(self, graph: Graph, node: Node, tail: list[Node], new: Value, target: Value | None = None) -> None:
        """The tail's last output becomes `new`; the tail nodes (a single-consumer chain) go."""
        if tail:
            graph.replace_all_uses(tail[-1].output, new)
            for t in reversed(tail):
                graph.remove_node(t)

    def _multiplier_type(self, m: np.ndarray) -> FixedType:
        mx = float(np.abs(m).max()) if m.size else 0.0
        ib = math.floor(math.log2(mx)) + 2 if mx > 0 else 1
        return FixedType(self.multiplier_bits, ib, True, Rounding.RND_CONV, Overflow.SAT)
