"""The lookup tables the simulator and the HLS kernels share (compiler/sim/tables.py), worked by hand."""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_array_equal

from hwc.compiler.ir.types import FixedType, Overflow, Rounding
from hwc.compiler.sim import tables


def test_reciprocal_table_rounds_half_up():
    """R[n] = round_half_up(2^4 / n): 16, 8, 5.33 -> 5, 4, 3.2 -> 3, 2.67 -> 3, 2.29 -> 2."""
    assert_array_equal(tables.reciprocal_table(7, 4), [0, 16, 8, 5, 4, 3, 3, 2])


def test_function_table_samples_bucket_centres_rounded_to_nearest_even():
    """4 entries over [-2, 2) (range_bits 1): centres -1.5, -0.5, 0.5, 1.5; tanh into <4,1> (2^-3 steps):
    tanh(0.5) = 0.4621 -> 3.70 steps -> 4; tanh(1.5) = 0.9051 -> 7.24 -> 7."""
    t = tables.function_table("Tanh", 2, 1, FixedType(4, 1, True, Rounding.TRN, Overflow.WRAP))
    assert_array_equal(t, [-7, -4, 4, 7])
    assert not t.flags.writeable


def test_function_index_is_floor_then_clamped():
    """x at 2^-2 (frac 2), 4 entries over [-2, 2): index floor((x + 2) / 1) clamped to [0, 3]."""
    m = np.int64([-12, -8, -5, -1, 0, 3, 4, 7, 20])  # x = -3, -2, -1.25, -0.25, 0, 0.75, 1, 1.75, 5
    assert_array_equal(tables.function_index(m, 2, 2, 1), [0, 0, 0, 1, 2, 2, 3, 3, 3])


def test_wide_range_bits_covers_the_input_type():
    assert tables.wide_range_bits(FixedType(8, 3, True)) == 2       # [-4, 4)
    assert tables.wide_range_bits(FixedType(8, 3, False)) == 3      # [0, 8)


def test_exp_table_starts_at_one_exactly():
    t = tables.exp_table(3, 1, FixedType(10, 1, False))
    assert t[0] == 1 << 9 and np.all(np.diff(t) < 0)  # exp(0) = 1, then decreasing
