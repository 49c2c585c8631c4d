"""Models and helpers shared by the OpenVINO backend tests: the corpus and hw_examples models, a model
built in code that uses every op the backend emits, and compile/verify through the backend interface."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import helper

from conftest import CORPUS, HW_EXAMPLES, F, compile_options, make_model, save

DIGITS = HW_EXAMPLES / "digits_data"

# id -> (path, calibration "ARCHIVE.npz:KEY" or None, carries its own quantizers, inputs to compare)
# Float models are compiled at every wbits; models with their own quantizers once (wbits does not apply).
# ESPCN (3x128x128 in, 3x256x256 out: 196,608 values per input, ~1.2 s of simulation per input) uses 8
# inputs, i.e. 1.6 million compared values per configuration.
MODELS = {
    "digits_mlp": (HW_EXAMPLES / "digits_mlp/model.onnx", f"{DIGITS}/calib.npz:x", False, 1000),
    "digits_cnn": (HW_EXAMPLES / "digits_cnn/model.onnx", f"{DIGITS}/calib_img.npz:x", False, 1000),
    "jet_mlp_float": (CORPUS / "models/jet_tagging_mlp_float/three_layer_keras.onnx", None, False, 1000),
    "conv2d_small_keras": (CORPUS / "models/conv2d_small_keras/conv2d_small_keras.onnx", None, False, 1000),
    "espcn_float": (CORPUS / "models/espcn_bsd300_nn_resize/float_model.onnx", None, False, 8),
    "jet_mlp_qonnx": (CORPUS / "models/jet_tagging_mlp_qonnx/qkeras_jettagging.onnx", None, True, 1000),
    "espcn_qonnx": (CORPUS / "models/espcn_bsd300_nn_resize/quant_model.onnx", None, True, 8),
    "digits_mlp_w4a4_qonnx": (HW_EXAMPLES / "digits_mlp_w4a4/model_qonnx.onnx", f"{DIGITS}/calib.npz:x", True, 1000),
    "digits_cnn_w4a4_qcdq": (HW_EXAMPLES / "digits_cnn_w4a4/model_qcdq.onnx", f"{DIGITS}/calib_img.npz:x", True, 1000),
    "digits_mlp_binary": (HW_EXAMPLES / "digits_mlp_binary/model_qonnx.onnx", f"{DIGITS}/calib.npz:x", True, 1000),
}
WBITS = (2, 4, 8)


def matrix() -> list[tuple[str, int | None]]:
    """(model id, wbits) for every configuration: float models at WBITS, carried models once."""
    out = []
    for name, (_, _, carried, _) in MODELS.items():
        out += [(name, None)] if carried else [(name, w) for w in WBITS]
    return out


def compile_model(model: Path, outdir: Path, target: str = "openvino", wbits: int | None = 4,
                  calib: str | None = None, **kw):
    """Compile through the backend interface as `hwc compile` does; returns (CompileResult, CompileOptions)."""
    from hwc.backends.openvino import OpenvinoBackend
    from hwc.compiler.compile_model import load_onnx_model

    options = compile_options(target, calib, wbits=wbits or 8, **kw)
    result = OpenvinoBackend().compile(load_onnx_model(model), options, outdir, source=str(model))
    return result, options


def verify(outdir: Path, n: int, inputs=None):
    from hwc.backends.base import read_manifest
    from hwc.backends.openvino import OpenvinoBackend
    from hwc.compiler.options import VerifyOptions

    return OpenvinoBackend().verify(outdir, read_manifest(outdir), inputs, VerifyOptions(samples=n))


def all_ops_model(path: Path, size: int = 10) -> tuple[Path, str]:
    """A small CNN using every IR op the backend emits (Conv, depthwise Conv, LeakyRelu, AveragePool with
    padding, Sigmoid, Clip, Add, Mul, Concat, Pad, MaxPool, GlobalAveragePool over 3x3 (divisor 9),
    Flatten, Gemm, Tanh, Softmax), with calibration data; returns (model, calib spec)."""
    rng = np.random.default_rng(1)

    def r(*s, sc=0.5):
        return (rng.standard_normal(s) * sc).astype(np.float32)

    h = helper.make_node
    nodes = [
        h("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        h("LeakyRelu", ["c1"], ["l1"], alpha=0.1),
        h("AveragePool", ["l1"], ["p1"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        h("Conv", ["p1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], group=8),
        h("Sigmoid", ["c2"], ["s2"]),
        h("Clip", ["p1", "lo", "hi"], ["k1"]),
        h("Add", ["s2", "k1"], ["a1"]),
        h("Mul", ["a1", "p1"], ["m1"]),
        h("Concat", ["m1", "k1"], ["cc"], axis=1),
        h("Pad", ["cc", "pads"], ["pd"], mode="constant"),
        h("MaxPool", ["pd"], ["mp"], kernel_shape=[2, 2], strides=[2, 2]),
        h("GlobalAveragePool", ["mp"], ["gap"]),
        h("Flatten", ["gap"], ["fl"]),
        h("Gemm", ["fl", "w3", "b3"], ["g1"], transB=1),
        h("Tanh", ["g1"], ["t1"]),
        h("Gemm", ["t1", "w4", "b4"], ["g2"], transB=1),
        h("Softmax", ["g2"], ["y"], axis=1),
    ]
    inits = [("w1", r(8, 3, 3, 3)), ("b1", r(8, sc=0.1)), ("w2", r(8, 1, 3, 3)), ("b2", r(8, sc=0.1)),
             ("lo", np.float32(-0.5)), ("hi", np.float32(0.75)), ("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)),
             ("w3", r(12, 16)), ("b3", r(12, sc=0.1)), ("w4", r(5, 12)), ("b4", r(5, sc=0.1))]
    m = make_model(nodes, [("x", F, ["N", 3, size, size])], [("y", F, ["N", 5])], inits, opset=13)
    onnx.checker.check_model(m)
    model = save(m, path / "all_ops.onnx")
    np.savez(path / "calib.npz", x=rng.uniform(-1, 1, (64, 3, size, size)).astype(np.float32))
    return model, f"{path / 'calib.npz'}:x"
