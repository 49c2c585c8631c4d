import numpy as np

from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import AffineType, IntType, TensorType
from hwc.compiler.passes.drop_identity_relus import DropIdentityRelus


def _relu_chain(zp_in, relu_is_output):
    g = Graph()
    t = TensorType(AffineType(IntType(8), (0.5,), (zp_in,), None), (None, 3))
    x = g.add_input("x", t)
    r = g.add_node("Relu", [x], output_types=[t])
    out = r.output if relu_is_output else g.add_node("Transpose", [r.output], {"perm": [1, 0]}).output
    g.set_outputs([out])
    return g, r


def test_relu_on_codes_that_hold_no_negative_value_goes():
    g, r = _relu_chain(-128, False)
    assert DropIdentityRelus().run(g)
    g.verify()
    assert [n.op for n in g.nodes] == ["Transpose"] and g.nodes[0].inputs[0] is g.inputs[0]
    assert not DropIdentityRelus().run(g)


def test_relus_that_clamp_or_name_an_output_stay():
    for zp, is_out in [(0, False), (-127, False), (-128, True)]:
        g, r = _relu_chain(zp, is_out)
        assert not DropIdentityRelus().run(g)
        assert r in g.nodes
