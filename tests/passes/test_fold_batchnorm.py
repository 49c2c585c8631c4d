import numpy as np
import pytest

from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, TensorType
from hwc.compiler.passes.fold_batchnorm import FoldBatchNorm
from hwc.compiler.sim.run import simulate

RNG = np.random.default_rng(3)


def bn_params(g, c):
    return [g.constant(RNG.standard_normal(c).astype(np.float32), "s"), g.constant(RNG.standard_normal(c).astype(np.float32), "b"),
            g.constant(RNG.standard_normal(c).astype(np.float32), "m"), g.constant(RNG.uniform(0.2, 2, c).astype(np.float32), "v")]


@pytest.mark.parametrize("kind,bias", [("Conv", True), ("Conv", False), ("Dense", True)])
def test_batchnorm_folds_into_previous_layer(kind, bias):
    g = Graph()
    if kind == "Conv":
        x = g.add_input("x", TensorType(F32, (None, 2, 6, 6)))
        w = g.constant(RNG.standard_normal((4, 2, 3, 3)).astype(np.float32), "w")
        attrs = {"strides": [1, 1], "pads": [1, 1, 1, 1], "dilations": [1, 1]}
        data = RNG.standard_normal((3, 2, 6, 6)).astype(np.float32)
    else:
        x = g.add_input("x", TensorType(F32, (None, 5)))
        w = g.constant(RNG.standard_normal((5, 4)).astype(np.float32), "w")
        attrs = {}
        data = RNG.standard_normal((3, 5)).astype(np.float32)
    inputs = [x, w] + ([g.constant(RNG.standard_normal(4).astype(np.float32), "bias")] if bias else [])
    layer = g.add_node(kind, inputs, attrs)
    bn = g.add_node("BatchNormalization", [layer.output] + bn_params(g, 4), {"epsilon": 1e-3})
    out = g.add_node("Relu", [bn.output])
    g.set_outputs([out.output])
    before = simulate(g, [data])[0]
    assert FoldBatchNorm().run(g)
    g.verify()
    assert [n.op for n in g.nodes] == [kind, "Relu"] and layer.input(2) is not None
    np.testing.assert_allclose(simulate(g, [data])[0], before, rtol=1e-5, atol=1e-5)


def test_batchnorm_after_quantized_weights_is_kept():
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 5)))
    w = g.constant(RNG.standard_normal((5, 4)).astype(np.float32), "w")
    q = g.add_node("Quant", [w, g.constant(np.float32(0.25), "sc"), g.constant(np.float32(0), "zp")], {"bitwidth": 4})
    layer = g.add_node("Dense", [x, q.output])
    bn = g.add_node("BatchNormalization", [layer.output] + bn_params(g, 4))
    g.set_outputs([bn.output])
    assert not FoldBatchNorm().run(g)
