"""Pruning plus 4-bit quantization of the digits CNN: weight storage falls at least 30x against
float32 (nonzero weights x 4 bits vs all weights x 32 bits) with at most 2 points of accuracy lost,
using the recipe shipped in hw_examples/digits_cnn/prune_w4.yaml and distillation fine-tuning."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import HW_EXAMPLES, hwc

import torch  # noqa: F401 (the [test] extra installs it: missing = a broken install, not a skip)


@pytest.mark.slow
def test_prune_plus_4bit_storage_and_accuracy(tmp_path):
    out = tmp_path / "pruned"
    train = f"{HW_EXAMPLES / 'digits_data' / 'train_img.npz'}:x"
    test = HW_EXAMPLES / "digits_data" / "test_img.npz"
    res = hwc("compile", HW_EXAMPLES / "digits_cnn" / "model.onnx", "--wbits", "4", "--abits", "8", "--calib", train,
              "--config", HW_EXAMPLES / "digits_cnn" / "prune_w4.yaml", "--finetune", "80", "-o", out)
    assert res.returncode == 0, res.stderr
    res = hwc("simulate", out, "--input", f"{test}:x_test", "--labels", f"{test}:y_test")
    correct = int(res.stdout.split("top-1 accuracy: ")[1].split("/")[0])
    from hwc.compiler.ir.serialize import load_graph
    g = load_graph(out)
    layers = [n for n in g.nodes if n.op in ("Dense", "Conv")]
    float_bits = 32 * sum(n.inputs[1].const.size for n in layers)
    w4_bits = sum(int(np.count_nonzero(n.inputs[1].const)) * n.inputs[1].type.elem.width for n in layers)
    assert all(n.inputs[1].type.elem.width == 4 for n in layers)
    float_correct = 357  # hw_examples/accuracy.json: digits_cnn/model.onnx 0.9917 on 360
    print(f"digits CNN pruned + w4a8: weight storage {float_bits:,} -> {w4_bits:,} bits ({float_bits / w4_bits:.1f}x), "
          f"accuracy {correct}/360 = {100 * correct / 360:.2f} % (float {100 * float_correct / 360:.2f} %)")
    assert float_bits / w4_bits >= 30
    assert float_correct - correct <= 7  # 2 points of 360 samples = 7.2 samples
