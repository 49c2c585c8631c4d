"""Samples per second of hwc's bit-accurate simulator next to onnxruntime (float) on the same
model, measured in the same run. Usage: python bench/sim_speed.py [--n N] [--out FILE.md]."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from _cli import main

import numpy as np
import onnxruntime as ort

from hwc.compiler.compile import compile_file
from hwc.compiler.quant_config import QuantConfig
from hwc.compiler.sim.run import simulate

EX = Path(__file__).resolve().parents[1] / "hw_examples"
MODELS = [("jet-tagging MLP (16-64-32-32-5)", "jet_mlp/model.onnx", "jet_mlp/calib.npz", "jet_mlp/test.npz"),
          ("digits CNN", "digits_cnn/model.onnx", "digits_data/calib_img.npz", "digits_data/test_img.npz")]


def best_of(fn, repeat=3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def rows(n: int):
    out = []
    for label, model, calib, test in MODELS:
        cal = np.load(EX / calib)["x"]
        x_test = np.load(EX / test)["x_test"]
        x = x_test[np.arange(n) % len(x_test)]
        c = compile_file(EX / model, QuantConfig(wbits=8, abits=16), [cal])
        t_sim = best_of(lambda: simulate(c.graph, [x], mode="fixed"))
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        sess = ort.InferenceSession(str(EX / model), so, providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        t_ort = best_of(lambda: sess.run(None, {name: x}))
        out.append((label, n, n / t_sim, n / t_ort, t_ort / t_sim))
    return out


def section(n: int = 20000) -> str:
    lines = ["### Simulator throughput next to onnxruntime (one batched call, best of 3; onnxruntime on 1 thread)", "",
             "| model | samples | hwc fixed-point sim (samples/s) | onnxruntime float (samples/s) | hwc / onnxruntime |",
             "|---|---|---|---|---|"]
    for label, count, s, o, r in rows(n):
        lines.append(f"| {label} | {count} | {s:,.0f} | {o:,.0f} | {r:.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main(__doc__, section))
