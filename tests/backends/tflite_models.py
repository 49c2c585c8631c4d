"""Shared by the TFLite backend tests: small ONNX models built in code that together use every op the
backend maps, and a helper that compiles a model through `TfliteBackend` the way the CLI will."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from conftest import compile_options, make_model

F = TensorProto.FLOAT
RESOLVERS = ("ref", "xnnpack", "builtin")


def compile_model(model, out: Path, graph=None, target="tflite", **kw):
    """Load an ONNX file as the CLI does and compile it into `out`; returns the CompileResult."""
    from hwc.backends.tflite import TfliteBackend
    from hwc.compiler.compile_model import load_onnx_model

    g = graph if graph is not None else load_onnx_model(model)
    return TfliteBackend().compile(g, compile_options(target, **kw), out, source=str(model))


def save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.save(model, str(path))
    return path


def random_calib(path: Path, shape, seed: int = 1) -> str:
    np.save(path, np.random.default_rng(seed).standard_normal(shape).astype(np.float32))
    return str(path)


def _w(rng, *shape, scale=0.3):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def ops_cnn(seed: int = 0) -> onnx.ModelProto:
    """Conv (SAME pads, fused Relu) -> depthwise Conv x2 (explicit pads -> PAD; Clip(0, 6) = RELU6) -> MaxPool ->
    Relu (standalone RELU) -> Sigmoid / Tanh -> Add -> Mul -> Concat (one input requantized by a QUANTIZE) -> Pad ->
    AveragePool (SAME) -> LeakyRelu (table lookup) -> Resize (nearest x2) -> GlobalAveragePool (MEAN) -> Flatten ->
    Gemm -> Softmax. Input [N, 3, 8, 8]."""
    rng = np.random.default_rng(seed)
    inits = [("w1", _w(rng, 6, 3, 3, 3)), ("b1", _w(rng, 6, scale=0.1)), ("w2", _w(rng, 12, 1, 3, 3)),
             ("b2", _w(rng, 12, scale=0.1)), ("w4", _w(rng, 12, 1, 3, 3)), ("w3", _w(rng, 24, 10)),
             ("b3", _w(rng, 10, scale=0.1)), ("lo", np.array(0.0, np.float32)), ("hi", np.array(6.0, np.float32)),
             ("pads", np.array([0, 0, 1, 0, 0, 0, 0, 1], np.int64)), ("scales", np.array([1, 1, 2, 2], np.float32))]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], group=6, pads=[1, 0, 1, 2]),
        helper.make_node("Clip", ["c2", "lo", "hi"], ["r2"]),
        helper.make_node("Conv", ["r2", "w4"], ["c4"], group=12, pads=[1, 1, 1, 1]),
        helper.make_node("MaxPool", ["c4"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Relu", ["p"], ["pr"]),
        helper.make_node("Sigmoid", ["pr"], ["s"]),
        helper.make_node("Tanh", ["p"], ["t"]),
        helper.make_node("Add", ["s", "t"], ["a"]),
        helper.make_node("Mul", ["a", "pr"], ["m"]),
        helper.make_node("Concat", ["m", "p"], ["cat"], axis=1),
        helper.make_node("Pad", ["cat", "pads"], ["pad"], mode="constant"),
        helper.make_node("AveragePool", ["pad"], ["avg"], kernel_shape=[2, 2], strides=[1, 1], pads=[0, 0, 1, 1]),
        helper.make_node("LeakyRelu", ["avg"], ["lk"], alpha=0.2),
        helper.make_node("Resize", ["lk", "", "scales"], ["rs"], mode="nearest"),
        helper.make_node("GlobalAveragePool", ["rs"], ["gap"]),
        helper.make_node("Flatten", ["gap"], ["f"]),
        helper.make_node("Gemm", ["f", "w3", "b3"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["y"], axis=1),
    ]
    return make_model(nodes, [("x", F, ["N", 3, 8, 8])], [("y", F, ["N", 10])], inits, opset=13)


def selu_mlp(seed: int = 0) -> onnx.ModelProto:
    """Gemm -> Selu -> Gemm. Selu has no TFLite int8 kernel: it becomes CAST, ADD, GATHER (a table)."""
    rng = np.random.default_rng(seed)
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"]), helper.make_node("Selu", ["h"], ["s"]),
             helper.make_node("Gemm", ["s", "w2", "b2"], ["y"])]
    inits = [("w1", _w(rng, 16, 12)), ("b1", _w(rng, 12, scale=0.1)), ("w2", _w(rng, 12, 4)),
             ("b2", _w(rng, 4, scale=0.1))]
    return make_model(nodes, [("x", F, ["N", 16])], [("y", F, ["N", 4])], inits, opset=13)
