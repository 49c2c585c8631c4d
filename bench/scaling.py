"""How hwc scales with model size: MLPs and CNNs of about 10k, 100k, 1M and 10M parameters (random
weights, bench/tiny_models.py). Per target, the wall time and the peak resident memory of
`hwc compile` (one process each, peak from the kernel's rusage of that child); the time and peak
memory of simulating a batch of 1,000 samples bit-accurately; and the log-log slope of compile time
from 100k to 10M parameters (1.0 is linear).
Usage: python bench/scaling.py [--out FILE.md] (the sizes and targets are the constants below)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _cli import main

import numpy as np
import onnx

import tiny_models

HWC = Path(sys.executable).parent / "hwc"
SIZES = (10_000, 100_000, 1_000_000, 10_000_000)
TARGETS = ("sim", "xilinx", "intel", "tflite", "openvino")
FAMILIES = (("MLP", tiny_models.mlp), ("CNN", tiny_models.cnn))
SIM_SAMPLES = 1000


def run_child(cmd: list) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, last stderr line) of one child process."""
    t = time.perf_counter()
    p = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t
    last = err.strip().splitlines()[-1][:80] if p.returncode and err.strip() else ""
    return wall, usage.ru_maxrss / 1024, last


def measure(family: str, build, size: int, work: Path) -> dict:
    m = build(size)
    shape = tiny_models.input_shape(m)
    path = work / f"{family}{size}.onnx"
    onnx.save(m, path)
    rng = np.random.default_rng(0)
    np.savez(work / "calib.npz", x=rng.normal(0, 1, (64, *shape)).astype(np.float32))
    np.save(work / "x.npy", rng.normal(0, 1, (SIM_SAMPLES, *shape)).astype(np.float32))
    row = {"params": tiny_models.param_count(m)}
    for target in TARGETS:
        out = work / f"out-{target}"
        row[target] = run_child([HWC, "compile", path, "--target", target, "--calib", f"{work / 'calib.npz'}:x",
                                 "-o", out, "--force"])
        if target == "sim" and not row[target][2]:
            row["simulate"] = run_child([HWC, "simulate", out, "--input", work / "x.npy"])
    return row


def slope(rows: list[dict], key: str) -> str:
    """d log(time) / d log(params) between the 100k and the 10M model."""
    pts = [(r["params"], r[key][0]) for r in rows if r["params"] >= 50_000 and key in r and not r[key][2]]
    if len(pts) < 2:
        return "n/a"
    (p0, t0), (p1, t1) = pts[0], pts[-1]
    return f"{math.log(t1 / t0) / math.log(p1 / p0):.2f}"


def section(sizes=SIZES) -> str:
    lines = [f"### Size scaling (random weights; compile = `hwc compile --target T`, simulate = `hwc simulate` of "
             f"{SIM_SAMPLES:,} samples; wall seconds / peak MB per process)", "",
             "| model | parameters | " + " | ".join(f"compile {t}" for t in TARGETS) + " | simulate |",
             "|---|---|" + "---|" * (len(TARGETS) + 1)]
    slopes = []
    for family, build in FAMILIES:
        rows = []
        for size in sizes:
            with tempfile.TemporaryDirectory() as tmp:
                rows.append(measure(family, build, size, Path(tmp)))
            r = rows[-1]
            cells = [f"{r[k][2] or f'{r[k][0]:.1f} s / {r[k][1]:,.0f} MB'}" if k in r else "n/a"
                     for k in (*TARGETS, "simulate")]
            lines.append(f"| {family} | {r['params']:,} | " + " | ".join(cells) + " |")
        slopes.append(f"| {family} | " + " | ".join(slope(rows, k) for k in (*TARGETS, "simulate")) + " |")
    lines += ["", "Log-log slope of wall time from about 100k to 10M parameters (1.00 = linear):", "",
              "| model | " + " | ".join(TARGETS) + " | simulate |", "|---|" + "---|" * (len(TARGETS) + 1), *slopes]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main(__doc__, section))
