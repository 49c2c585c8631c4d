"""Erf on its own (not in a GELU chain) is a table activation over its input's range: the model compiles
and verifies bit for bit on the targets with tables (HLS, OpenVINO's Gather); TFLite refuses it."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

from conftest import F, hwc, make_model, save


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    rng = np.random.default_rng(41)
    nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["g"]), helper.make_node("Erf", ["g"], ["e"]),
             helper.make_node("Gemm", ["e", "wo", "bo"], ["y"])]
    inits = [("w", rng.standard_normal((8, 8)).astype(np.float32)), ("b", rng.standard_normal(8).astype(np.float32)),
             ("wo", rng.standard_normal((8, 4)).astype(np.float32)), ("bo", np.zeros(4, np.float32))]
    return save(make_model(nodes, [("x", F, [1, 8])], [("y", F, [1, 4])], inits), tmp_path_factory.mktemp("erf") / "erf.onnx")


@pytest.mark.parametrize("target", ["xilinx", "openvino"])
def test_erf_compiles_and_verifies(model_path, target, tmp_path):
    out = tmp_path / target
    r = hwc("compile", model_path, "--target", target, "-o", out, "--input-range=-1,1")
    assert r.returncode == 0, r.stderr
    v = hwc("verify", out, "--samples", 200)
    assert v.returncode == 0 and " 0 mismatches" in v.stdout, v.stdout + v.stderr


def test_tflite_refuses_erf(model_path, tmp_path):
    r = hwc("compile", model_path, "--target", "tflite", "-o", tmp_path / "t", "--input-range=-1,1")
    assert r.returncode == 2 and "Erf" in r.stderr and "Traceback" not in r.stderr, r.stderr
