"""`hwc sweep` throughput and the digits CNN's Pareto front. The same 24-point sweep of the digits CNN
(--target xilinx) runs in a local pool of 1 and 2 processes and as Ray tasks on a local instance with 1
and 2 worker CPUs, in this run; then a 72-point sweep finds the cheapest point within 1 point of float.
Usage: python bench/sweep.py [--out FILE.md]."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

from _cli import main

EX = Path(__file__).resolve().parents[1] / "hw_examples"
DATA = EX / "digits_data"
BASE = [str(EX / "digits_cnn" / "model.onnx"), "--target", "xilinx", "--calib", f"{DATA / 'calib_img.npz'}:x",
        "--val", f"{DATA / 'test_img.npz'}:x_test", "--val-labels", f"{DATA / 'test_img.npz'}:y_test"]
GRID = ["--wbits", "2,3,4,8", "--abits", "4,8,16", "--prune", "0,0.5"]  # 24 points
FRONT = ["--wbits", "2,3,4,8", "--abits", "4,5,8", "--input-bits", "4,5,8", "--per-channel", "--prune", "0,0.25"]


def run_sweep(args: list[str]) -> tuple[float, list[dict], dict]:
    from hwc.compiler.cli import main as hwc
    from hwc.compiler.sweep.store import ResultStore

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            assert hwc(["sweep", *BASE, *args, "-o", tmp]) == 0
        wall = time.perf_counter() - t
        store = ResultStore(tmp, create=False)
        return wall, store.rows(), store.meta()


def throughput() -> str:
    import ray

    lines = ["| executor | workers | wall s (24 points) | points/s | mean s per point in a worker | start-up s |",
             "|---|---|---|---|---|---|"]

    def add(name, workers, wall, rows, meta, extra=0.0):
        per_point = sum(r["durations"]["total"] for r in rows) / len(rows)
        startup = wall - len(rows) * per_point / workers
        lines.append(f"| {name} | {workers} | {wall:.1f} | {len(rows) / wall:.2f} | {per_point:.3f} | "
                     f"{startup + extra:.1f} |")

    for jobs in (1, 2):
        add("local, --jobs 1 (in the driver)" if jobs == 1 else f"local pool, --jobs {jobs}", jobs,
            *run_sweep([*GRID, "--jobs", str(jobs)]))
    for cpus in (1, 2):
        t = time.perf_counter()
        ray.init(num_cpus=cpus, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
                 logging_level="ERROR")
        init = time.perf_counter() - t
        try:
            add(f"Ray (ray.init {init:.1f} s, not in wall)", cpus, *run_sweep([*GRID, "--ray"]))
        finally:
            ray.shutdown()
    return "\n".join(lines)


def front() -> str:
    _, rows, meta = run_sweep([*FRONT, "--jobs", str(os.cpu_count() or 1)])
    from hwc.compiler.sweep.pareto import best_point, front as pareto

    ok = [r for r in rows if r["status"] == "ok"]
    w8a8 = next(r for r in ok if r["point"] == {"wbits": 8, "abits": 8, "input_bits": 8, "prune": 0.0})
    ref = meta["float_accuracy"]
    best = best_point(ok, "bops", ref, 0.01)
    lines = [f"float model: {100 * ref:.2f} %; w8a8 (per-channel, 8-bit input): {100 * w8a8['accuracy']:.2f} %, "
             f"{w8a8['cost']['bops']:,} BOPs", "",
             "| accuracy (%) | BOPs | w8a8 / BOPs | point |", "|---|---|---|---|"]
    for r in pareto(ok, "bops"):
        mark = " **best within 1 point of float**" if r is best else ""
        lines.append(f"| {100 * r['accuracy']:.2f} | {r['cost']['bops']:,} | {w8a8['cost']['bops'] / r['cost']['bops']:.2f}x | "
                     f"{' '.join(f'{k}={v}' for k, v in r['point'].items())}{mark} |")
    lines += ["", f"best point: `{best['command'].replace(str(EX.parent) + '/', '')}`"]
    return "\n".join(lines)


def section() -> str:
    load = os.getloadavg()[0]
    table = throughput()
    return ("### hwc sweep: throughput (24 points of the digits CNN for --target xilinx, 360 validation samples each)\n\n"
            f"{table}\n\nload average of the machine before / after: {load:.1f} / {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} cores (other work on a shared machine slows the 2-worker rows). start-up = wall − points × mean time per point / workers: process spawn and imports "
            "(local pool), worker start and the object store (Ray).\n\n"
            "### hwc sweep: Pareto front of the digits CNN, accuracy vs bit operations (72 points, per-channel "
            f"weights)\n\n{front()}\n")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main(__doc__, section))
