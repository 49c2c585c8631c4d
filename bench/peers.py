"""hwc next to its peers, measured in the same run on the same models.

- HLS: hwc (compile --target xilinx, then the g++ C simulation of `hwc verify`) vs hls4ml 1.3
  (qonnx cleanup + channels-last + convert, write, compile, predict): time to a runnable C
  simulation, C-simulation samples/s, bit-exact rows against the reference, test accuracy.
  Time to a runnable C simulation is wall time, both tools cold, each starting as a fresh Python
  process: hwc = the `hwc compile` process + the g++ build of `hwc verify` with an empty object cache;
  hls4ml = a fresh process that imports hls4ml and qonnx, converts, writes and compiles (its time
  without the imports is shown too). hwc's precompiled header (ap_types + kernel headers, the same
  for every model: backends/cpp_build.py) is built once at the start of the run, timed on its own.
- Python execution: hwc's bit-accurate simulator vs qonnx `execute_onnx` (QONNX models) and vs
  onnxruntime (float models), in samples/s.

Reference for "bit-exact rows": qonnx's execution for QONNX models (the model's own semantics);
for float models there is no exact reference (hwc quantizes), so hwc is compared with its own
simulator and hls4ml is shown as n/a. A peer that fails on a model shows its one-line error.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from _cli import main

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "hw_examples"
HWC = Path(sys.executable).parent / "hwc"
MODELS = [
    # label, model, test data (x key), calibration, hwc options (float models), QONNX?
    ("digits MLP W4A4 (QONNX)", "digits_mlp_w4a4/model_qonnx.onnx", "digits_data/test.npz", "digits_data/calib.npz", [], True),
    ("digits CNN W4A4 (QONNX)", "digits_cnn_w4a4/model_qonnx.onnx", "digits_data/test_img.npz", "digits_data/calib_img.npz", [], True),
    ("digits MLP float", "digits_mlp/model.onnx", "digits_data/test.npz", "digits_data/calib.npz", ["--wbits", "8", "--abits", "16"], False),
    ("digits CNN float", "digits_cnn/model.onnx", "digits_data/test_img.npz", "digits_data/calib_img.npz", ["--wbits", "8", "--abits", "16"], False),
    ("jet MLP float", "jet_mlp/model.onnx", "jet_mlp/test.npz", "jet_mlp/calib.npz", ["--wbits", "8", "--abits", "16"], False),
    # bench/tiny_models.py's shape, random weights and random inputs (no accuracy): built at the start of the run
    ("FC autoencoder (MLPerf Tiny AD shape, random weights)", "tiny:autoencoder", "random", "random",
     ["--wbits", "8", "--abits", "16"], False),
]
RANDOM_SAMPLES = 500
PY_SAMPLES = 20000  # the Python-execution rows run the test inputs repeated to this many samples

# The hls4ml side, run as its own Python process (imports included, as hwc's `hwc compile` process pays its own).
# argv: model, output folder, inputs .npy, outputs .npy. Prints the wall-clock times (time.time) at which the
# imports were done and the C simulation was ready, and the predict time.
HLS4ML_CHILD = """
import json, sys, time
import numpy as np
import hls4ml
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.channels_last import ConvertToChannelsLastAndClean
from qonnx.transformation.gemm_to_matmul import GemmToMatMul
from qonnx.util.cleanup import cleanup_model
imported = time.time()
model, outdir, xin, xout = sys.argv[1:5]
m = cleanup_model(ModelWrapper(model))
m = m.transform(ConvertToChannelsLastAndClean())
m = m.transform(GemmToMatMul())
m = cleanup_model(m)
cfg = hls4ml.utils.config.config_from_onnx_model(m, granularity="name", backend="Vitis", default_precision="fixed<16,6>")
hm = hls4ml.converters.convert_from_onnx_model(m, output_dir=outdir, io_type="io_parallel", backend="Vitis", hls_config=cfg)
hm.write()
hm.compile()
ready = time.time()
x = np.load(xin)
t = time.perf_counter()
y = np.asarray(hm.predict(x)).reshape(len(x), -1)
t_pred = time.perf_counter() - t
np.save(xout, y)
print(json.dumps({"imported": imported, "ready": ready, "t_pred": t_pred}))
"""


def one_line(e: BaseException) -> str:
    text = f"{type(e).__name__}: {e}".strip().splitlines()
    return (text[0] if text else type(e).__name__)[:90].replace("|", "/")


def run(cmd, **kw):
    t = time.perf_counter()
    res = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    return res, time.perf_counter() - t


def qonnx_reference(model_path: Path, x: np.ndarray) -> np.ndarray:
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.util.cleanup import cleanup_model

    mw = cleanup_model(ModelWrapper(str(model_path)))
    name_in, name_out = mw.graph.input[0].name, mw.graph.output[0].name
    return np.concatenate([execute_onnx(mw, {name_in: x[i:i + 1]})[name_out] for i in range(len(x))])


def hwc_pch(pch_cache: Path) -> float:
    """Build the C simulation's precompiled header into pch_cache (cold); its wall seconds."""
    from hwc.backends.cpp_build import precompile
    from hwc.backends.hls import CSIM_FLAGS
    from hwc.backends.xilinx import XilinxBackend
    import importlib.resources

    t = time.perf_counter()
    precompile(XilinxBackend()._pch(Path(str(importlib.resources.files("hwc.templates") / "hls"))), CSIM_FLAGS, pch_cache)
    return time.perf_counter() - t


