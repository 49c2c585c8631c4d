"""The RTL cost model (compiler/cost/rtl.py) against Yosys: predicted and measured LUTs and flip-flops of
the jet-shaped MLP's points of bench/rtl_luts.py (the same compiled directories and Yosys results, reused
while the RTL is unchanged), with the error of each. Usage: python bench/rtl_cost.py [--out FILE.md]."""

from __future__ import annotations

import json
import sys

from _cli import main
from rtl_luts import POINTS, compiled


def row(wbits: int, prune: float) -> dict:
    out = compiled(wbits, prune)
    est = {f["name"]: f["value"] for f in json.loads((out / "hwc.json").read_text())["figures"]["total"]}
    syn = json.loads((out / "synth_xilinx.json").read_text())["total"]
    return {"point": f"w{wbits}, {100 * prune:.0f} % pruned", "lut": (est["lut"], syn["luts"]),
            "ff": (est["ff"], syn["ffs"])}


def _row(args) -> dict:
    return row(*args)


def error(pred: float, meas: float) -> float:
    return 100 * (pred - meas) / meas


def section() -> str:
    from multiprocessing import Pool

    with Pool(2) as pool:
        rows = pool.map(_row, POINTS, chunksize=1)
    lines = ["### RTL cost model: predicted vs Yosys-measured LUTs and FFs (jet-shaped MLP, --target verilog)", "",
             "Predicted: `compiler/cost/rtl.py` from the emitted RTL (the figures `hwc compile --target verilog` "
             "writes into hwc.json). Measured: `hwc synth --family xilinx` (Yosys `synth_xilinx -flatten`, "
             "7-series cells, no place and route). 4-bit activations, 8-bit input.", "",
             "| model | point | LUTs predicted | LUTs measured | error | FFs predicted | FFs measured | error |",
             "|---|---|---|---|---|---|---|---|"]
    worst = {"lut": 0.0, "ff": 0.0}
    for r in rows:
        cells = []
        for k in ("lut", "ff"):
            p, m = r[k]
            worst[k] = max(worst[k], abs(error(p, m)))
            cells.append(f"{p:,} | {m:,} | {error(p, m):+.1f} %")
        lines.append(f"| jet MLP | {r['point']} | " + " | ".join(cells) + " |")
    lines += ["", f"Largest error: LUTs {worst['lut']:.1f} %, FFs {worst['ff']:.1f} %."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main(__doc__, section))
