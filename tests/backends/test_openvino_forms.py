"""What the OpenVINO backend's emitted form relies on, measured in openvino 2026.4.1, and its errors.

- FakeQuantize with 65536 levels and equal input/output intervals is removed (FQStrippingTransformation,
  an int16 QDQ pair): a 16-bit cast is therefore a 2^17-level FakeQuantize over the doubled range, then a
  Clamp.
- An int8 FullyConnected with a bias followed by a FakeQuantize whose step equals the accumulator step
  (s_x·s_w) computes wrong values; a Clamp in its place is exact. Casts that drop no bits are Clamps.
- A FakeQuantize fused into the Convolution before it runs the post-op formula
  (`openvino_ops.fake_quantize_postop`), not the standalone one: they differ near ties when the interval
  is scaled by a non-power-of-two (a Rescale).
- For power-of-two grids the "openvino" simulator mode equals the "fixed" mode.
"""

from __future__ import annotations

import numpy as np
import pytest

import openvino  # noqa: F401 (the [test] extra installs it: missing = a broken install, not a skip)

from conftest import hwc  # noqa: E402
from openvino_models import DIGITS, MODELS, compile_model  # noqa: E402

from hwc.backends import openvino_graph as og  # noqa: E402
from hwc.compiler.errors import HwcError  # noqa: E402
from hwc.compiler.ir.types import FixedType, Overflow, Rounding  # noqa: E402
from hwc.compiler.sim import openvino_arith as oa  # noqa: E402
from hwc.compiler.sim import openvino_ops as ovo  # noqa: E402
from hwc.compiler.sim.openvino_casts import fq_for  # noqa: E402

f32 = np.float32
NO_DYNQ = {"DYNAMIC_QUANTIZATION_GROUP_SIZE": 0}


def _run(outputs, params, feeds):
    cm = og.compile_model(og.model(outputs, params), "f32", NO_DYNQ)
    req = cm.create_infer_request()
    req.infer(feeds)
    return [np.array(req.get_output_tensor(i).data) for i in range(len(cm.outputs))]


def test_fake_quantize_of_65536_levels_is_removed():
    rng = np.random.default_rng(0)
    x = rng.uniform(-10, 8200, 4000).astype(f32)
    s = 1 / 8
    p = og.parameter([x.size], name="x")
    stripped = og.relu(og.fake_quantize(p, 0, 65535 * s, 0, 65535 * s, 65536))  # Relu: the FQ must not feed a Result
    q16 = fq_for(FixedType(16, 13, False, Rounding.RND_CONV, Overflow.SAT))
    ours = og.clamp(og.fake_quantize(p, q16.il, q16.ih, q16.ol, q16.oh, q16.levels), *q16.clamp)
    a, b = _run([stripped, ours], [p], {"x": x})
    assert q16.levels == 1 << 17
    assert np.array_equal(a, np.maximum(x, 0))  # no rounding, no saturation: the FakeQuantize is gone
    np.testing.assert_array_equal(b, ovo.quantize(x, q16))
    assert np.array_equal(b, np.clip(np.rint(x.astype(np.float64) / s) * s, 0, 65535 * s))


