import numpy as np
import pytest

from hwc.compiler.errors import HwcError
from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, IntType, TensorType
from hwc.compiler.passes.affine_params import U8, AffineState, Params
from hwc.compiler.passes.take_quantizers import TakeQuantizers

f32 = np.float32


def _graph(build):
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 3)))
    out = build(g, x)
    g.set_outputs([g.add_node("Sigmoid", [out], name="s").output])
    return g, x


def _run(g):
    st = AffineState()
    assert TakeQuantizers(st).run(g)
    g.verify()
    assert not TakeQuantizers(st).run(g)
    return st


def test_qonnx_quant_leaves_its_parameters_on_the_value():
    """uint4 (codes [0, 15]) at scale 0.25: int8 codes q + 112, clamp [112, 127]."""
    g, x = _graph(lambda g, x: g.add_node("Quant", [x, g.constant(f32(0.25)), g.constant(f32(0))],
                                          {"bitwidth": 4, "signed": False}).output)
    st = _run(g)
    assert [n.op for n in g.nodes] == ["Sigmoid"] and g.nodes[0].inputs == [x]
    assert st.carried == {x: Params(0.25, 112, 112, 127)}


def test_qdq_pair_with_a_clip_narrows_the_codes():
    """int8 codes clipped to [-3, 100] at zero point -3: shifted by 127 - 100 = 27, the clamp is [24, 127]."""
    def build(g, x):
        s, z = g.constant(f32(0.5)), g.constant(np.int8(-3))
        q = g.add_node("QuantizeLinear", [x, s, z], {"to": IntType(8)})
        c = g.add_node("Clip", [q.output], {"min": -3.0, "max": 100.5})
        return g.add_node("DequantizeLinear", [c.output, s, z]).output
    g, x = _graph(build)
    st = _run(g)
    assert [n.op for n in g.nodes] == ["Sigmoid"] and st.carried == {x: Params(0.5, 24, 24, 127)}


def test_dequantized_uint8_input_keeps_its_storage():
    g = Graph()
    x = g.add_input("x", TensorType(U8, (None, 3)))
    dq = g.add_node("DequantizeLinear", [x, g.constant(f32(2 ** -7)), g.constant(np.uint8(0))])
    g.set_outputs([g.add_node("Sigmoid", [dq.output]).output])
    st = _run(g)
    assert st.in_storage == {x: U8} and st.carried == {x: Params(2 ** -7, -128)}


@pytest.mark.parametrize("build, message", [
    (lambda g, x: g.add_node("Quant", [x, g.constant(f32(1)), g.constant(f32(0))], {"bitwidth": 1}, name="q").output,
     r"node 'q' \(Quant\): bipolar activations have no TFLite int8 form"),
    (lambda g, x: g.add_node("Quant", [x, g.constant(f32([1, 2, 3])), g.constant(f32(0))], {"bitwidth": 4},
                             name="q").output,
     r"node 'q' \(Quant\): per-channel activation scales are not supported by TFLite"),
    (lambda g, x: g.add_node("Quant", [x, g.constant(f32(1)), g.constant(f32(0.5))], {"bitwidth": 4}, name="q").output,
     r"node 'q' \(Quant\): a non-integer zero point has no TFLite form"),
    (lambda g, x: g.add_node("Quant", [x, g.constant(f32(1)), g.constant(f32(0))], {"bitwidth": 12}, name="q").output,
     r"node 'q' \(Quant\): a 4096-level quantizer does not fit int8"),
])
def test_quantizers_without_an_int8_form_are_refused(build, message):
    g, _ = _graph(build)
    with pytest.raises(HwcError, match=message):
        TakeQuantizers(AffineState()).run(g)
