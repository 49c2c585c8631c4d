"""--target xilinx: a Vitis HLS project (ap_fixed) over hwc's kernel library (see backends/hls.py)."""

from __future__ import annotations

from .hls import HlsBackend
from .hls_vendor import XILINX


class XilinxBackend(HlsBackend):
    name = "xilinx"
    targets = ("xilinx",)
    vendor = XILINX
