"""Samples per second of hwc's bit-accurate simulator next to onnxruntime (float) on the same
model, measured in the same run: the two trained examples and the MLPerf Tiny shapes with random weights
(bench/tiny_models.py). Usage: python bench/sim_speed.py [--out FILE.md]."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from _cli import main

import numpy as np
import onnx
import onnxruntime as ort
import tiny_models

from hwc.compiler.compile import compile_file
from hwc.compiler.quant_config import QuantConfig
from hwc.compiler.sim.run import simulate

EX = Path(__file__).resolve().parents[1] / "hw_examples"
MODELS = [("jet-tagging MLP (16-64-32-32-5)", "jet_mlp/model.onnx", "jet_mlp/calib.npz", "jet_mlp/test.npz"),
          ("digits CNN", "digits_cnn/model.onnx", "digits_data/calib_img.npz", "digits_data/test_img.npz")]


def interleaved(fn_a, fn_b, repeat=5) -> tuple[float, float, float, float]:
    """Best-of-`repeat` CPU and wall seconds of fn_a and fn_b, run alternately in this process so that
    the load of a shared machine hits both alike: (cpu_a, wall_a, cpu_b, wall_b)."""
    best = [float("inf")] * 4
    for _ in range(repeat):
        for k, fn in ((0, fn_a), (2, fn_b)):
            c, t = time.process_time(), time.perf_counter()
            fn()
            best[k] = min(best[k], time.process_time() - c)
            best[k + 1] = min(best[k + 1], time.perf_counter() - t)
    return tuple(best)


def _measure(label, model_path, x, cal) -> tuple:
    c = compile_file(model_path, QuantConfig(wbits=8, abits=16), [cal])
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    cpu_s, wall_s, cpu_o, wall_o = interleaved(lambda: simulate(c.graph, [x], mode="fixed"),
                                               lambda: sess.run(None, {name: x}))
    n = len(x)
    return label, n, n / cpu_s, n / cpu_o, cpu_o / cpu_s, wall_o / wall_s


TINY = [("FC autoencoder (MLPerf Tiny AD, random weights)", tiny_models.autoencoder, 4000),
        ("DS-CNN keyword spotting (MLPerf Tiny KWS, random weights)", tiny_models.ds_cnn, 1000),
        ("ResNet-8 (MLPerf Tiny IC, random weights)", tiny_models.resnet8, 500)]


def rows(n: int):
    out = []
    for label, model, calib, test in MODELS:
        cal = np.load(EX / calib)["x"]
        x_test = np.load(EX / test)["x_test"]
        out.append(_measure(label, EX / model, x_test[np.arange(n) % len(x_test)], cal))
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        for label, build, count in TINY:
            m = build()
            path = Path(tmp) / f"{m.graph.name}.onnx"
            onnx.save(m, path)
            shape = tiny_models.input_shape(m)
            out.append(_measure(label, path, rng.normal(0, 1, (count, *shape)).astype(np.float32),
                                rng.normal(0, 1, (256, *shape)).astype(np.float32)))
    return out


def section(n: int = 20000) -> str:
    load = os.getloadavg()[0]
    lines = ["### Simulator throughput next to onnxruntime (one batched call; hwc and onnxruntime run alternately "
             f"in one process, best of 5; onnxruntime on 1 thread; load average {load:.1f} at the start)", "",
             "| model | samples | hwc fixed-point sim (samples/CPU-s) | onnxruntime float (samples/CPU-s) "
             "| hwc / onnxruntime (CPU time) | hwc / onnxruntime (wall) |",
             "|---|---|---|---|---|---|"]
    for label, count, s, o, r, rw in rows(n):
        lines.append(f"| {label} | {count} | {s:,.0f} | {o:,.0f} | {r:.3f} | {rw:.3f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main(__doc__, section))
