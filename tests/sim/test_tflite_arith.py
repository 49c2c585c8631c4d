"""LiteRT (ai-edge-litert 2.3.0) against the numpy models of compiler/sim/tflite_arith.py.

For every op and every resolver path ("ref" = BUILTIN_REF, "xnnpack" = AUTO with the
XNNPACK delegate, "builtin" = BUILTIN_WITHOUT_DEFAULT_DELEGATES) single-op int8 models
are written with backends/tflite_flatbuffer.py, run on >= 1,000 input vectors (batched by
resizing the input), and compared bit for bit. Parameters include per-channel scales
spread over several octaves, non-zero zero points, and scales chosen so that the
requantization hits exact ties (where the paths round differently).

A summary of compared values per op x mode, and of the outputs on which the paths differ
from each other, is written to the terminal at the end of the module.
"""

from __future__ import annotations

import numpy as np
import pytest

import ai_edge_litert  # noqa: F401 (the [test] extra installs it: missing = a broken install, not a skip)

from ai_edge_litert.interpreter import Interpreter, OpResolverType  # noqa: E402

from hwc.backends.tflite_flatbuffer import TfliteBuilder  # noqa: E402
from hwc.compiler.sim import tflite_arith as ta  # noqa: E402
from hwc.compiler.sim.tflite_layers import _out_and_pads  # noqa: E402
from conftest import print_uncaptured

RESOLVERS = {
    "ref": OpResolverType.BUILTIN_REF,
    "xnnpack": OpResolverType.AUTO,
    "builtin": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
}
MODES = list(RESOLVERS)
f32 = np.float32

_COUNTS: dict[tuple[str, str], int] = {}
_DIFFS: dict[str, tuple[int, dict[str, int]]] = {}


@pytest.fixture(scope="module", autouse=True)
def _summary(request):
    yield
    lines = ["", "tflite_arith: values compared bit-exactly per op x mode"]
    for op in sorted({op for op, _ in _COUNTS}):
        lines.append(f"  {op:22s} " + "  ".join(f"{m}={_COUNTS.get((op, m), 0)}" for m in MODES))
    if _DIFFS:
        lines.append("tflite_arith: outputs on which the LiteRT paths differ (of N per path)")
        for op, (n, d) in sorted(_DIFFS.items()):
            lines.append(f"  {op:22s} N={n}  " + "  ".join(f"{k}={v}" for k, v in d.items()))
    print_uncaptured(request, "\n".join(lines))


