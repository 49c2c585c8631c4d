import numpy as np

from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, TensorType
from hwc.compiler.passes.remove_dead_nodes import RemoveDeadNodes


def test_unreachable_chain_is_removed():
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 3)))
    live = g.add_node("Relu", [x])
    dead1 = g.add_node("Sigmoid", [x])
    g.add_node("Tanh", [dead1.output])
    g.set_outputs([live.output])
    assert RemoveDeadNodes().run(g)
    g.verify()
    assert [n.op for n in g.nodes] == ["Relu"]
    assert x.uses and all(u.node is live for u in x.uses)
    assert not RemoveDeadNodes().run(g)
