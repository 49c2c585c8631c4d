"""Samples per second of hwc's bit-accurate simulator next to onnxruntime (float) on the same
model, measured in the same run. Usage: python bench/sim_speed.py [--n N] [--out FILE.md]."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=20000, help="samples per measurement [20000]")
    p.add_argument("--out", help="also write the table to this Markdown file")
    args = p.parse_args(argv)
    lines = ["### Simulator throughput (one batched call, best of 3; onnxruntime on 1 thread)", "",
             "| model | samples | hwc fixed-point sim (samples/s) | onnxruntime float (samples/s) | hwc / onnxruntime |",
             "|---|---|---|---|---|"]
    for label, n, s, o, r in rows(args.n):
        lines.append(f"| {label} | {n} | {s:,.0f} | {o:,.0f} | {r:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
