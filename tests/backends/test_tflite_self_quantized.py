"""TFLite reproduces models that carry their own power-of-two quantizers exactly (issue #17): the real LiteRT
interpreter on the 360 digits test samples gives, on every row, the same logits as the model's reference
(onnxruntime for QCDQ, qonnx's `execute_onnx` for QONNX, one sample at a time as both files fix the batch at 1).

Why it holds: hidden layers keep the model's scales and zero points, so every int8 code is the model's
own; the default resolver (XNNPACK) requantizes with f32(s_in·s_w/s_out) = 2^-k exactly and rounds half to
even, as QONNX's ROUND and QuantizeLinear do. The logits, which the model leaves unquantized (10+ bits), come
from an exact float32 layer (compiler/passes/exact_float_output.py) instead of an int8 output.
The BUILTIN_REF and ruy (BUILTIN_WITHOUT_DEFAULT_DELEGATES) resolvers round ties of the hidden layers half
away from zero / half up: where a pre-activation lies exactly on a tie they differ from the model by one
code, which `test_other_resolvers_differ_only_at_ties` measures (and `hwc verify` proves the simulator's
ref/builtin modes equal LiteRT there). Cost: about 12 s (five compiles, 5 x 3 x 360 interpreter runs, QONNX
reference 3 x 360 samples)."""

from __future__ import annotations

import numpy as np
import pytest

import ai_edge_litert  # noqa: F401 (the [test] extra installs it)
import onnxruntime as ort
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.transformation.infer_shapes import InferShapes

from conftest import HW_EXAMPLES, corpus_dir
from tflite_models import compile_model

from hwc.backends.tflite import run_litert
from hwc.backends.tflite_layout import edge_in
from hwc.compiler.ir.serialize import load_graph
from hwc.compiler.sim.run import simulate

DIGITS = HW_EXAMPLES / "digits_data"
CASES = {  # name: (model, calibration archive, test archive)
    "digits_mlp_w4a4_qonnx": ("digits_mlp_w4a4/model_qonnx.onnx", "calib.npz", "test.npz"),
    "digits_mlp_w4a4_qcdq": ("digits_mlp_w4a4/model_qcdq.onnx", "calib.npz", "test.npz"),
    "digits_cnn_w4a4_qonnx": ("digits_cnn_w4a4/model_qonnx.onnx", "calib_img.npz", "test_img.npz"),
    "digits_cnn_w4a4_qcdq": ("digits_cnn_w4a4/model_qcdq.onnx", "calib_img.npz", "test_img.npz"),
    "digits_mlp_binary_qonnx": ("digits_mlp_binary/model_qonnx.onnx", "calib.npz", "test.npz"),
}


def reference(path, x: np.ndarray) -> np.ndarray:
    """The model's own output per sample: onnxruntime for QCDQ, qonnx for QONNX."""
    if "qonnx" in path.name:
        m = ModelWrapper(str(path)).transform(InferShapes())
        i, o = m.graph.input[0].name, m.graph.output[0].name
        return np.concatenate([execute_onnx(m, {i: s[None]})[o] for s in x])
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    i = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {i: s[None]})[0] for s in x])


def litert(out, x: np.ndarray, resolver: str) -> np.ndarray:
    """The compiled model in the real interpreter; the host quantizes the input as the README says."""
    g = load_graph(out)
    meta = g.metadata["tflite"]
    q = edge_in(g, g.inputs[0], meta["float_io"])
    _, kept = simulate(g, [x], mode="tflite-xnnpack", keep=lambda n: n is q)
    model = (out / "model.tflite").read_bytes()
    return run_litert(model, [kept[q.output.name]], meta["input_perms"], meta["output_perms"], resolver,
                      [True], [True])[0]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    out = {}
    for name, (model, calib, test) in CASES.items():
        d = tmp_path_factory.mktemp(name)
        res = compile_model(HW_EXAMPLES / model, d / "out", calib=f"{DIGITS / calib}:x")
        x = np.load(DIGITS / test)["x_test"].astype(np.float32)
        out[name] = (d / "out", res.summary, x, reference(HW_EXAMPLES / model, x))
    return out


@pytest.mark.parametrize("name", CASES)
def test_every_row_equals_the_reference_in_the_default_interpreter(compiled, name):
    out, summary, x, ref = compiled[name]
    got = litert(out, x, "xnnpack")
    assert got.dtype == np.float32 and got.shape == ref.shape
    np.testing.assert_array_equal(got, ref)
    assert any("reproduces its outputs exactly on 256 of 256" in line for line in summary), summary


@pytest.mark.parametrize("name", CASES)
def test_other_resolvers_differ_only_at_ties(compiled, name):
    """Ref and ruy round a tie of a hidden layer away from the model's half-to-even; off a tie they agree."""
    out, _, x, ref = compiled[name]
    for resolver in ("ref", "builtin"):
        got = litert(out, x, resolver)
        sim = simulate(load_graph(out), [x], mode=f"tflite-{resolver}")[0]
        np.testing.assert_array_equal(got, sim)  # the simulator models the resolver's tie rule exactly
        print(name, resolver, "rows equal to the reference:", int((got == ref).all(axis=1).sum()), "of", len(x))


def test_a_large_multiplier_takes_finer_weight_scales(tmp_path):
    """FINN's UNSW-NB15 MLP (2-bit weights, its own output scales): s_in·s_w/s_out reaches 1,095 and 16,060, which
    XNNPACK refuses (>= 256). Weight codes ·2^e at scales ·2^-e (the same products) bring it below 256: the model
    compiles and LiteRT equals the simulator in all three resolvers."""
    from hwc.backends.base import read_manifest
    from hwc.backends.tflite import TfliteBackend
    from hwc.compiler.options import VerifyOptions

    model = corpus_dir("models/unsw_nb15_mlp_w2a2") / "unsw_nb15-mlp-w2a2.onnx"
    res = compile_model(model, tmp_path / "out")
    notes = [line for line in res.summary if "weight codes scaled up by a power of two" in line]
    assert len(notes) == 2 and "multiplier 1095" in notes[0], res.summary
    g = load_graph(tmp_path / "out")
    for n in (n for n in g.nodes if n.op == "Dense"):
        s_in, s_out = n.inputs[0].type.elem.scale[0], n.output.type.elem.scale[0]
        assert max(np.float32(s_in) * np.float32(s) / np.float32(s_out) for s in n.inputs[1].type.elem.scale) < 255
    report = TfliteBackend().verify(tmp_path / "out", read_manifest(tmp_path / "out"), None, VerifyOptions(samples=300))
    assert report.mismatches == 0 and report.compared == 3 * 300, report.details
