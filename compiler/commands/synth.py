"""`hwc synth DIR --family xilinx|ice40|ecp5|gates [--part P]`: open-source synthesis (Yosys) of a
`--target verilog` output; per-layer and total LUTs, flip-flops, carry cells, DSPs, block RAMs (gates:
cells and NAND2-equivalent area), printed and written to DIR/synth_<family>.json for `hwc inspect DIR`."""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..errors import HwcError

COLUMNS = {"gates": ("cells", "nand2_eq", "ffs"), None: ("luts", "ffs", "carry", "dsps", "brams")}


def add_parser(sub) -> None:
    from hwc.backends.rtl_tools import TOOLS
    from hwc.backends.synth import FAMILIES

    s = sub.add_parser("synth", help="synthesize a --target verilog output with Yosys; LUTs, FFs, DSPs per layer")
    s.add_argument("dir", help="a directory written by `hwc compile --target verilog`")
    s.add_argument("--family", choices=FAMILIES, default="xilinx",
                   help="FPGA family (Yosys synth_xilinx / synth_ice40 / synth_ecp5) or generic gates [xilinx]")
    s.add_argument("--part", help="the part: for ice40 (hx8k, up5k, ...) and ecp5 (25k, 45k, 85k, ...) nextpnr places "
                   "and routes on it [the family's largest]; for others recorded with the results")
    s.add_argument("--clock", type=float, metavar="NS",
                   help="target clock period in ns for nextpnr (ice40/ecp5) [nextpnr's default]")
    s.add_argument("--tools", choices=TOOLS, default="auto",
                   help="Yosys/nextpnr binaries: native (on PATH), yowasp (pip, from the [rtl] extra), or auto: "
                   "native when on PATH [auto]")
    s.set_defaults(func=run)


def run(args) -> int:
    from hwc.backends.base import read_manifest
    from hwc.backends.synth import synthesize

    d = Path(args.dir)
    if not (d / "hwc.json").exists():
        raise HwcError("has no hwc.json: not a directory written by `hwc compile --target verilog`", str(d))
    manifest = read_manifest(d)
    if manifest.get("target") != "verilog":
        raise HwcError(f"hwc synth needs a --target verilog output, this one is {manifest.get('target')!r}", str(d))
    if args.clock is not None and not (math.isfinite(args.clock) and args.clock > 0):
        raise HwcError("--clock must be a positive period in ns")
    result = synthesize(d, manifest, args.family, args.part, clock_ns=args.clock, tools=args.tools)
    path = d / f"synth_{args.family}.json"
    path.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    print(f"synthesized {d} for {args.family} with {result['tool']} in {result['seconds']} s "
          f"({timing(result)})")
    print(synth_table(result))
    if "pnr" in result:
        print(pnr_text(result))
    print(f"wrote {path}")
    return 0


def timing(result: dict) -> str:
    """The design's latency, and for the streaming form its cycles per frame."""
    if result.get("cycles_per_frame") is not None:
        latency = f"latency {result['latency']:,} cycles, " if result.get("latency") is not None else ""
        return f"streaming: {latency}{result['cycles_per_frame']:,} cycles per frame"
    return f"latency {result['latency']} cycles"


def synth_table(result: dict) -> str:
    """Per-layer figures of a synthesis result as text columns (names left, numbers right)."""
    cols = COLUMNS["gates" if result["family"] == "gates" else None]
    rows = [("layer", "op", "node", *cols)]
    rows += [(l["module"].rsplit("_", 1)[-1], l["op"], l["node"], *(f"{l[c]:,}" for c in cols)) for l in result["layers"]]
    rows.append(("total", "", "", *(f"{result['total'][c]:,}" for c in cols)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
             for r in rows]
    rule = "  ".join("-" * w for w in widths)
    return "\n".join([lines[0], rule] + lines[1:-1] + [rule, lines[-1]])


def pnr_text(result: dict) -> str:
    """The place-and-route line of a Lattice synthesis result, with the shell's cells named apart."""
    from hwc.backends.rtl_pnr import pnr_line

    shell = result.get("shell", {})
    return pnr_line(result["pnr"], result["family"]) + \
        f" (the I/O shell adds {shell.get('luts', 0):,} LUTs, {shell.get('ffs', 0):,} FFs)"
