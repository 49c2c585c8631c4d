import numpy as np

from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, TensorType
from hwc.compiler.passes.fuse_matmul_add import FuseMatMulAdd
from hwc.compiler.sim.run import simulate

RNG = np.random.default_rng(5)


def test_matmul_add_becomes_dense():
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 6)))
    mm = g.add_node("MatMul", [x, g.constant(RNG.standard_normal((6, 3)).astype(np.float32), "w")])
    add = g.add_node("Add", [g.constant(RNG.standard_normal((1, 3)).astype(np.float32), "b"), mm.output])
    g.set_outputs([add.output])
    data = RNG.standard_normal((4, 6)).astype(np.float32)
    before = simulate(g, [data])[0]
    assert FuseMatMulAdd().run(g)
    g.verify()
    (dense,) = g.nodes
    assert dense.op == "Dense" and dense.input(2).type.shape == (3,)
    np.testing.assert_allclose(simulate(g, [data])[0], before, rtol=1e-6, atol=1e-6)


def test_quantized_weight_is_static_and_runtime_weight_is_not():
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 6)))
    y = g.add_input("y", TensorType(F32, (6, 3)))
    q = g.add_node("Quant", [g.constant(RNG.standard_normal((6, 3)).astype(np.float32), "w"), g.constant(np.float32(0.5), "s"),
                             g.constant(np.float32(0), "z")], {"bitwidth": 3})
    a = g.add_node("MatMul", [x, q.output])
    b = g.add_node("MatMul", [x, y])
    g.set_outputs([a.output, b.output])
    assert FuseMatMulAdd().run(g)
    g.verify()
    assert sorted(n.op for n in g.nodes) == ["Dense", "MatMul", "Quant"]
