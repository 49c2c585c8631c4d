"""Code generators, one module per target. The table below is the whole registry (no discovery)."""

from __future__ import annotations

import importlib
import importlib.util

# CLI target name -> (module, class)
TARGETS = {
    "xilinx": ("hwc.backends.xilinx", "XilinxBackend"),
    "intel": ("hwc.backends.intel", "IntelBackend"),
    "tflite": ("hwc.backends.tflite", "TfliteBackend"),
    "edgetpu": ("hwc.backends.tflite", "TfliteBackend"),
    "openvino": ("hwc.backends.openvino", "OpenvinoBackend"),
    "ncs2": ("hwc.backends.openvino", "OpenvinoBackend"),
    "verilog": ("hwc.backends.verilog", "VerilogBackend"),
}


def available() -> list[str]:
    """Targets whose backend module is present in this installation."""
    out = []
    for name, (module, _) in TARGETS.items():
        if importlib.util.find_spec(module) is not None:
            out.append(name)
    return out


def get_backend(target: str):
    module, cls = TARGETS[target]
    return getattr(importlib.import_module(module), cls)()
