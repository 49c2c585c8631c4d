"""PRelu with a slope per channel (PyTorch nn.PReLU(C), after a Conv and after a Dense): the slopes
become fixed-point constants, and the model verifies bit for bit in the HLS kernel `prelu` (arrays
and streams) and in OpenVINO's PRelu; TFLite refuses it with the reason."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

from conftest import F, hwc, make_model, save


def prelu_model():
    rng = np.random.default_rng(61)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("PRelu", ["c", "s1"], ["p"]), helper.make_node("Flatten", ["p"], ["f"]),
             helper.make_node("Gemm", ["f", "w2", "b2"], ["g"]), helper.make_node("PRelu", ["g", "s2"], ["y"])]
    inits = [("w", rng.standard_normal((4, 2, 3, 3)).astype(np.float32)), ("b", rng.standard_normal(4).astype(np.float32)),
             ("s1", np.float32([0.1, 0.25, -0.5, 0.8]).reshape(4, 1, 1)),
             ("w2", rng.standard_normal((4 * 5 * 5, 6)).astype(np.float32) * 0.2), ("b2", np.zeros(6, np.float32)),
             ("s2", rng.uniform(0, 0.5, 6).astype(np.float32))]
    return make_model(nodes, [("x", F, [1, 2, 5, 5])], [("y", F, [1, 6])], inits)


@pytest.mark.parametrize("target,extra", [("xilinx", []), ("xilinx", ["--io", "stream"]), ("openvino", [])])
def test_per_channel_prelu_verifies(tmp_path, target, extra):
    path = save(prelu_model(), tmp_path / "prelu.onnx")
    out = tmp_path / "out"
    r = hwc("compile", path, "--target", target, "-o", out, *extra)
    assert r.returncode == 0, r.stderr
    v = hwc("verify", out, "--samples", 100)
    assert v.returncode == 0 and " 0 mismatches" in v.stdout, v.stdout + v.stderr


def test_tflite_refuses_per_channel_prelu(tmp_path):
    r = hwc("compile", save(prelu_model(), tmp_path / "prelu.onnx"), "--target", "tflite", "-o", tmp_path / "t")
    assert r.returncode == 2 and "no TFLite int8 form for PRelu" in r.stderr and r.stderr.count("\n") == 1, r.stderr
