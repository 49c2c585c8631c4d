"""Cold C-simulation builds of hwc's HLS output (--target xilinx): the g++ time at each optimisation
level, what the C simulation then runs at, and a 1M-parameter MLP.

Per model: `hwc compile` (a fresh process: wall seconds and peak MB), then the g++ build of the C
simulation of `hwc verify` with an empty object cache at -O0, -O1 (hwc's choice, backends/hls.py
CSIM_FLAGS) and -O2, each in a fresh process (wall seconds of the build, peak MB of the largest g++),
and the C simulation's samples/s on the model's test inputs. The precompiled header of each flag set
(ap_types + hwc's kernel headers: the same for every model) is built first, cold, and timed on its own
row. The 1M-parameter MLP (bench/tiny_models.mlp, random weights, 3-bit weights) is also built fully
cold: its own empty precompiled-header cache, so its time includes that header.
Usage: python bench/csim_build.py [--out FILE.md]
"""

from __future__ import annotations

import importlib.resources
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _cli import main

import numpy as np

import tiny_models

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "hw_examples"
HWC = Path(sys.executable).parent / "hwc"
LEVELS = ("-O0", "-O1", "-O2")
W8 = ["--wbits", "8", "--abits", "16"]
# label, model (hw_examples path or tiny:<builder>), test inputs (npz key x_test, or random), hwc options
MODELS = [
    ("jet MLP", "jet_mlp/model.onnx", "jet_mlp/test.npz", W8),
    ("digits CNN", "digits_cnn/model.onnx", "digits_data/test_img.npz", W8),
    ("FC autoencoder (random weights)", "tiny:autoencoder", "random", W8),
    ("MLP 1M parameters, 3-bit weights (random)", "tiny:mlp1M", "random", ["--wbits", "3", "--abits", "8"]),
]
RANDOM_SAMPLES = 200

# One build in its own process, so that its peak memory is its own. argv: project, object cache, pch cache, -O level.
BUILD_CHILD = """
import json, sys, time
from pathlib import Path
from hwc.backends.base import read_manifest
from hwc.backends.hls import CSIM_FLAGS
from hwc.backends.xilinx import XilinxBackend
out, cache, pch, opt = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
flags = tuple(opt if f.startswith("-O") else f for f in CSIM_FLAGS)
t = time.perf_counter()
exe = XilinxBackend()._build(out, read_manifest(out), trace=False, cache_dir=cache, pch_cache=pch, flags=flags)
print(json.dumps({"exe": str(exe), "seconds": time.perf_counter() - t}))
"""
PCH_CHILD = """
import json, sys, time
from pathlib import Path
from hwc.backends.cpp_build import precompile
from hwc.backends.hls import CSIM_FLAGS
from hwc.backends.xilinx import XilinxBackend
kernels, pch, opt = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
flags = tuple(opt if f.startswith("-O") else f for f in CSIM_FLAGS)
t = time.perf_counter()
precompile(XilinxBackend()._pch(kernels), flags, pch)
print(json.dumps({"seconds": time.perf_counter() - t}))
"""


