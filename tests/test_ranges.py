"""Interval analysis (compiler/ranges.py): every op has a rule in the INTERVALS table; the bounds
contain every value the float simulator computes for inputs in the range; an op without a rule is
refused (it never keeps its input's range silently)."""

from __future__ import annotations

import numpy as np
import pytest

from hwc.compiler.errors import HwcError
from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, TensorType
from hwc.compiler.ranges import calibrate, intervals
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


def test_dense_conv_and_their_neighbours_exact_bounds():
    """x in [-1, 2]; Dense w = [[1, -2], [3, 0.5]], b = [0.5, -1]: column 0 in [-1 - 3 + 0.5, 2 + 6 + 0.5] =
    [-3.5, 8.5], column 1 in [-2 * 2 - 0.5 - 1, 2 + 1 - 1] = [-5.5, 2]; Relu [0, 8.5]; Clip(-1, 3) [-1, 3];
    Sub of the Dense and x: [-5.5 - 2, 8.5 + 1]; Concat of the Relu and the Clip [-1, 8.5]."""
    g = Graph("g")
    x = g.add_input("x", TensorType(F32, (None, 2)))
    d = g.add_node("Dense", [x, g.constant(np.float32([[1, -2], [3, 0.5]])), g.constant(np.float32([0.5, -1]))])
    r = g.add_node("Relu", [d.output])
    c = g.add_node("Clip", [d.output], {"min": -1.0, "max": 3.0})
    s = g.add_node("Sub", [d.output, x])
    cat = g.add_node("Concat", [r.output, c.output], {"axis": 1})
    g.set_outputs([cat.output, s.output])
    got = intervals(g, (-1.0, 2.0))
    assert got[d.output.name] == (-5.5, 8.5)
    assert (got[r.output.name], got[c.output.name]) == ((0.0, 8.5), (-1.0, 3.0))
    assert got[s.output.name] == (-7.5, 9.5)
    assert got[cat.output.name] == (-1.0, 8.5)


def test_conv_counts_the_zero_padding():
    """x in [1, 2] (never 0) but a padded tap reads 0: w = [1, 1, 1] over a window, bound [0 + 1 + 1, 6]."""
    g = Graph("g")
    x = g.add_input("x", TensorType(F32, (None, 1, 4)))
    c = g.add_node("Conv", [x, g.constant(np.ones((1, 1, 3), np.float32))],
                   {"strides": [1], "pads": [1, 1], "dilations": [1], "group": 1})
    g.set_outputs([c.output])
    assert intervals(g, (1.0, 2.0))[c.output.name] == (0.0, 6.0)


def test_calibrate_is_min_max_over_every_batch():
    g, n = one_op("Relu")
    x = np.float32([[-3, 1, 0, 0], [0, 0, 0, 0], [0, 0, 5, -1]])
    got = calibrate(g, [x], batch=1)
    assert got == {"x": (-3.0, 5.0), n.output.name: (0.0, 5.0)}
