"""AdaRound: learned rounding lands on the grid, keeps forced zeros, and improves the output error."""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_array_equal

from hwc.compiler.quantize.adaround import adaround
from hwc.compiler.quantize.grid import Grid


def test_adaround_on_identity_hessian_is_round_to_nearest():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(16, 4)) * 0.3
    grid = Grid(4, False, np.full(4, 3))
    assert_array_equal(adaround(w, np.eye(16), grid), grid.mantissas(w))


def test_adaround_beats_round_to_nearest_and_keeps_zeros():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 20)) @ rng.normal(size=(20, 20))
    h = x.T @ x / 300
    w = rng.normal(size=(20, 5)) * 0.5
    for bits, ternary in ((3, False), (2, True), (1, False)):
        grid = Grid(bits, ternary, np.full(5, 1))
        zero = np.zeros(w.shape, bool)
        zero[3] = True
        q = adaround(w, h, grid, zero=zero, iters=800)
        assert set(np.unique(q)) <= set(range(grid.qmin, grid.qmax + 1, grid.step)) | {0}
        assert (q[3] == 0).all()
        r = np.where(zero, 0, grid.mantissas(w))
        loss = lambda m: np.einsum("km,kl,lm->", grid.values(m) - w, h, grid.values(m) - w)  # noqa: E731
        assert loss(q) < loss(r)
