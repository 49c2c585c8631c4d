"""--target intel: an Intel HLS Compiler project (ac_fixed) over hwc's kernel library (see backends/hls.py)."""

from __future__ import annotations

from .hls import HlsBackend
from .hls_vendor import INTEL


class IntelBackend(HlsBackend):
    name = "intel"
    targets = ("intel",)
    vendor = INTEL
