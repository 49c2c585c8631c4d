"""The memory a compile needs, estimated before any work, so a model too large for this machine is
refused with one line instead of dying in an allocation minutes later.

estimate = BASE + params * PER_PARAM[target family] + activation elements per sample * samples * 16 B.
PER_PARAM was measured as peak RSS over parameters on a 3000x3000 Gemm (9 M parameters): `--target sim`
1.16 GB (~100 B each: the float weights, their float64 working copies in the passes, int64 mantissas,
the clone kept for reports), `--target xilinx` 1.81 GB (~170 B: plus the C++ text of every constant);
the constants below add a margin. Available memory is MemAvailable (/proc/meminfo), capped by RLIMIT_AS.
"""

from __future__ import annotations

import math
import resource

from .errors import HwcError
from .ir.graph import Graph

BASE = 512 << 20  # the interpreter, numpy, onnx and the pass machinery
PER_PARAM = {"hls": 224, "other": 160}
HLS_TARGETS = ("xilinx", "intel")


def _params(graph: Graph) -> int:
    return sum(int(v.const.size) for v in graph.values() if v.const is not None)


def estimate_bytes(graph: Graph, target: str, samples: int = 1) -> int:
    params = _params(graph)
    acts = sum(math.prod(d for d in v.type.shape if d is not None) for n in graph.nodes for v in n.outputs)
    per = PER_PARAM["hls" if target in HLS_TARGETS else "other"]
    return BASE + params * per + acts * max(samples, 1) * 16


def available_bytes() -> int | None:
    """MemAvailable, or the address-space limit when lower; None where neither is known."""
    avail = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        avail = soft if avail is None else min(avail, soft)
    return avail


def model_params(model) -> int:
    """Parameters of an ONNX ModelProto, from the initializers' and Constant nodes' dims (no data read)."""
    n = sum(math.prod(i.dims) for i in model.graph.initializer)
    for node in model.graph.node:
        if node.op_type == "Constant":
            n += sum(math.prod(a.t.dims) for a in node.attribute if a.name == "value")
    return n


def check_model_memory(model, target: str, path: str, available: int | None = None) -> None:
    """The same check on the ONNX file before it is converted (converting 10^8 weights alone takes ~40 s)."""
    _refuse(BASE + model_params(model) * PER_PARAM["hls" if target in HLS_TARGETS else "other"],
            model_params(model), target, path, available)


def check_memory(graph: Graph, target: str, path: str, samples: int = 1, available: int | None = None) -> None:
    """Refuse (HwcError) when the estimate exceeds the memory available now."""
    _refuse(estimate_bytes(graph, target, samples), _params(graph), target, path, available)


def _refuse(need: int, params: int, target: str, path: str, available: int | None) -> None:
    have = available_bytes() if available is None else available
    if have is not None and need > have:
        raise HwcError(f"compiling this model ({params:,} parameters) for --target {target} needs about "
                       f"{need / 2**30:.1f} GiB of memory, {have / 2**30:.1f} GiB are available", path)


def calib_samples(calib) -> int:
    """Samples the compile runs through the graph: the rows of the calibration data (options.Calibration), else 1."""
    data = getattr(calib, "data", None)
    return int(data.shape[0]) if data is not None and getattr(data, "ndim", 0) > 0 else 1
