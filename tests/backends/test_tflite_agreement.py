"""The TFLite compile summary states how closely the int8 model reproduces a model that carries its
own quantizers. A QDQ MLP with power-of-two scales is reproduced exactly (every output of every
input); with its input left float, TFLite must quantize the input itself and the note says by how
much the outputs differ. The note's figures are recomputed with onnxruntime as the reference; a
float model gets no such note."""

from __future__ import annotations

import re

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from conftest import F, hwc, make_model, save
from hwc.backends.tflite import DEFAULT_MODE
from hwc.backends.tflite_agreement import _from_real, _to_real
from hwc.compiler.ir.serialize import load_graph
from hwc.compiler.sim.run import simulate


def qdq_model(quantized_input=True):
    rng = np.random.default_rng(51)
    s = lambda e: np.float32(2.0 ** e)  # noqa: E731
    z = np.int8(0)
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "sx", "z"], ["xq"]), helper.make_node("DequantizeLinear", ["xq", "sx", "z"], ["xd"]),
        helper.make_node("DequantizeLinear", ["w", "sw", "z"], ["wd"]),
    ][0 if quantized_input else 2:] + [
        helper.make_node("MatMul", ["xd" if quantized_input else "x", "wd"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("QuantizeLinear", ["r", "sh", "z"], ["rq"]), helper.make_node("DequantizeLinear", ["rq", "sh", "z"], ["y"]),
    ]
    inits = [("sx", s(-5)), ("sw", s(-6)), ("sh", s(-4)), ("z", z), ("w", rng.integers(-127, 128, (12, 6)).astype(np.int8))]
    return make_model(nodes, [("x", F, [1, 12])], [("y", F, [1, 6])], inits)


@pytest.mark.parametrize("quantized_input", [True, False])
def test_summary_states_agreement_with_the_models_own_quantization(tmp_path, quantized_input):
    path = save(qdq_model(quantized_input), tmp_path / "qdq.onnx")
    out = tmp_path / "t"
    r = hwc("compile", path, "--target", "tflite", "-o", out, "--input-range=-2,2")
    assert r.returncode == 0, r.stderr
    m = re.search(r"TFLite reproduces its outputs exactly on (\d+) of (\d+) random inputs(?:, largest difference (\S+))?",
                  r.stdout)
    assert m, r.stdout
    equal, n = int(m.group(1)), int(m.group(2))
    # recompute with onnxruntime as the reference, on the same inputs (seed 0, uniform in the range)
    g = load_graph(out)
    x = np.random.default_rng(0).uniform(-2, 2, (n, 12)).astype(np.float32)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ref = np.concatenate([sess.run(None, {"x": x[i:i + 1]})[0] for i in range(n)]).astype(np.float64)
    got = _to_real(g.outputs[0], simulate(g, [_from_real(g.inputs[0], x)], mode=DEFAULT_MODE)[0])
    d = np.abs(got.reshape(ref.shape) - ref)
    assert equal == int((d.max(axis=1) == 0).sum())
    if quantized_input:
        assert equal == n and m.group(3) is None
    else:
        assert equal < n and float(m.group(3)) == float(f"{d.max():.4g}")
    assert hwc("verify", out, "--samples", 50, "--resolver", "xnnpack").returncode == 0


def test_float_model_has_no_agreement_note(tmp_path):
    rng = np.random.default_rng(52)
    model = make_model([helper.make_node("MatMul", ["x", "w"], ["y"])], [("x", F, [1, 4])], [("y", F, [1, 3])],
                       [("w", rng.standard_normal((4, 3)).astype(np.float32))])
    r = hwc("compile", save(model, tmp_path / "f.onnx"), "--target", "tflite", "-o", tmp_path / "t")
    assert r.returncode == 0 and "own quantization" not in r.stdout, r.stdout + r.stderr

