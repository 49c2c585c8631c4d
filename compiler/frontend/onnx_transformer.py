"""ONNX → IR handlers that transformer exports add: LayerNormalization, Erf, and Gather, Slice and Split
with constant indices (each becomes IR Gathers along one axis, a scalar Gather index also a Reshape)."""

from __future__ import annotations

import numpy as np

from .context import Ctx
from .onnx_attrs import emit_reshape, norm_axis


def LayerNormalization(ctx: Ctx, X, Scale, B=None, *, axis=-1, epsilon=1e-5, stash_type=1):
    """Over the axes [axis:], Scale and B broadcast to the normalised shape; the optional Mean and InvStdDev
    outputs (training) are not produced (the loader refuses a model that reads them)."""
    if not epsilon >= 0:
        raise ctx.fail(f"epsilon must be >= 0, got {epsilon}")
    rank = X.type.rank
    ax = norm_axis(ctx, axis, rank)
    if X.type.batched and ax == 0:
        raise ctx.fail("normalising over the batch axis")
    tail = tuple(X.type.shape[ax:])
    params = []
    for v, what in ((Scale, "Scale"), (B, "B")):
        p = ctx.need_const(v, f"LayerNormalization {what}")
        if p is None:
            params.append(None)
            continue
        try:
            full = np.broadcast_to(p, tail)
        except ValueError:
            raise ctx.fail(f"{what} of shape {p.shape} does not broadcast to the normalised shape {tail}") from None
        params.append(v if p.shape == tail else ctx.constant(np.ascontiguousarray(full), f"{ctx.name}_{what.lower()}"))
    return ctx.emit("LayerNormalization", [X, *params], axis=ax - rank, epsilon=float(epsilon))


def Erf(ctx: Ctx, X):
    return ctx.emit("Erf", [X])


def _gather(ctx: Ctx, x, axis: int, indices) -> object:
    """IR Gather of `indices` along `axis`; the identity when the indices are the whole axis in order."""
    size = x.type.shape[axis]
    indices = [int(i) for i in indices]
    if not indices:
        raise ctx.fail(f"an empty selection along axis {axis} (zero-size tensors are not supported)")
    if size is None:
        if indices == [0]:
            return x  # the export batch 1, kept whole
        raise ctx.fail("selecting along the batch axis")
    if indices == list(range(size)):
        return x
    return ctx.emit("Gather", [x], axis=axis, indices=indices)


def Gather(ctx: Ctx, data, indices, *, axis=0):
    """Constant indices of any rank (an index computed at run time, e.g. an embedding lookup of token ids,
    has no form here); negative indices count from the end."""
    idx = ctx.need_const(indices, "Gather indices")
    rank = data.type.rank
    ax = norm_axis(ctx, axis, rank)
    size = data.type.shape[ax]
    n = 1 if size is None else size
    flat = [int(i) for i in idx.reshape(-1)]
    if not flat or any(not -n <= i < n for i in flat):
        raise ctx.fail(f"indices {flat} out of range for axis {ax} of size {n}")
    y = _gather(ctx, data, ax, [i % n for i in flat])
    if idx.ndim != 1:  # a scalar index drops the axis, indices of rank k > 1 replace it by their shape
        shape = list(data.type.shape[:ax]) + list(idx.shape) + list(data.type.shape[ax + 1:])
        y = emit_reshape(ctx, y, shape)
    return y


def Slice(ctx: Ctx, data, starts=None, ends=None, axes=None, steps=None):
    """Constant starts/ends/axes/steps (attributes before opset 10), clamped as numpy slices."""
    if ctx.opset < 10:  # attributes, bound to the same parameter names
        st, en = list(starts), list(ends)
        ax = list(axes) if axes is not None else list(range(len(st)))
        sp = [1] * len(st)
    else:
        st = [int(v) for v in ctx.need_const(starts, "Slice starts").reshape(-1)]
        en = [int(v) for v in ctx.need_const(ends, "Slice ends").reshape(-1)]
        a = ctx.need_const(axes, "Slice axes")
        ax = [int(v) for v in a.reshape(-1)] if a is not None else list(range(len(st)))
        s = ctx.need_const(steps, "Slice steps")
        sp = [int(v) for v in s.reshape(-1)] if s is not None else [1] * len(st)
    if not len(st) == len(en) == len(ax) == len(sp) or len(set(ax)) != len(ax):
        raise ctx.fail(f"starts {st}, ends {en}, axes {ax} and steps {sp} differ in length or repeat an axis")
    y = data
    rank = data.type.rank
    for a, b, e, k in zip(ax, st, en, sp):
        a = norm_axis(ctx, a, rank)
        if k == 0:
            raise ctx.fail("a Slice step of 0")
        size = data.type.shape[a]
        y = _gather(ctx, y, a, range(*slice(b, e, k).indices(1 if size is None else size)))
    return y


def Split(ctx: Ctx, input, split=None, *, axis=0, num_outputs=None):
    """Into len(outputs) parts along axis: sizes from `split` (an attribute before opset 13), or equal
    parts (the last one smaller, as opset 18's num_outputs)."""
    rank = input.type.rank
    ax = norm_axis(ctx, axis, rank)
    size = input.type.shape[ax]
    if size is None:
        raise ctx.fail("splitting the batch axis")
    n = len(ctx.node.output)
    if split is None:
        sizes = None
    elif isinstance(split, list):
        sizes = [int(v) for v in split]
    else:
        sizes = [int(v) for v in ctx.need_const(split, "Split split").reshape(-1)]
    if sizes is None:
        part = -(-size // n)
        sizes = [min(part, size - i * part) for i in range(n)]
    if len(sizes) != n or sum(sizes) != size or any(s < 0 for s in sizes):
        raise ctx.fail(f"split sizes {sizes} do not divide axis {ax} of size {size} into {n} outputs")
    outs, start = [], 0
    for s in sizes:
        outs.append(_gather(ctx, input, ax, range(start, start + s)))
        start += s
    return tuple(outs)
