"""Exact integer products: every fast path (float32 / float64 BLAS, direct depthwise, batched groups,
1×1 without columns, limbs) equals the Python-int product."""

from __future__ import annotations

import numpy as np
import pytest

from hwc.compiler.sim.exact import int_conv, int_matmul
from hwc.compiler.sim.float_ops import _conv_windows_matmul


def _reference_conv(x, w, strides, dilations, pads, group):
    return _conv_windows_matmul(x.astype(object), w.astype(object), strides, dilations, pads, group, None,
                                matmul=lambda a, b: np.matmul(a, b))


# (C, M, group, kernel, strides, dilations, pads)
CONVS = [(4, 4, 4, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1)),  # depthwise
         (3, 6, 3, (3, 2), (2, 1), (1, 2), (0, 1, 2, 0)),  # depthwise, channel multiplier 2, dilated
         (6, 4, 2, (3, 3), (1, 2), (1, 1), (1, 0, 1, 1)),  # two groups of 3 -> 2
         (5, 7, 1, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0)),  # 1x1: no columns
         (2, 3, 1, (4, 3), (2, 2), (1, 1), (2, 1, 1, 1))]  # strided, padded


@pytest.mark.parametrize("bits", [6, 20, 40])  # float32, float64, limbs
@pytest.mark.parametrize("c,m,group,kernel,strides,dilations,pads", CONVS)
def test_int_conv_paths(c, m, group, kernel, strides, dilations, pads, bits):
    rng = np.random.default_rng(bits + c * m)
    x = rng.integers(-(1 << bits), 1 << bits, (3, c, 7, 6))
    w = rng.integers(-(1 << 7), 1 << 7, (m, c // group, *kernel))
    want = _reference_conv(x, w, strides, dilations, pads, group)
    got = int_conv(x, w, strides, dilations, pads, group)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want.astype(np.int64))
    bound = 1 << bits  # a proven interval wider than the data gives the same
    np.testing.assert_array_equal(int_conv(x, w, strides, dilations, pads, group, (-bound, bound), (-128, 128)), got)


@pytest.mark.parametrize("bits", [6, 20, 40, 60])
def test_int_matmul_paths(bits):
    rng = np.random.default_rng(bits)
    a = rng.integers(-(1 << bits), 1 << bits, (5, 33))
    b = rng.integers(-100, 100, (33, 4))
    want = np.matmul(a.astype(object), b.astype(object))
    np.testing.assert_array_equal(int_matmul(a, b), want)
    np.testing.assert_array_equal(int_matmul(a, b, (-(1 << bits), 1 << bits), (-100, 100)), want)
