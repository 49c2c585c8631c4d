"""TFLite's 16x8 mode (`--abits 16`: int16 activations, int8 weights, int64 biases; compiler/sim/tflite_16x8.py,
compiler/passes/widen_activations.py): LiteRT equals the simulator bit for bit in all three resolvers on 1,000
inputs, for the digits MLP and CNN at wbits 8 and 4, the jet MLP, and a model built here with what the CNNs do
not have (a depthwise convolution with explicit pads, i.e. an int16 PAD, RELU6, a standalone RELU, an
AVERAGE_POOL_2D with partial windows). Measured
while building it: FULLY_CONNECTED requantizes int64 sums with the full 31-bit multiplier, rounding once half
up; CONV_2D and DEPTHWISE_CONV_2D first round the multiplier to 16 bits (the full one misses 3,037 of 10,000
digits CNN outputs by one step); XNNPACK takes no int16 operator. Ops without a 16x8 form are refused.
Cost: about 6 s."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

import ai_edge_litert  # noqa: F401 (the [test] extra installs it)

from conftest import F, HW_EXAMPLES, make_model
from tflite_models import compile_model, save

from hwc.backends.base import read_manifest
from hwc.backends.tflite import TfliteBackend
from hwc.compiler.errors import HwcError
from hwc.compiler.ir.serialize import load_graph
from hwc.compiler.ir.types import AffineType, IntType
from hwc.compiler.options import VerifyOptions

DIGITS = HW_EXAMPLES / "digits_data"
CASES = {  # name: (model, calibration, wbits)
    "digits_mlp_w8": (HW_EXAMPLES / "digits_mlp/model.onnx", f"{DIGITS / 'calib.npz'}:x", 8),
    "digits_cnn_w8": (HW_EXAMPLES / "digits_cnn/model.onnx", f"{DIGITS / 'calib_img.npz'}:x", 8),
    "digits_cnn_w4": (HW_EXAMPLES / "digits_cnn/model.onnx", f"{DIGITS / 'calib_img.npz'}:x", 4),
    "jet_mlp_w8": (HW_EXAMPLES / "jet_mlp/model.onnx", f"{HW_EXAMPLES / 'jet_mlp/calib.npz'}:x", 8),
}


def depthwise_model(path):
    """Conv 3x3 (SAME) -> Clip(0, 6) (RELU6) -> depthwise Conv (pads 1,0,1,2: an explicit PAD) -> MaxPool ->
    Relu (standalone) -> AveragePool 2x2 stride 1 (SAME: edge windows of 2 and 1 taps) -> Flatten -> Gemm.
    Input [N, 2, 8, 8]."""
    rng = np.random.default_rng(0)
    inits = [("w1", rng.standard_normal((4, 2, 3, 3)).astype(np.float32) * 0.4),
             ("b1", rng.standard_normal(4).astype(np.float32) * 0.1),
             ("w2", rng.standard_normal((4, 1, 3, 3)).astype(np.float32) * 0.4),
             ("w3", rng.standard_normal((64, 5)).astype(np.float32) * 0.3),
             ("lo", np.array(0.0, np.float32)), ("hi", np.array(6.0, np.float32))]
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
             helper.make_node("Clip", ["c1", "lo", "hi"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2"], ["c2"], group=4, pads=[1, 0, 1, 2]),
             helper.make_node("MaxPool", ["c2"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Relu", ["p"], ["pr"]),
             helper.make_node("AveragePool", ["pr"], ["ap"], kernel_shape=[2, 2], strides=[1, 1], pads=[0, 0, 1, 1]),
             helper.make_node("Flatten", ["ap"], ["f"]),
             helper.make_node("Gemm", ["f", "w3"], ["y"])]
    m = save(make_model(nodes, [("x", F, ["N", 2, 8, 8])], [("y", F, ["N", 5])], inits), path / "dw.onnx")
    np.save(path / "calib.npy", rng.standard_normal((200, 2, 8, 8)).astype(np.float32))
    return m, str(path / "calib.npy")


def _verify(out):
    report = TfliteBackend().verify(out, read_manifest(out), None, VerifyOptions(samples=1000))
    assert report.mismatches == 0 and report.compared > 0, report.details
    assert all("XNNPACK partitions as predicted" in d for d in report.details if d.startswith("tflite-xnnpack"))
    return load_graph(out)


def _int16_activations(g):
    kinds = {v.type.elem.storage for v in g.values() if v.const is None and isinstance(v.type.elem, AffineType)}
    return kinds == {IntType(16)}


@pytest.mark.parametrize("name", CASES)
def test_16x8_verifies_bit_exact(tmp_path, name):
    model, calib, wbits = CASES[name]
    res = compile_model(model, tmp_path / "out", calib=calib, abits=16, wbits=wbits)
    assert res.summary[0].startswith("compiled for --target tflite: 16x8 TFLite") and "int16 I/O" in res.summary[0]
    assert _int16_activations(_verify(tmp_path / "out"))


def test_depthwise_pad_relu6_relu(tmp_path):
    model, calib = depthwise_model(tmp_path)
    res = compile_model(model, tmp_path / "out", calib=calib, abits=16)
    ops = [line.split()[0] for line in res.summary[1:] if line.startswith("  ")]
    assert {"CONV_2D", "PAD", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "RELU", "AVERAGE_POOL_2D", "FULLY_CONNECTED"} \
        <= set(ops), ops
    assert _int16_activations(_verify(tmp_path / "out"))


def test_a_model_with_its_own_quantizers_keeps_them(tmp_path):
    with pytest.raises(HwcError, match="--abits 16: the model carries its own activation quantizers"):
        compile_model(HW_EXAMPLES / "digits_mlp_w4a4/model_qonnx.onnx", tmp_path / "out", calib=CASES["digits_mlp_w8"][1],
                      abits=16)
    assert not (tmp_path / "out" / "model.tflite").exists()


def test_ops_without_a_16x8_form_are_refused(tmp_path):
    from tflite_models import ops_cnn

    m = save(ops_cnn(), tmp_path / "ops.onnx")
    np.save(tmp_path / "c.npy", np.random.default_rng(0).standard_normal((50, 3, 8, 8)).astype(np.float32))
    with pytest.raises(HwcError, match="has no form in TFLite's 16x8 mode here"):
        compile_model(m, tmp_path / "out", calib=str(tmp_path / "c.npy"), abits=16)
    assert not (tmp_path / "out" / "model.tflite").exists()
