"""hwc's HLS estimates (compiler/cost/hls.py) next to published Vivado/Vitis HLS synthesis reports of
hls4ml's jet-tagging MLP (16-64-32-32-5, the hls4ml tutorial's models 1-3), with their sources.

The published figures are the C-synthesis reports (`myproject_csynth.rpt`) that hls4ml users committed
with their tutorial projects; each row names the repository, commit and file. hwc's rows compile the
corpus's copies of the same architecture (hls4ml's example model `three_layer_keras.onnx`, and the
tutorial-part-4 QKeras model `qkeras_jettagging.onnx`) at the same precision, part and clock: same network
and precision, another training run (two training runs of the same tutorial differ by 5 % in DSPs, rows
2 and 3). hwc's design is not hls4ml's: its accumulators are exact (30-31 bits here, hls4ml's are the
layer's ap_fixed<16,6>), so its adders, registers and pipeline are wider and deeper.
Usage: python bench/hls_published.py [--out FILE.md]."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _cli import main

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "models"
FLOAT = CORPUS / "jet_tagging_mlp_float" / "three_layer_keras.onnx"
QKERAS = CORPUS / "jet_tagging_mlp_qonnx" / "qkeras_jettagging.onnx"
RPT = "hls4ml_prj/myproject_prj/solution1/syn/report/myproject_csynth.rpt"
TUTORIAL = "hls4ml tutorial, latency strategy, reuse 1, io_parallel, xcu250-figd2104-2L-e, 5 ns"

# hwc configurations: (label, model, extra hwc compile arguments)
HWC = {
    "float": ("float weights as fixed<16,6>, 16-bit activations", FLOAT, ["--config", "W16", "--abits", "16"]),
    "pruned": ("the same, 75 % of the weights pruned (l1, per layer)", FLOAT,
               ["--config", "W16", "--abits", "16", "--prune", "0.75"]),
    "qkeras": ("QKeras model at its own 6-bit precision, 75 % pruned", QKERAS, ["--prune", "0.75"]),
}

# Published reports: (model, tool, repository, commit, path, hwc row, DSP, LUT, FF, BRAM18, latency, II,
# per-Dense DSPs in layer order or None where the report's instance names do not say which layer is which)
PUBLISHED = [
    ("model_1: float, ap_fixed<16,6>", "Vitis HLS 2022.2", "nrp-nautilus/6nrp-hls4ml",
     "c83384d5a417642bb38ce8a523b8c4c189ecdc26", "model_1/" + RPT, "float",
     2557, 116694, 24233, 8, 15, 1, (719, 1097, 614, 122)),
    ("model_1: float, ap_fixed<16,6>", "Vivado HLS 2019.2", "Hector-Plata/hls4ml-tutorial",
     "4ac4f07a0edf530cde74aec53610e1e22a6ecc2d", "model_1/" + RPT, "float",
     1520, 85140, 11100, 4, 13, 1, None),
    ("model_1 (another training run)", "Vivado HLS 2019.2", "Hector-Plata/hls4ml-tutorial",
     "9f451d82a3c3d1724c2e5f6eed49cc017d6c74ac", "model_1/" + RPT, "float",
     1450, 84942, 10961, 4, 13, 1, None),
    ("model_2: 75 % pruned, ap_fixed<16,6>", "Vivado HLS 2019.2", "Hector-Plata/hls4ml-tutorial",
     "4ac4f07a0edf530cde74aec53610e1e22a6ecc2d", "model_2/" + RPT, "pruned",
     803, 30204, 5734, 4, 11, 1, None),
    ("model_3: QKeras 6-bit weights, ufixed<6,0> activations, 75 % pruned", "Vivado HLS 2019.2",
     "Hector-Plata/hls4ml-tutorial", "4ac4f07a0edf530cde74aec53610e1e22a6ecc2d", "model_3/" + RPT, "qkeras",
     28, 32227, 3045, 4, 10, 1, None),
]


def estimate(key: str, tmp: Path) -> dict:
    """hwc's estimated totals and per-Dense DSPs for one HWC configuration (from hwc.json)."""
    _, model, extra = HWC[key]
    w16 = tmp / "w16.yaml"
    w16.write_text("layers: {Dense: {weight: {width: 16, int_bits: 6}}}\n")
    out = tmp / key
    args = [str(w16) if a == "W16" else a for a in extra]
    subprocess.run([sys.executable, "-m", "hwc.compiler.cli", "compile", str(model), "--target", "xilinx",
                    "--part", "xcu250-figd2104-2L-e", "--clock", "5", "-o", str(out), *args],
                   check=True, capture_output=True, text=True)
    figs = json.loads((out / "hwc.json").read_text())["figures"]
    total = {f["name"]: f["value"] for f in figs["total"]}
    dense = [{f["name"]: f["value"] for f in layer["figures"]}["dsp"] for layer in figs["layers"]
             if layer["op"] == "Dense"]
    return {**total, "dense_dsp": dense}


