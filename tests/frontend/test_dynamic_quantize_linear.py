"""DynamicQuantizeLinear (onnxruntime's dynamic quantization: DynamicQuantizeLinear → MatMulInteger →
Cast → Mul by the scales) is read and simulated per inference as onnxruntime computes it; every
hardware target refuses it with the reason (its scale is a run-time function of the input)."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from conftest import F, hwc, make_model, save
from hwc.compiler.frontend.onnx_loader import load_onnx
from hwc.compiler.sim.run import simulate


def dynamic_model():
    rng = np.random.default_rng(41)
    nodes = [
        helper.make_node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"]),
        helper.make_node("MatMulInteger", ["xq", "w", "xz", "wz"], ["acc"]),
        helper.make_node("Cast", ["acc"], ["accf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["xs", "ws"], ["s"]),
        helper.make_node("Mul", ["accf", "s"], ["y"]),
    ]
    inits = [("w", rng.integers(0, 256, (6, 3)).astype(np.uint8)), ("wz", np.uint8(128)), ("ws", np.float32(0.02))]
    return make_model(nodes, [("x", F, [1, 6])], [("y", F, [1, 3]), ("xq", TensorProto.UINT8, [1, 6]),
                                                   ("xs", F, []), ("xz", TensorProto.UINT8, [])], inits)


def test_simulated_per_inference_as_onnxruntime(tmp_path):
    path = save(dynamic_model(), tmp_path / "dyn.onnx")
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.uniform(-3, 1, (20, 6)), rng.uniform(0.5, 2, (20, 6)), np.zeros((1, 6))]).astype(np.float32)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ref = [np.stack([np.asarray(a).reshape(-1) for a in r]) for r in zip(*[sess.run(None, {"x": x[i:i + 1]}) for i in range(len(x))])]
    g = load_onnx(path)
    g.verify()
    got = simulate(g, [x])
    for mine, theirs in zip(got, ref):
        np.testing.assert_array_equal(np.asarray(mine).reshape(theirs.shape), theirs)
    assert len(np.unique(ref[2])) > 2  # the zero point differs between inferences


@pytest.mark.parametrize("target", ["xilinx", "tflite", "openvino"])
def test_hardware_targets_refuse_with_the_reason(tmp_path, target):
    path = save(dynamic_model(), tmp_path / "dyn.onnx")
    r = hwc("compile", path, "--target", target, "-o", tmp_path / "out")
    assert r.returncode == 2 and not (tmp_path / "out").exists()
    assert r.stderr.count("\n") == 1 and "(DynamicQuantizeLinear)" in r.stderr and "at run time" in r.stderr, r.stderr
