"""A fixed-point graph compiled once into a list of float steps (sim/plan_steps.py), the simulator's
fast path: bit-identical to the reference (one fixed op per node on int64 mantissas, `simulate(...,
reference=True)`), which the tests compare it with.

The plan is cached per graph and rebuilt when the graph changed: the cache key is the identity of every
node, value, type, constant and attribute object (IR edits replace these objects through Graph methods,
so an edited graph never reuses a stale plan). Element-wise nodes (Relu, Clip, Identity) whose input
only they read are merged into the step that produced it, so a Dense + ReLU + requantisation is one
GEMM and one in-place chain. Ops without a float step run their reference function on int64
mantissas; a graph with a fixed value wider than 53 bits has no plan (the reference runs it).
"""

from __future__ import annotations

import weakref

import numpy as np

from ..ir.graph import Graph
from ..ir.types import FixedType
from .fused import fuse
from .plan_steps import STEPS, Boundary, Elementwise, Unsupported

_MERGED = ("Relu", "Clip", "Identity")


class Plan:
    def __init__(self, graph: Graph, compiled: bool = True):
        """compiled: run the common output chains as one numba pass when numba is installed (False:
        numpy passes, the fallback when it is not)."""
        self.inputs, self.outputs = list(graph.inputs), list(graph.outputs)  # not the graph: the cache is weak
        self.order = graph.toposort()
        self.steps = []
        by_value = {}
        for n in self.order:
            x = n.inputs[0] if n.inputs else None
            p = by_value.get(id(x)) if x is not None else None
            if (n.op in _MERGED and p is not None and p.chain_ok and p.output is x and len(x.uses) == 1
                    and x not in graph.outputs and isinstance(n.outputs[0].type.elem, FixedType)):
                try:
                    e = Elementwise(n, p.raw)
                except Unsupported:
                    e = None
                if e is not None:
                    p.steps += e.steps
                    p.need, p.raw, p.output = max(p.need, e.need), e.raw, n.outputs[0]
                    by_value[id(n.outputs[0])] = p
                    continue
            step = self._step(n)
            self.steps.append(step)
            by_value[id(step.output)] = step
        for s in self.steps:
            s.compiled = compiled
            try:
                s.finish()
            except Unsupported:
                raise Unsupported(f"{s.node.name}: no exact float type")
            if compiled and s.dtype is not None:
                s.fused = fuse(s.steps, s.dtype)
        last = {}
        for k, s in enumerate(self.steps):
            for v in s.inputs:
                last[id(v)] = k
        keep = {id(v) for v in graph.outputs}
        self.free = [[id(v) for v in s.inputs if last[id(v)] == k and id(v) not in keep]
                     for k, s in enumerate(self.steps)]
        self.meta: dict = {}  # chunking facts the caller computes once (sim/run.py)

    @staticmethod
    def _step(n):
        cls = STEPS.get(n.op) if isinstance(n.outputs[0].type.elem, FixedType) and len(n.outputs) == 1 else None
        if cls is not None:
            try:
                return cls(n)
            except Unsupported:
                pass
        return Boundary(n)

    def run(self, arrays: list[np.ndarray], into: list[np.ndarray | None] | None = None) -> list[np.ndarray]:
        """The outputs (fixed ones as int64 mantissas). into: per output, an array to write this result
        into instead (the rows of this chunk in the caller's whole-batch output), or None."""
        env = {id(v): a for v, a in zip(self.inputs, arrays)}
        for s, free in zip(self.steps, self.free):
            env[id(s.output)] = s(*[env[id(v)] for v in s.inputs])
            for i in free:
                del env[i]
        outs = []
        for k, v in enumerate(self.outputs):
            if v.const is not None:
                outs.append(v.const)
            elif into is not None and into[k] is not None:
                into[k][...] = env[id(v)]  # exact: integer-valued floats into int64, or floats as they are
                outs.append(into[k])
            elif isinstance(v.type.elem, FixedType):
                outs.append(env[id(v)].astype(np.int64))
            else:
                outs.append(env[id(v)])
        return outs

    def out_dtypes(self, first: list[np.ndarray]) -> list:
        """Per output, the dtype of the whole-batch array (None for a constant output), from a first chunk."""
        return [None if v.const is not None else a.dtype for v, a in zip(self.outputs, first)]


def _key(graph: Graph) -> list:
    objs = [*graph.inputs, None, *graph.outputs, None]
    for n in graph.nodes:
        objs += [n, n.op, *n.inputs, None, *n.outputs, None, *n.attrs.values(), None]
        objs += [v.type for v in (*n.inputs, *n.outputs) if v is not None]
        objs += [v.const for v in n.inputs if v is not None]
    return objs


_CACHE: "weakref.WeakKeyDictionary[Graph, dict[bool, tuple[list, Plan | None]]]" = weakref.WeakKeyDictionary()


def plan_for(graph: Graph, compiled: bool = True) -> Plan | None:
    """The graph's plan (built on first use, rebuilt when the graph changed), or None when some value
    is too wide for exact floats. compiled: with the numba kernels (run.py asks for them only for batches
    large enough to repay loading numba); both plans compute the same bits."""
    key = _key(graph)
    hits = _CACHE.setdefault(graph, {})
    hit = hits.get(compiled)
    if hit is not None and len(hit[0]) == len(key) and all(a is b for a, b in zip(hit[0], key)):
        return hit[1]
    try:
        plan = Plan(graph, compiled)
    except Unsupported:
        plan = None
    hits[compiled] = (key, plan)
    return plan
