"""The open FPGA tools `hwc synth` runs (Yosys, nextpnr-ice40, nextpnr-ecp5): native or from the registry.

`tools` chooses, explicitly: "native" (the binary on PATH: faster), "yowasp" (yowasp-<tool> from the
`[rtl]` extra: WebAssembly, the first run on a machine compiles it to machine code for about a minute,
then it is cached), "auto" (native when on PATH, else yowasp). Debian packages yosys and nextpnr-ice40,
not nextpnr-ecp5.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from ..compiler.errors import HwcError

TOOLS = ("auto", "native", "yowasp")
NATIVE = {"yosys": "apt-get install yosys", "nextpnr-ice40": "apt-get install nextpnr-ice40",
          "nextpnr-ecp5": "no Debian package: build nextpnr from source"}
VERSION = re.compile(r"(Yosys|Version) (?:nextpnr-)?([0-9][\w.+-]*)")
VERSION_FLAG = {"yosys": "-V", "nextpnr-ice40": "--version", "nextpnr-ecp5": "--version"}


@dataclass(frozen=True)
class Tool:
    name: str
    argv: tuple[str, ...]
    kind: str  # "native" | "yowasp"

    @property
    def what(self) -> str:
        return f"{self.name} (native)" if self.kind == "native" else f"yowasp-{self.name} (WebAssembly)"

    def version(self) -> str:
        """'Yosys 0.23', 'nextpnr 0.11.1': from the tool's version line ('Yosys 0.23 (git sha1 ...)',
        'nextpnr-ice40 -- Next Generation Place and Route (Version nextpnr-0.11.1)')."""
        r = subprocess.run([*self.argv, VERSION_FLAG[self.name]], capture_output=True, text=True, timeout=900)
        m = VERSION.search(r.stdout + "\n" + r.stderr)
        if not m:
            return f"{self.name} (version unknown)"
        return f"{'Yosys' if m.group(1) == 'Yosys' else 'nextpnr'} {m.group(2)}"


def find(name: str, tools: str = "auto") -> Tool:
    """The tool `name` ('yosys', 'nextpnr-ice40', 'nextpnr-ecp5') as `tools` asks for it."""
    if tools not in TOOLS:
        raise HwcError(f"unknown --tools {tools!r} (choose from {', '.join(TOOLS)})")
    native = shutil.which(name)
    if native and tools != "yowasp":
        return Tool(name, (native,), "native")
    if tools == "native":
        raise HwcError(f"--tools native: {name} is not on PATH ({NATIVE[name]}; or --tools yowasp)")
    wasm = _script(f"yowasp-{name}")
    if wasm:
        return Tool(name, (wasm,), "yowasp")
    alternative = f" or {NATIVE[name]}" if tools == "auto" else ""
    raise HwcError(f"hwc synth needs {name}: pip install 'hwc[rtl]' (yowasp-{name}){alternative}")


def _script(name: str) -> str | None:
    """A console script on PATH or next to this Python (a venv's bin/ need not be on PATH)."""
    found = shutil.which(name)
    if found:
        return found
    beside = Path(sysconfig.get_path("scripts")) / name
    return str(beside) if beside.exists() else None
