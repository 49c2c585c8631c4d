"""OpenVINO CPU plugin (openvino 2026.4.1) against the numpy models of
compiler/sim/openvino_arith.py.

Models are built with backends/openvino_graph.py (Python API, no hand-written XML), saved
and read back as IR where the path matters, compiled on CPU with INFERENCE_PRECISION_HINT
f32 unless stated, and compared with ``np.testing.assert_array_equal`` (bitwise for
FakeQuantize) where the model is exact; elsewhere the measured bound is asserted. Every
case uses >= 1,000 inputs. A summary of the counts is printed at the end of the module.

The int8 kernels depend on the CPU: with VNNI/AMX the accumulator is exact, without VNNI
it saturates pairs to int16. The tests check whichever this machine has and, when the CPU
has AVX2, also the saturating flavour in a subprocess with ONEDNN_MAX_CPU_ISA=AVX2.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zlib

import numpy as np
import pytest

import openvino  # noqa: F401 (the [test] extra installs it: missing = a broken install, not a skip)

from hwc.backends import openvino_graph as g  # noqa: E402
from hwc.compiler.sim import openvino_arith as oa  # noqa: E402

f32 = np.float32
NO_DYNQ = {"DYNAMIC_QUANTIZATION_GROUP_SIZE": 0}
_LINES: list[str] = []


def note(s: str) -> None:
    _LINES.append(s)


@pytest.fixture(scope="module", autouse=True)
def _summary(request):
    yield
    lines = ["", "openvino_arith summary:"] + ["  " + s for s in _LINES]
    from conftest import print_uncaptured  # here: the module also runs as a worker script

    print_uncaptured(request, "\n".join(lines))


def _bits(a):
    return np.ascontiguousarray(a, dtype=f32).view(np.int32)


def _kernels(cm, types=("FullyConnected", "Convolution", "MatMul")):
    return sorted({(l["layerType"], l["runtimePrecision"], l["primitiveType"])
                   for l in g.runtime_layers(cm) if l["layerType"] in types})


def _infer(cm, feeds):
    req = cm.create_infer_request()
    req.infer(feeds)
    return [np.array(req.get_output_tensor(i).data, copy=True) for i in range(len(cm.outputs))]


# ----------------------------------------------------------------------------------------
# FakeQuantize, every level count 2..256, ties, boundaries, out-of-range
# ----------------------------------------------------------------------------------------
FQ_RANGES = {
    "unit": (0.0, 1.0, 0.0, 1.0),
    "sym": (-1.0, 1.0, -1.0, 1.0),
    "asym": (-0.37, 1.13, -0.37, 1.13),
    "int8grid": (-1.28, 1.27, -1.28, 1.27),
    "remap": (0.1, 0.7, -3.3, 2.9),
    "to_u8": (-5.0, 3.0, 0.0, 255.0),
    "reversed_out": (-0.5, 0.25, 1.0, -1.0),
    "negative": (-0.7, -0.1, -0.7, -0.1),
}


def _fq_inputs(rng, il, ih, L, n_random=1000):
    k = np.arange(-1, 2 * (L - 1) + 2)
    grid = (f32(il) + (k / (2 * (L - 1))) * (np.float64(ih) - np.float64(f32(il)))).astype(f32)
    edge = np.array([il, ih, np.nextafter(f32(il), -np.inf), np.nextafter(f32(ih), np.inf),
                     -3e38, 3e38, 0.0, -0.0], f32)
    rnd = rng.uniform(il - 0.25 * (ih - il), ih + 0.25 * (ih - il), n_random).astype(f32)
    return np.concatenate([grid, np.nextafter(grid, np.inf), np.nextafter(grid, -np.inf),
                           edge, rnd]).astype(f32)


def _tie_stats(x, idx, il, ih, L):
    """Compare the runtime bucket idx with the exact rational one.

    t = (clip(x) - il)/(ih - il)*(L-1); c - il and ih - il are exact in float64 for these
    ranges, so "t is exactly k + 1/2" is tested exactly as (c - il)*2(L-1) == (2k+1)(ih - il).
    Returns (#exact ties, #ties rounded half-even, #non-ties whose bucket != round(t))."""
    il64, ih64 = np.float64(f32(il)), np.float64(f32(ih))
    c = np.clip(x.astype(np.float64), il64, ih64)
    num, den = (c - il64) * (2 * (L - 1)), ih64 - il64
    k2 = np.rint(num / den)
    tie = (np.mod(k2, 2) == 1) & (k2 * den == num)
    even = np.where(np.mod((k2 - 1) / 2, 2) == 0, (k2 - 1) / 2, (k2 + 1) / 2)
    t = np.rint(num / den / 2)
    return int(tie.sum()), int((idx[tie] == even[tie]).sum()), int((idx[~tie] != t[~tie]).sum())


@pytest.mark.parametrize("name", list(FQ_RANGES))
def test_fake_quantize_all_levels(name, tmp_path):
    il, ih, ol, oh = FQ_RANGES[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    params, outs, xs = [], [], {}
    for L in range(2, 257):
        x = _fq_inputs(rng, il, ih, L)
        p = g.parameter([x.size], name=f"x{L}")
        params.append(p)
        outs.append(g.fake_quantize(p, il, ih, ol, oh, L))
        xs[f"x{L}"] = x
    path = g.save(g.model(outs, params), tmp_path / "fq.xml")
    cm = g.compile_model(path, "f32")
    got = _infer(cm, xs)
    n_total = n_ties = n_even = n_moved = n_rnd_moved = 0
    for L in range(2, 257):
        x = xs[f"x{L}"]
        want = oa.fake_quantize(x, il, ih, ol, oh, L)
        np.testing.assert_array_equal(_bits(got[L - 2]), _bits(want), err_msg=f"{name} levels={L}")
        n_total += x.size
        idx = oa.fake_quantize_index(x, il, ih, L)
        t, e, m = _tie_stats(x, idx, il, ih, L)
        n_ties, n_even, n_moved = n_ties + t, n_even + e, n_moved + m
        n_rnd_moved += _tie_stats(x[-1000:], idx[-1000:], il, ih, L)[2]
    note(f"FakeQuantize {name:12s}: levels 2..256, {n_total} values bit-exact; exact ties "
         f"{n_ties} (half-even {n_even}); non-tie inputs in another bucket than exact "
         f"rounding: {n_moved} (of them {n_rnd_moved} among the 255,000 uniform random inputs, "
         f"the rest within 1 ulp of a boundary)")


def test_fake_quantize_per_channel_and_lpt_off_levels():
    rng = np.random.default_rng(11)
    C = 4
    il = np.array([-1.0, 0.0, -0.3, 0.2], f32).reshape(1, C, 1)
    ih = np.array([1.0, 2.55, 0.9, 0.9], f32).reshape(1, C, 1)
    ol = np.array([-1.0, 0.0, 0.2, -0.5], f32).reshape(1, C, 1)
    oh = np.array([1.0, 2.55, 0.7, 0.5], f32).reshape(1, C, 1)
    n = 0
    for L in (2, 3, 16, 17, 255, 256):
        x = rng.uniform(-1.5, 3.0, (1, C, 2000)).astype(f32)
        p = g.parameter(list(x.shape))
        cm = g.compile_model(g.model(g.fake_quantize(p, il, ih, ol, oh, L), [p]), "f32")
        got = _infer(cm, {0: x})[0]
        np.testing.assert_array_equal(_bits(got), _bits(oa.fake_quantize(x, il, ih, ol, oh, L)))
        n += x.size
    note(f"FakeQuantize per-channel ranges (levels 2,3,16,17,255,256): {n} values bit-exact")


# ----------------------------------------------------------------------------------------
# FakeQuantize -> int8 MatMul / Convolution (LPT)
# ----------------------------------------------------------------------------------------
SX, SW = 2.0**-4, 2.0**-6  # power-of-two scales: the dequantization is exact


def _act_range(levels, signed, sx=SX):
    if signed:
        h = levels // 2
        return -h * sx, (levels - 1 - h) * sx
    return 0.0, (levels - 1) * sx


def int8_cases(seed=0):
    """(name, model, feeds, expected-callable(saturating) -> (want, exact)) for the LPT path."""
    rng = np.random.default_rng(seed)
    cases = []
    for levels in (256, 16):
        for signed in (False, True):
            for wr in (128, 64):
                lo, hi = _act_range(levels, signed)
                sfx = f"L{levels}{'s' if signed else 'u'}w{wr}"
                # FullyConnected [M, K] x [N, K]^T, odd K
                M, K, N = 64, 67, 24
                w = rng.integers(-wr, wr + (0 if wr == 128 else 1), (N, K))
                x = rng.uniform(lo - 0.5, hi + 0.5, (M, K)).astype(f32)
                p = g.parameter([M, K])
                y = g.matmul(g.fake_quantize(p, lo, hi, lo, hi, levels),
                             g.compressed_weights(w, np.full((N, 1), SW, f32)), transpose_b=True)
                cases.append((f"fc_{sfx}", g.model(y, [p]), x,
                              dict(kind="fc", w=w, lo=lo, hi=hi, levels=levels, signed=signed)))
                # Convolution 3x3 pad 1 stride 1, odd C
                Nb, C, O, H = 4, 9, 8, 7
                w = rng.integers(-wr, wr + (0 if wr == 128 else 1), (O, C, 3, 3))
                x = rng.uniform(lo - 0.5, hi + 0.5, (Nb, C, H, H)).astype(f32)
                p = g.parameter(list(x.shape))
                y = g.convolution(g.fake_quantize(p, lo, hi, lo, hi, levels),
                                  g.compressed_weights(w, np.full((O, 1, 1, 1), SW, f32)), 1, 1)
                cases.append((f"conv_{sfx}", g.model(y, [p]), x,
                              dict(kind="conv", w=w, lo=lo, hi=hi, levels=levels, signed=signed,
                                   groups=1, strides=1, pads=1)))
                # GroupConvolution: 4 groups of 4 channels, stride 2
                C, O, G = 16, 16, 4
                w = rng.integers(-wr, wr + (0 if wr == 128 else 1), (O, C // G, 3, 3))
                x = rng.uniform(lo - 0.5, hi + 0.5, (Nb, C, 9, 9)).astype(f32)
                p = g.parameter(list(x.shape))
                wn = g.compressed_weights(w.reshape(G, O // G, C // G, 3, 3),
                                          np.full((G, O // G, 1, 1, 1), SW, f32))
                y = g.group_convolution(g.fake_quantize(p, lo, hi, lo, hi, levels), wn, None, 2, 1)
                cases.append((f"gconv_{sfx}", g.model(y, [p]), x,
                              dict(kind="conv", w=w, lo=lo, hi=hi, levels=levels, signed=signed,
                                   groups=G, strides=2, pads=1)))
    return cases


def int8_expected(x, spec, saturating):
    q = oa.fake_quantize_index(x, spec["lo"], spec["hi"], spec["levels"])
    if spec["signed"]:
        q = q - spec["levels"] // 2
    if spec["kind"] == "fc":
        acc = oa.int8_matmul(q, spec["w"], saturating, u8_shift=128 if spec["signed"] else 0)
        exact = oa.int8_matmul(q, spec["w"], False)
        ax = -1
    else:
        # no-VNNI: LPT feeds Convolution u8 with zero point levels//2 for signed ranges
        kw = dict(strides=spec["strides"], pads=spec["pads"], groups=spec["groups"],
                  u8_shift=spec["levels"] // 2 if spec["signed"] else 0)
        acc = oa.int8_conv2d(q, spec["w"], saturating=saturating, **kw)
        exact = oa.int8_conv2d(q, spec["w"], saturating=False, **kw)
        ax = 1
    return (oa.dequantize_int8_output(acc, SX, SW, ax),
            oa.dequantize_int8_output(exact, SX, SW, ax))


def run_int8_cases():
    out = {}
    for name, m, x, _ in int8_cases():
        cm = g.compile_model(m, "f32", NO_DYNQ)
        out[name] = (_infer(cm, {0: x})[0], _kernels(cm))
    return out


def _check_int8(results, saturating, label):
    lines = []
    for name, _, x, spec in int8_cases():
        got, kern = results[name]
        assert all(k[1] in ("u8", "i8") for k in kern), (name, kern)
        want, exact = int8_expected(x, spec, saturating)
        np.testing.assert_array_equal(got, want, err_msg=f"{label} {name} {kern}")
        lsb = np.abs(np.float64(got) - exact) / (SX * SW)
        nbad = int((lsb > 0).sum())
        if spec["levels"] == 256 and spec["signed"] is False and int(np.abs(spec["w"]).max()) <= 64:
            assert nbad == 0
        lines.append(f"{name}: {nbad}/{got.size} differ from exact (max {lsb.max():.0f} LSB) "
                     f"[{kern[0][2]}]")
    note(f"int8 LPT path, {label}: {len(lines)} models bit-exact to the model; " + "; ".join(lines))


def test_int8_lpt_this_cpu():
    sat = oa.int8_saturates()
    _check_int8(run_int8_cases(), sat, "this CPU (" + ("saturating" if sat else "VNNI/AMX exact") + ")")


@pytest.mark.parametrize("levels,signed", [(256, False), (256, True), (16, False)])
def test_int8_non_pow2_scales(levels, signed):
    """Non-power-of-two activation scale and per-channel weight scales: still bit-exact
    with y = f32(f32(acc) * f32(s_x * s_w[c])), s_x = f32(f32(oh - ol) / M)."""
    rng = np.random.default_rng(levels + signed)
    s = 0.0123
    lo, hi = (f32(-(levels // 2) * s), f32((levels - 1 - levels // 2) * s)) if signed else \
        (f32(0.0), f32((levels - 1) * s))
    M, K, N = 512, 64, 16
    w = rng.integers(-64, 65, (N, K))
    sw = rng.uniform(0.001, 0.02, N).astype(f32)
    x = rng.uniform(lo - 0.1, hi + 0.1, (M, K)).astype(f32)
    p = g.parameter([M, K])
    y = g.matmul(g.fake_quantize(p, lo, hi, lo, hi, levels),
                 g.compressed_weights(w, sw.reshape(N, 1)), transpose_b=True)
    cm = g.compile_model(g.model(y, [p]), "f32", NO_DYNQ)
    assert all(k[1] in ("u8", "i8") for k in _kernels(cm))
    q = oa.fake_quantize_index(x, lo, hi, levels) - (levels // 2 if signed else 0)
    sx = f32(f32(hi - lo) / f32(15 if levels == 16 else 255))
    want = oa.dequantize_int8_output(oa.int8_matmul(q, w), sx, sw)
    np.testing.assert_array_equal(_infer(cm, {0: x})[0], want)
    note(f"int8 FC with s_x=0.0123 (levels {levels}, {'signed' if signed else 'unsigned'}) and "
         f"per-channel s_w: {want.size} outputs bit-exact")


@pytest.mark.skipif("avx2" not in oa.cpu_flags(), reason="needs AVX2 to emulate a no-VNNI CPU")
def test_int8_lpt_saturating_avx2(tmp_path):
    """ONEDNN_MAX_CPU_ISA=AVX2 forces the no-VNNI kernels (jit_gemm_I8, jit_avx2_I8)."""
    env = dict(os.environ, ONEDNN_MAX_CPU_ISA="AVX2")
    out = tmp_path / "avx2.npz"
    subprocess.run([sys.executable, __file__, "int8-worker", str(out)], env=env, check=True,
                   timeout=300)
    data = np.load(out, allow_pickle=False)
    kern = json.loads(str(data["__kernels__"]))
    results = {k: (data[k], [tuple(t) for t in kern[k]]) for k in kern}
    _check_int8(results, True, "ONEDNN_MAX_CPU_ISA=AVX2 (saturating)")
    # saturation really happens with full-range weights and 8-bit activations
    bad = 0
    for name, _, x, spec in int8_cases():
        if name == "fc_L256uw128":
            _, exact = int8_expected(x, spec, False)
            bad = int((results[name][0] != exact).sum())
    assert bad > 0


# ----------------------------------------------------------------------------------------
# Low-bit levels that LPT does not take run in f32 (exact), and what dynamic
# quantization of the compressed-weight FullyConnected does by default
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("levels", [4, 8, 128])
def test_non_lpt_levels_run_f32_exactly(levels):
    rng = np.random.default_rng(levels)
    lo, hi = 0.0, (levels - 1) * SX
    M, K, N = 1000, 64, 16
    w = rng.integers(-128, 128, (N, K))
    x = rng.uniform(-0.2, hi + 0.2, (M, K)).astype(f32)
    q = oa.fake_quantize_index(x, lo, hi, levels)
    exact = oa.dequantize_int8_output(oa.int8_matmul(q, w), SX, SW)
    p = g.parameter([M, K])
    y = g.matmul(g.fake_quantize(p, lo, hi, lo, hi, levels),
                 g.compressed_weights(w, np.full((N, 1), SW, f32)), transpose_b=True)
    m = g.model(y, [p])
    cm = g.compile_model(m, "f32", NO_DYNQ)
    kern = _kernels(cm)
    assert all("f32" in k[2] for k in kern), kern
    np.testing.assert_array_equal(_infer(cm, {0: x})[0], exact)
    # default config: activations are quantized on the fly in groups of 32 (inexact)
    cm2 = g.compile_model(m, "f32")
    got = _infer(cm2, {0: x})[0]
    err = np.abs(np.float64(got) - exact)
    mag = (np.abs(q) @ np.abs(w).T) * SX * SW
    ratio = float((err / np.maximum(mag, 1e-30)).max())
    assert ratio <= 2.0**-6, ratio
    note(f"levels {levels}: FQ->MatMul(compressed i8) f32 kernel exact on {exact.size} outputs "
         f"with DYNAMIC_QUANTIZATION_GROUP_SIZE=0; default config: "
         f"{int((err > 0).sum())}/{err.size} inexact, max err / sum|x||w| = {ratio:.2e}")
    # the same with a Convolution (weights are decompressed at compile time: f32 conv)
    xc = rng.uniform(-0.2, hi + 0.2, (8, 8, 6, 6)).astype(f32)
    wc = rng.integers(-128, 128, (8, 8, 3, 3))
    p = g.parameter(list(xc.shape))
    y = g.convolution(g.fake_quantize(p, lo, hi, lo, hi, levels),
                      g.compressed_weights(wc, np.full((8, 1, 1, 1), SW, f32)), 1, 1)
    cm = g.compile_model(g.model(y, [p]), "f32")
    qc = oa.fake_quantize_index(xc, lo, hi, levels)
    want = oa.dequantize_int8_output(oa.int8_conv2d(qc, wc, pads=1), SX, SW, 1)
    np.testing.assert_array_equal(_infer(cm, {0: xc})[0], want)


# ----------------------------------------------------------------------------------------
# f32 paths: integer-valued operands on power-of-two grids, partial sums below 2**24
# ----------------------------------------------------------------------------------------
def test_f32_exact_below_2_24(tmp_path):
    rng = np.random.default_rng(24)
    n = 0
    for (M, K, N, A, B) in [(2000, 256, 16, 255, 255), (2000, 64, 16, 1023, 255),
                            (1000, 257, 8, 255, 255)]:
        ex, ew = 4, 7
        wq = rng.integers(-B, B + 1, (K, N))
        wq[:, 0], wq[:, 1] = B, -B
        xq = rng.integers(-A, A + 1, (M, K))
        xq[:50], xq[50:100] = A, -A  # sums within 1% of 2**24
        x = (xq * 2.0**-ex).astype(f32)
        w = (wq * 2.0**-ew).astype(f32)
        assert oa.f32_dot_is_exact(x, w)
        p = g.parameter([M, K])
        y = g.add(g.multiply(g.matmul(p, w), f32(2.0**-3)), f32(0.5))
        path = g.save(g.model(y, [p]), tmp_path / "mm.xml")
        got = g.run(path, [x], precision="f32")[0]
        want = (xq @ wq) * 2.0 ** -(ex + ew + 3) + 0.5
        np.testing.assert_array_equal(got, want)
        n += got.size
    # convolution + relu
    for (C, O, k, A, B) in [(32, 16, 3, 127, 255), (16, 8, 5, 255, 127)]:
        wq = rng.integers(-B, B + 1, (O, C, k, k))
        wq[0] = B
        xq = rng.integers(-A, A + 1, (4, C, 10, 10))
        xq[0] = A
        x, w = (xq * 2.0**-3).astype(f32), (wq * 2.0**-6).astype(f32)
        assert C * k * k * A * B < 2**24
        p = g.parameter(list(x.shape))
        cm = g.compile_model(g.model(g.relu(g.convolution(p, w, 1, k // 2)), [p]), "f32")
        got = _infer(cm, {0: x})[0]
        want = np.maximum(oa.int8_conv2d(xq, wq, pads=k // 2), 0) * 2.0**-9
        np.testing.assert_array_equal(got, want)
        n += got.size
    # above 2**24 the check says no, and the runtime does round
    xq = np.full((100, 1024), 255)
    wq = np.full((1024, 4), 255)
    wq[::3] = 254
    x, w = xq.astype(f32), wq.astype(f32)
    assert not oa.f32_dot_is_exact(x, w)
    p = g.parameter([100, 1024])
    got = _infer(g.compile_model(g.model(g.matmul(p, w), [p]), "f32"), {0: x})[0]
    nbad = int((np.float64(got) != xq @ wq).sum())
    note(f"f32 MatMul/Conv with partial sums < 2**24: {n} outputs exact; sums ~2**26: "
         f"{nbad}/{got.size} rounded")


# ----------------------------------------------------------------------------------------
# FP16 inference precision
# ----------------------------------------------------------------------------------------
def _h(a):
    return np.asarray(a).astype(np.float16).astype(f32)


def _rounding_bound(k: int, u: float, terms: int) -> float:
    """Bound on |computed - exact| / (u * sum|x||w|) for a path with k roundings of unit roundoff u
    (inputs, weights, layer outputs, bias adds: each a factor (1 + d), |d| <= u) and f32 sums of at most
    `terms` products in any order (|error| <= gamma(terms) * sum|x||w|, gamma(n) = n u32 / (1 - n u32),
    u32 = 2^-24; Higham, Accuracy and Stability, 3.1): (1 + u)^k (1 + gamma) - 1, in units of u."""
    u32 = 2.0 ** -24
    gamma = terms * u32 / (1 - terms * u32)
    return ((1 + u) ** k * (1 + gamma) - 1) / u


def test_fp16_hint_bound():
    """The precision `hwc verify` runs an NCS2 IR in (backends/openvino.fp16_precision: f16 on CPUs with
    native f16, else f32, never bf16) keeps each layer within the rounding bound derived from the
    roundings on its path, so the assertion holds by construction on any CPU: MLP x·W1 + b1 -> Relu ->
    ·W2 + b2 has k = 7 roundings (x, W1, the product sum, + b1, W2, the sum, + b2), the conv k = 4."""
    from hwc.backends.openvino import fp16_precision

    rng = np.random.default_rng(16)
    K1, N1, N2, M = 64, 32, 10, 2000
    W1, b1 = _h(rng.normal(0, 0.2, (K1, N1))), _h(rng.normal(0, 0.1, N1))
    W2, b2 = _h(rng.normal(0, 0.2, (N1, N2))), _h(rng.normal(0, 0.1, N2))
    X = _h(rng.normal(0, 1, (M, K1)))
    p = g.parameter([M, K1])
    y = g.add(g.matmul(g.relu(g.add(g.matmul(p, W1), b1)), W2), b2)
    hint = fp16_precision()
    cm = g.compile_model(g.model(y, [p]), hint)
    prec = str(cm.get_property("INFERENCE_PRECISION_HINT"))
    kern = _kernels(cm)
    key = "f16" if "float16" in prec else ("bf16" if "bfloat16" in prec else "f32")
    assert key == hint, (hint, prec)
    u = oa.UNIT_ROUNDOFF[key]
    got = _infer(cm, {0: X})[0]
    h1 = X.astype(np.float64) @ W1 + b1
    ref = np.maximum(h1, 0) @ W2 + b2
    mag = (np.abs(X) @ np.abs(W1) + np.abs(b1)) @ np.abs(W2) + np.abs(b2)
    ratio = float((np.abs(got - ref) / (u * mag)).max())
    bound = _rounding_bound(7, u, K1 + N1 + 2)
    assert ratio <= bound, (key, ratio, bound)
    # convolution + bias
    C, O = 8, 16
    Wc, bc = _h(rng.normal(0, 0.2, (O, C, 3, 3))), _h(rng.normal(0, 0.1, (1, O, 1, 1)))
    Xc = _h(rng.normal(0, 1, (16, C, 12, 12)))
    p = g.parameter(list(Xc.shape))
    cmc = g.compile_model(g.model(g.add(g.convolution(p, Wc, 1, 1), bc), [p]), hint)
    gotc = _infer(cmc, {0: Xc})[0]
    xp = np.pad(Xc.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    refc = np.zeros((16, O, 12, 12))
    magc = np.zeros((16, O, 12, 12))
    for i in range(3):
        for j in range(3):
            sl = xp[:, :, i:i + 12, j:j + 12]
            refc += np.einsum("nchw,oc->nohw", sl, Wc[:, :, i, j])
            magc += np.einsum("nchw,oc->nohw", np.abs(sl), np.abs(Wc[:, :, i, j]))
    refc += bc
    magc += np.abs(bc)
    ratio_c = float((np.abs(gotc - refc) / (u * magc)).max())
    bound_c = _rounding_bound(4, u, C * 9 + 1)
    assert ratio_c <= bound_c, (key, ratio_c, bound_c)
    note(f"fp16_precision() = {hint} -> {prec} ({kern[0][2]}): |err| <= {ratio:.2f} u "
         f"(MLP, {got.size} outputs; derived bound {bound:.2f} u), {ratio_c:.2f} u (conv, {gotc.size}; "
         f"bound {bound_c:.2f} u) with u = {u:.3g}")


# ----------------------------------------------------------------------------------------
# The builder: every op it offers, saved as IR (f32 weights kept) and run, against numpy
# ----------------------------------------------------------------------------------------
def _conv_ref(x, w, pad):
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, _, h, wd = x.shape
    o, _, kh, kw = w.shape
    out = np.zeros((n, o, h + 2 * pad - kh + 1, wd + 2 * pad - kw + 1))
    for i in range(kh):
        for j in range(kw):
            out += np.einsum("nchw,oc->nohw", xp[:, :, i:i + out.shape[2], j:j + out.shape[3]],
                             w[:, :, i, j])
    return out


def test_builder_ops_against_numpy(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 4, 6, 6)).astype(f32)
    p = g.parameter(x.shape, name="inp")
    w = rng.normal(size=(8, 4, 3, 3)).astype(f32)
    wd = rng.normal(size=(4, 1, 3, 3)).astype(f32)
    q4 = rng.integers(-8, 8, (8, 4, 3, 3))
    u4 = rng.integers(0, 16, (8, 4, 3, 3))
    wm = rng.normal(size=(144, 5)).astype(f32)
    cases = {
        "relu": (g.relu(p), np.maximum(x, 0)),
        "clamp": (g.clamp(p, -0.5, 0.5), np.clip(x, -0.5, 0.5)),
        "sigmoid": (g.sigmoid(p), 1 / (1 + np.exp(-x.astype(np.float64)))),
        "maxpool": (g.max_pool(p, 2), x.reshape(2, 4, 3, 2, 3, 2).max((3, 5))),
        "avgpool": (g.avg_pool(p, 2), x.reshape(2, 4, 3, 2, 3, 2).mean((3, 5))),
        "mean": (g.reduce_mean(p, [2, 3]), x.mean((2, 3), keepdims=True)),
        "softmax": (g.softmax(p, -1), np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
        "concat": (g.concat([p, p], 1), np.concatenate([x, x], 1)),
        "reshape": (g.reshape(p, [2, -1]), x.reshape(2, -1)),
        "transpose": (g.transpose(p, [0, 2, 3, 1]), x.transpose(0, 2, 3, 1)),
        "pad": (g.pad(p, [0, 0, 1, 2], [0, 0, 2, 1], 0.25),
                np.pad(x, ((0, 0), (0, 0), (1, 2), (2, 1)), constant_values=0.25)),
        "interp": (g.interpolate_nearest(p, [12, 18]), x.repeat(2, 2).repeat(3, 3)),
        "eltwise": (g.subtract(g.multiply(g.add(p, 1.5), 2.0), 0.25), (x + 1.5) * 2 - 0.25),
        "conv": (g.convolution(p, w, 1, 1), _conv_ref(x, w, 1)),
        "dwconv": (g.group_convolution(p, wd, groups=4, pads=1),
                   np.concatenate([_conv_ref(x[:, c:c + 1], wd[c:c + 1], 1) for c in range(4)], 1)),
        "conv_i4": (g.convolution(p, g.compressed_weights(
            q4, np.full((8, 1, 1, 1), 0.125, f32), np.full((8, 1, 1, 1), 1.0, f32), "i4"), 1, 1),
            _conv_ref(x, (q4 - 1) * 0.125, 1)),
        "conv_u4": (g.convolution(p, g.compressed_weights(u4, 0.25, 8, "u4", zp_as_int=True), 1, 1),
                    _conv_ref(x, (u4 - 8) * 0.25, 1)),
        "matmul": (g.matmul(g.reshape(p, [2, 144]), wm), x.reshape(2, 144).astype(np.float64) @ wm),
    }
    names = list(cases)
    path = g.save(g.model([cases[n][0] for n in names], [p]), tmp_path / "ops.xml")
    got = g.run(path, {"inp": x}, precision="f32")
    for n, r in zip(names, got):
        np.testing.assert_allclose(r, cases[n][1], rtol=1e-5, atol=1e-5, err_msg=n)
    xml = (tmp_path / "ops.xml").read_text()
    assert 'version="opset1"' in xml and "opset1" in xml
    assert all(v in ("opset1", "opset4") for v in
               re.findall(r'type="\w+" version="(\w+)"', xml))


# ----------------------------------------------------------------------------------------
# Subprocess entry point (the AVX2-capped int8 run)
# ----------------------------------------------------------------------------------------
if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "int8-worker":
    res = run_int8_cases()
    arrays = {k: v[0] for k, v in res.items()}
    arrays["__kernels__"] = np.array(json.dumps({k: v[1] for k, v in res.items()}))
    np.savez(sys.argv[2], **arrays)
