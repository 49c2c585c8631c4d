import numpy as np

from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, TensorType
from hwc.compiler.passes.global_max_pool_to_max_pool import GlobalMaxPoolToMaxPool
from hwc.compiler.sim.run import simulate


def test_global_max_pool_becomes_one_window():
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 3, 5, 4)))
    gp = g.add_node("GlobalMaxPool", [x])
    g.set_outputs([gp.output])
    data = np.random.default_rng(7).standard_normal((6, 3, 5, 4)).astype(np.float32)
    before = simulate(g, [data])[0]
    assert GlobalMaxPoolToMaxPool().run(g)
    g.verify()
    assert [n.op for n in g.nodes] == ["MaxPool"] and g.nodes[0].attrs["kernel_shape"] == [5, 4]
    np.testing.assert_array_equal(simulate(g, [data])[0], before)
