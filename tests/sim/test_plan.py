"""The compiled plan (compiler/sim/plan.py) against the reference simulator (one fixed op per node on int64
mantissas, simulate(reference=True)), bit for bit: random graphs over every rounding × overflow mode,
widths on both sides of the float32 (2^24) and float64 (2^53) limits, convolution shapes, chunk
boundaries and N = 1; with the numba kernels and with the numpy fallback."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, FixedType, FloatType, Overflow, Rounding, TensorType
from hwc.compiler.sim import int_gemm_c, plan_steps, run
from hwc.compiler.sim.inputs import check_inputs
from hwc.compiler.sim.plan import Plan, plan_for
from hwc.compiler.sim.plan_steps import Boundary

MODES = list(itertools.product(Rounding, Overflow))


def _fx(rng, width, int_bits=None, q=None, o=None, signed=True):
    return FixedType(width, int(rng.integers(-2, 6)) if int_bits is None else int_bits, signed,
                     q or rng.choice(list(Rounding)), o or rng.choice(list(Overflow)))


def _const(g, rng, shape, t):
    m = rng.integers(t.min_mantissa, t.max_mantissa + 1, shape, dtype=np.int64)
    return g.constant(m, "c", elem=t)


def _tail(g, rng, v, q, o):
    """A Relu or Clip (merged into the producer's chain) and a final cast of mode (q, o), sometimes."""
    shape = v.type.shape
    k = rng.integers(3)
    if k == 0:
        v = g.add_node("Relu", [v], output_types=[TensorType(_fx(rng, int(rng.integers(4, 20)), q=q, o=o), shape)]).output
    elif k == 1:
        lo, hi = sorted(rng.normal(0, 4, 2))
        v = g.add_node("Clip", [v], {"min": float(lo), "max": float(hi)},
                       output_types=[TensorType(_fx(rng, int(rng.integers(4, 20)), q=q, o=o), shape)]).output
    return v


def _dense_graph(rng, q, o, x_bits, w_bits, k=12, m=5):
    g = Graph("dense")
    x = g.add_input("x", TensorType(F32, (None, k)))
    tx = _fx(rng, x_bits, int(rng.integers(0, 4)), signed=bool(rng.integers(2)))
    h = g.add_node("FromFloat", [x], output_types=[TensorType(tx, (None, k))]).output
    tw, tb = _fx(rng, w_bits, 1), _fx(rng, int(rng.integers(4, 20)), 2)
    f_acc = tx.frac_bits + tw.frac_bits
    acc_w = int(rng.integers(8, x_bits + w_bits + 6))
    attrs = {"accum": FixedType(acc_w, acc_w - f_acc, True, Rounding.TRN, rng.choice(list(Overflow)))}
    if rng.integers(2):
        attrs["weight_shift"] = [int(s) for s in rng.integers(0, 3, m)]
    y = g.add_node("Dense", [h, _const(g, rng, (k, m), tw), _const(g, rng, (m,), tb)], attrs,
                   output_types=[TensorType(_fx(rng, int(rng.integers(4, 30)), q=q, o=o), (None, m))]).output
    g.set_outputs([_tail(g, rng, y, q, o)])
    g.verify()
    return g


def _agree(g, x, chunk_rows=None, monkeypatch=None):
    """The plan (numba and numpy) equals the reference; returns whether a plan ran."""
    ref = run.simulate(g, [x], mode="fixed", reference=True)
    if monkeypatch is not None:
        monkeypatch.setattr(run, "PLAN_CHUNK_ROWS", chunk_rows)
        plan = plan_for(g)
        if plan is not None:
            plan.meta.clear()
    fast = run.simulate(g, [x], mode="fixed")
    for a, b in zip(fast, ref):
        assert a.dtype == b.dtype
        assert_array_equal(a, b)
    try:
        numpy_plan = Plan(g, compiled=False)
    except Exception:  # noqa: BLE001 - no plan: the reference ran above
        return False
    for a, b in zip(numpy_plan.run(check_inputs(g, [x])), ref):
        assert_array_equal(a, b)
    return True


@pytest.mark.parametrize("q, o", MODES, ids=[f"{q.name}-{o.name}" for q, o in MODES])
def test_dense_chains_every_mode(q, o, monkeypatch):
    """Widths from 4 to 30 bits for x and w: accumulators below 2^24 (float32), below 2^53 (float64) and
    above (the plan steps aside); N = 1, 7 and 301 in chunks of 64."""
    rng = np.random.default_rng([list(Rounding).index(q), list(Overflow).index(o)])
    ran, gemm = 0, set()
    for x_bits, w_bits in ((6, 4), (16, 8), (24, 16), (30, 26)):
        g = _dense_graph(rng, q, o, x_bits, w_bits)
        for n in (1, 7, 301):
            x = (rng.normal(0, 6, (n, 12)) * rng.choice([0.1, 1, 30], (n, 12))).astype(np.float32)
            ran += _agree(g, x, 64, monkeypatch)
        plan = plan_for(g)
        gemm |= {s.dtype for s in (plan.steps if plan else []) if s.node.op == "Dense" and not isinstance(s, Boundary)}
    assert ran >= 6 and gemm  # the plan ran (not the reference checked against itself)


CONVS = [  # (channels in, out, kernel, stride, dilation, pads, group)
    (3, 4, (3, 3), (1, 1), (1, 1), [1, 1, 1, 1], 1),
    (2, 3, (3, 2), (2, 1), (1, 2), [0, 1, 2, 0], 1),
    (4, 4, (3, 3), (1, 1), (2, 2), [2, 2, 2, 2], 4),  # depthwise, dilated
    (3, 6, (3, 3), (2, 2), (1, 1), [1, 0, 1, 1], 3),  # depthwise with a channel multiplier, strided
    (4, 6, (2, 2), (1, 1), (1, 1), [0, 0, 1, 1], 2),  # grouped
    (4, 5, (1, 1), (1, 1), (1, 1), [0, 0, 0, 0], 1),  # pointwise
    (2, 6, (3, 3), (1, 1), (1, 1), [1, 1, 1, 1], 2),  # depthwise 3x3 (nine taps in registers), multiplier 3
    (4, 8, (2, 3), (1, 1), (1, 2), [1, 0, 0, 2], 4),  # depthwise, another kernel size (the tap loop), multiplier 2
    (4, 4, (3, 3), (2, 1), (2, 1), [1, 2, 0, 1], 4),  # depthwise strided and dilated (channels-last kernel)
]


@pytest.mark.parametrize("c, m, kernel, strides, dil, pads, group", CONVS)
def test_conv_shapes_and_pooling(c, m, kernel, strides, dil, pads, group, monkeypatch):
    """Conv (+ ReLU) then MaxPool, a residual Add and a GlobalAveragePool, random modes; N = 1 and 45 in
    chunks of 8."""
    rng = np.random.default_rng(c * 100 + m * 10 + group)
    for _ in range(3):
        g = Graph("conv")
        x = g.add_input("x", TensorType(F32, (None, c, 7, 6)))
        tx = _fx(rng, int(rng.integers(6, 18)), 2)
        h = g.add_node("FromFloat", [x], output_types=[TensorType(tx, (None, c, 7, 6))]).output
        tw = _fx(rng, int(rng.integers(3, 12)), 1)
        f_acc = tx.frac_bits + tw.frac_bits
        attrs = {"strides": list(strides), "dilations": list(dil), "pads": pads,
                 "group": group, "accum": FixedType(40, 40 - f_acc, True, Rounding.TRN, Overflow.WRAP)}
        q, o = rng.choice(list(Rounding)), rng.choice(list(Overflow))
        conv = g.add_node("Conv", [h, _const(g, rng, (m, c // group, *kernel), tw), _const(g, rng, (m,), _fx(rng, 10, 3))],
                          attrs, output_types=[TensorType(_fx(rng, 16, 4, q, o), (None, m, *_out(kernel, strides, dil, pads)))])
        y = _tail(g, rng, conv.output, q, o)
        t = _fx(rng, 16, 5)
        p = g.add_node("MaxPool", [y], {"kernel_shape": [2, 2], "strides": [1, 1], "pads": [0, 0, 1, 1],
                                        "dilations": [1, 1]}, output_types=[TensorType(t, y.type.shape)]).output
        a = g.add_node("Add", [p, y], output_types=[TensorType(_fx(rng, 12, 5), y.type.shape)]).output
        gap = g.add_node("GlobalAveragePool", [a], {"recip_bits": 12},
                         output_types=[TensorType(_fx(rng, 14, 5), (None, m, 1, 1))]).output
        hw = tuple((d - 2) // 2 + 1 for d in y.type.shape[2:])  # 2x2 stride 2, an odd side drops its last row
        p2 = [g.add_node("MaxPool", [y], {"kernel_shape": [2, 2], "strides": [2, 2], "pads": [0, 0, 0, 0],
                                          "dilations": [1, 1]}, output_types=[TensorType(tp, (None, m, *hw))]).output
              for tp in (y.type.elem, _fx(rng, 16, 5))]  # the same type (no chain) and a cast
        g.set_outputs([gap, y, *p2])
        g.verify()
        for n in (1, 45):
            assert _agree(g, rng.normal(0, 3, (n, c, 7, 6)).astype(np.float32), 8, monkeypatch)
        assert {s.node.op for s in plan_for(g).steps if not isinstance(s, Boundary)} >= {"Conv", "MaxPool", "Add", "GlobalAveragePool"}


def _out(kernel, strides, dil, pads):
    return tuple((s + pads[i] + pads[2 + i] - (kernel[i] - 1) * dil[i] - 1) // strides[i] + 1
                 for i, s in enumerate((7, 6)))


def test_plan_is_rebuilt_when_the_graph_changes():
    rng = np.random.default_rng(5)
    g = _dense_graph(rng, Rounding.RND, Overflow.SAT, 12, 8)
    first = plan_for(g)
    assert first is not None and plan_for(g) is first
    assert [s.dtype for s in first.steps if s.node.op == "Dense"] == [np.float32]  # 12 x 8 bits, K = 12
    out = g.outputs[0]
    g.retype(out, TensorType(FixedType(5, 2, True, Rounding.TRN, Overflow.WRAP), out.type.shape))
    assert plan_for(g) is not first
    _agree(g, rng.normal(0, 2, (33, 12)).astype(np.float32))


@pytest.mark.parametrize("q", list(Rounding))
def test_inputs_broadcast_add_and_ceil_pool(q):
    """FromFloat in every rounding (ties, tiny values the vendors disagree on, saturation), a broadcasting
    Add, a ceil_mode MaxPool."""
    rng = np.random.default_rng(list(Rounding).index(q))
    g = Graph("io")
    x = g.add_input("x", TensorType(FloatType(64), (None, 3, 1, 5)))  # doubles: tiny values reach FromFloat
    z = g.add_input("z", TensorType(F32, (None, 1, 4, 5)))
    tx, tz = FixedType(9, 3, True, q, Overflow.SAT), FixedType(7, 1, True, q, Overflow.SAT_SYM)
    hx = g.add_node("FromFloat", [x], output_types=[TensorType(tx, (None, 3, 1, 5))]).output
    hz = g.add_node("FromFloat", [z], {"scale": 0.375}, output_types=[TensorType(tz, (None, 1, 4, 5))]).output
    a = g.add_node("Add", [hx, hz], output_types=[TensorType(FixedType(8, 3, True, q, Overflow.WRAP), (None, 3, 4, 5))]).output
    p = g.add_node("MaxPool", [a], {"kernel_shape": [2, 2], "strides": [2, 2], "pads": [0, 0, 0, 0], "dilations": [1, 1],
                                    "ceil_mode": True}, output_types=[TensorType(FixedType(6, 2, True, q, Overflow.SAT), (None, 3, 2, 3))])
    g.set_outputs([p.output])
    g.verify()
    ties = np.arange(-40, 40) / 64  # multiples of 2^-6: ties of the 2^-6 grid's neighbours
    xs = rng.choice(np.concatenate([ties, [1e-300, -1e-300, 5e-324, 40.0, -40.0]]), (23, 3, 1, 5)).astype(np.float64)
    zs = rng.choice(ties, (23, 1, 4, 5)).astype(np.float32)
    ref = run.simulate(g, [xs, zs], mode="fixed", reference=True)[0]
    assert_array_equal(run.simulate(g, [xs, zs], mode="fixed")[0], ref)
    assert_array_equal(Plan(g, compiled=False).run(check_inputs(g, [xs, zs]))[0], ref)
    assert_array_equal(Plan(g, compiled=True).run(check_inputs(g, [xs, zs]))[0], ref)  # numba, whatever ran before
    assert_array_equal(run.simulate(g, [xs[:1] * 0 + 0.25, zs[:1]], mode="fixed")[0],
                       run.simulate(g, [xs[:1] * 0 + 0.25, zs[:1]], mode="fixed", reference=True)[0])


def _gemm_step(g):
    plan = plan_for(g)
    return next(s for s in plan.steps if s.node.op in ("Dense", "Conv"))


def _int16_dense(k, signed, l1, m=6, shift=None, q=Rounding.RND_CONV, o=Overflow.SAT, col1=None):
    """FromFloat to a 16-bit type (signed, or unsigned as after a ReLU) then a Dense whose first output
    column has Σ|w| = l1 exactly (the bound the int16 kernel's int32 accumulator is checked against)."""
    rng = np.random.default_rng(k * 7 + l1 % 97 + signed)
    g = Graph("dense16")
    x = g.add_input("x", TensorType(F32, (None, k)))
    tx = FixedType(16, 6, signed, Rounding.RND, Overflow.SAT)
    h = g.add_node("FromFloat", [x], output_types=[TensorType(tx, (None, k))]).output
    tw = FixedType(16, 4, True, Rounding.TRN, Overflow.SAT)
    w = rng.integers(-(l1 // k), l1 // k + 1, (k, m))
    w[:, 0] = l1 // k
    w[: l1 % k, 0] += 1  # Σ|w[:, 0]| = l1, the largest column
    w[:, 1:] = np.clip(w[:, 1:], -(l1 // k - 1), l1 // k - 1)
    if col1 is not None:  # one weight alone in column 1
        w[:, 1] = 0
        w[k // 2, 1] = col1
    f_acc = tx.frac_bits + tw.frac_bits
    attrs = {"accum": FixedType(40, 40 - f_acc, True, Rounding.TRN, Overflow.WRAP)}
    if shift is not None:
        attrs["weight_shift"] = shift
    y = g.add_node("Dense", [h, g.constant(w, "w", elem=tw), _const(g, rng, (m,), FixedType(20, 9, True, Rounding.TRN, Overflow.SAT))],
                   attrs, output_types=[TensorType(FixedType(16, 9, True, q, o), (None, m))]).output
    g.set_outputs([g.add_node("Relu", [y], output_types=[TensorType(FixedType(12, 9, False, q, o), (None, m))]).output])
    g.verify()
    return g


def _extremes(rng, n, k):
    """Inputs at both saturation limits of the 16-bit type, zeros, ties and ordinary values."""
    x = rng.normal(0, 200, (n, k))
    pick = rng.random((n, k))
    x[pick < 0.2], x[(pick >= 0.2) & (pick < 0.4)], x[(pick >= 0.4) & (pick < 0.5)] = 1e6, -1e6, 0.0
    return x.astype(np.float32)


@pytest.fixture(params=["c", "numba"])
def int16_kernel(request, monkeypatch):
    """The int16 products through the C kernel (built with the package), or through numba as when the
    extension is missing."""
    if request.param == "c":
        if not int_gemm_c.available():  # built with the package (tests/sim/test_int_gemm_c.py), but the plan
            pytest.skip("this CPU runs no SIMD path of the C kernel")  # takes it only with AVX2 or better
    else:
        import numba  # noqa: F401  (the test extra installs it)
        monkeypatch.setattr(int_gemm_c, "_LIB", [None])
    return request.param


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
def test_int16_dense_kernel_at_its_limits(signed, int16_kernel, monkeypatch):
    """The int16 kernel runs exactly when max|x - o|·Σ|w| < 2^31 (o = 0 for a signed 16-bit activation, 2^15
    for an unsigned one: max|x - o| = 2^15) and the reduction is long enough (K = INT16_MIN_K for numba; the C
    kernel from K = 128 or at any K above 16 outputs), and equals the reference bit for bit at the type's
    extremes, over chunk boundaries (N = 301 in chunks of 64) and N = 1; a K that is not a multiple of the
    kernels' padding too."""
    k = plan_steps.INT16_MIN_K["Dense"]
    assert plan_steps.c_int16_pays("Dense", k, 1) and not plan_steps.c_int16_pays("Dense", k - 1, 16)
    rng = np.random.default_rng(1 + signed)
    limit = 2 ** 31 // 2 ** 15  # Σ|w| allowed: below 2^16
    wide = int16_kernel == "c"  # more than 16 outputs: the C kernel takes any K
    for kk, m, l1, chosen in ((k, 6, limit - 1, True), (k, 6, limit, False), (k - 1, 16, limit - 1, False),
                              (k - 1, 17, limit - 1, wide), (3 * k, 6, 20000, True), (5, 40, 300, wide),
                              (k + 72, 6, 9000, True)):  # K = 200: numba pads it to 256 with zeros
        g = _int16_dense(kk, signed, l1, m=m)
        assert (_gemm_step(g).int16 is not None) == chosen, (kk, m, l1)
        for n in (1, 301):
            assert _agree(g, _extremes(rng, n, kk), 64, monkeypatch)


def test_int16_dense_weight_shift_and_every_mode(int16_kernel, monkeypatch):
    """Per-output weight shifts folded into the int16 weights (refused once one shifted weight leaves int16),
    with the output chain in every rounding × overflow mode."""
    k = plan_steps.INT16_MIN_K["Dense"]
    rng = np.random.default_rng(3)
    for q, o in MODES:
        g = _int16_dense(k, bool(rng.integers(2)), 3000, shift=[0, 1, 2, 0, 3, 1], q=q, o=o)
        assert _gemm_step(g).int16 is not None
        assert _agree(g, _extremes(rng, 67, k), 32, monkeypatch)
    for shift, chosen in ((5, True), (6, False)):  # 512 << 5 = 2^14 is int16, 512 << 6 = 2^15 is not
        g = _int16_dense(k, True, 3000, shift=[0, shift, 0, 0, 0, 0], col1=512)
        assert (_gemm_step(g).int16 is not None) == chosen
        assert _agree(g, _extremes(rng, 9, k))


INT16_CONVS = [  # (channels in, out, kernel, stride, dilation, pads, signed input)
    (32, 8, (3, 3), (1, 1), (1, 1), [1, 1, 1, 1], False),  # K = 288; the padding is 0, so -o after the offset
    (32, 5, (3, 3), (2, 1), (1, 2), [0, 2, 1, 0], True),
    (16, 4, (4, 4), (2, 2), (1, 1), [2, 1, 1, 2], False),  # K = 256, asymmetric padding
    (256, 3, (1, 1), (1, 1), (1, 1), [0, 0, 0, 0], True),  # pointwise
    (2, 5, (3, 3), (1, 1), (1, 1), [1, 0, 1, 2], False),  # K = 18: only the C kernel takes it
    (2, 6, (2, 3), (1, 2), (1, 1), [1, 1, 0, 0], True),  # K = 12: neither (float64 BLAS)
]


@pytest.mark.parametrize("c, m, kernel, strides, dil, pads, signed", INT16_CONVS)
def test_int16_conv_kernel(c, m, kernel, strides, dil, pads, signed, int16_kernel, monkeypatch):
    """Conv through the int16 window matrix: padding (the value 0 shifted by the offset), stride, dilation,
    1x1; inputs at the 16-bit extremes; N = 1 and 21 in chunks of 4. A grouped conv keeps the float path, and
    so does a short reduction (`c_int16_pays` for the C kernel, INT16_MIN_K for numba's)."""
    rng = np.random.default_rng(c + m)
    for group in (1, 2):
        g = Graph("conv16")
        x = g.add_input("x", TensorType(F32, (None, c, 7, 6)))
        tx = FixedType(16, 8, signed, Rounding.RND, Overflow.SAT)
        h = g.add_node("FromFloat", [x], output_types=[TensorType(tx, (None, c, 7, 6))]).output
        tw = FixedType(8, 1, True, Rounding.TRN, Overflow.SAT)
        f_acc = tx.frac_bits + tw.frac_bits
        attrs = {"strides": list(strides), "dilations": list(dil), "pads": pads, "group": group,
                 "accum": FixedType(44, 44 - f_acc, True, Rounding.TRN, Overflow.WRAP)}
        y = g.add_node("Conv", [h, _const(g, rng, (m * group, c // group, *kernel), tw), _const(g, rng, (m * group,), _fx(rng, 10, 3))],
                       attrs, output_types=[TensorType(FixedType(16, 9, True, Rounding.RND_CONV, Overflow.WRAP),
                                                       (None, m * group, *_out(kernel, strides, dil, pads)))]).output
        g.set_outputs([y])
        g.verify()
        k = c * kernel[0] * kernel[1]
        c_kernel = int16_kernel == "c"
        long_enough = plan_steps.c_int16_pays("Conv", k, m) if c_kernel else k >= plan_steps.INT16_MIN_K["Conv"]
        assert (_gemm_step(g).int16 is not None) == (group == 1 and long_enough)
        for n in (1, 21):
            assert _agree(g, _extremes(rng, n * c * 42, 1).reshape(n, c, 7, 6) * 0.25, 4, monkeypatch)


@pytest.mark.parametrize("q", list(Rounding))
def test_fused_chain_shifts_after_rounding(q, monkeypatch):
    """Add rounding to 2 fractional bits, then a merged ReLU into a type with 5 (ResNet-8's residual adds):
    the chain [mul, add, round, mul 2^3, clip] runs as one compiled pass, equal to the reference."""
    import numba  # noqa: F401  (the test extra installs it)
    rng = np.random.default_rng(list(Rounding).index(q))
    g = Graph("addrelu")
    x = g.add_input("x", TensorType(F32, (None, 3, 4)))
    z = g.add_input("z", TensorType(F32, (None, 3, 4)))
    hx = g.add_node("FromFloat", [x], output_types=[TensorType(FixedType(12, 4, True, q, Overflow.SAT), (None, 3, 4))]).output
    hz = g.add_node("FromFloat", [z], output_types=[TensorType(FixedType(10, 3, True, q, Overflow.SAT), (None, 3, 4))]).output
    a = g.add_node("Add", [hx, hz], output_types=[TensorType(FixedType(8, 6, True, q, Overflow.SAT), (None, 3, 4))]).output
    r = g.add_node("Relu", [a], output_types=[TensorType(FixedType(9, 4, False, q, Overflow.SAT), (None, 3, 4))]).output
    g.set_outputs([r])
    g.verify()
    step = next(s for s in plan_for(g).steps if s.node.op == "Add")
    assert step.fused is not None and step.fused[-1] == 8.0  # the shift after the rounding, inside the kernel
    xs, zs = ((rng.normal(0, 8, (70, 3, 4)) * 16).round().astype(np.float32) / 16 for _ in range(2))  # ties
    ref = run.simulate(g, [xs, zs], mode="fixed", reference=True)[0]
    assert_array_equal(Plan(g, compiled=True).run(check_inputs(g, [xs, zs]))[0], ref)
    assert_array_equal(Plan(g, compiled=False).run(check_inputs(g, [xs, zs]))[0], ref)


def test_int16_step_without_its_kernels_falls_back_to_blas(monkeypatch):
    """A step that chose the numba int16 kernels (no C kernel) still runs (float64 BLAS, the same bits) when
    they are not compiled."""
    from hwc.compiler.sim import int_gemm, jit
    import numba  # noqa: F401  (the test extra installs it)
    monkeypatch.setattr(int_gemm_c, "_LIB", [None])  # as when the extension was not built
    k = plan_steps.INT16_MIN_K["Dense"]
    g = _int16_dense(k, False, 4000)
    assert _gemm_step(g).int16 is not None
    monkeypatch.setitem(jit._DONE, int_gemm.__name__, False)  # as when numba is missing
    assert _agree(g, _extremes(np.random.default_rng(9), 40, k), 16, monkeypatch)
