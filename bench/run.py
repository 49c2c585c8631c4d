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
import hls_published  # noqa: E402
import peers  # noqa: E402
import pruning  # noqa: E402
import rtl_cmvm  # noqa: E402
import rtl_luts  # noqa: E402
import scaling  # noqa: E402
import sim_speed  # noqa: E402
import sweep  # noqa: E402

PACKAGES = ("hwc", "numpy", "onnx", "onnxruntime", "qonnx", "hls4ml", "brevitas", "torch", "ai-edge-litert", "openvino",
            "ray")


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
    sections = [("peers (hls4ml, qonnx, onnxruntime)", peers.section), ("simulator speed", sim_speed.section),
                ("quantization accuracy", accuracy.section), ("channel pruning", pruning.section),
                ("size scaling", scaling.section), ("RTL synthesis (Yosys)", rtl_luts.section),
                ("RTL constant matrices vs da4ml", rtl_cmvm.section),
                ("HLS estimates vs published reports", hls_published.section),
                ("hwc sweep", sweep.section)]
    parts = [f"# hwc benchmarks\n\nMeasured {time.strftime('%Y-%m-%d')} in one run of `make bench`.\n\n{machine()}"]
    with console.status("benchmarking") as status:
        for name, section in sections:
            status.update(f"benchmarking: {name}")
            t = time.perf_counter()
            parts.append(section())
            console.log(f"{name}: {time.perf_counter() - t:.0f} s")
    text = "\n".join(parts) + "\n"
    (HERE / "results.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
