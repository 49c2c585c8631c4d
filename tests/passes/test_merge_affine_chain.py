import numpy as np
import pytest

from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, TensorType
from hwc.compiler.passes.merge_affine_chain import MergeAffineChain
from hwc.compiler.sim.run import simulate

RNG = np.random.default_rng(13)


def const(g, shape, name, lo=0.5, hi=2.0):
    return g.constant(RNG.uniform(lo, hi, shape).astype(np.float32), name)


def bn(g, x, c):
    params = [const(g, c, "s"), const(g, c, "b", -1, 1), const(g, c, "m", -1, 1), const(g, c, "v", 0.2, 2)]
    return g.add_node("BatchNormalization", [x] + params, {"epsilon": 1e-3}).output


@pytest.mark.parametrize("shape,cshape", [((None, 3, 5, 5), (3, 1, 1)), ((None, 3, 5, 5), (1, 3, 1, 1)), ((None, 6), (6,)),
                                          ((None, 6), ())])
def test_chain_becomes_one_batchnorm(shape, cshape):
    g = Graph()
    x = g.add_input("x", TensorType(F32, shape))
    y = g.add_node("Mul", [x, const(g, cshape, "a1")]).output
    y = g.add_node("Add", [const(g, cshape, "b1", -1, 1), y]).output  # constant first: commutative
    y = bn(g, y, shape[1])
    y = g.add_node("Mul", [y, const(g, cshape, "a2")]).output
    y = g.add_node("Add", [y, const(g, cshape, "b2", -1, 1)]).output
    out = g.add_node("Relu", [y])
    g.set_outputs([out.output])
    data = RNG.standard_normal((40,) + shape[1:]).astype(np.float32)
    before = simulate(g, [data])[0]
    assert MergeAffineChain().run(g)
    g.verify()
    assert [n.op for n in g.toposort()] == ["BatchNormalization", "Relu"]
    merged = g.nodes[0]
    assert merged.attrs["epsilon"] == 0.0
    np.testing.assert_array_equal(merged.inputs[3].const, 0) and np.testing.assert_array_equal(merged.inputs[4].const, 1)
    np.testing.assert_allclose(simulate(g, [data])[0], before, rtol=1e-5, atol=1e-5)
    assert not MergeAffineChain().run(g)


def test_merged_batchnorm_is_exactly_mul_then_add():
    """scale=a, bias=b, mean 0, var 1, eps 0 computes x·a + b with the same two roundings as Mul, Add."""
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 4)))
    y = g.add_node("Mul", [x, const(g, (4,), "a")]).output
    y = g.add_node("Add", [y, const(g, (4,), "b", -1, 1)]).output
    g.set_outputs([y])
    data = RNG.standard_normal((1000, 4)).astype(np.float32)
    before = simulate(g, [data])[0]
    assert MergeAffineChain().run(g)
    np.testing.assert_array_equal(simulate(g, [data])[0], before)


@pytest.mark.parametrize("case", ["lone-batchnorm", "not-per-channel", "runtime-operand", "branch"])
def test_what_is_kept(case):
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 3, 4)))
    if case == "lone-batchnorm":
        outs = [bn(g, x, 3)]
    elif case == "not-per-channel":
        outs = [g.add_node("Add", [x, const(g, (4,), "pos")]).output]  # along the last axis
    elif case == "runtime-operand":
        outs = [g.add_node("Mul", [x, g.add_input("y", TensorType(F32, (None, 3, 4)))]).output]
    else:
        m = g.add_node("Mul", [x, const(g, (3, 1), "a")]).output
        outs = [g.add_node("Add", [m, const(g, (3, 1), "b")]).output, g.add_node("Relu", [m]).output]
    g.set_outputs(outs)
    ops = [n.op for n in g.nodes]
    changed = MergeAffineChain().run(g)
    g.verify()
    if case == "branch":  # each single-step chain still becomes a BatchNormalization, the fan-out stays
        assert changed and [n.op for n in g.toposort()] == ["BatchNormalization", "BatchNormalization", "Relu"]
    else:
        assert not changed and [n.op for n in g.nodes] == ops
