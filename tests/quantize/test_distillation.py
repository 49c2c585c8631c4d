"""Quantization-aware distillation (compiler/finetune.py): exact fake quantization of values and
weights, and binary weights on the digits CNN within 8 points of float without pruning or labels."""

from __future__ import annotations

import numpy as np
import torch
from numpy.testing import assert_array_equal

from conftest import HW_EXAMPLES
from hwc.compiler.compile import PruneOptions, to_fixed
from hwc.compiler.finetune import _act_fake_quant, _grid_fake_quant
from hwc.compiler.frontend.onnx_loader import load_onnx
from hwc.compiler.ir.graph import Node
from hwc.compiler.ir.types import FixedType, Overflow, Rounding
from hwc.compiler.quant_config import QuantConfig
from hwc.compiler.quantize.grid import Grid
from hwc.compiler.sim.run import simulate


def test_activation_fake_quant_is_the_types_cast_with_identity_gradient():
    t = FixedType(5, 2, True, Rounding.RND, Overflow.SAT)  # step 1/8, range [-2, 1.875]
    y = torch.tensor([0.0625, -0.0625, 0.1875, 1.9, -2.5, 0.3], requires_grad=True)
    q = _act_fake_quant(torch, {"v": t})("v", y)
    assert_array_equal(q.detach().numpy(), np.float32([0.125, 0.0, 0.25, 1.875, -2.0, 0.25]))  # ties up, saturate
    q.sum().backward()
    assert_array_equal(y.grad.numpy(), np.ones(6, np.float32))


def test_weight_fake_quant_uses_the_frozen_grid():
    node = Node("Dense", "d", [], [], {})
    grid = Grid(2, True, np.array([1, 2]))  # ternary, steps 1/2 and 1/4
    w = torch.tensor([[0.3, 0.1], [-0.2, -0.13], [0.24, 0.5]])
    q = _grid_fake_quant(torch, {"d": grid})(node, w)
    assert_array_equal(q.detach().numpy(), np.float32([[0.5, 0.0], [0.0, -0.25], [0.0, 0.25]]))


def test_binary_digits_cnn_within_8_points_with_distillation():
    data = HW_EXAMPLES / "digits_data"
    train = np.load(data / "train_img.npz")["x"].astype(np.float32)
    test = np.load(data / "test_img.npz")
    c = to_fixed(load_onnx(HW_EXAMPLES / "digits_cnn" / "model.onnx"), QuantConfig(wbits=1, abits=8, ptq="gptq"),
                 [train], pruning=PruneOptions(finetune=6))
    c.graph.verify()
    for n in c.graph.nodes:
        if n.op in ("Dense", "Conv"):
            assert set(np.unique(n.inputs[1].const)) <= {-1, 1}
    correct = int((simulate(c.graph, [test["x_test"]], mode="fixed")[0].argmax(1) == test["y_test"]).sum())
    print(f"digits CNN w1a8, gptq + 6 epochs of distillation: {correct}/360")
    assert 357 - correct <= 28  # float 357/360; 8 points of 360 = 28.8 samples
