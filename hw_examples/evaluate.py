"""Re-measure every shipped ONNX file against accuracy.json (no training, no writes).

For each entry {model: {"test_data", "accuracy", "measured_with"}} this loads the model,
runs onnx.checker, checks that every Quant/BipolarQuant/QuantizeLinear/DequantizeLinear scale
is an exact power of two, measures the accuracy with onnxruntime or qonnx.execute_onnx on the
shipped test split, and compares with the stored number. Also checks every file is < 1 MiB.
Exit code 0 iff everything matches.

Run:  python hw_examples/evaluate.py
"""
import json
import sys
from pathlib import Path

import numpy as np
import onnx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _common as C  # noqa: E402


def main():
    table = json.loads((HERE / "accuracy.json").read_text())
    ok = True
    for rel, e in table.items():
        path = HERE / rel
        onnx.checker.check_model(onnx.load(str(path)))
        d = np.load(HERE / e["test_data"])
        x, y = d["x_test"], d["y_test"]
        quantised = bool(C.quant_scales(path))
        if quantised:
            C.check_pow2_scales(path)
        if e["measured_with"] == "qonnx":
            acc = C.qonnx_accuracy(path, x, y)
        else:
            acc = C.ort_accuracy(path, x, y)
        match = abs(acc - e["accuracy"]) < 1e-12
        ok &= match
        print(f"{'OK ' if match else 'BAD'} {rel:36s} {e['measured_with']:11s} {acc:.4f} "
              f"(stored {e['accuracy']:.4f}){'  pow2 scales' if quantised else ''}")
    for f in sorted(HERE.rglob("*")):
        if f.is_file() and "__pycache__" not in f.parts and f.stat().st_size >= 1 << 20:
            ok = False
            print(f"BAD {f.relative_to(HERE)} is {f.stat().st_size} bytes (>= 1 MiB)")
    print("all match" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
