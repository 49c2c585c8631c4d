"""Float simulator, data movement: Concat, Reshape, Transpose, Pad, nearest-neighbour Resize."""

from __future__ import annotations

import numpy as np


def concat(node, *xs):
    return np.concatenate(xs, axis=node.attrs["axis"])


def reshape(node, x):
    shape = [x.shape[0] if d is None else d for d in node.attrs["shape"]]
    return x.reshape(shape)


def transpose(node, x):
    return np.transpose(x, node.attrs["perm"])


def pad(node, x):
    a = node.attrs
    r = x.ndim
    width = [(a["pads"][i], a["pads"][r + i]) for i in range(r)]
    if a["mode"] == "constant":
        return np.pad(x, width, mode="constant", constant_values=np.asarray(a["value"]).astype(x.dtype))
    return np.pad(x, width, mode=a["mode"])


def resize_indices(in_size: int, out_size: int, scale: float, ctm: str, nearest: str) -> np.ndarray:
    """Source index of every output position (ONNX Resize, nearest mode)."""
    o = np.arange(out_size, dtype=np.float64)
    if ctm == "half_pixel":
        xo = (o + 0.5) / scale - 0.5
    elif ctm == "pytorch_half_pixel":
        xo = (o + 0.5) / scale - 0.5 if out_size > 1 else np.zeros_like(o)
    elif ctm == "align_corners":
        xo = o * (in_size - 1) / (out_size - 1) if out_size > 1 else np.zeros_like(o)
    elif ctm == "asymmetric":
        xo = o / scale
    elif ctm == "tf_half_pixel_for_nn":
        xo = (o + 0.5) / scale
    elif ctm == "half_pixel_symmetric":
        adj = out_size / (scale * in_size)
        xo = in_size / 2 * (1 - adj) + (o + 0.5) / scale - 0.5
    else:
        raise ValueError(f"coordinate_transformation_mode {ctm}")
    if nearest == "round_prefer_floor":
        idx = np.where(xo == np.floor(xo) + 0.5, np.floor(xo), np.round(xo))
    elif nearest == "round_prefer_ceil":
        idx = np.where(xo == np.floor(xo) + 0.5, np.ceil(xo), np.round(xo))
    elif nearest == "floor":
        idx = np.floor(xo)
    elif nearest == "ceil":
        idx = np.ceil(xo)
    else:
        raise ValueError(f"nearest_mode {nearest}")
    return np.clip(idx, 0, in_size - 1).astype(np.int64)


def resize(node, x):
    a = node.attrs
    y = x
    for ax, (scale, out) in enumerate(zip(a["scales"], a["shape"])):
        if out is None or (out == x.shape[ax] and scale == 1.0):
            continue
        idx = resize_indices(x.shape[ax], out, scale, a["coordinate_transformation_mode"], a["nearest_mode"])
        y = np.take(y, idx, axis=ax)
    return y
