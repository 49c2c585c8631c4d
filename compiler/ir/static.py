"""Static sub-graphs: values computed from constants only (weights behind quantizers and layout ops),
their values, and the walk from a weight to its constant."""

from __future__ import annotations

import numpy as np

from .graph import Graph


def static_value(v) -> np.ndarray:
    """The value of a static sub-graph (weights behind quantizers and layout ops), computed by the
    float simulator, in the dtype its ops produce."""
    from ..sim.float_ops import FLOAT_OPS  # late import: the simulator depends on the IR

    if v.const is not None:
        return v.const
    node = v.producer
    if node is None:  # a graph input where a weight is expected (its initializer is missing)
        from ..errors import HwcError

        raise HwcError(f"'{v.name}' is used as a weight but is a graph input (no initializer gives its value)")
    args = [static_value(i) if i is not None else None for i in node.inputs]
    while args and args[-1] is None:
        args.pop()
    return FLOAT_OPS[node.op](node, *args)


# ops a weight passes through between its constant and the layer that reads it
WEIGHT_PATH = frozenset({"Quant", "BipolarQuant", "Trunc", "QuantizeLinear", "DequantizeLinear", "Transpose", "Reshape",
                         "Clip", "Cast", "Identity"})


def constant_source(v):
    """The constant a value is derived from through the ops of WEIGHT_PATH (None when there is none)."""
    while v is not None and v.const is None and v.producer is not None and v.producer.op in WEIGHT_PATH:
        v = v.producer.inputs[0]
    return v if v is not None and v.const is not None else None


def is_static(graph: Graph, value) -> bool:
    """True if `value` is a constant or computed from constants only (e.g. Quant applied to a weight)."""
    seen: dict[int, bool] = {}

    def walk(v) -> bool:
        if v is None or v.const is not None:
            return True
        if v.producer is None:
            return False
        if id(v) not in seen:
            seen[id(v)] = all(walk(i) for i in v.producer.inputs)
        return seen[id(v)]

    return walk(value)


def static_f64(v) -> np.ndarray:
    """The value of a static (weight) sub-graph as float64."""
    return np.asarray(static_value(v), np.float64)
