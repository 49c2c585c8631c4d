"""PTQ end to end on the digits CNN: gptq and adaround recover low-bit accuracy that round to
nearest loses, the weights are mantissas on the layer's grid, and each method's result (and the
fine-tuned one) compiles for xilinx and verifies bit-exact."""

from __future__ import annotations

import re

import numpy as np
import pytest

from conftest import HW_EXAMPLES, hwc
from hwc.compiler.compile import to_fixed
from hwc.compiler.frontend.onnx_loader import load_onnx
from hwc.compiler.ir.types import FixedType
from hwc.compiler.quant_config import QuantConfig
from hwc.compiler.sim.run import simulate

CNN = HW_EXAMPLES / "digits_cnn" / "model.onnx"
DATA = HW_EXAMPLES / "digits_data"
FLOAT_CORRECT = 357  # hw_examples/accuracy.json: digits CNN 0.9917 on 360


def _correct(wbits, abits, method, calib_n=200):
    calib = np.load(DATA / "calib_img.npz")["x"][:calib_n]
    test = np.load(DATA / "test_img.npz")
    c = to_fixed(load_onnx(CNN), QuantConfig(wbits=wbits, abits=abits, ptq=method), [calib])
    c.graph.verify()
    y = simulate(c.graph, [test["x_test"]], mode="fixed")[0]
    return int((y.argmax(1) == test["y_test"]).sum()), c.graph


def test_gptq_and_adaround_recover_2bit_weights():
    rtn, _ = _correct(2, 8, "rtn")
    gptq, g = _correct(2, 8, "gptq")
    ada, _ = _correct(2, 8, "adaround")
    print(f"digits CNN w2a8 correct of 360: rtn {rtn}, gptq {gptq}, adaround {ada} (float {FLOAT_CORRECT})")
    assert FLOAT_CORRECT - gptq <= 18 and FLOAT_CORRECT - ada <= 18  # within 5 points
    assert gptq - rtn >= 60
    for n in g.nodes:
        if n.op in ("Dense", "Conv"):
            t, m = n.inputs[1].type.elem, np.asarray(n.inputs[1].const)
            assert isinstance(t, FixedType) and t.width == 2 and t.signed
            assert m.dtype == np.int64 and m.min() >= -2 and m.max() <= 1


def test_gptq_4bit_within_half_a_point_of_float():
    correct, _ = _correct(4, 8, "gptq")
    assert FLOAT_CORRECT - correct <= 1  # 0.5 points of 360 = 1.8 samples


def test_ptq_needs_calibration_data(tmp_path):
    res = hwc("compile", CNN, "--wbits", "4", "--ptq", "gptq", "-o", tmp_path / "o")
    assert res.returncode == 2 and res.stderr.strip() == "hwc: error: --ptq gptq needs --calib data"
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
@pytest.mark.parametrize("options", [["--ptq", "gptq", "--wbits", "2"],
                                     ["--ptq", "adaround", "--wbits", "1", "--per-channel"],
                                     ["--ptq", "gptq", "--wbits", "2", "--ternary", "--finetune", "1"]],
                         ids=["gptq-w2", "adaround-binary-per-channel", "gptq+distillation-ternary"])
def test_each_method_verifies_bit_exact_on_xilinx(tmp_path, options):
    """rtn is the quantizer every other HLS test verifies; these are the new weight grids."""
    out = tmp_path / "prj"
    res = hwc("compile", CNN, "--target", "xilinx", "--abits", "8", "--calib", f"{DATA / 'calib_img.npz'}:x",
              *options, "-o", out)
    assert res.returncode == 0, res.stderr
    res = hwc("verify", out, "--samples", "200")
    m = re.search(r"(\d+) samples, (\d+) values compared, (\d+) mismatches", res.stdout)
    assert res.returncode == 0 and m and m.group(1) == "200" and m.group(3) == "0", res.stdout + res.stderr
