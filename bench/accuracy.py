"""Test accuracy of the float digits models against their fixed-point versions, wbits x abits.

Usage: python bench/accuracy.py [--out FILE.md]. Prints a Markdown table (post-training
quantization: power-of-two scales per layer, calibration on 200 training samples).
"""

from __future__ import annotations

import sys
from pathlib import Path

from _cli import main

import numpy as np

from hwc.compiler.compile import compile_file
from hwc.compiler.frontend.onnx_loader import load_onnx
from hwc.compiler.pipeline import cleanup
from hwc.compiler.quant_config import QuantConfig
from hwc.compiler.sim.run import simulate

EX = Path(__file__).resolve().parents[1] / "hw_examples"
MODELS = [("digits MLP", "digits_mlp/model.onnx", "test.npz", "calib.npz"),
          ("digits CNN", "digits_cnn/model.onnx", "test_img.npz", "calib_img.npz")]
WBITS, ABITS = (1, 2, 4, 8), (4, 8, 16)


def table() -> str:
    lines = ["| model | float | " + " | ".join(f"w{w}a{a}" for w in WBITS for a in ABITS) + " |",
             "|---|---|" + "---|" * (len(WBITS) * len(ABITS))]
    for label, model, data, calib in MODELS:
        d = np.load(EX / "digits_data" / data)
        cal = np.load(EX / "digits_data" / calib)["x"]
        g = load_onnx(EX / model)
        cleanup(g)
        cells = [f"{100 * (simulate(g, [d['x_test']])[0].argmax(1) == d['y_test']).mean():.2f}"]
        for w in WBITS:
            for a in ABITS:
                c = compile_file(EX / model, QuantConfig(wbits=w, abits=a), [cal])
                y = simulate(c.graph, [d["x_test"]], mode="fixed")[0]
                cells.append(f"{100 * (y.argmax(1) == d['y_test']).mean():.2f}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def section() -> str:
    return ("### Test accuracy (%) of the digits examples, float vs fixed point\n\n"
            "Post-training quantization by `hwc compile` (per-layer power-of-two scales, calibration on 200 "
            "training samples, outputs at 16 bits); 360 test samples.\n\n" + table() + "\n")


if __name__ == "__main__":
    sys.exit(main(__doc__, section))
