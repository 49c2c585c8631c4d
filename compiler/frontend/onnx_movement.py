"""ONNX → IR handlers of data movement, constants and shapes: Concat, Flatten, Reshape, Transpose,
Squeeze/Unsqueeze, Pad, Identity, Dropout, Resize/Upsample, Constant, Shape, Size."""

from __future__ import annotations

import math

import numpy as np

from .context import Ctx
from .onnx_attrs import axes_arg, emit_reshape, norm_axis, resolve_shape


def Concat(ctx: Ctx, *inputs, axis=None):
    if axis is None:
        raise ctx.fail("missing axis")
    inputs = [v for v in inputs if v is not None]
    rank = inputs[0].type.rank
    axis = norm_axis(ctx, axis, rank)
    consts = [ctx.const(v) for v in inputs]
    if all(c is not None and c.size == 0 for c in consts[1:]) and len(inputs) > 1 and consts[0] is None:
        return inputs[0]
    return ctx.emit("Concat", inputs, axis=axis)


def Flatten(ctx: Ctx, X, *, axis=1):
    shape = X.type.shape
    axis = axis % (len(shape) + 1) if shape else 0
    concrete = [1 if d is None else d for d in shape]
    target = [math.prod(concrete[:axis]), math.prod(concrete[axis:])]
    return emit_reshape(ctx, X, resolve_shape(ctx, shape, target))


def Reshape(ctx: Ctx, data, shape=None, *, allowzero=0):
    target = ctx.need_const(shape, "Reshape shape")
    return emit_reshape(ctx, data, resolve_shape(ctx, data.type.shape, target.reshape(-1).tolist(), allowzero))


def Transpose(ctx: Ctx, data, *, perm=None):
    rank = data.type.rank
    perm = list(perm) if perm is not None else list(reversed(range(rank)))
    if data.type.batched and perm[0] != 0:
        raise ctx.fail(f"transpose {perm} moves the batch axis")
    return ctx.emit("Transpose", [data], perm=perm)


def Squeeze(ctx: Ctx, data, axes=None):
    axes = axes_arg(ctx, axes, "Squeeze axes")
    shape = list(data.type.shape)
    axes = [a % len(shape) for a in axes] if axes is not None else [i for i, d in enumerate(shape) if d == 1]
    if data.type.batched and 0 in axes:
        raise ctx.fail("squeeze removes the batch axis")
    if any(shape[a] != 1 for a in axes):
        raise ctx.fail(f"cannot squeeze axes {axes} of shape {tuple(shape)}")
    return emit_reshape(ctx, data, [d for i, d in enumerate(shape) if i not in axes])


def Unsqueeze(ctx: Ctx, data, axes=None):
    axes = axes_arg(ctx, axes, "Unsqueeze axes")
    if axes is None:
        raise ctx.fail("Unsqueeze needs axes")
    shape = list(data.type.shape)
    rank = len(shape) + len(axes)
    axes = sorted(a % rank for a in axes)
    if data.type.batched and 0 in axes:
        raise ctx.fail("unsqueeze before the batch axis")
    for a in axes:
        shape.insert(a, 1)
    return emit_reshape(ctx, data, shape)


def Pad(ctx: Ctx, data, pads=None, constant_value=None, axes=None, *, mode="constant", value=0.0):
    rank = data.type.rank
    if ctx.opset < 11:  # pads is an attribute (a list), bound to the same parameter name
        p = [int(x) for x in pads]
        v = float(value)
    else:
        p = [int(x) for x in ctx.need_const(pads, "Pad pads").reshape(-1)]
        cv = ctx.need_const(constant_value, "Pad constant_value")
        v = float(cv.reshape(-1)[0]) if cv is not None and cv.size else 0.0
    if axes is not None:
        ax = [int(a) % rank for a in ctx.need_const(axes, "Pad axes").reshape(-1)]
        full = [0] * (2 * rank)
        for k, a in enumerate(ax):
            full[a], full[rank + a] = p[k], p[len(ax) + k]
        p = full
    if any(x < 0 for x in p):
        raise ctx.fail("negative pads (cropping) are not supported")
    if mode not in ("constant", "edge", "reflect"):
        raise ctx.fail(f"pad mode {mode!r} is not supported (constant, edge, reflect are)")
    return ctx.emit("Pad", [data], pads=p, mode=mode, value=v)


def Identity(ctx: Ctx, X):
    return ctx.emit("Identity", [X])


