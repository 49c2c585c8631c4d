"""--target verilog end to end: compile, then `hwc verify` simulates the RTL with iverilog (random input
gaps and output stalls) and compares every output bit with the simulator, and checks the latency.
Models: the hw_examples MLPs at several weight widths, the binary MLP and the corpus jet models at their
own precision, the digits CNN; both top-level interfaces and several pipeline depths."""

from __future__ import annotations

import json
import re

import pytest

from conftest import HW_EXAMPLES, corpus_dir, hwc

DIGITS_CALIB = f"{HW_EXAMPLES}/digits_data/calib.npz:x"
JET_CALIB = f"{HW_EXAMPLES}/jet_mlp/calib.npz:x"


def compile_and_verify(tmp_path, model, *options, samples=300):
    out = tmp_path / "rtl"
    r = hwc("compile", model, "--target", "verilog", "-o", out, *options)
    assert r.returncode == 0, r.stderr
    v = hwc("verify", out, "--samples", samples)
    assert v.returncode == 0, v.stdout + v.stderr
    m = re.search(r"(\d+) samples, (\d+) values compared, 0 mismatches — bit-exact", v.stdout)
    assert m and int(m.group(1)) == samples, v.stdout
    return out, v.stdout


@pytest.mark.parametrize("wbits", [1, 8])
def test_digits_mlp_bit_exact(tmp_path, wbits):
    out, text = compile_and_verify(tmp_path, HW_EXAMPLES / "digits_mlp/model.onnx", "--wbits", wbits, "--abits", "6",
                                   "--calib", DIGITS_CALIB)
    meta = json.loads((out / "rtl.json").read_text())
    assert meta["latency"] == 5  # three Dense + two Relu layers, one register each
    assert f"latency {meta['latency']} cycles" in text


def test_pruned_jet_mlp_bit_exact(tmp_path):
    compile_and_verify(tmp_path, HW_EXAMPLES / "jet_mlp/model.onnx", "--wbits", "4", "--abits", "8", "--prune", "0.5",
                       "--calib", JET_CALIB)


def test_binary_mlp_at_its_own_precision(tmp_path):
    compile_and_verify(tmp_path, HW_EXAMPLES / "digits_mlp_binary/model_qonnx.onnx")


@pytest.mark.parametrize("path", ["jet_tagging_mlp_float/three_layer_keras.onnx",
                                  "jet_tagging_mlp_qonnx/qkeras_jettagging.onnx"])
def test_corpus_jet_models_with_softmax(tmp_path, path):
    compile_and_verify(tmp_path, corpus_dir("models") / path, "--wbits", "6", samples=200)


@pytest.mark.parametrize("io,stages,latency", [("parallel", 0, 0), ("axis", 3, 11)])
def test_interfaces_and_pipeline_depths(tmp_path, io, stages, latency):
    out, text = compile_and_verify(tmp_path, HW_EXAMPLES / "digits_mlp/model.onnx", "--wbits", "3", "--abits", "5",
                                   "--calib", DIGITS_CALIB, "--rtl-io", io, "--rtl-stages", stages, samples=200)
    assert json.loads((out / "rtl.json").read_text())["latency"] == latency
    assert f"latency {latency} cycles" in text  # measured by the testbench


def test_dsp_products_bit_exact(tmp_path):
    out, _ = compile_and_verify(tmp_path, HW_EXAMPLES / "jet_mlp/model.onnx", "--wbits", "8", "--calib", JET_CALIB,
                                "--rtl-mult", "dsp", samples=200)
    layers = json.loads((out / "rtl.json").read_text())["layers"]
    assert sum(l["multipliers"] for l in layers) > 0


def test_digits_cnn_bit_exact(tmp_path):
    """Conv, MaxPool, Flatten fully unrolled (the slowest model for iverilog: a few samples/s)."""
    compile_and_verify(tmp_path, HW_EXAMPLES / "digits_cnn/model.onnx", "--wbits", "3", "--abits", "5",
                       "--calib", f"{HW_EXAMPLES}/digits_data/calib_img.npz:x", samples=40)


@pytest.mark.parametrize("model,options", [
    ("digits_mlp/model.onnx", ("--wbits", "3", "--abits", "6", "--calib", DIGITS_CALIB)),
    ("jet_mlp/model.onnx", ("--wbits", "8", "--calib", JET_CALIB, "--rtl-stages", "2")),
])
def test_shared_subexpressions_bit_exact_with_fewer_adders(tmp_path, model, options):
    """--rtl-mult shared (two-term sub-expressions shared across outputs, backends/rtl_cse.py) computes the
    same bits as the simulator, with fewer adders than --rtl-mult adders."""
    out, _ = compile_and_verify(tmp_path, HW_EXAMPLES / model, *options, "--rtl-mult", "shared", samples=300)
    plain = tmp_path / "plain"
    assert hwc("compile", HW_EXAMPLES / model, "--target", "verilog", "-o", plain, *options).returncode == 0

    def adders(d):
        return sum(layer["adders"] for layer in json.loads((d / "rtl.json").read_text())["layers"])
    assert adders(out) < 0.9 * adders(plain), (adders(out), adders(plain))
