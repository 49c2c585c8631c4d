"""The transformer kernels end to end (backends/hls_emit_transformer.py, templates/hls/hwc_transformer.h):
a model with LayerNormalization over one and two axes, with and without bias, a Dense over token rows,
Split, MatMul of two activations, Softmax on the last axis, the erf GELU chain, Erf, Concat, Gather and
a broadcast constant Add, compiled for xilinx and intel; `hwc verify` must find the g++ C simulation
equal to the simulator on every value."""

from __future__ import annotations

import math

import numpy as np
import pytest
from onnx import helper

from conftest import F, make_model, save
from test_hls_verify import assert_exact, compile_and_verify

RNG = np.random.default_rng(17)
I64 = np.int64


def W(*shape):
    return (RNG.standard_normal(shape) * 0.5).astype(np.float32)


def transformer_ops_model():
    n = helper.make_node
    nodes = [
        n("LayerNormalization", ["x", "s1", "b1"], ["ln1"], axis=-1, epsilon=1e-5),
        n("MatMul", ["ln1", "w"], ["mm"]), n("Add", ["mm", "bias"], ["d"]),
        n("Split", ["d", "sp"], ["q", "k"], axis=2),
        n("Transpose", ["k"], ["kt"], perm=[0, 2, 1]),
        n("MatMul", ["q", "kt"], ["sc"]), n("Softmax", ["sc"], ["p"], axis=-1),
        n("MatMul", ["p", "q"], ["o"]),
        n("Div", ["o", "sqrt2"], ["u"]), n("Erf", ["u"], ["eu"]), n("Add", ["eu", "one"], ["a1"]),
        n("Mul", ["o", "a1"], ["xa"]), n("Mul", ["xa", "half"], ["gelu"]),
        n("Erf", ["o"], ["erf"]),
        n("Concat", ["gelu", "erf"], ["c"], axis=2),
        n("LayerNormalization", ["c", "s2"], ["ln2"], axis=-2, epsilon=1e-3),
        n("Gather", ["ln2", "idx"], ["g"], axis=1),
        n("Add", ["g", "pos"], ["y"]),
    ]
    inits = [("s1", W(6)), ("b1", W(6)), ("w", W(6, 8)), ("bias", W(8)), ("sp", np.array([4, 4], I64)),
             ("sqrt2", np.float32(math.sqrt(2.0))), ("one", np.float32(1.0)), ("half", np.float32(0.5)),
             ("s2", W(4, 8)), ("idx", np.array([3, 0], I64)), ("pos", W(1, 2, 8))]
    return make_model(nodes, [("x", F, ["N", 4, 6])], [("y", F, ["N", 2, 8])], inits, opset=17)


@pytest.mark.parametrize("target,io", [("xilinx", "parallel"), ("intel", "parallel"), ("xilinx", "stream")])
def test_transformer_ops_bit_exact(tmp_path, target, io):
    """With --io stream every transformer layer is buffered in arrays around its kernel, several reading one value."""
    model = save(transformer_ops_model(), tmp_path / "m.onnx")
    assert_exact(compile_and_verify(model, tmp_path / "prj", "--target", target, "--io", io, "--input-range=-2,2",
                                    "--abits", "12", samples=300), samples=300)