# ----------------------------------------------------------------------------------------
# Running LiteRT
# ----------------------------------------------------------------------------------------
def run_litert(model: bytes, inputs, mode: str) -> np.ndarray:
    """Run a single-subgraph model; every input's first dimension is the batch (resized)."""
    if not isinstance(inputs, (list, tuple)):
        inputs = [inputs]
    it = Interpreter(model_content=model, experimental_op_resolver_type=RESOLVERS[mode])
    ids = [d["index"] for d in it.get_input_details()]
    for i, x in zip(ids, inputs):
        it.resize_tensor_input(i, list(x.shape))
    it.allocate_tensors()
    for i, x in zip(ids, inputs):
        it.set_tensor(i, x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"]).copy()


def run_litert_per_sample(model: bytes, inputs, mode: str) -> np.ndarray:
    """Invoke once per sample with the model's own batch-1 shapes (the deployment case)."""
    if not isinstance(inputs, (list, tuple)):
        inputs = [inputs]
    it = Interpreter(model_content=model, experimental_op_resolver_type=RESOLVERS[mode])
    it.allocate_tensors()
    ids = [d["index"] for d in it.get_input_details()]
    out_id = it.get_output_details()[0]["index"]
    outs = []
    for k in range(len(inputs[0])):
        for i, x in zip(ids, inputs):
            it.set_tensor(i, x[k:k + 1])
        it.invoke()
        outs.append(it.get_tensor(out_id).copy())
    return np.concatenate(outs)


def check(op: str, mode: str, model: bytes, inputs, expected: np.ndarray, per_sample: bool = False) -> None:
    got = (run_litert_per_sample if per_sample else run_litert)(model, inputs, mode)
    expected = np.asarray(expected).reshape(got.shape).astype(got.dtype)
    np.testing.assert_array_equal(got, expected, err_msg=f"{op} mode={mode}")
    _COUNTS[(op, mode)] = _COUNTS.get((op, mode), 0) + got.size


def tensor(b: TfliteBuilder, name, shape, dtype="int8", data=None, scale=None, zp=None, qdim=0):
    return b.add_tensor(name, shape, dtype, data=data, scale=scale, zero_point=zp, quantized_dimension=qdim)


def single_op(op, ins, out, consts=(), **opts) -> bytes:
    """ins/out: (shape, dtype, scale, zp); consts: (shape, dtype, data, scale, zp, qdim) appended after ins."""
    b = TfliteBuilder()
    in_ids = [tensor(b, f"in{i}", s, d, scale=sc, zp=z) for i, (s, d, sc, z) in enumerate(ins)]
    c_ids = [tensor(b, f"c{i}", s, d, data=v, scale=sc, zp=z, qdim=q) for i, (s, d, v, sc, z, q) in enumerate(consts)]
    o = tensor(b, "out", out[0], out[1], scale=out[2], zp=out[3])
    b.add_operator(op, in_ids + c_ids, [o], **opts)
    b.set_inputs(in_ids)
    b.set_outputs([o])
    return b.to_bytes()


def i8(rng, shape):
    return rng.integers(-128, 128, shape).astype(np.int8)


# ----------------------------------------------------------------------------------------
# Op configurations: each yields (model, inputs, sim(mode) -> expected)
# ----------------------------------------------------------------------------------------
def fc_cases():
    rng = np.random.default_rng(101)
    K, B = 24, 1000
    cases = []
    specs = [
        # (name, N, s_in, s_out, weight scales, per_channel, activation)
        ("random_pc", 16, 0.05, 0.37, 0.004 * 2.0 ** rng.uniform(-3, 3, 16), True, None),
        ("ties_pc_n13", 13, 2.0**-4, 2.0**-1, rng.choice([1, 3, 5, 7], 13) * 2.0 ** rng.integers(-10, -5, 13), True,
         None),
        ("ties_pt", 16, 2.0**-4, 2.0**-1, np.array([3 * 2.0**-8]), False, None),
        ("random_pt_relu", 16, 0.031, 0.21, np.array([0.0071]), False, "RELU"),
        ("random_pc_relu6", 16, 0.02, 0.05, 0.003 * 2.0 ** rng.uniform(-2, 2, 16), True, "RELU6"),
    ]
    for k in range(8):  # random sweep: sizes, octaves of per-channel scales, activations
        n = int(rng.integers(1, 21))
        pc = bool(k % 2 == 0)
        sw = 0.005 * 2.0 ** rng.uniform(-4, 4, n if pc else 1)
        specs.append((f"sweep{k}", n, float(rng.uniform(0.005, 0.1)), float(rng.uniform(0.02, 0.5)), sw, pc,
                      [None, "RELU", "RELU6"][k % 3]))
    for name, N, s_in, s_out, sw, pc, act in specs:
        sw = sw.astype(np.float32)
        B = 1000 if not name.startswith("sweep") else 250
        K = 24 if not name.startswith("sweep") else int(rng.integers(2, 65))
        z_in, z_out = int(rng.integers(-20, 20)), int(rng.integers(-20, 20))
        W = rng.integers(-127, 128, (N, K)).astype(np.int8)
        bias = rng.integers(-4000, 4000, N).astype(np.int32)
        bscale = [float(f32(s_in) * s) for s in (sw if pc else np.repeat(sw, N))]
        model = single_op(
            "FULLY_CONNECTED", [([1, K], "int8", s_in, z_in)], ([1, N], "int8", s_out, z_out),
            consts=[([N, K], "int8", W, list(sw), [0] * len(sw), 0), ([N], "int32", bias, bscale, [0] * N, 0)],
            fused_activation=act)
        X = i8(rng, (B, K))
        sim = (lambda m, X=X, W=W, bias=bias, s_in=s_in, z_in=z_in, sw=sw, s_out=s_out, z_out=z_out, act=act:
               ta.fully_connected(X, W, bias, s_in, z_in, sw, s_out, z_out, activation=act, mode=m))
        cases.append((name, model, X, sim))
    return cases


def conv_cases():
    rng = np.random.default_rng(202)
    B, H, W_, I = 1000, 5, 5, 3
    cases = []
    specs = [
        ("same_s1_random", 8, (3, 3), (1, 1), "SAME", (1, 1), 0.04 * 2.0 ** rng.uniform(-3, 3, 8), 0.06, 0.5, None),
        ("valid_s2_ties_o12", 12, (3, 3), (2, 2), "VALID", (1, 1),
         rng.choice([1, 3, 5], 12) * 2.0 ** rng.integers(-10, -6, 12), 2.0**-4, 2.0**-2, None),
        ("same_dil2_relu_o5", 5, (2, 2), (1, 1), "SAME", (2, 2), 0.01 * 2.0 ** rng.uniform(-2, 2, 5), 0.03, 0.2,
         "RELU"),
        ("same_s2_ties_relu6", 8, (3, 3), (2, 2), "SAME", (1, 1), 3 * 2.0 ** rng.integers(-11, -8, 8), 2.0**-5,
         2.0**-3, "RELU6"),
    ]
    for k in range(6):
        o = int(rng.integers(1, 13))
        kk = int(rng.integers(1, 4))
        specs.append((f"sweep{k}", o, (kk, int(rng.integers(1, 4))), (int(rng.integers(1, 3)),) * 2,
                      ["SAME", "VALID"][k % 2], (1 + (k % 3 == 2),) * 2, 0.02 * 2.0 ** rng.uniform(-4, 4, o),
                      float(rng.uniform(0.005, 0.1)), float(rng.uniform(0.05, 0.6)), [None, "RELU", "RELU6"][k % 3]))
    for name, O, (kh, kw), strides, padding, dil, sw, s_in, s_out, act in specs:
        B = 1000 if not name.startswith("sweep") else 300
        sw = sw.astype(np.float32)
        z_in, z_out = int(rng.integers(-20, 20)), int(rng.integers(-20, 20))
        Wt = rng.integers(-127, 128, (O, kh, kw, I)).astype(np.int8)
        bias = rng.integers(-3000, 3000, O).astype(np.int32)
        oh = _out_and_pads(H, kh, strides[0], dil[0], padding)[0]
        ow = _out_and_pads(W_, kw, strides[1], dil[1], padding)[0]
        model = single_op(
            "CONV_2D", [([1, H, W_, I], "int8", s_in, z_in)], ([1, oh, ow, O], "int8", s_out, z_out),
            consts=[([O, kh, kw, I], "int8", Wt, list(sw), [0] * O, 0),
                    ([O], "int32", bias, [float(f32(s_in) * s) for s in sw], [0] * O, 0)],
            padding=padding, strides=strides, dilation=dil, fused_activation=act)
        X = i8(rng, (B, H, W_, I))
        sim = (lambda m, X=X, Wt=Wt, bias=bias, s_in=s_in, z_in=z_in, sw=sw, s_out=s_out, z_out=z_out,
               strides=strides, padding=padding, dil=dil, act=act:
               ta.conv_2d(X, Wt, bias, s_in, z_in, sw, s_out, z_out, strides, padding, dil, act, mode=m))
        cases.append((name, model, X, sim))
    return cases


def dw_cases():
    rng = np.random.default_rng(303)
    B, H, W_, C = 1000, 5, 5, 4
    cases = []
    specs = [
        ("same_s1_random", 1, (3, 3), (1, 1), "SAME", (1, 1), 0.05, 0.3, "random", None),
        ("valid_s2_ties_dm2", 2, (3, 3), (2, 2), "VALID", (1, 1), 2.0**-4, 2.0**-2, "ties", None),
        ("same_dil2_ties_relu", 1, (2, 2), (1, 1), "SAME", (2, 2), 2.0**-5, 2.0**-3, "ties", "RELU"),
        ("same_s2_random_relu6", 2, (3, 3), (2, 2), "SAME", (1, 1), 0.02, 0.08, "random", "RELU6"),
        ("same_s1_ties_c6_dm2", 2, (3, 3), (1, 1), "SAME", (1, 1), 2.0**-4, 2.0**-2, "ties", None, 6),
    ]
    for k in range(6):
        specs.append((f"sweep{k}", int(rng.integers(1, 4)), (int(rng.integers(1, 4)), int(rng.integers(1, 4))),
                      (int(rng.integers(1, 3)),) * 2, ["SAME", "VALID"][k % 2], (1 + (k % 3 == 1),) * 2,
                      float(rng.uniform(0.005, 0.1)), float(rng.uniform(0.05, 0.6)), ["random", "ties"][k % 2],
                      [None, "RELU", "RELU6"][k % 3], int(rng.integers(1, 13))))
    for name, dm, (kh, kw), strides, padding, dil, s_in, s_out, kind, act, *c in specs:
        C = c[0] if c else 4
        OC = C * dm
        B = 1000 if not name.startswith("sweep") else 300
        if kind == "random":
            sw = (0.01 * 2.0 ** rng.uniform(-3, 3, OC)).astype(np.float32)
        else:
            sw = (rng.choice([1, 3, 5], OC) * 2.0 ** rng.integers(-10, -6, OC)).astype(np.float32)
        z_in, z_out = int(rng.integers(-20, 20)), int(rng.integers(-20, 20))
        Wt = rng.integers(-127, 128, (1, kh, kw, OC)).astype(np.int8)
        bias = rng.integers(-2000, 2000, OC).astype(np.int32)
        oh = _out_and_pads(H, kh, strides[0], dil[0], padding)[0]
        ow = _out_and_pads(W_, kw, strides[1], dil[1], padding)[0]
        model = single_op(
            "DEPTHWISE_CONV_2D", [([1, H, W_, C], "int8", s_in, z_in)], ([1, oh, ow, OC], "int8", s_out, z_out),
            consts=[([1, kh, kw, OC], "int8", Wt, list(sw), [0] * OC, 3),
                    ([OC], "int32", bias, [float(f32(s_in) * s) for s in sw], [0] * OC, 0)],
            padding=padding, strides=strides, dilation=dil, depth_multiplier=dm, fused_activation=act)
        X = i8(rng, (B, H, W_, C))
        sim = (lambda m, X=X, Wt=Wt, bias=bias, s_in=s_in, z_in=z_in, sw=sw, s_out=s_out, z_out=z_out,
               strides=strides, padding=padding, dil=dil, dm=dm, act=act:
               ta.depthwise_conv_2d(X, Wt, bias, s_in, z_in, sw, s_out, z_out, strides, padding, dil, dm, act,
                                    mode=m))
        cases.append((name, model, X, sim))
    return cases


def pool_cases(op):
    rng = np.random.default_rng(404 if op == "MAX_POOL_2D" else 405)
    B, H, W_, C = 1000, 6, 6, 4
    fn = ta.max_pool_2d if op == "MAX_POOL_2D" else ta.average_pool_2d
    cases = []
    for name, filt, strides, padding, act in [("valid_2x2_s2", (2, 2), (2, 2), "VALID", None),
                                               ("same_3x3_s2", (3, 3), (2, 2), "SAME", None),
                                               ("same_3x3_s1_relu", (3, 3), (1, 1), "SAME", "RELU"),
                                               ("global_6x6", (6, 6), (1, 1), "VALID", None)]:
        s, z = 0.07, int(rng.integers(-20, 20))
        oh = _out_and_pads(H, filt[0], strides[0], 1, padding)[0]
        ow = _out_and_pads(W_, filt[1], strides[1], 1, padding)[0]
        model = single_op(op, [([1, H, W_, C], "int8", s, z)], ([1, oh, ow, C], "int8", s, z),
                          padding=padding, strides=strides, filter=filt, fused_activation=act)
        X = i8(rng, (B, H, W_, C))
        sim = (lambda m, X=X, filt=filt, strides=strides, padding=padding, s=s, z=z, act=act:
               fn(X, filt, strides, padding, s, z, act, mode=m))
        cases.append((name, model, X, sim))
    return cases


def mean_cases():
    rng = np.random.default_rng(505)
    B, C = 1000, 8
    cases = []
    for name, (H, W_), s_in, z_in, s_out, z_out, keep in [
        ("4x4_same_q", (4, 4), 0.1, 3, 0.1, 3, True),
        ("4x4_pot_ties", (4, 4), 0.5, 0, 0.5, 1, True),
        ("3x3_requant", (3, 3), 0.1, 3, 0.03, -5, True),
        ("7x7_random", (7, 7), 0.034, 17, 0.122, -1, True),
        ("5x5_nokeep", (5, 5), 0.02, -10, 0.01, 7, False),
        ("2x5_nokeep_same_q", (2, 5), 0.1, 3, 0.1, 3, False),
    ] + [(f"sweep{k}", (int(rng.integers(1, 9)), int(rng.integers(2, 9))), float(rng.uniform(0.01, 0.2)),
          int(rng.integers(-60, 60)), float(rng.uniform(0.01, 0.3)), int(rng.integers(-60, 60)), k % 2 == 0)
         for k in range(8)]:
        axis = ([2], "int32", np.array([1, 2]), None, None, 0)
        out_shape = [1, 1, 1, C] if keep else [1, C]
        model = single_op("MEAN", [([1, H, W_, C], "int8", s_in, z_in)], (out_shape, "int8", s_out, z_out),
                          consts=[axis], keep_dims=keep)
        X = i8(rng, (B, H, W_, C))
        sim = (lambda m, X=X, s_in=s_in, z_in=z_in, s_out=s_out, z_out=z_out, keep=keep:
               ta.mean_hw(X, s_in, z_in, s_out, z_out, keep_dims=keep, mode=m))
        cases.append((name, model, X, sim))
    return cases


def binary_cases(op):
    rng = np.random.default_rng(606 if op == "ADD" else 607)
    B, N = 1000, 16
    if op == "ADD":
        params = [(0.1, 3, 0.1, 3, 0.2, -1), (0.05, -7, 0.1, 10, 0.1, 0), (0.125, 1, 0.25, -2, 0.5, 3)]
    else:
        params = [(0.1, 3, 0.1, 3, 0.2, -1), (0.125, 1, 0.25, -2, 0.5, 3), (2.0**-4, 5, 2.0**-5, -3, 2.0**-6, 2)]
    for _ in range(7):
        params.append(tuple(v for pair in [(rng.uniform(0.01, 0.2), int(rng.integers(-40, 40))) for _ in range(2)]
                            for v in pair) + (rng.uniform(0.002, 0.3), int(rng.integers(-40, 40))))
    fn = ta.add if op == "ADD" else ta.mul
    cases = []
    for k, (s1, z1, s2, z2, so, zo) in enumerate(params):
        act = "RELU" if k == 2 else ("RELU6" if k == 5 else None)
        B = 1000 if k < 4 else 250
        model = single_op(op, [([1, N], "int8", s1, z1), ([1, N], "int8", s2, z2)], ([1, N], "int8", so, zo),
                          fused_activation=act)
        X1, X2 = i8(rng, (B, N)), i8(rng, (B, N))
        sim = (lambda m, X1=X1, X2=X2, p=(s1, z1, s2, z2, so, zo), act=act:
               fn(X1, p[0], p[1], X2, p[2], p[3], p[4], p[5], activation=act, mode=m))
        cases.append((f"case{k}", model, [X1, X2], sim))
    return cases


def concat_cases():
    rng = np.random.default_rng(707)
    B = 1000
    s, z = 0.05, -3
    model = single_op("CONCATENATION", [([1, 5], "int8", s, z), ([1, 3], "int8", s, z)], ([1, 8], "int8", s, z),
                      axis=1)
    X1, X2 = i8(rng, (B, 5)), i8(rng, (B, 3))
    return [("axis1", model, [X1, X2], lambda m: ta.concatenation([X1, X2], [s, s], [z, z], 1, s, z, mode=m))]


def reshape_cases():
    rng = np.random.default_rng(808)
    B = 1000
    model = single_op("RESHAPE", [([1, 2, 3, 4], "int8", 0.1, 2)], ([1, 24], "int8", 0.1, 2),
                      consts=[([2], "int32", np.array([-1, 24]), None, None, 0)], new_shape=[-1, 24])
    X = i8(rng, (B, 2, 3, 4))
    return [("to_2d", model, X, lambda m: ta.reshape(X, (B, 24), mode=m))]


def pad_cases():
    rng = np.random.default_rng(909)
    B = 1000
    pads = np.array([[0, 0], [1, 2], [2, 1], [0, 0]])
    model = single_op("PAD", [([1, 4, 4, 3], "int8", 0.1, -7)], ([1, 7, 7, 3], "int8", 0.1, -7),
                      consts=[([4, 2], "int32", pads, None, None, 0)])
    X = i8(rng, (B, 4, 4, 3))
    return [("spatial", model, X, lambda m: ta.pad(X, pads, -7, mode=m))]


def softmax_cases():
    rng = np.random.default_rng(1001)
    B, N = 1000, 10
    cases = []
    for name, s_in, z_in, beta, lo, hi in [("s0.1_full", 0.1, 3, 1.0, -128, 128),
                                           ("s0.05_narrow", 0.05, -10, 1.0, -20, 20),
                                           ("s0.3_dups", 0.3, 0, 1.0, -3, 3),
                                           ("s0.02_beta0.5", 0.02, 5, 0.5, -128, 128),
                                           ("s0.05_many_rows", 0.05, 0, 1.0, -128, 128)]:
        model = single_op("SOFTMAX", [([1, N], "int8", s_in, z_in)], ([1, N], "int8", 1 / 256, -128), beta=beta)
        # ref and builtin disagree on ~1 value in 20,000: the last case has enough rows to show it
        rows = 20 * B if name.endswith("many_rows") else B
        X = rng.integers(lo, hi, (rows, N)).astype(np.int8)
        sim = lambda m, X=X, s_in=s_in, z_in=z_in, beta=beta: ta.softmax(X, s_in, z_in, beta, mode=m)
        cases.append((name, model, X, sim))
    return cases


def lut_cases(op):
    rng = np.random.default_rng(1101 if op == "LOGISTIC" else 1102)
    s_out, z_out = (1 / 256, -128) if op == "LOGISTIC" else (1 / 128, 0)
    fn = ta.logistic if op == "LOGISTIC" else ta.tanh
    cases = []
    Xall = np.tile(np.arange(-128, 128, dtype=np.int8), 4).reshape(1024, 1)
    for k in range(24):
        s_in = float(f32(2.0 ** rng.uniform(-7, 1)))
        z_in = int(rng.integers(-40, 40))
        model = single_op(op, [([1, 1], "int8", s_in, z_in)], ([1, 1], "int8", s_out, z_out))
        sim = lambda m, s_in=s_in, z_in=z_in: fn(Xall, s_in, z_in, s_out, z_out, mode=m)
        cases.append((f"scale{k}", model, Xall, sim))
    return cases


def quantize_cases():
    rng = np.random.default_rng(1201)
    B, N = 1000, 16
    cases = []
    for k, s in enumerate([2.0**-4, 0.0371, 2.0**-6, 0.113]):
        s = float(f32(s))
        z = int(rng.integers(-30, 30))
        model = single_op("QUANTIZE", [([1, N], "float32", None, None)], ([1, N], "int8", s, z))
        ties = ((rng.integers(-150, 150, (B // 2, N)) + 0.5) * s).astype(np.float32)
        rand = (rng.standard_normal((B // 2, N)) * 60 * s).astype(np.float32)
        X = np.concatenate([ties, rand])
        cases.append((f"case{k}", model, X, lambda m, X=X, s=s, z=z: ta.quantize(X, s, z, mode=m)))
    return cases


def dequantize_cases():
    rng = np.random.default_rng(1301)
    cases = []
    Xall = np.tile(np.arange(-128, 128, dtype=np.int8), 4).reshape(64, 16)
    for k in range(4):
        s = float(f32(2.0 ** rng.uniform(-8, 0)))
        z = int(rng.integers(-128, 128))
        model = single_op("DEQUANTIZE", [([1, 16], "int8", s, z)], ([1, 16], "float32", None, None))
        cases.append((f"case{k}", model, Xall, lambda m, s=s, z=z: ta.dequantize(Xall, s, z, mode=m)))
    return cases


OPS = {
    "FULLY_CONNECTED": fc_cases,
    "CONV_2D": conv_cases,
    "DEPTHWISE_CONV_2D": dw_cases,
    "MAX_POOL_2D": lambda: pool_cases("MAX_POOL_2D"),
    "AVERAGE_POOL_2D": lambda: pool_cases("AVERAGE_POOL_2D"),
    "MEAN": mean_cases,
    "ADD": lambda: binary_cases("ADD"),
    "MUL": lambda: binary_cases("MUL"),
    "CONCATENATION": concat_cases,
    "RESHAPE": reshape_cases,
    "PAD": pad_cases,
    "SOFTMAX": softmax_cases,
    "LOGISTIC": lambda: lut_cases("LOGISTIC"),
    "TANH": lambda: lut_cases("TANH"),
    "QUANTIZE": quantize_cases,
    "DEQUANTIZE": dequantize_cases,
}

_CASE_CACHE: dict[str, list] = {}


def cases_for(op):
    if op not in _CASE_CACHE:
        _CASE_CACHE[op] = OPS[op]()
    return _CASE_CACHE[op]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", list(OPS))
def test_op_bit_exact(op, mode):
    """LiteRT output == numpy model, for every case of the op, on this resolver path."""
    for name, model, inputs, sim in cases_for(op):
        check(op, mode, model, inputs, sim(mode))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", ["FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "MUL", "MEAN"])
def test_op_bit_exact_batch1_invokes(op, mode):
    """The deployment case: batch-1 invokes (GEMV-sized problems) give the same results."""
    name, model, inputs, sim = cases_for(op)[1]
    n = 300
    sub = [x[:n] for x in inputs] if isinstance(inputs, list) else inputs[:n]
    expected = sim(mode)
    expected = expected[:n] if op not in ("ADD", "MUL") or mode != "builtin" else None
    if expected is None:  # builtin MUL/ADD: the int16 lanes depend on the per-invoke flat size
        fn = ta.add if op == "ADD" else ta.mul
        p = sim.__defaults__[2]
        act = sim.__defaults__[3]
        expected = np.concatenate([fn(sub[0][k:k + 1], p[0], p[1], sub[1][k:k + 1], p[2], p[3], p[4], p[5],
                                      activation=act, mode=mode) for k in range(n)])
    check(op + "/b1", mode, model, sub, expected, per_sample=True)


# ----------------------------------------------------------------------------------------
# The paths really differ
# ----------------------------------------------------------------------------------------
# Ops whose resolver paths must disagree somewhere on the cases above (measured), and the
# pairs that must agree everywhere (same kernel or same formula).
EXPECT_DIFFERENT = {
    "FULLY_CONNECTED": ["ref/xnnpack", "ref/builtin", "xnnpack/builtin"],
    "CONV_2D": ["ref/xnnpack", "ref/builtin", "xnnpack/builtin"],
    "DEPTHWISE_CONV_2D": ["ref/xnnpack", "ref/builtin", "xnnpack/builtin"],
    "MEAN": ["ref/xnnpack", "ref/builtin", "xnnpack/builtin"],
    "ADD": ["ref/xnnpack", "xnnpack/builtin"],
    "MUL": ["ref/xnnpack", "ref/builtin", "xnnpack/builtin"],
    "SOFTMAX": ["ref/xnnpack", "ref/builtin"],
    "QUANTIZE": ["ref/xnnpack", "ref/builtin"],
    "DEQUANTIZE": ["ref/builtin", "xnnpack/builtin"],
}
EXPECT_SAME = {
    "ADD": ["ref/builtin"],
    "SOFTMAX": ["xnnpack/builtin"],
    "QUANTIZE": ["xnnpack/builtin"],
    "DEQUANTIZE": ["ref/xnnpack"],
    "AVERAGE_POOL_2D": ["ref/xnnpack", "ref/builtin", "xnnpack/builtin"],
    "MAX_POOL_2D": ["ref/xnnpack", "ref/builtin", "xnnpack/builtin"],
    "LOGISTIC": ["ref/xnnpack", "ref/builtin", "xnnpack/builtin"],
    "TANH": ["ref/xnnpack", "ref/builtin", "xnnpack/builtin"],
}


@pytest.mark.parametrize("op", sorted(set(EXPECT_DIFFERENT) | set(EXPECT_SAME)))
def test_modes_differ(op):
    """Count, per op, the outputs on which the three LiteRT paths disagree (pairwise)."""
    total = 0
    diffs = {"ref/xnnpack": 0, "ref/builtin": 0, "xnnpack/builtin": 0}
    for name, model, inputs, sim in cases_for(op):
        outs = {m: run_litert(model, inputs, m) for m in MODES}
        total += outs["ref"].size
        for pair in diffs:
            a, b = pair.split("/")
            ne = outs[a] != outs[b]
            diffs[pair] += int(ne.sum())
            # the model predicts the same disagreement
            sa, sb = sim(a).reshape(outs[a].shape), sim(b).reshape(outs[b].shape)
            assert int((sa != sb).sum()) == int(ne.sum()), f"{op} {name} {pair}"
    _DIFFS[op] = (total, diffs)
    for pair in EXPECT_DIFFERENT.get(op, []):
        assert diffs[pair] > 0, f"{op}: expected {pair} to differ somewhere, got {diffs}"
    for pair in EXPECT_SAME.get(op, []):
        assert diffs[pair] == 0, f"{op}: expected {pair} to agree, got {diffs}"


# ----------------------------------------------------------------------------------------
# The writer's file-level guarantees (what the Edge TPU compiler v16 expects)
# ----------------------------------------------------------------------------------------
def test_builder_invariants():
    from ai_edge_litert import schema_py_generated as S

    from hwc.backends.tflite_flatbuffer import OP_VERSIONS, op_version

    for op in OPS:
        for name, model, inputs, sim in cases_for(op)[:1]:
            assert model[4:8] == b"TFL3"
            m = S.Model.GetRootAs(model, 0)
            assert m.Version() == 3
            assert m.Buffers(0).DataLength() == 0
            sg = m.Subgraphs(0)
            used = [sg.Tensors(t).Buffer() for t in range(sg.TensorsLength())]
            assert len(set(used)) == len(used) and 0 not in used  # one buffer per tensor
            for t in range(sg.TensorsLength()):
                buf = m.Buffers(sg.Tensors(t).Buffer())
                if buf.DataLength():
                    start = buf._tab.Vector(buf._tab.Offset(4))
                    assert start % 16 == 0, f"{op}: constant data at byte {start}"
                    assert model[start:start + buf.DataLength()] == buf.DataAsNumpy().tobytes()
            for i in range(m.OperatorCodesLength()):
                oc = m.OperatorCodes(i)
                assert oc.DeprecatedBuiltinCode() == min(oc.BuiltinCode(), 127)
                assert oc.Version() == OP_VERSIONS.get(op, 1)
    assert op_version("MUL", input_scales=[0.5, 0.5], output_scale=0.1) == 3
    assert op_version("FULLY_CONNECTED", num_inputs=2) == 6
