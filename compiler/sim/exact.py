"""Exact integer matrix products and convolutions, fast.

When every partial sum is below 2^53 the product is computed with float64 BLAS (exact there; below
2^24 with float32 BLAS, exact as well and twice as fast);
otherwise the left operand is split into limbs of L bits, each limb's product is exact in float64,
and the limbs are recombined in int64 (or Python ints when the result needs more than 63 bits).
The bound on the partial sums is max|a| · max|b| · K, from intervals the caller proves (the operands'
types) or else from one scan. Exactness is never traded for speed.

Grouped convolutions are direct: a depthwise one (one input channel per group) is a sum over the
kernel taps of shifted input views times per-channel weights; other groups are one batched matmul.
"""

from __future__ import annotations

import math

import numpy as np

from .float_ops import _conv_windows_matmul, _windows

_EXACT = 2 ** 53
_EXACT32 = 2 ** 24  # float32 sums of integers are exact below this, whatever the summation order

def max_abs(a: np.ndarray, bounds: tuple[int, int] | None = None) -> int:
    """max |a| from a proven interval, or from one scan."""
    if bounds is not None:
        return max(abs(int(bounds[0])), abs(int(bounds[1])))
    if a.size == 0:
        return 0
    return max(abs(int(a.max())), abs(int(a.min())))


def _float_type(bound: int):
    """The float type whose integer sums are exact up to `bound`, or None."""
    if bound < _EXACT32:
        return np.float32
    return np.float64 if bound < _EXACT else None


def _combine(parts: list[tuple[np.ndarray, int]], bound: int) -> np.ndarray:
    """Σ part << shift, in int64 when the bound allows, else as Python ints."""
    if bound < 2 ** 62:
        out = None
        for p, sh in parts:
            v = p.astype(np.int64) << sh
            out = v if out is None else out + v
        return out
    out = None
    for p, sh in parts:
        v = p.astype(np.int64).astype(object) * (1 << sh)
        out = v if out is None else out + v
    return out


def int_matmul(a: np.ndarray, b: np.ndarray, a_bounds=None, b_bounds=None) -> np.ndarray:
    """Exact a @ b for integer arrays a [..., K] and b [K, M] (mantissas, possibly object arrays).
    a_bounds, b_bounds: proven intervals of the operands (else one scan each)."""
    k = max(a.shape[-1], 1)
    ma, mb = max_abs(a, a_bounds), max_abs(b, b_bounds)
    ft = _float_type(ma * mb * k)
    if ft is not None:  # the float result holds exact integers: the conversion back is exact
        return np.matmul(a.astype(ft), b.astype(ft)).astype(np.int64)
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


