"""Models that carry power-of-two quantization compile to fixed point and simulate bit-identical to
their reference: the corpus jet-tagging QONNX model against qonnx's execution, and a Brevitas model
built here (Int8WeightPerTensorFixedPoint / Uint8ActPerTensorFixedPoint / Int16Bias) against Brevitas.
Exact equality of the float values they output."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import corpus_dir
from hwc.compiler.compile import compile_file
from hwc.compiler.quant_config import QuantConfig
from hwc.compiler.sim.run import simulate

CARRIED = dict(exact_outputs=True, float_output_functions=True)


def test_jet_qonnx_bit_identical_to_qonnx():
    """The model quantizes weights, biases and activations (6 bits, 2^-5 / 2^-6) but not its input and
    ends in a float Softmax. Inputs on an 8-bit grid are represented exactly by the 16-bit input type,
    so every quantized tensor and the logits are bit-identical to qonnx. The final float Softmax is
    computed from those identical logits; numpy and onnxruntime's exp differ by < 2.4e-7 there."""
    import qonnx  # noqa: F401 (the [test] extra installs it: missing = a broken install, not a skip)
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.transformation.infer_shapes import InferShapes

    path = corpus_dir("models") / "jet_tagging_mlp_qonnx" / "qkeras_jettagging.onnx"
    compiled = compile_file(path, QuantConfig(input_bits=16, input_range=(-8.0, 8.0), **CARRIED))
    rng = np.random.default_rng(11)
    x = (rng.integers(-4 * 256, 4 * 256, size=(200, 16)) / 256).astype(np.float32)
    out, kept = simulate(compiled.graph, [x], mode="fixed", keep=lambda n: True)
    mw = ModelWrapper(str(path)).transform(InferShapes())
    ctx = [execute_onnx(mw, {"global_in": x[i:i + 1]}, return_full_exec_context=True) for i in range(len(x))]
    checked = 0
    for ours, theirs in [("Relu_0_out0", "Quant_8_out0"), ("Relu_1_out0", "Quant_9_out0"), ("Relu_2_out0", "Quant_10_out0")]:
        t = next(v.type.elem for v in compiled.graph.values() if v.name == ours)
        mine = (kept[ours] * 2.0 ** -t.frac_bits).astype(np.float32)
        np.testing.assert_array_equal(mine, np.concatenate([c[theirs] for c in ctx]))
        checked += mine.size
    logits = next(n for n in compiled.graph.nodes if n.op == "Softmax").inputs[0].name
    np.testing.assert_array_equal(kept[logits], np.concatenate([c["Add_3_out0"] for c in ctx]))
    checked += kept[logits].size
    ref = np.concatenate([c["global_out"] for c in ctx])
    print(f"jet QONNX: {checked} quantized values and logits bit-identical to qonnx; "
          f"softmax max |d| = {np.abs(out[0] - ref).max():.2g}")
    assert np.abs(out[0] - ref).max() < 2.4e-7


@pytest.fixture(scope="module")
def brevitas_fixed_point(tmp_path_factory):
    import torch
    import brevitas.nn as qnn
    import onnxoptimizer  # noqa: F401 (the [test] extra installs it: missing = a broken install, not a skip)
    from brevitas.export import export_qonnx
    from brevitas.quant import Int8WeightPerTensorFixedPoint, Int16Bias, Uint8ActPerTensorFixedPoint

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = qnn.QuantIdentity(act_quant=Uint8ActPerTensorFixedPoint, return_quant_tensor=True)
            self.fc1 = qnn.QuantLinear(20, 16, bias=True, weight_quant=Int8WeightPerTensorFixedPoint, bias_quant=Int16Bias,
                                       return_quant_tensor=True)
            self.act = qnn.QuantReLU(act_quant=Uint8ActPerTensorFixedPoint, return_quant_tensor=True)
            self.fc2 = qnn.QuantLinear(16, 5, bias=True, weight_quant=Int8WeightPerTensorFixedPoint, bias_quant=Int16Bias)

        def forward(self, x):
            return self.fc2(self.act(self.fc1(self.inp(x))))

    torch.manual_seed(3)
    net = Net()
    net.train()
    with torch.no_grad():
        for _ in range(10):
            net(torch.rand(64, 20) * 3)
    net.eval()
    path = tmp_path_factory.mktemp("brevitas_fp") / "net.onnx"
    export_qonnx(net, torch.rand(1, 20), export_path=str(path), dynamo=False)
    x = torch.rand(1000, 20) * 3
    with torch.no_grad():
        ref = net(x).numpy()
    return path, x.numpy(), ref


def test_brevitas_fixed_point_bit_identical(brevitas_fixed_point):
    path, x, ref = brevitas_fixed_point
    compiled = compile_file(path, QuantConfig(**CARRIED), [x[:200]])
    ops = [n.op for n in compiled.graph.toposort()]
    assert ops == ["FromFloat", "Dense", "Relu", "Dense", "ToFloat"], ops
    got = simulate(compiled.graph, [x], mode="fixed")[0]
    np.testing.assert_array_equal(got.astype(np.float32), ref)
    print(f"Brevitas fixed-point model: {ref.size} outputs bit-identical")
