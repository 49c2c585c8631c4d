import numpy as np

from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, TensorType
from hwc.compiler.passes.remove_identity import RemoveIdentity


def test_identity_and_dropout_disappear():
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 3)))
    i = g.add_node("Identity", [x])
    r = g.add_node("Relu", [i.output])
    d = g.add_node("Dropout", [r.output])
    s = g.add_node("Sigmoid", [d.output])
    g.set_outputs([s.output])
    assert RemoveIdentity().run(g)
    g.verify()
    assert [n.op for n in g.nodes] == ["Relu", "Sigmoid"]
    assert r.inputs[0] is x and s.inputs[0] is r.output
    assert not RemoveIdentity().run(g)


def test_identity_between_input_and_output_is_kept():
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 3)))
    i = g.add_node("Identity", [x])
    g.set_outputs([i.output])
    assert not RemoveIdentity().run(g)
    g.verify()
