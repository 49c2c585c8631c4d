"""hwc::conv1d/conv2d and their _stream forms (templates/hls/hwc_conv.h) bit-exact against fixed_ops.conv.

Strides, dilations, asymmetric and oversized pads, groups and depthwise, per-channel shifts, wrapping
and saturating accumulators, binary weights, latency and resource strategies; the array and the
stream (line buffer) interfaces on the same cases.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hls_harness import (VENDORS, Case, Config, accumulator, const, fx, mantissas, nonzero_config, one_node_graph,
                         overflow_share, run_cases, stream_call, values)
from hwc.compiler.ir.ops import pool_out

N = 1000


def conv_case(name, seed, c, spatial, m, kernel, x_t, w_t, out_t, *, strides=None, dilations=None, pads=None, group=1,
              bias_t=None, shift=None, strategy="latency", reuse=1, binary=False, density=0.75, accum_width=None,
              accum_overflow="WRAP", stream=False, n=N) -> Case:
    rng = np.random.default_rng(seed)
    nd = len(spatial)
    strides = strides or [1] * nd
    dilations = dilations or [1] * nd
    pads = pads or [0] * (2 * nd)
    cg, mg = c // group, m // group
    wshape = (m, cg) + tuple(kernel)
    if binary:
        w = rng.choice(np.array([-1, 1]), size=wshape)
    else:
        w = rng.integers(w_t.min_mantissa, w_t.max_mantissa, size=wshape, endpoint=True)
        w[rng.random(w.shape) > density] = 0
        w.flat[0], w.flat[-1] = w_t.min_mantissa, w_t.max_mantissa
    f_acc = x_t.frac_bits + w_t.frac_bits
    b = b_acc = None
    if bias_t is not None:
        b = rng.integers(bias_t.min_mantissa, bias_t.max_mantissa, size=m, endpoint=True)
        b_acc = b << (f_acc - bias_t.frac_bits)
    accum, sum_t = accumulator(x_t, w.reshape(m, -1).T, f_acc, shift, b_acc, accum_width, accum_overflow, zero_taps=True)
    attrs = {"strides": strides, "dilations": dilations, "pads": pads, "group": group, "accum": accum,
             "weight_shift": list(shift) if shift else None}
    consts = [const(w, w_t, "w")] + ([const(b, bias_t, "b")] if b is not None else [])
    graph = one_node_graph("Conv", [((c,) + tuple(spatial), x_t)], consts, attrs, out_t)
    out_sp = [pool_out(spatial[i], kernel[i], strides[i], dilations[i], pads[i], pads[nd + i]) for i in range(nd)]

    # Triplets over the window [c][ky][kx]: absolute input channel of group g = out_channel // mg.
    taps = math.prod(kernel)
    trip = []
    for o in range(m):
        for cl in range(cg):
            for t in range(taps):
                v = w[o, cl].flat[t]
                if v != 0:
                    trip.append(((o // mg * cg + cl) * taps + t, o, v))
    trip = [trip[k] for k in rng.permutation(len(trip))]
    cfg = Config("config").ints(n_chan=c, n_filt=m)
    names = ["height", "width"][-nd:]
    edges = [("pad_top", "pad_bottom"), ("pad_left", "pad_right")][-nd:]
    for i, nm in enumerate(names):
        cfg.ints(**{f"in_{nm}": spatial[i], f"out_{nm}": out_sp[i], f"kernel_{nm}": kernel[i], f"stride_{nm}": strides[i],
                    f"dilation_{nm}": dilations[i], edges[i][0]: pads[i], edges[i][1]: pads[nd + i]})
    nonzero_config(cfg, trip, w_t, b, bias_t, shift, accum, sum_t, strategy, reuse, binary)
    kern = f"hwc::conv{nd}d"
    pix_in, pix_out = math.prod(spatial), math.prod(out_sp)
    if stream:
        call = stream_call(kern + "_stream", c, pix_in, m, pix_out)
    else:
        call = f"{kern}<in0_t, out_t, config>(x0, y);"
    x = values(mantissas(x_t, (c,) + tuple(spatial), n, rng), x_t)
    note = (f"{'stream' if stream else 'array'} {strategy} R={reuse}, out {out_sp}, {len(trip)} nonzero, accum {accum}")
    return Case(name, graph, [x], [x_t], out_t, m * pix_out, lambda v: "", call, configs=[cfg], note=note)


X = fx(8, 3)
W = fx(6, 1, q="RND_CONV", o="SAT")
OUT = fx(12, 5, q="RND", o="SAT")
B = fx(10, 4)

CASES = []
for stream in (False, True):
    s = "_stream" if stream else ""
    CASES += [
        conv_case("c2_basic" + s, 1, 2, (5, 6), 3, (3, 3), X, W, OUT, pads=[1, 1, 1, 1], bias_t=B, stream=stream),
        conv_case("c2_stride_dil" + s, 2, 2, (7, 8), 2, (2, 3), X, W, OUT, strides=[2, 1], dilations=[1, 2],
                  pads=[0, 1, 2, 0], bias_t=B, stream=stream),
        conv_case("c2_group2" + s, 3, 4, (4, 5), 6, (2, 2), X, W, OUT, group=2, bias_t=B, stream=stream),
        conv_case("c2_depthwise_s2" + s, 4, 3, (6, 6), 3, (3, 3), X, W, OUT, group=3, strides=[2, 2], pads=[1, 1, 1, 1],
                  stream=stream),
        conv_case("c2_big_pads" + s, 5, 2, (3, 4), 2, (2, 2), X, W, OUT, pads=[3, 0, 4, 3], strides=[1, 2], bias_t=B,
                  stream=stream),  # whole windows in the padding: bias only
        conv_case("c2_shift_wrap_r3" + s, 6, 3, (5, 5), 4, (3, 3), X, W, fx(14, 4, q="RND_CONV", o="SAT"), pads=[1, 1, 1, 1],
                  bias_t=B, shift=[0, 2, 1, 3], accum_width=13, strategy="resource", reuse=3, stream=stream),
        conv_case("c1_stride_dil" + s, 7, 3, (11,), 2, (3,), X, W, OUT, strides=[2], dilations=[2], pads=[2, 1], bias_t=B,
                  stream=stream),
        conv_case("c1_resource_r4" + s, 8, 2, (9,), 4, (4,), X, W, OUT, pads=[1, 2], strategy="resource", reuse=4,
                  bias_t=B, stream=stream),
    ]
CASES += [
    conv_case("c2_depthwise_mult2", 9, 2, (5, 4), 4, (2, 3), X, W, OUT, group=2, pads=[0, 1, 1, 0]),
    conv_case("c2_binary", 10, 3, (4, 4), 2, (3, 3), X, fx(2, 0, q="RND_CONV", o="SAT"), fx(10, 7, q="RND", o="SAT"),
              pads=[1, 1, 1, 1], binary=True, bias_t=fx(8, 4)),
    conv_case("c2_binary_shift_r2", 10, 3, (4, 4), 2, (3, 3), X, fx(2, -2), fx(10, 4, q="RND", o="SAT"),
              binary=True, shift=[1, 0], strategy="resource", reuse=2),
    conv_case("c2_unsigned_sat_accum", 11, 2, (4, 4), 3, (2, 2), fx(6, 2, False), W, fx(10, 1, q="RND_INF", o="SAT_SYM"),
              accum_width=9, accum_overflow="SAT"),
]


@pytest.fixture(scope="module")
def results():
    return run_cases("conv", CASES, ["hwc_conv.h"])


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_conv(results, case, vendor):
    assert results.check(case, vendor) >= 1000


@pytest.mark.parametrize("name", ["c2_shift_wrap_r3", "c2_unsigned_sat_accum"])
def test_capped_accumulator_overflows(name):
    """These cases are only a test of wrapping/saturation if the narrow accum_t changes the result."""
    case = next(c for c in CASES if c.name == name)
    assert overflow_share(case) > 0.3
