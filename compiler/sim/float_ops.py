"""Float-mode simulator: one function per IR op, `fn(node, *inputs) -> output array(s)`.

Float ops compute as ONNX defines them (dense sums accumulated in float64, results in the node's
float type). Quantizers are exact and follow their reference implementations operation by
operation in float32 (QONNX's `int_quant`, ONNX's QuantizeLinear), so their outputs are equal to
qonnx's and onnxruntime's, not merely close.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..ir.graph import Node
from ..ir.types import numpy_dtype

# Work arrays of convolutions are processed in batch chunks of at most this many elements.
_CHUNK_ELEMS = 1 << 24


def _out_dtype(node: Node, i: int = 0) -> np.dtype:
    return numpy_dtype(node.outputs[i].type.elem)


def _channel_shape(arr: np.ndarray, rank: int, axis: int = 1) -> np.ndarray:
    """A per-channel vector reshaped to broadcast along `axis` of a rank-`rank` tensor."""
    arr = np.asarray(arr)
    if arr.ndim == 0 or arr.size == 1:
        return arr.reshape(())
    return arr.reshape((-1,) + (1,) * (rank - 1 - axis))


# ---- windows ---------------------------------------------------------------------------------

def _windows(x: np.ndarray, kernel, strides, dilations, pads, pad_value, extra_end=None) -> np.ndarray:
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


def _ceil_extra(node: Node, x_shape) -> list[int]:
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


def _conv_windows_matmul(x, w, strides, dilations, pads, group, acc_dtype, matmul=None):
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
        win = _windows(xb, kernel, strides, dilations, pads, 0)  # [B, C, *O, *K]
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


# ---- dense algebra ---------------------------------------------------------------------------

def dense(node, x, w, b=None):
    y = np.matmul(x.astype(np.float64), w.astype(np.float64))
    if b is not None:
        y = y + b.astype(np.float64)
    return y.astype(_out_dtype(node))


def matmul(node, a, b):
    dt = _out_dtype(node)
    if np.issubdtype(dt, np.integer):
        return exact_int_matmul(a, b).astype(dt)
    return np.matmul(a.astype(np.float64), b.astype(np.float64)).astype(dt)


def conv(node, x, w, b=None):
    a = node.attrs
    y = _conv_windows_matmul(x, w, a["strides"], a["dilations"], a["pads"], a["group"], np.float64)
    if b is not None:
        y = y + _channel_shape(b.astype(np.float64), y.ndim)
    return y.astype(_out_dtype(node))


def _zp_sub(v, zp, rank, axis):
    v = v.astype(np.int64)
    return v if zp is None else v - _channel_shape(zp.astype(np.int64), rank, axis)


def conv_integer(node, x, w, x_zp=None, w_zp=None):
    a = node.attrs
    xi = _zp_sub(x, x_zp, x.ndim, 1)
    wi = _zp_sub(w, w_zp, w.ndim, 0)
    bound = float(np.abs(xi).max(initial=0)) * float(np.abs(wi).max(initial=0)) * math.prod(w.shape[1:])
    acc = np.float64 if bound < 2.0 ** 53 else np.int64
    y = _conv_windows_matmul(xi, wi, a["strides"], a["dilations"], a["pads"], a["group"], acc)
    return np.rint(y).astype(np.int32) if acc is np.float64 else y.astype(np.int32)


def matmul_integer(node, a, b, a_zp=None, b_zp=None):
    ai = a.astype(np.int64) - (0 if a_zp is None else _channel_shape(a_zp.astype(np.int64), a.ndim, a.ndim - 2))
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
    dt = _out_dtype(node)
    a, b = batchnorm_affine(scale, bias, mean, var, node.attrs["epsilon"], dt)
    return (x * _channel_shape(a, x.ndim) + _channel_shape(b, x.ndim)).astype(dt)


# ---- elementwise -----------------------------------------------------------------------------

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
    return np.where(x >= 0, 1, -1).astype(_out_dtype(node))


def identity(node, x):
    return x


def _binary(op):
    def run(node, a, b):
        dt = _out_dtype(node)
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
    dt = _out_dtype(node)
    if np.issubdtype(dt, np.integer) and np.issubdtype(x.dtype, np.floating):
        return np.trunc(x).astype(dt)
    return x.astype(dt)


# ---- pooling ---------------------------------------------------------------------------------

def max_pool(node, x):
    a = node.attrs
    w = _windows(x, a["kernel_shape"], a["strides"], a["dilations"], a["pads"], -np.inf, _ceil_extra(node, x.shape))
    nd = len(a["kernel_shape"])
    return w.max(axis=tuple(range(-nd, 0))).astype(x.dtype)


def average_pool(node, x):
    """Sum of in-bounds taps / divisor; the divisor counts explicit padding only with count_include_pad."""
    a = node.attrs
    nd = len(a["kernel_shape"])
    extra = _ceil_extra(node, x.shape)
    ones = [1] * nd
    axes = tuple(range(-nd, 0))
    s = _windows(x.astype(np.float64), a["kernel_shape"], a["strides"], ones, a["pads"], 0.0, extra).sum(axis=axes)
    spatial = (1, 1) + x.shape[2:]
    if a["count_include_pad"]:
        # padded cells count, the ceil_mode overhang does not
        padded = (1, 1) + tuple(x.shape[2 + i] + a["pads"][i] + a["pads"][nd + i] for i in range(nd))
        cnt = _windows(np.ones(padded), a["kernel_shape"], a["strides"], ones, [0] * (2 * nd), 0.0, extra).sum(axis=axes)
    else:
        cnt = _windows(np.ones(spatial), a["kernel_shape"], a["strides"], ones, a["pads"], 0.0, extra).sum(axis=axes)
    return (s / cnt).astype(x.dtype)


def global_average_pool(node, x):
    axes = tuple(range(2, x.ndim))
    return x.astype(np.float64).mean(axis=axes, keepdims=True).astype(x.dtype)


def global_max_pool(node, x):
    return x.max(axis=tuple(range(2, x.ndim)), keepdims=True)


# ---- data movement ---------------------------------------------------------------------------

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


# ---- quantizers ------------------------------------------------------------------------------

def _round(mode: str, y: np.ndarray) -> np.ndarray:
    """QONNX rounding modes, as qonnx.custom_op.general.intquant.resolve_rounding_mode."""
    if mode in ("ROUND", "HALF_EVEN"):
        return np.round(y)
    if mode == "CEIL":
        return np.ceil(y)
    if mode == "FLOOR":
        return np.floor(y)
    if mode == "UP":
        return np.sign(y) * np.ceil(np.abs(y))
    if mode == "DOWN":
        return np.fix(y)
    if mode == "HALF_UP":
        return np.sign(y) * np.floor(np.abs(y) + 0.5)
    if mode == "HALF_DOWN":
        return np.sign(y) * np.ceil(np.abs(y) - 0.5)
    raise ValueError(mode)


def qonnx_int_range(bitwidth: int, signed: bool, narrow: bool) -> tuple[int, int]:
    lo = -(1 << (bitwidth - 1)) + int(narrow) if signed else 0
    hi = (1 << (bitwidth - 1)) - 1 if signed else (1 << bitwidth) - 1 - int(narrow)
    return lo, hi


def quant(node, x, scale, zp):
    """q = round(clamp(x/s + z, qmin, qmax)); y = (q - z) * s; bitwidth 1 signed = bipolar (as qonnx)."""
    a = node.attrs
    y = x / scale
    y = y + zp
    if a["bitwidth"] == 1 and a["signed"]:
        ones = np.ones(y.shape, dtype=y.dtype)
        y = np.where(y >= 0.0, ones, -ones)
    else:
        lo, hi = qonnx_int_range(a["bitwidth"], a["signed"], a["narrow"])
        y = np.where(y > hi, np.asarray(hi).astype(y.dtype), y)
        y = np.where(y < lo, np.asarray(lo).astype(y.dtype), y)
        y = _round(a["rounding_mode"], y)
    return ((y - zp) * scale).astype(_out_dtype(node))


def bipolar_quant(node, x, scale):
    ones = np.ones(x.shape, dtype=x.dtype)
    return (np.where(x >= 0.0, ones, -ones) * scale).astype(_out_dtype(node))


def trunc(node, x, scale, zp, out_scale=None):
    """QONNX Trunc v1 and v2 (see the IR schema), step for step as qonnx computes them."""
    a = node.attrs
    y = np.round(x / scale + zp)
    if out_scale is None:
        y = y / np.asarray(2.0 ** (a["in_bitwidth"] - a["out_bitwidth"]), np.float32)
        y = _round(a["rounding_mode"], y)
        return ((y - zp) * scale).astype(_out_dtype(node))
    t = 2 ** np.round(np.log2(out_scale / scale))
    y = y / t
    lo, hi = qonnx_int_range(a["out_bitwidth"], a["signed"], a["narrow"])
    y = np.where(y > hi, np.asarray(hi).astype(y.dtype), y)
    y = np.where(y < lo, np.asarray(lo).astype(y.dtype), y)
    y = _round(a["rounding_mode"], y)
    return ((y - zp / t) * out_scale).astype(_out_dtype(node))


def quantize_linear(node, x, scale, zp=None):
    """q = saturate(round_half_even(x / s) + z), computed as ONNX's reference does (float32 divide)."""
    a = node.attrs
    dt = _out_dtype(node)
    s = _channel_shape(scale, x.ndim, a["axis"])
    q = np.rint(x / s).astype(np.int64)
    if zp is not None:
        q = q + _channel_shape(zp.astype(np.int64), x.ndim, a["axis"])
    info = np.iinfo(dt)
    if a["saturate"]:
        q = np.clip(q, info.min, info.max)
    return q.astype(dt)


