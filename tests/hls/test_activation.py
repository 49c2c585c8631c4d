"""hwc activations (templates/hls/hwc_activation.h) bit-exact against fixed_ops: relu, leaky_relu, clip,
hard_sigmoid, the sigmoid/tanh tables (every input code of small types, so every table index and both
clamps), softmax along first/middle/last axes; array and stream forms."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from hls_harness import FLAGS_O0, VENDORS, Case, Config, fx, mantissas, one_node_graph, run_cases, stream_call, values
from hwc.compiler.sim import tables
from hwc.compiler.ir.types import FixedType, Overflow, Rounding

N = 1000


def _inputs(x_t: FixedType, shape, rng, n=N) -> np.ndarray:
    """Every code of x_t first when it has few (so each table bucket and both clamps are hit), then random
    codes with the range ends overrepresented."""
    size = math.prod(shape)
    codes = x_t.max_mantissa - x_t.min_mantissa + 1
    rows = max(n, -(-codes // size)) if codes <= 1 << 16 else n
    m = mantissas(x_t, (size,), rows, rng).reshape(-1)
    if codes <= 1 << 16:
        m[:codes] = np.arange(x_t.min_mantissa, x_t.max_mantissa + 1)
    return values(m.reshape((rows,) + tuple(shape)), x_t)


def act_case(name, seed, op, shape, x_t, out_t, attrs=None, *, cfg_fn=None, stream=False, n=N) -> Case:
    rng = np.random.default_rng(seed)
    attrs = dict(attrs or {})
    graph = one_node_graph(op, [(shape, x_t)], [], attrs, out_t)
    size = math.prod(shape)
    cfg = Config("config").ints(n_in=size, n_chan=shape[0])
    kern = {"Relu": "relu", "LeakyRelu": "leaky_relu", "Clip": "clip", "HardSigmoid": "hard_sigmoid", "Sigmoid": "sigmoid",
            "Tanh": "tanh"}[op]
    if cfg_fn:
        cfg_fn(cfg, graph.nodes[1], x_t, out_t)
    if stream:  # [C][pixels] as a stream of channel vectors
        call = stream_call(f"hwc::{kern}_stream", shape[0], size // shape[0], shape[0], size // shape[0])
    else:
        call = f"hwc::{kern}<in0_t, out_t, config>(x0, y);"
    return Case(name, graph, [_inputs(x_t, shape, rng, n)], [x_t], out_t, size, lambda v: "", call, configs=[cfg],
                note="stream" if stream else "array")


def _param_cfg(*names):
    def fn(cfg, node, x_t, out_t):
        cfg.type("param_t", node.attrs["param_type"]).double(**{k: node.attrs[k] for k in names})
    return fn


def _clip_cfg(cfg, node, x_t, out_t):
    """Bounds on x's grid (lower up, upper down) and a bound type holding them and x."""
    f = x_t.frac_bits
    lo, hi = node.attrs["min"], node.attrs["max"]
    ms = [x_t.min_mantissa, x_t.max_mantissa]
    lo_m = math.ceil(Fraction(lo) * 2 ** f) if lo is not None else 0
    hi_m = math.floor(Fraction(hi) * 2 ** f) if hi is not None else 0
    ms += [lo_m, hi_m]
    bits = max(abs(v) for v in ms).bit_length() + 1
    cfg.type("bound_t", FixedType(bits, bits - f, True))
    cfg.ints(has_min=lo is not None, has_max=hi is not None)
    cfg.double(min_value=math.ldexp(lo_m, -f), max_value=math.ldexp(hi_m, -f))


def _table_cfg(fn):
    def cfg_fn(cfg, node, x_t, out_t):
        t, r = node.attrs["table_bits"], node.attrs["range_bits"]
        cfg.ints(table_bits=t, range_bits=r).type("table_t", out_t)
        cfg.fixed_array("table", "table_t", tables.function_table(fn, t, r, out_t), out_t.frac_bits)
    return cfg_fn


