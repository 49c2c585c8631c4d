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


def main():
    import onnx
    import torch

    C.set_determinism()
    x_tr, x_te, y_tr, y_te = C.write_digits_data()
    x_tr = x_tr.reshape(-1, 1, 8, 8)
    x_te = x_te.reshape(-1, 1, 8, 8)
    model = build()
    with C.Timer() as t:
        C.train(model, x_tr, y_tr, epochs=EPOCHS, lr=LR, batch_size=BATCH)
    onnx_path = HERE / "model.onnx"
    C.export_float(model, (1, 1, 8, 8), onnx_path,
                   training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    ops = [n.op_type for n in onnx.load(str(onnx_path)).graph.node]
    assert ops.count("BatchNormalization") == 2, ops
    acc_torch = C.torch_accuracy(model, x_te, y_te)
    acc_ort = C.ort_accuracy(onnx_path, x_te, y_te)
    n_params = sum(p.numel() for p in model.parameters())
    n_buffers = sum(b.numel() for n, b in model.named_buffers() if "running" in n)
    print(f"digits_cnn: ops={ops}")
    print(f"digits_cnn: params={n_params} (+{n_buffers} BN running stats) train_time={t.seconds:.1f}s "
          f"test_acc torch={acc_torch:.4f} onnxruntime={acc_ort:.4f}")
    C.update_accuracy_json({"digits_cnn/model.onnx": {
        "test_data": "digits_data/test_img.npz", "accuracy": acc_ort, "measured_with": "onnxruntime"}})


if __name__ == "__main__":
    main()
