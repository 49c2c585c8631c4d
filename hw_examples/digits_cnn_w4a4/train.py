"""Brevitas QAT CNN on sklearn digits, 4-bit weights / 4-bit activations, power-of-two scales.
BatchNorm is DROPPED in this quantised variant (conv bias only), input [1,1,8,8] in [0,1]:

QuantIdentity(Uint8ActPerTensorFixedPoint, 8-bit unsigned)
QuantConv2d(1->8, 3x3, pad 1, Int8WeightPerTensorFixedPoint @ 4 bit, Int16Bias) -> QuantReLU(4 bit) -> MaxPool2d(2)
QuantConv2d(8->16, 3x3, pad 1, ...)                                              -> QuantReLU(4 bit) -> MaxPool2d(2)
Flatten -> QuantLinear(64->10, 4 bit, Int16Bias)                                 # logits, no softmax

Writes model_qonnx.onnx and model_qcdq.onnx (opset 13, batch fixed at 1).
Run:  python hw_examples/digits_cnn_w4a4/train.py
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import _common as C  # noqa: E402

EPOCHS, LR, BATCH = 40, 1e-2, 64
WBITS, ABITS = 4, 4


def build():
    import brevitas.nn as qnn
    import torch.nn as nn

    wq = C.pow2_weights(WBITS)
    return nn.Sequential(
        C.quant_input(),
        qnn.QuantConv2d(1, 8, 3, padding=1, bias=True, **wq), C.quant_relu(ABITS), nn.MaxPool2d(2),
        qnn.QuantConv2d(8, 16, 3, padding=1, bias=True, **wq), C.quant_relu(ABITS), nn.MaxPool2d(2),
        nn.Flatten(),
        qnn.QuantLinear(64, 10, bias=True, **wq),
    )


def main():
    C.brevitas_example(HERE, build, C.write_digits_images, epochs=EPOCHS, lr=LR, batch=BATCH,
                       example_shape=(1, 1, 8, 8), test_data="digits_data/test_img.npz")


if __name__ == "__main__":
    main()