def softmax_case(name, seed, shape, axis, x_t, out_t, *, exp_t=None, inv_t=None, exp_bits=10, exp_range=3, inv_bits=10,
                 inv_range=None, stream=False, n=N) -> Case:
    rng = np.random.default_rng(seed)
    exp_t = exp_t or FixedType(18, 1, False, Rounding.RND_CONV, Overflow.SAT)
    inv_t = inv_t or FixedType(18, 2, False, Rounding.RND_CONV, Overflow.SAT)
    full = (None,) + tuple(shape)
    ax = axis % len(full)
    n_ax = full[ax]
    inv_range = inv_range if inv_range is not None else max(1, math.floor(math.log2(n_ax)) + 1)
    attrs = {"axis": axis, "exp_type": exp_t, "exp_table_bits": exp_bits, "exp_range_bits": exp_range, "inv_type": inv_t,
             "inv_table_bits": inv_bits, "inv_range_bits": inv_range}
    graph = one_node_graph("Softmax", [(shape, x_t)], [], attrs, out_t)
    outer, inner = math.prod(full[1:ax]), math.prod(full[ax + 1:])
    cfg = Config("config").ints(n_outer=outer, n_in=n_ax, n_inner=inner, exp_table_bits=exp_bits,
                                exp_range_bits=exp_range, inv_table_bits=inv_bits, inv_range_bits=inv_range)
    cfg.type("exp_t", exp_t).type("inv_t", inv_t)
    cfg.fixed_array("exp_table", "exp_t", tables.exp_table(exp_bits, exp_range, exp_t), exp_t.frac_bits)
    cfg.fixed_array("inv_table", "inv_t", tables.inv_table(inv_bits, inv_range, inv_t), inv_t.frac_bits)
    size = math.prod(shape)
    if stream:  # one element per softmax vector: the channel vector of a pixel ([C][pixels], axis 1)
        assert ax == 1
        call = stream_call("hwc::softmax_stream", n_ax, inner, n_ax, inner)
    else:
        call = "hwc::softmax<in0_t, out_t, config>(x0, y);"
    x = values(mantissas(x_t, shape, n, rng), x_t)
    return Case(name, graph, [x], [x_t], out_t, size, lambda v: "", call, configs=[cfg],
                note=f"{'stream' if stream else 'array'}, axis {axis} of {shape}")


X = fx(10, 4)
U8 = fx(8, 1, False, q="RND", o="SAT")
S8 = fx(8, 1, True, q="RND", o="SAT")
SIG = _table_cfg("Sigmoid")
TANH = _table_cfg("Tanh")

CASES = []
for stream in (False, True):
    s = "_stream" if stream else ""
    CASES += [
        act_case("relu" + s, 1, "Relu", (4, 3), X, fx(8, 3, False, q="RND", o="SAT"), stream=stream),
        act_case("sigmoid_t10_r3" + s, 2, "Sigmoid", (4, 2), fx(12, 5), U8, {"table_bits": 10, "range_bits": 3},
                 cfg_fn=SIG, stream=stream),
        act_case("leaky_relu" + s, 3, "LeakyRelu", (2, 5), X, fx(12, 4, q="RND", o="SAT"),
                 {"alpha": 0.1, "param_type": fx(8, -2, q="RND_CONV", o="SAT")}, cfg_fn=_param_cfg("alpha"), stream=stream),
    ]
