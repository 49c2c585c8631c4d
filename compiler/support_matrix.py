"""Which IR op each op table handles: the op-support matrix.

Every op of the IR schema (`compiler/ir/ops.py`) must be handled by each table below or be listed in
that table's `UNSUPPORTED` entry with the reason. `tests/test_support_matrix.py` fails, naming the
table, when an op is added to the schema only (or a table gains an op still listed as unsupported).
`docs/SUPPORT.md` is this module's output:

    python -m hwc.compiler.support_matrix > docs/SUPPORT.md
"""

from __future__ import annotations

import sys
from typing import Callable

from .ir.ops import SCHEMAS


def _frontend() -> set[str]:
    from .frontend.onnx_ops import HANDLERS as FLOAT_HANDLERS
    from .frontend.onnx_quant import HANDLERS as QUANT_HANDLERS

    return set(FLOAT_HANDLERS) | set(QUANT_HANDLERS)


def _float_sim() -> set[str]:
    from .sim.float_ops import FLOAT_OPS

    return set(FLOAT_OPS)


def _fixed_sim() -> set[str]:
    from .sim.fixed_ops import FIXED_OPS

    return set(FIXED_OPS)


def _tflite_sim() -> set[str]:
    from .sim.tflite_ops import OPS

    return set(OPS)


def _openvino_sim() -> set[str]:
    from .sim.openvino_ops import OPENVINO_OPS

    return set(OPENVINO_OPS)


def _openvino_fp16_sim() -> set[str]:
    from .sim.openvino_fp16 import FP16_FORMS

    return set(FP16_FORMS)


def _intervals() -> set[str]:
    from .ranges import INTERVALS

    return set(INTERVALS)


def _methods(cls) -> set[str]:
    """Ops of an emitter class that dispatches on `_<Op>` methods."""
    return {m[1:] for m in dir(cls) if m.startswith("_") and m[1:2].isupper()}


def _hls_emitter() -> set[str]:
    from hwc.backends.hls_layers import Emitter

    return _methods(Emitter) | {"FromFloat", "ToFloat"}  # the top function's ports (backends/hls.py)


def _tflite_writer() -> set[str]:
    from hwc.backends.tflite_writer import WRITERS

    return set(WRITERS)


def _tflite_16x8() -> set[str]:
    from .passes.widen_activations import FORMS_16X8

    return set(FORMS_16X8)


def _openvino_emitter() -> set[str]:
    from hwc.backends.openvino_emit import Emitter

    return _methods(Emitter)


def _hls_stream() -> set[str]:
    from hwc.backends.hls import Project

    return set(Project.STREAM_KERNELS) | {"Conv", "MaxPool", "AveragePool", "Softmax"}  # named in stream_kernel()


def _hls_kernels() -> set[str]:
    from hwc.backends.hls_kernels import KERNELS

    return set(KERNELS)


def _assign_types() -> set[str]:
    from .passes.assign_types import TYPE_RULES

    return set(TYPE_RULES) | {"FromFloat", "ToFloat"}  # typed by the lowering passes before, kept


def _quantize_affine() -> set[str]:
    from .passes.quantize_affine import HANDLED

    return set(HANDLED)


def _channel_groups() -> set[str]:
    from .channel_groups import CHANNEL_OPS

    return set(CHANNEL_OPS)


def _finetune() -> set[str]:
    from .finetune_interpreter import TORCH_OPS

    return set(TORCH_OPS)


