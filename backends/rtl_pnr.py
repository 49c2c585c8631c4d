"""Place and route of a synthesized `--target verilog` design on a Lattice part with nextpnr: achieved
Fmax, utilisation, and whether the design fits the part.

The design is placed inside a shell (templates/rtl/pnr_shell.v.j2) whose shift registers carry the wide
data buses, so that it fits a package's pins and every path is register to register; the shell's own
cells are reported apart (`shell`). Fmax is nextpnr's achieved frequency of the clock `clk` (its
`--report` JSON); utilisation is nextpnr's (packed cells: ICESTORM_LC, TRELLIS_COMB, ...). A design that
does not fit is a result (`fits: false` and the reason), not an error. Fixed seed: the run is repeatable.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

from ..compiler.errors import HwcError
from .rtl_tools import find

SHELL = "hwc_pnr_shell"
# family -> part (--part) -> nextpnr device arguments; the first part is the default (the family's largest)
PARTS = {
    "ice40": {"hx8k": ["--hx8k"], "hx4k": ["--hx4k"], "hx1k": ["--hx1k"], "lp8k": ["--lp8k"], "lp4k": ["--lp4k"],
              "lp1k": ["--lp1k"], "lp384": ["--lp384"], "up5k": ["--up5k"], "up3k": ["--up3k"], "u4k": ["--u4k"]},
    "ecp5": {p: [f"--{p}", "--package", "CABGA381"] for p in
             ("85k", "45k", "25k", "12k", "um-85k", "um-45k", "um-25k", "um5g-85k", "um5g-45k", "um5g-25k")},
}
# family -> the packed logic cell whose count decides the fit first (reported in the one-line result)
LOGIC = {"ice40": "ICESTORM_LC", "ecp5": "TRELLIS_COMB"}
UTILISATION_LINE = re.compile(r"^Info:\s+(\w+):\s+(\d+)/\s*(\d+)\s+\d+%")


def part_of(family: str, part: str | None) -> str:
    """The part to place on: the given one (checked against the family's table) or the family's largest."""
    parts = PARTS[family]
    if part is None:
        return next(iter(parts))
    if part.lower() not in parts:
        raise HwcError(f"--part {part!r} is not an {family} part nextpnr knows (choose from {', '.join(parts)})")
    return part.lower()


def render_shell(env, meta: dict, top: str) -> str:
    """The shell's Verilog for the design's top (its interface and bus widths from rtl.json)."""
    return env.get_template("rtl/pnr_shell.v.j2").render(
        {"top": top, "shell": SHELL, "io": meta["io"], "in_bus": meta["in_bus"], "out_bus": meta["out_bus"]})


def place_and_route(work: Path, netlist: str, family: str, part: str, clock_ns: float | None,
                    tools: str = "auto") -> dict:
    """nextpnr on the netlist JSON in `work`; returns {"tool", "version", "part", "fits", "reason",
    "fmax_mhz", "target_mhz", "meets_target", "utilisation": {cell: {"used", "available"}}, "seconds"}."""
    tool = find(f"nextpnr-{family}", tools)
    argv = [*tool.argv, *PARTS[family][part], "--json", netlist, "--report", "report.json", "--top", SHELL,
            "--seed", "1", "--timing-allow-fail", "-l", "nextpnr.log", "-q"]
    if clock_ns is not None:
        argv += ["--freq", f"{1000.0 / clock_ns:.3f}"]
    t0 = time.perf_counter()
    r = subprocess.run(argv, capture_output=True, text=True, cwd=work, timeout=4 * 3600)
    seconds = round(time.perf_counter() - t0, 1)
    log = (work / "nextpnr.log").read_text() if (work / "nextpnr.log").exists() else r.stdout + r.stderr
    result = {"tool": tool.what, "version": tool.version(), "part": part, "seconds": seconds, "fits": True,
              "reason": None, "fmax_mhz": None, "target_mhz": None, "meets_target": None,
              "utilisation": utilisation_from_log(log)}
    over = [f"{c['used']:,} of {c['available']:,} {name}" for name, c in result["utilisation"].items()
            if c["used"] > c["available"]]
    if r.returncode or not (work / "report.json").exists():
        errors = [l.strip() for l in log.splitlines() if l.startswith("ERROR")]
        if not over and not any("place" in e.lower() or "bel" in e.lower() for e in errors):
            raise HwcError(f"nextpnr-{family} failed: {errors[0] if errors else (r.stderr.strip() or r.returncode)}")
        result.update(fits=False, reason="needs " + ", ".join(over) if over else errors[0])
        return result
    report = json.loads((work / "report.json").read_text())
    result["utilisation"] = {k: {"used": v["used"], "available": v["available"]}
                             for k, v in sorted(report["utilization"].items()) if v["used"]}
    clocks = [v for k, v in report.get("fmax", {}).items() if "clk" in k]
    if clocks:
        worst = min(clocks, key=lambda c: c["achieved"])
        result["fmax_mhz"] = round(worst["achieved"], 2)
        result["target_mhz"] = round(worst["constraint"], 2)
        result["meets_target"] = worst["achieved"] >= worst["constraint"]
    return result


def utilisation_from_log(log: str) -> dict:
    """nextpnr's 'Device utilisation' lines (printed after packing, also when placement then fails)."""
    found = {}
    for line in log.splitlines():
        m = UTILISATION_LINE.match(line)
        if m and int(m.group(2)):
            found[m.group(1)] = {"used": int(m.group(2)), "available": int(m.group(3))}
    return dict(sorted(found.items()))


def pnr_line(pnr: dict, family: str) -> str:
    """One line for the terminal and `hwc inspect`: fit, Fmax and the logic cells used."""
    head = f"place and route ({pnr['tool']}, {pnr['version']}) on {family} {pnr['part']}"
    if not pnr["fits"]:
        return f"{head}: does not fit: {pnr['reason']}"
    logic = pnr["utilisation"].get(LOGIC[family])
    used = f"{logic['used']:,} of {logic['available']:,} {LOGIC[family]}" if logic else "no logic cells"
    fmax = f"Fmax {pnr['fmax_mhz']} MHz (target {pnr['target_mhz']} MHz" + \
        (", met)" if pnr["meets_target"] else ", missed)") if pnr["fmax_mhz"] is not None else "no clocked path"
    return f"{head}: fits, {used}, {fmax} in {pnr['seconds']} s"