@pytest.mark.parametrize("levels", [256, 4096])
def test_int8_fc_with_bias_and_a_same_step_fake_quantize(levels):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1.05, (200, 32)).astype(f32)
    w = rng.integers(-64, 64, (10, 32))
    b = (rng.integers(-2000, 2000, 10) * 2.0 ** -9).astype(f32)
    lsb = 2.0 ** -9  # = s_x (2^-4) · s_w (2^-5)
    lo, hi = -(levels // 2) * lsb, (levels // 2 - 1) * lsb
    exact = (oa.fake_quantize(x, 0, 255 / 16, 0, 255 / 16, 256).astype(np.float64) @ (w.T * 2.0 ** -5) + b).astype(f32)
    outs = []
    for kind in ("fq", "clamp"):
        p = og.parameter([-1, 32], name="x")
        y = og.fake_quantize(p, 0, 255 / 16, 0, 255 / 16, 256)
        y = og.add(og.matmul(y, og.compressed_weights(w, f32(2.0 ** -5), dtype="i8"), transpose_b=True), b)
        y = og.fake_quantize(y, lo, hi, lo, hi, levels) if kind == "fq" else og.clamp(y, lo, hi)
        outs.append(_run([y], [p], {"x": x})[0])
    fq, cl = outs
    np.testing.assert_array_equal(cl, np.clip(exact, lo, hi))
    wrong = int((fq != np.clip(exact, lo, hi)).sum())
    print(f"\nint8 FC + bias + FakeQuantize({levels}) at the accumulator step: {wrong} of {fq.size} outputs wrong")
    assert wrong > 0, "fixed in this OpenVINO: saturation-only casts could be FakeQuantizes again"


def test_fake_quantize_fused_into_a_convolution_runs_the_post_op_formula():
    """A 1x1 Convolution (f32 weights 1) then a per-channel FakeQuantize with non-power-of-two intervals,
    inputs at and around every bucket boundary."""
    rng = np.random.default_rng(0)
    C, L = 4, 256
    il = (-rng.uniform(1e4, 9e4, C)).astype(f32)
    ih = (rng.uniform(2e5, 3e5, C)).astype(f32)
    isc = (np.float64(L - 1) / (ih.astype(np.float64) - il))
    k = np.arange(L - 1)
    bnd = il[:, None] + (k[None, :] + 0.5) / isc[:, None]  # exact boundaries, per channel
    xs = np.stack([np.nextafter(bnd.astype(f32), -np.inf), bnd.astype(f32), np.nextafter(bnd.astype(f32), np.inf)], -1)
    x = xs.reshape(C, -1).T.reshape(-1, C, 1, 1).astype(f32)  # [N, C, 1, 1]
    p = og.parameter([-1, C, 1, 1], name="x")
    y = og.convolution(p, og.constant(np.eye(C, dtype=f32).reshape(C, C, 1, 1)))
    sh = lambda a: np.asarray(a, f32).reshape(1, C, 1, 1)  # noqa: E731
    y = og.fake_quantize(y, sh(il), sh(ih), 0.0, 255.0, L)
    got = _run([y], [p], {"x": x})[0]
    post = ovo.fake_quantize_postop(x, sh(il), sh(ih), 0.0, 255.0, L)
    alone = oa.fake_quantize(x, sh(il), sh(ih), 0.0, 255.0, L)
    np.testing.assert_array_equal(got, post)
    print(f"\nFakeQuantize after a Convolution: {x.size} values at bucket boundaries equal the post-op formula; "
          f"the standalone formula differs in {int((alone != got).sum())}")


@pytest.mark.parametrize("name", ["digits_mlp", "digits_cnn"])
def test_openvino_mode_equals_fixed_mode_on_power_of_two_grids(name, tmp_path):
    from hwc.compiler.ir.serialize import load_graph
    from hwc.compiler.sim.run import simulate

    path, calib, _, _ = MODELS[name]
    compile_model(path, tmp_path, "openvino", 4, calib)
    g = load_graph(tmp_path)
    assert g.metadata["sim_mode"] == "openvino"
    x = np.load(DIGITS / ("test.npz" if name == "digits_mlp" else "test_img.npz"))["x_test"]
    a = simulate(g, [x], mode="openvino")[0]
    b = simulate(g, [x], mode="fixed")[0]
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a.astype(np.float64), b)


def test_accumulator_cap_is_refused(tmp_path):
    path, calib, _, _ = MODELS["digits_mlp"]
    with pytest.raises(HwcError, match="accum-bits"):
        compile_model(path, tmp_path, "openvino", 4, calib, accum_bits=12)


def test_sums_beyond_f32_are_refused(tmp_path):
    """24-bit activations make partial sums reach 2^34: beyond what two limbs of 2^24 hold (16- and 20-bit ones take
    two limbs: test_openvino_limbs.py), refused with the layer named."""
    path, calib, _, _ = MODELS["digits_mlp"]
    with pytest.raises(HwcError, match=r"/0/Gemm: f32 partial sums up to \d+ units .* reach 2\^24"):
        compile_model(path, tmp_path, "openvino", 8, calib, abits=24)


def test_rounding_other_than_half_even_is_refused(tmp_path):
    path, calib, _, _ = MODELS["digits_mlp"]
    cfg = tmp_path / "hwc.yaml"
    cfg.write_text("layers:\n  Relu:\n    output: {rounding: TRN}\n")
    with pytest.raises(HwcError, match="RND_CONV"):
        compile_model(path, tmp_path / "out", "openvino", 4, calib, config=str(cfg))


@pytest.mark.parametrize("target", ["openvino", "ncs2"])
def test_cli_compile_verify_simulate(target, tmp_path):
    path, calib, _, _ = MODELS["digits_cnn"]
    out = tmp_path / "out"
    r = hwc("compile", path, "--target", target, "--wbits", 4, "--abits", 8, "--calib", calib, "-o", out)
    assert r.returncode == 0, r.stderr
    assert (out / "model.xml").exists() and (out / "README.md").exists()
    r = hwc("verify", out, "--samples", 300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 mismatches" in r.stdout
    r = hwc("simulate", out, "--input", f"{DIGITS}/test_img.npz:x_test", "--labels", f"{DIGITS}/test_img.npz:y_test")
    assert r.returncode == 0, r.stderr
    assert "top-1 accuracy" in r.stdout


def test_default_options(tmp_path):
    """CompileOptions with only the target and calibration compile with this backend's defaults (wbits 8, abits 8)."""
    from hwc.backends.openvino import OpenvinoBackend
    from hwc.compiler.compile_model import load_onnx_model
    from hwc.compiler.ir.serialize import load_graph
    from hwc.compiler.options import Calibration, CompileOptions

    path, calib, _, _ = MODELS["digits_mlp"]
    OpenvinoBackend().compile(load_onnx_model(path), CompileOptions("openvino", calib=Calibration.read(calib)), tmp_path)
    q = load_graph(tmp_path).metadata["quant"]
    assert (q["wbits"], q["abits"]) == (8, 8)
    assert (tmp_path / "model.xml").exists()
