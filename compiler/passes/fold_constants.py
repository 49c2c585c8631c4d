"""FoldConstants: a node whose inputs are all constants becomes a constant (computed by the float
simulator's function for its op). Quantizers are kept unless `fold_quantizers`: they carry the
precision that the quantization passes read."""

from __future__ import annotations

from ..ir.graph import Graph
from ..ir.ops import QUANTIZER_OPS
from ..ir.types import FixedType
from ..sim.float_ops import FLOAT_OPS
from .base import Pass

LAYOUT = frozenset({"Transpose", "Reshape", "Identity", "Dropout"})


class FoldConstants(Pass):
    name = "fold-constants"

    def __init__(self, fold_quantizers: bool = False):
        self.fold_quantizers = fold_quantizers

    def run(self, graph: Graph) -> bool:
        changed = False
        for node in graph.toposort():
            if node.op in QUANTIZER_OPS and not self.fold_quantizers:
                continue
            if not node.inputs or not all(v is None or v.const is not None for v in node.inputs):
                continue
            args = [v.const if v is not None else None for v in node.inputs]
            while args and args[-1] is None:
                args.pop()
            fixed = [v for v in node.inputs if v is not None and isinstance(v.type.elem, FixedType)]
            if fixed and node.op not in LAYOUT:
                continue  # arithmetic on fixed-point constants belongs to the fixed-point simulator
            result = FLOAT_OPS[node.op](node, *args)
            results = result if isinstance(result, tuple) else (result,)
            for out, arr in zip(node.outputs, results):
                elem = fixed[0].type.elem if fixed else None  # layout ops keep the mantissas' type
                graph.replace_all_uses(out, graph.constant(arr, out.name, elem=elem))
            graph.remove_node(node)
            changed = True
        return changed
