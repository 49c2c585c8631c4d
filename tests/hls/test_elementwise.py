"""hwc::add / sub / mul (templates/hls/hwc_elementwise.h) bit-exact against fixed_ops Add/Sub/Mul:
different fractions (alignment), unsigned operands, numpy broadcasting of graph inputs and of
constants (strides 0), rounding and overflow on the output cast."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hls_harness import VENDORS, Case, Config, const, ctype, fx, lit, mantissas, one_node_graph, run_cases, values
from hwc.compiler.ir.types import FixedType

N = 1000


def broadcast_strides(in_shape, out_shape) -> list[int]:
    """Per output dimension, the stride of a (right-aligned) broadcast input; 0 where it broadcasts."""
    in_shape = tuple(in_shape)
    while len(in_shape) > len(out_shape) and in_shape[0] == 1:
        in_shape = in_shape[1:]
    pad = (1,) * (len(out_shape) - len(in_shape)) + in_shape
    strides, acc = [], 1
    for d_in, d_out in zip(reversed(pad), reversed(out_shape)):
        strides.append(0 if d_in == 1 and d_out != 1 else acc)
        acc *= d_in
    return strides[::-1]


def binary_case(name, seed, op, a, b, out_t, *, b_const=False, n=N) -> Case:
    """a, b: (shape without batch, FixedType). With b_const, b is a constant (no batch axis)."""
    rng = np.random.default_rng(seed)
    (sa, ta), (sb, tb) = a, b
    if b_const:
        mb = mantissas(tb, sb, 1, rng, extreme=0.3)[0]
        graph = one_node_graph(op, [(sa, ta)], [const(mb, tb, "b")], {}, out_t)
    else:
        graph = one_node_graph(op, [(sa, ta), (sb, tb)], [], {}, out_t)
    out_shape = tuple(graph.outputs[0].type.shape[1:])
    cfg = Config("config").ints(n_out=math.prod(out_shape), rank=len(out_shape))
    cfg.index_array("shape", out_shape).index_array("a_stride", broadcast_strides(sa, out_shape))
    cfg.index_array("b_stride", broadcast_strides(sb, out_shape))
    kern = f"hwc::{op.lower()}"
    inputs = [values(mantissas(ta, sa, n, rng), ta)]
    if b_const:
        vals = ", ".join(lit(m, tb.frac_bits) for m in np.ravel(mb))
        cpp = lambda v: f"typedef {ctype(tb, v)} b_t;\nstatic const b_t cst[{max(1, np.size(mb))}] = {{{vals}}};\n"
        call = f"{kern}<in0_t, b_t, out_t, config>(x0, cst, y);"
        in_types = [ta]
    else:
        inputs.append(values(mantissas(tb, sb, n, rng), tb))
        cpp = lambda v: ""
        call = f"{kern}<in0_t, in1_t, out_t, config>(x0, x1, y);"
        in_types = [ta, tb]
    return Case(name, graph, inputs, in_types, out_t, math.prod(out_shape), cpp, call, configs=[cfg],
                note=f"{sa} {op} {sb}{' (const)' if b_const else ''} -> {out_shape}")


CASES = [
    binary_case("add_align", 1, "Add", ((3, 4), fx(8, 3)), ((3, 4), fx(10, 2)), fx(9, 3, q="RND", o="SAT")),
    binary_case("add_broadcast_row", 2, "Add", ((3, 4), fx(8, 3)), ((1, 4), fx(6, 4)), fx(10, 5)),
    binary_case("add_broadcast_both", 3, "Add", ((3, 1), fx(8, 2)), ((1, 4), fx(8, 6)), fx(8, 4, q="RND_CONV", o="SAT")),
    binary_case("sub_unsigned", 4, "Sub", ((6,), fx(8, 3, False)), ((6,), fx(7, 1, False)), fx(8, 4, q="RND_ZERO", o="SAT")),
    binary_case("sub_wrap", 5, "Sub", ((2, 3), fx(8, 3)), ((2, 3), fx(8, 3)), fx(6, 2)),
    binary_case("mul_round", 6, "Mul", ((5,), fx(8, 2)), ((5,), fx(8, 6)), fx(8, 4, q="RND_INF", o="SAT_SYM")),
    binary_case("mul_const_channel", 7, "Mul", ((2, 3, 4), fx(8, 3)), ((3, 1), fx(6, 1)), fx(10, 3, q="RND", o="SAT"),
                b_const=True),
    binary_case("add_const_scalar", 8, "Add", ((7,), fx(9, 4, False)), ((), fx(5, 2)), fx(9, 4, q="RND_MIN_INF", o="SAT_ZERO"),
                b_const=True),
]


@pytest.fixture(scope="module")
def results():
    return run_cases("elementwise", CASES, ["hwc_elementwise.h"])


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_elementwise(results, case, vendor):
    assert results.check(case, vendor) >= 1000


def test_broadcast_strides():
    assert broadcast_strides((3, 1), (3, 4)) == [1, 0]
    assert broadcast_strides((4,), (2, 3, 4)) == [0, 0, 1]
    assert broadcast_strides((), (2, 3)) == [0, 0]
    assert broadcast_strides((2, 3, 4), (2, 3, 4)) == [12, 4, 1]
