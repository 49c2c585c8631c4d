"""CompileOptions without the command line: built directly, checked when made, and passed to
`compile_model`, which writes the same files as `hwc compile` with the same options."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from conftest import HW_EXAMPLES, hwc
from hwc.compiler.compile_model import compile_model, load_onnx_model
from hwc.compiler.errors import HwcError
from hwc.compiler.options import (Calibration, CompileOptions, HlsOptions, PruneOptions, Quantization,
                                  VerifyOptions, range_text)

MODEL = HW_EXAMPLES / "digits_mlp" / "model.onnx"
CALIB = f"{HW_EXAMPLES}/digits_data/calib.npz:x"


def test_compile_model_equals_the_cli(tmp_path):
    options = CompileOptions("xilinx", Quantization(wbits=4), calib=Calibration.read(CALIB),
                             hls=HlsOptions(strategy="resource", reuse=2))
    result = compile_model(MODEL, options, tmp_path / "api")
    r = hwc("compile", MODEL, "--target", "xilinx", "--wbits", 4, "--calib", CALIB, "--strategy", "resource",
            "--reuse", 2, "-o", tmp_path / "cli")
    assert r.returncode == 0, r.stderr
    files = sorted(p.relative_to(tmp_path / "cli").as_posix() for p in (tmp_path / "cli").rglob("*") if p.is_file())
    assert files == sorted(result.files)
    for f in files:
        assert (tmp_path / "api" / f).read_bytes() == (tmp_path / "cli" / f).read_bytes(), f


def test_compile_model_takes_a_graph_and_calibration_arrays(tmp_path):
    x = np.load(HW_EXAMPLES / "digits_data" / "calib.npz")["x"]
    options = CompileOptions("sim", calib=Calibration(data=x))
    g = load_onnx_model(MODEL)
    before = [n.op for n in g.toposort()]
    result = compile_model(g, options, tmp_path / "out")
    assert [n.op for n in g.toposort()] == before  # not modified: a sweep compiles it again
    assert sorted(result.files) == ["model.json", "weights.npz"]
    assert result.summary[0].startswith(f"compiled {g.name} for --target sim: wbits 8, abits 16, ")


@pytest.mark.parametrize("make, reason", [
    (lambda: Quantization(wbits=0), "--wbits must be 1..8, got 0"),
    (lambda: Quantization(abits=True), "--abits must be 2..32, got True"),
    (lambda: Quantization(input_range=(1.0, float("nan"))), "--input-range needs finite numbers"),
    (lambda: Quantization(layers={"Relu": {"output": {"signed": "maybe"}}}), "signed must be true or false"),
    (lambda: PruneOptions(fraction=1.0), "--prune must be in [0, 1), got 1.0"),
    (lambda: PruneOptions(mode="layers"), "--prune-mode must be one of weights, neurons or channels, got 'layers'"),
    (lambda: HlsOptions(clock=float("inf")), "--clock must be a positive period in ns"),
    (lambda: Calibration("c.npy", np.array([[np.nan]])), "c.npy: calibration data holds NaN or Inf"),
    (lambda: CompileOptions(prune=PruneOptions(0.5, refit=True)), "--refit needs --calib data"),
    (lambda: VerifyOptions(samples=0), "--samples must be at least 1"),
])
def test_checked_when_made(make, reason):
    with pytest.raises(HwcError) as e:
        make()
    assert reason in e.value.line()


def test_options_are_values():
    q = Quantization(wbits=4)
    assert dataclasses.replace(q, abits=8).abits_for("xilinx") == 8
    assert q.abits_for("xilinx") == 16 and q.abits_for("tflite") == 8
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.wbits = 2
    assert range_text((-1.0, 0.5)) == "-1,0.5"