#: table name -> (what it is, where, the ops it handles)
TABLES: dict[str, tuple[str, str, Callable[[], set[str]]]] = {
    "frontend": ("ONNX op handler", "compiler/frontend/onnx_ops.py, onnx_quant.py HANDLERS", _frontend),
    "float": ("float simulator", "compiler/sim/float_ops.py FLOAT_OPS", _float_sim),
    "fixed": ("fixed-point simulator (HLS arithmetic)", "compiler/sim/fixed_ops.py FIXED_OPS", _fixed_sim),
    "tflite": ("TFLite simulator", "compiler/sim/tflite_ops.py OPS", _tflite_sim),
    "openvino": ("OpenVINO simulator", "compiler/sim/openvino_ops.py OPENVINO_OPS", _openvino_sim),
    "openvino-fp16": ("OpenVINO FP16 (NCS2) simulator", "compiler/sim/openvino_fp16.py FP16_FORMS",
                      _openvino_fp16_sim),
    "intervals": ("interval analysis", "compiler/ranges.py INTERVALS", _intervals),
    "hls": ("HLS emitter (xilinx, intel)", "backends/hls_layers.py Emitter._<Op>", _hls_emitter),
    "tflite-writer": ("TFLite flatbuffer writer", "backends/tflite_writer.py WRITERS", _tflite_writer),
    "tflite-16x8": ("TFLite 16x8 mode (--abits 16)", "compiler/passes/widen_activations.py FORMS_16X8", _tflite_16x8),
    "openvino-ir": ("OpenVINO IR emitter", "backends/openvino_emit.py Emitter._<Op>", _openvino_emitter),
    "hls-stream": ("HLS stream kernel (--io stream)", "backends/hls.py Project.STREAM_KERNELS, stream_kernel()",
                   _hls_stream),
    "hls-kernel": ("HLS kernel header", "backends/hls_kernels.py KERNELS", _hls_kernels),
    "assign-types": ("fixed-point type rule", "compiler/passes/assign_types.py TYPE_RULES", _assign_types),
    "quantize-affine": ("TFLite int8 lowering", "compiler/passes/quantize_affine.py HANDLED", _quantize_affine),
    "channel-groups": ("channel-pruning walk", "compiler/channel_groups.py CHANNEL_OPS", _channel_groups),
    "finetune": ("fine-tuning interpreter", "compiler/finetune_interpreter.py TORCH_OPS", _finetune),
}

_QUANTIZERS = ("Quant", "BipolarQuant", "Trunc", "QuantizeLinear", "DequantizeLinear")
_LOWERED = "lowered to casts and types before (LowerQuantizers)"
_AFFINE = "lowered to affine types before (QuantizeAffine)"
_MADE = "made by the quantization passes, never imported"
_FOLDED_BN = "folded into the layer before it (FoldBatchNorm)"
_INTEGER = "lowered to Dense/Conv before (LowerScaledLayers)"
_MATMUL = "a MatMul with a constant operand becomes a Dense (FuseMatMulAdd); of two activations: no form yet"
_LAYER_NORM = ("the exact fixed-point algorithm's sums of squares (up to 2^62, compiler/sim/transformer_ops.py) exceed "
               "the 2^24 that OpenVINO's f32 arithmetic keeps exact")
_TFLITE_LN = "TFLite has no LayerNormalization kernel (its converter decomposes it into mean, rsqrt and mul ops)"
_GATHER = "no form on this target yet (Gather, Slice and Split with constant indices)"
_NO_FORM = "no form on this target yet"
_DYNAMIC = "a scale computed at run time: refused by every hardware target"
_BUFFERED = "no stream kernel: its array kernel runs between stream_to_array and array_to_stream"
_PORTS = "the top function's ports (backends/hls.py)"
_FREEZES = "freezes its channel group: channels are not pruned through it"
_NO_TORCH = "no torch form yet: fine-tuning refuses it"
_HLS_LOWERED = {**dict.fromkeys(_QUANTIZERS, _LOWERED), "BatchNormalization": _FOLDED_BN,
                "ConvInteger": _INTEGER, "MatMulInteger": _INTEGER, "Requantize": _INTEGER,
                "Div": _NO_FORM, "DynamicQuantizeLinear": _DYNAMIC}

