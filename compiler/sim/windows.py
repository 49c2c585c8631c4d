"""Sliding windows over the spatial axes and the (exact) products over them, shared by every simulator mode."""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..ir.graph import Node

# Work arrays of convolutions are processed in batch chunks of at most this many elements.
_CHUNK_ELEMS = 1 << 24


def windows(x: np.ndarray, kernel, strides, dilations, pads, pad_value, extra_end=None) -> np.ndarray:
    """Sliding windows over the spatial axes of x [N, C, *S]: returns [N, C, *O, *K] (a view when possible)."""
    nd = len(kernel)
    extra_end = extra_end or [0] * nd
    width = [(0, 0), (0, 0)] + [(pads[i], pads[nd + i] + extra_end[i]) for i in range(nd)]
    if any(p for pair in width for p in pair):
        x = np.pad(x, width, mode="constant", constant_values=pad_value)
    span = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    w = sliding_window_view(x, span, axis=tuple(range(2, 2 + nd)))
    index = (slice(None), slice(None)) + tuple(slice(None, None, s) for s in strides) + tuple(slice(None, None, d) for d in dilations)
    return w[index]


def ceil_extra(node: Node, x_shape) -> list[int]:
    """End padding that ceil_mode adds so the last (partial) window exists."""
    a = node.attrs
    out = node.output.type.shape[2:]
    nd = len(a["kernel_shape"])
    dil = a.get("dilations", [1] * nd)
    extra = []
    for i in range(nd):
        need = (out[i] - 1) * a["strides"][i] + (a["kernel_shape"][i] - 1) * dil[i] + 1
        have = x_shape[2 + i] + a["pads"][i] + a["pads"][nd + i]
        extra.append(max(0, need - have))
    return extra


def conv_windows_matmul(x, w, strides, dilations, pads, group, acc_dtype, matmul=None):
    """y[n, m, *o] = sum_{c, k} x_pad[n, g(m)*Cg + c, o*s + k*d] * w[m, c, k], accumulated in acc_dtype
    (or by `matmul(windows, kernels)`, e.g. an exact integer product)."""
    n, c = x.shape[:2]
    m = w.shape[0]
    nd = w.ndim - 2
    kernel = w.shape[2:]
    cg, mg = c // group, m // group
    per_sample = math.prod(x.shape[1:]) * math.prod(kernel)
    chunk = max(1, _CHUNK_ELEMS // max(1, per_sample))
    outs = []
    for b0 in range(0, n, chunk):
        xb = x[b0:b0 + chunk]
        win = windows(xb, kernel, strides, dilations, pads, 0)  # [B, C, *O, *K]
        o_shape = win.shape[2:2 + nd]
        parts = []
        for g in range(group):
            wg = win[:, g * cg:(g + 1) * cg]
            # [B, *O, Cg, *K] -> [B * prod(O), Cg * prod(K)]
            wg = np.moveaxis(wg, 1, 1 + nd).reshape(len(xb) * math.prod(o_shape), -1)
            kg = w[g * mg:(g + 1) * mg].reshape(mg, -1)
            if matmul is not None:
                prod = matmul(wg, kg.T)
            else:
                prod = wg.astype(acc_dtype, copy=False) @ kg.astype(acc_dtype, copy=False).T
            parts.append(prod.reshape((len(xb),) + tuple(o_shape) + (mg,)))
        y = np.concatenate(parts, axis=-1) if group > 1 else parts[0]
        outs.append(np.moveaxis(y, -1, 1))
    return np.concatenate(outs, axis=0) if len(outs) > 1 else outs[0]


def exact_int_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact integer matmul: float64 BLAS when every partial sum stays below 2^53, int64 otherwise."""
    k = a.shape[-1]
    bound = float(np.abs(a).max(initial=0)) * float(np.abs(b).max(initial=0)) * k
    if bound < 2.0 ** 53:
        return np.rint(np.matmul(a.astype(np.float64), b.astype(np.float64))).astype(np.int64)
    return np.matmul(a.astype(np.int64), b.astype(np.int64))
