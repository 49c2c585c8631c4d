"""Interval analysis (compiler/ranges.py): every op has a rule in the INTERVALS table; the bounds
contain every value the float simulator computes for inputs in the range; an op without a rule is
refused (it never keeps its input's range silently)."""

from __future__ import annotations

import numpy as np
import pytest

from hwc.compiler.errors import HwcError
from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, TensorType
from hwc.compiler.ranges import intervals
from hwc.compiler.sim.run import simulate


def one_op(op, attrs=None, extra=()):
    g = Graph("g")
    x = g.add_input("x", TensorType(F32, (None, 4)))
    n = g.add_node(op, [x, *[g.constant(np.asarray(a, np.float32), f"c{i}") for i, a in enumerate(extra)]], attrs or {})
    g.set_outputs([n.output])
    return g, n


@pytest.mark.parametrize("op, attrs, extra", [
    ("Selu", {}, ()),
    ("PRelu", {}, ([0.25, -0.5, 2.0, 1.0],)),
    ("LeakyRelu", {"alpha": 0.1}, ()),
    ("Sigmoid", {}, ()),
    ("Mul", {}, ([3.0, -2.0, 0.5, 1.0],)),
])
def test_bounds_contain_every_simulated_value(op, attrs, extra):
    g, n = one_op(op, attrs, extra)
    lo, hi = intervals(g, (-3.0, 2.0))[n.output.name]
    x = np.linspace(-3, 2, 501, dtype=np.float32)[:, None].repeat(4, 1)
    y = simulate(g, [x])[0]
    assert np.float32(lo) <= y.min() and y.max() <= np.float32(hi)  # the simulator computes in float32


def test_selu_range_grows_with_gamma():
    """Selu scales positive values by gamma > 1: keeping the input range would be unsound."""
    g, n = one_op("Selu")
    lo, hi = intervals(g, (-1.0, 1.0))[n.output.name]
    assert hi == pytest.approx(1.0507009873554805, rel=1e-6)
    assert lo == pytest.approx(-1.1113307, rel=1e-6)


def test_an_op_without_a_rule_is_refused(monkeypatch):
    from hwc.compiler import ranges

    g, n = one_op("Relu")
    monkeypatch.delitem(ranges.INTERVALS, "Relu")
    with pytest.raises(HwcError, match="no interval rule for this op: give --calib data") as e:
        intervals(g, (-1.0, 1.0))
    assert (e.value.node, e.value.op) == (n.name, "Relu")
