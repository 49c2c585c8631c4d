"""The C int16 product kernel (compiler/sim/_int_gemm.c through int_gemm_c.py): every path this CPU runs
(scalar, AVX2, AVX-512BW, VNNI) equals the int64 product bit for bit, at the int32 accumulator's limit,
for row counts and output counts that do not fill a register block or a packed block."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from hwc.compiler.sim import int_gemm_c
from hwc.compiler.sim.conv_kernels import _windows_of


def test_the_installed_package_has_the_kernel():
    """pip builds the extension with the package (a C compiler is part of the test setup: C simulation
    needs one too); the scalar path runs on every CPU."""
    assert int_gemm_c.built()
    assert "scalar" in int_gemm_c.paths()


def _reference(x, off, w, corr, scale):
    return ((x.astype(np.int64) - int(off)) @ w.astype(np.int64).T + corr) * scale


def _limit_case():
    """Pairs at the accumulator's limit: max|x - o|·Σ|w| = 2^15·(2^16 - 1) = 2^31 - 2^15, both signs."""
    x = np.full((5, 2), -2.0 ** 15)
    x[1], x[2], x[3] = (2 ** 15 - 1, 2 ** 15 - 1), (-2 ** 15, 2 ** 15 - 1), (0, -2 ** 15)
    w = np.array([[-2 ** 15, -(2 ** 15 - 1)], [2 ** 15 - 1, 2 ** 15 - 1], [-2 ** 15, 2 ** 15 - 1]], np.int16)
    return x, w


@pytest.mark.parametrize("path", int_gemm_c.paths() or ["scalar"])
def test_dense_every_path_is_exact(path):
    rng = np.random.default_rng(5)
    x, w = _limit_case()
    corr = np.zeros(3)
    assert_array_equal(int_gemm_c.dense(x, 0.0, int_gemm_c.Weights(w, corr), 1.0, path), _reference(x, 0, w, corr, 1.0))
    for rows, k, m in ((1, 1, 1), (3, 16, 5), (67, 33, 17), (130, 64, 33), (9, 290, 64), (4, 7, 48)):
        off = float(rng.choice([0, 2 ** 15]))
        x = rng.integers(-2 ** 15, 2 ** 15, (rows, k)) + off
        w = rng.integers(-40, 41, (m, k)).astype(np.int16)
        corr = off * w.sum(axis=1, dtype=np.int64).astype(np.float64)
        y = int_gemm_c.dense(x.astype(np.float64), off, int_gemm_c.Weights(w, corr), 0.25, path)
        assert_array_equal(y, _reference(x, off, w, corr, 0.25))


CONVS = [  # (samples, channels, h, w, outputs, kernel, strides, dilations, pads top, left, bottom, right)
    (1, 1, 3, 3, 1, (1, 1), (1, 1), (1, 1), (0, 0, 0, 0)),
    (3, 3, 7, 6, 17, (3, 3), (1, 1), (1, 1), (1, 1, 1, 1)),  # odd C: pairs across taps
    (2, 16, 9, 8, 16, (3, 3), (2, 1), (1, 2), (0, 2, 1, 0)),
    (2, 5, 6, 7, 40, (4, 2), (2, 2), (1, 1), (2, 1, 1, 2)),
]


@pytest.mark.parametrize("path", int_gemm_c.paths() or ["scalar"])
def test_conv_every_path_is_exact(path):
    """Padding (the value 0, shifted by the offset), stride, dilation, asymmetric pads, against the int64
    product over the window index of sim/conv_kernels.py (k in its (channel, row, column) order)."""
    rng = np.random.default_rng(6)
    for n, c, h, w_, m, kernel, strides, dil, pads in CONVS:
        off = float(rng.choice([0, 2 ** 15]))
        x = (rng.integers(-2 ** 15, 2 ** 15, (n, c, h, w_)) + off).astype(np.float64)
        w = rng.integers(-20, 21, (m, c, *kernel)).astype(np.int16)
        corr = off * w.reshape(m, -1).sum(axis=1, dtype=np.int64).astype(np.float64)
        xz, idx, out_hw = _windows_of(x, kernel, strides, dil, pads)
        ref = np.stack([_reference(xz[s][idx.reshape(-1, out_hw[0] * out_hw[1]).T], off, w.reshape(m, -1), corr, 2.0).T
                        for s in range(n)]).reshape(n, m, *out_hw)
        wc = int_gemm_c.Weights(w.transpose(0, 2, 3, 1).reshape(m, -1), corr)
        y = int_gemm_c.conv2d(x, kernel, strides, dil, pads, out_hw, off, wc, 2.0, path)
        assert_array_equal(y, ref)


def test_pack_interleaves_pairs_along_k():
    w = np.arange(1, 16 * 3 + 1, dtype=np.int16).reshape(16, 3)  # 16 outputs, K = 3 → 2 pairs (one zero)
    wp = int_gemm_c.pack(w)
    assert wp.shape == (1, 2, 16, 2)
    assert_array_equal(wp[0, 0, 4], w[4, :2])
    assert_array_equal(wp[0, 1, 4], [w[4, 2], 0])


def test_copied_weights_address_their_own_buffers():
    """A deep copy or an unpickled plan (another process) must not call the kernel with the original's addresses."""
    import copy
    import pickle

    w = np.arange(-20, 20, dtype=np.int16).reshape(5, 8)
    x = np.arange(24, dtype=np.float64).reshape(3, 8)
    original = int_gemm_c.Weights(w, np.ones(5))
    for twin in (copy.deepcopy(original), pickle.loads(pickle.dumps(original))):
        assert twin.args[0] == twin.wp.__array_interface__["data"][0] != original.args[0]
        assert_array_equal(int_gemm_c.dense(x, 0.0, twin, 1.0), _reference(x, 0, w, np.ones(5), 1.0))


def test_a_reduction_other_than_the_weights_is_refused_before_the_kernel_reads():
    w = int_gemm_c.Weights(np.ones((3, 8), np.int16), np.zeros(3))
    with pytest.raises(ValueError, match="7 columns, the weights 8"):
        int_gemm_c.dense(np.zeros((2, 7)), 0.0, w, 1.0)
    with pytest.raises(ValueError, match="reduce over 8"):
        int_gemm_c.conv2d(np.zeros((1, 3, 4, 4)), (1, 1), (1, 1), (1, 1), (0, 0, 0, 0), (4, 4), 0.0, w, 1.0)


def test_without_the_library_auto_returns_none_and_an_explicit_path_raises(monkeypatch):
    """A plan unpickled on a host without the extension falls back to BLAS (None), not a crash."""
    w = int_gemm_c.Weights(np.ones((3, 8), np.int16), np.zeros(3))
    monkeypatch.setattr(int_gemm_c, "_lib", lambda: None)
    assert int_gemm_c.dense(np.zeros((2, 8)), 0.0, w, 1.0) is None
    with pytest.raises(RuntimeError, match="not available"):
        int_gemm_c.dense(np.zeros((2, 8)), 0.0, w, 1.0, "scalar")
