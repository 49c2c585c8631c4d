"""TakeQuantizers: the model's own activation quantizers leave the graph; their parameters stay as carried int8
parameters on the value they quantize (see `carried_params`: a b-bit code q becomes q + 127 - qmax).

QONNX Quant (per-tensor, integer zero point), QuantizeLinear → [Clip →] DequantizeLinear (the Clip narrows the
codes), a DequantizeLinear of an integer graph input (its storage kept for the input's Cast), and a QuantizeLinear
at a graph output (its storage kept for the output). Run-time quantizers with no int8 form are refused.
"""

from __future__ import annotations

import math

from ..errors import DYNAMIC_QUANT_REFUSAL, HwcError
from ..ir.graph import Graph, Node
from ..ir.static import is_static
from ..ir.types import IntType
from ..sim.float_ops import qonnx_int_range
from .affine_params import AffinePass, Params, bypass, carried_params, constant_scalar

REFUSED = ("BipolarQuant", "Trunc", "Requantize", "ConvInteger", "MatMulInteger")


class TakeQuantizers(AffinePass):
    name = "take-quantizers"

    def run(self, graph: Graph) -> bool:
        changed = False
        st = self.state
        for node in list(graph.toposort()):
            if node not in graph.nodes or is_static(graph, node.output):
                continue
            if node.op == "Quant":
                a = node.attrs
                if a["bitwidth"] == 1 and a["signed"]:
                    raise HwcError("bipolar activations have no TFLite int8 form", node=node.name, op=node.op)
                qmin, qmax = qonnx_int_range(a["bitwidth"], a["signed"], a["narrow"])
                s = constant_scalar(node.inputs[1], node, "scale")
                z = constant_scalar(node.inputs[2], node, "zero point")
                if z != int(z):
                    raise HwcError("a non-integer zero point has no TFLite form", node=node.name, op=node.op)
                p = carried_params(s, int(z), qmin, qmax, node)
                bypass(graph, node, st.carry(graph, node.inputs[0], p, node))
            elif node.op == "DequantizeLinear":
                self._dequantize(graph, node)
            elif node.op == "QuantizeLinear" and not node.output.uses:
                if node.output not in graph.outputs:
                    raise HwcError("a QuantizeLinear without its DequantizeLinear is only supported at a graph output",
                                   node=node.name, op=node.op)
                t = node.output.type.elem
                p = qdq_params(node, t, t.min, t.max)
                target = st.carry(graph, node.inputs[0], p, node)
                st.out_storage[target] = t
                bypass(graph, node, target)
            elif node.op == "DynamicQuantizeLinear":
                raise HwcError(DYNAMIC_QUANT_REFUSAL, node=node.name, op=node.op)
            elif node.op in REFUSED:
                raise HwcError(f"{node.op} on a run-time value has no TFLite int8 form here",
                               node=node.name, op=node.op)
            else:
                continue
            changed = True
        return changed

    def _dequantize(self, graph: Graph, dq: Node) -> None:
        src, clip = dq.inputs[0], None
        storage = src.type.elem
        lo, hi = storage.min, storage.max
        if src.producer is not None and src.producer.op == "Clip":
            clip = src.producer
            if clip.attrs["min"] is not None:
                lo = max(lo, math.ceil(clip.attrs["min"]))
            if clip.attrs["max"] is not None:
                hi = min(hi, math.floor(clip.attrs["max"]))
            src = clip.inputs[0]
        p = qdq_params(dq, storage, lo, hi)
        q = src.producer
        if q is not None and q.op == "QuantizeLinear":
            if constant_scalar(q.inputs[1], q, "scale") != constant_scalar(dq.inputs[1], dq, "scale") or \
                    constant_scalar(q.input(2), q, "zero point") != constant_scalar(dq.input(2), dq, "zero point"):
                raise HwcError("QuantizeLinear and DequantizeLinear parameters differ", node=dq.name, op=dq.op)
            bypass(graph, dq, self.state.carry(graph, q.inputs[0], p, dq), clip, q)
        elif src in graph.inputs and isinstance(storage, IntType):
            self.state.in_storage[src] = storage
            bypass(graph, dq, self.state.carry(graph, src, p, dq), clip)
        else:
            raise HwcError("DequantizeLinear of a run-time integer needs its QuantizeLinear", node=dq.name, op=dq.op)


def qdq_params(node: Node, storage, lo: int, hi: int) -> Params:
    """The int8 parameters of a QuantizeLinear/DequantizeLinear with integer storage, codes clamped to [lo, hi]."""
    if not isinstance(storage, IntType) or storage.bits > 8:
        raise HwcError(f"{storage} quantization does not fit TFLite int8", node=node.name, op=node.op)
    return carried_params(constant_scalar(node.inputs[1], node, "scale"),
                          int(constant_scalar(node.input(2), node, "zero point")), lo, hi, node)
