"""Float simulator, dense algebra and pooling: Dense, MatMul, Conv (and their ONNX integer forms),
BatchNormalization, max/average pooling, as ONNX defines them (sums accumulated in float64)."""

from __future__ import annotations

import math

import numpy as np

from .arrays import channel_shape, out_dtype
from .windows import ceil_extra, conv_windows_matmul, exact_int_matmul, windows


def dense(node, x, w, b=None):
    y = np.matmul(x.astype(np.float64), w.astype(np.float64))
    if b is not None:
        y = y + b.astype(np.float64)
    return y.astype(out_dtype(node))


def matmul(node, a, b):
    dt = out_dtype(node)
    if np.issubdtype(dt, np.integer):
        return exact_int_matmul(a, b).astype(dt)
    return np.matmul(a.astype(np.float64), b.astype(np.float64)).astype(dt)


def conv(node, x, w, b=None):
    a = node.attrs
    y = conv_windows_matmul(x, w, a["strides"], a["dilations"], a["pads"], a["group"], np.float64)
    if b is not None:
        y = y + channel_shape(b.astype(np.float64), y.ndim)
    return y.astype(out_dtype(node))


def _zp_sub(v, zp, rank, axis):
    v = v.astype(np.int64)
    return v if zp is None else v - channel_shape(zp.astype(np.int64), rank, axis)


def conv_integer(node, x, w, x_zp=None, w_zp=None):
    a = node.attrs
    xi = _zp_sub(x, x_zp, x.ndim, 1)
    wi = _zp_sub(w, w_zp, w.ndim, 0)
    bound = float(np.abs(xi).max(initial=0)) * float(np.abs(wi).max(initial=0)) * math.prod(w.shape[1:])
    acc = np.float64 if bound < 2.0 ** 53 else np.int64
    y = conv_windows_matmul(xi, wi, a["strides"], a["dilations"], a["pads"], a["group"], acc)
    return np.rint(y).astype(np.int32) if acc is np.float64 else y.astype(np.int32)


def matmul_integer(node, a, b, a_zp=None, b_zp=None):
    ai = a.astype(np.int64) - (0 if a_zp is None else channel_shape(a_zp.astype(np.int64), a.ndim, a.ndim - 2))
    bi = b.astype(np.int64) - (0 if b_zp is None else b_zp.astype(np.int64))
    return exact_int_matmul(ai, bi).astype(np.int32)


def batchnorm_affine(scale, bias, mean, var, epsilon, dtype=np.float32):
    """BatchNorm as y = x * a + b with a = scale / sqrt(var + eps), b = bias - mean * a, each step in
    `dtype`, in the order onnxruntime's CPU kernel computes it (so float results are identical)."""
    inv = (np.asarray(1, dtype) / np.sqrt(var.astype(dtype) + np.asarray(epsilon, dtype))).astype(dtype)
    a = (scale.astype(dtype) * inv).astype(dtype)
    b = (bias.astype(dtype) - mean.astype(dtype) * a).astype(dtype)
    return a, b


def batchnorm(node, x, scale, bias, mean, var):
    dt = out_dtype(node)
    a, b = batchnorm_affine(scale, bias, mean, var, node.attrs["epsilon"], dt)
    return (x * channel_shape(a, x.ndim) + channel_shape(b, x.ndim)).astype(dt)


# ---- pooling ---------------------------------------------------------------------------------

def max_pool(node, x):
    a = node.attrs
    w = windows(x, a["kernel_shape"], a["strides"], a["dilations"], a["pads"], -np.inf, ceil_extra(node, x.shape))
    nd = len(a["kernel_shape"])
    return w.max(axis=tuple(range(-nd, 0))).astype(x.dtype)


def average_pool(node, x):
    """Sum of in-bounds taps / divisor; the divisor counts explicit padding only with count_include_pad."""
    a = node.attrs
    nd = len(a["kernel_shape"])
    extra = ceil_extra(node, x.shape)
    ones = [1] * nd
    axes = tuple(range(-nd, 0))
    s = windows(x.astype(np.float64), a["kernel_shape"], a["strides"], ones, a["pads"], 0.0, extra).sum(axis=axes)
    spatial = (1, 1) + x.shape[2:]
    if a["count_include_pad"]:
        # padded cells count, the ceil_mode overhang does not
        padded = (1, 1) + tuple(x.shape[2 + i] + a["pads"][i] + a["pads"][nd + i] for i in range(nd))
        cnt = windows(np.ones(padded), a["kernel_shape"], a["strides"], ones, [0] * (2 * nd), 0.0, extra).sum(axis=axes)
    else:
        cnt = windows(np.ones(spatial), a["kernel_shape"], a["strides"], ones, a["pads"], 0.0, extra).sum(axis=axes)
    return (s / cnt).astype(x.dtype)


def global_average_pool(node, x):
    axes = tuple(range(2, x.ndim))
    return x.astype(np.float64).mean(axis=axes, keepdims=True).astype(x.dtype)


def global_max_pool(node, x):
    return x.max(axis=tuple(range(2, x.ndim)), keepdims=True)
