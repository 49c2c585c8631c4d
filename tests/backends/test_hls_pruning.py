"""Pruned models in hardware: the generated sources have fewer multipliers (read from the code, not
from the summary), and every pruned model verifies bit-exact on the xilinx target."""

from __future__ import annotations

import re

import pytest

from conftest import HW_EXAMPLES, hwc
from test_hls_verify import assert_exact, compile_and_verify

MLP = HW_EXAMPLES / "digits_mlp" / "model.onnx"
CNN = HW_EXAMPLES / "digits_cnn" / "model.onnx"
CALIB_MLP = f"{HW_EXAMPLES / 'digits_data' / 'calib.npz'}:x"
CALIB_CNN = f"{HW_EXAMPLES / 'digits_data' / 'calib_img.npz'}:x"


def multipliers_in_sources(prj) -> int:
    """Sum of n_nonzero over the layer configs of firmware/parameters.h: one multiplier per listed weight."""
    text = (prj / "firmware" / "parameters.h").read_text()
    return sum(int(n) for n in re.findall(r"static const unsigned n_nonzero = (\d+);", text))


def test_80_percent_sparsity_cuts_the_multipliers_and_verifies(tmp_path):
    dense, sparse = tmp_path / "dense", tmp_path / "sparse"
    # round to nearest (GPTQ, the default with --calib, may zero further weights on its own)
    rtn = ("--target", "xilinx", "--wbits", "8", "--calib", CALIB_MLP, "--ptq", "rtn")
    assert_exact(compile_and_verify(MLP, dense, *rtn))
    assert_exact(compile_and_verify(MLP, sparse, *rtn, "--prune", "0.8"))
    full, pruned = multipliers_in_sources(dense), multipliers_in_sources(sparse)
    layers = (64 * 32, 32 * 32, 32 * 10)
    weights, kept = sum(layers), sum(n - round(0.8 * n) for n in layers)
    print(f"digits MLP: {full} multipliers dense, {pruned} at 80 % sparsity (of {weights} weights; {kept} kept)")
    assert full >= 0.95 * weights  # 8-bit rounding makes very few weights zero
    assert 0.95 * kept <= pruned <= kept  # the kept 20 % per layer (8-bit rounding can zero a few more)


CHANNEL_CASES = [(f, c, r) for f in (0.25, 0.5, 0.75) for c in ("l1", "l2", "activation", "reconstruction")
                 for r in (False, True)]


@pytest.mark.slow
@pytest.mark.parametrize("fraction,criterion,refit", CHANNEL_CASES,
                         ids=[f"{int(100 * f)}-{c}{'-refit' if r else ''}" for f, c, r in CHANNEL_CASES])
def test_every_channel_pruned_cnn_verifies(tmp_path, fraction, criterion, refit):
    opts = ["--prune", str(fraction), "--prune-mode", "channels", "--prune-criterion", criterion] + (["--refit"] if refit else [])
    assert_exact(compile_and_verify(CNN, tmp_path / "prj", "--target", "xilinx", "--wbits", "4", "--abits", "8",
                                    "--calib", CALIB_CNN, *opts, samples=1000))
