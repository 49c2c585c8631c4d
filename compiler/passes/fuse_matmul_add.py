"""FuseMatMulAdd: MatMul(x, W) with a static 2-D W becomes Dense(x, W); a following Add of a static
bias that broadcasts to (M,) becomes Dense's bias: Add(MatMul(x, W), b) → Dense(x, W, b).
"Static" includes a quantizer applied to a constant (QONNX weights)."""

from __future__ import annotations

from ..ir.graph import Graph
from ..ir.static import is_static
from .base import Pass


class FuseMatMulAdd(Pass):
    name = "fuse-matmul-add"

    def run(self, graph: Graph) -> bool:
        changed = False
        for mm in [n for n in graph.nodes if n.op == "MatMul"]:
            x, w = mm.inputs
            if w.type.rank != 2 or x.type.rank < 2 or not is_static(graph, w):
                continue
            index = graph.nodes.index(mm)
            dense = graph.add_node("Dense", [x, w], name=mm.name + "_dense", output_names=[mm.output.name + "_dense"], index=index)
            graph.replace_all_uses(mm.output, dense.output)
            graph.remove_node(mm)
            graph.rename_node(dense, mm.name)
            graph.rename(dense.output, mm.output.name)
            changed = True
        for dense in [n for n in graph.nodes if n.op == "Dense" and n.input(2) is None]:
            add = graph.single_consumer(dense.output)
            if add is None or add.op != "Add":
                continue
            bias = add.inputs[1] if add.inputs[0] is dense.output else add.inputs[0]
            m = dense.inputs[1].type.shape[1]
            if bias.type.shape not in ((m,), (1, m)) or not is_static(graph, bias):
                continue
            if bias.type.shape == (1, m):
                if bias.const is None:
                    continue
                bias = graph.constant(bias.const.reshape(m), bias.name)
            graph.set_input(dense, 2, bias)
            graph.replace_all_uses(add.output, dense.output)
            graph.remove_node(add)
            changed = True
        return changed
