"""Jet-tagging-SHAPED float MLP (hls4ml's classic 16 -> 64 -> 32 -> 32 -> 5 architecture).

NOT trained on jets: there is no jet dataset offline, so it is trained on a deterministic
synthetic 16-feature / 5-class problem:
    sklearn.datasets.make_classification(n_samples=10000, n_features=16, n_informative=12,
        n_redundant=2, n_classes=5, n_clusters_per_class=2, random_state=0)
split 80/20 (train_test_split, test_size=0.2, random_state=0, stratify=y), features
standardised with the TRAINING split's per-feature mean/std (stored in scaler.json).
The ONNX model expects already-standardised features.

16 -> Linear(64) -> ReLU -> Linear(32) -> ReLU -> Linear(32) -> ReLU -> Linear(5)  (logits, no softmax)

Writes model.onnx (opset 13, dynamic batch), test.npz, calib.npz, scaler.json.
Run:  python hw_examples/jet_mlp/train.py
"""
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import _common as C  # noqa: E402

EPOCHS, LR, BATCH = 40, 3e-3, 128


def jet_like_split():
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split

    x, y = make_classification(n_samples=10000, n_features=16, n_informative=12, n_redundant=2,
                               n_classes=5, n_clusters_per_class=2, random_state=0)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
    mean = x_tr.mean(axis=0)
    std = x_tr.std(axis=0)
    x_tr = ((x_tr - mean) / std).astype(np.float32)
    x_te = ((x_te - mean) / std).astype(np.float32)
    return x_tr, x_te, y_tr.astype(np.int64), y_te.astype(np.int64), mean, std


def build():
    import torch.nn as nn

    return nn.Sequential(
        nn.Linear(16, 64), nn.ReLU(),
        nn.Linear(64, 32), nn.ReLU(),
        nn.Linear(32, 32), nn.ReLU(),
        nn.Linear(32, 5),
    )


def jet_data():
    """The split, with test.npz, calib.npz and scaler.json written next to this script."""
    x_tr, x_te, y_tr, y_te, mean, std = jet_like_split()
    C.save_npz(HERE / "test.npz", x_test=x_te, y_test=y_te)
    C.save_npz(HERE / "calib.npz", x=x_tr[:C.N_CALIB])
    (HERE / "scaler.json").write_text(json.dumps({
        "note": "x_standardised = (x_raw - mean) / std, statistics of the 8000-sample training split "
                "(float64, numpy population std ddof=0); test.npz/calib.npz are already standardised",
        "mean": [float(v) for v in mean], "std": [float(v) for v in std]}, indent=2) + "\n")
    return x_tr, x_te, y_tr, y_te


def main():
    C.float_example(HERE, build, jet_data, epochs=EPOCHS, lr=LR, batch=BATCH, example_shape=(1, 16),
                    test_data="jet_mlp/test.npz")


if __name__ == "__main__":
    main()
