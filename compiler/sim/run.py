"""Run a graph on data: check the inputs against the graph's types, then call one op function per
node in topological order. Values are freed as soon as their last consumer has run.

In the fixed mode (exact integer arithmetic, so the result of a sample never depends on the others)
a graph whose every tensor carries the batch on axis 0, and no op reads across it, runs in chunks
of samples sized so the largest intermediate holds about `CHUNK_ELEMS` values: peak memory stays
flat as the batch grows, and the working set stays in cache. BLAS runs on one thread there: products
of chunk size gain nothing from more, and on a loaded machine spinning BLAS threads cost up to 10×."""

from __future__ import annotations

import math
import sys
import weakref
from typing import Callable, Mapping, Sequence

import numpy as np
from threadpoolctl import ThreadpoolController

from ..errors import HwcError
from ..ir.graph import Graph, Node
from .float_ops import FLOAT_OPS
from .inputs import check_inputs
from .plan import plan_for
from .fixed_ops import FIXED_OPS, run_node as run_fixed_node
from .tflite_ops import TFLITE_MODES  # [tflite]
from .openvino_ops import OPENVINO_MODES  # [openvino]
from .openvino_fp16 import FP16_MODES  # [openvino]


class _FixedMode(dict):
    """op -> function for fixed-point graphs; float-typed nodes (a float tail) fall back to float ops."""

    def get(self, op, default=None):
        return run_fixed_node if op in FIXED_OPS or op in FLOAT_OPS else default


MODES: dict[str, Mapping[str, Callable]] = {"float": FLOAT_OPS, "fixed": _FixedMode()}
MODES.update(TFLITE_MODES)  # [tflite] "tflite-ref", "tflite-xnnpack", "tflite-builtin" (sim/tflite_ops.py)
MODES.update(OPENVINO_MODES)  # [openvino] "openvino" (sim/openvino_ops.py)
MODES.update(FP16_MODES)  # [openvino] "openvino-fp16", "openvino-fp16-bound-<precision>" (sim/openvino_fp16.py)


CHUNK_ELEMS = 1 << 17  # values in the largest per-chunk intermediate (measured best on 1-2 MB caches)
# the plan's numba kernels are worth loading (~0.5 s for numba, more for its cached kernels) once a graph's
# batches add up to this many activation values (one large batch, or a regression suite's many small ones);
# until then the same plan's numpy passes run (same bits)
JIT_MIN_ELEMS = 1 << 22
_SIMULATED: "weakref.WeakKeyDictionary[Graph, int]" = weakref.WeakKeyDictionary()  # activation values so far
PLAN_CHUNK_ELEMS = 1 << 18  # the same for the compiled plan (float64: 2 MB), at most PLAN_CHUNK_ROWS samples:
PLAN_CHUNK_ROWS = 1024  # measured best on the bench models (larger MLP chunks page-fault on fresh buffers)
_CHUNKED_MODES = ("fixed",)
_AXIS_ATTRS = ("axis", "axes")
_THREADS = ThreadpoolController()


def _batch_separable(graph: Graph, order: list[Node]) -> bool:
    """Every non-constant value has the batch (None) on axis 0 and no op names axis 0 or moves it."""
    for v in graph.inputs:
        if not v.type.shape or v.type.shape[0] is not None:
            return False
    for n in order:
        for v in n.outputs:
            if not v.type.shape or v.type.shape[0] is not None:
                return False
        rank = len(n.outputs[0].type.shape)
        for key in _AXIS_ATTRS:
            ax = n.attrs.get(key)
            axes = ax if isinstance(ax, (list, tuple)) else ([] if ax is None else [ax])
            if any(isinstance(a, int) and a % max(rank, 1) == 0 for a in axes):
                return False
        perm = n.attrs.get("perm")
        if perm is not None and perm[0] != 0:
            return False
        scales = n.attrs.get("scales")
        if n.op == "Resize" and scales is not None and scales[0] != 1:
            return False
    return True


def _per_sample_elems(graph: Graph, order: list[Node]) -> int:
    """The largest per-sample intermediate, counting a convolution's window matrix (its output
    pixels times its kernel size per group)."""
    big = 1
    for n in order:
        for v in list(n.outputs) + [v for v in n.inputs if v is not None and v.const is None]:
            big = max(big, math.prod(d for d in v.type.shape[1:] if d is not None))
        if n.op == "Conv" and n.inputs[1].const is not None:
            w = n.inputs[1].const
            big = max(big, math.prod(n.outputs[0].type.shape[2:]) * math.prod(w.shape[1:]))
    return big


