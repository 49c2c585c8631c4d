"""A binarised FINN network from the corpus (UNSW-NB15 MLP, w2a2, Brevitas-exported QONNX with
non-power-of-two scales): its float input (x + 1) / 2 and its BipolarQuant output compile to fixed
point, and on the model's own inputs (bipolar features, ±1) the simulator's ±1 outputs equal
qonnx's execution of the file, every one. A FINN TFC-style w1a1 MLP (binary weights, bipolar
activations, power-of-two scales) equals its float semantics exactly and verifies in HLS."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import corpus_dir
from hwc.compiler.compile import compile_file
from hwc.compiler.quant_config import QuantConfig
from hwc.compiler.sim.run import simulate


def test_unsw_w2a2_matches_qonnx_on_bipolar_inputs():
    pytest.importorskip("qonnx")
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.transformation.infer_shapes import InferShapes

    path = corpus_dir("models") / "unsw_nb15_mlp_w2a2" / "unsw_nb15-mlp-w2a2.onnx"
    compiled = compile_file(path, QuantConfig(input_bits=2, input_range=(-1.0, 1.0)))
    ops = [n.op for n in compiled.graph.toposort()]
    assert ops[0] == "FromFloat" and ops[-2:] == ["Bipolar", "ToFloat"] and "BatchNormalization" not in ops
    rng = np.random.default_rng(17)
    x = rng.choice(np.float32([-1, 1]), size=(100, 600))
    got = simulate(compiled.graph, [x], mode="fixed")[0]
    mw = ModelWrapper(str(path)).transform(InferShapes())
    name = mw.graph.input[0].name
    ref = np.concatenate([execute_onnx(mw, {name: x[i:i + 1]})[mw.graph.output[0].name] for i in range(len(x))])
    assert set(np.unique(ref)) == {-1.0, 1.0}  # both classes occur
    np.testing.assert_array_equal(got.astype(np.float32), ref)


def w1a1_model():
    """A FINN TFC-style binarised MLP: 8-bit input, then binary weights (±2^-3) and bipolar activations."""
    from onnx import helper

    from conftest import F, make_model

    rng = np.random.default_rng(18)
    dom = "qonnx.custom_op.general"
    nodes = [helper.make_node("Quant", ["x", "s_in", "zero", "bits8"], ["xq"], domain=dom, signed=1, narrow=0,
                              rounding_mode="ROUND")]
    inits = [("s_in", np.float32(2.0 ** -4)), ("zero", np.float32(0)), ("bits8", np.float32(8)), ("s_w", np.float32(0.125)),
             ("one", np.float32(1))]
    h = "xq"
    for i, (k, m) in enumerate([(16, 12), (12, 12), (12, 4)]):
        inits.append((f"w{i}", rng.standard_normal((k, m)).astype(np.float32)))
        nodes += [helper.make_node("BipolarQuant", [f"w{i}", "s_w"], [f"wq{i}"], domain=dom),
                  helper.make_node("MatMul", [h, f"wq{i}"], [f"mm{i}"])]
        h = f"mm{i}"
        if i < 2:
            nodes.append(helper.make_node("BipolarQuant", [h, "one"], [f"a{i}"], domain=dom))
            h = f"a{i}"
    nodes.append(helper.make_node("Identity", [h], ["y"]))
    return make_model(nodes, [("x", F, [1, 16])], [("y", F, [1, 4])], inits, extra_opsets=[(dom, 1)])


def test_w1a1_bipolar_activations_compile_and_verify(tmp_path):
    """Bipolar activations on the power-of-two path: the fixed-point outputs equal the model's own
    float semantics exactly, and the HLS C simulation equals the simulator."""
    from conftest import hwc, save
    from hwc.compiler.frontend.onnx_loader import load_onnx
    from hwc.compiler.pipeline import cleanup

    path = save(w1a1_model(), tmp_path / "w1a1.onnx")
    x = np.random.default_rng(3).uniform(-4, 4, (200, 16)).astype(np.float32)
    ref_graph = load_onnx(path)
    cleanup(ref_graph)
    ref = simulate(ref_graph, [x])[0]
    compiled = compile_file(path, QuantConfig(input_range=(-8.0, 8.0)))
    assert [n.op for n in compiled.graph.toposort()].count("Bipolar") == 2
    np.testing.assert_array_equal(simulate(compiled.graph, [x], mode="fixed")[0].astype(np.float32), ref)
    out = tmp_path / "x"
    r = hwc("compile", path, "--target", "xilinx", "-o", out, "--input-range=-8,8")
    assert r.returncode == 0, r.stderr
    v = hwc("verify", out, "--samples", 100)
    assert v.returncode == 0 and " 0 mismatches" in v.stdout, v.stdout + v.stderr
