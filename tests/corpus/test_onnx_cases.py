"""Every ONNX operator test case in the corpus goes through `hwc simulate` and matches its stored
outputs: floats within rtol 1e-5 / atol 1e-6, integers exactly. Cases are discovered by walking
the folders, so a case dropped in later is picked up without code changes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from conftest import CORPUS
from hwc.compiler.cli import main as hwc_main

SUITES = ("onnx_node", "onnx_pytorch_converted")


def discover():
    cases = []
    for suite in SUITES:
        root = CORPUS / suite
        if root.is_dir():
            cases += sorted(p for p in root.iterdir() if (p / "model.onnx").exists())
    return cases


CASES = discover()


def _tensor(path: Path) -> np.ndarray:
    return numpy_helper.to_array(onnx.load_tensor(str(path)))


@pytest.mark.skipif(not CASES, reason=f"no corpus cases under {CORPUS} (see PROVENANCE.md)")
@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_case_through_hwc_simulate(case, tmp_path, capsys):
    data = case / "test_data_set_0"
    inputs = sorted(data.glob("input_*.pb"), key=lambda p: int(p.stem.split("_")[1]))
    expected = [_tensor(p) for p in sorted(data.glob("output_*.pb"), key=lambda p: int(p.stem.split("_")[1]))]
    out = tmp_path / ("out.npy" if len(expected) == 1 else "out.npz")
    argv = ["simulate", str(case / "model.onnx"), "-o", str(out)]
    for p in inputs:
        argv += ["--input", str(p)]
    assert hwc_main(argv) == 0, capsys.readouterr().err
    got = [np.load(out)] if out.suffix == ".npy" else list(np.load(out).values())
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape and g.dtype == e.dtype
        if np.issubdtype(e.dtype, np.floating):
            np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)
        else:
            np.testing.assert_array_equal(g, e)


def test_every_case_was_collected():
    """Print how many cases ran (the walk is the test's input; none may be silently dropped)."""
    if not CASES:
        pytest.skip(f"no corpus under {CORPUS}")
    folders = [p for s in SUITES if (CORPUS / s).is_dir() for p in (CORPUS / s).iterdir() if p.is_dir()]
    print(f"corpus ONNX operator cases: {len(CASES)} collected from {len(folders)} folders")
    assert len(CASES) == len(folders)
