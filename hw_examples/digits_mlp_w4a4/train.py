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
    from brevitas.quant import Int8WeightPerTensorFixedPoint, Int16Bias, Uint8ActPerTensorFixedPoint

    def lin(i, o):
        return qnn.QuantLinear(i, o, bias=True, weight_quant=Int8WeightPerTensorFixedPoint,
                               weight_bit_width=WBITS, bias_quant=Int16Bias, return_quant_tensor=False)

    def relu():
        return qnn.QuantReLU(act_quant=Uint8ActPerTensorFixedPoint, bit_width=ABITS, return_quant_tensor=True)

    return nn.Sequential(
        qnn.QuantIdentity(act_quant=Uint8ActPerTensorFixedPoint, return_quant_tensor=True),
        lin(64, 32), relu(),
        lin(32, 32), relu(),
        lin(32, 10),
    )


def main():
    C.set_determinism()
    x_tr, x_te, y_tr, y_te = C.write_digits_data()
    model = build()
    with C.Timer() as t:
        C.train(model, x_tr, y_tr, epochs=EPOCHS, lr=LR, batch_size=BATCH)
    acc_brevitas = C.torch_accuracy(model, x_te, y_te)
    qonnx_path, qcdq_path = HERE / "model_qonnx.onnx", HERE / "model_qcdq.onnx"
    C.export_brevitas(model, (1, 64), qonnx_path, qcdq_path)
    exps = {p.name: C.check_pow2_scales(p) for p in (qonnx_path, qcdq_path)}
    acc_qonnx = C.qonnx_accuracy(qonnx_path, x_te, y_te)
    acc_qcdq = C.ort_accuracy(qcdq_path, x_te, y_te)
    n_params = sum(p.numel() for n, p in model.named_parameters() if n.endswith(("weight", "bias")))
    print(f"digits_mlp_w4a4: power-of-two scale exponents {exps}")
    print(f"digits_mlp_w4a4: params={n_params} train_time={t.seconds:.1f}s test_acc "
          f"brevitas={acc_brevitas:.4f} qonnx={acc_qonnx:.4f} qcdq/onnxruntime={acc_qcdq:.4f}")
    C.update_accuracy_json({
        "digits_mlp_w4a4/model_qonnx.onnx": {
            "test_data": "digits_data/test.npz", "accuracy": acc_qonnx, "measured_with": "qonnx"},
        "digits_mlp_w4a4/model_qcdq.onnx": {
            "test_data": "digits_data/test.npz", "accuracy": acc_qcdq, "measured_with": "onnxruntime"},
    })


if __name__ == "__main__":
    main()
