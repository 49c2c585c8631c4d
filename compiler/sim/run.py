"""Run a graph on data: check the inputs against the graph's types, then call one op function per
node in topological order. Values are freed as soon as their last consumer has run."""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np

from ..errors import HwcError
from ..ir.graph import Graph, Node
from ..ir.types import FloatType, IntType, numpy_dtype
from .float_ops import FLOAT_OPS
from .fixed_ops import FIXED_OPS, run_node as run_fixed_node
from .tflite_ops import TFLITE_MODES  # [tflite]
from .openvino_ops import OPENVINO_MODES  # [openvino]


class _FixedMode(dict):
    """op -> function for fixed-point graphs; float-typed nodes (a float tail) fall back to float ops."""

    def get(self, op, default=None):
        return run_fixed_node if op in FIXED_OPS or op in FLOAT_OPS else default


MODES: dict[str, Mapping[str, Callable]] = {"float": FLOAT_OPS, "fixed": _FixedMode()}
MODES.update(TFLITE_MODES)  # [tflite] "tflite-ref", "tflite-xnnpack", "tflite-builtin" (sim/tflite_ops.py)
MODES.update(OPENVINO_MODES)  # [openvino] "openvino", "openvino-fp16" (sim/openvino_ops.py)


def check_inputs(graph: Graph, arrays: Sequence[np.ndarray], what: Sequence[str] | None = None) -> list[np.ndarray]:
    """Validate shapes (a None dimension takes any batch, the same for every input), element types and
    values (floats finite: a NaN has no fixed-point value and would only come out as NaN)."""
    if len(arrays) != len(graph.inputs):
        names = ", ".join(v.name for v in graph.inputs)
        raise HwcError(f"the model has {len(graph.inputs)} input(s) ({names}), got {len(arrays)}")
    batch = None
    out = []
    for k, (v, arr) in enumerate(zip(graph.inputs, arrays)):
        arr = np.asarray(arr)
        src = what[k] if what else f"input '{v.name}'"
        shape = v.type.shape
        if arr.ndim != len(shape) or any(d is not None and d != a for d, a in zip(shape, arr.shape)):
            want = "(" + ", ".join("N" if d is None else str(d) for d in shape) + ")"
            raise HwcError(f"{src} has shape {arr.shape}, the model expects {want}")
        for d, a in zip(shape, arr.shape):
            if d is None:
                if batch is not None and a != batch:
                    raise HwcError(f"{src} has batch {a}, another input has batch {batch}")
                batch = a
        dt = numpy_dtype(v.type.elem)
        if isinstance(v.type.elem, FloatType):
            if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
                raise HwcError(f"{src} has element type {arr.dtype}, the model expects {dt}")
            if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
                bad = np.unravel_index(int(np.flatnonzero(~np.isfinite(arr))[0]), arr.shape)
                raise HwcError(f"{src} holds NaN or infinite values (first at index {tuple(int(i) for i in bad)})")
        elif isinstance(v.type.elem, IntType):
            if not np.issubdtype(arr.dtype, np.integer) and arr.dtype != np.bool_:
                raise HwcError(f"{src} has element type {arr.dtype}, the model expects {dt}")
            info = np.iinfo(dt) if dt != np.bool_ else None
            if info is not None and arr.size and (arr.min() < info.min or arr.max() > info.max):
                raise HwcError(f"{src} has values outside the range of {dt}")
        out.append(arr.astype(dt, copy=False))
    return out


def simulate(graph: Graph, inputs: Sequence[np.ndarray], mode: str = "float",
             keep: Callable[[Node], bool] | None = None) -> list[np.ndarray] | tuple[list[np.ndarray], dict]:
    """Outputs of `graph` on `inputs` (in graph input order). With `keep`, also returns the outputs
    of every node for which keep(node) is true, as {value name: array}."""
    ops = MODES[mode]
    arrays = check_inputs(graph, inputs)
    env: dict[int, np.ndarray] = {id(v): a for v, a in zip(graph.inputs, arrays)}
    order = graph.toposort()
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
