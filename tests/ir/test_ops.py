"""IR op schemas (compiler/ir/ops.py): output type inference, attribute defaults and kinds, and the errors that
name the node. Graphs are built in code; inference runs in `Graph.add_node`, the schema check in `verify`."""

from __future__ import annotations

import numpy as np
import pytest

from hwc.compiler.ir.errors import IRError
from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.ops import SCHEMAS, broadcast_shapes, pool_out
from hwc.compiler.ir.types import F32, I32, FixedType, IntType, TensorType


def _x(g, shape, elem=F32, name="x"):
    return g.add_input(name, TensorType(elem, shape))


def _w(g, *shape):
    return g.constant(np.zeros(shape, np.float32), "w")


@pytest.mark.parametrize("shapes, want", [
    (((None, 3), (3,)), (None, 3)),
    (((None, 1, 4), (2, 1)), (None, 2, 4)),
    (((None, 3), (1, 3)), (None, 3)),
    (((5,), ()), (5,)),
])
def test_broadcast_shapes(shapes, want):
    assert broadcast_shapes(*shapes) == want


@pytest.mark.parametrize("shapes, message", [
    (((None, 3), (2, 3)), "batch dimension against a fixed size"),
    (((2, 3), (4, 3)), r"cannot broadcast shapes \(\(2, 3\), \(4, 3\)\)"),
])
def test_broadcast_refusals(shapes, message):
    with pytest.raises(IRError, match=message):
        broadcast_shapes(*shapes)


@pytest.mark.parametrize("args, want", [
    ((5, 2, 2, 1, 0, 0, False), 2),
    ((5, 2, 2, 1, 0, 0, True), 3),    # ceil_mode: the partial last window counts
    ((4, 2, 2, 1, 0, 1, True), 2),    # ... unless it would start in the end padding
    ((8, 3, 1, 2, 1, 1, False), 6),   # dilation 2: span 5
    ((7, 3, 2, 1, 1, 1, False), 4),
])
def test_pool_out(args, want):
    assert pool_out(*args) == want


def test_pool_window_larger_than_the_input():
    with pytest.raises(IRError, match=r"window 5 \(dilation 1\) larger than padded input 4"):
        pool_out(3, 5, 1, 1, 1, 0)


def test_dense_and_conv_shapes():
    g = Graph()
    d = g.add_node("Dense", [_x(g, (None, 4)), _w(g, 4, 3)])
    assert d.output.type == TensorType(F32, (None, 3)) and d.attrs["activation"] is None and d.attrs["accum"] is None
    c = g.add_node("Conv", [_x(g, (None, 3, 8, 7), name="img"), _w(g, 5, 3, 3, 3)],
                   {"strides": [2, 2], "pads": [1, 1, 1, 1], "dilations": [1, 1], "group": 1})
    assert c.output.type.shape == (None, 5, 4, 4)


def test_dense_weight_mismatch_names_the_node():
    g = Graph()
    with pytest.raises(IRError, match="Dense node fc: input .* does not match weight"):
        g.add_node("Dense", [_x(g, (None, 4)), _w(g, 5, 3)], name="fc")


@pytest.mark.parametrize("op, attrs, shape, want", [
    ("MaxPool", {"kernel_shape": [2, 2], "strides": [2, 2], "pads": [0, 0, 0, 0], "dilations": [1, 1]},
     (None, 3, 5, 5), (None, 3, 2, 2)),
    ("MaxPool", {"kernel_shape": [2, 2], "strides": [2, 2], "pads": [0, 0, 0, 0], "dilations": [1, 1],
                 "ceil_mode": True}, (None, 3, 5, 5), (None, 3, 3, 3)),
    ("GlobalAveragePool", {}, (None, 3, 5, 4), (None, 3, 1, 1)),
    ("Transpose", {"perm": [0, 2, 1]}, (None, 3, 5), (None, 5, 3)),
    ("Reshape", {"shape": [None, 15]}, (None, 3, 5), (None, 15)),
    ("Pad", {"pads": [0, 0, 1, 0, 0, 2]}, (None, 3, 5), (None, 3, 8)),
    ("Softmax", {"axis": 1}, (None, 10), (None, 10)),
])
def test_shape_inference(op, attrs, shape, want):
    g = Graph()
    n = g.add_node(op, [_x(g, shape)], attrs)
    assert n.output.type == TensorType(F32, want)


def test_concat_adds_the_axis_and_refuses_the_batch_axis():
    g = Graph()
    a, b = _x(g, (None, 3, 4), name="a"), _x(g, (None, 5, 4), name="b")
    assert g.add_node("Concat", [a, b], {"axis": 1}).output.type.shape == (None, 8, 4)
    with pytest.raises(IRError, match=r"Concat node c: shapes \[\(None, 3, 4\), \(None, 5, 4\)\] differ off axis 2"):
        g.add_node("Concat", [a, b], {"axis": -1}, name="c")
    with pytest.raises(IRError, match="Concat node d: cannot concatenate along the batch axis"):
        g.add_node("Concat", [a, a], {"axis": 0}, name="d")


def test_element_types_follow_the_attributes():
    g = Graph()
    t = FixedType(8, 3, True)
    assert g.add_node("Cast", [_x(g, (None, 2))], {"to": t}).output.type == TensorType(t, (None, 2))
    acc = _x(g, (None, 2), I32, name="acc")
    rq = g.add_node("Requantize", [acc, g.constant(np.float32([0.5, 0.25]))], {"to": IntType(8)})
    assert rq.output.type == TensorType(IntType(8), (None, 2))
    one = _x(g, (None, 1), I32, name="one")
    with pytest.raises(IRError, match=r"Requantize node r: multiplier \(2,\) does not broadcast to \(None, 1\)"):
        g.add_node("Requantize", [one, g.constant(np.float32([1, 2]))], {"to": IntType(8)}, name="r")


def test_attributes_default_required_unknown_and_kind():
    g = Graph()
    x = _x(g, (None, 4))
    assert g.add_node("LeakyRelu", [x]).attrs == {"alpha": 0.01, "param_type": None}  # ONNX default alpha
    with pytest.raises(IRError, match="Transpose node t: missing attribute perm"):
        g.add_node("Transpose", [x], name="t")
    with pytest.raises(IRError, match=r"Relu node r: unknown attributes \['alpha'\]"):
        g.add_node("Relu", [x], {"alpha": 1.0}, name="r")
    n = g.add_node("Softmax", [x], {"axis": 1}, name="s")
    g.set_outputs([n.output])
    n.attrs["axis"] = 1.5
    with pytest.raises(IRError, match="Softmax node s: attribute axis=1.5 is not a int"):
        g.verify()


def test_input_count_is_checked():
    g = Graph()
    x = _x(g, (None, 4))
    n = g.add_node("Add", [x, x], name="a")
    g.set_outputs([n.output])
    g.set_input(n, 2, x)
    with pytest.raises(IRError, match=r"Add node a: 3 inputs, expected 2\.\.2"):
        g.verify()


def test_every_schema_documents_its_formula_and_infers():
    assert [n for n, s in SCHEMAS.items() if not s.doc or s.infer is None] == []
