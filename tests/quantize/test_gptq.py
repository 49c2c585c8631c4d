"""GPTQ: on the grid, no worse than round to nearest on its own loss, equal to it when inputs are
uncorrelated, and OBS pruning that removes exactly the asked fraction."""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_array_equal

from hwc.compiler.quantize.gptq import gptq
from hwc.compiler.quantize.grid import Grid


def _problem(seed=0, k=24, m=6, n=400):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, k)) @ rng.normal(size=(k, k)) * 0.3  # correlated inputs
    return rng.normal(size=(k, m)) * 0.4, x.T @ x / n


def _loss(q, grid, w, h):
    d = grid.values(q) - w
    return float(np.einsum("km,kl,lm->", d, h, d))


def test_gptq_beats_round_to_nearest_on_correlated_inputs():
    w, h = _problem()
    for bits in (2, 3, 4):
        grid = Grid(bits, False, np.full(w.shape[1], bits - 1))
        q = gptq(w, h, grid)
        assert q.min() >= grid.qmin and q.max() <= grid.qmax and q.dtype == np.int64
        assert _loss(q, grid, w, h) < 0.8 * _loss(grid.mantissas(w), grid, w, h)


def test_gptq_is_round_to_nearest_for_uncorrelated_inputs():
    w, _ = _problem(1)
    grid = Grid(3, False, np.full(w.shape[1], 2))
    assert_array_equal(gptq(w, np.diag(np.linspace(1, 2, len(w))), grid), grid.mantissas(w))


def test_obs_pruning_keeps_zeros_and_prunes_the_fraction():
    w, h = _problem(2)
    w[0, :] = 0.0  # already pruned: stays 0
    grid = Grid(8, False, np.full(w.shape[1], 6))
    q = gptq(w, h, grid, prune=0.5)
    assert (q[0] == 0).all()
    assert (q == 0).sum() >= w.size // 2
    assert (q == 0).sum() <= w.size // 2 + 3  # only rounding to 0 can add a few more


def _row_by_row(w, h, grid):
    """The unblocked algorithm: every row's error spread over all later rows at once."""
    from hwc.compiler.quantize.gptq import damped, inverse_cholesky

    h, dead = damped(h, 0.01)
    w = np.array(w, np.float64)
    w[dead] = 0.0
    u = inverse_cholesky(h)
    q = np.zeros(w.shape, np.int64)
    for i in range(len(w)):
        q[i] = grid.snap(w[i] / grid.scale)
        w[i + 1:] -= np.outer(u[i, i + 1:], (w[i] - q[i] * grid.scale) / u[i, i])
    return q


def test_lazy_batch_updates_give_the_row_by_row_mantissas():
    w, h = _problem(3, k=150, m=9)  # blocks of 64, 64 and 22 rows
    for bits in (2, 4, 8):
        grid = Grid(bits, False, np.full(w.shape[1], bits - 1))
        ref = _row_by_row(w, h, grid)
        assert_array_equal(gptq(w, h, grid), ref)
        assert_array_equal(gptq(w, h, grid, block=7), ref)


def test_inverse_cholesky_is_the_upper_factor_of_the_inverse():
    from hwc.compiler.quantize.gptq import inverse_cholesky

    x = np.random.default_rng(4).normal(size=(2000, 300))
    h = x.T @ x / 2000  # 300 rows: two levels of halving before the 128-row leaves; well conditioned
    u = inverse_cholesky(h)
    assert np.all(np.tril(u, -1) == 0) and np.all(np.diag(u) > 0)
    np.testing.assert_allclose(u.T @ u @ h, np.eye(len(h)), atol=1e-9)
    ref = np.linalg.cholesky(np.linalg.inv(h)).T  # the factor is unique: the textbook route agrees
    np.testing.assert_allclose(u, ref, rtol=1e-10, atol=1e-13)
