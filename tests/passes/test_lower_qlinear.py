import numpy as np
import pytest

from hwc.compiler.errors import HwcError
from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import I32, AffineType, IntType, TensorType
from hwc.compiler.passes.affine_params import U8, AffineState, Params, f32
from hwc.compiler.passes.lower_qlinear import LowerQLinear, integer_weights

I8 = IntType(8)
M = np.float32([0.5, 0.25, 0.125])


def _qlinear(w, bias):
    """x int8 -> MatMulInteger(x - 5, w) + bias -> Requantize(M, -3) -> int8 output."""
    g = Graph()
    x = g.add_input("x", TensorType(I8, (None, 4)))
    mm = g.add_node("MatMulInteger", [x, g.constant(np.asarray(w, np.int8), "w"), g.constant(np.int8(5))], name="mm",
                    output_types=[TensorType(I32, (None, 3))])
    acc = g.add_node("Add", [mm.output, g.constant(np.asarray(bias, np.int32), "bias")], name="acc")
    rq = g.add_node("Requantize", [acc.output, g.constant(M), g.constant(np.int8(-3))], {"to": I8}, name="rq")
    g.set_outputs([rq.output])
    return g, x


def test_qlinear_matmul_becomes_a_dense_with_the_models_multiplier():
    w = np.arange(-6, 6).reshape(4, 3)
    g, x = _qlinear(w, [10, -20, 30])
    st = AffineState()
    assert LowerQLinear(st).run(g)
    g.verify()
    (d,) = g.nodes
    assert d.op == "Dense" and d.name.startswith("mm") and d.inputs[0] is x and g.outputs == [d.output]
    np.testing.assert_array_equal(d.inputs[1].const, w)
    assert d.inputs[1].type.elem == AffineType(I8, tuple(f32(m) for m in M), (0, 0, 0), 1)
    np.testing.assert_array_equal(d.inputs[2].const, [10, -20, 30])
    assert st.carried == {x: Params(1.0, 5), d.output: Params(1.0, -3)} and st.notes == []
    assert not LowerQLinear(st).run(g)


def test_integer_weights_wider_than_int8_divide_by_their_gcd():
    """Column 0 spans [-200, 200] in steps of 100: codes [-2, 2] at scale 100 M (the bias divides by 100 too)."""
    vals = np.array([[200, 1, 0], [-100, 2, 0], [0, 3, 0], [100, 4, 0]])
    q, scales, zps = integer_weights(vals, vals, np.zeros(3, np.int64), M, 1, False, I8, None)
    np.testing.assert_array_equal(q[:, 0], [2, -1, 0, 1])
    assert scales == [f32(0.5 * 100), f32(0.25), f32(0.125)] and zps == [0, 0, 0]


def test_integer_weights_that_fit_no_symmetric_int8_form():
    g, _ = _qlinear(np.zeros((4, 3)), [0, 0, 0])
    vals = np.array([[255, 0, 0], [-1, 0, 0], [0, 0, 0], [0, 0, 0]])
    mm = g.nodes[0]
    # a Dense with one zero point and one multiplier keeps the raw uint8 codes and its zero point (per tensor)
    q, scales, zps = integer_weights(vals, vals + 128, np.full(3, 128), np.full(3, 0.5), 1, False, U8, mm)
    np.testing.assert_array_equal(q, vals)
    assert scales == [0.5] and zps == [0]
    with pytest.raises(HwcError, match=r"node 'mm' \(MatMulInteger\): integer weights span more than 255 codes"):
        integer_weights(vals, vals, np.zeros(3, np.int64), M, 1, False, I8, mm)


def test_requantize_of_something_else_is_refused():
    g = Graph()
    x = g.add_input("x", TensorType(I32, (None, 3)))
    rq = g.add_node("Requantize", [x, g.constant(M)], {"to": I8}, name="rq")
    g.set_outputs([rq.output])
    with pytest.raises(HwcError, match=r"node 'rq' \(Requantize\): Requantize of something other than"):
        LowerQLinear(AffineState()).run(g)