def _ratio(est: float, pub: float) -> str:
    return f"{est / pub:.2f}" if pub else "n/a"


def section() -> str:
    if not FLOAT.is_file() or not QKERAS.is_file():
        return f"### HLS estimates vs published reports\n\n(skipped: the corpus models are not at {CORPUS})\n"
    with tempfile.TemporaryDirectory() as tmp:
        est = {k: estimate(k, Path(tmp)) for k in HWC}
    lines = ["### HLS cost estimates vs published Vivado/Vitis HLS reports of hls4ml's jet-tagging MLP (16-64-32-32-5)",
             "", f"Published: C-synthesis estimates of the {TUTORIAL}, from the `myproject_csynth.rpt` files the "
             "named repositories committed. hwc: `hwc compile --target xilinx --part xcu250-figd2104-2L-e --clock 5`"
             " of the corpus's copy of the same architecture (another training run):", ""]
    lines += [f"- **{k}**: {HWC[k][0]} (`{HWC[k][1].name}`)" for k in HWC]
    lines += ["", "| published model | tool | source | DSP | LUT | FF | BRAM18 | latency | hwc row | hwc DSP | hwc LUT "
              "| hwc FF | hwc BRAM18 | hwc latency | DSP hwc/published | LUT | FF |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for model, tool, repo, commit, path, key, dsp, lut, ff, bram, lat, ii, _ in PUBLISHED:
        e = est[key]
        lines.append(f"| {model} | {tool} | [{repo}@{commit[:7]}](https://github.com/{repo}/blob/{commit}/{path}) "
                     f"| {dsp:,} | {lut:,} | {ff:,} | {bram} | {lat} | {key} | {e['dsp']:,.0f} | {e['lut']:,.0f} "
                     f"| {e['ff']:,.0f} | {e['bram']:,.0f} | {e['latency']} | {_ratio(e['dsp'], dsp)} "
                     f"| {_ratio(e['lut'], lut)} | {_ratio(e['ff'], ff)} |")
    for model, tool, repo, commit, path, key, *_, per_layer in PUBLISHED:
        if per_layer:
            e = est[key]["dense_dsp"]
            cells = ", ".join(f"{p:,} vs {h:,.0f} ({100 * (h - p) / p:+.0f} %)" for p, h in zip(per_layer, e))
            lines += ["", f"DSPs per Dense layer, {tool} ({repo}) vs hwc: {cells}."]
    lines += ["", "Fitted to these reports: the Vitis HLS constant-multiplier threshold (8 significant bits, "
              "compiler/cost/primitives.py) to the Vitis row's total DSPs, and the pipeline constants (1 ns per "
              "adder level, 1-cycle DSP products at 5 ns, compiler/cost/hls.py) to the reports' one cycle per "
              "Dense layer. Not fitted: the per-layer DSP split, the pruned and QKeras rows, LUTs and FFs. Vivado "
              "HLS 2019.2 maps fewer constants to DSPs (its rows fit 9 bits). hwc's LUTs and latency are expected "
              "to be higher than hls4ml's: its accumulators are exact (30-31 bits here, hls4ml's 16), and it "
              "registers each layer's products and its tree's result."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main(__doc__, section))
