"""The parts table (parts.json, capacities with their sources) and the lookup of a --part name."""

from __future__ import annotations

import functools
import importlib.resources
import json
import re

VENDOR_DEFAULT = {"xilinx": "xcvu13p", "intel": "agilex7"}
FAMILY_DEFAULT = {"xilinx": ("DSP48E2", "BRAM18"), "intel": ("intel-vp", "M20K")}


@functools.lru_cache(maxsize=None)
def table() -> dict[str, dict]:
    return json.loads(importlib.resources.files("hwc.compiler.cost").joinpath("parts.json").read_text())["parts"]


def key(part: str) -> str:
    return re.sub(r"[\s_\-]", "", part.lower())


def find_part(part: str | None) -> tuple[str, dict] | None:
    """(table key, entry) of the longest table key that prefixes the part name; None if unknown."""
    if not part:
        return None
    k = key(part)
    hits = [name for name in table() if k.startswith(name)]
    if not hits:
        return None
    best = max(hits, key=len)
    return best, table()[best]


def vendor_of(entry: dict) -> str:
    return entry["family"].split("-")[0]
