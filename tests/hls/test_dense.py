"""hwc::dense / dense_stream (templates/hls/hwc_dense.h) bit-exact against fixed_ops.dense.

Strategies latency and resource (several reuse factors, with a short last step), per-channel
weight shifts, exact / wrapping / saturating accumulators, binary weights, no bias, and the output
cast in every rounding x overflow mode (signed and unsigned), on ap_fixed and ac_fixed.
"""

from __future__ import annotations

import numpy as np
import pytest

from hls_harness import (VENDORS, Case, Config, accumulator, const, fx, mantissas, nonzero_config, one_node_graph,
                         overflow_share, run_cases, values)
from hwc.compiler.ir.types import FixedType, Overflow, Rounding

N = 1200  # samples per case


def dense_case(name, seed, n_in, n_out, x_t, w_t, out_t, *, bias_t=None, shift=None, strategy="latency", reuse=1,
               binary=False, density=0.7, accum_width=None, accum_overflow="WRAP", stream=False, shuffle=False,
               n=N) -> Case:
    rng = np.random.default_rng(seed)
    if binary:
        w = rng.choice(np.array([-1, 1]), size=(n_in, n_out))
    else:
        w = rng.integers(w_t.min_mantissa, w_t.max_mantissa, size=(n_in, n_out), endpoint=True)
        w[rng.random(w.shape) >= density] = 0
        if density > 0:  # the extremes of the weight type are in every case
            w[0, 0], w[-1, -1] = w_t.min_mantissa, w_t.max_mantissa
    f_acc = x_t.frac_bits + w_t.frac_bits
    b = b_acc = None
    if bias_t is not None:
        b = rng.integers(bias_t.min_mantissa, bias_t.max_mantissa, size=n_out, endpoint=True)
        b_acc = b << (f_acc - bias_t.frac_bits)
    accum, sum_t = accumulator(x_t, w, f_acc, shift, b_acc, accum_width, accum_overflow)
    consts = [const(w, w_t, "w")] + ([const(b, bias_t, "b")] if b is not None else [])
    attrs = {"accum": accum, "weight_shift": list(shift) if shift else None}
    graph = one_node_graph("Dense", [((n_in,), x_t)], consts, attrs, out_t)

    nz = [(i, j, w[i, j]) for i in range(n_in) for j in range(n_out) if w[i, j] != 0]
    nz = nz or [(0, 0, 0)]  # a fully pruned layer lists one zero weight (C++ has no empty arrays)
    if shuffle:  # the order of the triplets is the generator's business: any order gives the same bits
        nz = [nz[k] for k in rng.permutation(len(nz))]
    cfg = Config("config").ints(n_in=n_in, n_out=n_out)
    nonzero_config(cfg, nz, w_t, b, bias_t, shift, accum, sum_t, strategy, reuse, binary)
    if stream:
        call = (f"hwc::stream<hwc::array<in0_t, {n_in}> > si; hwc::stream<hwc::array<out_t, {n_out}> > so;\n"
                f"hwc::array<in0_t, {n_in}> a; for (unsigned i = 0; i < {n_in}; i++) a[i] = x0[i]; si.write(a);\n"
                f"hwc::dense_stream<in0_t, out_t, config>(si, so);\n"
                f"hwc::array<out_t, {n_out}> r = so.read(); for (unsigned i = 0; i < {n_out}; i++) y[i] = r[i];")
    else:
        call = "hwc::dense<in0_t, out_t, config>(x0, y);"
    x = values(mantissas(x_t, (n_in,), n, rng), x_t)
    note = f"{strategy} R={reuse}, {len(nz)} nonzero, accum {accum}, sum_t {sum_t}"
    return Case(name, graph, [x], [x_t], out_t, n_out, lambda v: "", call, configs=[cfg], note=note)


X8 = fx(8, 3)
W6 = fx(6, 1, q="RND_CONV", o="SAT")
OUT = fx(12, 4, q="RND", o="SAT")
B10 = fx(10, 4)

