"""The ONNX ops transformer exports add (compiler/frontend/onnx_transformer.py) against onnxruntime in
the float simulator: LayerNormalization, Erf, Gather/Slice/Split with constant indices, MatMul of two
activations, and what IR each becomes."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from onnx import helper

from conftest import F, make_model
from hwc.compiler.errors import HwcError
from hwc.compiler.frontend.onnx_loader import convert_model
from hwc.compiler.sim.run import simulate
from test_onnx_float_ops import W, run_both, single

I64 = np.int64


def _multi(nodes, x_shape, y_shape, inits=(), opset=17):
    return make_model(nodes, [("x", F, ["N", *x_shape[1:]])], [("y", F, ["N", *y_shape[1:]])], inits, opset=opset)


CASES = {
    "layernorm_last": lambda: (single("LayerNormalization", (1, 4, 6), (1, 4, 6), {"epsilon": 1e-3},
                                      [("s", W(6)), ("b", W(6))], opset=17), (1, 4, 6)),
    "layernorm_two_axes_no_bias": lambda: (single("LayerNormalization", (1, 3, 4, 5), (1, 3, 4, 5), {"axis": -2},
                                                  [("s", W(4, 5))], opset=17), (1, 3, 4, 5)),
    "layernorm_broadcast_scale": lambda: (single("LayerNormalization", (1, 3, 4, 5), (1, 3, 4, 5), {"axis": 2},
                                                 [("s", W(5)), ("b", W(1, 5))], opset=17), (1, 3, 4, 5)),
    "erf": lambda: (single("Erf", (1, 10), (1, 10)), (1, 10)),
    "gather_scalar": lambda: (single("Gather", (1, 3, 4), (1, 4), {"axis": 1}, [("i", np.array(1, I64))]), (1, 3, 4)),
    "gather_vector_negative": lambda: (single("Gather", (1, 3, 4), (1, 3, 3), {"axis": -1},
                                              [("i", np.array([-1, 0, 2], I64))]), (1, 3, 4)),
    "gather_2d_indices": lambda: (_multi([helper.make_node("Gather", ["x", "i"], ["y"], axis=2)], (1, 3, 4), (1, 3, 2, 2),
                                         [("i", np.array([[3, 0], [-2, 3]], I64))], opset=13), (1, 3, 4)),
    "slice_steps": lambda: (single("Slice", (1, 3, 8), (1, 3, 2), {}, [("st", np.array([1], I64)), ("en", np.array([5], I64)),
                                                                       ("ax", np.array([2], I64)), ("sp", np.array([2], I64))]), (1, 3, 8)),
    "slice_negative_clamped_two_axes": lambda: (single("Slice", (1, 3, 8), (1, 2, 3), {},
                                                       [("st", np.array([-2, -3], I64)), ("en", np.array([100, 1000], I64)),
                                                        ("ax", np.array([1, 2], I64))]), (1, 3, 8)),
    "slice_reverse": lambda: (single("Slice", (1, 3, 8), (1, 3, 8), {}, [("st", np.array([-1], I64)), ("en", np.array([-100], I64)),
                                                                         ("ax", np.array([-1], I64)), ("sp", np.array([-1], I64))]), (1, 3, 8)),
    "slice_opset9": lambda: (single("Slice", (1, 3, 8), (1, 3, 4), {"starts": [2], "ends": [6], "axes": [2]}, opset=9), (1, 3, 8)),
    "split_sizes": lambda: (_multi([helper.make_node("Split", ["x", "sp"], ["a", "b"], axis=2),
                                    helper.make_node("Concat", ["b", "a"], ["y"], axis=2)], (1, 2, 5), (1, 2, 5),
                                   [("sp", np.array([2, 3], I64))], opset=13), (1, 2, 5)),
    "split_num_outputs": lambda: (_multi([helper.make_node("Split", ["x"], ["a", "b", "c"], axis=1, num_outputs=3),
                                          helper.make_node("Concat", ["c", "a", "b"], ["y"], axis=1)], (1, 7, 2), (1, 7, 2),
                                         opset=18), (1, 7, 2)),
    "split_opset11_attr": lambda: (_multi([helper.make_node("Split", ["x"], ["a", "b"], axis=1, split=[1, 2]),
                                           helper.make_node("Sub", ["a", "b"], ["y"])], (1, 3, 2), (1, 2, 2),
                                          opset=11), (1, 3, 2)),
    "attention_scores": lambda: (_multi([helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 1]),
                                         helper.make_node("MatMul", ["x", "t"], ["s"]),
                                         helper.make_node("Softmax", ["s"], ["p"], axis=-1),
                                         helper.make_node("MatMul", ["p", "x"], ["y"])], (1, 4, 3), (1, 4, 3)), (1, 4, 3)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_against_onnxruntime(case):
    model, x_shape = CASES[case]()
    run_both(model, x_shape)


def test_ops_become_ir_gather_and_layer_norm():
    model, _ = CASES["split_sizes"]()
    g = convert_model(model, "t.onnx", {})
    gathers = [n for n in g.nodes if n.op == "Gather"]
    assert [(n.attrs["axis"], n.attrs["indices"]) for n in gathers] == [(2, [0, 1]), (2, [2, 3, 4])]
    model, _ = CASES["layernorm_broadcast_scale"]()
    g = convert_model(model, "t.onnx", {})
    (ln,) = [n for n in g.nodes if n.op == "LayerNormalization"]
    assert ln.attrs["axis"] == -2 and ln.inputs[1].const.shape == (4, 5) and ln.inputs[2].const.shape == (4, 5)


def test_whole_slice_is_no_node():
    model = single("Slice", (1, 3, 8), (1, 3, 8), {}, [("st", np.array([0], I64)), ("en", np.array([8], I64)),
                                                      ("ax", np.array([2], I64))], opset=13)
    g = convert_model(model, "t.onnx", {})
    assert not any(n.op == "Gather" for n in g.nodes)


@pytest.mark.parametrize("build,reason", [
    (lambda: single("Gather", (1, 3, 4), (1, 4), {"axis": 1}, [("i", np.array(3, I64))]), "out of range"),
    (lambda: single("LayerNormalization", (1, 4, 6), (1, 4, 6), {"axis": 0}, [("s", W(1, 4, 6))], opset=17),
     "batch axis"),
])
def test_refusals_name_the_reason(build, reason):
    with pytest.raises(HwcError, match=reason):
        convert_model(build(), "t.onnx", {})


def test_gather_of_run_time_indices_is_refused():
    model = make_model([helper.make_node("Gather", ["x", "i"], ["y"], axis=1)],
                       [("x", F, [1, 3, 4]), ("i", 7, [2])], [("y", F, [1, 2, 4])], opset=13)
    with pytest.raises(HwcError, match="must be a constant"):
        convert_model(model, "t.onnx", {})
