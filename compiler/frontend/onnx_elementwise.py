"""ONNX → IR handlers of elementwise operators: activations, Softmax, Add/Sub/Mul/Div (opset < 7
broadcasting normalised) and Cast."""

from __future__ import annotations

import math

from ..ir.types import elem_from_numpy
from .context import Ctx
from .onnx_attrs import const_float, emit_reshape, norm_axis


def Relu(ctx: Ctx, X, *, consumed_inputs=None):
    return ctx.emit("Relu", [X])


def LeakyRelu(ctx: Ctx, X, *, alpha=0.01, consumed_inputs=None):
    return ctx.emit("LeakyRelu", [X], alpha=float(alpha))


def PRelu(ctx: Ctx, X, slope, *, consumed_inputs=None):
    s = ctx.const(slope)
    if s is not None and s.ndim == 1 and X.type.rank > 2 and s.shape[0] == X.type.shape[1] and s.shape[0] != X.type.shape[-1]:
        # opset < 7 unidirectional broadcasting on the channel axis
        slope = ctx.constant(s.reshape((-1,) + (1,) * (X.type.rank - 2)), f"{ctx.name}_slope")
    return ctx.emit("PRelu", [X, slope])


def Clip(ctx: Ctx, X, min=None, max=None, *, consumed_inputs=None):
    if ctx.opset < 11:  # min and max are attributes (floats), bound to the same parameter names
        lo, hi = min, max
    else:
        lo, hi = const_float(ctx, min, "Clip min"), const_float(ctx, max, "Clip max")
    lo = None if lo is None or lo <= -3.4e38 else float(lo)
    hi = None if hi is None or hi >= 3.4e38 else float(hi)
    return ctx.emit("Clip", [X], min=lo, max=hi)


def Sigmoid(ctx: Ctx, X, *, consumed_inputs=None):
    return ctx.emit("Sigmoid", [X])


def HardSigmoid(ctx: Ctx, X, *, alpha=0.2, beta=0.5, consumed_inputs=None):
    return ctx.emit("HardSigmoid", [X], alpha=float(alpha), beta=float(beta))


def Tanh(ctx: Ctx, X, *, consumed_inputs=None):
    return ctx.emit("Tanh", [X])


def Selu(ctx: Ctx, X, *, alpha=1.67326319217681884765625, gamma=1.05070102214813232421875, consumed_inputs=None):
    return ctx.emit("Selu", [X], alpha=float(alpha), gamma=float(gamma))


def Elu(ctx: Ctx, X, *, alpha=1.0, consumed_inputs=None):
    return ctx.emit("Elu", [X], alpha=float(alpha))


def Softplus(ctx: Ctx, X):
    return ctx.emit("Softplus", [X])


def HardSwish(ctx: Ctx, X):
    return ctx.emit("HardSwish", [X])


def Swish(ctx: Ctx, X, *, alpha=1.0):
    return ctx.emit("Swish", [X], alpha=float(alpha))


def Gelu(ctx: Ctx, X, *, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ctx.fail(f"unknown approximate {approximate!r}")
    return ctx.emit("Gelu", [X], approximate=approximate)


def Softmax(ctx: Ctx, X, *, axis=None):
    """Opset ≥ 13: along one axis (default -1). Before: over the flattened axes [axis:] (default 1)."""
    rank = X.type.rank
    if ctx.opset >= 13:
        return ctx.emit("Softmax", [X], axis=norm_axis(ctx, -1 if axis is None else axis, rank))
    a = norm_axis(ctx, 1 if axis is None else axis, rank)
    if a == rank - 1:
        return ctx.emit("Softmax", [X], axis=a)
    shape = X.type.shape
    if any(d is None for d in shape[a:]):
        raise ctx.fail("softmax over the batch axis")
    flat = emit_reshape(ctx, X, list(shape[:a]) + [math.prod(shape[a:])])
    y = ctx.emit("Softmax", [flat], axis=a)
    return emit_reshape(ctx, y, list(shape))


# ---- elementwise binary ----------------------------------------------------------------------


def _binary(op):
    def handler(ctx: Ctx, A, B, *, broadcast=0, axis=None, consumed_inputs=None):
        if broadcast and axis is not None and B.type.rank < A.type.rank:
            # opset < 7: B aligned at `axis` of A instead of numpy's trailing alignment
            extra = A.type.rank - axis - B.type.rank
            if extra > 0:
                b = ctx.const(B)
                new = list(B.type.shape) + [1] * extra
                B = ctx.constant(b.reshape(new), f"{ctx.name}_b") if b is not None else emit_reshape(ctx, B, new)
        return ctx.emit(op, [A, B])
    handler.__name__ = op
    handler.__doc__ = f"numpy-broadcast {op} (opset < 7 `broadcast`/`axis` normalised)"
    return handler


Add, Sub, Mul, Div = (_binary(op) for op in ("Add", "Sub", "Mul", "Div"))


def Cast(ctx: Ctx, X, *, to, saturate=1, round_mode="up"):
    import onnx

    try:
        elem = elem_from_numpy(onnx.helper.tensor_dtype_to_np_dtype(to))
    except (TypeError, KeyError):
        raise ctx.fail(f"Cast to element type {to} is not supported") from None
    return ctx.emit("Cast", [X], to=elem)
