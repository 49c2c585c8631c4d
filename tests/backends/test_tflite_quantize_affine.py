"""The quantize-affine pass: float IR + value ranges -> the TFLite int8 form (every value an AffineType)."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

from conftest import F, HW_EXAMPLES, make_model
from tflite_models import save

from hwc.compiler.compile_model import load_onnx_model
from hwc.compiler.ir.types import AffineType, FloatType, IntType
from hwc.compiler.passes.quantize_affine import Params, QuantizeAffine, carried_params, choose_params
from hwc.compiler.pipeline import optimize
from hwc.compiler.ranges import calibrate


@pytest.mark.parametrize("lo, hi, scale, zp", [
    (0.0, 2.55, 0.01, -128),       # a Relu output: 0 is code -128
    (-1.0, 1.0, 2 / 255, 0),       # zp = -128 + 127.5 rounds to 0 (half even in numpy)
    (0.5, 2.55, 0.01, -128),       # the range is widened to hold 0
    (-2.55, -0.5, 0.01, 127),      # ... from above too
    (0.0, 0.0, 1 / 255, -128),     # an all-zero tensor still gets a usable scale
])
def test_choose_params(lo, hi, scale, zp):
    p = choose_params(lo, hi)
    assert p.scale == pytest.approx(scale, rel=1e-6) and p.zp == zp
    assert p.scale == float(np.float32(p.scale))  # what the flatbuffer stores, exactly


@pytest.mark.parametrize("qmin, qmax, z, expect", [
    (0, 255, 0, Params(0.5, -128, -128, 127)),    # uint8
    (0, 15, 0, Params(0.5, 112, 112, 127)),       # uint4 after a Relu: the clamp is [z, 127] = a fused RELU
    (-128, 127, 3, Params(0.5, 3, -128, 127)),    # int8
    (-7, 7, 0, Params(0.5, 120, 113, 127)),       # int4 narrow: top aligned at 127
])
def test_carried_params(qmin, qmax, z, expect):
    assert carried_params(0.5, z, qmin, qmax, None) == expect


def _quantized(path, calib, wbits=8):
    g = load_onnx_model(path)
    optimize(g)
    x = np.load(HW_EXAMPLES / "digits_data" / calib)["x"]
    qa = QuantizeAffine(calibrate(g, [x]), wbits=wbits)
    qa.run(g)
    g.verify()
    return g


@pytest.mark.parametrize("wbits", [2, 4, 8])
def test_float_mlp(wbits):
    g = _quantized(HW_EXAMPLES / "digits_mlp/model.onnx", "calib.npz", wbits)
    assert [n.op for n in g.toposort()] == ["FromFloat", "Dense", "Dense", "Dense", "ToFloat"]
    dense = [n for n in g.nodes if n.op == "Dense"]
    assert [n.attrs["activation"] for n in dense] == ["RELU", "RELU", None]
    for n in dense:
        w, b = n.inputs[1], n.inputs[2]
        assert w.type.elem.storage == IntType(8) and w.type.elem.axis == 1 and set(w.type.elem.zero_point) == {0}
        assert len(w.type.elem.scale) == w.type.shape[1]
        assert np.abs(w.const).max() <= 2 ** (wbits - 1) - 1
        s_in = w.type.elem.scale[0] * n.inputs[0].type.elem.scale[0]
        assert b.type.elem.storage == IntType(32) and b.type.elem.scale[0] == pytest.approx(s_in)
    for v in g.values():
        if v.const is None and v not in g.inputs and v not in g.outputs:
            assert isinstance(v.type.elem, AffineType) and v.type.elem.storage == IntType(8), v
    assert isinstance(g.inputs[0].type.elem, FloatType) and isinstance(g.outputs[0].type.elem, FloatType)


def test_qcdq_keeps_its_scales():
    """Brevitas W4A4: weights int4 at 2^-3 and the uint4 activations (2^-2 after the first layer) keep their
    parameters; the uint4 clamp [0, 15] becomes codes [112, 127] under a fused RELU."""
    g = _quantized(HW_EXAMPLES / "digits_mlp_w4a4/model_qcdq.onnx", "calib.npz")
    d1 = [n for n in g.toposort() if n.op == "Dense"][0]
    assert d1.inputs[0].type.elem == AffineType(IntType(8), (2.0 ** -7,), (-128,), None)  # the uint8 input quantizer
    assert set(d1.inputs[1].type.elem.scale) == {2.0 ** -3} and np.abs(d1.inputs[1].const).max() <= 7
    assert d1.output.type.elem == AffineType(IntType(8), (2.0 ** -2,), (112,), None)
    assert d1.attrs["activation"] == "RELU"


def test_concat_inputs_share_the_output_parameters(tmp_path):
    """Concat of a Dense (adopts the common parameters) and a graph input (gets an explicit requantizing Cast)."""
    nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["h"]), helper.make_node("Concat", ["h", "x"], ["y"], axis=1)]
    inits = [("w", np.full((4, 4), 0.5, np.float32)), ("b", np.zeros(4, np.float32))]
    g = load_onnx_model(save(make_model(nodes, [("x", F, ["N", 4])], [("y", F, ["N", 8])], inits), tmp_path / "m.onnx"))
    optimize(g)
    QuantizeAffine(calibrate(g, [np.random.default_rng(0).uniform(-1, 1, (100, 4)).astype(np.float32)])).run(g)
    g.verify()
    cat = next(n for n in g.nodes if n.op == "Concat")
    ops = [v.producer.op for v in cat.inputs]
    assert ops == ["Dense", "Cast"]
    assert cat.inputs[0].type.elem == cat.inputs[1].type.elem == cat.output.type.elem