def hwc_row(label, model, x, y, calib, options, qonnx_ref, work: Path, pch_cache: Path) -> dict:
    out = work / "hwc"
    res, t_compile = run([HWC, "compile", EX / model, "--target", "xilinx", "--calib", f"{EX / calib}:x", *options, "-o", out])
    if res.returncode:
        return {"error": res.stderr.strip().splitlines()[-1]}
    from hwc.backends.base import read_manifest
    from hwc.backends.hls_data import read_rows, reference, tb_inputs, write_rows
    from hwc.backends.xilinx import XilinxBackend
    from hwc.compiler.ir.serialize import load_graph

    g = load_graph(out)
    backend = XilinxBackend()
    t = time.perf_counter()
    # a cold build, as hls4ml's: an empty object cache; the precompiled header shared by every model
    exe = backend._build(out, read_manifest(out), trace=False, cache_dir=work / "cache", pch_cache=pch_cache)
    t_build = time.perf_counter() - t
    expected, kept = reference(g, [x])
    write_rows(work / "in.dat", tb_inputs(g, [x], kept))
    write_rows(work / "exp.dat", expected)
    _, t_run = run([exe, work / "in.dat", work / "exp.dat", work / "out.dat"], cwd=work)
    got = read_rows(work / "out.dat", expected.shape[1])
    row = {"time": t_compile + t_build, "build": t_build, "csim": len(x) / t_run, "acc": accuracy(got, y),
           "exact_own": f"{int(np.all(got == expected, axis=1).sum())}/{len(x)}"}
    if qonnx_ref is not None:
        row["exact_ref"] = f"{int(np.all(got.astype(np.float32) == qonnx_ref, axis=1).sum())}/{len(x)}"
    return row


def hls4ml_row(label, model, x, y, qonnx_ref, work: Path) -> dict:
    xin = np.ascontiguousarray(x.reshape(len(x), -1) if x.ndim == 2 else np.transpose(x, (0, 2, 3, 1)), np.float32)
    np.save(work / "x_hls4ml.npy", xin)
    t0 = time.time()
    res = subprocess.run([sys.executable, "-c", HLS4ML_CHILD, str(EX / model), str(work / "hls4ml"), str(work / "x_hls4ml.npy"),
                          str(work / "y_hls4ml.npy")], capture_output=True, text=True)
    if res.returncode:
        err = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
        return {"error": (err[-1] if err else f"exit {res.returncode}")[:90].replace("|", "/")}
    times = json.loads(res.stdout.strip().splitlines()[-1])
    out = np.load(work / "y_hls4ml.npy")
    row = {"time": times["ready"] - t0, "time_no_imports": times["ready"] - times["imported"], "csim": len(x) / times["t_pred"],
           "acc": accuracy(out, y), "exact_own": "n/a"}
    if qonnx_ref is not None:
        row["exact_ref"] = f"{int(np.all(out.astype(np.float32) == qonnx_ref, axis=1).sum())}/{len(x)}"
    return row


