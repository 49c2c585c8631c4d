"""Float simulator, the ops transformers add: LayerNormalization (as onnxruntime computes it: float32
mean and variance of the normalised axes) and Gather with constant indices."""

from __future__ import annotations

import numpy as np

from .arrays import out_dtype


def layer_norm(node, x, scale, bias=None):
    """y = (x - mean) / sqrt(var + eps) * scale + bias over the axes [axis:], var = mean((x - mean)^2)."""
    axes = tuple(range(node.attrs["axis"] % x.ndim, x.ndim))
    dt = out_dtype(node)
    xd = x.astype(dt)
    mean = xd.mean(axis=axes, keepdims=True, dtype=dt)
    d = xd - mean
    var = (d * d).mean(axis=axes, keepdims=True, dtype=dt)
    y = d / np.sqrt(var + np.asarray(node.attrs["epsilon"], dt)) * scale.astype(dt)
    if bias is not None:
        y = y + bias.astype(dt)
    return y.astype(dt)


def gather(node, x):
    return np.take(x, node.attrs["indices"], axis=node.attrs["axis"])
