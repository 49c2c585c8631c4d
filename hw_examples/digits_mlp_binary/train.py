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
    from brevitas.quant import Int16Bias, SignedBinaryWeightPerTensorConst, Uint8ActPerTensorFixedPoint

    class BinaryWeightPoT(SignedBinaryWeightPerTensorConst):
        scaling_const = 0.125  # 2^-3; Brevitas default is 0.1 (not a power of two)

    def lin(i, o):
        return qnn.QuantLinear(i, o, bias=True, weight_quant=BinaryWeightPoT,
                               bias_quant=Int16Bias, return_quant_tensor=False)

    def relu():
        return qnn.QuantReLU(act_quant=Uint8ActPerTensorFixedPoint, bit_width=ABITS, return_quant_tensor=True)

    return nn.Sequential(
        qnn.QuantIdentity(act_quant=Uint8ActPerTensorFixedPoint, return_quant_tensor=True),
        lin(64, HIDDEN), relu(),
        lin(HIDDEN, HIDDEN), relu(),
        lin(HIDDEN, 10),
    )


def main():
    C.set_determinism()
    x_tr, x_te, y_tr, y_te = C.write_digits_data()
    model = build()
    with C.Timer() as t:
        C.train(model, x_tr, y_tr, epochs=EPOCHS, lr=LR, batch_size=BATCH)
    acc_brevitas = C.torch_accuracy(model, x_te, y_te)
    qonnx_path = HERE / "model_qonnx.onnx"
    C.export_brevitas(model, (1, 64), qonnx_path, None)
    exps = C.check_pow2_scales(qonnx_path)
    acc_qonnx = C.qonnx_accuracy(qonnx_path, x_te, y_te)
    n_params = sum(p.numel() for n, p in model.named_parameters() if n.endswith(("weight", "bias")))
    print(f"digits_mlp_binary: power-of-two scale exponents {exps}")
    print(f"digits_mlp_binary: params={n_params} train_time={t.seconds:.1f}s test_acc "
          f"brevitas={acc_brevitas:.4f} qonnx={acc_qonnx:.4f}")
    C.update_accuracy_json({
        "digits_mlp_binary/model_qonnx.onnx": {
            "test_data": "digits_data/test.npz", "accuracy": acc_qonnx, "measured_with": "qonnx"},
    })


if __name__ == "__main__":
    main()
