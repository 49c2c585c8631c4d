import numpy as np
import pytest

from affine_steps import dense_graph, run_before

from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, AffineType, IntType, TensorType
from hwc.compiler.passes.quantize_affine_weights import QuantizeAffineWeights, weight_scales

f32 = np.float32


def test_weight_scales_8_bit_max_abs_and_zero_row():
    s = weight_scales(np.array([[1.0, -0.5], [0.0, 0.0], [0.25, 0.125]]), 127)
    assert s == [float(f32(1 / 127)), float(f32(0.25 / 127)), float(f32(0.25 / 127))]  # zero row: the smallest


def test_weight_scales_below_8_bits_pick_the_least_squared_error():
    """3 bits (qmax 3): the scale f max|w| / qmax with the least squared error over f = 0.2, 0.225, ..., 1."""
    w = np.array([[1.0, 0.3]])
    s = weight_scales(w, 3)[0]
    f = np.linspace(0.2, 1.0, 33)
    errs = [((np.clip(np.rint(w / (x / 3)), -3, 3) * (x / 3) - w) ** 2).sum() for x in f]
    assert s == float(f32(f[int(np.argmin(errs))] / 3))


@pytest.mark.parametrize("wbits", [4, 8])
def test_dense_weights_become_int8_codes_per_output_channel(wbits):
    w = np.array([[1.0, -0.5], [0.25, 2.0]], np.float32)
    g = dense_graph(w, np.float32([0.5, -0.5]))
    st, step = run_before(g, {"x": (-1.0, 1.0), "h": (-4.0, 4.0)}, QuantizeAffineWeights, wbits)
    assert step.run(g)
    g.verify()
    d = g.nodes[0]
    qmax = 2 ** (wbits - 1) - 1
    scales = weight_scales(w.T.astype(np.float64), qmax)
    assert d.inputs[1].type.elem == AffineType(IntType(8), tuple(scales), (0, 0), 1)
    np.testing.assert_array_equal(d.inputs[1].const, np.clip(np.rint(w / np.float64(scales)), -qmax, qmax))
    np.testing.assert_array_equal(d.inputs[2].const, [0.5, -0.5])  # still float: QuantizeAffineBiases follows
    assert not step.run(g)


def test_carried_weight_codes_and_a_folded_batchnorm():
    """Quant(w, 0.125) codes stay; BN a = [2, -0.5] scales them: sign into the codes, |a| into the scale."""
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 2)))
    w = np.array([[0.5, -0.25], [0.125, 1.0]], np.float32)
    q = g.add_node("Quant", [g.constant(w, "w"), g.constant(f32(0.125)), g.constant(f32(0))], {"bitwidth": 8})
    d = g.add_node("Dense", [x, q.output, g.constant(np.zeros(2, np.float32))], name="d")
    bn = g.add_node("BatchNormalization", [d.output] + [g.constant(np.asarray(v, np.float32)) for v in
                                                        ([2.0, -0.5], [1.0, 0.0], [0.0, 0.0], [1.0, 1.0])],
                    {"epsilon": 0.0})
    g.set_outputs([bn.output])
    st, step = run_before(g, {"x": (-1.0, 1.0), bn.output.name: (-4.0, 4.0)}, QuantizeAffineWeights)
    assert step.run(g)
    np.testing.assert_array_equal(d.inputs[1].const, [[4, 2], [1, -8]])
    assert d.inputs[1].type.elem.scale == (0.25, 0.0625)
    np.testing.assert_array_equal(d.inputs[2].const, [1.0, 0.0])
