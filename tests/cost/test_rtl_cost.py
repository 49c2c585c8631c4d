"""The RTL cost model (compiler/cost/rtl.py): exact primitive counts of emitted statements, estimates in
hwc.json and the compile summary, and agreement with Yosys within 25 % on a design it was not fitted on."""

import json
import sys
from pathlib import Path

import pytest

from hwc.compiler.cost.rtl import count
from conftest import HW_EXAMPLES, hwc

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rtl"))
from test_verilog_rtl import tiny_model  # noqa: E402

JET = HW_EXAMPLES / "jet_mlp"


def test_counts_of_emitted_statements():
    lines = ["reg signed [9:0] s_0_n0;", "reg signed [10:0] s_0_n1;", "reg signed [11:0] m_1_3_n0;",
             "always @* begin", "    s_0_n0 = ($signed(x0[0 +: 8]) + $signed(x0[8 +: 8]));",
             "    s_0_n1 = (s_0_n0 - 6'sd26);", "end",
             "always @* m_1_3_n0 = (($signed(x0[8 +: 8]) <<< 2) - $signed(x0[8 +: 8]));",
             "wire signed [11:0] x_0 = $signed(x0[0 +: 12]);",
             "wire signed [11:0] r_0 = (x_0 < 0 ? 1'sd0 : x_0);",
             "hwc_cast #(.IW(12), .S(5), .OW(4), .OSIGNED(0), .RND(2), .OVF(1)) c0 (.x(r_0), .y(y_c[0 +: 4]));",
             "hwc_cast #(.IW(12), .S(0), .OW(12), .OSIGNED(1), .RND(2), .OVF(1)) c1 (.x(s_0_n1), .y(y_c[4 +: 12]));",
             "hwc_cast #(.IW(12), .S(3), .OW(9), .OSIGNED(1), .RND(0), .OVF(0)) c2 (.x(s_0_n1), .y(y_c[16 +: 9]));",
             "reg [24:0] y_r;", "always @(posedge clk) if (ce) y_r <= y_c;"]
    c = count(lines)
    assert (c.adders, c.adder_bits, c.shift_bits, c.select_bits) == (3, 10 + 11 + 12, 12, 12)
    # c0 rounds 7 kept bits (+1) and clamps them to an unsigned 4-bit range; c1 fits; c2 truncates and wraps
    assert (c.round_bits, c.sat_bits, c.reg_bits, c.dsps) == (8, 16, 25, 0)
    assert count(["hwc_delay #(.W(24), .D(3)) d_i (.clk(clk), .ce(ce), .x(a), .y(b));"]).reg_bits == 72


def estimate(tmp_path, name, *options):
    out = tmp_path / name
    r = hwc("compile", JET / "model.onnx", "--target", "verilog", "--abits", "4", "--input-bits", "8",
            "--calib", f"{JET}/calib.npz:x", "-o", out, *options)
    assert r.returncode == 0, r.stderr
    figs = json.loads((out / "hwc.json").read_text())["figures"]
    total = {f["name"]: f["value"] for f in figs["total"]}
    assert all(f["source"] == "estimated" for f in figs["total"])
    assert f"estimated {total['lut']:,} LUTs, {total['ff']:,} FFs" in r.stdout
    assert sum(next(f["value"] for f in l["figures"] if f["name"] == "lut") for l in figs["layers"]) == total["lut"]
    return total


def test_estimate_falls_with_weight_bits_and_pruning(tmp_path):
    luts = [estimate(tmp_path, f"w{w}", "--wbits", str(w))["lut"] for w in (6, 4, 2)]
    assert luts[0] > luts[1] > luts[2]
    pruned = [estimate(tmp_path, f"p{p}", "--wbits", "4", "--prune", str(p))["lut"] for p in (0.5, 0.9)]
    assert luts[1] > pruned[0] > pruned[1]


def test_estimate_within_25_percent_of_yosys(tmp_path):
    """A design the constants were not fitted on (other sizes, seed and bits): Yosys synth_xilinx, ~15 s."""
    out = tmp_path / "rtl"
    r = hwc("compile", tiny_model(tmp_path / "m.onnx", n_in=12, n_out=6, seed=3), "--target", "verilog",
            "--wbits", "5", "--abits", "5", "-o", out)
    assert r.returncode == 0, r.stderr
    assert hwc("synth", out, "--family", "xilinx").returncode == 0
    doc = json.loads(hwc("inspect", out, "--json").stdout)
    total = {(f["name"], f["source"]): f["value"] for f in doc["figures"]["total"]}
    for name in ("lut", "ff"):
        est, meas = total[name, "estimated"], total[name, "measured"]
        assert meas > 0 and abs(est - meas) <= 0.25 * meas, (name, est, meas)
    shown = hwc("inspect", out).stdout
    assert f"lut {total['lut', 'measured']:,} LUT (measured; estimated {total['lut', 'estimated']:,}, error" in shown


def test_dsp_products_are_counted_with_their_adders(tmp_path):
    out = tmp_path / "dsp"
    r = hwc("compile", tiny_model(tmp_path / "m.onnx"), "--target", "verilog", "--wbits", "8", "--rtl-mult", "dsp",
            "-o", out)
    assert r.returncode == 0, r.stderr
    products = sum(l["multipliers"] for l in json.loads((out / "rtl.json").read_text())["layers"])
    total = {f["name"]: f["value"] for f in json.loads((out / "hwc.json").read_text())["figures"]["total"]}
    assert products > 0 and total["dsp"] == products and total["lut"] > 0
