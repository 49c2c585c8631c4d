"""Checking arrays against a graph's inputs before a simulation (shapes, batch, element types)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import HwcError
from ..ir.graph import Graph
from ..ir.types import FloatType, IntType, numpy_dtype


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