def Dropout(ctx: Ctx, data, ratio=None, training_mode=None, *, is_test=0, seed=None, consumed_inputs=None):
    t = ctx.const(training_mode)
    if t is not None and bool(t.reshape(-1)[0]):
        raise ctx.fail("training_mode=1 is not supported (inference only)")
    return ctx.emit("Dropout", [data]), None


def Resize(ctx: Ctx, X, roi=None, scales=None, sizes=None, *, mode="nearest", coordinate_transformation_mode="half_pixel",
           nearest_mode="round_prefer_floor", cubic_coeff_a=-0.75, exclude_outside=0, extrapolation_value=0.0,
           antialias=0, axes=None, keep_aspect_ratio_policy="stretch"):
    """Nearest-neighbour only; output shape from `sizes` or floor(input * scales)."""
    if mode != "nearest":
        raise ctx.fail(f"Resize mode {mode!r} is not supported (nearest is)")
    if ctx.opset == 10:  # Resize-10: (X, scales), asymmetric, floor
        scales, roi = roi, None
        coordinate_transformation_mode, nearest_mode = "asymmetric", "floor"
    rank = X.type.rank
    s = ctx.need_const(scales, "Resize scales")
    z = ctx.need_const(sizes, "Resize sizes")
    ax = list(range(rank)) if axes is None else [a % rank for a in axes]
    in_shape = [1 if d is None else d for d in X.type.shape]
    if z is not None and z.size:
        out = list(in_shape)
        for a, n in zip(ax, z.reshape(-1)):
            out[a] = int(n)
        sc = [o / i for o, i in zip(out, in_shape)]
    elif s is not None and s.size:
        sc = [1.0] * rank
        for a, f in zip(ax, s.reshape(-1)):
            sc[a] = float(f)
        out = [int(math.floor(i * f)) for i, f in zip(in_shape, sc)]
    else:
        raise ctx.fail("Resize needs scales or sizes")
    if X.type.batched and (sc[0] != 1.0 or out[0] != 1):
        raise ctx.fail("Resize changes the batch axis")
    if coordinate_transformation_mode == "tf_crop_and_resize":
        raise ctx.fail("coordinate_transformation_mode tf_crop_and_resize is not supported")
    shape = [None if d is None else o for d, o in zip(X.type.shape, out)]
    return ctx.emit("Resize", [X], scales=sc, shape=shape, coordinate_transformation_mode=coordinate_transformation_mode,
                    nearest_mode=nearest_mode)


def Upsample(ctx: Ctx, X, scales=None, *, mode="nearest"):
    """Opset 7..9 Upsample = Resize with asymmetric coordinates and floor (scales: attribute before 9)."""
    s = np.asarray(scales, np.float32) if isinstance(scales, list) else ctx.need_const(scales, "Upsample scales")
    if mode != "nearest":
        raise ctx.fail(f"Upsample mode {mode!r} is not supported (nearest is)")
    in_shape = [1 if d is None else d for d in X.type.shape]
    out = [int(math.floor(i * float(f))) for i, f in zip(in_shape, s.reshape(-1))]
    shape = [None if d is None else o for d, o in zip(X.type.shape, out)]
    return ctx.emit("Resize", [X], scales=[float(f) for f in s.reshape(-1)], shape=shape,
                    coordinate_transformation_mode="asymmetric", nearest_mode="floor")


def Constant(ctx: Ctx, *, value=None, value_float=None, value_floats=None, value_int=None, value_ints=None,
             value_string=None, value_strings=None, sparse_value=None):
    if value is not None:
        arr = np.asarray(value)
    elif value_float is not None:
        arr = np.asarray(value_float, np.float32)
    elif value_floats is not None:
        arr = np.asarray(value_floats, np.float32)
    elif value_int is not None:
        arr = np.asarray(value_int, np.int64)
    elif value_ints is not None:
        arr = np.asarray(value_ints, np.int64)
    else:
        raise ctx.fail("only numeric dense constants are supported")
    return ctx.constant(arr, ctx.node.output[0])


def Shape(ctx: Ctx, data, *, start=0, end=None):
    """The static shape; the batch axis reads as the export batch 1."""
    shape = [1 if d is None else d for d in data.type.shape]
    return ctx.constant(np.asarray(shape[start:end], np.int64), ctx.node.output[0])


def Size(ctx: Ctx, data):
    return ctx.constant(np.asarray(math.prod(1 if d is None else d for d in data.type.shape), np.int64), ctx.node.output[0])
