"""A Brevitas model (QuantIdentity -> QuantLinear 4-bit weights -> QuantReLU), exported as QONNX and as
QCDQ, imports in both forms and simulates equal to Brevitas's own output.

Brevitas's default quantizers have float (not power-of-two) scales and compute the layer in float32
with torch's summation order; hwc accumulates in float64. The two can round a value that lies within
float32 error of a tie differently, so the stated bound is: every output within one quantization
step of the final QuantReLU, and at most 0.5 % of the outputs not exactly equal."""

from __future__ import annotations

import numpy as np
import pytest

import torch
import brevitas.nn as brevitas_nn
import onnxoptimizer  # noqa: F401 (the [test] extra installs it: missing = a broken install, not a skip)

from hwc.compiler.frontend.onnx_loader import load_onnx  # noqa: E402
from hwc.compiler.pipeline import cleanup  # noqa: E402
from hwc.compiler.sim.run import simulate  # noqa: E402


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = brevitas_nn.QuantIdentity(return_quant_tensor=True)
        self.fc = brevitas_nn.QuantLinear(12, 8, bias=True, weight_bit_width=4, return_quant_tensor=True)
        self.act = brevitas_nn.QuantReLU(return_quant_tensor=False)

    def forward(self, x):
        return self.act(self.fc(self.inp(x)))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from brevitas.export import export_onnx_qcdq, export_qonnx

    torch.manual_seed(0)
    net = Net()
    net.train()
    with torch.no_grad():  # let the activation quantizers see data before freezing them
        for _ in range(20):
            net(torch.randn(64, 12))
    net.eval()
    d = tmp_path_factory.mktemp("brevitas")
    example = torch.randn(1, 12)
    export_qonnx(net, example, export_path=str(d / "qonnx.onnx"), dynamo=False)
    export_onnx_qcdq(net, example, export_path=str(d / "qcdq.onnx"), dynamo=False)
    x = torch.randn(500, 12)
    with torch.no_grad():
        ref = net(x).numpy()
    step = float(net.act.act_quant.scale().detach())
    return d, x.numpy(), ref, step


@pytest.mark.parametrize("form", ["qonnx", "qcdq"])
def test_brevitas_export_simulates_equal(exported, form):
    d, x, ref, step = exported
    graph = load_onnx(d / f"{form}.onnx")
    cleanup(graph)
    ops = {n.op for n in graph.nodes}
    assert ("Quant" in ops) if form == "qonnx" else ({"QuantizeLinear", "DequantizeLinear"} <= ops)
    got = simulate(graph, [x])[0]
    assert got.shape == ref.shape
    diff = np.abs(got - ref)
    share = float((diff > 0).mean())
    print(f"Brevitas {form}: {diff.size} outputs, {int((diff > 0).sum())} not bit-equal ({share:.2%}), "
          f"max |d| = {diff.max():.3g} = {diff.max() / step:.3f} steps of {step:.4g}")
    assert diff.max() <= step * 1.0001
    assert share <= 0.005
