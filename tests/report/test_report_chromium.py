"""`hwc report` looked at as a person would: the page rendered by headless Chromium (Debian's
`chromium`, installed by `make test`), screenshotted, with no console messages, every plot with a
non-empty box, and every number equal to `hwc inspect --json`."""

import json
import shutil
import struct
import subprocess

import pytest

from hwc.compiler.cli import main
from conftest import HW_EXAMPLES

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Appended to a copy of the page (the report itself has no script): boxes of the plots and the
# numbers marked data-fig, written into the DOM that --dump-dom prints.
PROBE = """<script>
window.addEventListener("load", function () {
  var out = {plots: [], figs: {}};
  document.querySelectorAll("svg.plot").forEach(function (e) {
    var r = e.getBoundingClientRect(); out.plots.push({id: e.id, w: r.width, h: r.height});
  });
  document.querySelectorAll("[data-fig]").forEach(function (e) { out.figs[e.getAttribute("data-fig")] = e.textContent; });
  var pre = document.createElement("pre"); pre.id = "probe"; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def chromium(tmp_path, *args) -> subprocess.CompletedProcess:
    exe = shutil.which("chromium")
    assert exe, "chromium is not installed (make test installs it: apt-get install chromium)"
    profile = tmp_path / "profile"
    return subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args],
                          capture_output=True, text=True, timeout=120)


def look(tmp_path, page):
    """(probe dict, console lines, screenshot path) of a report page."""
    probe_page = tmp_path / "probe.html"
    probe_page.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    run = chromium(tmp_path, "--window-size=1366,900", "--dump-dom", probe_page.as_uri())
    assert run.returncode == 0, run.stderr[-500:]
    dom = run.stdout
    start = dom.index('<pre id="probe">') + len('<pre id="probe">')
    probe = json.loads(dom[start:dom.index("</pre>", start)].replace("&quot;", '"').replace("&amp;", "&"))
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    shot = tmp_path / "shot.png"
    run = chromium(tmp_path, "--window-size=1366,2400", "--hide-scrollbars", f"--screenshot={shot}", page.as_uri())
    assert run.returncode == 0 and shot.exists(), run.stderr[-500:]
    console += [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    return probe, console, shot


def inspect_json(d, capsys) -> dict:
    capsys.readouterr()
    assert main(["inspect", str(d), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def expected_numbers(doc) -> dict[str, float]:
    out = {}
    figs = doc["figures"]
    for layer in doc["layers"]:
        for f in layer.get("cost", []):
            out[f"{layer['node']}:{f['name']}"] = f["value"]
    for f in figs["total"]:
        out[f"total:{f['name']}"] = f["value"]
    for k, v in (figs.get("device") or {}).get("utilisation", {}).items():
        out[f"util:{k}"] = v
    return out


def png_size(path):
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_report_of_the_make_run_example(tmp_path, capsys):
    out = tmp_path / "cnn"
    data = HW_EXAMPLES / "digits_data"
    assert main(["compile", str(HW_EXAMPLES / "digits_cnn" / "model.onnx"), "--target", "xilinx", "--wbits", "4",
                 "--calib", f"{data / 'calib_img.npz'}:x", "-o", str(out)]) == 0
    page = tmp_path / "report.html"
    assert main(["report", str(out), "-o", str(page), "--input", f"{data / 'test_img.npz'}:x_test",
                 "--labels", f"{data / 'test_img.npz'}:y_test"]) == 0
    html = page.read_text()
    assert "http://" not in html and "https://" not in html and "<script" not in html  # self-contained
    doc = inspect_json(out, capsys)
    probe, console, shot = look(tmp_path, page)
    assert console == []
    ids = [p["id"] for p in probe["plots"]]
    for plot in ("graph", "fit", "prec-out", "prec-weight", "prec-accum", "res-lut", "res-ff", "res-multipliers",
                 "lat-latency", "lat-ii", "hist-1", "layer-error"):
        assert plot in ids, plot
    assert all(p["w"] > 50 and p["h"] > 20 for p in probe["plots"]), probe["plots"]
    expected = expected_numbers(doc)
    shown = {k: float(v.replace(",", "")) for k, v in probe["figs"].items()}
    assert shown == expected
    # the accuracies `hwc simulate --labels` prints for the compiled and the float model
    for model, key in ((out, "compiled (target arithmetic)"), (HW_EXAMPLES / "digits_cnn" / "model.onnx", "float model")):
        capsys.readouterr()
        assert main(["simulate", str(model), "--input", f"{data / 'test_img.npz'}:x_test",
                     "--labels", f"{data / 'test_img.npz'}:y_test"]) == 0
        correct, n = map(int, capsys.readouterr().out.split("top-1 accuracy: ")[1].split(" =")[0].split("/"))
        assert f'data-acc="{key}">{100 * correct / n:.2f} %' in html
    assert html.count("<polyline") == 3  # the float weights over each of the 3 layers' grids
    assert png_size(shot) == (1366, 2400)


def test_report_of_a_processor_target(tmp_path, capsys):
    out = tmp_path / "tfl"
    assert main(["compile", str(HW_EXAMPLES / "digits_mlp" / "model.onnx"), "--target", "edgetpu",
                 "--calib", f"{HW_EXAMPLES / 'digits_data' / 'calib.npz'}:x", "-o", str(out)]) == 0
    page = tmp_path / "tfl.html"
    assert main(["report", str(out), "-o", str(page)]) == 0
    doc = inspect_json(out, capsys)
    probe, console, _ = look(tmp_path, page)
    assert console == []
    assert {"graph", "fit", "res-macs", "res-param_bytes"} <= {p["id"] for p in probe["plots"]}
    assert all(p["w"] > 50 and p["h"] > 20 for p in probe["plots"])
    assert {k: float(v.replace(",", "")) for k, v in probe["figs"].items()} == expected_numbers(doc)


def test_report_of_something_else_is_a_user_error(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "not a compiled model" in capsys.readouterr().err
    assert not (tmp_path / "report.html").exists()


def test_report_data_mistakes_are_user_errors(tmp_path, capsys):
    import numpy as np

    out = tmp_path / "mlp"
    data = HW_EXAMPLES / "digits_data"
    assert main(["compile", str(HW_EXAMPLES / "digits_mlp" / "model.onnx"), "--target", "sim", "-o", str(out)]) == 0
    labels = tmp_path / "five.npy"
    np.save(labels, np.zeros(5, np.int64))
    capsys.readouterr()
    assert main(["report", str(out), "--input", f"{data / 'test.npz'}:x_test", "--labels", str(labels)]) == 2
    assert capsys.readouterr().err.strip() == f"hwc: error: {labels}: 5 labels for 360 input samples"
    assert main(["report", str(out), "--labels", str(labels)]) == 2
    assert "--labels needs --input data" in capsys.readouterr().err
    assert main(["report", str(out), "--model", str(tmp_path / "gone.onnx")]) == 2
    assert capsys.readouterr().err.strip() == f"hwc: error: {tmp_path / 'gone.onnx'}: no such file"
    assert not (out / "report.html").exists()


def test_report_finds_the_float_model_by_model_option(tmp_path, capsys, monkeypatch):
    """Compiled with a relative path and reported from elsewhere: --model names the float model."""
    out = tmp_path / "mlp"
    data = HW_EXAMPLES / "digits_data"
    monkeypatch.chdir(HW_EXAMPLES.parent)
    assert main(["compile", "hw_examples/digits_mlp/model.onnx", "--target", "sim", "--wbits", "4",
                 "--calib", f"{data / 'calib.npz'}:x", "-o", str(out)]) == 0
    monkeypatch.chdir(tmp_path)
    args = ["report", str(out), "--input", f"{data / 'test.npz'}:x_test", "--labels", f"{data / 'test.npz'}:y_test"]
    assert main(args + ["-o", "without.html"]) == 0
    assert "is not at hand: no float comparison (name it with --model)" in (tmp_path / "without.html").read_text()
    assert main(args + ["-o", "with.html", "--model", str(HW_EXAMPLES / "digits_mlp" / "model.onnx")]) == 0
    html = (tmp_path / "with.html").read_text()
    assert 'data-acc="float model">—' not in html and html.count("<polyline") == 3 and 'id="layer-error"' in html


def test_report_of_a_verilog_design_estimated_and_measured(tmp_path, capsys):
    """--target verilog: the RTL cost model's estimates, and Yosys's measured figures after `hwc synth`."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rtl"))
    from test_verilog_rtl import tiny_model

    out = tmp_path / "rtl"
    assert main(["compile", str(tiny_model(tmp_path / "m.onnx")), "--target", "verilog", "--wbits", "4",
                 "-o", str(out)]) == 0
    assert main(["synth", str(out), "--family", "xilinx"]) == 0
    page = tmp_path / "rtl.html"
    assert main(["report", str(out), "-o", str(page)]) == 0
    doc = inspect_json(out, capsys)
    sources = {(f["name"], f["source"]) for f in doc["figures"]["total"]}
    assert {("lut", "estimated"), ("lut", "measured"), ("ff", "estimated"), ("ff", "measured")} <= sources
    probe, console, _ = look(tmp_path, page)
    assert console == []
    assert {"graph", "res-lut", "res-ff", "lat-latency"} <= {p["id"] for p in probe["plots"]}
    assert all(p["w"] > 50 and p["h"] > 20 for p in probe["plots"]), probe["plots"]
    html = page.read_text()
    measured = next(f["value"] for f in doc["figures"]["total"] if f["name"] == "lut" and f["source"] == "measured")
    assert f"{measured:,}" in html and "one sample per cycle" in html
