"""Float simulator, elementwise ops: activations (float64 definitions), Softmax, arithmetic, Cast."""

from __future__ import annotations

import numpy as np

from .arrays import out_dtype


def relu(node, x):
    return np.maximum(x, np.zeros((), x.dtype))


def leaky_relu(node, x):
    return np.where(x >= 0, x, x * np.asarray(node.attrs["alpha"], x.dtype)).astype(x.dtype)


def prelu(node, x, slope):
    return np.where(x >= 0, x, x * slope.astype(x.dtype)).astype(x.dtype)


def clip(node, x):
    lo, hi = node.attrs["min"], node.attrs["max"]
    y = x
    if lo is not None:
        y = np.maximum(y, np.asarray(lo).astype(x.dtype))
    if hi is not None:
        y = np.minimum(y, np.asarray(hi).astype(x.dtype))
    return y.astype(x.dtype)


def sigmoid(node, x):
    xd = x.astype(np.float64)
    return (1.0 / (1.0 + np.exp(-xd))).astype(x.dtype)


def hard_sigmoid(node, x):
    a = node.attrs
    return np.clip(x.astype(np.float64) * a["alpha"] + a["beta"], 0.0, 1.0).astype(x.dtype)


def tanh(node, x):
    return np.tanh(x.astype(np.float64)).astype(x.dtype)


def selu(node, x):
    a = node.attrs
    xd = x.astype(np.float64)
    return (a["gamma"] * np.where(xd > 0, xd, a["alpha"] * np.expm1(np.minimum(xd, 0)))).astype(x.dtype)


def table_function(node, x):
    """Selu, Elu, Softplus, HardSwish, Swish, Gelu: the float64 definition the fixed-point tables use."""
    from .tables import FUNCTIONS, table_params

    return np.asarray(FUNCTIONS[node.op](x.astype(np.float64), *table_params(node)), np.float64).astype(x.dtype)


def softmax(node, x):
    xd = x.astype(np.float64)
    ax = node.attrs["axis"]
    e = np.exp(xd - xd.max(axis=ax, keepdims=True))
    return (e / e.sum(axis=ax, keepdims=True)).astype(x.dtype)


def bipolar(node, x):
    return np.where(x >= 0, 1, -1).astype(out_dtype(node))


def identity(node, x):
    return x


def binary_op(op):
    """Add, Sub, Mul, Div: float in the output dtype; integer exactly in int64 (Div truncates toward zero, as C)."""
    def run(node, a, b):
        dt = out_dtype(node)
        if np.issubdtype(dt, np.integer):
            ai, bi = a.astype(np.int64), b.astype(np.int64)
            if op == "Div":  # C semantics: truncate toward zero
                q = np.abs(ai) // np.abs(bi)
                return (np.sign(ai) * np.sign(bi) * q).astype(dt)
            return {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply}[op](ai, bi).astype(dt)
        fa, fb = a.astype(dt), b.astype(dt)
        return {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[op](fa, fb).astype(dt)
    run.__name__ = op.lower()
    return run


def cast(node, x):
    dt = out_dtype(node)
    if np.issubdtype(dt, np.integer) and np.issubdtype(x.dtype, np.floating):
        return np.trunc(x).astype(dt)
    return x.astype(dt)
