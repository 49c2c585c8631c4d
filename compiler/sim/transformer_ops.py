"""Fixed-point simulator functions of the ops transformers add, over integer mantissas, computed as
the HLS kernels of templates/hls/hwc_transformer.h compute them.

LayerNormalization over K values m_i (input fraction f), with the scale input holding g_i = scale_i·√K
(fraction g) and the bias b_i (fraction h):
    S = Σ m_i,  d_i = K·m_i − S,  Q = Σ d_i² + E,  E = max(1, round(eps·K³·4^f))   (exact integers)
    s = the least even shift with Q >> s < 2^t,  q = Q >> s,  R = rsqrt_table[q] = rne(2^r / √q)
    y_i = cast(((d_i·g_i·R) >> s/2) + b_i·2^(g + r − h), fraction g + r)         (>> floors)
since (x_i − mean) / √(var + eps) = d_i·√K / √Q. MatMul of two activations: the exact product sums,
then one cast into the output type. Gather: a selection, the type kept.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..ir.graph import Node
from ..ir.types import FixedType
from .fixed import cast
from .windows import exact_int_matmul


def _fixed(node: Node, i: int) -> FixedType:
    t = node.inputs[i].type.elem
    if not isinstance(t, FixedType):
        raise TypeError(f"{node.op} node {node.name}: input {i} is {t}, not a fixed-point type")
    return t


def layer_norm_eps(epsilon: float, k: int, frac_bits: int) -> int:
    """E = max(1, round(eps·K³·4^f)): eps in the units of Σ d_i² (at least 1, so Q > 0)."""
    return max(1, int(round(epsilon * k ** 3 * 4.0 ** frac_bits)))


@lru_cache(maxsize=None)
def rsqrt_table(table_bits: int, rsqrt_bits: int) -> np.ndarray:
    """R[q] = round_half_even(2^r / √q) for q in [0, 2^t) (R[0] = R[1]: q is never 0)."""
    q = np.arange(1 << table_bits, dtype=np.float64)
    q[0] = 1.0
    t = np.rint(2.0 ** rsqrt_bits / np.sqrt(q)).astype(np.int64)
    t.setflags(write=False)
    return t


def even_shift(q: np.ndarray, table_bits: int) -> np.ndarray:
    """The least even s >= 0 with q >> s < 2^t (elementwise, q >= 0)."""
    bits = np.frompyfunc(lambda v: int(v).bit_length(), 1, 1)(q).astype(np.int64)
    return np.maximum(0, (bits - table_bits + 1) // 2 * 2)


def layer_norm(node, x, scale, bias=None):
    a = node.attrs
    axes = tuple(range(a["axis"] % x.ndim, x.ndim))
    k = math.prod(x.shape[i] for i in axes)
    f, g = _fixed(node, 0).frac_bits, _fixed(node, 1).frac_bits
    t, r = a["table_bits"], a["rsqrt_bits"]
    m = np.asarray(x, np.int64)
    d = k * m - m.sum(axis=axes, keepdims=True)
    q_full = (d * d).sum(axis=axes, keepdims=True) + layer_norm_eps(a["epsilon"], k, f)
    s = even_shift(q_full, t)
    rs = rsqrt_table(t, r)[q_full >> s]
    z = (d * np.asarray(scale, np.int64) * rs) >> (s // 2)
    frac = g + r
    if bias is not None:
        h = _fixed(node, 2).frac_bits
        if h > frac:
            z, frac = z << (h - frac), h
        z = z + (np.asarray(bias, np.int64) << (frac - h))
    return cast(z, frac, node.output.type.elem)


def matmul(node, a, b):
    fa, fb = _fixed(node, 0).frac_bits, _fixed(node, 1).frac_bits
    return cast(exact_int_matmul(np.asarray(a), np.asarray(b)), fa + fb, node.output.type.elem)


def gather(node, x):
    y = np.take(x, node.attrs["indices"], axis=node.attrs["axis"])
    t_in, t_out = _fixed(node, 0), node.output.type.elem
    return y if t_in == t_out else cast(y, t_in.frac_bits, t_out)


TRANSFORMER_OPS = {"LayerNormalization": layer_norm, "MatMul": matmul, "Gather": gather}
