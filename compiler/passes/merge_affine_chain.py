"""MergeAffineChain: a chain of element-wise affine steps on one run-time tensor — Mul or Add by a
constant that is a scalar or per channel (axis 1), and BatchNormalization with constant statistics —
becomes one BatchNormalization(x, scale=a, bias=b, mean=0, var=1, epsilon=0), which computes x·a + b
per channel (1/sqrt(1 + 0) = 1 exactly). The chain composes in float64 (Mul c: a·c, b·c; Add c: b + c;
BatchNorm: a·s, b·s + t) and is rounded once to the value's dtype. FoldBatchNorm then folds it into a
preceding Conv/Dense; FoldBatchNormIntoNext into a following one; otherwise fixed-point targets lower it
to one Rescale. A lone BatchNormalization is left as it is."""

from __future__ import annotations

import numpy as np

from ..ir.graph import Graph, Node, Value
from ..ir.types import FloatType
from ..sim.float_ops import batchnorm_affine
from .base import Pass

AFFINE = ("Mul", "Add", "BatchNormalization")


def channel_vector(c: np.ndarray, x: Value) -> np.ndarray | None:
    """`c` as a vector over axis 1 of `x` if it broadcasts along that axis only (or is a scalar), else None."""
    rank, shape = x.type.rank, x.type.shape
    if rank < 2 or not isinstance(shape[1], int) or c.ndim > rank:
        return None
    full = (1,) * (rank - c.ndim) + c.shape
    if any(d != 1 for i, d in enumerate(full) if i != 1) or full[1] not in (1, shape[1]):
        return None
    return np.broadcast_to(c.reshape(-1).astype(np.float64), (shape[1],))


def affine_step(node: Node) -> tuple[Value, np.ndarray, np.ndarray] | None:
    """(x, a, b) when `node` computes x·a + b per channel on a floating-point run-time x, else None."""
    if node.op == "BatchNormalization":
        x = node.inputs[0]
        if x.const is not None or not isinstance(x.type.elem, FloatType) or any(v.const is None for v in node.inputs[1:]):
            return None
        a, b = batchnorm_affine(*[v.const for v in node.inputs[1:]], node.attrs["epsilon"], np.float64)
        return x, a, b
    if node.op not in ("Mul", "Add"):
        return None
    consts = [v for v in node.inputs if v.const is not None]
    if len(consts) != 1 or not np.issubdtype(consts[0].const.dtype, np.floating):
        return None
    x = node.inputs[1] if node.inputs[0] is consts[0] else node.inputs[0]
    if node.output.type.shape != x.type.shape or not isinstance(x.type.elem, FloatType):
        return None
    c = channel_vector(consts[0].const, x)
    if c is None:
        return None
    ones, zeros = np.ones_like(c), np.zeros_like(c)
    return (x, c, zeros) if node.op == "Mul" else (x, ones, c)


class MergeAffineChain(Pass):
    name = "merge-affine-chain"

    def run(self, graph: Graph) -> bool:
        changed = False
        for first in graph.toposort():
            if first not in graph.nodes:
                continue  # already merged into an earlier chain
            step = affine_step(first)
            if step is None:
                continue
            x, a, b = step
            prev = x.producer
            if prev is not None and affine_step(prev) is not None and graph.single_consumer(x) is first:
                continue  # not the start of the chain
            chain = [first]
            while True:
                nxt = graph.single_consumer(chain[-1].output)
                s = affine_step(nxt) if nxt is not None else None
                if s is None or s[0] is not chain[-1].output:
                    break
                _, c, d = s
                a, b = a * c, b * c + d
                chain.append(nxt)
            if len(chain) == 1 and first.op == "BatchNormalization":
                continue
            dt = x.type.elem.numpy_dtype
            c = len(a)
            params = [graph.constant(a.astype(dt), f"{first.name}_scale"), graph.constant(b.astype(dt), f"{first.name}_shift"),
                      graph.constant(np.zeros(c, dt), f"{first.name}_mean"), graph.constant(np.ones(c, dt), f"{first.name}_var")]
            last = chain[-1]
            bn = graph.add_node("BatchNormalization", [x] + params, {"epsilon": 0.0}, name=first.name + "_affine",
                                index=graph.nodes.index(first))
            graph.replace_all_uses(last.output, bn.output)
            for n in reversed(chain):
                graph.remove_node(n)
            graph.rename_node(bn, last.name)
            graph.rename(bn.output, last.output.name)
            changed = True
        return changed
