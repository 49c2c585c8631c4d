"""What the fuzz suite mutates: small models built in code (an MLP, a CNN with BatchNormalization, a
QONNX MLP), the hw_examples MLP and the small corpus models when present, each with an input file, and
directories compiled from them once (sim, openvino) for the corrupted-directory family."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from conftest import CORPUS, HW_EXAMPLES, make_model

F = TensorProto.FLOAT


@dataclass
class Seed:
    name: str
    model: Path
    inputs: list[Path]  # one .npy per model input
    calib: Path | None = None


def _rand(rng, *shape, scale=0.5):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def mlp(rng) -> onnx.ModelProto:
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="fc1", transB=1),
             helper.make_node("Relu", ["h"], ["r"], name="relu1"),
             helper.make_node("Gemm", ["r", "w2", "b2"], ["y"], name="fc2", transB=1)]
    inits = [("w1", _rand(rng, 8, 4)), ("b1", _rand(rng, 8)), ("w2", _rand(rng, 3, 8)), ("b2", _rand(rng, 3))]
    return make_model(nodes, [("x", F, ["N", 4])], [("y", F, ["N", 3])], inits, name="mlp")


def cnn(rng) -> onnx.ModelProto:
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "g", "beta", "mean", "var"], ["bn"], name="bn",
                              epsilon=1e-5),
             helper.make_node("LeakyRelu", ["bn"], ["a"], name="act", alpha=0.1),
             helper.make_node("MaxPool", ["a"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Flatten", ["p"], ["f"], name="flat"),
             helper.make_node("Gemm", ["f", "wd", "bd"], ["y"], name="dense", transB=1)]
    inits = [("w", _rand(rng, 4, 1, 3, 3)), ("b", _rand(rng, 4)), ("g", 1 + _rand(rng, 4, scale=0.1)),
             ("beta", _rand(rng, 4, scale=0.1)), ("mean", _rand(rng, 4, scale=0.1)),
             ("var", 1 + np.abs(_rand(rng, 4, scale=0.1))), ("wd", _rand(rng, 2, 64)), ("bd", _rand(rng, 2))]
    return make_model(nodes, [("x", F, ["N", 1, 8, 8])], [("y", F, ["N", 2])], inits, name="cnn")


def qonnx_mlp(rng) -> onnx.ModelProto:
    q = "qonnx.custom_op.general"
    nodes = [helper.make_node("Quant", ["x", "s_in", "z", "b_in"], ["xq"], name="q_in", domain=q,
                              signed=1, narrow=0, rounding_mode="ROUND"),
             helper.make_node("Quant", ["w1", "s_w", "z", "b_w"], ["w1q"], name="q_w1", domain=q,
                              signed=1, narrow=1, rounding_mode="ROUND"),
             helper.make_node("MatMul", ["xq", "w1q"], ["h"], name="mm1"),
             helper.make_node("Relu", ["h"], ["r"], name="relu"),
             helper.make_node("Quant", ["r", "s_in", "z", "b_in"], ["y"], name="q_out", domain=q,
                              signed=0, narrow=0, rounding_mode="FLOOR")]
    inits = [("w1", _rand(rng, 4, 5)), ("s_in", np.float32(0.125)), ("s_w", np.float32(0.25)),
             ("z", np.float32(0)), ("b_in", np.float32(6)), ("b_w", np.float32(4))]
    return make_model(nodes, [("x", F, ["N", 4])], [("y", F, ["N", 5])], inits, name="qmlp",
                      extra_opsets=[(q, 1)])


def build_seeds(root: Path) -> list[Seed]:
    rng = np.random.default_rng(0)
    seeds = []
    for name, model, shape in (("mlp", mlp(rng), (4, 4)), ("cnn", cnn(rng), (4, 1, 8, 8)),
                               ("qmlp", qonnx_mlp(rng), (4, 4))):
        path = root / f"{name}.onnx"
        onnx.save(model, str(path))
        x = root / f"{name}_x.npy"
        np.save(x, rng.uniform(-1, 1, shape).astype(np.float32))
        calib = root / f"{name}_calib.npy"
        np.save(calib, rng.uniform(-1, 1, (32,) + shape[1:]).astype(np.float32))
        seeds.append(Seed(name, path, [x], calib))
    external = [("digits_mlp", HW_EXAMPLES / "digits_mlp/model.onnx"),
                ("jet_mlp", CORPUS / "models/jet_tagging_mlp_float/three_layer_keras.onnx"),
                ("conv2d_keras", CORPUS / "models/conv2d_small_keras/conv2d_small_keras.onnx"),
                ("jet_qonnx", CORPUS / "models/jet_tagging_mlp_qonnx/qkeras_jettagging.onnx"),
                ("unsw_w2a2", CORPUS / "models/unsw_nb15_mlp_w2a2/unsw_nb15-mlp-w2a2.onnx")]
    for name, src in external:
        if not src.exists():
            continue  # the corpus is optional (tests/conftest.py CORPUS); the built-in seeds always run
        path = root / f"{name}.onnx"
        shutil.copy(src, path)
        m = onnx.load(str(path))
        inits = {i.name for i in m.graph.initializer}
        xs = []
        for k, vi in enumerate(i for i in m.graph.input if i.name not in inits):
            dims = [d.dim_value if d.HasField("dim_value") else 4 for d in vi.type.tensor_type.shape.dim]
            dims[0] = 4 if dims and dims[0] in (0, 1, 4) else dims[0]
            x = root / f"{name}_x{k}.npy"
            np.save(x, rng.uniform(-1, 1, dims).astype(np.float32))
            xs.append(x)
        seeds.append(Seed(name, path, xs))
    return seeds


def compile_dirs(root: Path, seeds: list[Seed]) -> dict[str, Path]:
    """A `--target sim` directory of the CNN and an `--target openvino` one of the MLP (for verify)."""
    from hwc.compiler.cli import main

    by = {s.name: s for s in seeds}
    dirs = {"sim": root / "compiled_sim", "openvino": root / "compiled_openvino"}
    assert main(["compile", str(by["cnn"].model), "-o", str(dirs["sim"]), "--wbits", "4"]) == 0
    assert main(["compile", str(by["mlp"].model), "--target", "openvino", "-o", str(dirs["openvino"])]) == 0
    return dirs
