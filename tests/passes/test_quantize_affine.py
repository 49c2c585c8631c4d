"""QuantizeAffine, the driver: float IR + value ranges -> the TFLite int8 form (every value an AffineType),
its steps run once each under the PassManager with the graph verified after each."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import HW_EXAMPLES

from hwc.compiler.compile_model import load_onnx_model
from hwc.compiler.errors import HwcError
from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, AffineType, FloatType, IntType, TensorType
from hwc.compiler.passes.quantize_affine import QuantizeAffine
from hwc.compiler.pipeline import optimize
from hwc.compiler.ranges import calibrate


def _quantized(path, calib, wbits=8):
    g = load_onnx_model(path)
    optimize(g)
    x = np.load(HW_EXAMPLES / "digits_data" / calib)["x"]
    qa = QuantizeAffine(calibrate(g, [x]), wbits=wbits, verify=True)
    assert qa.run(g)
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


def test_concat_inputs_share_the_output_parameters():
    """Concat of a Dense (adopts the common parameters) and a graph input (gets an explicit requantizing Cast)."""
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 4)))
    h = g.add_node("Dense", [x, g.constant(np.full((4, 4), 0.5, np.float32), "w"), g.constant(np.zeros(4, np.float32))])
    cat = g.add_node("Concat", [h.output, x], {"axis": 1})
    g.set_outputs([cat.output])
    QuantizeAffine(calibrate(g, [np.random.default_rng(0).uniform(-1, 1, (100, 4)).astype(np.float32)]),
                   verify=True).run(g)
    g.verify()
    assert [v.producer.op for v in cat.inputs] == ["Dense", "Cast"]
    assert cat.inputs[0].type.elem == cat.inputs[1].type.elem == cat.output.type.elem
    assert [n.op for n in g.toposort()] == ["FromFloat", "Dense", "Cast", "Concat", "ToFloat"]


@pytest.mark.parametrize("wbits, abits, message", [
    (8, 4, "--abits 4: TFLite int8 activations are 8 bits"),
    (1, 8, "--wbits 1: TFLite int8 weights take 2..8 bits"),
    (9, None, "--wbits 9: TFLite int8 weights take 2..8 bits"),
])
def test_bit_widths_outside_int8_are_refused(wbits, abits, message):
    with pytest.raises(HwcError, match=message):
        QuantizeAffine({}, wbits=wbits, abits=abits)


def test_a_value_without_a_range_is_named():
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 4)))
    g.set_outputs([g.add_node("Relu", [x]).output])
    with pytest.raises(HwcError, match="no value range for relu"):
        QuantizeAffine({"x": (-1.0, 1.0)}).run(g)
