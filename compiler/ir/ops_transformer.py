"""IR op schemas that transformers add: LayerNormalization and Gather with constant indices (the form
ONNX Gather, Slice and Split take). MatMul of two activations is `ops_algebra`'s MatMul."""

from __future__ import annotations

from .errors import IRError
from .schema import REQUIRED, op_schema
from .shapes import input_type


@op_schema("LayerNormalization", ["x", "scale", "bias?"],
           {"axis": ("int", -1), "epsilon": ("float", 1e-5), "rsqrt_bits": ("int?", None),
            "table_bits": ("int?", None)},
           doc="y = (x - mean) / sqrt(var + eps) * scale + bias over the axes [axis:]; fixed point: exact centred "
               "sums, 1/sqrt from a table after an even normalising shift (compiler/sim/transformer_ops.py)")
def _layer_norm(node):
    x = input_type(node, 0)
    ax = node.attrs["axis"]
    if not -x.rank <= ax < x.rank or ax % x.rank == 0 and x.batched:
        raise IRError(f"LayerNormalization node {node.name}: axis {ax} out of range for {x} (or the batch axis)")
    tail = x.shape[ax % x.rank:]
    for i in (1, 2):
        v = node.input(i)
        if v is not None and tuple(v.type.shape) != tuple(tail):
            raise IRError(f"LayerNormalization node {node.name}: parameter {v.type.shape} is not the normalised shape {tail}")
    return [x]


@op_schema("Gather", ["x"], {"axis": ("int", REQUIRED), "indices": ("ints", REQUIRED)},
           doc="y = take(x, indices, axis) with constant indices in [0, size) (ONNX Gather with constant "
               "indices, Slice and Split all become this; a scalar index is a Gather and a Reshape)")
def _gather(node):
    x = input_type(node, 0)
    ax = node.attrs["axis"]
    if not 0 <= ax < x.rank or x.shape[ax] is None:
        raise IRError(f"Gather node {node.name}: axis {ax} is out of range or the batch axis of {x}")
    if not node.attrs["indices"] or not all(0 <= i < x.shape[ax] for i in node.attrs["indices"]):
        raise IRError(f"Gather node {node.name}: indices {node.attrs['indices']} out of range for axis {ax} of {x}")
    return [x.with_shape(x.shape[:ax] + (len(node.attrs["indices"]),) + x.shape[ax + 1:])]
