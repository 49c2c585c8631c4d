"""Quantizers as they arrive, compared for exact equality with their reference executors:
QONNX ops with qonnx's `execute_onnx`, ONNX QDQ / QLinear / Integer ops with onnxruntime."""

from __future__ import annotations

import itertools

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

from conftest import F, make_model
from hwc.compiler.frontend.onnx_loader import convert_model
from hwc.compiler.sim.run import simulate

import qonnx.core.onnx_exec as qonnx_exec
from qonnx.core.modelwrapper import ModelWrapper  # noqa: E402

RNG = np.random.default_rng(7)
ROUNDING = ["ROUND", "HALF_EVEN", "CEIL", "FLOOR", "UP", "DOWN", "HALF_UP", "HALF_DOWN"]


def tie_heavy(shape, scale, zp=0.0):
    """Inputs on and between the quantization grid: x/s + z hits k + 0.5 ties, integers and range ends."""
    k = RNG.integers(-300, 300, size=shape).astype(np.float64) / 2  # half-integers and integers
    jitter = RNG.choice([0.0, 0.0, 0.25, -0.25, 0.1], size=shape)
    return ((k + jitter - zp) * np.asarray(scale, np.float64)).astype(np.float32)


def run_qonnx(model, x):
    mw = ModelWrapper(model)
    return qonnx_exec.execute_onnx(mw, {"x": x})["y"]


def run_hwc(model, x):
    g = convert_model(model, "t.onnx", {})
    g.verify()
    return simulate(g, [x])[0]


def quant_model(bitwidth, signed, narrow, rounding, scale, zp, domain="qonnx.custom_op.general", op="Quant", shape=(4, 6),
                opset_import=True):
    node = helper.make_node(op, ["x", "s", "z", "b"], ["y"], domain=domain, signed=int(signed), narrow=int(narrow),
                            rounding_mode=rounding)
    extra = [(domain, 1)] if opset_import else []
    return make_model([node], [("x", F, list(shape))], [("y", F, list(shape))],
                      [("s", np.asarray(scale, np.float32)), ("z", np.asarray(zp, np.float32)), ("b", np.float32(bitwidth))],
                      extra_opsets=extra)


@pytest.mark.parametrize("rounding", ROUNDING)
@pytest.mark.parametrize("bitwidth,signed,narrow", [(2, True, False), (4, True, True), (4, False, False), (8, True, False),
                                                    (8, False, True), (1, True, False), (3, False, False)])
def test_quant_equals_qonnx(rounding, bitwidth, signed, narrow):
    for scale, zp in [(0.125, 0.0), (0.037, 0.0), (0.2, 3.0 if not signed else -1.0),
                      (np.array([0.5, 0.25, 0.1, 0.0625], np.float32).reshape(4, 1), 0.0)]:
        model = quant_model(bitwidth, signed, narrow, rounding, scale, zp)
        x = tie_heavy((4, 6), np.max(scale), zp)
        x = np.concatenate([x, -x], axis=1)[:, :6]
        np.testing.assert_array_equal(run_hwc(model, x), run_qonnx(model, x))


@pytest.mark.parametrize("domain,op,opset_import", [
    ("qonnx.custom_op.general", "Quant", True), ("qonnx.custom_op.general", "IntQuant", True),
    ("finn.custom_op.general", "Quant", False), ("onnx.brevitas", "Quant", True)])
def test_quant_domains(domain, op, opset_import):
    """Every domain seen in the wild, also without an opset_import for it (older FINN files)."""
    model = quant_model(5, True, False, "ROUND", 0.0625, 0.0, domain=domain, op=op, opset_import=opset_import)
    x = tie_heavy((4, 6), 0.0625)
    ref_model = quant_model(5, True, False, "ROUND", 0.0625, 0.0)
    np.testing.assert_array_equal(run_hwc(model, x), run_qonnx(ref_model, x))


def test_bipolar_quant_equals_qonnx():
    node = helper.make_node("BipolarQuant", ["x", "s"], ["y"], domain="qonnx.custom_op.general")
    model = make_model([node], [("x", F, [4, 6])], [("y", F, [4, 6])], [("s", np.float32(0.75))],
                       extra_opsets=[("qonnx.custom_op.general", 1)])
    x = RNG.standard_normal((4, 6)).astype(np.float32)
    x[0, :3] = [0.0, -0.0, 1e-30]
    np.testing.assert_array_equal(run_hwc(model, x), run_qonnx(model, x))


