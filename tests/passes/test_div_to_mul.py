import numpy as np
import pytest

from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, I32, TensorType
from hwc.compiler.passes.div_to_mul import DivToMul
from hwc.compiler.sim.run import simulate

RNG = np.random.default_rng(11)


def div_graph(c):
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 3, 4)))
    d = g.add_node("Div", [x, g.constant(np.asarray(c, np.float32), "c")])
    g.set_outputs([d.output])
    return g


@pytest.mark.parametrize("c", [[[0.25], [2.0], [-8.0]], 0.5])
def test_power_of_two_divisor_is_exact(c):
    g = div_graph(c)
    name = g.outputs[0].name
    data = RNG.standard_normal((50, 3, 4)).astype(np.float32)
    before = simulate(g, [data])[0]
    assert DivToMul().run(g)
    g.verify()
    assert [n.op for n in g.nodes] == ["Mul"] and g.outputs[0].name == name
    np.testing.assert_array_equal(simulate(g, [data])[0], before)


def test_other_divisor_within_two_ulp():
    g = div_graph([[0.229], [0.224], [0.225]])
    data = RNG.standard_normal((500, 3, 4)).astype(np.float32)
    before = simulate(g, [data])[0]
    assert DivToMul().run(g)
    g.verify()
    after = simulate(g, [data])[0]
    np.testing.assert_array_max_ulp(after, before, maxulp=2)
    assert not np.array_equal(after, before)  # the reciprocal rounds: the docstring's bound, not equality


@pytest.mark.parametrize("case", ["zero", "runtime", "int"])
def test_divisions_that_are_kept(case):
    g = Graph()
    x = g.add_input("x", TensorType(I32 if case == "int" else F32, (None, 3)))
    if case == "runtime":
        c = g.add_input("y", TensorType(F32, (None, 3)))
    else:
        c = g.constant(np.asarray([1, 0, 2] if case == "zero" else [1, 3, 2], np.int32 if case == "int" else np.float32), "c")
    d = g.add_node("Div", [x, c])
    g.set_outputs([d.output])
    assert not DivToMul().run(g)
    assert [n.op for n in g.nodes] == ["Div"]