def dynamic_quantize_linear(node, x):
    """As onnxruntime: s = (max(0, max x) - min(0, min x)) / 255 in float32 (1 when both are 0; ONNX's
    reference evaluator gives 1/255 there, which changes nothing else as x is then all zero),
    z = rint(clamp(0 - min/s, 0, 255)), y = clamp(rint(x / s) + z, 0, 255); per sample when batched."""
    batched = node.inputs[0].type.batched
    axes = tuple(range(1, x.ndim)) if batched else None
    f32 = np.float32
    hi = np.maximum(f32(0), x.max(axis=axes, keepdims=batched)).astype(f32)
    lo = np.minimum(f32(0), x.min(axis=axes, keepdims=batched)).astype(f32)
    s = np.where(hi == lo, f32(1), (hi - lo) / f32(255)).astype(f32)
    z = np.rint(np.clip(f32(0) - lo / s, 0, 255)).astype(f32)
    y = np.clip(np.rint(x.astype(f32) / s) + z, 0, 255)
    return y.astype(np.uint8), s.astype(x.dtype), z.astype(np.uint8)


def dequantize_linear(node, x, scale, zp=None):
    a = node.attrs
    s = _channel_shape(scale, x.ndim, a["axis"])
    xf = x.astype(np.float32)
    if zp is not None:
        xf = xf - _channel_shape(zp, x.ndim, a["axis"]).astype(np.float32)
    return (xf * s).astype(_out_dtype(node))


