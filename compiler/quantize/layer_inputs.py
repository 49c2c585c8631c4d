"""A layer's input as the matrix its weights multiply: rows are samples (Dense) or output positions
of every sample (Conv, im2col with the node's pads, strides and dilations), columns the K inputs of
one group, in the order of `grid.as_matrix` (channel, then kernel taps)."""

from __future__ import annotations

import itertools

import numpy as np

from ..ir.graph import Node


def input_matrices(node: Node, x: np.ndarray) -> list[np.ndarray]:
    """One [rows, K] matrix per group (Dense: one group)."""
    if node.op == "Dense":
        return [x.reshape(-1, x.shape[-1])]
    a = node.attrs
    w_shape = node.inputs[1].type.shape
    k = w_shape[2:]
    nd = len(k)
    p = a["pads"]
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p[i], p[nd + i]) for i in range(nd)])
    s, d = a["strides"], a["dilations"]
    out = [(xp.shape[2 + i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(nd)]
    taps = []
    for off in itertools.product(*[range(n) for n in k]):
        sl = tuple(slice(off[i] * d[i], off[i] * d[i] + s[i] * (out[i] - 1) + 1, s[i]) for i in range(nd))
        taps.append(xp[(slice(None), slice(None)) + sl])  # [N, C, *out]
    t = np.stack(taps, axis=2)  # [N, C, taps, *out]
    t = np.moveaxis(t.reshape(t.shape[0], t.shape[1], t.shape[2], -1), 3, 1)  # [N, L, C, taps]
    t = t.reshape(-1, t.shape[2], t.shape[3])  # [N·L, C, taps]
    g = a["group"]
    cg = t.shape[1] // g
    return [t[:, i * cg:(i + 1) * cg, :].reshape(t.shape[0], -1) for i in range(g)]


def group_columns(node: Node, m: int) -> list[slice]:
    """The output columns of each group among a layer's M outputs."""
    g = node.attrs.get("group", 1) if node.op == "Conv" else 1
    return [slice(i * (m // g), (i + 1) * (m // g)) for i in range(g)]
