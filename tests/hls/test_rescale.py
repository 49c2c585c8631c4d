"""hwc::rescale (templates/hls/hwc_rescale.h) bit-exact against fixed_ops.rescale (per channel on axis 1
and on a middle axis, with and without offset, per tensor), and FromFloat (`hwc::from_float`, which
every case of the suite also uses to load its inputs) against compiler/sim/fixed.from_float with each
vendor's own rule, on arbitrary doubles including subnormals, where ap_fixed and ac_fixed differ."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hls_harness import VENDORS, Case, Config, const, fx, mantissas, one_node_graph, run_cases, values
from hwc.compiler.ir.types import FixedType, Overflow, Rounding
from hwc.compiler.sim.fixed import from_float, to_float

N = 1000


def rescale_case(name, seed, shape, axis, x_t, m_t, out_t, *, b_t=None, per_tensor=False, n=N) -> Case:
    rng = np.random.default_rng(seed)
    full = (None,) + tuple(shape)
    c = 1 if per_tensor else full[axis]
    m = mantissas(m_t, (c,), 1, rng, extreme=0.4)[0]
    consts = [const(m, m_t, "m")]
    b = None
    if b_t is not None:
        b = mantissas(b_t, (c,), 1, rng, extreme=0.4)[0]
        consts.append(const(b, b_t, "b"))
    graph = one_node_graph("Rescale", [(shape, x_t)], consts, {"axis": axis}, out_t)
    outer = 1 if per_tensor else math.prod(full[1:axis])
    inner = math.prod(shape) // (outer * c)
    cfg = Config("config").ints(n_outer=outer, n_chan=c, n_inner=inner, has_offset=b is not None)
    cfg.type("mult_t", m_t).fixed_array("mult", "mult_t", m, m_t.frac_bits)
    if b is not None:
        cfg.type("offset_t", b_t).fixed_array("offset", "offset_t", b, b_t.frac_bits)
    x = values(mantissas(x_t, shape, n, rng), x_t)
    return Case(name, graph, [x], [x_t], out_t, math.prod(shape), lambda v: "", "hwc::rescale<in0_t, out_t, config>(x0, y);",
                configs=[cfg], note=f"axis {axis} of {shape}, {'per tensor' if per_tensor else f'{c} channels'}")


def _doubles(t: FixedType, n: int, rng) -> np.ndarray:
    """Doubles around t's range and grid: off-grid values, exact ties, range ends, and tiny magnitudes
    (subnormals, where the two vendors' double conversions differ)."""
    lsb, top = t.lsb, max(abs(t.min), t.max)
    x = rng.uniform(-1.5 * top, 1.5 * top, n)
    k = n // 5
    x[:k] = (rng.integers(-2 * (1 << t.width), 2 * (1 << t.width), k) + 0.5) * lsb  # ties
    x[k:2 * k] = rng.integers(-(1 << t.width), 1 << t.width, k) * lsb * rng.choice([1.0, 1.0 + 2.0 ** -40], k)
    tiny = np.array([5e-324, -5e-324, 1e-310, -1e-310, 2.0 ** -1022, -(2.0 ** -1022), 1e-300, -1e-300, 0.0, -0.0])
    x[2 * k:2 * k + len(tiny)] = tiny
    return x


def from_float_case(name, seed, t: FixedType, n=N) -> Case:
    x = _doubles(t, n, np.random.default_rng(seed))[:, None]
    ref = lambda vendor: to_float(from_float(x, t, vendor), t)
    return Case(name, None, [x], [t], t, 1, lambda v: "", "y[0] = x0[0];", ref=ref, note="FromFloat")


CASES = [
    rescale_case("rescale_channel_offset", 1, (4, 3), 1, fx(10, 4), fx(8, 1, q="RND_CONV", o="SAT"),
                 fx(12, 5, q="RND", o="SAT"), b_t=fx(14, 6)),
    rescale_case("rescale_middle_axis", 2, (2, 3, 4), 2, fx(8, 3), fx(6, -1), fx(8, 2, q="RND_CONV", o="SAT")),
    rescale_case("rescale_per_tensor_unsigned", 3, (6,), 1, fx(8, 3, False), fx(7, 2), fx(8, 3, q="TRN_ZERO", o="SAT_SYM"),
                 b_t=fx(9, 2), per_tensor=True),
]
CASES += [
    from_float_case(f"from_float_{'s' if s else 'u'}_{q.value}_{o.value}", 10 + i, FixedType(10, 3, s, q, o), n=2000)
    for i, (s, q, o) in enumerate([(True, Rounding.TRN, Overflow.WRAP), (True, Rounding.RND, Overflow.SAT),
                                   (True, Rounding.RND_CONV, Overflow.SAT_SYM), (True, Rounding.TRN_ZERO, Overflow.SAT_ZERO),
                                   (True, Rounding.RND_ZERO, Overflow.WRAP), (True, Rounding.RND_INF, Overflow.SAT),
                                   (True, Rounding.RND_MIN_INF, Overflow.SAT), (False, Rounding.RND, Overflow.SAT),
                                   (False, Rounding.TRN, Overflow.WRAP)])
]
CASES += [from_float_case("from_float_fine_grid", 30, FixedType(24, -6, True, Rounding.TRN, Overflow.SAT), n=2000)]


@pytest.fixture(scope="module")
def results():
    return run_cases("rescale", CASES, ["hwc_rescale.h"])


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rescale(results, case, vendor):
    assert results.check(case, vendor) >= 1000


def test_vendors_differ_on_tiny_doubles(results):
    """The FromFloat cases include inputs where ap_fixed and ac_fixed round differently (so each vendor
    is checked against its own rule, not a shared one)."""
    c = next(c for c in CASES if c.name == "from_float_s_TRN_WRAP")
    assert np.any(results.expected[(c.name, "ap")] != results.expected[(c.name, "ac")])
