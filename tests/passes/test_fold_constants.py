import numpy as np

from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, TensorType
from hwc.compiler.passes.fold_constants import FoldConstants
from hwc.compiler.sim.run import simulate


def test_constant_subgraph_folds_and_quantizers_stay():
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 3)))
    a = g.constant(np.arange(6, dtype=np.float32).reshape(3, 2), "a")
    t = g.add_node("Transpose", [a], {"perm": [1, 0]})
    s = g.add_node("Mul", [t.output, g.constant(np.float32(2), "two")])
    q = g.add_node("Quant", [s.output, g.constant(np.float32(0.5), "sc"), g.constant(np.float32(0), "zp")], {"bitwidth": 4})
    tt = g.add_node("Transpose", [q.output], {"perm": [1, 0]})
    y = g.add_node("Dense", [x, tt.output])
    g.set_outputs([y.output])
    x_data = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    before = simulate(g, [x_data])[0]
    assert FoldConstants().run(g)
    g.verify()
    assert [n.op for n in g.toposort()] == ["Quant", "Transpose", "Dense"]
    np.testing.assert_array_equal(g.toposort()[0].inputs[0].const, np.arange(6).reshape(3, 2).T * 2)
    np.testing.assert_array_equal(simulate(g, [x_data])[0], before)
    assert not FoldConstants().run(g)
    assert FoldConstants(fold_quantizers=True).run(g)
    assert [n.op for n in g.nodes] == ["Dense"]
    np.testing.assert_array_equal(simulate(g, [x_data])[0], before)
