"""Exact integer products of the plan (sim/plan_steps.py `Gemm`) as int16 × int16 → int32 dot products,
compiled with numba: faster than float64 BLAS once the reduction is long enough (LLVM vectorises the
dot product to multiply-adds of 16-bit pairs), and exact on every CPU (integer arithmetic).

An operand fits when its proven interval, shifted by an offset o, lies in int16: x' = x - o, so
x @ w = x' @ w + o·Σ_k w[k, m], the second term a per-output constant `corr` computed once. The
int32 accumulator is exact because the plan proves max|x'|·Σ|w| < 2^31 before choosing this kernel.
The result is written as floats, (acc + corr)·scale (scale the power of two the plan folds into the
weights on its float path), which is exact: every value is an integer below 2^53 times a power of two.
Without numba `dense` and `conv` return None and the plan keeps its float64 BLAS product.
"""

from __future__ import annotations

import numpy as np

from .jit import jit_module

INT32_LIMIT = 2 ** 31


def _rows16(x, off, x16):
    """x16[r, k] = x[r, k] - off for k < K (integer-valued floats whose shifted interval fits int16); the
    columns past K stay as they are (zeros: the padding of the reduction, see `padded`)."""
    for r in range(x.shape[0]):
        for k in range(x.shape[1]):
            x16[r, k] = np.int16(x[r, k] - off)


def _dots(a, w, acc):
    """acc[r, m] = Σ_k a[r, k]·w[m, k]: both operands contiguous in k, one reduction per output (numba
    sums the int32 products in int64; the plan's proven bound < 2^31 makes the int32 store exact; an
    integer destination keeps the reduction vectorised, a float one did not, 3x slower)."""
    for r in range(a.shape[0]):
        ar = a[r]
        for m in range(w.shape[0]):
            wm = w[m]
            s = np.int32(0)
            for k in range(a.shape[1]):
                s += np.int32(ar[k]) * np.int32(wm[k])
            acc[r, m] = s


def _dense(x, off, w, corr, scale, y):
    """y [R, M] = ((x - off) @ w.T + corr)·scale for x [R, K] (floats), w [M, KP] int16 (zero past K)."""
    x16 = np.zeros((x.shape[0], w.shape[1]), np.int16)
    _rows16(x, off, x16)
    acc = np.empty(y.shape, np.int32)
    _dots(x16, w, acc)
    for r in range(y.shape[0]):
        for m in range(y.shape[1]):
            y[r, m] = (acc[r, m] + corr[m]) * scale


def _conv(xz, idx, off, w, corr, scale, y):
    """Per sample n: the window matrix cols[p, k] = xz[n, idx[p, k]] - off in int16 (xz: the sample with
    one 0 appended, which the padding taps index), then y[n, m, p] = (cols @ w.T + corr)[p, m]·scale."""
    p_, k_ = idx.shape
    cols = np.zeros((p_, w.shape[1]), np.int16)  # the columns past K stay 0
    acc = np.empty((p_, w.shape[0]), np.int32)
    for n in range(xz.shape[0]):
        src = xz[n]
        for p in range(p_):
            ip, cp = idx[p], cols[p]
            for k in range(k_):
                cp[k] = np.int16(src[ip[k]] - off)
        _dots(cols, w, acc)
        yn = y[n]
        for m in range(w.shape[0]):
            c, ym = corr[m], yn[m]
            for p in range(p_):
                ym[p] = (acc[p, m] + c) * scale


def padded(k: int) -> int:
    """The reduction length the kernels run: K rounded up to a multiple of 64 with zero operands, so the
    vectorised loop has no scalar remainder (K = 144 → 192: 135 → 112 µs for 1,024 × 16 outputs; 288 →
    320: 411 → 321 µs for 1,024 × 32); zeros add nothing to the sums."""
    return -(-k // 64) * 64


def _compiled() -> bool:
    return jit_module(globals(), ("_rows16", "_dots"), ("_dense", "_conv"))


def int16_offset(lo: int, hi: int) -> int | None:
    """The offset o with [min(lo, 0) - o, max(hi, 0) - o] inside int16 (0 kept inside: a convolution's
    padding is the value 0), or None when the interval is wider than 16 bits."""
    lo, hi = min(lo, 0), max(hi, 0)
    if lo >= -2 ** 15 and hi < 2 ** 15:
        return 0
    return lo + 2 ** 15 if hi - lo < 2 ** 16 else None


def dense(x: np.ndarray, off: float, w16: np.ndarray, corr: np.ndarray, scale: float, dtype) -> np.ndarray | None:
    """x [R, K] @ weights as int16 [M, padded(K)]; None without numba."""
    if not _compiled():
        return None
    y = np.empty((x.shape[0], w16.shape[0]), dtype)
    _dense(np.ascontiguousarray(x), off, w16, corr, scale, y)
    return y


def conv(xz: np.ndarray, idx: np.ndarray, off: float, w16: np.ndarray, corr: np.ndarray, scale: float,
         out_shape, dtype) -> np.ndarray | None:
    """One-group 2-D convolution through the window index idx [P, K] (sim/conv_kernels.py), weights
    [M, padded(K)]; y [N, M, OH, OW]."""
    if not _compiled():
        return None
    y = np.empty((xz.shape[0], w16.shape[0], idx.shape[0]), dtype)
    _conv(xz, idx, off, w16, corr, scale, y)
    return y.reshape(out_shape)
