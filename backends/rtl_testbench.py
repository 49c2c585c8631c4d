"""Running a design's testbench for `hwc verify --target verilog`: iverilog or verilator, the outputs.txt
it writes, and the packing of samples into bus words and back."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from ..compiler.errors import HwcError
from ..compiler.progress import status


ICARUS_WORK = 1e8  # adders x samples above which verilator (compiled, minutes to build a CNN) beats iverilog


def pick_simulator(meta: dict, n: int) -> str:
    """iverilog for small designs (builds in a second); verilator, when installed, for large ones."""
    work = sum(l["adders"] + l["multipliers"] for l in meta["layers"]) * n
    return "verilator" if work > ICARUS_WORK and shutil.which("verilator") else "iverilog"


def run_testbench(outdir: Path, manifest: dict, work: Path, n: int, simulator: str, seed: int = 1) -> list[str]:
    """Build the design and its testbench (iverilog or verilator), run n samples, return outputs.txt's lines."""
    top = manifest["options"]["top"]
    srcs = [str(outdir / s) for s in manifest["options"]["sources"]] + [str(outdir / "tb" / f"{top}_tb.v")]
    if simulator == "verilator":
        build = ["verilator", "--binary", "--timing", "-O1", "-Wno-fatal", "-Wno-lint", "-Wno-style",
                 "--top-module", f"{top}_tb", f"-GMAXN={n}", "--Mdir", str(work / "obj"), "-o", "tb", "-j", "2"] + srcs
        run = [str(work / "obj" / "tb"), f"+n={n}", f"+seed={seed}"]
    else:
        if not shutil.which("iverilog") or not shutil.which("vvp"):
            raise HwcError("hwc verify for --target verilog needs iverilog (Debian/Ubuntu: apt-get install iverilog; "
                           "`make system-packages`)")
        build = ["iverilog", "-g2005", "-o", str(work / "sim.vvp"), "-s", f"{top}_tb", f"-P{top}_tb.MAXN={n}"] + srcs
        run = ["vvp", "-n", str(work / "sim.vvp"), f"+n={n}", f"+seed={seed}"]
    with status(f"building the RTL testbench with {simulator}"):
        r = subprocess.run(build, capture_output=True, text=True, cwd=work)
    if r.returncode:
        first = (r.stderr or r.stdout).strip().splitlines()[:1]
        raise HwcError(f"{simulator} could not build the testbench: {first[0] if first else r.returncode}", str(outdir))
    with status(f"RTL simulation of {n} samples ({simulator})"):
        r = subprocess.run(run, capture_output=True, text=True, cwd=work, timeout=7200)
    if r.returncode or not (work / "outputs.txt").exists():
        raise HwcError(f"the RTL simulation failed: {(r.stderr or r.stdout).strip()[:300]}", str(outdir))
    return (work / "outputs.txt").read_text().splitlines()


def parse_outputs(lines: list[str]) -> tuple[int | None, list[int], list[bool], list[str]]:
    latency, words, lasts, problems, undefined = None, [], [], [], []
    for line in lines:
        parts = line.split()
        if parts and parts[0] == "latency":
            latency = int(parts[1])
        elif parts and parts[0] == "timeout":
            problems.append(line)
        elif len(parts) == 2:
            if "x" in parts[0].lower() or "z" in parts[0].lower():
                undefined.append(len(words))
                words.append(-1)
            else:
                words.append(int(parts[0], 16))
            lasts.append(parts[1] == "1")
    if undefined:
        problems.append(f"undefined (x/z) bits in {len(undefined)} output beats, the first is beat {undefined[0]}")
    return latency, words, lasts, problems


def pack(arrays: list[np.ndarray], ports: list[dict]) -> list[int]:
    """One integer per sample: every element's mantissa (two's complement in its width) at its bit offset."""
    n = len(arrays[0])
    words = [0] * n
    for a, p in zip(arrays, ports):
        w, base = p["width"], p["offset"]
        flat = np.asarray(a, dtype=object).reshape(n, -1)
        mask = (1 << w) - 1
        for s in range(n):
            acc = 0
            for i, m in enumerate(flat[s]):
                acc |= (int(m) & mask) << (i * w)
            words[s] |= acc << base
    return words


def unpack(words: list[int], ports: list[dict]) -> np.ndarray:
    """Mantissas per sample (object array), the inverse of `pack` for the output ports."""
    cols = sum(p["elements"] for p in ports)
    out = np.zeros((len(words), cols), dtype=object)
    for s, word in enumerate(words):
        if word < 0:  # undefined bits: no value
            out[s, :] = None
            continue
        c = 0
        for p in ports:
            w, base = p["width"], p["offset"]
            for i in range(p["elements"]):
                m = (word >> (base + i * w)) & ((1 << w) - 1)
                if p["signed"] and m >> (w - 1):
                    m -= 1 << w
                out[s, c] = m
                c += 1
    return out



def simulated(g, inputs, samples: int, seed: int) -> tuple[dict, np.ndarray, float]:
    """`hwc verify`'s reference: the fixed-point simulator's value of every node (by value name) and the
    expected output mantissas, one row per sample (outputs concatenated); and the seconds it took."""
    from ..compiler.sim.inputs import check_inputs
    from ..compiler.sim.run import simulate
    from .hls_data import random_inputs

    xs = inputs if inputs is not None else random_inputs(g, samples, seed)
    xs = check_inputs(g, xs, what=[f"--input {i}" for i in range(len(g.inputs))])
    n = len(xs[0])
    t0 = time.perf_counter()
    _, kept = simulate(g, xs, mode="fixed", keep=lambda node: True)
    seconds = time.perf_counter() - t0
    expected = np.concatenate([np.asarray(kept[v.producer.inputs[0].name], dtype=object).reshape(n, -1)
                               for v in g.outputs], axis=1)
    return kept, expected, seconds


def simulate_rtl(outdir: Path, manifest: dict, words: list[int], width: int, n: int, simulator: str,
                 seed: int) -> tuple[list[str], float]:
    """Run the testbench on n samples whose input beats are `words` (width bits each): outputs.txt's
    lines and the seconds it took (with the build)."""
    work = Path(tempfile.mkdtemp(prefix="hwc-verify-rtl-"))
    try:
        digits = -(-width // 4)
        (work / "inputs.hex").write_text("".join(f"{w:0{digits}x}\n" for w in words))
        t0 = time.perf_counter()
        lines = run_testbench(outdir, manifest, work, n, simulator, seed=seed)
        return lines, time.perf_counter() - t0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def compare(report, got: np.ndarray, expected: np.ndarray, problems: list[str], what: str = "sample"):
    """Every output bit against the simulator: mismatches (missing rows count whole, any problem one more),
    the problems and the first difference into the report."""
    n = len(expected)
    m = min(len(got), n)
    diff = got[:m] != expected[:m]
    report.mismatches = int(diff.sum()) + (n - m) * expected.shape[1] + (len(problems) > 0)
    report.details += [f"problem: {p}" for p in problems]
    if diff.any():
        s, i = map(int, np.argwhere(diff)[0])
        report.first_difference = f"{what} {s}, output element {i}: RTL mantissa {got[s, i]}, simulator {expected[s, i]}"
    elif problems:
        report.first_difference = problems[0]
    return report
