"""Start-up: `hwc --help` and `hwc inspect` import none of the heavy optional libraries (the target
runtimes, torch, hls4ml, jinja2); those load only in the command and backend that use them.

Measured exactly, not timed: `python -X importtime` lists every module a fresh interpreter imports."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

HEAVY = ("torch", "openvino", "ai_edge_litert", "tflite_runtime", "tensorflow", "hls4ml", "onnxruntime", "jinja2",
         "qonnx", "brevitas", "ray")


def imported(*args: str, cwd) -> set[str]:
    """Top-level names of every module `python -m hwc.compiler.cli ARGS` imports."""
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "hwc.compiler.cli", *args], capture_output=True,
                       text=True, cwd=cwd)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = [line.rsplit("|", 1)[1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")]
    assert "hwc.compiler.commands.common" in rows and "numpy" in rows  # the listing is what we think it is
    return {name.split(".")[0] for name in rows}


def test_help_imports_no_heavy_library(tmp_path):
    assert sorted(imported("--help", cwd=tmp_path) & set(HEAVY)) == []


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """One small model compiled for each target `hwc inspect` reads back."""
    from hwc.compiler.compile_model import compile_model
    from hwc.compiler.options import CompileOptions

    model = ROOT / "hw_examples" / "digits_mlp" / "model.onnx"
    out = {}
    for target in ("sim", "xilinx", "tflite", "openvino"):
        out[target] = tmp_path_factory.mktemp(target) / "out"
        compile_model(model, CompileOptions(target=target), out[target])
    return out


@pytest.mark.parametrize("target", ["sim", "xilinx", "tflite", "openvino"])
def test_inspect_of_a_compiled_directory_imports_no_heavy_library(compiled, target):
    assert sorted(imported("inspect", str(compiled[target]), cwd=compiled[target].parent) & set(HEAVY)) == []


def test_inspect_of_an_onnx_file_imports_no_heavy_library(tmp_path):
    names = imported("inspect", str(ROOT / "hw_examples" / "digits_mlp" / "model.onnx"), cwd=tmp_path)
    assert "onnx" in names and sorted(names & set(HEAVY)) == []
