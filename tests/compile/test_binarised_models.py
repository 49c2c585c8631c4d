"""A binarised FINN network from the corpus (UNSW-NB15 MLP, w2a2, Brevitas-exported QONNX with
non-power-of-two scales): its float input (x + 1) / 2 and its BipolarQuant output compile to fixed
point, and on the model's own inputs (bipolar features, ±1) the simulator's ±1 outputs equal
qonnx's execution of the file, every one."""

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
