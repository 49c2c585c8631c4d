"""Test accuracy of the float example models against their fixed-point versions.

Usage: python bench/accuracy.py [--out FILE.md]. Prints two Markdown tables: the default
`hwc compile` quantization for wbits x abits, and the low-bit table of each weight quantization
method (rtn, gptq, adaround, gptq + distillation) with the time each took, plus the anchor: a
Brevitas-trained W4A4 model next to hwc's PTQ + distillation of the float model.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from _cli import main

import numpy as np

from hwc.compiler.compile import PruneOptions, compile_file, to_fixed
from hwc.compiler.frontend.onnx_loader import load_onnx
from hwc.compiler.pipeline import cleanup
from hwc.compiler.quant_config import QuantConfig
from hwc.compiler.sim.run import simulate

EX = Path(__file__).resolve().parents[1] / "hw_examples"
DIGITS = EX / "digits_data"
MODELS = [("digits MLP", "digits_mlp/model.onnx", "test.npz", "calib.npz"),
          ("digits CNN", "digits_cnn/model.onnx", "test_img.npz", "calib_img.npz")]
WBITS, ABITS = (1, 2, 4, 8), (4, 8, 16)

# (label, model, test npz, calib npz, distillation inputs npz); all paths under hw_examples
LOWBIT_MODELS = [("digits CNN", "digits_cnn/model.onnx", "digits_data/test_img.npz", "digits_data/calib_img.npz",
                  "digits_data/train_img.npz"),
                 ("digits MLP", "digits_mlp/model.onnx", "digits_data/test.npz", "digits_data/calib.npz",
                  "digits_data/train.npz"),
                 ("jet MLP", "jet_mlp/model.onnx", "jet_mlp/test.npz", "jet_mlp/calib.npz", "jet_mlp/calib.npz")]
LOWBIT = ((1, 8), (2, 4), (2, 8), (3, 8), (4, 4), (4, 8), (8, 8))
METHODS = ("rtn", "gptq", "adaround", "gptq + distillation")
DISTILL_EPOCHS = 15


def _accuracy(graph, test, mode="fixed") -> float:
    return 100 * float((simulate(graph, [test["x_test"]], mode=mode)[0].argmax(1) == test["y_test"]).mean())


def table() -> str:
    lines = ["| model | float | " + " | ".join(f"w{w}a{a}" for w in WBITS for a in ABITS) + " |",
             "|---|---|" + "---|" * (len(WBITS) * len(ABITS))]
    for label, model, data, calib in MODELS:
        d = np.load(DIGITS / data)
        cal = np.load(DIGITS / calib)["x"]
        g = load_onnx(EX / model)
        cleanup(g)
        cells = [f"{_accuracy(g, d, 'float'):.2f}"]
        for w in WBITS:
            for a in ABITS:
                c = compile_file(EX / model, QuantConfig(wbits=w, abits=a), [cal])
                cells.append(f"{_accuracy(c.graph, d):.2f}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def lowbit_cell(model: str, test, calib, train, wbits: int, abits: int, method: str) -> tuple[float, float]:
    """(test accuracy %, seconds) of one method at one precision."""
    t = time.perf_counter()
    if method.endswith("distillation"):
        c = to_fixed(load_onnx(EX / model), QuantConfig(wbits=wbits, abits=abits, ptq="gptq"), [train],
                     pruning=PruneOptions(finetune=DISTILL_EPOCHS))
    else:
        c = to_fixed(load_onnx(EX / model), QuantConfig(wbits=wbits, abits=abits, ptq=method), [calib])
    return _accuracy(c.graph, test), time.perf_counter() - t


def lowbit_table() -> str:
    lines = ["| model | method | " + " | ".join(f"w{w}a{a}" for w, a in LOWBIT) + " | time (s, all columns) |",
             "|---|---|" + "---|" * (len(LOWBIT) + 1)]
    for label, model, test, calib, train in LOWBIT_MODELS:
        d = np.load(EX / test)
        cal = np.load(EX / calib)["x"]
        tr = np.load(EX / train)["x"].astype(np.float32)
        g = load_onnx(EX / model)
        cleanup(g)
        lines.append(f"| {label} | float | " + " | ".join([f"{_accuracy(g, d, 'float'):.2f}"] * len(LOWBIT)) + " | |")
        for method in METHODS:
            cells = [lowbit_cell(model, d, cal, tr, w, a, method) for w, a in LOWBIT]
            lines.append(f"| {label} | {method} | " + " | ".join(f"{acc:.2f}" for acc, _ in cells)
                         + f" | {sum(s for _, s in cells):.1f} |")
    return "\n".join(lines)


def anchor_table() -> str:
    """The Brevitas-trained W4A4 digits CNN next to hwc's w4a4 from the float CNN."""
    d = np.load(DIGITS / "test_img.npz")
    brevitas = load_onnx(EX / "digits_cnn_w4a4" / "model_qonnx.onnx")
    cleanup(brevitas)
    cal = np.load(DIGITS / "calib_img.npz")["x"]
    tr = np.load(DIGITS / "train_img.npz")["x"].astype(np.float32)
    rows = [("Brevitas QAT W4A4 (hw_examples/digits_cnn_w4a4, QONNX)", _accuracy(brevitas, d, "float"), None)]
    for method in ("rtn", "gptq", "gptq + distillation"):
        acc, s = lowbit_cell("digits_cnn/model.onnx", d, cal, tr, 4, 4, method)
        rows.append((f"hwc {method} from the float CNN, w4a4", acc, s))
    lines = ["| model | test accuracy (%) | time (s) |", "|---|---|---|"]
    lines += [f"| {name} | {acc:.2f} | {'' if s is None else f'{s:.1f}'} |" for name, acc, s in rows]
    return "\n".join(lines)


def section() -> str:
    return ("### Test accuracy (%) of the digits examples, float vs fixed point\n\n"
            "Default quantization of `hwc compile` (per-layer power-of-two scales, GPTQ weights with calibration "
            "on 200 training samples, outputs at 16 bits); 360 test samples.\n\n" + table() + "\n\n"
            "### Low-bit accuracy (%) from the float models, by weight quantization method\n\n"
            "`--ptq rtn|gptq|adaround` with `--calib` on 200 training samples (jet MLP: its 200 calibration "
            f"samples); distillation: `--ptq gptq --finetune {DISTILL_EPOCHS}` on the training split without labels "
            "(digits: 1437 samples; jet MLP: the same 200). Test splits: digits 360 samples, jet MLP 2000. "
            "Time: the whole row (7 compiles), this machine.\n\n" + lowbit_table() + "\n\n"
            "### Anchor: quantization-aware training (Brevitas) vs hwc from the float model, digits CNN W4A4\n\n"
            + anchor_table() + "\n")


if __name__ == "__main__":
    sys.exit(main(__doc__, section))