def simulate(graph: Graph, inputs: Sequence[np.ndarray], mode: str = "float",
             keep: Callable[[Node], bool] | None = None,
             reference: bool = False) -> list[np.ndarray] | tuple[list[np.ndarray], dict]:
    """Outputs of `graph` on `inputs` (in graph input order). With `keep`, also returns the outputs
    of every node for which keep(node) is true, as {value name: array}.

    The fixed mode without `keep` runs the graph's compiled plan (sim/plan.py), bit-identical to the
    reference (one fixed op per node on int64 mantissas); reference=True runs the reference."""
    ops = MODES[mode]
    arrays = check_inputs(graph, inputs)
    n = len(arrays[0]) if arrays and arrays[0].ndim else 0
    plan = None
    if mode == "fixed" and keep is None and not reference:
        big = "numba" in sys.modules
        if not big:
            _SIMULATED[graph] = _SIMULATED.get(graph, 0) + max(n, 1) * _per_sample_elems(graph, graph.toposort())
            big = _SIMULATED[graph] >= JIT_MIN_ELEMS
        plan = plan_for(graph, compiled=big)
    if plan is not None:
        order = plan.order
        if "rows" not in plan.meta:
            plan.meta["rows"] = min(PLAN_CHUNK_ROWS, max(1, PLAN_CHUNK_ELEMS // _per_sample_elems(graph, order)))
            plan.meta["separable"] = _batch_separable(graph, order)
        rows, separable = plan.meta["rows"], plan.meta["separable"]
        run = lambda xs: plan.run(xs)  # noqa: E731
    else:
        order = graph.toposort()
        rows = max(1, CHUNK_ELEMS // _per_sample_elems(graph, order)) if mode in _CHUNKED_MODES else 0
        separable = mode in _CHUNKED_MODES and _batch_separable(graph, order)
        run = lambda xs: _run(graph, order, ops, mode, xs, keep)  # noqa: E731
    if mode not in _CHUNKED_MODES:
        return run(arrays)
    with _THREADS.limit(limits=1, user_api="blas"):
        if n <= rows or not separable:
            return run(arrays)
        if plan is not None:
            return _run_chunks(plan, arrays, n, rows)
        parts = [run([a[i:i + rows] for a in arrays]) for i in range(0, n, rows)]
    if keep is None:
        return [_join(p[k] for p in parts) for k in range(len(graph.outputs))]
    outs = [_join(p[0][k] for p in parts) for k in range(len(graph.outputs))]
    return outs, {name: _join(p[1][name] for p in parts) for name in parts[0][1]}


def _run_chunks(plan, arrays: list[np.ndarray], n: int, rows: int) -> list[np.ndarray]:
    """The plan over chunks of `rows` samples, each chunk's outputs written into whole-batch arrays
    allocated after the first chunk (chunk arrays kept until a final concatenate would each be fresh
    memory: page faults cost about as much as the FC autoencoder's last layer)."""
    first = plan.run([a[:rows] for a in arrays])
    dts = plan.out_dtypes(first)
    outs = [f if dt is None else np.empty((n, *f.shape[1:]), dt) for f, dt in zip(first, dts)]
    for o, f, dt in zip(outs, first, dts):
        if dt is not None:
            o[:rows] = f
    del first
    for i in range(rows, n, rows):
        plan.run([a[i:i + rows] for a in arrays], [None if dt is None else o[i:i + rows] for o, dt in zip(outs, dts)])
    return outs


def _join(chunks) -> np.ndarray:
    chunks = list(chunks)
    if chunks[0].ndim == 0 or any(c is chunks[0] for c in chunks[1:]):  # a constant output, not per sample
        return chunks[0]
    return np.concatenate(chunks, axis=0)


def _run(graph: Graph, order: list[Node], ops, mode: str, arrays: list[np.ndarray], keep):
    env: dict[int, np.ndarray] = {id(v): a for v, a in zip(graph.inputs, arrays)}
    remaining = {}
    for n in order:
        for v in n.inputs:
            if v is not None:
                remaining[id(v)] = remaining.get(id(v), 0) + 1
    pinned = {id(v) for v in graph.outputs}
    kept: dict[str, np.ndarray] = {}
    for n in order:
        args = []
        for v in n.inputs:
            if v is None:
                args.append(None)
            elif v.const is not None:
                args.append(v.const)
            else:
                args.append(env[id(v)])
        while args and args[-1] is None:
            args.pop()
        fn = ops.get(n.op)
        if fn is None:
            raise HwcError(f"the {mode} simulator has no function for {n.op}", node=n.name, op=n.op)
        result = fn(n, *args)
        results = result if isinstance(result, tuple) else (result,)
        for v, r in zip(n.outputs, results):
            env[id(v)] = r
            if keep is not None and keep(n):
                kept[v.name] = r
        for v in n.inputs:
            if v is not None and v.const is None:
                remaining[id(v)] -= 1
                if remaining[id(v)] == 0 and id(v) not in pinned:
                    env.pop(id(v), None)
    outs = []
    for v in graph.outputs:
        outs.append(v.const if v.const is not None else env[id(v)])
    return (outs, kept) if keep is not None else outs