def accuracy(out: np.ndarray, y) -> float | None:
    return None if y is None else float((out.argmax(1) == y).mean())


def resolve(model: str, test: str, calib: str, tmp: Path):
    """(model path, x, y, calibration path): the hw_examples files, or a tiny_models shape with random data."""
    if not model.startswith("tiny:"):
        d = np.load(EX / test)
        return EX / model, d["x_test"].astype(np.float32), d["y_test"], EX / calib
    import onnx
    import tiny_models

    m = getattr(tiny_models, model.split(":", 1)[1])()
    path = tmp / f"{model.split(':', 1)[1]}.onnx"
    onnx.save(m, path)
    rng = np.random.default_rng(0)
    shape = tiny_models.input_shape(m)
    np.savez(tmp / "calib.npz", x=rng.normal(0, 1, (64, *shape)).astype(np.float32))
    return path, rng.normal(0, 1, (RANDOM_SAMPLES, *shape)).astype(np.float32), None, tmp / "calib.npz"


def best_of(fn, repeat: int = 3) -> float:
    """The shortest wall time of `repeat` calls of fn."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def python_speed(model, x, qonnx: bool, calib, options) -> dict:
    from hwc.compiler.compile_model import load_onnx_model
    from hwc.compiler.compile import to_fixed
    from hwc.compiler.quant_config import QuantConfig
    from hwc.compiler.sim.run import simulate

    g = load_onnx_model(EX / model)
    wbits = int(options[options.index("--wbits") + 1]) if "--wbits" in options else 8
    abits = int(options[options.index("--abits") + 1]) if "--abits" in options else 16
    cal = np.load(EX / calib)["x"]
    cfg = QuantConfig(wbits=wbits, abits=abits, exact_outputs=qonnx, float_output_functions=qonnx)
    fixed = to_fixed(g, cfg, [cal]).graph
    x = x[np.arange(max(len(x), PY_SAMPLES)) % len(x)]  # a batch, as a regression suite runs it
    simulate(fixed, [x[:2]], mode="fixed")  # builds the plan once, as ort builds its session before running
    row = {"hwc": len(x) / best_of(lambda: simulate(fixed, [x], mode="fixed"))}
    if qonnx:
        n = 100
        t = time.perf_counter()
        try:
            qonnx_reference(EX / model, x[:n])
            row["peer"] = n / (time.perf_counter() - t)
            row["peer_name"] = "qonnx execute_onnx"
        except Exception as e:
            row["peer_error"] = one_line(e)
    else:
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        sess = ort.InferenceSession(str(EX / model), so, providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        sess.run(None, {name: x[:2]})
        row["peer"] = len(x) / best_of(lambda: sess.run(None, {name: x}))
        row["peer_name"] = "onnxruntime (float, 1 thread)"
    return row


def fmt(v, spec="{:,.0f}"):
    return spec.format(v) if isinstance(v, (int, float)) else str(v)


def tables(progress=None, only=None) -> str:
    """The HLS and Python-execution tables; `only`: a substring of the model labels to run (all by default)."""
    hls_lines = ["| model | tool | compile to runnable C-sim (s) | of which g++ / without imports (s) | C-sim samples/s | "
                 "bit-exact rows vs own simulator | bit-exact rows vs qonnx | test accuracy |", "|---|---|---|---|---|---|---|---|"]
    ratio_lines = ["| model | time to C-sim, hls4ml / hwc (> 1: hwc faster) | the same, hls4ml without its imports | "
                   "C-sim samples/s, hwc / hls4ml |", "|---|---|---|---|"]
    py_lines = ["| model | hwc bit-accurate simulator (samples/s) | peer | peer (samples/s) | hwc / peer | "
                "hwc simulator / hls4ml C simulation |", "|---|---|---|---|---|---|"]
    load0 = os.getloadavg()[0]
    pch_cache = Path(tempfile.mkdtemp(prefix="hwc-bench-pch-"))
    try:
        t_pch = hwc_pch(pch_cache)
        for label, model, test, calib, options, qonnx in MODELS:
            if only and only not in label:
                continue
            if progress:
                progress(label)
            work = Path(tempfile.mkdtemp(prefix="hwc-bench-"))
            try:
                model, x, y, calib = resolve(model, test, calib, work)
                ref = qonnx_reference(model, x) if qonnx else None
                rows = {"hwc": hwc_row(label, model, x, y, calib, options, ref, work, pch_cache),
                        "hls4ml 1.3": hls4ml_row(label, model, x, y, ref, work)}
                for tool, r in rows.items():
                    if "error" in r:
                        hls_lines.append(f"| {label} | {tool} | {r['error']} | | | | | |")
                        continue
                    part = f"{r['build']:.1f}" if "build" in r else f"{r['time_no_imports']:.1f}"
                    acc = "n/a (random weights)" if r["acc"] is None else f"{100 * r['acc']:.2f} %"
                    hls_lines.append(f"| {label} | {tool} | {r['time']:.1f} | {part} | {fmt(r['csim'])} | {r['exact_own']} | "
                                     f"{r.get('exact_ref', 'n/a (float model)')} | {acc} |")
                a, b = rows["hwc"], rows["hls4ml 1.3"]
                if "error" in a or "error" in b:
                    ratio_lines.append(f"| {label} | {a.get('error') or b.get('error')} | | |")
                else:
                    ratio_lines.append(f"| {label} | {b['time'] / a['time']:.2f} | {b['time_no_imports'] / a['time']:.2f} | "
                                       f"{a['csim'] / b['csim']:.2f} |")
                p = python_speed(model, x, qonnx, calib, options)
                vs_csim = f"{p['hwc'] / b['csim']:.0f}" if "error" not in b else "n/a"
                if "peer" in p:
                    py_lines.append(f"| {label} | {fmt(p['hwc'])} | {p['peer_name']} | {fmt(p['peer'])} | {p['hwc'] / p['peer']:.2f} | "
                                    f"{vs_csim} |")
                else:
                    py_lines.append(f"| {label} | {fmt(p['hwc'])} | qonnx execute_onnx | {p['peer_error']} | | {vs_csim} |")
            finally:
                shutil.rmtree(work, ignore_errors=True)
    finally:
        shutil.rmtree(pch_cache, ignore_errors=True)
    load1 = os.getloadavg()[0]
    return ("### HLS: hwc vs hls4ml 1.3 (Vitis backend, io_parallel; hls4ml default precision fixed<16,6> on float "
            "models, the models' own on QONNX)\n\n" + "\n".join(hls_lines) + "\n\n" + "\n".join(ratio_lines) +
            f"\n\nWall times on {os.cpu_count()} cores, load average {load0:.1f} at the start and {load1:.1f} at the end "
            "(the machine is shared: the ratios, taken model by model back to back, are what to read). Both tools "
            "start cold in a fresh Python process; hwc = `hwc compile` + its g++ build with an empty object cache, "
            f"hls4ml = imports + convert + write + compile. hwc's precompiled header (ap_types + kernel headers, one "
            f"for every model) was built once at the start: {t_pch:.1f} s, not in the rows.\n"
            f"\n### Python execution of the same models (one call on the test inputs repeated to {PY_SAMPLES:,} samples after a 2-sample warm-up, best of 3; qonnx: one call of 100 samples; last column: hls4ml's C simulation from the table above)\n\n" + "\n".join(py_lines) + "\n")


def section() -> str:
    import csim_build

    return tables() + "\n" + csim_build.section()


if __name__ == "__main__":
    sys.exit(main(__doc__, section))