@pytest.mark.parametrize("rounding", ["FLOOR", "ROUND", "CEIL"])
def test_trunc_v1_equals_qonnx(rounding):
    node = helper.make_node("Trunc", ["x", "s", "z", "bi", "bo"], ["y"], domain="qonnx.custom_op.general", rounding_mode=rounding)
    model = make_model([node], [("x", F, [4, 6])], [("y", F, [4, 6])],
                       [("s", np.float32(0.125)), ("z", np.float32(0.0)), ("bi", np.float32(8)), ("bo", np.float32(4))],
                       extra_opsets=[("qonnx.custom_op.general", 1)])
    x = tie_heavy((4, 6), 0.125)
    np.testing.assert_array_equal(run_hwc(model, x), run_qonnx(model, x))


@pytest.mark.parametrize("signed,narrow", [(True, False), (False, False), (True, True)])
def test_trunc_v2_equals_qonnx(signed, narrow):
    node = helper.make_node("Trunc", ["x", "s", "z", "bi", "so", "bo"], ["y"], domain="qonnx.custom_op.general",
                            rounding_mode="FLOOR", signed=int(signed), narrow=int(narrow))
    model = make_model([node], [("x", F, [4, 6])], [("y", F, [4, 6])],
                       [("s", np.float32(0.125)), ("z", np.float32(0.0)), ("bi", np.float32(8)), ("so", np.float32(1.0)),
                        ("bo", np.float32(4))],
                       extra_opsets=[("qonnx.custom_op.general", 2)])
    x = tie_heavy((4, 6), 0.125)
    np.testing.assert_array_equal(run_hwc(model, x), run_qonnx(model, x))


# ---- ONNX QDQ --------------------------------------------------------------------------------

def run_ort(model, feeds):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)[0]


QDQ_TYPES = [(np.int8, TensorProto.INT8, 13), (np.uint8, TensorProto.UINT8, 13), (np.int16, TensorProto.INT16, 21),
             (np.uint16, TensorProto.UINT16, 21)]


@pytest.mark.parametrize("dtype,onnx_type,opset", QDQ_TYPES)
@pytest.mark.parametrize("per_axis", [False, True])
def test_quantize_dequantize_linear_equal_onnxruntime(dtype, onnx_type, opset, per_axis):
    info = np.iinfo(dtype)
    if per_axis:
        scale = np.array([0.02, 0.5, 0.125], np.float32)
        zp = np.array([info.min // 2 + 1 if info.min else 3, 0, info.max // 4], dtype)
    else:
        scale, zp = np.float32(0.05), np.asarray(info.max // 3 if not info.min else -3, dtype)
    q = helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], axis=1)
    dq = helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], axis=1)
    model = make_model([q, dq], [("x", F, ["N", 3, 5])], [("y", F, ["N", 3, 5])], [("s", scale), ("z", zp)], opset=opset)
    x = (RNG.integers(-4 * 2 ** 16, 4 * 2 ** 16, size=(6, 3, 5)) / 8).astype(np.float32)
    x *= np.max(scale) / 64  # ties (k + 0.5) and saturation at both ends
    np.testing.assert_array_equal(run_hwc(model, x), run_ort(model, {"x": x}))
    q_only = make_model([q], [("x", F, ["N", 3, 5])], [("q", onnx_type, ["N", 3, 5])], [("s", scale), ("z", zp)], opset=opset)
    np.testing.assert_array_equal(run_hwc(q_only, x), run_ort(q_only, {"x": x}))


def test_qcdq_clip_between():
    """QCDQ: DequantizeLinear(Clip(QuantizeLinear(x))) with 4-bit narrow bounds in int8 storage."""
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
             helper.make_node("Clip", ["q", "lo", "hi"], ["c"]),
             helper.make_node("DequantizeLinear", ["c", "s", "z"], ["y"])]
    model = make_model(nodes, [("x", F, ["N", 8])], [("y", F, ["N", 8])],
                       [("s", np.float32(0.25)), ("z", np.int8(0)), ("lo", np.int8(-7)), ("hi", np.int8(7))])
    x = (RNG.integers(-80, 80, size=(10, 8)) / 8).astype(np.float32)
    np.testing.assert_array_equal(run_hwc(model, x), run_ort(model, {"x": x}))


