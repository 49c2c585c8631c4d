"""What a backend is. A backend reads the IR (it never mutates the caller's graph: it lowers a clone
with the passes it declares), writes its files into a directory, and can verify them against the
simulator. `hwc compile --target NAME` (compiler/compile_model.py) and `hwc verify DIR` go through this
interface only. Backends read the typed options of compiler/options.py, never the command line.

Every output directory holds `hwc.json` (the manifest: target, options, files) so that
`hwc verify DIR` knows which backend wrote it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..compiler.ir.graph import Graph
from ..compiler.options import CompileOptions, VerifyOptions

MANIFEST = "hwc.json"


@dataclass
class CompileResult:
    files: list[str]  # paths relative to the output directory
    summary: list[str] = field(default_factory=list)  # lines printed after the compile


@dataclass
class VerifyReport:
    compared: int  # values compared
    mismatches: int
    samples: int
    first_difference: str = ""  # "layer L, index I: got G, expected E" when mismatches > 0
    details: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.mismatches == 0 and self.compared > 0


class Backend:
    name: str = ""
    targets: Sequence[str] = ()  # CLI names served by this backend (aliases included)

    def compile(self, graph: Graph, options: CompileOptions, outdir: Path, source: str = "") -> CompileResult:
        """Lower a clone of `graph` for `options.target` and write the files into `outdir`; `source`
        names the model in messages and generated comments."""
        raise NotImplementedError

    def verify(self, outdir: Path, manifest: dict[str, Any], inputs: list[np.ndarray] | None,
               options: VerifyOptions, seed: int = 0) -> VerifyReport:
        """Run the target's executor on `inputs` (None: `options.samples` random inputs drawn with
        `seed`) and compare with the simulator."""
        raise NotImplementedError


def write_manifest(outdir: Path, target: str, options: dict[str, Any], files: list[str], figures: dict | None = None) -> str:
    """hwc.json; `figures` is the cost model's estimate (compiler/cost/figures.py schema)."""
    doc = {"format": "hwc-output", "version": 1, "target": target, "options": options, "files": sorted(files)}
    if figures is not None:
        doc["figures"] = figures
    (outdir / MANIFEST).write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    return MANIFEST


def read_manifest(outdir: Path) -> dict[str, Any]:
    return json.loads((Path(outdir) / MANIFEST).read_text())
