"""The HLS backends end to end: `hwc compile --target xilinx|intel` then `hwc verify`, whose g++ C
simulation of the generated project must equal the bit-accurate simulator on every value."""

from __future__ import annotations

import hashlib
import re
import subprocess

import numpy as np
import pytest

from conftest import CORPUS, HW_EXAMPLES, F, hwc, make_model, save
from onnx import helper

TARGETS = ("xilinx", "intel")
DIGITS_CALIB = {"mlp": f"{HW_EXAMPLES / 'digits_data' / 'calib.npz'}:x",
                "cnn": f"{HW_EXAMPLES / 'digits_data' / 'calib_img.npz'}:x"}


def compile_and_verify(model, out, *options, samples=1000):
    res = hwc("compile", model, "-o", out, *options)
    assert res.returncode == 0, res.stderr
    res = hwc("verify", out, "--samples", str(samples))
    line = res.stdout.strip().splitlines()[-1]
    m = re.search(r"(\d+) samples, (\d+) values compared, (\d+) mismatches", res.stdout)
    assert m, res.stdout + res.stderr
    print(f"{out.name}: {line}")
    return res.returncode, int(m.group(1)), int(m.group(2)), int(m.group(3))


def assert_exact(result, samples=1000):
    rc, n, compared, mismatches = result
    assert rc == 0 and mismatches == 0 and n == samples and compared > 0


# ---- the corpus matrix -------------------------------------------------------------------------

FLOAT_MODELS = [("jet_tagging_mlp_float/three_layer_keras.onnx", "--input-range=-4,4"),
                ("conv2d_small_keras/conv2d_small_keras.onnx", "--input-range=0,1")]
MATRIX = [(m, t, w, a) for m in FLOAT_MODELS for t in TARGETS for w in (1, 2, 4, 8) for a in (4, 8, 16)]


@pytest.mark.slow
@pytest.mark.parametrize("model,target,wbits,abits", MATRIX,
                         ids=[f"{m[0].split('/')[0]}-{t}-w{w}a{a}" for m, t, w, a in MATRIX])
def test_corpus_float_models_bit_exact(tmp_path, model, target, wbits, abits):
    path = CORPUS / "models" / model[0]
    if not path.exists():
        pytest.skip(f"corpus model {path} is absent")
    assert_exact(compile_and_verify(path, tmp_path / "prj", "--target", target, "--wbits", str(wbits),
                                    "--abits", str(abits), *model[1:]))


@pytest.mark.slow
@pytest.mark.parametrize("target", TARGETS)
def test_corpus_jet_qonnx_at_its_own_precision(tmp_path, target):
    path = CORPUS / "models" / "jet_tagging_mlp_qonnx" / "qkeras_jettagging.onnx"
    if not path.exists():
        pytest.skip(f"corpus model {path} is absent")
    assert_exact(compile_and_verify(path, tmp_path / "prj", "--target", target, "--input-range=-8,8"))


@pytest.mark.slow
@pytest.mark.parametrize("model", ["float_model.onnx", "quant_model.onnx"])
def test_corpus_espcn_bit_exact_on_few_inputs(tmp_path, model):
    """ESPCN is 1 GMAC per 128x128 image; the C simulation of ap_fixed arithmetic runs about a
    sample every few seconds, so it is verified on 3 inputs (393,216 output values), xilinx only."""
    path = CORPUS / "models" / "espcn_bsd300_nn_resize" / model
    if not path.exists():
        pytest.skip(f"corpus model {path} is absent")
    opts = ["--input-range=0,1", "--wbits", "8", "--abits", "8"] if model == "float_model.onnx" else []
    assert_exact(compile_and_verify(path, tmp_path / "prj", "--target", "xilinx", *opts, samples=3), samples=3)


# ---- interfaces and strategies on the digits CNN ---------------------------------------------------

@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("options", [("--io", "parallel"), ("--io", "stream"), ("--strategy", "resource", "--reuse", "4"),
                                     ("--io", "stream", "--strategy", "resource", "--reuse", "4")],
                         ids=["parallel", "stream", "resource4", "stream-resource4"])
def test_digits_cnn_interfaces_and_strategies(tmp_path, target, options):
    assert_exact(compile_and_verify(HW_EXAMPLES / "digits_cnn" / "model.onnx", tmp_path / "prj", "--target", target,
                                    "--wbits", "4", "--abits", "8", "--calib", DIGITS_CALIB["cnn"], *options))


@pytest.mark.parametrize("model", ["digits_mlp_w4a4/model_qonnx.onnx", "digits_mlp_w4a4/model_qcdq.onnx",
                                   "digits_cnn_w4a4/model_qonnx.onnx", "digits_mlp_binary/model_qonnx.onnx"])
def test_digits_quantized_examples_bit_exact(tmp_path, model):
    calib = DIGITS_CALIB["cnn" if "cnn" in model else "mlp"]
    assert_exact(compile_and_verify(HW_EXAMPLES / model, tmp_path / "prj", "--target", "xilinx", "--calib", calib))


# ---- the check can fail --------------------------------------------------------------------------

