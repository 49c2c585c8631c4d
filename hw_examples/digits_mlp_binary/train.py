"""Brevitas QAT binary-weight MLP on sklearn digits (QONNX export only).

Weights: 1 bit, SignedBinaryWeightPerTensorConst with the constant scale changed from
Brevitas' default 0.1 to 0.125 (= 2^-3, so weights are exactly +-2^-3 and every scale is a
power of two; 1.0 did not train: pre-activations/logits too large). Exported as qonnx BipolarQuant.
Activations: QuantReLU(Uint8ActPerTensorFixedPoint) at ABITS bits, unsigned, power-of-two scale.
Input: QuantIdentity(Uint8ActPerTensorFixedPoint), 8-bit unsigned. Biases: Int16Bias.

QuantIdentity(8b) -> BinLinear(64->H) -> QuantReLU -> BinLinear(H->H) -> QuantReLU -> BinLinear(H->10)  (logits)

QCDQ cannot express bipolar {-1,+1} weights, so only model_qonnx.onnx is written (opset 13, batch 1).
Run:  python hw_examples/digits_mlp_binary/train.py
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import _common as C  # noqa: E402

EPOCHS, LR, BATCH = 60, 1e-2, 64
HIDDEN, ABITS = 64, 2


def build():
    import brevitas.nn as qnn
    import torch.nn as nn
    from brevitas.quant import Int16Bias, SignedBinaryWeightPerTensorConst

    class BinaryWeightPoT(SignedBinaryWeightPerTensorConst):
        scaling_const = 0.125  # 2^-3; Brevitas default is 0.1 (not a power of two)

    def lin(i, o):
        return qnn.QuantLinear(i, o, bias=True, weight_quant=BinaryWeightPoT,
                               bias_quant=Int16Bias, return_quant_tensor=False)

    return nn.Sequential(
        C.quant_input(),
        lin(64, HIDDEN), C.quant_relu(ABITS),
        lin(HIDDEN, HIDDEN), C.quant_relu(ABITS),
        lin(HIDDEN, 10),
    )


def main():
    C.brevitas_example(HERE, build, C.write_digits_data, epochs=EPOCHS, lr=LR, batch=BATCH, example_shape=(1, 64),
                       test_data="digits_data/test.npz", qcdq=False)


if __name__ == "__main__":
    main()
