"""AssignTypes: the fixed-point types of a small graph, worked out by hand from docs/FIXED_POINT.md's rules."""

from __future__ import annotations

import numpy as np
import pytest

from hwc.compiler.errors import HwcError
from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, FixedType, FloatType, Overflow, Rounding, TensorType
from hwc.compiler.passes.assign_types import TYPE_REFUSALS, TYPE_RULES, AssignTypes, Decision
from hwc.compiler.quant_config import QuantConfig

RND, SAT, TRN, WRAP = Rounding.RND, Overflow.SAT, Rounding.TRN, Overflow.WRAP
RANGES = {"x": (-1.0, 1.0), "h": (-2.0, 2.0), "y": (0.0, 2.0)}


def _mlp():
    """x [N, 2] -> Dense(w, b) -> h -> Relu -> y."""
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 2)))
    w = g.constant(np.float32([[0.5, -0.25], [1.0, 0.75]]), "w")
    d = g.add_node("Dense", [x, w, g.constant(np.float32([0.125, 0.0]), "b")], name="d", output_names=["h"])
    r = g.add_node("Relu", [d.output], name="r", output_names=["y"])
    g.set_outputs([r.output])
    return g, d, r


def test_types_of_a_dense_relu():
    """Input: 8 bits over [-1, 1] -> <8,2> (frac 6). Weights, 4 bits: max|w| = 1 -> <4,2> (frac 2) holds every
    weight exactly: mantissas [[2, -1], [4, 3]]. Bias at the accumulator's frac 8: [32, 0] -> unsigned <6,-2>.
    Accumulator over x in [-128, 127]: column 0 in [-768 + 32, 762 + 32], column 1 in [-511, 509] -> <11,3>.
    The Dense feeds only a Relu: its output is the accumulator (config modes); the Relu output is a graph
    output: 16 bits over [0, 2], unsigned -> <16,2>."""
    g, d, r = _mlp()
    at = AssignTypes(QuantConfig(wbits=4, abits=8), RANGES)
    assert at.run(g)
    g.verify()
    assert [n.op for n in g.toposort()] == ["FromFloat", "Dense", "Relu", "ToFloat"]
    assert d.inputs[0].type.elem == FixedType(8, 2, True, RND, SAT)
    assert d.inputs[1].type.elem == FixedType(4, 2, True, Rounding.RND_CONV, SAT)
    np.testing.assert_array_equal(d.inputs[1].const, [[2, -1], [4, 3]])
    assert d.inputs[2].type.elem == FixedType(6, -2, False, TRN, WRAP)
    np.testing.assert_array_equal(d.inputs[2].const, [32, 0])
    acc = FixedType(11, 3, True, TRN, WRAP)
    assert d.attrs["accum"] == acc and d.attrs["weight_shift"] is None
    assert d.output.type.elem == acc.with_modes(RND, SAT)
    assert r.output.type.elem == FixedType(16, 2, False, RND, SAT)
    assert isinstance(g.outputs[0].type.elem, FloatType) and g.outputs[0].producer.op == "ToFloat"
    assert at.decisions == [Decision("x_to_fixed", "FromFloat", output=d.inputs[0].type.elem),
                            Decision("d", "Dense", output=d.output.type.elem, weight=d.inputs[1].type.elem,
                                     accum=acc),
                            Decision("r", "Relu", output=r.output.type.elem)]
    assert at.chosen == {"y": r.output.type.elem}
    assert not at.run(g)  # typed already


def test_a_layer_entry_overrides_the_chosen_output():
    g, d, r = _mlp()
    c = QuantConfig(wbits=4, abits=8, layers={"Relu": {"output": {"width": 6, "overflow": "WRAP"}}})
    AssignTypes(c, RANGES).run(g)
    assert r.output.type.elem == FixedType(6, 2, False, RND, WRAP)


def test_refusals_and_a_missing_range_name_the_node():
    g, d, r = _mlp()
    with pytest.raises(HwcError, match="node 'r': no value range for y"):
        AssignTypes(QuantConfig(), {"x": (-1.0, 1.0)}).run(g)
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 2)))
    g.set_outputs([g.add_node("Div", [x, x], name="q").output])
    with pytest.raises(HwcError, match=r"node 'q' \(Div\): division by a run-time tensor has no fixed-point form"):
        AssignTypes(QuantConfig(), {"x": (-1.0, 1.0)}).run(g)
    assert set(TYPE_REFUSALS).isdisjoint(TYPE_RULES)
