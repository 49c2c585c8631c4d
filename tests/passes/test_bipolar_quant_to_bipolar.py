import numpy as np
import pytest

from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, TensorType
from hwc.compiler.passes.bipolar_quant_to_bipolar import BipolarQuantToBipolar
from hwc.compiler.sim.run import simulate


@pytest.mark.parametrize("scale,becomes", [(1.0, True), (0.5, False)])
def test_unit_scale_bipolar_quant_becomes_bipolar(scale, becomes):
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 5)))
    q = g.add_node("BipolarQuant", [x, g.constant(np.float32(scale), "s")])
    g.set_outputs([q.output])
    data = np.concatenate([np.random.default_rng(5).standard_normal((20, 5)), np.zeros((1, 5))]).astype(np.float32)
    before = simulate(g, [data])[0]
    assert BipolarQuantToBipolar().run(g) == becomes
    g.verify()
    assert [n.op for n in g.nodes] == ["Bipolar" if becomes else "BipolarQuant"]
    np.testing.assert_array_equal(simulate(g, [data])[0], before)


def test_bipolar_weights_are_left():
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 3)))
    w = g.add_node("BipolarQuant", [g.constant(np.ones((3, 2), np.float32), "w"), g.constant(np.float32(1), "s")])
    g.set_outputs([g.add_node("Dense", [x, w.output]).output])
    assert not BipolarQuantToBipolar().run(g)
