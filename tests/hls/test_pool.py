"""hwc max/avg pooling 1-D/2-D, array and stream, and global pooling (templates/hls/hwc_pool.h)
bit-exact against fixed_ops.max_pool / average_pool / global_*: pads, strides, dilations (max),
ceil_mode, count_include_pad, the reciprocal table of compiler/sim/tables.py, rounding output casts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hls_harness import VENDORS, Case, Config, fx, mantissas, one_node_graph, run_cases, stream_call, values
from hwc.compiler.sim import tables
from hwc.compiler.ir.types import FixedType

N = 1000


def _recip_type(r: int) -> FixedType:
    return fx(r + 1, 1, False)  # R[n] / 2^r <= 1


def pool_case(name, seed, kind, c, spatial, kernel, x_t, out_t, *, strides=None, dilations=None, pads=None,
              ceil_mode=False, count_include_pad=False, recip_bits=12, stream=False, n=N) -> Case:
    rng = np.random.default_rng(seed)
    nd = len(spatial)
    strides = strides or [1] * nd
    pads = pads or [0] * (2 * nd)
    attrs = {"kernel_shape": list(kernel), "strides": strides, "pads": pads, "ceil_mode": ceil_mode}
    if kind == "max":
        dilations = dilations or [1] * nd
        attrs["dilations"] = dilations
    else:
        dilations = [1] * nd
        attrs.update(count_include_pad=count_include_pad, recip_bits=recip_bits)
    graph = one_node_graph("MaxPool" if kind == "max" else "AveragePool", [((c,) + tuple(spatial), x_t)], [], attrs, out_t)
    out_sp = list(graph.outputs[0].type.shape[2:])

    cfg = Config("config").ints(n_chan=c, reuse_factor=1)
    names = ["height", "width"][-nd:]
    edges = [("pad_top", "pad_bottom"), ("pad_left", "pad_right")][-nd:]
    for i, nm in enumerate(names):
        cfg.ints(**{f"in_{nm}": spatial[i], f"out_{nm}": out_sp[i], f"kernel_{nm}": kernel[i], f"stride_{nm}": strides[i],
                    f"dilation_{nm}": dilations[i], edges[i][0]: pads[i], edges[i][1]: pads[nd + i]})
    if kind == "avg":
        rt = _recip_type(recip_bits)
        cfg.ints(count_include_pad=count_include_pad).type("recip_t", rt)
        cfg.fixed_array("recip", "recip_t", tables.reciprocal_table(math.prod(kernel), recip_bits), recip_bits)
    kern = f"hwc::{kind}_pool{nd}d"
    pix_in, pix_out = math.prod(spatial), math.prod(out_sp)
    call = stream_call(kern + "_stream", c, pix_in, c, pix_out) if stream else f"{kern}<in0_t, out_t, config>(x0, y);"
    x = values(mantissas(x_t, (c,) + tuple(spatial), n, rng), x_t)
    return Case(name, graph, [x], [x_t], out_t, c * pix_out, lambda v: "", call, configs=[cfg],
                note=f"{'stream' if stream else 'array'}, out {out_sp}")


def global_case(name, seed, kind, c, spatial, x_t, out_t, recip_bits=12, stream=False, n=N) -> Case:
    rng = np.random.default_rng(seed)
    attrs = {"recip_bits": recip_bits} if kind == "avg" else {}
    graph = one_node_graph("GlobalAveragePool" if kind == "avg" else "GlobalMaxPool", [((c,) + tuple(spatial), x_t)], [],
                           attrs, out_t)
    n_in = math.prod(spatial)
    cfg = Config("config").ints(n_chan=c, n_in=n_in)
    if kind == "avg":
        cfg.type("recip_t", _recip_type(recip_bits))
        cfg.fixed_scalar("recip", "recip_t", tables.reciprocal_table(n_in, recip_bits)[n_in], recip_bits)
    kern = f"hwc::global_{kind}_pool"
    call = stream_call(kern + "_stream", c, n_in, c, 1) if stream else f"{kern}<in0_t, out_t, config>(x0, y);"
    x = values(mantissas(x_t, (c,) + tuple(spatial), n, rng), x_t)
    return Case(name, graph, [x], [x_t], out_t, c, lambda v: "", call, configs=[cfg], note="stream" if stream else "array")


X = fx(8, 3)
XU = fx(7, 2, False)
AVG_OUT = fx(10, 3, q="RND_CONV", o="SAT")

CASES = []
for stream in (False, True):
    s = "_stream" if stream else ""
    CASES += [
        pool_case("max2_basic" + s, 1, "max", 3, (6, 6), (2, 2), X, X, strides=[2, 2], stream=stream),
        pool_case("max2_pads_dil_ceil" + s, 2, "max", 2, (7, 6), (3, 2), X, fx(6, 2, q="RND", o="SAT"), strides=[2, 3],
                  dilations=[2, 1], pads=[1, 0, 1, 1], ceil_mode=True, stream=stream),
        pool_case("max1_pads" + s, 3, "max", 3, (9,), (3,), XU, XU, strides=[2], pads=[1, 1], stream=stream),
        pool_case("avg2_basic" + s, 4, "avg", 2, (6, 6), (2, 2), X, AVG_OUT, strides=[2, 2], stream=stream),
        pool_case("avg2_pads_exclude_ceil" + s, 5, "avg", 2, (7, 5), (3, 3), X, AVG_OUT, strides=[2, 2],
                  pads=[1, 1, 0, 1], ceil_mode=True, stream=stream),
        pool_case("avg2_pads_include_ceil" + s, 5, "avg", 2, (7, 5), (3, 3), X, AVG_OUT, strides=[2, 2],
                  pads=[1, 1, 0, 1], ceil_mode=True, count_include_pad=True, stream=stream),
        pool_case("avg1_include" + s, 6, "avg", 3, (10,), (4,), XU, fx(9, 2, False, q="RND", o="SAT"), strides=[3],
                  pads=[2, 1], count_include_pad=True, recip_bits=8, stream=stream),
        global_case("gavg" + s, 7, "avg", 4, (3, 5), X, AVG_OUT, stream=stream),
        global_case("gmax" + s, 8, "max", 4, (3, 5), X, fx(6, 3, q="RND", o="SAT"), stream=stream),
    ]
CASES += [
    pool_case("avg2_recip6_trn", 9, "avg", 2, (5, 5), (3, 3), fx(10, 4), fx(8, 3), pads=[1, 1, 1, 1], recip_bits=6),
    global_case("gavg_1d_unsigned", 10, "avg", 3, (7,), XU, fx(12, 2, False, q="RND_INF", o="SAT"), recip_bits=16),
]


@pytest.fixture(scope="module")
def results():
    return run_cases("pool", CASES, ["hwc_pool.h"])


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_pool(results, case, vendor):
    assert results.check(case, vendor) >= 1000
