"""`hwc sweep` on the digits MLP: resume, the Pareto report and HTML, the best point's command line
reproducing its row exactly, per-layer overrides, --verify, two sweeps on one directory, user errors."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import HW_EXAMPLES, hwc
from test_user_errors import assert_one_line_error

from hwc.compiler.cli import main
from hwc.compiler.sweep.store import ResultStore

MLP = str(HW_EXAMPLES / "digits_mlp" / "model.onnx")
DATA = HW_EXAMPLES / "digits_data"
DATA_ARGS = ["--calib", f"{DATA / 'calib.npz'}:x", "--val", f"{DATA / 'test.npz'}:x_test",
             "--val-labels", f"{DATA / 'test.npz'}:y_test"]


def rows(sweep_dir) -> list[dict]:
    store = ResultStore(sweep_dir, create=False)
    try:
        return store.rows()
    finally:
        store.close()


def dominated(r, others) -> bool:
    return any(o["accuracy"] >= r["accuracy"] and o["cost"]["bops"] <= r["cost"]["bops"]
               and (o["accuracy"] > r["accuracy"] or o["cost"]["bops"] < r["cost"]["bops"]) for o in others)


def test_resume_report_and_best_command(tmp_path, capsys):
    out = tmp_path / "sweep"
    args = ["sweep", MLP, "--target", "sim", "--wbits", "2,4,8", "--abits", "4,8", *DATA_ARGS, "-o", str(out), "--jobs", "1"]
    assert main(args) == 0
    assert "sweep " + str(out) + ": 6 points, 0 already done, 6 ok, 0 failed" in capsys.readouterr().out
    assert main(args) == 0
    assert ": 6 points, 6 already done, 0 ok, 0 failed" in capsys.readouterr().out
    wider = [a if a != "2,4,8" else "2:4:1,8" for a in args]  # adds wbits 3 only
    assert main(wider) == 0
    assert ": 8 points, 6 already done, 2 ok, 0 failed" in capsys.readouterr().out
    table = rows(out)
    assert len(table) == 8 and len({r["key"] for r in table}) == 8
    assert main(args[:-6] + args[-4:]) == 2  # without --val-labels the scored data differ: another sweep
    assert "holds a sweep of another model or other data" in capsys.readouterr().err
    assert sorted((r["point"]["wbits"], r["point"]["abits"]) for r in table) == \
        [(w, a) for w in (2, 3, 4, 8) for a in (4, 8)]

    assert main(["sweep", "--report", str(out)]) == 0
    text = capsys.readouterr().out
    front_lines = text.split("vs bops")[1].split("Pareto front")[0].strip().splitlines()[2:]
    shown = {tuple(re.findall(r"(\w+)=(\d+)", line)) for line in front_lines}
    expected = [r for r in table if not dominated(r, table)]
    assert shown == {tuple(sorted((k, str(v)) for k, v in r["point"].items())) for r in expected}
    page = (out / "report.html").read_text()
    assert page.count("<svg") == 3 and "<script" not in page and "http://" not in page.replace(
        "xmlns='http://www.w3.org/2000/svg'", "")

    # the best point's command line, run by hand, gives exactly the accuracy of its row
    command = text.split("best point")[1].splitlines()[1].split()
    assert command[:2] == ["hwc", "compile"]
    best = next(r for r in table if r["command"] == " ".join(command))
    res = hwc(*command[1:-1], str(tmp_path / "best"))
    assert res.returncode == 0, res.stderr
    res = hwc("simulate", tmp_path / "best", "--input", f"{DATA / 'test.npz'}:x_test",
              "--labels", f"{DATA / 'test.npz'}:y_test")
    assert f"top-1 accuracy: {best['correct']}/{best['total']} =" in res.stdout


def test_per_layer_override(tmp_path):
    out = tmp_path / "sweep"
    assert main(["sweep", MLP, "--target", "sim", "--wbits", "4", "--layer", "/0/Gemm.wbits=2,8", *DATA_ARGS,
                 "-o", str(out), "--jobs", "1"]) == 0
    table = sorted(rows(out), key=lambda r: r["point"]["layer /0/Gemm.wbits"])
    assert [r["options"]["layers"] for r in table] == [{"/0/Gemm": {"weight": {"width": w}}} for w in (2, 8)]
    # only the first layer (2,048 weights) changes: at most 8 bits each at 8 bits, more of them zero at 2 bits
    assert 0 < table[1]["cost"]["param_bits"] - table[0]["cost"]["param_bits"] <= 8 * 2048
    config = Path(table[0]["command"].split("--config ")[1].split()[0])
    assert config.read_text() == "layers:\n  /0/Gemm:\n    weight:\n      width: 2\n"


def test_verify_each_point(tmp_path):
    out = tmp_path / "sweep"
    assert main(["sweep", MLP, "--target", "tflite", "--per-channel", "--wbits", "4,8", *DATA_ARGS, "--verify", "20",
                 "-o", str(out), "--jobs", "1"]) == 0
    table = rows(out)
    assert len(table) == 2 and all(r["options"]["per_channel"] for r in table)
    # LiteRT in its three resolver modes, 20 samples of 10 outputs each
    assert all(r["verify"] == {"samples": 20, "compared": 3 * 200, "mismatches": 0, "ok": True} for r in table)


def test_two_sweeps_one_directory(tmp_path):
    out = tmp_path / "sweep"
    exe = Path(sys.executable).parent / "hwc"
    cmd = [str(exe), "sweep", MLP, "--wbits", "2,3,4", "--abits", "4,8", *DATA_ARGS, "-o", str(out), "--jobs", "1"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    table = rows(out)
    assert len(table) == 6 and len({r["key"] for r in table}) == 6 and all(r["status"] == "ok" for r in table)
    assert sqlite3.connect(out / "results.sqlite").execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_user_errors(tmp_path, capsys):
    base = ["sweep", MLP, *DATA_ARGS, "-o", str(tmp_path / "s")]
    assert_one_line_error(hwc(*base, "--synth"), "--synth needs the synthesis runner")
    for extra, needle in [(["--prune", "0.5:0:0.1"], "--prune '0.5:0:0.1': a range needs STEP > 0 and LO <= HI"),
                          (["--io", "parallel,serial"], "--io: invalid choice 'serial'"),
                          (["--layer", "/0/Gemm.bits=2"], "expected NODE.KEY=LIST with KEY one of wbits, abits, prune"),
                          (["--wbits", "2,4,2"], "--wbits '2,4,2': a value is repeated")]:
        assert main([*base, *extra]) == 2
        err = capsys.readouterr().err
        assert err.startswith("hwc: error: ") and needle in err and len(err.splitlines()) == 1, err
    assert main(["sweep", MLP, "-o", str(tmp_path / "s")]) == 2
    assert "needs --val X" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_failed_point_is_recorded_and_the_sweep_goes_on(tmp_path, capsys):
    out = tmp_path / "sweep"
    assert main(["sweep", MLP, "--target", "xilinx", "--reuse", "1,2", *DATA_ARGS, "-o", str(out), "--jobs", "1"]) == 0
    assert ": 2 points, 0 already done, 1 ok, 1 failed" in capsys.readouterr().out
    failed = [r for r in rows(out) if r["status"] == "failed"]
    assert [(r["point"], r["error"], r["accuracy"]) for r in failed] == [
        ({"reuse": 2}, "--reuse 2 needs --strategy resource (latency is fully unrolled, reuse 1)", None)]
    assert main(["sweep", MLP, "--target", "xilinx", "--reuse", "2", *DATA_ARGS, "-o", str(tmp_path / "bad")]) == 1
