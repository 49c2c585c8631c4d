"""Two-term common sub-expression sharing of constant matrix products (backends/rtl_cse.py): the plan
computes exactly x @ M, never costs more adders than the digits without sharing, respects its depth bound,
and is deterministic."""

import numpy as np
import pytest

from hwc.backends.rtl_csd import csd
from hwc.backends.rtl_cse import digit_depth, share


def _plain_adders(m: np.ndarray) -> int:
    """Adders with no sharing: every digit is a summand, (summands - 1) per output."""
    return sum(max(0, sum(len(csd(int(v))) for v in col) - 1) for col in m.T)


MATRICES = {
    "dense 8-bit unsigned 16x16": lambda r: (np.floor(r.random((16, 16)) * 127) + 129).astype(np.int64),
    "signed 4-bit, half pruned": lambda r: np.where(r.random((24, 12)) < 0.5, 0, r.integers(-7, 8, (24, 12))),
    "wide signed 12-bit": lambda r: r.integers(-2048, 2048, (10, 6)),
    "one output": lambda r: r.integers(-100, 100, (30, 1)),
    "one input": lambda r: r.integers(-100, 100, (1, 9)),
    "zero column and row": lambda r: np.pad(r.integers(-20, 20, (5, 4)), ((0, 1), (0, 1))),
    "repeated columns": lambda r: np.repeat(r.integers(-60, 60, (8, 1)), 5, axis=1),
}


@pytest.mark.parametrize("name", MATRICES)
@pytest.mark.parametrize("max_depth", [None, 1, 2])
def test_plan_is_exact_and_never_costs_more(name, max_depth):
    rng = np.random.default_rng(7)
    m = MATRICES[name](rng)
    plan = share(m, max_depth)
    x = rng.integers(-(1 << 20), 1 << 20, (11, m.shape[0]))
    np.testing.assert_array_equal(plan.evaluate(x), x.astype(object) @ m.astype(object))
    assert plan.adders <= _plain_adders(m)
    if max_depth is not None:
        assert max(plan.depth, default=0) <= max_depth
    for sv in plan.shared:
        assert sv.sign in (-1, 1) and sv.shift >= 0


def test_sharing_pays_on_dense_matrices_and_is_deterministic():
    rng = np.random.default_rng(0)
    m = MATRICES["dense 8-bit unsigned 16x16"](rng)
    plan = share(m, digit_depth(m))
    assert plan.adders < 0.6 * _plain_adders(m), (plan.adders, _plain_adders(m))
    again = share(m, digit_depth(m))
    assert again.shared == plan.shared and again.outputs == plan.outputs
    rep = MATRICES["repeated columns"](rng)  # five equal outputs: one sum, computed once
    assert share(rep).adders <= _plain_adders(rep[:, :1])  # the one sum is built once (or cheaper)


def test_digit_depth():
    assert digit_depth(np.array([[0, 1, 2, 4]])) == 1  # one digit: no adder, still at least 1
    assert digit_depth(np.array([[3, 5]])) == 1  # two digits: one adder level
    assert digit_depth(np.array([[0b1010101]])) == 2  # four digits
    assert digit_depth(np.array([[0b101010101]])) == 3  # five digits
