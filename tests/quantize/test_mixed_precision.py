"""--max-drop: per-layer widths with fewer bit operations within the accuracy budget on held-back
data, written as a --config YAML that reproduces the same model."""

from __future__ import annotations

import re

import numpy as np
from numpy.testing import assert_array_equal

from conftest import HW_EXAMPLES, hwc
from hwc.compiler.compile import to_fixed
from hwc.compiler.frontend.onnx_loader import load_onnx
from hwc.compiler.ir.serialize import load_graph
from hwc.compiler.quant_config import QuantConfig
from hwc.compiler.quantize.mixed_precision import bit_operations
from hwc.compiler.sim.run import simulate

CNN = HW_EXAMPLES / "digits_cnn" / "model.onnx"
DATA = HW_EXAMPLES / "digits_data"


def test_bit_operations_of_the_digits_cnn_at_w8a8():
    calib = np.load(DATA / "calib_img.npz")["x"]
    g = to_fixed(load_onnx(CNN), QuantConfig(wbits=8, abits=8, ptq="rtn"), [calib]).graph
    # MACs: conv 8x8 positions x 8 kernels x 9 taps, conv 4x4 x 16 x 72, dense 64 x 10; 8-bit weights and inputs
    assert bit_operations(g) == (8 * 8 * 8 * 9 + 4 * 4 * 16 * 72 + 64 * 10) * 8 * 8


def test_max_drop_within_budget_and_yaml_reproduces(tmp_path):
    val = DATA / "val_img.npz"
    common = ["--abits", "8", "--ptq", "rtn", "--calib", f"{DATA / 'calib_img.npz'}:x"]
    res = hwc("compile", CNN, *common, "--max-drop", "1", "--val", f"{val}:x", "--val-labels", f"{val}:y",
              "-o", tmp_path / "a")
    assert res.returncode == 0, res.stderr
    m = re.search(r"accuracy ([\d.]+) % on \S+ \(float ([\d.]+) %\), ([\d,]+) bit operations = ([\d.]+) % of uniform w8a8",
                  res.stdout)
    assert m, res.stdout
    print(res.stdout.splitlines()[0])
    assert float(m.group(4)) <= 70.0
    a = load_graph(tmp_path / "a")
    v = np.load(val)
    y_float = simulate(load_onnx(CNN), [v["x"]])[0].argmax(1)
    acc = 100 * (simulate(a, [v["x"]], mode="fixed")[0].argmax(1) == v["y"]).mean()
    float_acc = 100 * (y_float == v["y"]).mean()
    assert acc >= float_acc - 1.0 and abs(acc - float(m.group(1))) < 0.01
    assert bit_operations(a) == int(m.group(3).replace(",", ""))
    res = hwc("compile", CNN, *common, "--config", tmp_path / "a" / "precision.yaml", "-o", tmp_path / "b")
    assert res.returncode == 0, res.stderr
    b = load_graph(tmp_path / "b")
    assert [(n.name, [(x.type if x is not None else None) for x in n.inputs + n.outputs]) for n in a.toposort()] == \
           [(n.name, [(x.type if x is not None else None) for x in n.inputs + n.outputs]) for n in b.toposort()]
    for na, nb in zip(a.toposort(), b.toposort()):
        for xa, xb in zip(na.inputs, nb.inputs):
            if xa is not None and xa.const is not None:
                assert_array_equal(xa.const, xb.const)
    test = np.load(DATA / "test_img.npz")["x_test"]
    assert_array_equal(simulate(a, [test], mode="fixed")[0], simulate(b, [test], mode="fixed")[0])


def test_max_drop_needs_validation_data(tmp_path):
    res = hwc("compile", CNN, "--max-drop", "1", "-o", tmp_path / "o")
    assert res.returncode == 2 and res.stderr.strip() == ("hwc: error: --max-drop needs --val data (held-back inputs, "
                                                          "not your test split)")
    assert not (tmp_path / "o").exists()
