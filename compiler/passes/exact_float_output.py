"""ExactFloatOutput: on the affine (TFLite) IR, a Dense that the model leaves unquantized at its float output
computes in float32, exactly, instead of requantizing to int8.

A model that carries its own quantizers (QONNX, QCDQ) usually ends in a Dense whose float output (logits)
it never quantizes: acc·s_x·s_w needs as many bits as the accumulator (10 and more), which an int8 output
cannot hold. When s_x and every s_w[c] are powers of two, the rewrite

    ToFloat(Dense_int8(x; w_q, b_q))  ->  Dense_f32(ToFloat(x); w_q·s_w, b_q·s_b)

is exact: ToFloat (DEQUANTIZE) gives (q - z)·s_x exactly, every product and the bias are integer multiples
of u_c = s_x·s_w[c], and the f32 sums are exact in any order while max|q - z|·Σ|w_q| + |b_q| < 2^24
(checked per output channel). The fused activation (RELU and the like) stays on the float layer; the DEQUANTIZE goes before a flatten
(Reshape/Transpose) that feeds the layer, so that the layout still folds the flatten into the weights.
Only a Dense whose input the model quantized itself (`carried`) and whose output parameters are not the
model's own is rewritten: a float model's int8 output is the compiler's choice, not a reference to match."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from ..ir.graph import Graph, Node, Value
from ..ir.types import AffineType, FloatType
from .base import Pass

F32 = FloatType(32)
F32_EXACT = 1 << 24  # integers up to 2^24 are exact in float32
KEEP_PARAMS = ("Reshape", "Transpose", "MaxPool", "Pad", "Identity")  # output parameters are the input's
MOVES = ("Reshape", "Transpose")  # pure data movement: runs on the float values as well


def _pow2(s: float) -> bool:
    m, _ = math.frexp(s)
    return s > 0 and m == 0.5


def exact_in_f32(node: Node) -> bool:
    """The f32 form of an int8 Dense is exact: power-of-two scales, and every partial sum below 2^24 units."""
    x, w, b = node.inputs[0], node.inputs[1], node.input(2)
    xt, wt = x.type.elem, w.type.elem
    if not (isinstance(xt, AffineType) and isinstance(wt, AffineType) and len(xt.scale) == 1):
        return False
    if not _pow2(xt.scale[0]) or not all(_pow2(s) for s in wt.scale) or any(wt.zero_point):
        return False
    span = max(xt.storage.max - xt.zero_point[0], xt.zero_point[0] - xt.storage.min)
    wq = np.abs(np.asarray(w.const, np.int64)).sum(axis=0)  # [K, M] -> per output channel
    bq = np.abs(np.asarray(b.const, np.int64)) if b is not None else 0
    if b is not None and not np.allclose(np.asarray(b.type.elem.scale, np.float64),
                                         xt.scale[0] * np.asarray(wt.scale, np.float64), rtol=0, atol=0):
        return False
    return int((span * wq + bq).max(initial=0)) < F32_EXACT


def _source(v: Value, through: tuple[str, ...]) -> Value:
    """The value v comes from through a single-use chain of `through` ops."""
    while v.producer is not None and v.producer.op in through and len(v.uses) == 1:
        v = v.producer.inputs[0]
    return v


class ExactFloatOutput(Pass):
    name = "exact-float-output"

    def __init__(self, carried: Callable[[Value], bool]):
        self.carried = carried  # whether the model's own quantizer chose a value's parameters
        self.rewritten: list[str] = []  # the Dense layers now computed in float32

    def run(self, graph: Graph) -> bool:
        changed = False
        for tf in [n for n in graph.toposort() if n.op == "ToFloat"]:
            d = tf.inputs[0].producer
            if d is None or d.op != "Dense" or tf.output not in graph.outputs or len(d.output.uses) != 1:
                continue
            if not self.carried(_source(d.inputs[0], KEEP_PARAMS)) or self.carried(d.output) or not exact_in_f32(d):
                continue
            self.rewritten.append(d.name)
            self._rewrite(graph, d, tf)
            changed = True
        if changed:
            graph.sort()
        return changed

    def _rewrite(self, graph: Graph, d: Node, tf: Node) -> None:
        x, w, b = d.inputs[0], d.inputs[1], d.input(2)
        src = _source(x, MOVES)  # dequantize before a flatten: the layout folds it into the weights
        deq = graph.add_node("ToFloat", [src], name=f"{d.name}_input_dequantize",
                             output_types=[src.type.with_elem(F32)]).output
        v, moved = x, []
        while v is not src:
            moved.append(v)
            v = v.producer.inputs[0]
        if moved:
            graph.set_input(moved[-1].producer, 0, deq)
            for m in moved:
                graph.retype(m, m.type.with_elem(F32))
            deq = x
        ws = np.asarray(w.type.elem.scale, np.float64)
        wf = graph.constant((np.asarray(w.const, np.float64) * ws.reshape(1, -1)).astype(np.float32), f"{d.name}_w_f32")
        ins = [deq, wf]
        if b is not None:
            bs = np.asarray(b.type.elem.scale, np.float64)
            ins.append(graph.constant((np.asarray(b.const, np.float64) * bs).astype(np.float32), f"{d.name}_b_f32"))
        name = tf.output.name
        f = graph.add_node("Dense", ins, dict(d.attrs), name=f"{d.name}_f32", output_types=[tf.output.type])
        graph.replace_all_uses(tf.output, f.output)
        graph.remove_node(tf)
        graph.remove_node(d)
        graph.rename(f.output, name)
