"""Run the TFLite affine lowering up to one of its steps, so a step's test starts from the state it gets."""

from __future__ import annotations

import numpy as np

from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, TensorType
from hwc.compiler.passes.affine_params import AffineState
from hwc.compiler.passes.base import PassManager
from hwc.compiler.passes.quantize_affine import affine_passes


def run_before(graph: Graph, ranges: dict, step: type, wbits: int = 8):
    """(state, the step's pass object) after every step before `step` ran on `graph`."""
    state = AffineState.of(graph, ranges, wbits)
    passes = affine_passes(state, graph)
    k = next(i for i, p in enumerate(passes) if type(p) is step)
    PassManager(passes[:k], fixed_point=False, verify=True).run(graph)
    return state, passes[k]


def dense_graph(w, b=None, act: str | None = None, **attrs):
    """x [N, K] float -> Dense d (output h) [-> act a (output y)] -> output."""
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, np.shape(w)[0])))
    b = np.zeros(np.shape(w)[1], np.float32) if b is None else b
    d = g.add_node("Dense", [x, g.constant(np.asarray(w, np.float32), "w"), g.constant(np.asarray(b, np.float32), "b")],
                   name="d", output_names=["h"])
    out = g.add_node(act, [d.output], attrs, name="a", output_names=["y"]).output if act else d.output
    g.set_outputs([out])
    return g
