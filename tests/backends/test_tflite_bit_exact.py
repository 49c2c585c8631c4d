"""Every supported model compiled to full-integer TFLite: LiteRT (ai-edge-litert 2.3.0) equals hwc's simulator in
the matching mode bit for bit, on 1,000 random inputs (uniform in the calibrated input range) per model x wbits x
resolver ("ref" = BUILTIN_REF, "xnnpack" = the default AUTO resolver with XNNPACK, "builtin" =
BUILTIN_WITHOUT_DEFAULT_DELEGATES). Int8 I/O compares the int8 outputs; --float-io compares float32 bits.

Models with their own quantizers (QONNX, QCDQ) run once: --wbits does not touch weights the model quantizes
itself (test_wbits_does_not_touch_carried_weights proves the files are identical). ESPCN (1 GMAC per sample,
196,608 outputs each) runs on 2 inputs per resolver to keep the suite within minutes. The corpus' single PyTorch
layers (fixed batch 2/4, ranges from intervals over [-1, 1]) run at wbits 8.
A table of compared values is printed at the end of the module.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import ai_edge_litert  # noqa: F401 (the [test] extra installs it: missing = a broken install, not a skip)

from conftest import CORPUS, HW_EXAMPLES, corpus_dir, print_uncaptured  # noqa: E402
from tflite_models import RESOLVERS, compile_model, random_calib  # noqa: E402

from hwc.backends.tflite import TfliteBackend  # noqa: E402
from hwc.compiler.options import VerifyOptions  # noqa: E402

N = 1000
DIGITS = HW_EXAMPLES / "digits_data"

# name: (folder, file, calibration: "ARCHIVE.npz:KEY" under hw_examples, or the shape of random normal data)
FLOAT_MODELS = {
    "digits_mlp": ("hw", "digits_mlp/model.onnx", "digits_data/calib.npz:x"),
    "digits_cnn": ("hw", "digits_cnn/model.onnx", "digits_data/calib_img.npz:x"),
    "jet_mlp": ("hw", "jet_mlp/model.onnx", "jet_mlp/calib.npz:x"),
    "jet_tagging_mlp_float": ("corpus", "jet_tagging_mlp_float/three_layer_keras.onnx", (500, 16)),
    "conv2d_small_keras": ("corpus", "conv2d_small_keras/conv2d_small_keras.onnx", (500, 8, 8, 1)),
}
QUANTIZED_MODELS = {
    "digits_mlp_w4a4_qonnx": ("hw", "digits_mlp_w4a4/model_qonnx.onnx", "digits_data/calib.npz:x"),
    "digits_mlp_w4a4_qcdq": ("hw", "digits_mlp_w4a4/model_qcdq.onnx", "digits_data/calib.npz:x"),
    "digits_cnn_w4a4_qonnx": ("hw", "digits_cnn_w4a4/model_qonnx.onnx", "digits_data/calib_img.npz:x"),
    "digits_cnn_w4a4_qcdq": ("hw", "digits_cnn_w4a4/model_qcdq.onnx", "digits_data/calib_img.npz:x"),
    "digits_mlp_binary_qonnx": ("hw", "digits_mlp_binary/model_qonnx.onnx", "digits_data/calib.npz:x"),
    "jet_tagging_mlp_qonnx": ("corpus", "jet_tagging_mlp_qonnx/qkeras_jettagging.onnx", (500, 16)),
}
FLOAT_IO = ("digits_cnn", "jet_tagging_mlp_float", "conv2d_small_keras", "digits_cnn_w4a4_qcdq")
# single PyTorch layers of the corpus with fixed (unbatched) shapes, at wbits 8 (each sample is its own run)
LAYERS = ("test_Conv2d", "test_Conv2d_depthwise", "test_Linear")

_COUNTS: dict[tuple[str, str, str], dict[str, int]] = {}


@pytest.fixture(scope="module", autouse=True)
def _summary(request):
    yield
    if not _COUNTS:
        return
    lines = ["", "tflite backend: LiteRT == simulator, values compared (all exact) per model x wbits x I/O x resolver"]
    for (model, wbits, io), c in sorted(_COUNTS.items()):
        lines.append(f"  {model:26s} wbits {wbits:>7s} {io:5s} " + "  ".join(f"{m}={c.get(m, 0):>9,}" for m in RESOLVERS)
                     + f"  ({c['inputs']} inputs)")
    print_uncaptured(request, "\n".join(lines))


def _resolve(spec, tmp_path):
    where, rel, calib = spec
    path = (corpus_dir("models") if where == "corpus" else HW_EXAMPLES) / rel
    if isinstance(calib, tuple):
        calib = random_calib(tmp_path / "calib.npy", calib)
    else:
        calib = str(HW_EXAMPLES / calib)
    return path, calib


def _check(name, path, calib, tmp_path, wbits, float_io=False, samples=N, record=True):
    out = tmp_path / "out"
    compile_model(path, out, calib=calib, wbits=8 if wbits == "own" else wbits, float_io=float_io)
    report = TfliteBackend().verify(out, {}, None, VerifyOptions(samples))
    assert report.samples == samples
    assert report.mismatches == 0, report.first_difference + "\n" + "\n".join(report.details)
    assert report.compared > 0
    for line in report.details:
        assert " 0 differ" in line, line
        assert "WARNING" not in line, line
    if record:
        counts = {d.split(":")[0].removeprefix("tflite-"): int(d.split(": ")[1].split(" values")[0].replace(",", ""))
                  for d in report.details}
        counts["inputs"] = samples
        _COUNTS[(name, str(wbits), "f32" if float_io else "int8")] = counts
    return out


@pytest.mark.slow
@pytest.mark.parametrize("wbits", [2, 4, 8])
@pytest.mark.parametrize("name", list(FLOAT_MODELS))
def test_float_model(name, wbits, tmp_path):
    path, calib = _resolve(FLOAT_MODELS[name], tmp_path)
    _check(name, path, calib, tmp_path, wbits)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(QUANTIZED_MODELS))
def test_quantized_model(name, tmp_path):
    path, calib = _resolve(QUANTIZED_MODELS[name], tmp_path)
    _check(name, path, calib, tmp_path, "own")


@pytest.mark.slow
@pytest.mark.parametrize("name", FLOAT_IO)
def test_float_io(name, tmp_path):
    spec = FLOAT_MODELS.get(name) or QUANTIZED_MODELS[name]
    path, calib = _resolve(spec, tmp_path)
    _check(name, path, calib, tmp_path, 8 if name in FLOAT_MODELS else "own", float_io=True)


@pytest.mark.slow
@pytest.mark.parametrize("name", LAYERS)
def test_corpus_layer(name, tmp_path):
    path = corpus_dir("onnx_pytorch_converted") / name / "model.onnx"
    _check(name, path, None, tmp_path, 8)


def test_wbits_does_not_touch_carried_weights(tmp_path):
    path = HW_EXAMPLES / "digits_mlp_w4a4/model_qonnx.onnx"
    calib = str(DIGITS / "calib.npz") + ":x"
    files = []
    for wbits in (2, 8):
        out = tmp_path / f"w{wbits}"
        compile_model(path, out, calib=calib, wbits=wbits)
        files.append((out / "model.tflite").read_bytes())
    assert files[0] == files[1]


@pytest.mark.slow
@pytest.mark.parametrize("wbits", [2, 4, 8, "own"])
def test_espcn(wbits, tmp_path):
    """ESPCN super-resolution (float at wbits 2/4/8; its QONNX export with its own per-channel scales, with the
    BatchNorms folded into those scales), RESIZE_NEAREST_NEIGHBOR included: 2 inputs x 196,608 outputs."""
    d = corpus_dir("models/espcn_bsd300_nn_resize")
    x = numpy_helper.to_array(onnx.load_tensor(str(d / "test_data/input_0.pb")))
    np.save(tmp_path / "calib.npy", np.concatenate([x, x[:, :, ::-1], x[:, :, :, ::-1]]))
    model = d / ("quant_model.onnx" if wbits == "own" else "float_model.onnx")
    out = _check("espcn_" + ("qonnx" if wbits == "own" else "float"), model, str(tmp_path / "calib.npy"), tmp_path,
                 wbits, samples=2)
    report = (out / "edgetpu_report.txt").read_text()
    assert "RESIZE_NEAREST_NEIGHBOR" in report and "mapped to the Edge TPU: 5 of 5 operators" in report


def test_own_scales_need_no_calibration(tmp_path):
    """ESPCN's QONNX export quantizes every activation itself: with or without calibration data the file is the
    same, and no note about missing calibration is given."""
    d = corpus_dir("models/espcn_bsd300_nn_resize")
    np.save(tmp_path / "c.npy", numpy_helper.to_array(onnx.load_tensor(str(d / "test_data/input_0.pb"))))
    compile_model(d / "quant_model.onnx", tmp_path / "a", calib=str(tmp_path / "c.npy"))
    res = compile_model(d / "quant_model.onnx", tmp_path / "b")
    assert (tmp_path / "a/model.tflite").read_bytes() == (tmp_path / "b/model.tflite").read_bytes()
    assert not [line for line in res.summary if line.startswith("note") and "calib" in line]


def test_corpus_is_where_expected():
    """The corpus models above are looked up under ../shared/corpus/models (skipped when absent)."""
    if not (CORPUS / "models").is_dir():
        pytest.skip(f"corpus folder {CORPUS / 'models'} is absent")
    for _, (where, rel, _) in {**FLOAT_MODELS, **QUANTIZED_MODELS}.items():
        if where == "corpus":
            assert (CORPUS / "models" / rel).exists(), rel
