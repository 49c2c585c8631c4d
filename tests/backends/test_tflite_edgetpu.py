"""The Edge TPU report: which operators the Edge TPU compiler v16 would map and what falls back to the CPU."""

from __future__ import annotations

import pytest

import ai_edge_litert  # noqa: F401 (the [test] extra installs it: missing = a broken install, not a skip)

from conftest import HW_EXAMPLES  # noqa: E402
from tflite_models import compile_model, random_calib, save, selu_mlp  # noqa: E402

from hwc.backends.edgetpu_report import OpInfo, analyse, op_problem, render  # noqa: E402


def test_selu_is_named_with_what_runs_on_the_cpu(tmp_path):
    out = tmp_path / "out"
    res = compile_model(save(selu_mlp(), tmp_path / "m.onnx"), out, calib=random_calib(tmp_path / "c.npy", (200, 16)),
                        target="edgetpu")
    report = (out / "edgetpu_report.txt").read_text()
    assert "first operator the Edge TPU cannot map: #1 CAST for Selu node 's' (CAST is not an Edge TPU operation)" in report
    assert "runs on the CPU from there on: Selu (s), Dense (y)" in report
    assert "mapped to the Edge TPU: 1 of 5 operators" in report
    lines = report.splitlines()
    assert any("FULLY_CONNECTED" in x and "h (Dense)" in x and x.endswith("Edge TPU") for x in lines)
    assert any("GATHER" in x and "s (Selu)" in x and "CPU" in x for x in lines)
    assert any(line.startswith("first operator the Edge TPU cannot map") for line in res.summary)


def test_digits_cnn_maps_entirely(tmp_path):
    out = tmp_path / "out"
    compile_model(HW_EXAMPLES / "digits_cnn/model.onnx", out, calib=str(HW_EXAMPLES / "digits_data/calib_img.npz") + ":x",
                  float_io=True)
    report = (out / "edgetpu_report.txt").read_text()
    assert "mapped to the Edge TPU: 6 of 8 operators" in report
    assert "runs on the CPU: only the float<->int8 conversions at the edges" in report
    assert "parameters of the mapped operators: 2,000 bytes of the 8 MiB on-chip cache (fits)" in report


def _op(op="CONV_2D", version=3, shape=(1, 8, 8, 4), dtype="int8", **kw):
    return OpInfo(op, version, "n", "Conv", [(shape, dtype)], [(shape, dtype)], **kw)


def test_rules():
    assert op_problem(_op()) is None
    assert "not an Edge TPU operation" in op_problem(_op("GATHER", 2))
    assert "version 6" in op_problem(_op("FULLY_CONNECTED", 6, (1, 10)))
    assert "float32" in op_problem(_op(dtype="float32"))
    assert "3 innermost" in op_problem(_op(shape=(2, 8, 8, 4)))
    assert "fused activation" in op_problem(_op("MAX_POOL_2D", 2, fused_activation="RELU"))
    assert "16,000" in op_problem(_op("SOFTMAX", 2, (1, 20000)))
    assert "one-dimensional" in op_problem(_op("FULLY_CONNECTED", 4, (2, 10)))


def test_one_segment_and_parameter_cache():
    ops = [_op(param_bytes=5 << 20), _op("GATHER", 2), _op(param_bytes=5 << 20)]
    status, first = analyse(ops)
    assert first == 1 and status[0] == "Edge TPU" and status[2].startswith("CPU (after")
    text = render([_op(param_bytes=5 << 20), _op(param_bytes=5 << 20)])
    assert "10,485,760 bytes of the 8 MiB on-chip cache (exceeds it" in text
