"""simulate() in the fixed mode runs large batches in chunks: the same bits as one pass, kept values too."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper

from conftest import make_model, save
from hwc.compiler.compile import compile_file
from hwc.compiler.quant_config import QuantConfig
from hwc.compiler.sim import run


def _model(tmp_path):
    rng = np.random.default_rng(0)
    f = lambda *s: rng.normal(0, 0.5, s).astype(np.float32)  # noqa: E731
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=4),
             helper.make_node("Add", ["c2", "r1"], ["a"]),
             helper.make_node("GlobalAveragePool", ["a"], ["g"]),
             helper.make_node("Flatten", ["g"], ["fl"]),
             helper.make_node("Gemm", ["fl", "w3", "b3"], ["y"])]
    m = make_model(nodes, [("x", TensorProto.FLOAT, ["N", 2, 6, 5])], [("y", TensorProto.FLOAT, ["N", 3])],
                   [("w1", f(4, 2, 3, 3)), ("b1", f(4)), ("w2", f(4, 1, 3, 3)), ("b2", f(4)), ("w3", f(4, 3)), ("b3", f(3))])
    return save(m, tmp_path / "m.onnx"), rng


def test_chunked_equals_one_pass(tmp_path, monkeypatch):
    path, rng = _model(tmp_path)
    c = compile_file(path, QuantConfig(wbits=6, abits=10), [rng.normal(0, 1, (64, 2, 6, 5)).astype(np.float32)])
    c.graph.verify()
    x = rng.normal(0, 1, (203, 2, 6, 5)).astype(np.float32)
    whole, kept_whole = run.simulate(c.graph, [x], mode="fixed", keep=lambda n: True)
    monkeypatch.setattr(run, "CHUNK_ELEMS", 5000)  # chunks of 9 samples (the first conv's columns: 540 per sample)
    assert run._batch_separable(c.graph, c.graph.toposort())
    chunked, kept = run.simulate(c.graph, [x], mode="fixed", keep=lambda n: True)
    np.testing.assert_array_equal(chunked[0], whole[0])
    assert kept.keys() == kept_whole.keys()
    for name in kept:
        np.testing.assert_array_equal(kept[name], kept_whole[name], err_msg=name)
    one = np.concatenate([run.simulate(c.graph, [x[i:i + 1]], mode="fixed")[0] for i in range(0, 203, 29)])
    np.testing.assert_array_equal(one, whole[0][::29])