CASES += [
    act_case("relu_wrap_trn", 4, "Relu", (6,), fx(9, 5), fx(6, 2, False)),
    act_case("relu_unsigned_in", 5, "Relu", (6,), fx(7, 3, False), fx(5, 3, False, q="RND_CONV", o="SAT")),
    act_case("leaky_relu_alpha_neg_int", 6, "LeakyRelu", (7,), fx(8, 2), fx(9, 1, q="RND_ZERO", o="SAT_SYM"),
             {"alpha": 0.3, "param_type": fx(6, 0, q="RND_CONV", o="SAT")}, cfg_fn=_param_cfg("alpha")),
    act_case("clip_both", 7, "Clip", (8,), X, fx(10, 4, q="RND", o="SAT"), {"min": -1.3, "max": 2.7}, cfg_fn=_clip_cfg),
    act_case("clip_min_only_narrow_out", 8, "Clip", (8,), X, fx(6, 2, q="RND_INF", o="SAT_ZERO"), {"min": -0.55, "max": None},
             cfg_fn=_clip_cfg),
    act_case("clip_bounds_outside", 9, "Clip", (8,), X, X, {"min": -100.0, "max": 100.0}, cfg_fn=_clip_cfg),
    act_case("clip_min_above_max", 10, "Clip", (8,), X, X, {"min": 2.0, "max": 1.0}, cfg_fn=_clip_cfg),
    act_case("relu6_clip", 11, "Clip", (8,), fx(12, 5, False), fx(8, 3, False, q="RND", o="SAT"), {"min": 0.0, "max": 6.0},
             cfg_fn=_clip_cfg),
    act_case("hard_sigmoid", 12, "HardSigmoid", (6,), X, U8,
             {"alpha": 0.2, "beta": 0.5, "param_type": fx(8, 1, q="RND_CONV", o="SAT")}, cfg_fn=_param_cfg("alpha", "beta")),
    act_case("hard_sigmoid_coarse", 13, "HardSigmoid", (6,), fx(6, 4), fx(4, 1, False, q="RND_CONV", o="SAT"),
             {"alpha": 0.1666, "beta": 0.5, "param_type": fx(5, 0, q="RND_CONV", o="SAT")},
             cfg_fn=_param_cfg("alpha", "beta")),
    act_case("sigmoid_coarse_input", 14, "Sigmoid", (5,), fx(8, 6), U8, {"table_bits": 10, "range_bits": 3}, cfg_fn=SIG),
    act_case("sigmoid_t6_r4_wide", 15, "Sigmoid", (5,), fx(20, 8), fx(10, 1, False, q="RND", o="SAT"),
             {"table_bits": 6, "range_bits": 4}, cfg_fn=SIG),
    act_case("sigmoid_unsigned_in", 16, "Sigmoid", (5,), fx(9, 3, False), U8, {"table_bits": 8, "range_bits": 3}, cfg_fn=SIG),
    act_case("sigmoid_small_range_in", 17, "Sigmoid", (5,), fx(12, -1), U8, {"table_bits": 10, "range_bits": 3}, cfg_fn=SIG),
    act_case("tanh_t8_r2", 18, "Tanh", (5,), X, S8, {"table_bits": 8, "range_bits": 2}, cfg_fn=TANH),
    act_case("tanh_t12_r2_fine_in", 19, "Tanh", (3,), fx(16, 3), fx(12, 1, q="RND_CONV", o="SAT"),
             {"table_bits": 12, "range_bits": 2}, cfg_fn=TANH),
    act_case("tanh_t4_r0", 20, "Tanh", (5,), fx(8, 2), fx(6, 1, q="TRN", o="SAT"), {"table_bits": 4, "range_bits": 0},
             cfg_fn=TANH),
    softmax_case("softmax_last", 21, (10,), 1, fx(10, 4), fx(16, 1, False, q="RND", o="SAT")),
    softmax_case("softmax_middle_axis", 22, (3, 4, 2), 1, fx(8, 3), fx(10, 1, False, q="RND_CONV", o="SAT")),
    softmax_case("softmax_axis_minus1", 23, (2, 5), -1, fx(12, 6), fx(8, 1, False, q="RND", o="SAT"), exp_bits=8,
                 exp_range=4, inv_bits=6, inv_range=1),  # inverse index clamps at the top
    softmax_case("softmax_unsigned_in_narrow_exp", 24, (6,), 1, fx(8, 4, False), fx(12, 0, False, q="RND", o="SAT"),
                 exp_t=FixedType(8, 1, False, Rounding.RND_CONV, Overflow.SAT),
                 inv_t=FixedType(10, 3, False, Rounding.RND_CONV, Overflow.SAT), exp_bits=6, exp_range=2),
    softmax_case("softmax_stream", 25, (5, 3, 2), 1, fx(10, 4), fx(16, 1, False, q="RND", o="SAT"), stream=True),
]


@pytest.fixture(scope="module")
def results():
    return run_cases("activation", CASES, ["hwc_activation.h"], flags=FLAGS_O0)


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_activation(results, case, vendor):
    assert results.check(case, vendor) >= 1000


@pytest.mark.parametrize("name", ["sigmoid_t10_r3", "sigmoid_coarse_input", "sigmoid_t6_r4_wide", "tanh_t8_r2",
                                  "tanh_t12_r2_fine_in", "tanh_t4_r0", "sigmoid_unsigned_in"])
def test_table_indices_cover_both_clamps(name):
    """The inputs of the table cases reach index 0 and index N-1 (the clamps) and many buckets between."""
    c = next(c for c in CASES if c.name == name)
    node = c.graph.nodes[1]
    x_t = c.in_types[0]
    m = np.rint(np.ldexp(c.inputs[0], x_t.frac_bits)).astype(np.int64)
    idx = tables.function_index(m, x_t.frac_bits, node.attrs["table_bits"], node.attrs["range_bits"])
    n = 1 << node.attrs["table_bits"]
    assert (idx.min() == 0 or x_t.min >= -(2.0 ** node.attrs["range_bits"])) and idx.max() == n - 1
    print(f"{name}: {len(np.unique(idx))} of {n} table entries used")