CASES = [
    dense_case("basic", 1, 7, 5, X8, W6, OUT, bias_t=B10),
    dense_case("resource_r2", 1, 7, 5, X8, W6, OUT, bias_t=B10, strategy="resource", reuse=2),
    dense_case("resource_r3", 1, 7, 5, X8, W6, OUT, bias_t=B10, strategy="resource", reuse=3),
    dense_case("resource_r7", 1, 7, 5, X8, W6, OUT, bias_t=B10, strategy="resource", reuse=7),
    dense_case("resource_r64", 1, 7, 5, X8, W6, OUT, bias_t=B10, strategy="resource", reuse=64),  # R > n_nonzero
    dense_case("unsigned_in_nobias", 2, 9, 4, fx(6, 2, False), fx(4, 0), fx(10, 3, q="RND_CONV", o="SAT"), shuffle=True),
    dense_case("shift", 3, 6, 4, X8, W6, fx(14, 9, q="RND", o="SAT"), bias_t=B10, shift=[0, 3, 1, 5]),
    dense_case("shift_resource_r4", 3, 6, 4, X8, W6, fx(14, 9, q="RND", o="SAT"), bias_t=B10, shift=[0, 3, 1, 5], strategy="resource", reuse=4),
    dense_case("wrap", 4, 10, 3, X8, W6, fx(12, 2, q="RND", o="SAT"), bias_t=fx(12, 6), accum_width=11),
    dense_case("wrap_shift_resource_r3", 4, 10, 3, X8, W6, fx(16, 6), bias_t=fx(12, 6), shift=[2, 0, 4],
               accum_width=12, strategy="resource", reuse=3),
    dense_case("sat_accum", 5, 10, 3, X8, W6, fx(13, 3, q="RND"), bias_t=fx(12, 6), shift=[1, 0, 2], accum_width=12,
               accum_overflow="SAT"),
    dense_case("sat_zero_accum", 5, 10, 3, X8, W6, fx(12, 2), bias_t=fx(12, 6), accum_width=11, accum_overflow="SAT_ZERO"),
    dense_case("binary", 6, 16, 4, X8, fx(2, -1, q="RND_CONV", o="SAT"), fx(10, 5, q="RND", o="SAT"), bias_t=fx(8, 4),
               binary=True),
    dense_case("binary_shift_resource_r5", 6, 16, 4, X8, fx(2, 3), fx(10, 8, q="RND", o="SAT"), bias_t=fx(8, 4),
               binary=True, shift=[0, 2, 1, 3], strategy="resource", reuse=5),
    dense_case("binary_wrap", 7, 16, 3, fx(8, 8), fx(2, 2), fx(8, 8), binary=True, accum_width=7),
    dense_case("all_pruned", 10, 4, 3, X8, W6, OUT, bias_t=B10, density=0.0),
    dense_case("stream", 8, 7, 5, X8, W6, OUT, bias_t=B10, stream=True),
    dense_case("stream_resource_r3", 8, 7, 5, X8, W6, OUT, bias_t=B10, stream=True, strategy="resource", reuse=3),
]
# The output cast in every mode: a small layer whose sums cover ties and both overflow directions.
# Signed: all 7 x 4 modes. Unsigned: every rounding under WRAP (under SAT_* the negative values, where
# most roundings differ, all saturate) and each unsigned overflow once.
MODE_SPECS = [(True, q, o) for q in Rounding for o in Overflow] + [(False, q, Overflow.WRAP) for q in Rounding] + [
    (False, Rounding.RND, Overflow.SAT), (False, Rounding.TRN, Overflow.SAT_ZERO), (False, Rounding.RND_CONV, Overflow.SAT_SYM)]
MODE_CASES = [
    dense_case(f"mode_{'s' if s else 'u'}_{q.value}_{o.value}", 9, 3, 2, fx(6, 3), fx(5, 1), FixedType(5, 2, s, q, o),
               bias_t=fx(6, 2), density=1.0, n=1000)
    for s, q, o in MODE_SPECS
]
ALL = CASES + MODE_CASES


@pytest.fixture(scope="module")
def results():
    return run_cases("dense", ALL, ["hwc_dense.h"])


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("case", ALL, ids=[c.name for c in ALL])
def test_dense(results, case, vendor):
    assert results.check(case, vendor) >= 1000


def test_mode_cases_tell_modes_apart(results):
    """A kernel that ignored res_t's modes would fail: every signed mode gives a different expected output,
    and so does every unsigned rounding under WRAP."""
    exp = {c.name: results.expected[(c.name, "ap")].tobytes() for c in MODE_CASES}
    signed = [n for n in exp if n.startswith("mode_s_")]
    unsigned_wrap = [n for n in exp if n.startswith("mode_u_") and n.endswith("_WRAP")]
    assert len({exp[n] for n in signed}) == len(signed) == len(Rounding) * len(Overflow)
    assert len({exp[n] for n in unsigned_wrap}) == len(unsigned_wrap) == len(Rounding)


@pytest.mark.parametrize("name", ["wrap", "wrap_shift_resource_r3", "sat_accum", "sat_zero_accum", "binary_wrap"])
def test_capped_accumulator_overflows(name):
    """These cases are only a test of wrapping/saturation if the narrow accum_t changes the result."""
    case = next(c for c in ALL if c.name == name)
    assert overflow_share(case) > 0.3
