"""IR op schemas of pooling and data movement: windows, Concat, Reshape, Transpose, Pad, Resize."""

from __future__ import annotations

import math

from .errors import IRError
from .schema import REQUIRED, op_schema
from .shapes import input_type, spatial_out

WINDOW_ATTRS = {"kernel_shape": ("ints", REQUIRED), "strides": ("ints", REQUIRED), "pads": ("ints", REQUIRED)}


# ---- pooling ---------------------------------------------------------------------------------

@op_schema("MaxPool", ["x"], {**WINDOW_ATTRS, "dilations": ("ints", REQUIRED), "ceil_mode": ("bool", False)},
           doc="max over each window; padding never wins")
def _maxpool(node):
    x = input_type(node, 0)
    a = node.attrs
    return [x.with_shape(x.shape[:2] + spatial_out(node, x, a["kernel_shape"], a["strides"], a["dilations"], a["pads"], a["ceil_mode"]))]


@op_schema("AveragePool", ["x"], {**WINDOW_ATTRS, "ceil_mode": ("bool", False), "count_include_pad": ("bool", False),
                                  "recip_bits": ("int?", None)},
           doc="mean over each window; divisor counts padding only with count_include_pad (never the ceil_mode overhang)")
def _avgpool(node):
    x = input_type(node, 0)
    a = node.attrs
    ones = [1] * len(a["kernel_shape"])
    return [x.with_shape(x.shape[:2] + spatial_out(node, x, a["kernel_shape"], a["strides"], ones, a["pads"], a["ceil_mode"]))]


def _global_pool(node):
    x = input_type(node, 0)
    return [x.with_shape(x.shape[:2] + (1,) * (x.rank - 2))]


op_schema("GlobalAveragePool", ["x"], {"recip_bits": ("int?", None)}, doc="mean over all spatial axes (kept as size 1)")(_global_pool)
op_schema("GlobalMaxPool", ["x"], doc="max over all spatial axes (kept as size 1)")(_global_pool)


# ---- data movement ---------------------------------------------------------------------------

@op_schema("Concat", ["inputs*"], {"axis": ("int", REQUIRED)}, doc="concatenate along axis")
def _concat(node):
    ts = [input_type(node, i) for i in range(len(node.inputs))]
    axis = node.attrs["axis"] % ts[0].rank
    for t in ts[1:]:
        if t.rank != ts[0].rank or any(a != b for i, (a, b) in enumerate(zip(t.shape, ts[0].shape)) if i != axis):
            raise IRError(f"Concat node {node.name}: shapes {[t.shape for t in ts]} differ off axis {axis}")
    if any(t.shape[axis] is None for t in ts):
        raise IRError(f"Concat node {node.name}: cannot concatenate along the batch axis")
    return [ts[0].with_shape(ts[0].shape[:axis] + (sum(t.shape[axis] for t in ts),) + ts[0].shape[axis + 1:])]


@op_schema("Reshape", ["x"], {"shape": ("shape", REQUIRED)},
           doc="reshape (row-major) to `shape`; a None entry is the batch and must stay the leading axis")
def _reshape(node):
    x = input_type(node, 0)
    shape = tuple(node.attrs["shape"])
    fixed_in = math.prod(d for d in x.shape if d is not None)
    fixed_out = math.prod(d for d in shape if d is not None)
    if (None in x.shape) != (None in shape) or fixed_in != fixed_out:
        raise IRError(f"Reshape node {node.name}: cannot reshape {x} to {shape}")
    if None in shape and (shape.index(None) != 0 or x.shape.index(None) != 0):
        raise IRError(f"Reshape node {node.name}: the batch must stay the leading axis")
    return [x.with_shape(shape)]


@op_schema("Transpose", ["x"], {"perm": ("ints", REQUIRED)}, doc="permute axes")
def _transpose(node):
    x = input_type(node, 0)
    perm = node.attrs["perm"]
    if sorted(perm) != list(range(x.rank)):
        raise IRError(f"Transpose node {node.name}: perm {perm} is not a permutation of {x.rank} axes")
    return [x.with_shape(tuple(x.shape[p] for p in perm))]


@op_schema("Pad", ["x"], {"pads": ("ints", REQUIRED), "mode": ("str", "constant"), "value": ("float", 0.0)},
           doc="pad (begins..., ends...) with a constant, the edge value or a reflection")
def _pad(node):
    x = input_type(node, 0)
    pads = node.attrs["pads"]
    r = x.rank
    if len(pads) != 2 * r or node.attrs["mode"] not in ("constant", "edge", "reflect"):
        raise IRError(f"Pad node {node.name}: pads {pads} / mode {node.attrs['mode']} invalid for {x}")
    shape = []
    for i, d in enumerate(x.shape):
        if d is None:
            if pads[i] or pads[r + i]:
                raise IRError(f"Pad node {node.name}: cannot pad the batch axis")
            shape.append(None)
        else:
            shape.append(d + pads[i] + pads[r + i])
    return [x.with_shape(tuple(shape))]


@op_schema("Resize", ["x"], {"scales": ("floats", REQUIRED), "shape": ("shape", REQUIRED),
                              "coordinate_transformation_mode": ("str", "half_pixel"),
                              "nearest_mode": ("str", "round_prefer_floor")},
           doc="nearest-neighbour resize to `shape` (ONNX coordinate transform and nearest mode)")
def _resize(node):
    x = input_type(node, 0)
    shape = tuple(node.attrs["shape"])
    if len(shape) != x.rank or any((a is None) != (b is None) for a, b in zip(shape, x.shape)):
        raise IRError(f"Resize node {node.name}: output shape {shape} does not fit {x}")
    return [x.with_shape(shape)]
