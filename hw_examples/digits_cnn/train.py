"""Float CNN on sklearn digits, input [N,1,8,8] in [0,1]:
Conv(1->8,3x3,pad1) -> BN -> ReLU -> MaxPool2 -> Conv(8->16,3x3,pad1) -> BN -> ReLU -> MaxPool2
-> Flatten -> Linear(64->10)  (logits, no softmax).

BatchNormalization is kept UNFUSED in the ONNX file (export with TrainingMode.PRESERVE and
do_constant_folding=False from an eval-mode model) so the compiler's BN-folding pass is exercised.
Run:  python hw_examples/digits_cnn/train.py
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import _common as C  # noqa: E402

EPOCHS, LR, BATCH = 40, 1e-2, 64


def build():
    import torch.nn as nn

    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64, 10),
    )


def check_bn_kept(onnx_path):
    import onnx

    ops = [n.op_type for n in onnx.load(str(onnx_path)).graph.node]
    assert ops.count("BatchNormalization") == 2, ops
    print(f"digits_cnn: ops={ops}")


def main():
    import torch

    C.float_example(HERE, build, C.write_digits_images, epochs=EPOCHS, lr=LR, batch=BATCH,
                    example_shape=(1, 1, 8, 8), test_data="digits_data/test_img.npz", after_export=check_bn_kept,
                    training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)


if __name__ == "__main__":
    main()