#: table -> {op: why the table does not handle it}
UNSUPPORTED: dict[str, dict[str, str]] = {
    "frontend": {op: _MADE for op in ("Dense", "FromFloat", "ToFloat", "Rescale", "Requantize", "Bipolar")},
    "float": {"FromFloat": "fixed-point boundary only", "ToFloat": "fixed-point boundary only",
              "Rescale": "fixed-point only"},
    "fixed": {**dict.fromkeys(_QUANTIZERS, _LOWERED), "BatchNormalization": _FOLDED_BN, "Dropout": "removed before",
              "ConvInteger": _INTEGER, "MatMulInteger": _INTEGER, "Requantize": _INTEGER,
              "Div": _NO_FORM, "DynamicQuantizeLinear": _DYNAMIC},
    "tflite": {**dict.fromkeys(_QUANTIZERS, _AFFINE), "BatchNormalization": _FOLDED_BN, "Dropout": "removed before",
               "Identity": "removed before", "MatMul": _MATMUL, "ConvInteger": _AFFINE, "MatMulInteger": _AFFINE,
               "Requantize": _AFFINE, "Rescale": "fixed-point only", "Div": _NO_FORM, "PRelu": _NO_FORM,
               "Sub": _NO_FORM, "GlobalMaxPool": _NO_FORM, "DynamicQuantizeLinear": _DYNAMIC, "Erf": _NO_FORM,
               "LayerNormalization": _TFLITE_LN, "Gather": _GATHER},
    "openvino": {**dict.fromkeys(_QUANTIZERS, _LOWERED), "BatchNormalization": _FOLDED_BN, "Dropout": "removed before",
                 "MatMul": _MATMUL, "ConvInteger": _INTEGER, "MatMulInteger": _INTEGER, "Requantize": _INTEGER,
                 "Div": _NO_FORM, "DynamicQuantizeLinear": _DYNAMIC, "LayerNormalization": _LAYER_NORM,
                 "Gather": _GATHER},
    "openvino-fp16": {**dict.fromkeys(_QUANTIZERS, _LOWERED), "BatchNormalization": _FOLDED_BN,
                      "Dropout": "removed before", "MatMul": _MATMUL, "ConvInteger": _INTEGER, "MatMulInteger": _INTEGER,
                      "Requantize": _INTEGER, "Div": _NO_FORM, "DynamicQuantizeLinear": _DYNAMIC,
                      "LayerNormalization": _LAYER_NORM, "Gather": _GATHER,
                      **dict.fromkeys(("Bipolar", "HardSigmoid", "PRelu", "Elu", "Gelu", "HardSwish", "Selu", "Softplus",
                                       "Swish", "Erf"), _NO_FORM)},
    "intervals": {
                  **{op: _MADE for op in ("FromFloat", "ToFloat", "Rescale", "Requantize")}},
    "hls": _HLS_LOWERED,
    "openvino-ir": {**dict.fromkeys(_QUANTIZERS, _LOWERED), "BatchNormalization": _FOLDED_BN,
                    "Dropout": "removed before", "MatMul": _MATMUL, "ConvInteger": _INTEGER, "MatMulInteger": _INTEGER,
                    "Requantize": _INTEGER, "Div": _NO_FORM, "DynamicQuantizeLinear": _DYNAMIC,
                    "LayerNormalization": _LAYER_NORM, "Gather": _GATHER},
    "hls-stream": {**_HLS_LOWERED, "FromFloat": _PORTS, "ToFloat": _PORTS,
                   "Reshape": "flatten_stream when it flattens; otherwise " + _BUFFERED.split(": ", 1)[1],
                   **dict.fromkeys(("Add", "Sub", "Mul", "Cast", "Concat", "Dropout", "Identity", "Pad", "Rescale",
                                    "Resize", "Transpose", "Erf", "Gather", "LayerNormalization", "MatMul"),
                                   _BUFFERED)},
    "hls-kernel": {**_HLS_LOWERED, "FromFloat": _PORTS, "ToFloat": _PORTS},
    "assign-types": {**dict.fromkeys(_QUANTIZERS, _LOWERED), "ConvInteger": _INTEGER,
                     "MatMulInteger": _INTEGER, "Requantize": _INTEGER, "Div": _NO_FORM,
                     "DynamicQuantizeLinear": _DYNAMIC},
    "quantize-affine": {"BipolarQuant": "no int8 form on a run-time value (folded into constant weights)",
                        "Trunc": "no int8 form on a run-time value (folded into constant weights)",
                        "Dropout": "removed before", "Identity": "removed before", "MatMul": _MATMUL,
                        "FromFloat": "made by the lowering (AddAffineEdges)",
                        "ToFloat": "made by the lowering (AddAffineEdges)",
                        "GlobalMaxPool": "becomes MaxPool before (GlobalMaxPoolToMaxPool)", "Rescale": "fixed-point only",
                        "Div": _NO_FORM, "Sub": _NO_FORM, "PRelu": _NO_FORM, "DynamicQuantizeLinear": _DYNAMIC,
                        "Erf": _NO_FORM, "LayerNormalization": _TFLITE_LN, "Gather": _GATHER},
    "channel-groups": dict.fromkeys(("Bipolar", "BipolarQuant", "ConvInteger", "DequantizeLinear", "Div",
                                     "DynamicQuantizeLinear", "Elu", "FromFloat", "Gelu", "HardSwish", "MatMul",
                                     "MatMulInteger", "PRelu", "QuantizeLinear", "Requantize", "Softmax", "Softplus",
                                     "Swish", "ToFloat", "Transpose", "Erf", "Gather", "LayerNormalization"),
                                    _FREEZES),
    "finetune": {**dict.fromkeys(("Bipolar", "BipolarQuant", "Cast", "ConvInteger", "DequantizeLinear",
                                  "DynamicQuantizeLinear", "Elu", "Gelu", "HardSigmoid", "HardSwish", "MatMul",
                                  "MatMulInteger", "PRelu", "Pad", "Quant", "QuantizeLinear", "Requantize", "Resize",
                                  "Selu", "Softplus", "Swish", "Trunc", "Erf", "Gather", "LayerNormalization"),
                                 _NO_TORCH),
                 **dict.fromkeys(("FromFloat", "ToFloat", "Rescale"), "fixed-point form only: fine-tuning runs on "
                                 "the float graph")},
}
UNSUPPORTED["tflite-writer"] = UNSUPPORTED["tflite"]  # the writer and the simulator cover the same ops
UNSUPPORTED["tflite-16x8"] = {**UNSUPPORTED["tflite"], **{op: "no 16x8 form yet (int8 only: --abits 8)" for op in (
    "Add", "Mul", "Concat", "Pad", "GlobalAveragePool", "Sigmoid", "Tanh", "Softmax", "Resize", "Cast",
    "LeakyRelu", "HardSigmoid", "Clip", "Selu", "Elu", "Softplus", "HardSwish", "Swish", "Gelu", "Bipolar")}}


