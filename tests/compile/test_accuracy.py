"""Quantizing the float digits models at 8-bit weights / 16-bit activations keeps the test accuracy
within 0.5 points of float (the full table is printed by `make bench`)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import HW_EXAMPLES
from hwc.compiler.compile import compile_file
from hwc.compiler.frontend.onnx_loader import load_onnx
from hwc.compiler.pipeline import cleanup
from hwc.compiler.quant_config import QuantConfig
from hwc.compiler.sim.run import simulate


@pytest.mark.parametrize("model,data,calib", [("digits_mlp/model.onnx", "test.npz", "calib.npz"),
                                              ("digits_cnn/model.onnx", "test_img.npz", "calib_img.npz")])
def test_w8a16_within_half_a_point_of_float(model, data, calib):
    d = np.load(HW_EXAMPLES / "digits_data" / data)
    cal = np.load(HW_EXAMPLES / "digits_data" / calib)["x"]
    g = load_onnx(HW_EXAMPLES / model)
    cleanup(g)
    float_acc = (simulate(g, [d["x_test"]])[0].argmax(1) == d["y_test"]).mean()
    c = compile_file(HW_EXAMPLES / model, QuantConfig(wbits=8, abits=16), [cal])
    fixed_acc = (simulate(c.graph, [d["x_test"]], mode="fixed")[0].argmax(1) == d["y_test"]).mean()
    print(f"{model}: float {100 * float_acc:.2f} %, w8a16 {100 * fixed_acc:.2f} %")
    assert abs(fixed_acc - float_acc) <= 0.005
