"""GlobalMaxPool reaches TFLite as MAX_POOL_2D over the whole feature map and verifies bit-exact."""

from __future__ import annotations

import numpy as np
from onnx import helper

from conftest import F, hwc, make_model, save


def test_global_max_pool_compiles_for_tflite(tmp_path):
    rng = np.random.default_rng(53)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3]), helper.make_node("GlobalMaxPool", ["c"], ["p"]),
             helper.make_node("Flatten", ["p"], ["y"])]
    model = make_model(nodes, [("x", F, [1, 2, 6, 6])], [("y", F, [1, 4])], [("w", rng.standard_normal((4, 2, 3, 3)).astype(np.float32))])
    out = tmp_path / "t"
    r = hwc("compile", save(model, tmp_path / "gmp.onnx"), "--target", "tflite", "-o", out)
    assert r.returncode == 0 and "MAX_POOL_2D" in r.stdout, r.stdout + r.stderr
    v = hwc("verify", out, "--samples", 50)
    assert v.returncode == 0 and " 0 mismatches" in v.stdout, v.stdout + v.stderr
