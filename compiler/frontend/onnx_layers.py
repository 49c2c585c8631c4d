"""ONNX → IR handlers of dense algebra and pooling: Gemm, MatMul, Conv, BatchNormalization, the pools."""

from __future__ import annotations

import numpy as np

from .context import Ctx
from .onnx_attrs import spatial_attrs


def Gemm(ctx: Ctx, A, B, C=None, *, alpha=1.0, beta=1.0, transA=0, transB=0, broadcast=1):
    """Y = alpha * A' B' + beta * C. Constant B (and C) → Dense with alpha and beta folded in."""
    if A.type.rank != 2 or B.type.rank != 2:
        raise ctx.fail("Gemm needs 2-D A and B")
    b, c = ctx.const(B), ctx.const(C)
    m = B.type.shape[0] if transB else B.type.shape[1]
    if b is not None and not transA and (C is None or (c is not None and c.size in (1, m) and c.shape[-1:] in ((1,), (m,)))):
        w = (b.T if transB else b).astype(b.dtype)
        if alpha != 1.0:
            w = (w * np.asarray(alpha, w.dtype)).astype(b.dtype)
        inputs = [A, ctx.constant(np.ascontiguousarray(w), f"{ctx.name}_weight")]
        if C is not None:
            bias = np.broadcast_to(c.reshape(-1), (m,)) * np.asarray(beta, c.dtype)
            inputs.append(ctx.constant(bias.astype(c.dtype), f"{ctx.name}_bias"))
        return ctx.emit("Dense", inputs)
    a = ctx.emit("Transpose", [A], perm=[1, 0]) if transA else A
    bb = ctx.emit("Transpose", [B], perm=[1, 0]) if transB else B
    y = ctx.emit("MatMul", [a, bb])
    if alpha != 1.0:
        y = ctx.emit("Mul", [y, ctx.constant(np.asarray(alpha, np.float32))])
    if C is not None:
        cc = C if beta == 1.0 else ctx.emit("Mul", [C, ctx.constant(np.asarray(beta, np.float32))])
        y = ctx.emit("Add", [y, cc])
    return y


def MatMul(ctx: Ctx, A, B):
    return ctx.emit("MatMul", [A, B])


def Conv(ctx: Ctx, X, W, B=None, *, auto_pad="NOTSET", dilations=None, group=1, kernel_shape=None, pads=None, strides=None):
    kernel = list(kernel_shape or W.type.shape[2:])
    if list(W.type.shape[2:]) != kernel:
        raise ctx.fail(f"kernel_shape {kernel} does not match the weight {W.type.shape}")
    if len(kernel) not in (1, 2):
        raise ctx.fail(f"{len(kernel)}-D convolution is not supported (1-D and 2-D are)")
    s, p, d = spatial_attrs(ctx, X.type, kernel, strides, pads, dilations, auto_pad)
    return ctx.emit("Conv", [X, W, B], strides=s, pads=p, dilations=d, group=int(group))


def BatchNormalization(ctx: Ctx, X, scale, B, mean, var, *, epsilon=1e-5, momentum=0.9, spatial=1, is_test=1,
                       training_mode=0, consumed_inputs=None):
    if training_mode:
        raise ctx.fail("training_mode=1 is not supported (inference only)")
    if not spatial:
        raise ctx.fail("spatial=0 (per-activation statistics) is not supported")
    if not epsilon >= 0:
        raise ctx.fail(f"epsilon must be >= 0, got {epsilon}")
    for v, what in ((scale, "scale"), (B, "bias"), (mean, "mean"), (var, "var")):
        ctx.need_const(v, what)
    return ctx.emit("BatchNormalization", [X, scale, B, mean, var], epsilon=float(epsilon))


# ---- pooling ---------------------------------------------------------------------------------


def MaxPool(ctx: Ctx, X, *, auto_pad="NOTSET", ceil_mode=0, dilations=None, kernel_shape=None, pads=None,
            storage_order=0, strides=None):
    if len(kernel_shape) not in (1, 2):
        raise ctx.fail(f"{len(kernel_shape)}-D pooling is not supported")
    s, p, d = spatial_attrs(ctx, X.type, kernel_shape, strides, pads, dilations, auto_pad)
    return ctx.emit("MaxPool", [X], kernel_shape=list(kernel_shape), strides=s, pads=p, dilations=d, ceil_mode=bool(ceil_mode)), None


def AveragePool(ctx: Ctx, X, *, auto_pad="NOTSET", ceil_mode=0, count_include_pad=0, dilations=None, kernel_shape=None,
                pads=None, strides=None):
    if len(kernel_shape) not in (1, 2):
        raise ctx.fail(f"{len(kernel_shape)}-D pooling is not supported")
    s, p, d = spatial_attrs(ctx, X.type, kernel_shape, strides, pads, dilations, auto_pad)
    if any(x != 1 for x in d):
        raise ctx.fail("dilated average pooling is not supported")
    return ctx.emit("AveragePool", [X], kernel_shape=list(kernel_shape), strides=s, pads=p, ceil_mode=bool(ceil_mode),
                    count_include_pad=bool(count_include_pad))


def GlobalAveragePool(ctx: Ctx, X):
    return ctx.emit("GlobalAveragePool", [X])


def GlobalMaxPool(ctx: Ctx, X):
    return ctx.emit("GlobalMaxPool", [X])
