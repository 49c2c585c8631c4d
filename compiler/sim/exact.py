"""Exact integer matrix products and convolutions, fast.

When every partial sum is below 2^53 the product is computed with float64 BLAS (exact there; below
2^24 with float32 BLAS, exact as well and twice as fast);
otherwise the left operand is split into limbs of L bits, each limb's product is exact in float64,
and the limbs are recombined in int64 (or Python ints when the result needs more than 63 bits).
Exactness is never traded for speed.
"""

from __future__ import annotations

import math

import numpy as np

from .float_ops import _conv_windows_matmul

_EXACT = 2.0 ** 53
_EXACT32 = 2.0 ** 24  # float32 sums of integers are exact below this, whatever the summation order


def _max_abs(a: np.ndarray) -> int:
    if a.size == 0:
        return 0
    return max(abs(int(a.max())), abs(int(a.min())))


def _combine(parts: list[tuple[np.ndarray, int]], bound: int) -> np.ndarray:
    """Σ part << shift, in int64 when the bound allows, else as Python ints."""
    if bound < 2 ** 62:
        out = None
        for p, sh in parts:
            v = np.rint(p).astype(np.int64) << sh
            out = v if out is None else out + v
        return out
    out = None
    for p, sh in parts:
        v = np.rint(p).astype(np.int64).astype(object) * (1 << sh)
        out = v if out is None else out + v
    return out


def int_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact a @ b for integer arrays a [..., K] and b [K, M] (mantissas, possibly object arrays)."""
    k = max(a.shape[-1], 1)
    ma, mb = _max_abs(a), _max_abs(b)
    if ma * mb * k < _EXACT:
        ft = np.float32 if ma * mb * k < _EXACT32 else np.float64
        return np.rint(np.matmul(a.astype(ft), b.astype(ft))).astype(np.int64)
    if mb * k * 2 >= _EXACT:  # b alone is too wide for float64 limbs: Python ints (rare, slow)
        return np.matmul(a.astype(object), b.astype(object))
    limb = int(math.floor(math.log2(_EXACT / (mb * k))))
    # a = sum_j d_j * 2^(j*limb): low digits in [0, 2^limb), the top digit signed and small
    digits = -(-(ma.bit_length() + 1) // limb)
    mask = (1 << limb) - 1
    bf = b.astype(np.float64)
    parts = []
    for j in range(digits):
        d = a >> (j * limb)
        if j < digits - 1:
            d = d & mask
        parts.append((np.matmul(d.astype(np.float64), bf), j * limb))
    return _combine(parts, ma * mb * k)


def int_conv(x: np.ndarray, w: np.ndarray, strides, dilations, pads, group: int) -> np.ndarray:
    """Exact N-D convolution of integer arrays x [N, C, *S] and w [M, C/g, *K] (zero padding).

    When every sum is below 2^53 this is one float64 convolution (exact); otherwise each output
    pixel's window is multiplied with `int_matmul`, limb by limb."""
    k = math.prod(w.shape[1:])
    bound = _max_abs(x) * _max_abs(w) * max(k, 1)
    if bound < _EXACT:
        ft = np.float32 if bound < _EXACT32 else np.float64
        y = _conv_windows_matmul(x.astype(ft), w.astype(ft), strides, dilations, pads, group, ft)
        return np.rint(y).astype(np.int64)
    return _conv_windows_matmul(x, w, strides, dilations, pads, group, None, matmul=int_matmul)
