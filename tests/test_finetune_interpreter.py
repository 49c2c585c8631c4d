"""The fine-tuning interpreter's op table: every op it runs computes what the float simulator computes
(float32; equal where the op is exact, within 1e-6 where torch and numpy evaluate a transcendental or sum
in another order),
and an op outside the table is refused naming the node."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hwc.compiler.errors import HwcError
from hwc.compiler.finetune_interpreter import TORCH_OPS, Interpreter
from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, TensorType
from hwc.compiler.sim.run import simulate

RNG = np.random.default_rng(5)
EXACT = {"Relu", "LeakyRelu", "Clip", "MaxPool", "GlobalMaxPool", "Reshape", "Transpose", "Add", "Sub", "Mul",
         "Concat", "Identity", "Dropout"}
C = lambda g, *shape: g.constant(RNG.standard_normal(shape).astype(np.float32))  # noqa: E731
POS = lambda g, n: g.constant(RNG.uniform(0.5, 2.0, n).astype(np.float32))  # noqa: E731
POOL = {"kernel_shape": [2, 2], "strides": [2, 2], "pads": [0, 1, 0, 1], "ceil_mode": False}

# op -> (input shape, extra inputs, attrs)
CASES = {
    "Dense": ((3, 4), lambda g: [C(g, 4, 5), C(g, 5)], {}),
    "Conv": ((2, 3, 5, 5), lambda g: [C(g, 4, 3, 3, 3), C(g, 4)],
             {"strides": [1, 1], "pads": [1, 0, 1, 0], "dilations": [1, 1], "group": 1}),
    "Relu": ((3, 4), None, {}),
    "LeakyRelu": ((3, 4), None, {"alpha": 0.125}),
    "Clip": ((3, 4), None, {"min": -0.5, "max": 0.75}),
    "Sigmoid": ((3, 4), None, {}),
    "Tanh": ((3, 4), None, {}),
    "Softmax": ((3, 4), None, {"axis": 1}),
    "MaxPool": ((2, 3, 5, 5), None, {**POOL, "dilations": [1, 1]}),
    "AveragePool": ((2, 3, 4, 4), None, {**POOL, "pads": [0, 0, 0, 0]}),
    "GlobalAveragePool": ((2, 3, 4, 4), None, {}),
    "GlobalMaxPool": ((2, 3, 4, 4), None, {}),
    "Reshape": ((2, 3, 4), None, {"shape": [None, 12]}),
    "Transpose": ((2, 3, 4), None, {"perm": [0, 2, 1]}),
    "Add": ((3, 4), lambda g: [C(g, 4)], {}),
    "Sub": ((3, 4), lambda g: [C(g, 4)], {}),
    "Mul": ((3, 4), lambda g: [C(g, 4)], {}),
    "Div": ((3, 4), lambda g: [POS(g, 4)], {}),
    "Concat": ((3, 4), lambda g: [g.inputs[0]], {"axis": 1}),
    "BatchNormalization": ((2, 3, 4), lambda g: [POS(g, 3), C(g, 3), C(g, 3), POS(g, 3)], {"epsilon": 1e-3}),
    "Identity": ((3, 4), None, {}),
    "Dropout": ((3, 4), None, {}),
}


def _graph(op):
    shape, extra, attrs = CASES[op]
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None,) + shape[1:]))
    n = g.add_node(op, [x] + (extra(g) if extra else []), attrs, name="n")
    g.set_outputs([n.output])
    return g, shape


def _params(g):
    n = g.nodes[0]
    if n.op not in ("Dense", "Conv"):
        return {}
    return {"n.w": torch.as_tensor(np.array(n.inputs[1].const)), "n.b": torch.as_tensor(np.array(n.inputs[2].const))}


def test_every_op_has_a_case():
    assert sorted(CASES) == sorted(TORCH_OPS)


@pytest.mark.parametrize("op", sorted(TORCH_OPS))
def test_op_computes_what_the_float_simulator_computes(op):
    g, shape = _graph(op)
    x = RNG.standard_normal(shape).astype(np.float32)
    got = Interpreter(g, _params(g), lambda node, w: w)(torch.as_tensor(x)).numpy()
    want = simulate(g, [x])[0]
    assert got.shape == want.shape and got.dtype == np.float32
    if op in EXACT:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("op, attrs", [("Selu", {}), ("AveragePool", {**POOL})])
def test_an_op_outside_the_table_is_refused_naming_the_node(op, attrs):
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 3, 4, 4)))
    g.set_outputs([g.add_node(op, [x], attrs, name="n").output])
    with pytest.raises(HwcError, match=rf"node 'n' \({op}\): fine-tuning does not support {op} yet"):
        Interpreter(g, {}, lambda node, w: w)(torch.zeros(1, 3, 4, 4))