def problems(ops=None) -> list[str]:
    """Every (op, table) that is neither handled nor listed as unsupported, and every op listed as
    unsupported that the table handles; one line each, naming the table and where it lives."""
    ops = sorted(SCHEMAS if ops is None else ops)
    out = []
    for name, (what, where, handled) in TABLES.items():
        have, skip = handled(), UNSUPPORTED[name]
        for op in ops:
            if op not in have and op not in skip:
                out.append(f"{op}: missing in the {what} ({where}); add it there or to UNSUPPORTED[{name!r}] "
                           "in compiler/support_matrix.py")
            elif op in have and op in skip:
                out.append(f"{op}: the {what} ({where}) handles it, but UNSUPPORTED[{name!r}] lists it")
    return out


def render() -> str:
    """docs/SUPPORT.md: one row per IR op, one column per table."""
    names = list(TABLES)
    have = {name: TABLES[name][2]() for name in names}
    reasons: dict[str, int] = {}
    lines = ["# Op support", "",
             "Generated by `python -m hwc.compiler.support_matrix > docs/SUPPORT.md` from the op tables; "
             "`tests/test_support_matrix.py` checks that it is current and that every IR op is in every table "
             "or listed as unsupported there with a reason. ✓: handled; a number: not handled, for the reason "
             "below.", "",
             "Tables: " + "; ".join(f"**{n}**: {TABLES[n][0]} (`{TABLES[n][1]}`)" for n in names) + ".", "",
             "| IR op | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for op in sorted(SCHEMAS):
        cells = []
        for n in names:
            if op in have[n]:
                cells.append("✓")
            else:
                why = UNSUPPORTED[n].get(op, "MISSING")
                cells.append(str(reasons.setdefault(why, len(reasons) + 1)))
        lines.append(f"| {op} | " + " | ".join(cells) + " |")
    lines += ["", "Not handled, because:", ""] + [f"{k}. {why}" for why, k in reasons.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
