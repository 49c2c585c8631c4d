"""Estimates for every target, on the examples and the corpus models; the processor targets' counts."""

import pytest

from hwc.compiler.analysis import macs
from hwc.compiler.compile_model import load_onnx_model
from conftest import HW_EXAMPLES, corpus_dir

MLP = HW_EXAMPLES / "digits_mlp" / "model.onnx"
CALIB = f"{HW_EXAMPLES / 'digits_data' / 'calib.npz'}:x"
TARGETS = ["xilinx", "intel", "tflite", "edgetpu", "openvino", "ncs2", "sim"]
CORPUS_MODELS = ["jet_tagging_mlp_float/three_layer_keras.onnx", "conv2d_small_keras/conv2d_small_keras.onnx",
                 "jet_tagging_mlp_qonnx/qkeras_jettagging.onnx"]


def check_figures(figs, target, model_macs):
    assert all(f.source == "estimated" for l in figs.layers for f in l.figures)
    if target in ("xilinx", "intel"):
        assert figs.value("lut") > 0 and figs.value("latency") > 0 and figs.value("ii") >= 1
        assert figs.value("latency_ns") == figs.value("latency") * figs.clock_ns
        assert figs.device["utilisation"]["lut"] > 0
    elif target in ("tflite", "edgetpu"):
        assert figs.value("ops_accel") + figs.value("ops_cpu") > 0
        assert figs.device["capacity"]["param_bytes"] == 8 * 1024 * 1024
        assert figs.value("macs") == model_macs
    else:
        assert figs.value("macs") == model_macs
        assert figs.value("weight_bytes") > 0 and figs.value("activation_bytes") > 0


@pytest.mark.parametrize("target", TARGETS)
def test_every_target_has_estimates(figures_of, target):
    figs, out = figures_of(MLP, target, "--wbits", "4", "--calib", CALIB)
    check_figures(figs, target, 3392)


EXAMPLES = ["digits_mlp_binary/model_qonnx.onnx", "digits_mlp_w4a4/model_qonnx.onnx", "digits_mlp_w4a4/model_qcdq.onnx",
            "digits_cnn_w4a4/model_qonnx.onnx", "digits_cnn_w4a4/model_qcdq.onnx", "jet_mlp/model.onnx",
            "digits_cnn/model.onnx"]


@pytest.mark.parametrize("model", EXAMPLES)
def test_examples_every_target(figures_of, model):
    path = HW_EXAMPLES / model
    g = load_onnx_model(path)
    model_macs = sum(macs(n) for n in g.nodes)
    for target in TARGETS:
        figs, _ = figures_of(path, target)
        check_figures(figs, target, model_macs)


@pytest.mark.parametrize("model", CORPUS_MODELS)
def test_corpus_models_every_target(figures_of, model):
    path = corpus_dir("models") / model
    g = load_onnx_model(path)
    model_macs = sum(macs(n) for n in g.nodes)
    for target in TARGETS:
        figs, _ = figures_of(path, target)
        check_figures(figs, target, model_macs)


def test_processor_bytes_follow_weight_bits(figures_of):
    """openvino stores 4-bit weights as i4 and 8-bit ones as i8 (biases f32); the NCS2 form stores f16."""
    ov8, _ = figures_of(MLP, "openvino", "--wbits", "8", "--calib", CALIB)
    ov4, _ = figures_of(MLP, "openvino", "--wbits", "4", "--calib", CALIB)
    ncs2, _ = figures_of(MLP, "ncs2", "--wbits", "8", "--calib", CALIB)
    weights, biases = 3392, 74
    assert ov8.value("weight_bytes") == weights + 4 * biases
    assert ov4.value("weight_bytes") == weights // 2 + 4 * biases
    assert ncs2.value("weight_bytes") == 2 * (weights + biases)
    s8, _ = figures_of(MLP, "sim", "--wbits", "8", "--calib", CALIB)
    s4, _ = figures_of(MLP, "sim", "--wbits", "4", "--calib", CALIB)
    assert s8.value("macs") == s4.value("macs") == 3392
    assert s4.value("bops") < s8.value("bops")
    assert s4.value("weight_bytes") < s8.value("weight_bytes")


def test_edgetpu_figures_match_its_report(figures_of):
    figs, _ = figures_of(MLP, "edgetpu", "--calib", CALIB)
    report = (figures_of.last / "edgetpu_report.txt").read_text()
    assert f"parameters of the mapped operators: {figs.value('param_bytes'):,} bytes" in report
    assert f"mapped to the Edge TPU: {figs.value('ops_accel')} of {figs.value('ops_accel') + figs.value('ops_cpu')} operators" in report


@pytest.mark.parametrize("model", CORPUS_MODELS[:2])
def test_corpus_float_models_move_the_right_way(figures_of, model):
    path = corpus_dir("models") / model
    f8, _ = figures_of(path, "xilinx", "--wbits", "8")
    f4, _ = figures_of(path, "xilinx", "--wbits", "4")
    pruned, _ = figures_of(path, "xilinx", "--wbits", "8", "--prune", "0.5")
    reused, _ = figures_of(path, "xilinx", "--wbits", "8", "--strategy", "resource", "--reuse", "4")
    stream, _ = figures_of(path, "xilinx", "--wbits", "8", "--io", "stream")
    assert f4.value("lut") < f8.value("lut")
    assert pruned.value("multipliers") < f8.value("multipliers")
    assert reused.value("multipliers") < f8.value("multipliers") and reused.value("latency") > f8.value("latency")
    assert stream.value("ff") < f8.value("ff")
