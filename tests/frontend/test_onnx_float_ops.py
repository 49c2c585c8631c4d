"""Every float ONNX op the front end takes, in its opset forms, against onnxruntime.

Each case is a small model built in code with a batch-1 (or symbolic) input; we simulate a batch of
5 samples in one call and compare with onnxruntime run sample by sample (rtol 1e-5, atol 1e-6).
"""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from conftest import F, make_model
from hwc.compiler.frontend.onnx_loader import convert_model
from hwc.compiler.sim.run import simulate

RNG = np.random.default_rng(1234)
BATCH = 5


def W(*shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def single(op, x_shape, y_shape, attrs=None, inits=(), extra_inputs=(), opset=13, batch="1"):
    """A one-node model: input x (first axis = batch) + initializers; `batch` '1' or 'N' (symbolic)."""
    names = ["x"] + [n for n, _ in inits] + list(extra_inputs)
    node = helper.make_node(op, names, ["y"], **(attrs or {}))
    xs = [1 if batch == "1" else "N"] + list(x_shape[1:])
    ys = None if y_shape is None else [1 if batch == "1" else "N"] + list(y_shape[1:])
    return make_model([node], [("x", F, xs)], [("y", F, ys)], inits, opset=opset)


def run_both(model, x_shape, expected=None):
    """Simulate a batch; compare with onnxruntime, or with `expected(x)` where no runtime has the opset."""
    x = RNG.uniform(-2.0, 2.0, size=(BATCH,) + tuple(x_shape[1:])).astype(np.float32)
    graph = convert_model(model, "test.onnx", {})
    graph.verify()
    got = simulate(graph, [x])[0]
    if expected is not None:
        np.testing.assert_allclose(got, expected(x), rtol=1e-5, atol=1e-6)
        return
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    fixed_batch = model.graph.input[0].type.tensor_type.shape.dim[0].HasField("dim_value")
    if fixed_batch:
        ref = np.concatenate([sess.run(None, {"x": x[i:i + 1]})[0] for i in range(BATCH)])
    else:
        ref = sess.run(None, {"x": x})[0]
    assert got.shape == ref.shape and got.dtype == ref.dtype
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


CASES = {
    # dense algebra
    "gemm_const": lambda: (single("Gemm", (1, 7), (1, 4), {}, [("b", W(7, 4)), ("c", W(4))]), (1, 7)),
    "gemm_transB_alpha_beta": lambda: (single("Gemm", (1, 6), (1, 3), {"transB": 1, "alpha": 0.5, "beta": 2.0},
                                              [("b", W(3, 6)), ("c", W(1, 3))]), (1, 6)),
    "gemm_scalar_bias": lambda: (single("Gemm", (1, 5), (1, 3), {}, [("b", W(5, 3)), ("c", W(1))]), (1, 5)),
    "matmul_const": lambda: (single("MatMul", (1, 9), (1, 4), {}, [("b", W(9, 4))]), (1, 9)),
    "matmul_3d": lambda: (single("MatMul", (1, 3, 9), (1, 3, 4), {}, [("b", W(9, 4))]), (1, 3, 9)),
    "conv2d_basic": lambda: (single("Conv", (1, 3, 8, 8), (1, 4, 6, 6), {}, [("w", W(4, 3, 3, 3)), ("b", W(4))]), (1, 3, 8, 8)),
    "conv2d_pads_strides_dil": lambda: (single("Conv", (1, 2, 9, 7), None, {"pads": [1, 2, 0, 1], "strides": [2, 1], "dilations": [1, 2]},
                                               [("w", W(3, 2, 3, 2))]), (1, 2, 9, 7)),
    "conv2d_groups": lambda: (single("Conv", (1, 4, 6, 6), None, {"group": 2, "pads": [1, 1, 1, 1]}, [("w", W(6, 2, 3, 3))]), (1, 4, 6, 6)),
    "conv2d_depthwise": lambda: (single("Conv", (1, 4, 6, 6), None, {"group": 4}, [("w", W(4, 1, 3, 3)), ("b", W(4))]), (1, 4, 6, 6)),
    "conv2d_same_upper": lambda: (single("Conv", (1, 2, 7, 7), None, {"auto_pad": "SAME_UPPER", "strides": [2, 2]}, [("w", W(3, 2, 4, 4))]), (1, 2, 7, 7)),
    "conv2d_same_lower": lambda: (single("Conv", (1, 2, 7, 7), None, {"auto_pad": "SAME_LOWER", "strides": [2, 2]}, [("w", W(3, 2, 4, 4))]), (1, 2, 7, 7)),
    "conv2d_valid": lambda: (single("Conv", (1, 2, 7, 7), None, {"auto_pad": "VALID"}, [("w", W(3, 2, 2, 2))]), (1, 2, 7, 7)),
    "conv1d": lambda: (single("Conv", (1, 3, 16), None, {"pads": [2, 1], "strides": [2]}, [("w", W(5, 3, 4)), ("b", W(5))]), (1, 3, 16)),
    "conv1d_depthwise_dil": lambda: (single("Conv", (1, 3, 16), None, {"group": 3, "dilations": [3]}, [("w", W(3, 1, 3))]), (1, 3, 16)),
    "batchnorm": lambda: (single("BatchNormalization", (1, 3, 4, 4), (1, 3, 4, 4), {"epsilon": 1e-3},
                                 [("s", W(3)), ("bb", W(3)), ("m", W(3)), ("v", np.abs(W(3)) + 0.5)]), (1, 3, 4, 4)),
    # activations
    "relu": lambda: (single("Relu", (1, 10), (1, 10)), (1, 10)),
    "leakyrelu": lambda: (single("LeakyRelu", (1, 10), (1, 10), {"alpha": 0.2}), (1, 10)),
    "prelu_channel": lambda: (single("PRelu", (1, 3, 4, 4), (1, 3, 4, 4), {}, [("s", W(3, 1, 1))]), (1, 3, 4, 4)),
    "clip_inputs": lambda: (single("Clip", (1, 10), (1, 10), {}, [("lo", np.float32(-0.5)), ("hi", np.float32(0.7))]), (1, 10)),
    "clip_min_only": lambda: (single("Clip", (1, 10), (1, 10), {}, [("lo", np.float32(-0.5))]), (1, 10)),
    "clip_opset6": lambda: (single("Clip", (1, 10), (1, 10), {"min": -0.25, "max": 1.5}, opset=6), (1, 10)),
    "sigmoid": lambda: (single("Sigmoid", (1, 10), (1, 10)), (1, 10)),
    "hardsigmoid": lambda: (single("HardSigmoid", (1, 10), (1, 10), {"alpha": 0.3, "beta": 0.4}), (1, 10)),
    "tanh": lambda: (single("Tanh", (1, 10), (1, 10)), (1, 10)),
    "selu": lambda: (single("Selu", (1, 10), (1, 10)), (1, 10)),
    "softmax13": lambda: (single("Softmax", (1, 3, 5), (1, 3, 5), {"axis": 1}), (1, 3, 5)),
    "softmax13_default": lambda: (single("Softmax", (1, 3, 5), (1, 3, 5)), (1, 3, 5)),
    "softmax11_flatten": lambda: (single("Softmax", (1, 2, 3, 4), (1, 2, 3, 4), {"axis": 1}, opset=11), (1, 2, 3, 4)),
    # pooling
    "maxpool2d": lambda: (single("MaxPool", (1, 2, 8, 8), None, {"kernel_shape": [2, 2], "strides": [2, 2]}), (1, 2, 8, 8)),
    "maxpool2d_pads_ceil": lambda: (single("MaxPool", (1, 2, 7, 7), None, {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1}), (1, 2, 7, 7)),
    "maxpool2d_dilated": lambda: (single("MaxPool", (1, 2, 9, 9), None, {"kernel_shape": [2, 2], "dilations": [2, 2]}), (1, 2, 9, 9)),
    "maxpool1d": lambda: (single("MaxPool", (1, 3, 11), None, {"kernel_shape": [3], "strides": [2], "pads": [1, 1]}), (1, 3, 11)),
    "avgpool2d": lambda: (single("AveragePool", (1, 2, 8, 8), None, {"kernel_shape": [2, 2], "strides": [2, 2]}), (1, 2, 8, 8)),
    "avgpool2d_pads_exclude": lambda: (single("AveragePool", (1, 2, 7, 7), None, {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}), (1, 2, 7, 7)),
    "avgpool2d_pads_include": lambda: (single("AveragePool", (1, 2, 7, 7), None, {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "count_include_pad": 1}), (1, 2, 7, 7)),
    "avgpool2d_ceil": lambda: (single("AveragePool", (1, 2, 8, 8), None, {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1}), (1, 2, 8, 8)),
    "avgpool2d_ceil_include": lambda: (single("AveragePool", (1, 2, 8, 8), None, {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1, "count_include_pad": 1}), (1, 2, 8, 8)),
    "avgpool1d_same": lambda: (single("AveragePool", (1, 3, 10), None, {"kernel_shape": [3], "strides": [2], "auto_pad": "SAME_UPPER"}), (1, 3, 10)),
    "globalavgpool": lambda: (single("GlobalAveragePool", (1, 3, 5, 4), (1, 3, 1, 1)), (1, 3, 5, 4)),
    "globalmaxpool": lambda: (single("GlobalMaxPool", (1, 3, 5, 4), (1, 3, 1, 1)), (1, 3, 5, 4)),
    "globalavgpool1d": lambda: (single("GlobalAveragePool", (1, 3, 7), (1, 3, 1)), (1, 3, 7)),
    # elementwise with broadcasting
    "add_bcast": lambda: (single("Add", (1, 3, 4), (1, 3, 4), {}, [("b", W(4))]), (1, 3, 4)),
    "sub_bcast": lambda: (single("Sub", (1, 3, 4), (1, 3, 4), {}, [("b", W(3, 1))]), (1, 3, 4)),
    "mul_bcast": lambda: (single("Mul", (1, 3, 4), (1, 3, 4), {}, [("b", W(1, 3, 4))]), (1, 3, 4)),
    "div_bcast": lambda: (single("Div", (1, 3, 4), (1, 3, 4), {}, [("b", np.abs(W(4)) + 0.5)]), (1, 3, 4)),
    # data movement
    "flatten": lambda: (single("Flatten", (1, 2, 3, 4), (1, 24)), (1, 2, 3, 4)),
    "reshape_minus1": lambda: (single("Reshape", (1, 2, 3, 4), (1, 6, 4), {}, [("s", np.array([1, -1, 4], np.int64))]), (1, 2, 3, 4)),
    "reshape_zero": lambda: (single("Reshape", (1, 2, 3, 4), (1, 2, 12), {}, [("s", np.array([0, 2, -1], np.int64))]), (1, 2, 3, 4)),
    "transpose": lambda: (single("Transpose", (1, 2, 3, 4), (1, 4, 2, 3), {"perm": [0, 3, 1, 2]}), (1, 2, 3, 4)),
    "squeeze13": lambda: (single("Squeeze", (1, 3, 1, 4), (1, 3, 4), {}, [("a", np.array([2], np.int64))]), (1, 3, 1, 4)),
    "squeeze11": lambda: (single("Squeeze", (1, 3, 1, 4), (1, 3, 4), {"axes": [2]}, opset=11), (1, 3, 1, 4)),
    "unsqueeze13": lambda: (single("Unsqueeze", (1, 3, 4), (1, 3, 1, 4), {}, [("a", np.array([-2], np.int64))]), (1, 3, 4)),
    "unsqueeze11": lambda: (single("Unsqueeze", (1, 3, 4), (1, 3, 4, 1), {"axes": [3]}, opset=11), (1, 3, 4)),
    "pad_constant": lambda: (single("Pad", (1, 2, 4, 4), (1, 2, 5, 7), {"mode": "constant"},
                                    [("p", np.array([0, 0, 1, 2, 0, 0, 0, 1], np.int64)), ("v", np.float32(0.5))]), (1, 2, 4, 4)),
    "pad_edge": lambda: (single("Pad", (1, 2, 4, 4), (1, 2, 6, 6), {"mode": "edge"}, [("p", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64))]), (1, 2, 4, 4)),
    "pad_reflect": lambda: (single("Pad", (1, 2, 4, 4), (1, 2, 6, 7), {"mode": "reflect"}, [("p", np.array([0, 0, 2, 1, 0, 0, 0, 2], np.int64))]), (1, 2, 4, 4)),
    "pad_opset6": lambda: (single("Pad", (1, 2, 4, 4), (1, 2, 6, 6), {"pads": [0, 0, 1, 1, 0, 0, 1, 1], "value": -1.0}, opset=6), (1, 2, 4, 4)),
    "identity": lambda: (single("Identity", (1, 5), (1, 5)), (1, 5)),
    "dropout": lambda: (single("Dropout", (1, 5), (1, 5)), (1, 5)),
    "resize_scales_asym": lambda: (single("Resize", (1, 2, 3, 4), (1, 2, 6, 8), {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"},
                                          [("roi", np.zeros(0, np.float32)), ("sc", np.array([1, 1, 2, 2], np.float32))]), (1, 2, 3, 4)),
    "resize_scales_halfpixel": lambda: (single("Resize", (1, 2, 3, 4), (1, 2, 9, 6), {"mode": "nearest"},
                                               [("roi", np.zeros(0, np.float32)), ("sc", np.array([1, 1, 3, 1.5], np.float32))]), (1, 2, 3, 4)),
    "resize_sizes_align": lambda: (single("Resize", (1, 2, 3, 4), (1, 2, 5, 7), {"mode": "nearest", "coordinate_transformation_mode": "align_corners", "nearest_mode": "round_prefer_ceil"},
                                          [("roi", np.zeros(0, np.float32)), ("sc", np.zeros(0, np.float32)), ("sz", np.array([1, 2, 5, 7], np.int64))]), (1, 2, 3, 4)),
    "resize_opset10": lambda: (single("Resize", (1, 2, 3, 4), (1, 2, 6, 8), {"mode": "nearest"}, [("sc", np.array([1, 1, 2, 2], np.float32))], opset=10), (1, 2, 3, 4)),
    "upsample_opset9": lambda: (single("Upsample", (1, 2, 3, 4), (1, 2, 6, 8), {"mode": "nearest"}, [("sc", np.array([1, 1, 2, 2], np.float32))], opset=9), (1, 2, 3, 4)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_float_op_matches_onnxruntime(case):
    model, x_shape = CASES[case]()
    run_both(model, x_shape)


def test_opset6_forms_without_a_runtime():
    """onnxruntime has no Add-6, Gemm-6, BatchNormalization-6 or Dropout-6 kernels (nor does onnx's
    reference evaluator for all of them): the expected values are written from the opset-6 spec."""
    b = W(3)
    w, c = W(2, 5), W(2)
    run_both(single("Gemm", (1, 5), (1, 2), {"broadcast": 1, "transB": 1}, [("b", w), ("c", c)], opset=6), (1, 5),
             expected=lambda x: x @ w.T + c)
    s_, bb, m, v = W(3), W(3), W(3), np.abs(W(3)) + 0.5
    run_both(single("BatchNormalization", (1, 3, 4, 4), (1, 3, 4, 4), {"is_test": 1}, [("s", s_), ("bb", bb), ("m", m), ("v", v)],
                    opset=6), (1, 3, 4, 4),
             expected=lambda x: (x - m.reshape(3, 1, 1)) / np.sqrt(v.reshape(3, 1, 1) + 1e-5) * s_.reshape(3, 1, 1) + bb.reshape(3, 1, 1))
    run_both(single("Add", (1, 3, 4, 2), (1, 3, 4, 2), {"broadcast": 1, "axis": 1}, [("b", b)], opset=6), (1, 3, 4, 2),
             expected=lambda x: x + b.reshape(3, 1, 1))
    run_both(single("Dropout", (1, 5), (1, 5), {"is_test": 1, "ratio": 0.3}, opset=6), (1, 5), expected=lambda x: x)


@pytest.mark.parametrize("batch", ["1", "N"])
def test_shape_subgraph_folds_and_keeps_batch(batch):
    """Shape -> Gather -> Unsqueeze -> Concat -> Reshape (the PyTorch flatten idiom) folds to a constant."""
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "ax0"], ["n1"]),
        helper.make_node("Concat", ["n1", "minus1"], ["target"], axis=0),
        helper.make_node("Reshape", ["x", "target"], ["r"]),
        helper.make_node("Gemm", ["r", "w"], ["y"], transB=1),
    ]
    inits = [("zero", np.array(0, np.int64)), ("ax0", np.array([0], np.int64)), ("minus1", np.array([-1], np.int64)),
             ("w", W(3, 24))]
    b = 1 if batch == "1" else "N"
    model = make_model(nodes, [("x", F, [b, 2, 3, 4])], [("y", F, [b, 3])], inits)
    graph = convert_model(model, "t.onnx", {})
    assert [n.op for n in graph.nodes] == ["Reshape", "Dense"]
    run_both(model, (1, 2, 3, 4))


def test_multi_node_chain_batched():
    """Conv -> Relu -> MaxPool -> Flatten -> Gemm -> Softmax with a symbolic batch, as exporters write it."""
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "w2", "b2"], ["g"], transB=1),
        helper.make_node("Softmax", ["g"], ["y"], axis=1),
    ]
    inits = [("w1", W(4, 1, 3, 3)), ("b1", W(4)), ("w2", W(10, 64, scale=0.2)), ("b2", W(10))]
    model = make_model(nodes, [("x", F, ["N", 1, 8, 8])], [("y", F, ["N", 10])], inits)
    run_both(model, (1, 1, 8, 8))
