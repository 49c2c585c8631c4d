"""The two forms of a Dense/Conv weight matrix in an HLS project (backends/hls_emit_dense.py): in full
(`full_matrix`, no index arrays, zeros as constant-zero weights) when at most 1/8 of it is zero under
the latency strategy, otherwise the nonzero triplets. Both verify bit-exact, zeros included."""

from __future__ import annotations

import re

import numpy as np
import pytest

from conftest import F, hwc, make_model, save
from onnx import helper
from test_hls_verify import assert_exact, compile_and_verify


def _dense_model(path, zeros: int):
    """A 16 → 8 Dense (128 weights) with `zeros` exact zeros; the others are ±[0.5, 1), never rounded to 0."""
    rng = np.random.default_rng(zeros)
    w = (rng.uniform(0.5, 1, (16, 8)) * rng.choice([-1, 1], (16, 8))).astype(np.float32)
    w.reshape(-1)[rng.choice(128, zeros, replace=False)] = 0
    nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["y"])]
    return save(make_model(nodes, [("x", F, ["N", 16])], [("y", F, ["N", 8])],
                           [("w", w), ("b", rng.uniform(-1, 1, 8).astype(np.float32))]), path)


def _conv_model(path, group: int):
    rng = np.random.default_rng(group)
    w = (rng.uniform(0.5, 1, (4, 4 // group, 3, 3)) * rng.choice([-1, 1], (4, 4 // group, 3, 3))).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=group)]
    return save(make_model(nodes, [("x", F, ["N", 4, 5, 5])], [("y", F, ["N", 4, 5, 5])], [("w", w)]), path)


def _config1(out) -> str:
    return re.search(r"struct config1 \{.*?\n\};", (out / "firmware" / "parameters.h").read_text(), flags=re.S).group(0)


def _form(cfg: str) -> tuple[bool, int]:
    n = int(re.search(r"n_nonzero = (\d+);", cfg).group(1))
    full = "full_matrix = true" in cfg
    assert full != ("in_index" in cfg)  # the full form declares no index arrays
    return full, n


@pytest.mark.parametrize("zeros,strategy,full", [(0, "latency", True), (16, "latency", True), (17, "latency", False),
                                                 (0, "resource", False), (1, "resource", False)])
def test_the_form_follows_the_share_of_zeros_and_the_strategy(tmp_path, zeros, strategy, full):
    out = tmp_path / "prj"
    res = hwc("compile", _dense_model(tmp_path / "m.onnx", zeros), "--target", "xilinx", "--wbits", "8",
              "--input-range=-1,1", "--strategy", strategy, "-o", out)
    assert res.returncode == 0, res.stderr
    assert _form(_config1(out)) == (full, 128 if full else 128 - zeros)


@pytest.mark.parametrize("group,full", [(1, True), (4, False)])
def test_a_grouped_conv_keeps_the_triplets(tmp_path, group, full):
    out = tmp_path / "prj"
    res = hwc("compile", _conv_model(tmp_path / "m.onnx", group), "--target", "xilinx", "--wbits", "8",
              "--input-range=-1,1", "-o", out)
    assert res.returncode == 0, res.stderr
    assert _form(_config1(out)) == (full, 4 * 36 if full else 36)


@pytest.mark.parametrize("target,io", [("xilinx", "parallel"), ("intel", "stream")])
def test_a_full_matrix_with_zeros_is_bit_exact(tmp_path, target, io):
    model, out = _dense_model(tmp_path / "m.onnx", 16), tmp_path / "prj"
    assert_exact(compile_and_verify(model, out, "--target", target, "--io", io, "--wbits", "8", "--input-range=-1,1",
                                    samples=300), samples=300)
    assert _form(_config1(out)) == (True, 128)
