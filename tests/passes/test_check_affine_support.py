import numpy as np
import pytest

from affine_steps import dense_graph

from hwc.compiler.errors import HwcError
from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, TensorType
from hwc.compiler.passes.check_affine_support import CheckAffineSupport


def test_a_supported_graph_passes_unchanged():
    g = dense_graph([[1.0]], act="Sigmoid")
    assert not CheckAffineSupport().run(g)
    assert [n.op for n in g.nodes] == ["Dense", "Sigmoid"]


def _one(op, shape, attrs=None, second=None):
    g = Graph()
    x = g.add_input("x", TensorType(F32, shape))
    ins = [x] + ([second(g)] if second else [])
    g.set_outputs([g.add_node(op, ins, attrs, name="n").output])
    return g


@pytest.mark.parametrize("graph, message", [
    (lambda: _one("GlobalMaxPool", (None, 2, 3, 3)), r"no TFLite int8 form for GlobalMaxPool \(n\)"),
    (lambda: _one("Relu", (None, None)), r"value x has a dynamic dimension other than the batch \[None, None\]"),
    (lambda: _one("Pad", (None, 2), {"pads": [0, 1, 0, 1], "mode": "reflect"}),
     r"node 'n' \(Pad\): only zero constant padding maps to TFLite PAD \(mode reflect, value 0.0\)"),
    (lambda: _one("Concat", (1, 2), {"axis": 0}, lambda g: g.inputs[0]),
     r"node 'n' \(Concat\): concatenation along the batch axis"),
    (lambda: _one("Add", (None, 2), None, lambda g: g.constant(np.ones(2, np.float32))),
     r"node 'n' \(Add\): Add of two run-time tensors of one shape maps to TFLite"),
])
def test_refusals_name_the_node_and_the_reason(graph, message):
    with pytest.raises(HwcError, match=message):
        CheckAffineSupport().run(graph())
