"""--config: ap_fixed<W,I,Q,O> strings and hls4ml-style configurations (Model / LayerType / LayerName)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import HW_EXAMPLES, hwc
from hwc.compiler.compile import to_fixed
from hwc.compiler.errors import HwcError
from hwc.compiler.frontend.onnx_loader import load_onnx
from hwc.compiler.ir.types import FixedType, Overflow, Rounding
from hwc.compiler.quant_config import QuantConfig, load_layers, parse_type


@pytest.mark.parametrize("text,want", [
    ("ap_fixed<16,6>", {"width": 16, "int_bits": 6, "signed": True}),
    ("fixed<8, 3>", {"width": 8, "int_bits": 3, "signed": True}),
    ("ap_ufixed<8,0,AP_RND_CONV,AP_SAT_SYM>", {"width": 8, "int_bits": 0, "signed": False, "rounding": "RND_CONV",
                                               "overflow": "SAT_SYM"}),
    ("ac_fixed<6,-2,AC_TRN_ZERO>", {"width": 6, "int_bits": -2, "signed": True, "rounding": "TRN_ZERO"}),
    ("ap_int<8>", {"width": 8, "int_bits": 8, "signed": True}),
    ("ap_uint<4>", {"width": 4, "int_bits": 4, "signed": False})])
def test_parse_type(text, want):
    assert parse_type(text) == want


@pytest.mark.parametrize("text", ["float", "ap_fixed<8>", "ap_fixed<8,3,AP_RND,AP_SAT,2>", "ap_fixed<8,3,AP_FOO>"])
def test_parse_type_rejects(text):
    with pytest.raises(ValueError):
        parse_type(text)


HLS4ML = """
Model:
  Precision: fixed<16,6>
  ReuseFactor: 4
  Strategy: Latency
LayerType:
  Activation:
    Precision: ap_ufixed<8,3,AP_RND,AP_SAT>
LayerName:
  /9/Gemm:
    Precision:
      weight: ap_fixed<4,1>
      bias: ap_fixed<16,6>
      result: ap_fixed<12,5,AP_RND_CONV,AP_SAT>
      accum: ap_fixed<24,10>
"""


def test_hls4ml_config_types_reach_the_graph(tmp_path):
    path = tmp_path / "hls4ml.yaml"
    path.write_text(HLS4ML)
    layers = load_layers(path)
    assert layers["/9/Gemm"]["weight"] == {"width": 4, "int_bits": 1, "signed": True}
    calib = np.load(HW_EXAMPLES / "digits_data" / "calib_img.npz")["x"]
    g = to_fixed(load_onnx(HW_EXAMPLES / "digits_cnn" / "model.onnx"), QuantConfig(layers=layers), [calib]).graph
    nodes = {n.name: n for n in g.nodes}
    gemm = nodes["/9/Gemm"]
    assert (gemm.inputs[1].type.elem.width, gemm.inputs[1].type.elem.int_bits) == (4, 1)
    assert gemm.attrs["accum"].width <= 24
    assert nodes["/0/Conv"].inputs[1].type.elem.width == 16 and nodes["/0/Conv"].inputs[1].type.elem.int_bits == 6
    assert nodes["/2/Relu"].output.type.elem == FixedType(8, 3, False, Rounding.RND, Overflow.SAT)


def test_type_strings_in_hwc_config_and_errors(tmp_path):
    ok = tmp_path / "ok.yaml"
    ok.write_text("layers:\n  Relu:\n    output: ap_ufixed<6,2,AP_RND_CONV,AP_SAT>\n")
    assert load_layers(ok)["Relu"]["output"] == {"width": 6, "int_bits": 2, "signed": False, "rounding": "RND_CONV",
                                                 "overflow": "SAT"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("Model:\n  Precision: fixed<16>\n")
    with pytest.raises(HwcError, match="not a fixed-point type"):
        load_layers(bad)
    res = hwc("compile", HW_EXAMPLES / "digits_cnn" / "model.onnx", "--config", bad, "-o", tmp_path / "o")
    assert res.returncode == 2 and res.stderr.startswith(f"hwc: error: {bad}: Model: not a fixed-point type")


def test_layer_entries_by_name_then_op_and_the_fields_they_override():
    c = QuantConfig(abits=6, layers={"Relu": {"output": {"width": 4}}, "r1": {"output": {"int_bits": 1}},
                                      "d": {"prune": 0.5}, "Dense": {"prune": 0.25}})
    assert c.in_bits == 8 and QuantConfig(abits=12).in_bits == 12 and QuantConfig(input_bits=5).in_bits == 5
    assert c.layer("r1", "Relu") == {"output": {"int_bits": 1}}
    assert c.layer("r2", "Relu") == {"output": {"width": 4}}
    assert c.layer("x", "Sigmoid") == {}
    assert c.prune_fractions() == {"d": 0.5, "Dense": 0.25}
    t = FixedType(8, 3, True, Rounding.RND, Overflow.SAT)
    assert c.override(t, None) is t
    assert c.override(t, {"width": 6, "rounding": "RND_CONV", "overflow": "WRAP"}) == \
        FixedType(6, 3, True, Rounding.RND_CONV, Overflow.WRAP)


@pytest.mark.parametrize("target, abits, exact, float_fns", [
    ("sim", 16, True, True), ("xilinx", 16, True, False), ("tflite", 8, True, False)])
def test_for_target_carried_model(target, abits, exact, float_fns):
    """A model with its own quantizers keeps exact outputs; only the simulator keeps a final function in float."""
    from hwc.compiler.options import Quantization

    g = load_onnx(HW_EXAMPLES / "digits_mlp_w4a4" / "model_qonnx.onnx")
    c = QuantConfig.for_target(Quantization(), g, target)
    assert (c.abits, c.exact_outputs, c.float_output_functions) == (abits, exact, float_fns)
    assert not QuantConfig.for_target(Quantization(), load_onnx(HW_EXAMPLES / "digits_mlp" / "model.onnx"),
                                      target).exact_outputs


def test_hls4ml_model_precision_applies_to_layers_and_activations():
    from hwc.compiler.quant_config import hls4ml_layers

    layers = hls4ml_layers({"Model": {"Precision": "ap_fixed<10,4>"},
                            "LayerType": {"Softmax": {"Precision": {"result": "ap_ufixed<8,0>"}}}})
    t = {"width": 10, "int_bits": 4, "signed": True}
    assert layers["Dense"] == {"weight": t, "output": t, "accum": {"width": 10}}
    assert layers["Relu"] == {"output": t}
    assert layers["Softmax"] == {"output": {"width": 8, "int_bits": 0, "signed": False}}
    with pytest.raises(HwcError, match="LayerType 'Lambda': not a layer class hwc maps"):
        hls4ml_layers({"LayerType": {"Lambda": {"Precision": "ap_fixed<8,3>"}}})
