"""`make bench`: every benchmark in one run, written to bench/results.md with the machine and the
versions it ran on. Peers (hls4ml, qonnx, onnxruntime) are measured in the same run as hwc."""

from __future__ import annotations

import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from rich.console import Console

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import accuracy  # noqa: E402
import peers  # noqa: E402
import pruning  # noqa: E402
import sim_speed  # noqa: E402

PACKAGES = ("hwc", "numpy", "onnx", "onnxruntime", "qonnx", "hls4ml", "brevitas", "torch", "ai-edge-litert", "openvino")


def machine() -> str:
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or "unknown"
    import os

    gxx = subprocess.run(["g++", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    versions = []
    for p in PACKAGES:
        try:
            versions.append(f"{p} {metadata.version(p)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{p} (not installed)")
    return (f"- machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}\n"
            f"- python {platform.python_version()}, {gxx}\n- " + ", ".join(versions) + "\n")


def main() -> int:
    console = Console(stderr=True)
    sections = [("peers (hls4ml, qonnx, onnxruntime)", lambda: peers.tables()),
                ("simulator speed", lambda: "\n".join(sim_speed_text())),
                ("quantization accuracy", lambda: "### Test accuracy (%) of the digits examples, float vs fixed point "
                 "(post-training quantization by hwc, 16-bit outputs, calibration on 200 training samples)\n\n"
                 + accuracy.table() + "\n"),
                ("channel pruning", lambda: "### Channel pruning of the digits CNN (calibration and refit on 200 training "
                 "samples, 360 test samples)\n\n" + pruning.table() + "\n")]
    parts = [f"# hwc benchmarks\n\nMeasured {time.strftime('%Y-%m-%d')} in one run of `make bench`.\n\n{machine()}"]
    with console.status("benchmarking") as status:
        for name, fn in sections:
            status.update(f"benchmarking: {name}")
            t = time.perf_counter()
            parts.append(fn())
            console.log(f"{name}: {time.perf_counter() - t:.0f} s")
    text = "\n".join(parts) + "\n"
    (HERE / "results.md").write_text(text)
    print(text)
    return 0


def sim_speed_text():
    yield "### Simulator throughput next to onnxruntime (one batched call, best of 3; onnxruntime on 1 thread)\n"
    yield "| model | samples | hwc fixed-point sim (samples/s) | onnxruntime float (samples/s) | hwc / onnxruntime |"
    yield "|---|---|---|---|---|"
    for label, n, s, o, r in sim_speed.rows(20000):
        yield f"| {label} | {n} | {s:,.0f} | {o:,.0f} | {r:.2f} |"
    yield ""


if __name__ == "__main__":
    sys.exit(main())
