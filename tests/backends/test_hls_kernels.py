"""backends/hls_kernels.py: every kernel the table names is a function template of its header (one of the
headers every project ships), and the code generated for a CNN (parallel and stream) calls only those kernels,
the stream kernels and the library's glue."""

from __future__ import annotations

import importlib.resources
import re

import pytest

from conftest import HW_EXAMPLES
from hwc.backends.hls_project import KERNEL_HEADERS, Project
from hwc.backends.hls_kernels import KERNELS
from hwc.compiler.cli import main

HEADERS = importlib.resources.files("hwc.templates") / "hls"
STREAM = set(Project.STREAM_KERNELS.values()) | {"conv1d_stream", "conv2d_stream", "max_pool1d_stream",
                                                   "max_pool2d_stream", "avg_pool1d_stream", "avg_pool2d_stream",
                                                   "softmax_stream"}
# what generated code names besides kernels: types, constants, the stream/array adapters and the testbench's print
GLUE = {"array", "stream", "strategy_t", "latency", "resource", "to_double", "stream_to_array", "array_to_stream",
        "split_stream", "flatten_stream", "weight_value"}


def _defines(header: str, name: str) -> bool:
    """`void name(` in the header, or a stream kernel made by a macro such as HWC_ACTIVATION_STREAM(relu, ...)."""
    text = (HEADERS / header).read_text()
    macro = name.endswith("_stream") and re.search(rf"^HWC_\w+_STREAM\({name[:-7]},", text, re.M)
    return bool(re.search(rf"\bvoid\s+{name}\s*\(", text) or macro)


@pytest.mark.parametrize("op", sorted(KERNELS))
def test_each_kernel_is_defined_in_its_header(op):
    for header, kernels in KERNELS[op]:
        assert (HEADERS / header).is_file(), f"{op}: no header {header} in templates/hls"
        for k in kernels:
            assert _defines(header, k), f"{op}: {k} is not a function of {header}"


def test_stream_kernels_and_glue_functions_are_in_the_shipped_headers():
    for name in STREAM | {"stream_to_array", "array_to_stream", "split_stream", "flatten_stream"}:
        assert any(_defines(h, name) for h in KERNEL_HEADERS), name


@pytest.mark.parametrize("io", ["parallel", "stream"])
def test_generated_code_calls_only_listed_kernels(tmp_path, io):
    out = tmp_path / "out"
    assert main(["compile", str(HW_EXAMPLES / "digits_cnn/model.onnx"), "--target", "xilinx", "--io", io,
                 "--input-range=0,1", "-o", str(out)]) == 0
    fw = out / "firmware"
    code = "".join(p.read_text() for p in [*fw.glob("*.[ch]*"), *(fw / "layers").glob("*.cpp")] if p.is_file())
    used = set(re.findall(r"hwc::(\w+)", code))
    listed = {k for pairs in KERNELS.values() for _, ks in pairs for k in ks}
    assert used - listed - STREAM - GLUE == set()
    assert used & (listed | STREAM) >= ({"conv2d", "max_pool2d", "relu", "dense"} if io == "parallel"
                                        else {"conv2d_stream", "max_pool2d_stream", "relu_stream", "dense_stream"})
