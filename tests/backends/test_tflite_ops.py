"""Every operator the TFLite backend writes, layer by layer: with all tensors preserved, each operator's output in
LiteRT equals the simulator's value of the same name, in every resolver mode (a model's final output alone could
hide a difference that a later saturation swallows). Also the QLinear corpus cases (uint8 <-> int8 by a zero-point
shift of 128) against their ONNX reference outputs."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

import ai_edge_litert  # noqa: F401 (the [test] extra installs it: missing = a broken install, not a skip)

from conftest import F, corpus_dir, make_model  # noqa: E402
from tflite_models import RESOLVERS, compile_model, ops_cnn, random_calib, save, selu_mlp  # noqa: E402

from hwc.backends.tflite import compare, layer_differences, random_inputs, run_litert  # noqa: E402
from hwc.compiler.ir.serialize import load_graph  # noqa: E402
from hwc.compiler.sim.run import simulate  # noqa: E402

OPS_CNN_TFLITE = ["CONV_2D", "PAD", "DEPTHWISE_CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "RELU", "LOGISTIC",
                  "TANH", "ADD", "QUANTIZE", "MUL", "CONCATENATION", "PAD", "AVERAGE_POOL_2D", "CAST", "ADD", "GATHER",
                  "RESIZE_NEAREST_NEIGHBOR", "MEAN", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX"]


@pytest.fixture(scope="module", params=[False, True], ids=["int8-io", "float-io"])
def ops_cnn_dir(request, tmp_path_factory):
    d = tmp_path_factory.mktemp("ops_cnn")
    model = save(ops_cnn(), d / "m.onnx")
    out = d / "out"
    compile_model(model, out, calib=random_calib(d / "calib.npy", (300, 3, 8, 8)), float_io=request.param)
    return out


def test_ops_cnn_writes_every_operator(ops_cnn_dir):
    import json

    g = load_graph(ops_cnn_dir)
    readme = (ops_cnn_dir / "README.md").read_text()
    ops = [line.split()[1] for line in readme.splitlines() if line.startswith("- ") and " (v" in line]
    expected = (["QUANTIZE"] + OPS_CNN_TFLITE + ["DEQUANTIZE"]) if g.metadata["tflite"]["float_io"] else OPS_CNN_TFLITE
    assert ops == expected
    assert "Transpose" not in ops and "TRANSPOSE" not in ops
    assert json.loads((ops_cnn_dir / "hwc.json").read_text())["target"] == "tflite"


@pytest.mark.parametrize("mode", RESOLVERS)
def test_ops_cnn_every_layer_bit_exact(ops_cnn_dir, mode):
    g = load_graph(ops_cnn_dir)
    model = (ops_cnn_dir / "model.tflite").read_bytes()
    layers = layer_differences(g, model, random_inputs(g, 300, seed=3), mode)
    assert len(layers) >= 19  # every operator output that has an IR value (the table's int32 indices have none)
    assert [x for x in layers if x[3]] == []


def test_ops_cnn_outputs_bit_exact(ops_cnn_dir):
    g = load_graph(ops_cnn_dir)
    rep = compare(g, (ops_cnn_dir / "model.tflite").read_bytes(), random_inputs(g, 1000, seed=4), list(RESOLVERS))
    assert rep.mismatches == 0 and rep.compared == 30_000, rep.details
    assert all("partitions as predicted" in d for d in rep.details if d.startswith("tflite-xnnpack"))


def test_selu_is_a_table_lookup_and_exact(tmp_path):
    out = tmp_path / "out"
    compile_model(save(selu_mlp(), tmp_path / "m.onnx"), out, calib=random_calib(tmp_path / "c.npy", (300, 16)))
    g = load_graph(out)
    assert [n.op for n in g.toposort()] == ["FromFloat", "Dense", "Selu", "Dense", "ToFloat"]
    rep = compare(g, (out / "model.tflite").read_bytes(), random_inputs(g, 1000), list(RESOLVERS))
    assert rep.mismatches == 0 and rep.compared == 12_000


def test_simulate_modes_registered():
    from hwc.compiler.sim.run import MODES

    assert {"tflite-ref", "tflite-xnnpack", "tflite-builtin"} <= set(MODES)


# ---- (b) QLinearConv / QLinearMatMul against their ONNX reference outputs ----------------------

QLINEAR = ["test_qlinearconv", "test_qlinearmatmul_2D_uint8_float32"]


def _qlinear_model(case, tmp_path):
    """The node test with its weights and parameters as initializers (a TFLite weight is a constant)."""
    d = corpus_dir("onnx_node") / case
    m = onnx.load(d / "model.onnx")
    ins = list(m.graph.input)
    arrs = [numpy_helper.to_array(onnx.load_tensor(str(d / "test_data_set_0" / f"input_{k}.pb"))) for k in range(len(ins))]
    expected = numpy_helper.to_array(onnx.load_tensor(str(d / "test_data_set_0" / "output_0.pb")))
    g = helper.make_graph(list(m.graph.node), m.graph.name, [ins[0]], list(m.graph.output),
                          [numpy_helper.from_array(a, i.name) for i, a in zip(ins[1:], arrs[1:])])
    mm = helper.make_model(g, opset_imports=list(m.opset_import))
    mm.ir_version = m.ir_version
    return save(mm, tmp_path / "m.onnx"), arrs[0], expected


@pytest.mark.parametrize("case", QLINEAR)
def test_qlinear_reproduces_reference(case, tmp_path):
    path, x, expected = _qlinear_model(case, tmp_path)
    out = tmp_path / "out"
    compile_model(path, out)
    g = load_graph(out)
    assert expected.dtype == np.uint8
    # the simulator, every mode: uint8 in, uint8 out (the zero-point shifts are Casts at the edges)
    for mode in RESOLVERS:
        assert np.array_equal(simulate(g, [x], mode=f"tflite-{mode}")[0], expected), mode
    # LiteRT on the int8 model: the host shifts uint8 -> int8 (q - 128) and back
    meta = g.metadata["tflite"]
    batched = [v.type.shape[:1] == (None,) for v in g.inputs]
    feed = (x.astype(np.int16) - 128).astype(np.int8)
    feed = feed if batched[0] else feed[None]
    for mode in RESOLVERS:
        y = run_litert((out / "model.tflite").read_bytes(), [feed], meta["input_perms"], meta["output_perms"], mode,
                       batched, [v.type.shape[:1] == (None,) for v in g.outputs])[0]
        got = (y.astype(np.int16) + 128).astype(np.uint8).reshape(expected.shape)
        assert np.array_equal(got, expected), mode
    # and 1,000 random uint8 inputs: LiteRT == simulator
    rep = compare(g, (out / "model.tflite").read_bytes(), random_inputs(g, 1000), list(RESOLVERS))
    assert rep.mismatches == 0 and rep.samples == 1000, rep.details


def test_qlinearmatmul_keeps_its_weight_zero_point(tmp_path):
    """B - b_zp spans [-114, 141]: no symmetric int8 form, so FULLY_CONNECTED keeps the zero point (per tensor,
    without bias: XNNPACK then declines the node instead of failing), and LiteRT honours it."""
    path, _, _ = _qlinear_model("test_qlinearmatmul_2D_uint8_float32", tmp_path)
    compile_model(path, tmp_path / "out")
    g = load_graph(tmp_path / "out")
    dense = next(n for n in g.nodes if n.op == "Dense")
    assert dense.inputs[1].type.elem.zero_point == (114 - 128,)
    assert g.metadata["tflite"]["delegated"] == [False]


# ---- kernels whose rounding depends on the data layout or on near-ties -------------------------

def _single_op(op, x_elem, x_shape, y_elem, y_shape, attrs=None):
    from hwc.compiler.ir.graph import Graph
    from hwc.compiler.ir.types import TensorType

    g = Graph("one")
    x = g.add_input("x", TensorType(x_elem, x_shape))
    n = g.add_node(op, [x], attrs or {}, output_types=[TensorType(y_elem, y_shape)])
    g.set_outputs([n.output])
    g.verify()
    return g


def _run_both(g, x, mode, float_io=False):
    from hwc.backends.tflite_layout import io_values
    from hwc.backends.tflite_writer import write_model

    model, _, lay = write_model(g, float_io)
    ins, outs = io_values(g, float_io)
    y = run_litert(model, [x], [lay.of(v) for v in ins], [lay.of(v) for v in outs], mode, [True], [True])[0]
    return y, simulate(g, [x], mode=f"tflite-{mode}")[0]


@pytest.mark.parametrize("mode", RESOLVERS)
@pytest.mark.parametrize("cfg", [
    (0.010883507318794727, -114, 0.002291108248755336, -127, 10, 10, 24),  # XNNPACK: 146.5000032 rounds down
    (0.03125, 3, 0.03125, -7, 4, 4, 16),  # power-of-two scales: exact ties everywhere
    (0.03125, 0, 0.015625, 1, 3, 3, 20),  # n = 9; builtin: 16 SIMD channels, 4 scalar
    (0.017, -5, 0.05, 30, 5, 3, 33),
])
def test_mean_every_sum(cfg, mode):
    """GlobalAveragePool (MEAN): every reachable channel sum S in [-128 n, 127 n], one sum per channel."""
    from hwc.compiler.ir.types import AffineType, IntType

    s_in, z_in, s_out, z_out, h, w, c = cfg
    n = h * w
    sums = np.arange(-128 * n, 127 * n + 1)
    sums = np.concatenate([sums, np.full(-len(sums) % c, sums[0])]).reshape(-1, c)
    base = np.floor_divide(sums, n)
    x = base[:, :, None] + (np.arange(n)[None, None, :] < (sums - base * n)[:, :, None])
    x = x.reshape(-1, c, h, w).astype(np.int8)
    i8 = IntType(8)
    g = _single_op("GlobalAveragePool", AffineType(i8, (s_in,), (z_in,)), (None, c, h, w),
                   AffineType(i8, (s_out,), (z_out,)), (None, c, 1, 1))
    got, sim = _run_both(g, x, mode)
    assert np.array_equal(got, sim)


@pytest.mark.parametrize("mode", RESOLVERS)
@pytest.mark.parametrize("shape", [(13,), (3, 5, 5)], ids=["dense-13-to-7", "conv-3x5x5"])
def test_quantize_dequantize_simd_tails(shape, mode, tmp_path):
    """--float-io with flat sizes that are not multiples of 8 (13 in, 7 out; 75 in and out, stored NHWC): the
    builtin QUANTIZE/DEQUANTIZE treat the first 8 floor(n/8) elements of an invoke (in memory order) with SIMD
    code and the tail with scalar code that rounds differently. Half the inputs are exact ties (k + 1/2) scale."""
    rng = np.random.default_rng(5)
    if len(shape) == 1:
        node = helper.make_node("Gemm", ["x", "w"], ["y"])
        w, out_shape = rng.standard_normal((13, 7)).astype(np.float32), ["N", 7]
    else:
        node = helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])
        w, out_shape = rng.standard_normal((3, 3, 3, 3)).astype(np.float32), ["N", 3, 5, 5]
    m = make_model([node], [("x", F, ["N", *shape])], [("y", F, out_shape)], [("w", w)])
    out = tmp_path / "out"
    compile_model(save(m, tmp_path / "m.onnx"), out, input_range="-2,2", float_io=True)
    g = load_graph(out)
    s = next(n for n in g.nodes if n.op == "FromFloat").output.type.elem.scale[0]
    k = rng.integers(-120, 120, (1000, *shape))
    x = np.where(rng.random((1000, *shape)) < 0.5, (k + 0.5) * s, rng.uniform(-2, 2, (1000, *shape))).astype(np.float32)
    rep = compare(g, (out / "model.tflite").read_bytes(), [x], [mode])
    assert rep.mismatches == 0 and rep.compared == 1000 * int(np.prod(out_shape[1:])), rep.first_difference
