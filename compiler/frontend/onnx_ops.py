"""ONNX → IR handlers for float operators: one function per ONNX op, named after it.

A handler gets the context, the input values (None for an omitted optional input) and the ONNX
attributes as keyword arguments with the ONNX defaults. It normalises every opset's form (6..22)
into explicit IR attributes and returns the output value(s).
"""

from __future__ import annotations

import math

import numpy as np

from ..ir.types import F32, FloatType, IntType, elem_from_numpy
from .context import Ctx

# ---- helpers ---------------------------------------------------------------------------------


def _spatial_attrs(ctx: Ctx, x, kernel_shape, strides, pads, dilations, auto_pad):
    """Explicit strides, pads (begins then ends) and dilations; auto_pad resolved on the static spatial shape."""
    nd = len(kernel_shape)
    strides = list(strides or [1] * nd)
    dilations = list(dilations or [1] * nd)
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        spatial = x.shape[2:]
        pads_b, pads_e = [], []
        for i in range(nd):
            out = -(-spatial[i] // strides[i])
            total = max(0, (out - 1) * strides[i] + (kernel_shape[i] - 1) * dilations[i] + 1 - spatial[i])
            small, big = total // 2, total - total // 2
            pads_b.append(small if auto_pad == "SAME_UPPER" else big)
            pads_e.append(big if auto_pad == "SAME_UPPER" else small)
        pads = pads_b + pads_e
    elif auto_pad == "VALID":
        pads = [0] * (2 * nd)
    elif auto_pad in ("NOTSET", "", None):
        pads = list(pads or [0] * (2 * nd))
    else:
        raise ctx.fail(f"unknown auto_pad {auto_pad!r}")
    if len(pads) != 2 * nd:
        raise ctx.fail(f"pads {pads} do not match a {nd}-D kernel")
    return strides, [int(p) for p in pads], dilations


def _axis(ctx: Ctx, axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise ctx.fail(f"axis {axis} out of range for rank {rank}")
    return axis % rank


def _reshape(ctx: Ctx, x, shape) -> object:
    return ctx.emit("Reshape", [x], shape=list(shape))


def _resolve_shape(ctx: Ctx, in_shape, target, allowzero=0):
    """ONNX Reshape semantics (0 copies, -1 infers), with the batch kept as the leading axis.

    The batch is resolved as the export batch 1; a leading 1, 0 or -1 in the result keeps the batch.
    """
    batched = None in in_shape
    concrete = [1 if d is None else d for d in in_shape]
    out = []
    for i, t in enumerate(int(t) for t in target):
        out.append(concrete[i] if t == 0 and not allowzero else t)
    if out.count(-1) > 1:
        raise ctx.fail(f"reshape target {list(target)} has more than one -1")
    total = math.prod(concrete)
    if -1 in out:
        rest = math.prod(d for d in out if d != -1)
        if rest == 0 or total % rest:
            raise ctx.fail(f"cannot reshape {tuple(in_shape)} to {list(target)}")
        out[out.index(-1)] = total // rest
    if math.prod(out) != total:
        raise ctx.fail(f"cannot reshape {tuple(in_shape)} to {list(target)}")
    if batched:
        if in_shape[0] is not None or not out or out[0] != 1:
            raise ctx.fail(f"reshape to {list(target)} mixes the batch dimension with other axes")
        out[0] = None
    return out


def _as_float(ctx: Ctx, v, what):
    arr = ctx.need_const(v, what)
    return None if arr is None else float(np.asarray(arr).reshape(-1)[0]) if np.asarray(arr).size else None


# ---- dense algebra ---------------------------------------------------------------------------


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
    s, p, d = _spatial_attrs(ctx, X.type, kernel, strides, pads, dilations, auto_pad)
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


# ---- activations -----------------------------------------------------------------------------


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
        lo, hi = _as_float(ctx, min, "Clip min"), _as_float(ctx, max, "Clip max")
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
        return ctx.emit("Softmax", [X], axis=_axis(ctx, -1 if axis is None else axis, rank))
    a = _axis(ctx, 1 if axis is None else axis, rank)
    if a == rank - 1:
        return ctx.emit("Softmax", [X], axis=a)
    shape = X.type.shape
    if any(d is None for d in shape[a:]):
        raise ctx.fail("softmax over the batch axis")
    flat = _reshape(ctx, X, list(shape[:a]) + [math.prod(shape[a:])])
    y = ctx.emit("Softmax", [flat], axis=a)
    return _reshape(ctx, y, list(shape))


# ---- pooling ---------------------------------------------------------------------------------


def MaxPool(ctx: Ctx, X, *, auto_pad="NOTSET", ceil_mode=0, dilations=None, kernel_shape=None, pads=None,
            storage_order=0, strides=None):
    if len(kernel_shape) not in (1, 2):
        raise ctx.fail(f"{len(kernel_shape)}-D pooling is not supported")
    s, p, d = _spatial_attrs(ctx, X.type, kernel_shape, strides, pads, dilations, auto_pad)
    return ctx.emit("MaxPool", [X], kernel_shape=list(kernel_shape), strides=s, pads=p, dilations=d, ceil_mode=bool(ceil_mode)), None


def AveragePool(ctx: Ctx, X, *, auto_pad="NOTSET", ceil_mode=0, count_include_pad=0, dilations=None, kernel_shape=None,
                pads=None, strides=None):
    if len(kernel_shape) not in (1, 2):
        raise ctx.fail(f"{len(kernel_shape)}-D pooling is not supported")
    s, p, d = _spatial_attrs(ctx, X.type, kernel_shape, strides, pads, dilations, auto_pad)
    if any(x != 1 for x in d):
        raise ctx.fail("dilated average pooling is not supported")
    return ctx.emit("AveragePool", [X], kernel_shape=list(kernel_shape), strides=s, pads=p, ceil_mode=bool(ceil_mode),
                    count_include_pad=bool(count_include_pad))


def GlobalAveragePool(ctx: Ctx, X):
    return ctx.emit("GlobalAveragePool", [X])


def GlobalMaxPool(ctx: Ctx, X):
    return ctx.emit("GlobalMaxPool", [X])


# ---- elementwise binary ----------------------------------------------------------------------


def _binary(op):
    def handler(ctx: Ctx, A, B, *, broadcast=0, axis=None, consumed_inputs=None):
        if broadcast and axis is not None and B.type.rank < A.type.rank:
            # opset < 7: B aligned at `axis` of A instead of numpy's trailing alignment
            extra = A.type.rank - axis - B.type.rank
            if extra > 0:
                b = ctx.const(B)
                new = list(B.type.shape) + [1] * extra
                B = ctx.constant(b.reshape(new), f"{ctx.name}_b") if b is not None else _reshape(ctx, B, new)
        return ctx.emit(op, [A, B])
    handler.__name__ = op
    handler.__doc__ = f"numpy-broadcast {op} (opset < 7 `broadcast`/`axis` normalised)"
    return handler


Add, Sub, Mul, Div = (_binary(op) for op in ("Add", "Sub", "Mul", "Div"))


# ---- data movement ---------------------------------------------------------------------------


def Concat(ctx: Ctx, *inputs, axis=None):
    if axis is None:
        raise ctx.fail("missing axis")
    inputs = [v for v in inputs if v is not None]
    rank = inputs[0].type.rank
    axis = _axis(ctx, axis, rank)
    consts = [ctx.const(v) for v in inputs]
    if all(c is not None and c.size == 0 for c in consts[1:]) and len(inputs) > 1 and consts[0] is None:
        return inputs[0]
    return ctx.emit("Concat", inputs, axis=axis)


def Flatten(ctx: Ctx, X, *, axis=1):
    shape = X.type.shape
    axis = axis % (len(shape) + 1) if shape else 0
    concrete = [1 if d is None else d for d in shape]
    target = [math.prod(concrete[:axis]), math.prod(concrete[axis:])]
    return _reshape(ctx, X, _resolve_shape(ctx, shape, target))


def Reshape(ctx: Ctx, data, shape=None, *, allowzero=0):
    target = ctx.need_const(shape, "Reshape shape")
    return _reshape(ctx, data, _resolve_shape(ctx, data.type.shape, target.reshape(-1).tolist(), allowzero))


def Transpose(ctx: Ctx, data, *, perm=None):
    rank = data.type.rank
    perm = list(perm) if perm is not None else list(reversed(range(rank)))
    if data.type.batched and perm[0] != 0:
        raise ctx.fail(f"transpose {perm} moves the batch axis")
    return ctx.emit("Transpose", [data], perm=perm)


def _axes_arg(ctx: Ctx, axes, what):
    """Axes from an attribute (opset < 13: a list bound to the same name) or a constant input."""
    if axes is None or isinstance(axes, list):
        return axes
    return [int(a) for a in ctx.need_const(axes, what).reshape(-1)]


def Squeeze(ctx: Ctx, data, axes=None):
    axes = _axes_arg(ctx, axes, "Squeeze axes")
    shape = list(data.type.shape)
    axes = [a % len(shape) for a in axes] if axes is not None else [i for i, d in enumerate(shape) if d == 1]
    if data.type.batched and 0 in axes:
        raise ctx.fail("squeeze removes the batch axis")
    if any(shape[a] != 1 for a in axes):
        raise ctx.fail(f"cannot squeeze axes {axes} of shape {tuple(shape)}")
    return _reshape(ctx, data, [d for i, d in enumerate(shape) if i not in axes])


def Unsqueeze(ctx: Ctx, data, axes=None):
    axes = _axes_arg(ctx, axes, "Unsqueeze axes")
    if axes is None:
        raise ctx.fail("Unsqueeze needs axes")
    shape = list(data.type.shape)
    rank = len(shape) + len(axes)
    axes = sorted(a % rank for a in axes)
    if data.type.batched and 0 in axes:
        raise ctx.fail("unsqueeze before the batch axis")
    for a in axes:
        shape.insert(a, 1)
    return _reshape(ctx, data, shape)


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


def Cast(ctx: Ctx, X, *, to, saturate=1, round_mode="up"):
    import onnx

    try:
        elem = elem_from_numpy(onnx.helper.tensor_dtype_to_np_dtype(to))
    except (TypeError, KeyError):
        raise ctx.fail(f"Cast to element type {to} is not supported") from None
    return ctx.emit("Cast", [X], to=elem)


# ---- constants and shapes --------------------------------------------------------------------


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


HANDLERS = {
    f.__name__: f
    for f in (Gemm, MatMul, Conv, BatchNormalization, Relu, LeakyRelu, PRelu, Clip, Sigmoid, HardSigmoid, Tanh, Selu,
              Elu, Softplus, HardSwish, Swish, Gelu,
              Softmax, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, Add, Sub, Mul, Div, Concat, Flatten,
              Reshape, Transpose, Squeeze, Unsqueeze, Pad, Identity, Dropout, Resize, Upsample, Cast, Constant, Shape, Size)
}
