"""Selu, Elu, Softplus, HardSwish, Gelu and SiLU (x·Sigmoid(x), fused to Swish) between Dense layers:
the float simulator agrees with onnxruntime, and the model compiles for every target and verifies bit
for bit — in fixed point each is one table over its input's whole range, the same table in the
simulator, the HLS kernel (`table_activation`) and the OpenVINO Gather; TFLite uses its int8 LUT."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from onnx import helper

from conftest import F, hwc, make_model, save
from hwc.compiler.frontend.onnx_loader import load_onnx
from hwc.compiler.pipeline import optimize
from hwc.compiler.sim.run import simulate

ACTS = [("Selu", {}), ("Elu", {"alpha": 0.7}), ("Softplus", {}), ("HardSwish", {}), ("Gelu", {}),
        ("Gelu", {"approximate": "tanh"}), ("SiLU", {})]


def activation_model():
    rng = np.random.default_rng(31)
    nodes, inits, h = [], [], "x"
    for i, (op, attrs) in enumerate(ACTS):
        inits += [(f"w{i}", rng.standard_normal((8, 8)).astype(np.float32) * 0.6), (f"b{i}", rng.standard_normal(8).astype(np.float32) * 0.3)]
        nodes.append(helper.make_node("Gemm", [h, f"w{i}", f"b{i}"], [f"g{i}"]))
        if op == "SiLU":
            nodes += [helper.make_node("Sigmoid", [f"g{i}"], [f"s{i}"]), helper.make_node("Mul", [f"g{i}", f"s{i}"], [f"a{i}"])]
        else:
            nodes.append(helper.make_node(op, [f"g{i}"], [f"a{i}"], **attrs))
        h = f"a{i}"
    inits += [("wo", rng.standard_normal((8, 4)).astype(np.float32)), ("bo", np.zeros(4, np.float32))]
    nodes.append(helper.make_node("Gemm", [h, "wo", "bo"], ["y"]))
    return make_model(nodes, [("x", F, [1, 8])], [("y", F, [1, 4])], inits, opset=20)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return save(activation_model(), tmp_path_factory.mktemp("act") / "acts.onnx")


def test_float_simulator_matches_onnxruntime(model_path):
    x = np.random.default_rng(1).uniform(-2, 2, (64, 8)).astype(np.float32)
    sess = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    ref = np.concatenate([sess.run(None, {"x": x[i:i + 1]})[0] for i in range(len(x))])
    g = load_onnx(model_path)
    optimize(g, verify=True)
    assert [n.op for n in g.nodes if n.op != "Dense"] == ["Selu", "Elu", "Softplus", "HardSwish", "Gelu", "Gelu", "Swish"]
    np.testing.assert_allclose(simulate(g, [x])[0], ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("target", ["xilinx", pytest.param("intel", marks=pytest.mark.slow), "openvino", "tflite"])
def test_compiles_and_verifies(model_path, target, tmp_path):
    out = tmp_path / target
    r = hwc("compile", model_path, "--target", target, "-o", out, "--input-range=-2,2")
    assert r.returncode == 0, r.stderr
    v = hwc("verify", out, "--samples", 100, *(["--resolver", "ref"] if target == "tflite" else []))
    assert v.returncode == 0 and " 0 mismatches" in v.stdout, v.stdout + v.stderr


def test_hard_sigmoid_in_openvino(tmp_path):
    """OpenVINO's HardSigmoid computes alpha·x + beta in f32: exact while it stays below 2^24 units (on an
    8-bit input it does) and then bit-exact; on a wide accumulator the backend refuses, naming that bound."""
    rng = np.random.default_rng(32)
    nodes = [helper.make_node("HardSigmoid", ["x"], ["h"], alpha=0.2, beta=0.5), helper.make_node("Gemm", ["h", "w", "b"], ["g"]),
             helper.make_node("HardSigmoid", ["g"], ["y"])]
    inits = [("w", rng.standard_normal((8, 4)).astype(np.float32)), ("b", np.zeros(4, np.float32))]
    path = save(make_model(nodes, [("x", F, [1, 8])], [("y", F, [1, 4])], inits), tmp_path / "hs.onnx")
    r = hwc("compile", path, "--target", "openvino", "-o", tmp_path / "wide", "--input-range=-4,4")
    assert r.returncode == 2 and "x·alpha + beta needs more than 24 bits" in r.stderr, r.stderr
    nodes[2] = helper.make_node("Relu", ["g"], ["y"])
    path = save(make_model(nodes, [("x", F, [1, 8])], [("y", F, [1, 4])], inits), tmp_path / "hs2.onnx")
    out = tmp_path / "ov"
    r = hwc("compile", path, "--target", "openvino", "-o", out, "--input-range=-4,4")
    assert r.returncode == 0, r.stderr
    v = hwc("verify", out, "--samples", 300)
    assert v.returncode == 0 and " 0 mismatches" in v.stdout, v.stdout + v.stderr
