"""LowerQuantizers: power-of-two quantizers become fixed-point types, exactly."""

import numpy as np
import pytest
from onnx import TensorProto, helper

from conftest import F, make_model
from hwc.compiler.errors import HwcError
from hwc.compiler.frontend.onnx_loader import convert_model
from hwc.compiler.ir.types import FixedType, Overflow, Rounding
from hwc.compiler.passes.lower_quantizers import LowerQuantizers
from hwc.compiler.pipeline import cleanup
from hwc.compiler.sim.run import simulate

RNG = np.random.default_rng(2)


def qonnx_dense(weight_scale, act_scale=0.125, narrow=1, rounding="ROUND"):
    nodes = [helper.make_node("Quant", ["w", "ws", "z", "wb"], ["wq"], domain="qonnx.custom_op.general", signed=1,
                              narrow=narrow, rounding_mode="ROUND"),
             helper.make_node("MatMul", ["x", "wq"], ["mm"]),
             helper.make_node("Relu", ["mm"], ["r"]),
             helper.make_node("Quant", ["r", "as", "z", "ab"], ["y"], domain="qonnx.custom_op.general", signed=0, narrow=0,
                              rounding_mode=rounding)]
    inits = [("w", RNG.standard_normal((6, 4)).astype(np.float32)), ("ws", np.asarray(weight_scale, np.float32)),
             ("z", np.float32(0)), ("wb", np.float32(4)), ("as", np.float32(act_scale)), ("ab", np.float32(5))]
    return make_model(nodes, [("x", F, ["N", 6])], [("y", F, ["N", 4])], inits,
                      extra_opsets=[("qonnx.custom_op.general", 1)])


def lowered(model):
    g = convert_model(model, "t.onnx", {})
    cleanup(g)
    before = g.clone()
    assert LowerQuantizers().run(g)
    g.verify()
    return before, g


def test_weight_quant_becomes_mantissas_and_activation_quant_a_cast():
    before, g = lowered(qonnx_dense(0.25))
    ops = [n.op for n in g.toposort()]
    assert ops == ["Dense", "Relu", "Cast"]
    w = g.nodes[0].inputs[1]
    assert w.type.elem == FixedType(4, 2, True, Rounding.RND_CONV, Overflow.SAT_SYM)
    assert w.const.dtype == np.int64 and np.abs(w.const).max() <= 7
    q = next(n for n in before.nodes if n.op == "Quant" and n.inputs[0].const is not None)
    np.testing.assert_array_equal(w.const * 0.25, simulate(before, [np.zeros((1, 6), np.float32)], keep=lambda n: n is q)[1][q.output.name])
    cast = g.nodes[-1]
    assert cast.output.type.elem == FixedType(5, 2, False, Rounding.RND_CONV, Overflow.SAT)
    assert cast.output.name == before.outputs[0].name


@pytest.mark.parametrize("rounding,mode", [("FLOOR", Rounding.TRN), ("HALF_UP", Rounding.RND_INF), ("DOWN", Rounding.TRN_ZERO)])
def test_rounding_modes_map_to_ap_fixed(rounding, mode):
    _, g = lowered(qonnx_dense(0.25, rounding=rounding))
    assert g.nodes[-1].output.type.elem.rounding is mode


def test_per_channel_weight_scales_become_shifts():
    _, g = lowered(qonnx_dense(np.array([0.5, 0.25, 0.125, 0.25], np.float32).reshape(1, 4)))
    dense = g.nodes[0]
    assert dense.attrs["weight_shift"] == [2, 1, 0, 1]
    assert dense.inputs[1].type.elem.frac_bits == 3


def test_non_power_of_two_scale_is_a_clear_error():
    with pytest.raises(HwcError, match="not a power of two"):
        lowered(qonnx_dense(0.3))


def test_qcdq_chain_becomes_a_cast():
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
             helper.make_node("Clip", ["q", "lo", "hi"], ["c"]),
             helper.make_node("DequantizeLinear", ["c", "s", "z"], ["y"])]
    model = make_model(nodes, [("x", F, ["N", 8])], [("y", F, ["N", 8])],
                       [("s", np.float32(0.25)), ("z", np.int8(0)), ("lo", np.int8(-7)), ("hi", np.int8(7))])
    _, g = lowered(model)
    (cast,) = g.nodes
    assert cast.op == "Cast" and cast.output.type.elem == FixedType(4, 2, True, Rounding.RND_CONV, Overflow.SAT_SYM)