def test_dequantize_int32_bias():
    node = helper.make_node("DequantizeLinear", ["x", "s"], ["y"])
    model = make_model([node], [("x", TensorProto.INT32, ["N", 4])], [("y", F, ["N", 4])], [("s", np.float32(2.0 ** -12))])
    x = RNG.integers(-2 ** 30, 2 ** 30, size=(5, 4)).astype(np.int32)
    np.testing.assert_array_equal(run_hwc(model, x), run_ort(model, {"x": x}))


@pytest.mark.parametrize("per_channel", [False, True])
def test_qlinearconv_equals_onnx_reference(per_channel):
    """QLinearConv's requantization is specified as round(acc * xs * ws / ys): we compute it in float64
    as onnx's reference does (exact equality). onnxruntime multiplies in float32 and can land on the
    other side of a tie: against it we allow (and count) 1-LSB differences only."""
    w = RNG.integers(-127, 128, size=(4, 2, 3, 3)).astype(np.int8)
    ws = np.array([0.01, 0.02, 0.005, 0.03], np.float32) if per_channel else np.float32(0.01)
    wz = np.zeros(4, np.int8) if per_channel else np.int8(0)
    bias = RNG.integers(-500, 500, size=4).astype(np.int32)
    node = helper.make_node("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"], ["y"], pads=[1, 1, 1, 1])
    model = make_model([node], [("x", TensorProto.UINT8, ["N", 2, 5, 5])], [("y", TensorProto.UINT8, None)],
                       [("xs", np.float32(0.05)), ("xz", np.uint8(128)), ("w", w), ("ws", ws), ("wz", wz),
                        ("ys", np.float32(0.3)), ("yz", np.uint8(100)), ("b", bias)])
    x = RNG.integers(0, 256, size=(8, 2, 5, 5)).astype(np.uint8)
    got = run_hwc(model, x)
    np.testing.assert_array_equal(got, ReferenceEvaluator(model).run(None, {"x": x})[0])
    diff = np.abs(got.astype(int) - run_ort(model, {"x": x}).astype(int))
    assert diff.max() <= 1, diff.max()
    print(f"QLinearConv per_channel={per_channel}: {int((diff > 0).sum())} of {diff.size} differ from onnxruntime by 1 LSB")


def test_qlinearmatmul_equals_onnx_reference():
    b = RNG.integers(0, 256, size=(6, 3)).astype(np.uint8)
    node = helper.make_node("QLinearMatMul", ["x", "as", "az", "b", "bs", "bz", "ys", "yz"], ["y"])
    model = make_model([node], [("x", TensorProto.UINT8, ["N", 6])], [("y", TensorProto.UINT8, ["N", 3])],
                       [("as", np.float32(0.02)), ("az", np.uint8(120)), ("b", b), ("bs", np.float32(0.01)),
                        ("bz", np.uint8(128)), ("ys", np.float32(0.07)), ("yz", np.uint8(90))])
    x = RNG.integers(0, 256, size=(20, 6)).astype(np.uint8)
    np.testing.assert_array_equal(run_hwc(model, x), ReferenceEvaluator(model).run(None, {"x": x})[0])
    assert np.abs(run_hwc(model, x).astype(int) - run_ort(model, {"x": x}).astype(int)).max() <= 1


def test_matmulinteger_and_convinteger_equal_onnxruntime():
    b = RNG.integers(-128, 128, size=(7, 5)).astype(np.int8)
    mm = make_model([helper.make_node("MatMulInteger", ["x", "b", "az", "bz"], ["y"])],
                    [("x", TensorProto.UINT8, ["N", 7])], [("y", TensorProto.INT32, ["N", 5])],
                    [("b", b), ("az", np.uint8(7)), ("bz", np.int8(-3))])
    x = RNG.integers(0, 256, size=(9, 7)).astype(np.uint8)
    np.testing.assert_array_equal(run_hwc(mm, x), run_ort(mm, {"x": x}))
    w = RNG.integers(0, 256, size=(3, 2, 2, 2)).astype(np.uint8)
    cv = make_model([helper.make_node("ConvInteger", ["x", "w", "xz", "wz"], ["y"], strides=[2, 2])],
                    [("x", TensorProto.UINT8, ["N", 2, 6, 6])], [("y", TensorProto.INT32, None)],
                    [("w", w), ("xz", np.uint8(11)), ("wz", np.uint8(100))])
    x = RNG.integers(0, 256, size=(4, 2, 6, 6)).astype(np.uint8)
    np.testing.assert_array_equal(run_hwc(cv, x), run_ort(cv, {"x": x}))
