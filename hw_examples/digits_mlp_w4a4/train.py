"""Brevitas QAT MLP on sklearn digits, 4-bit weights / 4-bit activations, power-of-two scales:

QuantIdentity(Uint8ActPerTensorFixedPoint, 8-bit unsigned)            # input in [0,1]
QuantLinear(64->32, Int8WeightPerTensorFixedPoint @ 4 bit, Int16Bias) -> QuantReLU(Uint8ActPerTensorFixedPoint @ 4 bit)
QuantLinear(32->32, ...same...)                                        -> QuantReLU(... @ 4 bit)
QuantLinear(32->10, ...same...)                                        # logits, no softmax

Writes model_qonnx.onnx (brevitas.export.export_qonnx) and model_qcdq.onnx
(brevitas.export.export_onnx_qcdq), both opset 13 with batch fixed at 1.
Run:  python hw_examples/digits_mlp_w4a4/train.py
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import _common as C  # noqa: E402

EPOCHS, LR, BATCH = 80, 1e-2, 64
WBITS, ABITS = 4, 4


def build():
    import brevitas.nn as qnn
    import torch.nn as nn

    def lin(i, o):
        return qnn.QuantLinear(i, o, bias=True, **C.pow2_weights(WBITS))

    return nn.Sequential(
        C.quant_input(),
        lin(64, 32), C.quant_relu(ABITS),
        lin(32, 32), C.quant_relu(ABITS),
        lin(32, 10),
    )


def main():
    C.brevitas_example(HERE, build, C.write_digits_data, epochs=EPOCHS, lr=LR, batch=BATCH, example_shape=(1, 64),
                       test_data="digits_data/test.npz")


if __name__ == "__main__":
    main()
