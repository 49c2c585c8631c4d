"""CheckAffineSupport: refuses, naming the node, a graph the TFLite int8 form cannot express (changes nothing).

Every run-time value has a static shape except the batch; every run-time op is in SUPPORTED and in a form
TFLite has (2-D spatial ops, SAME/VALID pooling windows, zero constant padding, nearest resizes that pick
TFLite's pixels, elementwise Add/Mul of two same-shaped tensors, Concat off the batch axis).
"""

from __future__ import annotations

import numpy as np

from ..errors import HwcError
from ..ir.graph import Graph, Node
from ..ir.static import is_static
from ..sim.float_ops import resize_indices
from ..sim.tflite_ops import LUT_OPS, depthwise_multiplier, tflite_resize_indices, window_padding
from .base import Pass

# ops whose output keeps the input's quantization
PASS_THROUGH = ("MaxPool", "AveragePool", "Reshape", "Transpose", "Pad", "Resize", "Relu")
# ops that requantize into any output parameters
FREE = ("Dense", "Conv", "Add", "Mul", "GlobalAveragePool", "Cast") + LUT_OPS
# ops with fixed output parameters (scale, zero point)
FIXED_OUT = {"Sigmoid": (1.0 / 256, -128), "Softmax": (1.0 / 256, -128), "Tanh": (1.0 / 128, 0)}
# BatchNormalization folds into the Conv/Dense before it (FoldBatchNormIntoScales)
SUPPORTED = frozenset(PASS_THROUGH) | frozenset(FREE) | frozenset(FIXED_OUT) | {"Concat", "BatchNormalization"}


class CheckAffineSupport(Pass):
    name = "check-affine-support"

    def run(self, graph: Graph) -> bool:
        for v in graph.values():
            if v.const is None and None in v.type.shape[1:]:
                raise HwcError(f"value {v.name} has a dynamic dimension other than the batch {list(v.type.shape)}; "
                               "TFLite models here have static shapes")
        bad = [n for n in graph.toposort() if n.op not in SUPPORTED and not is_static(graph, n.output)]
        if bad:
            raise HwcError("no TFLite int8 form for " + ", ".join(f"{n.op} ({n.name})" for n in bad))
        for n in graph.toposort():
            if is_static(graph, n.output):
                continue
            why = unsupported_form(graph, n)
            if why:
                raise HwcError(why, node=n.name, op=n.op)
        return False


def unsupported_form(graph: Graph, n: Node) -> str | None:
    """Why a supported op cannot take this particular form in TFLite int8 (None when it can)."""
    op, a = n.op, n.attrs
    x = n.inputs[0].type
    if op in ("Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "Resize") and x.rank != 4:
        return f"only 2-D (NCHW, rank 4) {op} maps to TFLite, got rank {x.rank}"
    if op == "Dense" and x.rank != 2:
        return f"FULLY_CONNECTED takes a rank-2 input here, got {x}"
    if op == "Conv" and a["group"] != 1 and depthwise_multiplier(n) is None:
        return f"grouped convolution (group {a['group']}) is neither CONV_2D nor DEPTHWISE_CONV_2D"
    if op in ("Dense", "Conv") and not is_static(graph, n.inputs[1]):
        return "weights must be constant"
    if op in ("MaxPool", "AveragePool"):
        if window_padding(n) is None:
            return f"pads {a['pads']} (ceil_mode {a['ceil_mode']}) are neither TFLite SAME nor VALID padding"
        if op == "MaxPool" and any(d != 1 for d in a["dilations"]):
            return "dilated max pooling has no TFLite form"
        if op == "AveragePool" and a["count_include_pad"] and any(a["pads"]):
            return "count_include_pad averages over padding; TFLite averages the in-bounds taps"
    if op == "Pad" and (a["mode"] != "constant" or a["value"] != 0.0):
        return f"only zero constant padding maps to TFLite PAD (mode {a['mode']}, value {a['value']})"
    if op == "Resize":
        for ax in range(x.rank):
            out, size = n.output.type.shape[ax], x.shape[ax]
            if out is None or out == size:
                continue
            onnx_idx = resize_indices(size, out, a["scales"][ax], a["coordinate_transformation_mode"],
                                      a["nearest_mode"])
            if ax < 2 or not np.array_equal(onnx_idx, tflite_resize_indices(size, out)):
                return "this nearest-neighbour resize does not pick the same pixels as TFLite RESIZE_NEAREST_NEIGHBOR"
    if op in ("Add", "Mul") and (any(v.const is not None for v in n.inputs)
                                 or n.inputs[0].type.shape != n.inputs[1].type.shape):
        return f"{op} of two run-time tensors of one shape maps to TFLite; constants and broadcasting are not supported"
    if op == "Concat" and a["axis"] % x.rank == 0:
        return "concatenation along the batch axis"
    return None
