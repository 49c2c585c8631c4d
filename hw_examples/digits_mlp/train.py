"""Float MLP on sklearn digits: 64 -> 32 -> ReLU -> 32 -> ReLU -> 10 (logits, no softmax).

Writes model.onnx (opset 13, dynamic batch) and the shared digits split in ../digits_data/,
prints the test accuracy (torch and onnxruntime) and updates ../accuracy.json.
Run:  python hw_examples/digits_mlp/train.py
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import _common as C  # noqa: E402

EPOCHS, LR, BATCH = 60, 1e-2, 64


def build():
    import torch.nn as nn

    return nn.Sequential(
        nn.Linear(64, 32), nn.ReLU(),
        nn.Linear(32, 32), nn.ReLU(),
        nn.Linear(32, 10),
    )


def main():
    C.set_determinism()
    x_tr, x_te, y_tr, y_te = C.write_digits_data()
    model = build()
    with C.Timer() as t:
        C.train(model, x_tr, y_tr, epochs=EPOCHS, lr=LR, batch_size=BATCH)
    onnx_path = HERE / "model.onnx"
    C.export_float(model, (1, 64), onnx_path)
    acc_torch = C.torch_accuracy(model, x_te, y_te)
    acc_ort = C.ort_accuracy(onnx_path, x_te, y_te)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"digits_mlp: params={n_params} train_time={t.seconds:.1f}s "
          f"test_acc torch={acc_torch:.4f} onnxruntime={acc_ort:.4f}")
    C.update_accuracy_json({"digits_mlp/model.onnx": {
        "test_data": "digits_data/test.npz", "accuracy": acc_ort, "measured_with": "onnxruntime"}})


if __name__ == "__main__":
    main()
