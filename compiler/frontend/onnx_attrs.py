"""What the ONNX handlers share: attributes normalised across opsets (windows, axes), Reshape's
target-shape rule with the batch kept leading, and constant operands read as attributes."""

from __future__ import annotations

import math

import numpy as np

from .context import Ctx


def spatial_attrs(ctx: Ctx, x, kernel_shape, strides, pads, dilations, auto_pad):
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


def norm_axis(ctx: Ctx, axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise ctx.fail(f"axis {axis} out of range for rank {rank}")
    return axis % rank


def emit_reshape(ctx: Ctx, x, shape) -> object:
    return ctx.emit("Reshape", [x], shape=list(shape))


def resolve_shape(ctx: Ctx, in_shape, target, allowzero=0):
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


def const_float(ctx: Ctx, v, what):
    arr = ctx.need_const(v, what)
    return None if arr is None else float(np.asarray(arr).reshape(-1)[0]) if np.asarray(arr).size else None


def axes_arg(ctx: Ctx, axes, what):
    """Axes from an attribute (opset < 13: a list bound to the same name) or a constant input."""
    if axes is None or isinstance(axes, list):
        return axes
    return [int(a) for a in ctx.need_const(axes, what).reshape(-1)]
