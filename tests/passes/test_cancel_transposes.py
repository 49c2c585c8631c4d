import numpy as np
import pytest

from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, TensorType
from hwc.compiler.passes.cancel_transposes import CancelTransposes
from hwc.compiler.sim.run import simulate

RNG = np.random.default_rng(15)


@pytest.mark.parametrize("p,q,left", [([0, 3, 1, 2], [0, 2, 3, 1], None), ([0, 2, 3, 1], [0, 3, 1, 2], None),
                                      ([0, 2, 1, 3], [0, 3, 2, 1], [0, 3, 1, 2]), ([0, 1, 2, 3], None, None)])
def test_transpose_pairs(p, q, left):
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 2, 3, 4)))
    y = g.add_node("Transpose", [x], {"perm": p}).output
    if q is not None:
        y = g.add_node("Transpose", [y], {"perm": q}).output
    out = g.add_node("Relu", [y])
    g.set_outputs([out.output])
    data = RNG.standard_normal((5, 2, 3, 4)).astype(np.float32)
    before = simulate(g, [data])[0]
    assert CancelTransposes().run(g)
    g.verify()
    if left is None:
        assert [n.op for n in g.nodes] == ["Relu"] and out.inputs[0] is x
    else:
        assert [n.op for n in g.nodes] == ["Transpose", "Relu"] and g.nodes[0].attrs["perm"] == left
    np.testing.assert_array_equal(simulate(g, [data])[0], before)
    assert not CancelTransposes().run(g)


def test_shared_inner_transpose_stays_for_its_other_user():
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 2, 3)))
    t1 = g.add_node("Transpose", [x], {"perm": [0, 2, 1]})
    t2 = g.add_node("Transpose", [t1.output], {"perm": [0, 2, 1]})
    r = g.add_node("Relu", [t2.output])
    g.set_outputs([r.output, t1.output])
    assert CancelTransposes().run(g)
    g.verify()
    assert [n.op for n in g.nodes] == ["Transpose", "Relu"] and r.inputs[0] is x
