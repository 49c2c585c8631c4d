"""A channels-last graph input that goes through a leading Transpose (NHWC -> NCHW, as Keras/TF exporters
emit) keeps the ONNX model's declared input layout on every target, and costs nothing where the target's
native layout is channels-last:

- tflite: the layout planner (backends/tflite_layout.py) stores convolution tensors NHWC, so the IR
  Transpose only relates permutations: the model file has no TRANSPOSE operator and its input tensor has
  the declared NHWC shape;
- xilinx/intel (parallel I/O): the Transpose is a `gather` of a fully partitioned array, i.e. wiring;
- openvino: a Transpose layer on the input Parameter, which keeps the declared NHWC shape.

No IR pass absorbs the Transpose: doing so would change the input port's layout, and the user feeds data
in the model's declared layout. The float simulator proves the Transpose is pure data movement (same
output as the model without it fed the transposed array), each target verifies bit-exact against the
simulator."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from onnx import helper

from conftest import F, hwc, make_model, save

N, H, W, C = 1, 6, 5, 2  # H != W so that a wrong permutation cannot go unnoticed


def _model(leading_transpose: bool):
    rng = np.random.default_rng(7)
    inits = [("w", (rng.standard_normal((3, C, 3, 3)) * 0.4).astype(np.float32)),
             ("b", (rng.standard_normal(3) * 0.1).astype(np.float32)),
             ("w2", (rng.standard_normal((3 * H * W, 4)) * 0.2).astype(np.float32)),
             ("b2", (rng.standard_normal(4) * 0.1).astype(np.float32))]
    nodes = [helper.make_node("Conv", ["nchw", "w", "b"], ["c"], pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Flatten", ["r"], ["f"]),
             helper.make_node("Gemm", ["f", "w2", "b2"], ["y"])]
    if leading_transpose:
        nodes.insert(0, helper.make_node("Transpose", ["x"], ["nchw"], perm=[0, 3, 1, 2]))
        inp = ("x", F, [N, H, W, C])
    else:
        inp = ("nchw", F, [N, C, H, W])
    return make_model(nodes, [inp], [("y", F, [N, 4])], inits)


def test_float_simulator_sees_pure_data_movement(tmp_path):
    x = np.random.default_rng(1).uniform(-1, 1, (N, H, W, C)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "x_nchw.npy", x.transpose(0, 3, 1, 2))
    for name, inp in (("t", "x.npy"), ("plain", "x_nchw.npy")):
        res = hwc("simulate", save(_model(name == "t"), tmp_path / f"{name}.onnx"), "--input", tmp_path / inp,
                  "-o", tmp_path / f"y_{name}.npy")
        assert res.returncode == 0, res.stderr
    y = np.load(tmp_path / "y_t.npy")
    assert y.shape == (N, 4)
    np.testing.assert_array_equal(y, np.load(tmp_path / "y_plain.npy"))


@pytest.mark.parametrize("target", ["tflite", "openvino", "xilinx"])
def test_leading_transpose_keeps_the_declared_layout_and_verifies_exactly(tmp_path, target):
    model = save(_model(True), tmp_path / "m.onnx")
    out = tmp_path / "out"
    res = hwc("compile", model, "--target", target, "-o", out, "--input-range=-1,1")
    assert res.returncode == 0, res.stderr
    res = hwc("verify", out, "--samples", "300")
    m = re.search(r"(\d+) samples, (\d+) values compared, (\d+) mismatches", res.stdout)
    assert res.returncode == 0 and m, res.stdout + res.stderr
    n, compared, mismatches = map(int, m.groups())
    assert n == 300 and mismatches == 0 and compared > 0 and compared % (300 * 4) == 0  # tflite: one per resolver
    if target == "tflite":
        from ai_edge_litert.interpreter import Interpreter

        ops = [line.split()[1] for line in (out / "README.md").read_text().splitlines()
               if line.startswith("- ") and " (v" in line]
        assert "TRANSPOSE" not in ops and "CONV_2D" in ops
        interp = Interpreter(model_path=str(out / "model.tflite"))
        assert list(interp.get_input_details()[0]["shape"]) == [N, H, W, C]
    elif target == "xilinx":
        cpp = (out / "firmware" / "hwc_model.cpp").read_text()
        assert f"const input0_t in0[{N * H * W * C}]" in cpp
        part = "".join(p.read_text() for p in (out / "firmware" / "layers").glob("*.cpp"))
        assert re.search(r"layer 1: Transpose .*\n.*\n.*\n\s*layer1\(in0, layer1_out\);", cpp)
        assert re.search(r"^void layer1\(const input0_t in0\[.*\{\n    HWC_INLINE\n    hwc::gather<input0_t", part, flags=re.M)
    else:
        xml = (out / "model.xml").read_text()
        assert xml.count('type="Transpose"') == 1
        assert re.search(rf'type="Parameter" version="opset1">\s*<data shape="\?,{H},{W},{C}"', xml)  # batch free
    assert json.loads((out / "hwc.json").read_text())["target"] == target
