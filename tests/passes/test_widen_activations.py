"""WidenActivations: the int8 affine IR becomes TFLite's 16x8 form. Every activation int16 with zero point 0
over the real range of its int8 parameters, weights untouched, biases int64 within half a step of their int8
value; an op without a 16x8 form is refused naming it. (Bit-exactness against LiteRT:
tests/backends/test_tflite_16x8.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import HW_EXAMPLES, compile_options

from hwc.backends.tflite import lower
from hwc.compiler.compile_model import load_onnx_model
from hwc.compiler.errors import HwcError
from hwc.compiler.ir.types import AffineType, IntType
from hwc.compiler.passes.widen_activations import WidenActivations

CALIB = f"{HW_EXAMPLES / 'digits_data/calib.npz'}:x"


def int8_ir():
    g, _, _ = lower(load_onnx_model(HW_EXAMPLES / "digits_mlp/model.onnx"), compile_options("tflite", CALIB, abits=8))
    return g


def test_activations_int16_weights_kept_biases_int64():
    g = int8_ir()
    before = {v.name: v.type.elem for v in g.values() if v.const is None and isinstance(v.type.elem, AffineType)}
    weights = {n.name: (n.inputs[1].type.elem, np.asarray(n.inputs[1].const)) for n in g.nodes if n.op == "Dense"}
    biases = {n.name: np.asarray(n.inputs[2].const, np.float64) * np.asarray(n.inputs[2].type.elem.scale)
              for n in g.nodes if n.op == "Dense"}
    assert WidenActivations().run(g) is True
    g.verify()
    for v in g.values():
        if v.name in before:
            t8, t16 = before[v.name], v.type.elem
            s, z = float(np.float32(t8.scale[0])), t8.zero_point[0]
            assert t16.storage == IntType(16) and t16.zero_point == (0,)
            assert t16.scale[0] == float(np.float32(max(abs(s * (-128 - z)), abs(s * (127 - z))) / 32767))
    for n in [n for n in g.nodes if n.op == "Dense"]:
        assert n.inputs[1].type.elem == weights[n.name][0]
        np.testing.assert_array_equal(np.asarray(n.inputs[1].const), weights[n.name][1])
        b = n.inputs[2]
        assert b.type.elem.storage == IntType(64)
        step = np.asarray(b.type.elem.scale)
        assert np.all(np.abs(np.asarray(b.const, np.float64) * step - biases[n.name]) <= step / 2)


def test_an_op_without_a_16x8_form_is_refused():
    g = int8_ir()
    dense = next(n for n in g.nodes if n.op == "Dense")
    dense.op = "Softmax"  # stands for any op outside FORMS_16X8
    with pytest.raises(HwcError, match="Softmax has no form in TFLite's 16x8 mode here"):
        WidenActivations().run(g)
