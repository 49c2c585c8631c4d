"""The TFLite backend through the `hwc` command line: compile, verify, and one-line errors with exit code 2."""

from __future__ import annotations

import pytest
from onnx import helper

import ai_edge_litert  # noqa: F401 (the [test] extra installs it: missing = a broken install, not a skip)

from conftest import F, HW_EXAMPLES, make_model  # noqa: E402
from tflite_models import save  # noqa: E402

from hwc.compiler.cli import main as hwc_main  # noqa: E402

CALIB = str(HW_EXAMPLES / "digits_data/calib_img.npz") + ":x"


def test_compile_and_verify(tmp_path, capsys):
    out = tmp_path / "out"
    assert hwc_main(["compile", str(HW_EXAMPLES / "digits_cnn/model.onnx"), "--target", "edgetpu", "--abits", "8",
                     "--wbits", "4", "--calib", CALIB, "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "mapped to the Edge TPU: 6 of 6 operators" in text
    assert {p.name for p in out.iterdir()} >= {"model.tflite", "model.json", "weights.npz", "edgetpu_report.txt",
                                                "README.md", "hwc.json"}
    assert hwc_main(["verify", str(out), "--samples", "200"]) == 0
    text = capsys.readouterr().out
    assert "6000 values compared, 0 mismatches" in text and "bit-exact" in text
    assert "tflite-xnnpack: 2,000 values from 200 inputs, 0 differ; XNNPACK partitions as predicted" in text


@pytest.mark.parametrize("argv, message", [
    (["--abits", "4"], "--abits 4: TFLite activations are 8 bits, or 16 in its 16x8 mode; use --abits 8 or 16"),
    (["--abits", "8", "--wbits", "1"], "--wbits 1: TFLite int8 weights take 2..8 bits"),
])
def test_bad_options_exit_2(argv, message, tmp_path, capsys):
    rc = hwc_main(["compile", str(HW_EXAMPLES / "digits_cnn/model.onnx"), "--target", "tflite", "--calib", CALIB,
                   "-o", str(tmp_path / "out"), *argv])
    err = capsys.readouterr().err
    assert rc == 2 and err.strip() == f"hwc: error: {message}"
    assert not (tmp_path / "out").exists()


def test_dynamic_dimension_exit_2(tmp_path, capsys):
    m = make_model([helper.make_node("Relu", ["x"], ["y"])], [("x", F, ["N", "C"])], [("y", F, ["N", "C"])])
    path = save(m, tmp_path / "m.onnx")
    rc = hwc_main(["compile", str(path), "--target", "tflite", "--abits", "8", "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "\n" not in err
    assert err.startswith("hwc: error: ") and "dynamic dimension other than the batch" in err
