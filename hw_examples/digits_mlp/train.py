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
    C.float_example(HERE, build, C.write_digits_data, epochs=EPOCHS, lr=LR, batch=BATCH, example_shape=(1, 64),
                    test_data="digits_data/test.npz")


if __name__ == "__main__":
    main()
