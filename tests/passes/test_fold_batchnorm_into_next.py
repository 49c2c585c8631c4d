import numpy as np
import pytest

from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, TensorType
from hwc.compiler.passes.fold_batchnorm_into_next import FoldBatchNormIntoNext
from hwc.compiler.sim.run import simulate

RNG = np.random.default_rng(14)


def normalise(g, x, c, shift=True):
    """(x - mean) / std as an exporter writes input normalisation, as one BatchNormalization."""
    f = lambda v: g.constant(np.asarray(v, np.float32), "p")  # noqa: E731
    return g.add_node("BatchNormalization", [x, f(RNG.uniform(0.5, 2, c)), f(RNG.uniform(-1, 1, c) if shift else np.zeros(c)),
                                             f(np.zeros(c)), f(np.ones(c))], {"epsilon": 0.0}).output


@pytest.mark.parametrize("kind,group,pads,shift,folds", [
    ("Dense", 1, 0, True, True), ("Conv", 1, 0, True, True), ("Conv", 2, 0, True, True), ("Conv", 4, 0, True, True),
    ("Conv", 1, 1, False, True), ("Conv", 1, 1, True, False)])
def test_input_normalisation_folds_into_the_next_layer(kind, group, pads, shift, folds):
    g = Graph()
    if kind == "Dense":
        x = g.add_input("x", TensorType(F32, (None, 4)))
        w = g.constant(RNG.standard_normal((4, 3)).astype(np.float32), "w")
        attrs, data = {}, RNG.standard_normal((30, 4)).astype(np.float32)
    else:
        x = g.add_input("x", TensorType(F32, (None, 4, 6, 6)))
        w = g.constant(RNG.standard_normal((8, 4 // group, 3, 3)).astype(np.float32), "w")
        attrs = {"strides": [1, 1], "pads": [pads] * 4, "dilations": [1, 1], "group": group}
        data = RNG.standard_normal((30, 4, 6, 6)).astype(np.float32)
    y = normalise(g, x, 4, shift)
    layer = g.add_node(kind, [y, w, g.constant(RNG.standard_normal(w.type.shape[0 if kind == "Conv" else 1]).astype(np.float32), "b")],
                       attrs)
    g.set_outputs([layer.output])
    before = simulate(g, [data])[0]
    assert FoldBatchNormIntoNext().run(g) == folds
    g.verify()
    assert [n.op for n in g.nodes] == ([kind] if folds else ["BatchNormalization", kind])
    assert layer.inputs[0] is (x if folds else y)
    np.testing.assert_allclose(simulate(g, [data])[0], before, rtol=1e-4, atol=1e-4)


def test_quantized_weights_are_left():
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 4)))
    w = g.constant(RNG.standard_normal((4, 3)).astype(np.float32), "w")
    q = g.add_node("Quant", [w, g.constant(np.float32(0.25), "sc"), g.constant(np.float32(0), "zp")], {"bitwidth": 4})
    g.set_outputs([g.add_node("Dense", [normalise(g, x, 4), q.output]).output])
    assert not FoldBatchNormIntoNext().run(g)


@pytest.mark.parametrize("a,folds", [(0.5, True), (0.3, False)])
def test_uniform_power_of_two_scale_folds_into_quantized_weights(a, folds):
    """(x + 1)·a before a Dense whose weights the model quantizes: a moves into the Quant's input and
    scale (exact for a power of two), the shift into the bias."""
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 4)))
    f = lambda v: g.constant(np.asarray(v, np.float32), "p")  # noqa: E731
    y = g.add_node("BatchNormalization", [x, f([a] * 4), f([a] * 4), f(np.zeros(4)), f(np.ones(4))], {"epsilon": 0.0}).output
    q = g.add_node("Quant", [f(RNG.standard_normal((3, 4))), f(0.25), f(0.0)], {"bitwidth": 3, "signed": True, "narrow": True})
    t = g.add_node("Transpose", [q.output], {"perm": [1, 0]})
    layer = g.add_node("Dense", [y, t.output, f(RNG.standard_normal(3))])
    g.set_outputs([layer.output])
    data = RNG.choice(np.float32([-1, 1]), (40, 4))
    before = simulate(g, [data])[0]
    assert FoldBatchNormIntoNext().run(g) == folds
    g.verify()
    if folds:
        assert layer.inputs[0] is x and q.inputs[1].const == np.float32(0.25 * a)
    np.testing.assert_allclose(simulate(g, [data])[0], before, rtol=1e-6, atol=1e-6)
