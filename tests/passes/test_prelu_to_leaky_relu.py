import numpy as np
import pytest

from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, TensorType
from hwc.compiler.passes.prelu_to_leaky_relu import PReluToLeakyRelu
from hwc.compiler.sim.run import simulate


@pytest.mark.parametrize("slope,becomes", [(np.float32([0.25]), True), (np.full((3, 1, 1), 0.1, np.float32), True),
                                           (np.float32([0.1, 0.2, 0.3]).reshape(3, 1, 1), False)])
def test_single_slope_prelu_becomes_leaky_relu(slope, becomes):
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 3, 4, 4)))
    p = g.add_node("PRelu", [x, g.constant(slope, "slope")])
    g.set_outputs([p.output])
    data = np.random.default_rng(6).standard_normal((10, 3, 4, 4)).astype(np.float32)
    before = simulate(g, [data])[0]
    assert PReluToLeakyRelu().run(g) == becomes
    g.verify()
    assert [n.op for n in g.nodes] == ["LeakyRelu" if becomes else "PRelu"]
    np.testing.assert_array_equal(simulate(g, [data])[0], before)
