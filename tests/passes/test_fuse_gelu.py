"""FuseGelu: PyTorch's exact GELU chain, in the exporters' orders, becomes one Gelu node; near-misses stay."""

import math

import numpy as np
import pytest

from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, TensorType
from hwc.compiler.passes.fuse_gelu import FuseGelu
from hwc.compiler.sim.run import simulate

RNG = np.random.default_rng(5)


def _c(g, v):
    return g.constant(np.asarray(v, np.float32))


def gelu_chain(order: str, scale_op="Div", k=math.sqrt(2.0), one=1.0, half=0.5):
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 6)))
    u = g.add_node(scale_op, [x, _c(g, k if scale_op == "Div" else 1 / k)]).output
    e = g.add_node("Erf", [u]).output
    a = g.add_node("Add", [e, _c(g, one)]).output
    if order == "x_first":  # (x · (1 + erf)) · 0.5: the TorchScript export
        y = g.add_node("Mul", [g.add_node("Mul", [x, a]).output, _c(g, half)]).output
    elif order == "half_first":  # (x · 0.5) · (1 + erf)
        y = g.add_node("Mul", [g.add_node("Mul", [x, _c(g, half)]).output, a]).output
    else:  # ((1 + erf) · 0.5) · x
        y = g.add_node("Mul", [g.add_node("Mul", [a, _c(g, half)]).output, x]).output
    g.set_outputs([y])
    return g


@pytest.mark.parametrize("order", ["x_first", "half_first", "half_then_x"])
@pytest.mark.parametrize("scale_op", ["Div", "Mul"])
def test_chain_becomes_gelu(order, scale_op):
    g = gelu_chain(order, scale_op)
    name = g.outputs[0].name
    data = RNG.standard_normal((200, 6)).astype(np.float32) * 3
    before = simulate(g, [data])[0]
    assert FuseGelu().run(g)
    g.verify()
    assert [n.op for n in g.nodes] == ["Gelu"] and g.outputs[0].name == name
    np.testing.assert_allclose(simulate(g, [data])[0], before, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("change", [dict(k=2.0), dict(one=0.5), dict(half=0.25)])
def test_other_constants_are_kept(change):
    g = gelu_chain("x_first", **change)
    assert not FuseGelu().run(g)
    assert "Erf" in [n.op for n in g.nodes]


def test_shared_intermediate_is_kept():
    g = gelu_chain("x_first")
    erf = next(n for n in g.nodes if n.op == "Erf")
    g.set_outputs(list(g.outputs) + [erf.output])  # erf also read elsewhere: the chain cannot go
    assert not FuseGelu().run(g)
