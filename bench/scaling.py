"""How hwc scales with model size: MLPs and CNNs of about 10k, 100k, 1M and 10M parameters (random
weights, bench/tiny_models.py). Per target, the wall time and the peak memory of `hwc compile` (with
64 calibration samples, so GPTQ runs on the fixed-point targets); the time and peak memory of
`hwc simulate` of 1,000 samples on the `--target sim` output; the log-log slope of wall time from
the 100k to the 10M model (1.0 is linear); and the CPU time of `hwc --help` and `hwc inspect`.

Peak memory is of the whole process tree: a thread samples the summed high-water marks (VmHWM) of the
child and all its descendants (/proc, every 20 ms). The kernel's rusage of the reaped child is exact
but starts from the spawning process's own high-water mark (Linux carries it over the fork and the
exec): it is used where it exceeds that mark, which then cannot be the source.
Usage: python bench/scaling.py [--out FILE.md] (the sizes and targets are the constants below)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _cli import main

import numpy as np
import onnx

import tiny_models

HWC = Path(sys.executable).parent / "hwc"
SIZES = (10_000, 100_000, 1_000_000, 10_000_000)
TARGETS = ("sim", "xilinx", "intel", "tflite", "openvino", "verilog")
FAMILIES = (("MLP", tiny_models.mlp), ("CNN", tiny_models.cnn))
SIM_SAMPLES = 1000
CALIB_SAMPLES = 64
TIMEOUT = 3600  # seconds per command; a command that takes longer is reported as such
SLOPE_GOAL, PEAK_GOAL_MB = 1.05, 2048


def _vm_kb(pid: int | str, field: str = "VmHWM") -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return next(int(l.split()[1]) for l in status.splitlines() if l.startswith(field + ":"))


def _tree_hwm_kb(pid: int) -> int:
    """Summed VmHWM of pid and its descendants (0 once it has exited)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            total += _vm_kb(p)
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration, ValueError):
            continue  # exited meanwhile, or a zombie without memory
    return total


class Run:
    """One child process: wall seconds, CPU seconds, peak MB of its process tree, error line ('' if it succeeded)."""

    def __init__(self, cmd: list):
        inherited = _vm_kb("self")
        t = time.perf_counter()
        p = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        peak, done = [0], threading.Event()

        def sample():
            while not done.wait(0.02):
                peak[0] = max(peak[0], _tree_hwm_kb(p.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        timer = threading.Timer(TIMEOUT, p.kill)
        timer.start()
        err = p.stderr.read()
        _, status, usage = os.wait4(p.pid, 0)
        timer.cancel()
        done.set()
        sampler.join()
        code = os.waitstatus_to_exitcode(status)
        self.wall = time.perf_counter() - t
        self.cpu = usage.ru_utime + usage.ru_stime
        self.peak_mb = max(peak[0], usage.ru_maxrss if usage.ru_maxrss > inherited else 0) / 1024
        last = (err.strip().splitlines() or [f"exit {code}"])[-1]
        reason = last.split("): ", 1)[-1].removeprefix("hwc: error: ")  # without the file and node
        self.error = "" if code == 0 else f"timeout after {TIMEOUT} s" if code == -9 else reason.replace("|", "/")[:70]

    def cell(self) -> str:
        figures = f"{self.wall:.1f} s / {self.peak_mb:,.0f} MB"
        return f"{figures}, refused: {self.error}" if self.error else figures


def measure(family: str, build, size: int, work: Path) -> dict:
    m = build(size)
    shape = tiny_models.input_shape(m)
    path = work / f"{family}{size}.onnx"
    onnx.save(m, path)
    rng = np.random.default_rng(0)
    np.savez(work / "calib.npz", x=rng.normal(0, 1, (CALIB_SAMPLES, *shape)).astype(np.float32))
    np.save(work / "x.npy", rng.normal(0, 1, (SIM_SAMPLES, *shape)).astype(np.float32))
    row = {"params": tiny_models.param_count(m)}
    for target in TARGETS:
        out = work / f"out-{target}"
        row[target] = Run([HWC, "compile", path, "--target", target, "--calib", f"{work / 'calib.npz'}:x",
                           "-o", out, "--force"])
        if target == "sim" and not row[target].error:
            row["simulate"] = Run([HWC, "simulate", out, "--input", work / "x.npy"])
            row["inspect"] = Run([HWC, "inspect", out])
    return row


def slope(rows: list[dict], key: str) -> float | None:
    """d log(wall time) / d log(params) between the about-100k and the about-10M model."""
    at = {round(math.log10(r["params"])): r for r in rows if key in r and not r[key].error}
    if 5 not in at or 7 not in at:
        return None
    return math.log(at[7][key].wall / at[5][key].wall) / math.log(at[7]["params"] / at[5]["params"])


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def section(sizes=SIZES) -> str:
    keys = (*TARGETS, "simulate")
    load_before = _load()
    helps = [Run([HWC, "--help"]) for _ in range(5)]
    lines = [f"### Size scaling (random weights; compile = `hwc compile --target T --calib` ({CALIB_SAMPLES} samples), "
             f"simulate = `hwc simulate` of {SIM_SAMPLES:,} samples; wall seconds / peak MB of the process tree)", "",
             "| model | parameters | " + " | ".join(f"compile {t}" for t in TARGETS) + " | simulate |",
             "|---|---|" + "---|" * len(keys)]
    slopes, peaks, inspects = [], [], []
    for family, build in FAMILIES:
        rows = []
        for size in sizes:
            with tempfile.TemporaryDirectory() as tmp:
                rows.append(measure(family, build, size, Path(tmp)))
            r = rows[-1]
            lines.append(f"| {family} | {r['params']:,} | " + " | ".join(r[k].cell() if k in r else "n/a" for k in keys)
                         + " |")
            if "inspect" in r:
                inspects.append(f"{family} {r['params']:,}: {r['inspect'].cpu:.2f} s")
        s = [slope(rows, k) for k in keys]
        slopes.append(f"| {family} | " + " | ".join("n/a" if x is None else f"{x:.2f}" for x in s) + " |")
        big = rows[-1]
        peaks.append((family, big["params"], max((big[k].peak_mb, k) for k in keys if k in big)))
    lines += ["", f"Log-log slope of wall time from about 100k to 10M parameters (1.00 = linear; goal ≤ {SLOPE_GOAL}; "
              "n/a where a size refused):", "", "| model | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys),
              *slopes, ""]
    lines += [f"Largest peak at the largest size (goal ≤ {PEAK_GOAL_MB:,} MB): "
              + "; ".join(f"{f} {p:,}: {mb:,.0f} MB ({k})" for f, p, (mb, k) in peaks) + ".", ""]
    lines += [f"Start-up, CPU seconds (user + system) of one process: `hwc --help` {min(h.cpu for h in helps):.2f} s "
              "(best of 5); `hwc inspect` of the compiled sim output: " + "; ".join(inspects) + ".", "",
              f"Load average (1, 5, 15 min) before: {load_before}; after: {_load()}.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(__doc__, section))
