"""The digits examples on their 360 test samples: OpenVINO (CPU, f32) classifies exactly as many correctly
as the "openvino" simulator mode -- the outputs are equal bit for bit, so the counts must be equal --
at wbits 2, 4 and 8 (abits 8, calibrated on the training samples). The FP16 (NCS2) form's count on the
CPU is printed next to its simulator's."""

from __future__ import annotations

import numpy as np
import pytest

import openvino  # noqa: F401 (the [test] extra installs it: missing = a broken install, not a skip)

from openvino_models import DIGITS, MODELS, compile_model  # noqa: E402

from hwc.backends.openvino import run_openvino  # noqa: E402
from hwc.compiler.ir.serialize import load_graph  # noqa: E402
from hwc.compiler.sim.run import simulate  # noqa: E402

TEST_DATA = {"digits_mlp": DIGITS / "test.npz", "digits_cnn": DIGITS / "test_img.npz"}


@pytest.mark.parametrize("wbits", [2, 4, 8])
@pytest.mark.parametrize("name", ["digits_mlp", "digits_cnn"])
def test_digits_accuracy_equal(name, wbits, tmp_path):
    path, calib, _, _ = MODELS[name]
    data = np.load(TEST_DATA[name])
    x, y = data["x_test"].astype(np.float32), data["y_test"]
    counts = {}
    for target, mode, precision in (("openvino", "openvino", "f32"), ("ncs2", "openvino-fp16", "f16")):
        out = tmp_path / target
        compile_model(path, out, target, wbits, calib)
        g = load_graph(out)
        got, _ = run_openvino(out / "model.xml", [x], precision, static_batch=target == "ncs2")
        sim = simulate(g, [x], mode=mode)[0]
        counts[target] = (int((got[0].argmax(1) == y).sum()), int((np.asarray(sim).argmax(1) == y).sum()))
        if target == "openvino":
            np.testing.assert_array_equal(got[0], sim)
    print(f"\n{name} wbits {wbits}: correct of {len(y)}: OpenVINO f32 {counts['openvino'][0]}, simulator "
          f"{counts['openvino'][1]}; FP16 form: OpenVINO {counts['ncs2'][0]}, simulator {counts['ncs2'][1]}")
    assert counts["openvino"][0] == counts["openvino"][1]
