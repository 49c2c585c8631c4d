"""Weight grids: integer, binary and ternary mantissas, and the FixedType AssignTypes stores."""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_array_equal

from hwc.compiler.ir.types import FixedType, Overflow, Rounding
from hwc.compiler.quantize.grid import Grid, as_matrix, candidate_fracs, from_matrix


def test_integer_grid_rounds_half_to_even_and_saturates():
    g = Grid(3, False, np.array([2]))  # step 0.25, mantissas -4..3
    w = np.array([[0.125, 0.375, -0.125, 2.0, -2.0, 0.3]]).T
    assert_array_equal(g.mantissas(w)[:, 0], [0, 2, 0, 3, -4, 1])


def test_binary_and_ternary_grids():
    b = Grid(1, False, np.array([1]))
    assert_array_equal(b.mantissas(np.array([[-0.1], [0.0], [3.0]]))[:, 0], [-1, 1, 1])
    t = Grid(2, True, np.array([0]))
    assert_array_equal(t.mantissas(np.array([[-0.6], [0.4], [0.5], [7.0]]))[:, 0], [-1, 0, 0, 1])
    assert (b.qmin, b.qmax, b.step, t.qmin, t.qmax, t.step) == (-1, 1, 2, -1, 1, 1)


def test_fixed_type_and_per_channel_shifts():
    g = Grid(4, False, np.array([3, 5, 5]))
    t, ws, m = g.fixed(np.array([[1, -2, 7]]))
    assert t == FixedType(4, -1, True, Rounding.RND_CONV, Overflow.SAT)
    assert ws == [2, 0, 0]
    assert_array_equal(m, [[1, -2, 7]])
    assert Grid(1, False, np.array([2, 2])).fixed(np.ones((1, 2), np.int64))[1] is None


def test_conv_matrix_view_round_trips():
    w = np.arange(2 * 3 * 2 * 2).reshape(2, 3, 2, 2)
    m = as_matrix(w, "Conv")
    assert m.shape == (12, 2)
    assert_array_equal(from_matrix(m, "Conv", w.shape), w)


def test_candidates_cover_the_largest_weight_per_channel():
    w = np.array([[0.9, 0.1], [-0.5, 0.05]])
    c = candidate_fracs(w, 4, False, per_channel=True)
    assert_array_equal(c[0], [3, 6])  # max 0.9 needs int_bits 1 (4 bits: frac 3); max 0.1: frac 6
    assert_array_equal(candidate_fracs(w, 4, False, per_channel=False)[0], [3, 3])
