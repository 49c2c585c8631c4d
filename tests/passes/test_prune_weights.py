import numpy as np

from conftest import HW_EXAMPLES
from hwc.compiler.compile import to_fixed
from hwc.compiler.frontend.onnx_loader import load_onnx
from hwc.compiler.passes.prune_weights import PruneWeights, weight_constant
from hwc.compiler.pipeline import optimize
from hwc.compiler.quant_config import QuantConfig


def mlp():
    g = load_onnx(HW_EXAMPLES / "digits_mlp" / "model.onnx")
    optimize(g)
    return g


def test_per_layer_fraction_is_exact_and_keeps_the_largest():
    g = mlp()
    before = {n.name: weight_constant(n).const.copy() for n in g.nodes if n.op == "Dense"}
    assert PruneWeights(0.8).run(g)
    g.verify()
    for n in g.nodes:
        if n.op == "Dense":
            w, w0 = weight_constant(n).const, before[n.name]
            assert (w == 0).sum() == round(0.8 * w.size)
            assert np.abs(w0[w == 0]).max() <= np.abs(w0[w != 0]).min()
            np.testing.assert_array_equal(w[w != 0], w0[w != 0])


def test_global_threshold_and_zeros_survive_quantization():
    g = mlp()
    assert PruneWeights(0.5, scope="global").run(g)
    total = sum(weight_constant(n).const.size for n in g.nodes if n.op == "Dense")
    zeros = sum(int((weight_constant(n).const == 0).sum()) for n in g.nodes if n.op == "Dense")
    assert zeros == round(0.5 * total)
    fixed = to_fixed(g, QuantConfig(wbits=4), [np.load(HW_EXAMPLES / "digits_data" / "calib.npz")["x"]]).graph
    q_zeros = sum(int((n.inputs[1].const == 0).sum()) for n in fixed.nodes if n.op == "Dense")
    assert q_zeros >= zeros  # every pruned weight is a zero mantissa (rounding may add more)
