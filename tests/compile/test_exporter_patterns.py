"""What exporters leave around a layer — input normalisation as Sub/Div, a Conv's bias as a separate
Add, a BatchNorm decomposed into Sub/Div/Mul/Add with its Sqrt(var + eps) and Pow on constants, a
Gemm written as MatMul + Add — canonicalises to Conv → Relu → Dense: the float simulator agrees with
onnxruntime before and after, and the model, which TFLite refused before ("constants and broadcasting
are not supported"), compiles for tflite and verifies bit-exact against the simulator."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
from onnx import helper

from conftest import F, hwc, make_model, save
from hwc.compiler.frontend.onnx_loader import load_onnx
from hwc.compiler.pipeline import cleanup, optimize
from hwc.compiler.sim.run import simulate

RNG = np.random.default_rng(21)


def exporter_model():
    f32 = lambda *s, lo=-1.0, hi=1.0: RNG.uniform(lo, hi, s).astype(np.float32)  # noqa: E731
    nodes = [
        helper.make_node("Sub", ["x", "mean"], ["xc"]),
        helper.make_node("Div", ["xc", "std"], ["xn"]),
        helper.make_node("Conv", ["xn", "w"], ["c"], kernel_shape=[3, 3]),
        helper.make_node("Add", ["c", "cb"], ["cbias"]),
        helper.make_node("Pow", ["bn_std", "two"], ["var"]),
        helper.make_node("Add", ["var", "eps"], ["var_eps"]),
        helper.make_node("Sqrt", ["var_eps"], ["den"]),
        helper.make_node("Sub", ["cbias", "bn_mean"], ["b1"]),
        helper.make_node("Div", ["b1", "den"], ["b2"]),
        helper.make_node("Mul", ["b2", "gamma"], ["b3"]),
        helper.make_node("Add", ["b3", "beta"], ["b4"]),
        helper.make_node("Relu", ["b4"], ["r"]),
        helper.make_node("Flatten", ["r"], ["fl"]),
        helper.make_node("MatMul", ["fl", "w2"], ["mm"]),
        helper.make_node("Add", ["mm", "b2c"], ["y"]),
    ]
    inits = [("mean", f32(1, 3, 1, 1)), ("std", f32(1, 3, 1, 1, lo=0.2, hi=0.3)), ("w", f32(4, 3, 3, 3)),
             ("cb", f32(1, 4, 1, 1)), ("bn_std", f32(1, 4, 1, 1, lo=0.5, hi=2)), ("two", np.float32(2)),
             ("eps", np.float32(1e-5)), ("bn_mean", f32(1, 4, 1, 1)), ("gamma", f32(1, 4, 1, 1, lo=0.5, hi=2)),
             ("beta", f32(1, 4, 1, 1)), ("w2", f32(4 * 6 * 6, 5)), ("b2c", f32(5))]
    return make_model(nodes, [("x", F, [1, 3, 8, 8])], [("y", F, [1, 5])], inits)


def test_exporter_patterns_canonicalise_and_compile_for_tflite(tmp_path):
    path = save(exporter_model(), tmp_path / "exported.onnx")
    x = RNG.uniform(0, 1, (50, 3, 8, 8)).astype(np.float32)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ref = np.concatenate([sess.run(None, {"x": x[i:i + 1]})[0] for i in range(len(x))])
    g = load_onnx(path)
    cleanup(g)
    np.testing.assert_allclose(simulate(g, [x])[0], ref, rtol=1e-5, atol=1e-5)
    optimize(g, verify=True)
    assert [n.op for n in g.toposort()] == ["Conv", "Relu", "Reshape", "Dense"]
    np.testing.assert_allclose(simulate(g, [x])[0], ref, rtol=1e-4, atol=1e-4)

    np.save(tmp_path / "calib.npy", x)
    out = tmp_path / "tfl"
    r = hwc("compile", path, "--target", "tflite", "-o", out, "--calib", tmp_path / "calib.npy")
    assert r.returncode == 0, r.stderr
    v = hwc("verify", out, "--samples", 50, "--resolver", "ref")
    assert v.returncode == 0 and " 0 mismatches" in v.stdout, v.stdout + v.stderr
