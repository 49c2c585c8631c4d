"""compiler/memory.py: the memory estimate refuses a compile that cannot fit, before the conversion."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from conftest import make_model, save
from hwc.compiler.compile_model import load_onnx_model
from hwc.compiler.errors import HwcError
from hwc.compiler.memory import BASE, PER_PARAM, check_memory, check_model_memory, estimate_bytes, model_params

F = TensorProto.FLOAT


def _gemm(tmp_path, n):
    w = np.ones((n, n), np.float32)
    m = make_model([helper.make_node("Gemm", ["x", "w"], ["y"], name="fc", transB=1)],
                   [("x", F, ["N", n])], [("y", F, ["N", n])], [("w", w)])
    return save(m, tmp_path / "g.onnx")


def test_estimate_counts_parameters_and_activations(tmp_path):
    path = _gemm(tmp_path, 30)
    g = load_onnx_model(path)
    assert model_params(onnx.load(str(path))) == 900
    # 900 weights; activations: the Dense output (30 per sample); 10 samples at 16 B
    assert estimate_bytes(g, "sim", samples=10) == BASE + 900 * PER_PARAM["other"] + 30 * 10 * 16
    assert estimate_bytes(g, "xilinx") == BASE + 900 * PER_PARAM["hls"] + 30 * 16


def test_refused_with_one_line_when_it_does_not_fit(tmp_path):
    path = _gemm(tmp_path, 30)
    with pytest.raises(HwcError) as e:
        check_model_memory(onnx.load(str(path)), "xilinx", str(path), available=BASE)
    assert e.value.line() == (f"{path}: compiling this model (900 parameters) for --target xilinx needs about "
                              f"0.5 GiB of memory, 0.5 GiB are available")
    check_memory(load_onnx_model(path), "sim", str(path), available=BASE + 10**6)  # fits: no error
