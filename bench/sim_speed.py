"""Samples per second of hwc's bit-accurate simulator next to onnxruntime (float) on the same
model, measured in the same run: the two trained examples and the MLPerf Tiny shapes with random weights
(bench/tiny_models.py), w8 a16 (and one extra low-bit row). Both on one thread: onnxruntime by its
session option, hwc because the simulator limits BLAS to one thread itself (threadpoolctl); numba
kernels and the C int16 product kernel (compiler/sim/_int_gemm.c) are single-threaded. Also the CPU time of the plan's GEMMs alone (what bounds the ratio when
the accumulators need float64), and the peak memory of `hwc simulate` on a 1M-parameter CNN at 1,000
and 10,000 samples (one child process each, peak memory as bench/scaling.py measures it).
Usage: python bench/sim_speed.py [--out FILE.md]."""

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
from hwc.compiler.sim import int_gemm_c
from hwc.compiler.sim.plan import plan_for
from hwc.compiler.sim.plan_steps import Gemm
from hwc.compiler.sim.run import simulate
from scaling import HWC, Run

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


def _gemm_cpu(graph, x, repeat=5) -> float:
    """Best CPU seconds of the plan's Dense/Conv products alone (im2col included) in one simulation."""
    steps = [s for s in plan_for(graph).steps if isinstance(s, Gemm)]
    spent = [0.0]

    def timed(fn):
        def run(*a):
            c = time.process_time()
            y = fn(*a)
            spent[0] += time.process_time() - c
            return y
        return run

    for s in steps:
        s.compute = timed(s.compute)
    best = float("inf")
    try:
        for _ in range(repeat):
            spent[0] = 0.0
            simulate(graph, [x], mode="fixed")
            best = min(best, spent[0])
    finally:
        for s in steps:
            del s.compute
    return best


def _measure(label, model_path, x, cal, wbits=8, abits=16) -> tuple:
    c = compile_file(model_path, QuantConfig(wbits=wbits, abits=abits), [cal])
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    plan_for(c.graph)  # builds the plan with the compiled kernels: numba loaded, as a long-running user has it
    simulate(c.graph, [x[:2]], mode="fixed")  # (simulate loads numba itself once a graph has seen JIT_MIN_ELEMS values)
    cpu_s, wall_s, cpu_o, wall_o = interleaved(lambda: simulate(c.graph, [x], mode="fixed"),
                                               lambda: sess.run(None, {name: x}))
    gemm = _gemm_cpu(c.graph, x)
    n = len(x)
    return label, n, n / cpu_s, n / cpu_o, cpu_o / cpu_s, wall_o / wall_s, cpu_o / gemm


TINY = [("FC autoencoder (MLPerf Tiny AD, random weights)", tiny_models.autoencoder, 4000),
        ("DS-CNN keyword spotting (MLPerf Tiny KWS, random weights)", tiny_models.ds_cnn, 1000),
        ("ResNet-8 (MLPerf Tiny IC, random weights)", tiny_models.resnet8, 500)]


def rows(n: int):
    out = []
    for label, model, calib, test in MODELS:
        cal = np.load(EX / calib)["x"]
        x_test = np.load(EX / test)["x_test"]
        out.append(_measure(label, EX / model, x_test[np.arange(n) % len(x_test)], cal))
    label, model, calib, test = MODELS[0]
    x_test = np.load(EX / test)["x_test"]
    out.append(_measure(f"extra row: {label}, w4 a8", EX / model, x_test[np.arange(n) % len(x_test)],
                        np.load(EX / calib)["x"], wbits=4, abits=8))
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


def memory(sizes=(1000, 10000), params=1_000_000) -> list[tuple[int, float, float]]:
    """(samples, wall s, peak RSS MB) of `hwc simulate` on a compiled CNN of about `params` parameters."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        m = tiny_models.cnn(params)
        shape = tiny_models.input_shape(m)
        onnx.save(m, work / "cnn.onnx")
        rng = np.random.default_rng(0)
        np.save(work / "calib.npy", rng.normal(0, 1, (64, *shape)).astype(np.float32))
        c = Run([HWC, "compile", work / "cnn.onnx", "--target", "sim", "--calib", work / "calib.npy",
                 "-o", work / "out", "--force"])
        if c.error:
            raise RuntimeError(f"hwc compile failed: {c.error}")
        for n in sizes:
            np.save(work / "x.npy", rng.normal(0, 1, (n, *shape)).astype(np.float32))
            r = Run([HWC, "simulate", work / "out", "--input", work / "x.npy"])
            if r.error:
                raise RuntimeError(f"hwc simulate failed: {r.error}")
            out.append((n, r.wall, r.peak_mb))
    return out


def section(n: int = 20000) -> str:
    load = os.getloadavg()[0]
    lines = ["### Simulator throughput next to onnxruntime (one batched call; hwc and onnxruntime run alternately "
             f"in one process, best of 5; both on 1 thread; load average {load:.1f} at the start)", "",
             "| model | samples | hwc fixed-point sim (samples/CPU-s) | onnxruntime float (samples/CPU-s) "
             "| hwc / onnxruntime (CPU time) | hwc / onnxruntime (wall) | hwc's GEMMs alone / onnxruntime (CPU) |",
             "|---|---|---|---|---|---|---|"]
    for label, count, s, o, r, rw, g in rows(n):
        lines.append(f"| {label} | {count} | {s:,.0f} | {o:,.0f} | {r:.3f} | {rw:.3f} | {g:.3f} |")
    kernel = (f"the C kernel, path {int_gemm_c.paths()[-1]}" if int_gemm_c.available()
              else "numba dot products for long reductions, else float64 BLAS (the C kernel is not built or has no "
                   "SIMD path here)")
    lines += ["", f"int16 products in this run: {kernel}."]
    lines += ["", "Peak memory of `hwc simulate` (bit-accurate) on a 1M-parameter CNN (bench/tiny_models.py `cnn`), "
              "one process per batch:", "", "| samples | wall (s) | peak RSS (MB) |", "|---|---|---|"]
    for count, wall, rss in memory():
        lines.append(f"| {count:,} | {wall:.1f} | {rss:,.0f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main(__doc__, section))