def requantize(node, x, multiplier, zp=None):
    """y = saturate(rint(x * M + z)) in float64, as ONNX's QLinearConv/QLinearMatMul reference."""
    dt = _out_dtype(node)
    r = x.astype(np.float64) * multiplier.astype(np.float64)
    if zp is not None:
        r = r + zp.astype(np.float64)
    info = np.iinfo(dt)
    return np.clip(np.rint(r), info.min, info.max).astype(dt)


FLOAT_OPS = {
    "Dense": dense, "MatMul": matmul, "Conv": conv, "ConvInteger": conv_integer, "MatMulInteger": matmul_integer,
    "BatchNormalization": batchnorm,
    "Relu": relu, "LeakyRelu": leaky_relu, "PRelu": prelu, "Clip": clip, "Sigmoid": sigmoid,
    "HardSigmoid": hard_sigmoid, "Tanh": tanh, "Selu": selu, "Softmax": softmax, "Identity": identity, "Bipolar": bipolar,
    "Elu": table_function, "Softplus": table_function, "HardSwish": table_function, "Swish": table_function,
    "Gelu": table_function,
    "Dropout": identity,
    "Add": _binary("Add"), "Sub": _binary("Sub"), "Mul": _binary("Mul"), "Div": _binary("Div"), "Cast": cast,
    "MaxPool": max_pool, "AveragePool": average_pool, "GlobalAveragePool": global_average_pool,
    "GlobalMaxPool": global_max_pool,
    "Concat": concat, "Reshape": reshape, "Transpose": transpose, "Pad": pad, "Resize": resize,
    "Quant": quant, "BipolarQuant": bipolar_quant, "Trunc": trunc, "QuantizeLinear": quantize_linear, "DynamicQuantizeLinear": dynamic_quantize_linear,
    "DequantizeLinear": dequantize_linear, "Requantize": requantize,
}
