import numpy as np

from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, TensorType
from hwc.compiler.passes.sub_to_add import SubToAdd
from hwc.compiler.sim.run import simulate

RNG = np.random.default_rng(12)


def test_constant_subtrahend_and_minuend_become_adds_exactly():
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 3, 4)))
    mean = g.constant(RNG.standard_normal((3, 1)).astype(np.float32), "mean")
    s1 = g.add_node("Sub", [x, mean])  # x - mean
    s2 = g.add_node("Sub", [g.constant(np.float32(0.7), "k"), s1.output])  # 0.7 - (x - mean)
    g.set_outputs([s2.output])
    data = RNG.standard_normal((100, 3, 4)).astype(np.float32)
    before = simulate(g, [data])[0]
    assert SubToAdd().run(g)
    g.verify()
    assert [n.op for n in g.toposort()] == ["Add", "Mul", "Add"]
    assert g.outputs[0].name == s2.output.name
    np.testing.assert_array_equal(simulate(g, [data])[0], before)
    assert not SubToAdd().run(g)


def test_sub_of_two_runtime_tensors_is_kept():
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 3)))
    y = g.add_input("y", TensorType(F32, (None, 3)))
    g.set_outputs([g.add_node("Sub", [x, y]).output])
    assert not SubToAdd().run(g)
