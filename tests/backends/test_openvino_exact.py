"""`--target openvino`: OpenVINO's CPU output equals the "openvino" simulator mode bit for bit.

Every model of the corpus the front end takes and the hw_examples models, float ones at wbits 2, 4 and 8
(abits 8, calibration data where the model has some), models with their own quantizers once: compiled
through OpenvinoBackend, run on the CPU (INFERENCE_PRECISION_HINT f32, dynamic quantization off) on
1,000 random inputs in the calibrated input range (8 for ESPCN, whose 128x128 inputs take ~1.2 s each
to simulate: 1.6 million values per configuration) and compared bitwise (`VerifyReport.mismatches`).
The whole matrix is marked slow (CI runs it); digits_mlp at wbits 4 and the all-ops model run always.
A table of the counts is printed at the end of the module.

The int8 kernels of CPUs without VNNI saturate pair sums (docs/openvino_arithmetic.md): a subprocess
with ONEDNN_MAX_CPU_ISA=AVX2 runs the wbits-8 models (int8 FullyConnected/Convolution, unsigned and
signed 8-bit inputs) and finds them exact too, because the backend keeps such weights within ±64.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import openvino  # noqa: F401 (the [test] extra installs it: missing = a broken install, not a skip)

from conftest import corpus_dir, print_uncaptured  # noqa: E402
from openvino_models import MODELS, all_ops_model, compile_model, matrix, verify  # noqa: E402

_ROWS: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def _summary(request):
    yield
    if not _ROWS:
        return
    lines = ["", "openvino bit-exact matrix (model, wbits: values compared / mismatches, kernels):"] + \
        ["  " + r for r in _ROWS]
    print_uncaptured(request, "\n".join(lines))


def _check(name, wbits, tmp_path):
    path, calib, _, n = MODELS[name]
    if not path.exists():
        corpus_dir("models")  # skips with the reason when the corpus is absent
        pytest.skip(f"{path} is absent")
    out = tmp_path / "out"
    compile_model(path, out, "openvino", wbits, calib)
    report = verify(out, n)
    kernels = next((d for d in report.details if d.startswith("kernels")), "")
    _ROWS.append(f"{name:24s} wbits {wbits or '-':>2}: {report.compared:>9,} / {report.mismatches}  {kernels}")
    assert report.samples == n
    assert report.compared >= n
    assert report.mismatches == 0, report.first_difference


FAST = {("digits_mlp", 4)}


@pytest.mark.parametrize("name,wbits", [
    pytest.param(m, w, marks=() if (m, w) in FAST else pytest.mark.slow, id=f"{m}-w{w or 'model'}")
    for m, w in matrix()])
def test_openvino_equals_simulator(name, wbits, tmp_path):
    _check(name, wbits, tmp_path)


@pytest.mark.parametrize("wbits", [4, 8])
@pytest.mark.parametrize("per_channel", [False, True])
def test_all_ops_model(wbits, per_channel, tmp_path):
    model, calib = all_ops_model(tmp_path)
    compile_model(model, tmp_path / "out", "openvino", wbits, calib, per_channel=per_channel)
    report = verify(tmp_path / "out", 1000)
    assert report.compared == 5000
    assert report.mismatches == 0, report.first_difference


def test_eight_bit_weights_are_kept_within_64(tmp_path):
    """wbits 8 with 8-bit activations: the int8 kernels of CPUs without VNNI saturate u8 x s8 pair sums
    above 32,767, so weights we quantize are limited to [-64, 63] (7 bits) there."""
    from hwc.compiler.ir.serialize import load_graph

    path, calib, _, _ = MODELS["digits_cnn"]
    result, _ = compile_model(path, tmp_path / "out", "openvino", 8, calib)
    g = load_graph(tmp_path / "out")
    for n in g.nodes:
        if n.op in ("Dense", "Conv"):
            w = np.asarray(n.inputs[1].const)
            assert w.min() >= -64 and w.max() <= 63, n.name
    assert any("7 bits" in line for line in result.summary)


_NO_VNNI = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from openvino_models import MODELS, compile_model, verify
from hwc.compiler.sim import openvino_arith as oa
from pathlib import Path
out = {"saturates": oa.int8_saturates(), "runs": []}
for name in ("digits_mlp", "digits_cnn", "jet_mlp_float", "conv2d_small_keras", "jet_mlp_qonnx"):
    path, calib, carried, n = MODELS[name]
    if not path.exists():
        continue
    d = Path(sys.argv[2]) / name
    compile_model(path, d, "openvino", None if carried else 8, calib)
    # as a user who leaves the low-precision transformations on (verify turns them off): int8 kernels
    import numpy as np
    from hwc.backends import openvino_graph as og
    from hwc.backends.openvino import random_inputs
    from hwc.compiler.ir.serialize import load_graph
    from hwc.compiler.sim.run import simulate
    g = load_graph(d)
    xs = random_inputs(g, n)
    cm = og.compile_model(d / "model.xml", "f32", {"DYNAMIC_QUANTIZATION_GROUP_SIZE": 0})
    req = cm.create_infer_request()
    req.infer({i: x for i, x in enumerate(xs)})
    got = [np.array(req.get_output_tensor(j).data) for j in range(len(cm.outputs))]
    sim = simulate(g, xs, mode="openvino")
    bad = sum(int((a.astype(np.float32).reshape(-1).view(np.uint32) != np.asarray(e, np.float32).reshape(-1).view(np.uint32)).sum()) for a, e in zip(got, sim))
    kern = sorted({f"{l['layerType']} {l['runtimePrecision']} {l['primitiveType']}" for l in og.runtime_layers(cm)
                   if l["layerType"] in ("FullyConnected", "Convolution", "MatMul")})
    out["runs"].append([name, sum(a.size for a in got), bad, ["kernels: " + "; ".join(kern)]])
print(json.dumps(out))
"""


def test_exact_on_int8_kernels_without_vnni(tmp_path):
    """The same models on the saturating int8 kernels (oneDNN capped at AVX2: jit_gemm_I8, jit_avx2_I8), compiled
    as a user who leaves the low-precision transformations on: still exact, since the backend keeps such weights
    within ±64 (hwc verify itself turns them off: tests/backends/test_openvino_isa.py)."""
    flags = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    if " avx2" not in flags:
        pytest.skip("needs an x86 CPU with AVX2")
    env = dict(os.environ, ONEDNN_MAX_CPU_ISA="AVX2")
    tests_dir = os.path.dirname(os.path.abspath(__file__))
    p = subprocess.run([sys.executable, "-c", _NO_VNNI, tests_dir, str(tmp_path)], env=env, capture_output=True,
                       text=True, timeout=600, cwd=os.path.dirname(tests_dir))
    assert p.returncode == 0, p.stderr[-3000:]
    res = json.loads(p.stdout.strip().splitlines()[-1])
    assert res["saturates"] is True
    for name, compared, mismatches, kernels in res["runs"]:
        _ROWS.append(f"{name:24s} wbits  8 (AVX2 cap): {compared:>9,} / {mismatches}  {kernels[0] if kernels else ''}")
        assert "_I8" in (kernels[0] if kernels else "") or name == "jet_mlp_qonnx", kernels  # int8 kernels ran
        assert compared >= 5000 and mismatches == 0