def test_corrupted_expected_value_fails_the_testbench(tmp_path):
    out = tmp_path / "prj"
    assert hwc("compile", HW_EXAMPLES / "digits_mlp" / "model.onnx", "--target", "xilinx", "--wbits", "4",
               "--calib", DIGITS_CALIB["mlp"], "-o", out).returncode == 0
    from hwc.backends.base import read_manifest
    from hwc.backends.xilinx import XilinxBackend

    exe = XilinxBackend()._build(out, read_manifest(out), trace=False)
    ok = subprocess.run([str(exe)], cwd=out, capture_output=True, text=True)
    assert ok.returncode == 0 and "0 mismatches" in ok.stdout
    rows = (out / "tb_data" / "expected.dat").read_text().splitlines()
    vals = rows[3].split()
    vals[7] = repr(float(vals[7]) + 2.0 ** -9)
    rows[3] = " ".join(vals)
    (out / "tb_data" / "expected.dat").write_text("\n".join(rows) + "\n")
    bad = subprocess.run([str(exe)], cwd=out, capture_output=True, text=True)
    assert bad.returncode == 1 and "sample 3 output 7" in bad.stdout and "1 mismatches" in bad.stdout


@pytest.mark.parametrize("target", TARGETS)
def test_testbench_reads_mantissas_in_hwc_builds_and_floats_in_vendor_builds(tmp_path, target):
    """`hwc verify` builds the testbench with -DHWC_TB_MANTISSAS: it reads the simulator's input mantissas
    (tb_data/input_mantissas.dat by default), no double -> fixed conversion. Built without it (the vendor
    tool's C simulation) it reads the readable tb_data/inputs.dat. Both run every sample bit-exactly, with
    the same outputs."""
    out = tmp_path / "prj"
    assert hwc("compile", HW_EXAMPLES / "digits_mlp" / "model.onnx", "--target", target, "--wbits", "4",
               "--calib", DIGITS_CALIB["mlp"], "-o", out).returncode == 0
    from hwc.backends.base import read_manifest
    from hwc.backends.hls import CSIM_FLAGS
    from hwc.backends.intel import IntelBackend
    from hwc.backends.xilinx import XilinxBackend

    backend = XilinxBackend() if target == "xilinx" else IntelBackend()
    n = len((out / "tb_data" / "inputs.dat").read_text().splitlines())
    mant = np.loadtxt(out / "tb_data" / "input_mantissas.dat", dtype=np.int64)
    assert mant.shape == (n, 64) and mant.min() >= 0 and mant.max() > 1  # unsigned input type, not the floats
    got = {}
    for name, flags, inputs in (("mantissas", CSIM_FLAGS, "input_mantissas.dat"),
                                ("floats", tuple(f for f in CSIM_FLAGS if f != "-DHWC_TB_MANTISSAS"), "inputs.dat")):
        exe = backend._build(out, read_manifest(out), trace=False, flags=flags)
        default = subprocess.run([str(exe)], cwd=out, capture_output=True, text=True)
        assert default.returncode == 0 and f"{n} samples, {n * 10} values compared, 0 mismatches" in default.stdout, name
        run = subprocess.run([str(exe), f"tb_data/{inputs}", "tb_data/expected.dat", str(tmp_path / f"{name}.dat")], cwd=out,
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stdout
        got[name] = np.loadtxt(tmp_path / f"{name}.dat")
    np.testing.assert_array_equal(got["mantissas"], got["floats"])
    np.testing.assert_array_equal(got["floats"], np.loadtxt(out / "tb_data" / "expected.dat"))


# ---- determinism and hostile names -----------------------------------------------------------------

def tree_hash(d):
    h = hashlib.sha256()
    for p in sorted(d.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(d).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


@pytest.mark.parametrize("target", TARGETS)
def test_two_compiles_are_identical(tmp_path, target):
    trees = []
    for run in ("a", "b"):
        out = tmp_path / run / "prj"
        out.parent.mkdir()
        assert hwc("compile", HW_EXAMPLES / "digits_cnn" / "model.onnx", "--target", target, "--wbits", "4",
                   "--calib", DIGITS_CALIB["cnn"], "-o", out).returncode == 0
        trees.append(tree_hash(out))
    assert trees[0] == trees[1]


def test_hostile_node_names_compile_to_harmless_cpp(tmp_path):
    evil = 'x"; system("rm -rf /"); //'
    nasty = "a??/\nb\\"  # a trigraph backslash, a newline and a trailing backslash
    rng = np.random.default_rng(0)
    nodes = [helper.make_node("Gemm", ["in", "w"], ["h"], name=evil, transB=0),
             helper.make_node("Relu", ["h"], ["y"], name=nasty)]
    model = make_model(nodes, [("in", F, ["N", 6])], [("y", F, ["N", 4])],
                       [("w", rng.standard_normal((6, 4)).astype(np.float32))])
    path = save(model, tmp_path / "evil.onnx")
    result = compile_and_verify(path, tmp_path / "prj", "--target", "xilinx", "--input-range=-1,1", samples=200)
    assert_exact(result, samples=200)
    fw = tmp_path / "prj" / "firmware"
    code = "".join(p.read_text() for p in [*fw.glob("*.*"), *(fw / "layers").glob("*.cpp")])  # not the kernel headers
    assert "system" in code  # the name survives, in comments only:
    assert all(line.lstrip().startswith("//") or line.split("//")[0].count('"') % 2 == 0 and "system" not in line.split("//")[0]
               for line in code.splitlines() if "system" in line)
    assert "??" not in code and "\\\n" not in code


def test_relative_output_directory(tmp_path):
    """`make run` writes out/...: a relative output directory compiles and verifies."""
    model = HW_EXAMPLES / "digits_mlp" / "model.onnx"
    assert hwc("compile", model, "--target", "intel", "--calib", DIGITS_CALIB["mlp"], "-o", "rel", cwd=tmp_path).returncode == 0
    res = hwc("verify", "rel", "--samples", "50", cwd=tmp_path)
    assert res.returncode == 0 and "0 mismatches" in res.stdout, res.stdout + res.stderr
