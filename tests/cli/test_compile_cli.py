"""`hwc compile --target sim`, `hwc simulate DIR`, `hwc inspect DIR` and `hwc config` round trips."""

from __future__ import annotations

import hashlib
import json

import numpy as np

from conftest import HW_EXAMPLES, hwc

MLP = HW_EXAMPLES / "digits_mlp" / "model.onnx"
CALIB = f"{HW_EXAMPLES / 'digits_data' / 'calib.npz'}:x"
TEST = f"{HW_EXAMPLES / 'digits_data' / 'test.npz'}"


def tree_hash(d):
    h = hashlib.sha256()
    for p in sorted(d.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(d).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_compile_simulate_inspect(tmp_path):
    out = tmp_path / "mlp"
    res = hwc("compile", MLP, "--target", "sim", "--wbits", "4", "--abits", "8", "--calib", CALIB, "-o", out)
    assert res.returncode == 0, res.stderr
    assert "wbits 4, abits 8" in res.stdout and "multipliers" in res.stdout
    assert sorted(p.name for p in out.iterdir()) == ["model.json", "weights.npz"]
    res = hwc("simulate", out, "--input", f"{TEST}:x_test", "--labels", f"{TEST}:y_test", "-o", tmp_path / "y.npy")
    assert res.returncode == 0, res.stderr
    assert "top-1 accuracy" in res.stdout
    res = hwc("inspect", out, "--json")
    doc = json.loads(res.stdout)
    dense = [r for r in doc["layers"] if r["op"] == "Dense"]
    assert len(dense) == 3 and all(r["weight"].startswith("fixed<4,") for r in dense)
    assert doc["total"]["multipliers"] == sum(r["multipliers"] for r in dense) > 0


def test_compile_is_deterministic_and_refuses_to_overwrite(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        assert hwc("compile", MLP, "--calib", CALIB, "-o", d).returncode == 0
    assert tree_hash(a) == tree_hash(b)
    res = hwc("compile", MLP, "--calib", CALIB, "-o", a)
    assert res.returncode == 2 and "already exists" in res.stderr
    assert hwc("compile", MLP, "--calib", CALIB, "--wbits", "4", "-o", a, "--force").returncode == 0
    assert tree_hash(a) != tree_hash(b)


def test_bad_options_are_one_line_errors(tmp_path):
    for args, needle in [(["--wbits", "9"], "--wbits must be 1..8"), (["--abits", "1"], "--abits must be 2..32"),
                         (["--ternary"], "--ternary needs --wbits 2"), (["--input-range", "1"], "LO,HI")]:
        res = hwc("compile", MLP, *args, "-o", tmp_path / "x")
        assert res.returncode == 2 and needle in res.stderr and "Traceback" not in res.stderr, res.stderr
        assert not (tmp_path / "x").exists()


def test_config_file_round_trip(tmp_path):
    """`hwc config` writes what the compiler would choose; compiling with it changes nothing;
    editing one layer's output type changes exactly that layer."""
    res = hwc("config", MLP, "--calib", CALIB, "--abits", "8")
    assert res.returncode == 0, res.stderr
    cfg = tmp_path / "hwc.yaml"
    cfg.write_text(res.stdout)
    plain, configured = tmp_path / "plain", tmp_path / "configured"
    assert hwc("compile", MLP, "--calib", CALIB, "--abits", "8", "-o", plain).returncode == 0
    assert hwc("compile", MLP, "--calib", CALIB, "--abits", "8", "--config", cfg, "-o", configured).returncode == 0
    assert (plain / "model.json").read_text() == (configured / "model.json").read_text()
    edited = tmp_path / "edited.yaml"
    edited.write_text("layers:\n  /1/Relu:\n    output: {width: 5, int_bits: 3, rounding: TRN, overflow: WRAP}\n")
    out = tmp_path / "edited"
    res = hwc("compile", MLP, "--calib", CALIB, "--abits", "8", "--config", edited, "-o", out)
    assert res.returncode == 0, res.stderr
    doc = json.loads((out / "model.json").read_text())
    relu = next(n for n in doc["nodes"] if n["name"] == "/1/Relu")
    assert relu["outputs"][0]["type"]["elem"]["fixed"] == [5, 3, False, "TRN", "WRAP"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("layers:\n  /1/Relu:\n    output: {rounding: NEAREST}\n")
    res = hwc("compile", MLP, "--config", bad, "-o", tmp_path / "z")
    assert res.returncode == 2 and "bad.yaml" in res.stderr and "NEAREST" in res.stderr
