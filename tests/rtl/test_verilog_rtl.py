"""The generated RTL itself: lint-clean under Yosys (`read_verilog` without warnings, `check -assert`),
deterministic, sanitised against hostile node names, refusing layers too large to unroll; and
`hwc synth` (Yosys) with its JSON and `hwc inspect DIR`."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest
from onnx import helper

from conftest import HW_EXAMPLES, F, hwc, make_model, save

HOSTILE = "evil\n*/ module x; endmodule // `define \\ \"q\" $finish; ??/"


def tiny_model(path, names=("g", "r"), n_in=6, n_out=3, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(n_out, n_in)).astype(np.float32)
    b = rng.normal(size=n_out).astype(np.float32)
    nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["h"], transB=1, name=names[0]),
             helper.make_node("Relu", ["h"], [names[1] if names[1] != "r" else "y"], name=names[1])]
    out = names[1] if names[1] != "r" else "y"
    return save(make_model(nodes, [("x", F, ["N", n_in])], [(out, F, ["N", n_out])], [("w", w), ("b", b)]), path)


def compile_rtl(tmp_path, model, name="rtl", *options):
    out = tmp_path / name
    r = hwc("compile", model, "--target", "verilog", "-o", out, *options)
    assert r.returncode == 0, r.stderr
    return out


def yosys_lint(out, extra=(), top="hwc_model") -> list[str]:
    manifest = json.loads((out / "hwc.json").read_text())
    srcs = " ".join(manifest["options"]["sources"] + list(extra))
    r = subprocess.run(["yosys", "-p", f"read_verilog {srcs}; hierarchy -check -top {top}; proc; check -assert"],
                       capture_output=True, text=True, cwd=out)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    return [l for l in r.stdout.splitlines() if "warning" in l.lower()]


def test_lint_clean_and_deterministic(tmp_path):
    args = ("--wbits", "3", "--abits", "5", "--calib", f"{HW_EXAMPLES}/digits_data/calib.npz:x")
    a = compile_rtl(tmp_path, HW_EXAMPLES / "digits_mlp/model.onnx", "a", *args)
    b = compile_rtl(tmp_path, HW_EXAMPLES / "digits_mlp/model.onnx", "b", *args)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    assert yosys_lint(a) == []


def test_hostile_node_names_never_reach_identifiers(tmp_path):
    model = tiny_model(tmp_path / "m.onnx", names=(HOSTILE, HOSTILE + "2"))
    out = compile_rtl(tmp_path, model)
    assert yosys_lint(out) == []
    for v in (out / "rtl").glob("*.v"):
        text = v.read_text()
        code = "\n".join(l.split("//", 1)[0] for l in text.splitlines())  # identifiers live outside comments
        assert "evil" not in code and "endmodule //" not in code
        assert len(re.findall(r"^\s*module\b", code, re.M)) == 1
    v = hwc("verify", out, "--samples", "50")
    assert v.returncode == 0 and "0 mismatches" in v.stdout, v.stdout + v.stderr


def test_too_large_to_unroll_is_refused(tmp_path):
    model = tiny_model(tmp_path / "big.onnx", names=("huge", "r"), n_in=520, n_out=500)
    r = hwc("compile", model, "--target", "verilog", "-o", tmp_path / "out", "--wbits", "8")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "node 'huge' (Dense)" in r.stderr and "too large to unroll" in r.stderr
    assert "520 x 500 constant matrix" in r.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("family,columns", [("ice40", ("luts", "ffs", "carry")), ("gates", ("cells", "nand2_eq"))])
def test_synth_per_layer_and_total(tmp_path, family, columns):
    out = compile_rtl(tmp_path, tiny_model(tmp_path / "m.onnx"), "rtl", "--wbits", "4", "--abits", "6")
    r = hwc("synth", out, "--family", family)
    assert r.returncode == 0, r.stderr
    res = json.loads((out / f"synth_{family}.json").read_text())
    assert [l["op"] for l in res["layers"]] == ["Dense", "Relu"]
    for c in columns:
        assert res["total"][c] >= sum(l[c] for l in res["layers"]) and res["layers"][0][c] > 0
    assert res["latency"] == 2 and res["family"] == family
    shown = hwc("inspect", out)
    assert f"synthesis ({family}" in shown.stdout


def test_synth_refuses_other_targets(tmp_path):
    out = tmp_path / "sim"
    assert hwc("compile", tiny_model(tmp_path / "m.onnx"), "-o", out).returncode == 0
    r = hwc("synth", out)
    assert r.returncode == 2 and "not a directory written by" in r.stderr


def test_residual_add_paths_balanced(tmp_path):
    """A skip connection: Add(relu(A x), B relu(A x)); the shorter path is delayed by hwc_delay."""
    rng = np.random.default_rng(1)
    a, b = (rng.normal(size=(6, 6)).astype(np.float32) for _ in range(2))
    nodes = [helper.make_node("Gemm", ["x", "a"], ["h"], transB=1), helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Gemm", ["r", "b"], ["g"], transB=1), helper.make_node("Add", ["r", "g"], ["y"])]
    model = save(make_model(nodes, [("x", F, ["N", 6])], [("y", F, ["N", 6])], [("a", a), ("b", b)]), tmp_path / "res.onnx")
    out = compile_rtl(tmp_path, model, "rtl", "--wbits", "4", "--abits", "8")
    assert "hwc_delay #(" in (out / "rtl" / "hwc_model_core.v").read_text()
    assert json.loads((out / "rtl.json").read_text())["latency"] == 4
    v = hwc("verify", out, "--samples", "200")
    assert v.returncode == 0 and "0 mismatches" in v.stdout and "latency 4 cycles" in v.stdout, v.stdout + v.stderr
