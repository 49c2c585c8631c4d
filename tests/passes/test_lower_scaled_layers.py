"""LowerScaledLayers: non-power-of-two scales become integer layers with a per-channel Rescale."""

import numpy as np
import pytest

from conftest import corpus_dir
from hwc.compiler.compile import compile_file
from hwc.compiler.frontend.onnx_loader import load_onnx
from hwc.compiler.quant_config import QuantConfig
from hwc.compiler.sim.run import simulate

CARRIED = QuantConfig(exact_outputs=True, float_output_functions=True)


def test_espcn_qonnx_becomes_integer_convs_with_rescales():
    """Per-channel non-power-of-two weight scales, float BatchNorms and non-power-of-two activation
    scales: every Conv sums integers and one Rescale per layer carries scales, bias and BatchNorm.
    Against the model's own float arithmetic (qonnx semantics) outputs differ only where the
    rounding of the 24-bit multipliers moves a value across a quantization tie."""
    path = corpus_dir("models") / "espcn_bsd300_nn_resize" / "quant_model.onnx"
    c = compile_file(path, CARRIED)
    ops = [n.op for n in c.graph.toposort()]
    assert ops == ["FromFloat"] + ["Conv", "Rescale"] * 3 + ["Resize", "Conv", "Rescale", "ToFloat"]
    for n in c.graph.nodes:
        if n.op == "Conv":
            assert n.inputs[1].type.elem.frac_bits == 0 and n.input(2) is None
            assert n.inputs[0].type.elem.frac_bits == 0
    x = np.random.default_rng(0).uniform(0, 1, size=(2, 3, 128, 128)).astype(np.float32)
    got = simulate(c.graph, [x], mode="fixed")[0]
    ref = simulate(load_onnx(path), [x])[0]
    lsb = 1 / 255
    diff = np.abs(got - ref)
    print(f"ESPCN QONNX fixed vs float: {int((diff > 1e-6).sum())} of {diff.size} differ, max {diff.max() / lsb:.2f} LSB")
    assert (diff > 1e-6).mean() < 1e-3 and diff.max() <= 2.01 * lsb