def _depthwise(x: np.ndarray, w: np.ndarray, strides, dilations, pads, ft) -> np.ndarray:
    """y[n, m, o] = Σ_k x_pad[n, m // r, o·s + k·d] · w[m, 0, k] (r = M / C): one multiply-add per tap,
    channels last so numpy's inner loops run over the channels."""
    nd = w.ndim - 2
    r = w.shape[0] // x.shape[1]
    if r > 1:
        x = np.repeat(x, r, axis=1)
    last = (0,) + tuple(range(2, 2 + nd)) + (1,)
    xl = np.ascontiguousarray(x.astype(ft, copy=False).transpose(last))  # [N, *S, M]
    xl = np.pad(xl, [(0, 0)] + [(pads[i], pads[nd + i]) for i in range(nd)] + [(0, 0)])
    o = [(xl.shape[1 + i] - (w.shape[2 + i] - 1) * dilations[i] - 1) // strides[i] + 1 for i in range(nd)]
    wf = w.astype(ft).reshape(w.shape[0], -1)
    y = np.empty((x.shape[0], *o, w.shape[0]), ft)
    term = np.empty_like(y)
    for t, tap in enumerate(np.ndindex(*w.shape[2:])):
        view = xl[(slice(None),) + tuple(slice(k * d, k * d + (n - 1) * s + 1, s)
                                         for k, d, n, s in zip(tap, dilations, o, strides))]
        if t == 0:
            np.multiply(view, wf[:, t], out=y)
        else:
            np.add(y, np.multiply(view, wf[:, t], out=term), out=y)
    return y.transpose((0, 1 + nd) + tuple(range(1, 1 + nd)))


def _direct(x: np.ndarray, w: np.ndarray, strides, dilations, pads, ft) -> np.ndarray:
    """One group: y[n] = W [M, C·K] @ columns [C·K, O] per sample, in the NCHW layout (no transposes
    of the output); a 1×1 kernel with stride 1 and no padding needs no columns at all."""
    n, c = x.shape[:2]
    m, nd = w.shape[0], w.ndim - 2
    wf = w.astype(ft).reshape(m, -1)
    if all(k == 1 for k in w.shape[2:]) and all(s == 1 for s in strides) and not any(pads):
        return np.matmul(wf, x.astype(ft).reshape(n, c, -1)).reshape((n, m) + x.shape[2:])
    win = _windows(x.astype(ft, copy=False), w.shape[2:], strides, dilations, pads, 0)  # [N, C, *O, *K]
    o = win.shape[2:2 + nd]
    perm = (0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd))  # [N, C, *K, *O]
    cols = win.transpose(perm).reshape(n, wf.shape[1], math.prod(o))
    return np.matmul(wf, cols).reshape((n, m) + o)


def _grouped(x: np.ndarray, w: np.ndarray, strides, dilations, pads, group: int, ft) -> np.ndarray:
    """All groups in one batched matmul: windows [G, N·O, Cg·K] @ kernels [G, Cg·K, Mg]."""
    n, c = x.shape[:2]
    m, nd = w.shape[0], w.ndim - 2
    win = _windows(x.astype(ft, copy=False), w.shape[2:], strides, dilations, pads, 0)  # [N, C, *O, *K]
    o = win.shape[2:2 + nd]
    win = win.reshape((n, group, c // group) + win.shape[2:])
    # [N, G, Cg, *O, *K] -> [G, N, *O, Cg, *K]
    perm = (1, 0) + tuple(range(3, 3 + nd)) + (2,) + tuple(range(3 + nd, 3 + 2 * nd))
    cols = win.transpose(perm).reshape(group, n * math.prod(o), -1)
    kern = w.astype(ft).reshape(group, m // group, -1).transpose(0, 2, 1)
    y = np.matmul(cols, kern)  # [G, N·O, Mg]
    y = y.reshape((group, n) + o + (m // group,))
    # [G, N, *O, Mg] -> [N, G, Mg, *O]
    y = y.transpose((1, 0, 2 + nd) + tuple(range(2, 2 + nd)))
    return y.reshape((n, m) + o)


def int_conv(x: np.ndarray, w: np.ndarray, strides, dilations, pads, group: int,
             x_bounds=None, w_bounds=None) -> np.ndarray:
    """Exact N-D convolution of integer arrays x [N, C, *S] and w [M, C/g, *K] (zero padding).

    When every sum is below 2^53 this is one float convolution (exact); otherwise each output
    pixel's window is multiplied with `int_matmul`, limb by limb."""
    k = math.prod(w.shape[1:])
    ft = _float_type(max_abs(x, x_bounds) * max_abs(w, w_bounds) * max(k, 1))
    if ft is None:
        return _conv_windows_matmul(x, w, strides, dilations, pads, group, None, matmul=int_matmul)
    if group > 1 and w.shape[1] == 1:
        y = _depthwise(x, w, strides, dilations, pads, ft)
    elif group > 1:
        y = _grouped(x, w, strides, dilations, pads, group, ft)
    else:
        y = _direct(x, w, strides, dilations, pads, ft)
    return y.astype(np.int64)