def run_child(cmd: list) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB of the process and its children, stdout) of one child process, waited with
    os.wait4 so that the peak (ru_maxrss, g++ included) is this child's; raises with stderr's last line."""
    with tempfile.TemporaryFile("w+") as errors:
        t = time.perf_counter()
        p = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=errors, text=True)
        out = p.stdout.read()
        p.stdout.close()
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        if os.waitstatus_to_exitcode(status):
            errors.seek(0)
            raise RuntimeError((errors.read().strip().splitlines() or ["failed"])[-1][:100])
    return wall, usage.ru_maxrss / 1024, out


def prepare(model: str, test: str, work: Path):
    """(model path, inputs)."""
    if not model.startswith("tiny:"):
        return EX / model, np.load(EX / test)["x_test"].astype(np.float32)
    name = model.split(":", 1)[1]
    import onnx

    m = tiny_models.mlp(1_000_000) if name == "mlp1M" else getattr(tiny_models, name)()
    path = work / f"{name}.onnx"
    onnx.save(m, path)
    return path, np.random.default_rng(0).normal(0, 1, (RANDOM_SAMPLES, *tiny_models.input_shape(m))).astype(np.float32)


def samples_per_second(exe: str, g, x: np.ndarray, work: Path) -> tuple[float, int]:
    """The C simulation on x: samples/s, and its mismatches against the bit-accurate simulator."""
    from hwc.backends.hls import _big_stack
    from hwc.backends.hls_data import reference, tb_inputs, write_rows

    expected, kept = reference(g, [x])
    write_rows(work / "in.dat", tb_inputs(g, [x], kept))
    write_rows(work / "exp.dat", expected)
    t = time.perf_counter()
    r = subprocess.run([exe, work / "in.dat", work / "exp.dat"], capture_output=True, text=True, cwd=work, preexec_fn=_big_stack)
    seconds = time.perf_counter() - t
    if r.returncode not in (0, 1):
        raise RuntimeError(f"C simulation failed: {r.stderr.strip()[:100]}")
    return len(x) / seconds, int(r.stdout.split(" mismatches")[0].rsplit(" ", 1)[-1])


def section() -> str:
    from hwc.compiler.ir.serialize import load_graph

    load0 = os.getloadavg()[0]
    kernels = Path(str(importlib.resources.files("hwc.templates") / "hls"))
    pch_caches = {o: Path(tempfile.mkdtemp(prefix="hwc-bench-pch-")) for o in LEVELS}
    lines = ["| model | parameters | hwc compile (s / MB) | " + " | ".join(f"g++ {o} (s / MB)" for o in LEVELS) + " | " +
             " | ".join(f"C-sim {o} (samples/s)" for o in LEVELS) + " | mismatches |", "|---|---|---|" + "---|" * (2 * len(LEVELS) + 1)]
    try:
        pch = {o: run_child([sys.executable, "-c", PCH_CHILD, kernels, pch_caches[o], o]) for o in LEVELS}
        lines.append("| precompiled header (once for all models) | | | " +
                     " | ".join(f"{json.loads(pch[o][2])['seconds']:.1f} / {pch[o][1]:,.0f}" for o in LEVELS) + " | | | | |")
        cold = []
        for label, model, test, options in MODELS:
            work = Path(tempfile.mkdtemp(prefix="hwc-bench-"))
            try:
                path, x = prepare(model, test, work)
                rng = np.random.default_rng(1)
                np.savez(work / "calib.npz", x=rng.normal(0, 1, (64, *x.shape[1:])).astype(np.float32))
                t_c, mb_c, _ = run_child([HWC, "compile", path, "--target", "xilinx", "--calib", f"{work / 'calib.npz'}:x",
                                          *options, "-o", work / "out"])
                g = load_graph(work / "out")
                params = sum(int(np.asarray(n.inputs[1].const).size) for n in g.nodes if n.op in ("Dense", "Conv"))
                builds, rates, bad = [], [], 0
                for o in LEVELS:
                    _, mb, out = run_child([sys.executable, "-c", BUILD_CHILD, work / "out", work / f"cache{o}", pch_caches[o], o])
                    r = json.loads(out)
                    builds.append(f"{r['seconds']:.1f} / {mb:,.0f}")
                    sps, mism = samples_per_second(r["exe"], g, x, work)
                    rates.append(f"{sps:,.0f}")
                    bad += mism
                lines.append(f"| {label} | {params:,} | {t_c:.1f} / {mb_c:,.0f} | " + " | ".join(builds) + " | " +
                             " | ".join(rates) + f" | {bad} |")
                if model == "tiny:mlp1M":
                    _, mb, out = run_child([sys.executable, "-c", BUILD_CHILD, work / "out", work / "cache-cold", work / "pch-cold", "-O1"])
                    cold.append(f"{label}: fully cold g++ -O1 build, its precompiled header included: "
                                f"{json.loads(out)['seconds']:.1f} s, peak {mb:,.0f} MB.")
            finally:
                shutil.rmtree(work, ignore_errors=True)
    finally:
        for d in pch_caches.values():
            shutil.rmtree(d, ignore_errors=True)
    load1 = os.getloadavg()[0]
    return ("### C-simulation builds by optimisation level (hwc --target xilinx; cold: empty object cache)\n\n" +
            "\n".join(lines) + "\n\n" + "\n".join(cold) +
            f"\n\nWall seconds of each build in its own process (peak MB: its largest process, g++ included); "
            f"{os.cpu_count()} cores, load average {load0:.1f} at the start and {load1:.1f} at the end. "
            "mismatches: C simulation vs the bit-accurate simulator, over every level.\n")


if __name__ == "__main__":
    sys.exit(main(__doc__, section))
