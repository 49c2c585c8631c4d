"""2-D convolution helpers of the plan on integer-valued floats, compiled with numba when installed:
the window matrix of a chunk (im2col, as MLAS builds it, here one gather per sample through an index
built once per shape) for one exact float GEMM per sample,
`depthwise` (a direct depthwise/channel-multiplier convolution, no window copies), `max_pool`.

Exact on any CPU: every product and partial sum is an integer below the float type's 2^24 / 2^53 limit
(the plan proves max|x|·Σ|w| below it), so no summation order can round. Without numba both return
None and the plan uses the numpy versions in sim/exact.py.
"""

from __future__ import annotations

import numpy as np

from . import int_gemm, int_gemm_c
from .jit import jit_module


def _gather(xz, idx, cols):
    """cols[n, k] = xz[n, idx[k]]: the window matrix of each sample as one branch-free gather (xz: the
    sample's values with one 0 appended, which the padding taps index)."""
    for n in range(xz.shape[0]):
        src, dst = xz[n], cols[n]
        for k in range(idx.size):
            dst[k] = src[idx[k]]


_INDEX: dict[tuple, np.ndarray] = {}


def _im2col_index(c, h, w, kh, kw, sh, sw, dh, dw, ph, pw, oh, ow, patch_major=False) -> np.ndarray:
    """For row (c·KH + i)·KW + j, column a·OW + b: the flat index of x[c, a·sh + i·dh - ph, b·sw + j·dw - pw]
    in a sample, or c·h·w (the appended 0) outside; built once per shape (~3x faster than bounds checks
    per element on small planes). patch_major: its transpose [OH·OW, C·KH·KW], contiguous."""
    key = (c, h, w, kh, kw, sh, sw, dh, dw, ph, pw, oh, ow, patch_major)
    if patch_major and key not in _INDEX:
        _INDEX[key] = np.ascontiguousarray(_im2col_index(*key[:-1]).reshape(-1, oh * ow).T)
    if key not in _INDEX:
        ci, i, j, a, b = np.ix_(range(c), range(kh), range(kw), range(oh), range(ow))
        ih, iw = a * sh + i * dh - ph, b * sw + j * dw - pw
        ok = (ih >= 0) & (ih < h) & (iw >= 0) & (iw < w)
        _INDEX[key] = np.where(ok, (ci * h + ih) * w + iw, c * h * w).reshape(-1).astype(np.intp)
    return _INDEX[key]


def _taps3x3(xp, wt, m, dh, dw, wp, acc):
    """acc[t] = Σ_ij xp[t + i·dh·wp + j·dw]·wt[m, i, j] for a 3x3 kernel: the nine taps summed in registers,
    one store per output (the general loop loads and stores acc once per tap); views indexed by range()
    values, so no negative-index handling blocks LLVM's vectorisation."""
    n = acc.size
    r1, r2 = dh * wp, 2 * dh * wp
    a0, a1, a2 = xp[0:n], xp[dw:dw + n], xp[2 * dw:2 * dw + n]
    b0, b1, b2 = xp[r1:r1 + n], xp[r1 + dw:r1 + dw + n], xp[r1 + 2 * dw:r1 + 2 * dw + n]
    c0, c1, c2 = xp[r2:r2 + n], xp[r2 + dw:r2 + dw + n], xp[r2 + 2 * dw:r2 + 2 * dw + n]
    w00, w01, w02 = wt[m, 0, 0], wt[m, 0, 1], wt[m, 0, 2]
    w10, w11, w12 = wt[m, 1, 0], wt[m, 1, 1], wt[m, 1, 2]
    w20, w21, w22 = wt[m, 2, 0], wt[m, 2, 1], wt[m, 2, 2]
    for t in range(n):
        acc[t] = (a0[t] * w00 + a1[t] * w01 + a2[t] * w02 + b0[t] * w10 + b1[t] * w11 + b2[t] * w12
                  + c0[t] * w20 + c1[t] * w21 + c2[t] * w22)


def _depthwise(x, wt, r, sh, sw, dh, dw, ph, pw, y):
    """y[n, m, a, b] = Σ_ij x[n, m // r, a·sh + i·dh - ph, b·sw + j·dw - pw] · wt[m, i, j] (0 outside).
    Each input plane is copied once, row by row, into the interior of a zero-padded flat buffer; with
    stride 1 every tap is then one contiguous multiply-add over the output rows at the padded width (the
    extra columns are dropped when the rows are copied out). Exact in any order: integers below the
    float type's limit."""
    n_, c_, h, w = x.shape
    m_, kh, kw = wt.shape
    oh, ow = y.shape[2], y.shape[3]
    hp, wp = (oh - 1) * sh + (kh - 1) * dh + 1, (ow - 1) * sw + (kw - 1) * dw + 1
    xp = np.zeros(hp * wp + (kw - 1) * dw + 1, x.dtype)  # the padding stays 0: every plane writes the same cells
    acc = np.empty(oh * wp, x.dtype)
    hh, ww = min(h, hp - ph), min(w, wp - pw)
    for n in range(n_):
        for c in range(c_):
            xc = x[n, c]
            for ih in range(hh):  # row views: no per-element 4-D index arithmetic (~2x on DS-CNN's 25x5 planes)
                dst, src = xp[(ih + ph) * wp + pw:(ih + ph) * wp + pw + ww], xc[ih]
                for iw in range(ww):
                    dst[iw] = src[iw]
            for q in range(r):
                m = c * r + q
                ym = y[n, m]
                if sh == 1 and sw == 1:
                    if kh == 3 and kw == 3:
                        _taps3x3(xp, wt, m, dh, dw, wp, acc)
                    else:
                        acc[:] = 0.0
                        for i in range(kh):
                            for j in range(kw):
                                wv, off = wt[m, i, j], i * dh * wp + j * dw
                                src = xp[off:off + oh * wp]  # a view: indices from range() let LLVM vectorise
                                for t in range(oh * wp):
                                    acc[t] += src[t] * wv
                    for a in range(oh):
                        src, dst = acc[a * wp:a * wp + ow], ym[a]
                        for b in range(ow):
                            dst[b] = src[b]
                else:
                    for a in range(oh):
                        for b in range(ow):
                            s = 0.0
                            for i in range(kh):
                                for j in range(kw):
                                    s += xp[(a * sh + i * dh) * wp + b * sw + j * dw] * wt[m, i, j]
                            ym[a, b] = s


def _depthwise_cl(x, wt, r, sh, sw, dh, dw, ph, pw, y):
    """The same sum vectorised over the output channels (wt [KH, KW, M]): each sample is copied once into
    a zero-padded channels-last buffer [HP, WP, M] (input channel c repeated r times), every output pixel
    sums its taps as contiguous channel vectors, and the result is written back channels-first: for strided
    kernels, where the per-plane kernel has no contiguous tap rows (~3x faster on 64 channels of 25x5)."""
    n_, c_, h, w = x.shape
    kh, kw, m_ = wt.shape
    oh, ow = y.shape[2], y.shape[3]
    hp, wp = (oh - 1) * sh + (kh - 1) * dh + 1, (ow - 1) * sw + (kw - 1) * dw + 1
    xb = np.zeros((hp, wp, m_), x.dtype)  # the padding stays 0: every sample writes the same cells
    acc = np.empty((oh, ow, m_), x.dtype)
    hh, ww = min(h, hp - ph), min(w, wp - pw)
    for n in range(n_):
        for c in range(c_):
            for ih in range(hh):
                for iw in range(ww):
                    v = x[n, c, ih, iw]
                    for q in range(r):
                        xb[ih + ph, iw + pw, c * r + q] = v
        for a in range(oh):
            for b in range(ow):
                s = acc[a, b]
                s[:] = 0.0
                for i in range(kh):
                    for j in range(kw):
                        src, wv = xb[a * sh + i * dh, b * sw + j * dw], wt[i, j]
                        for m in range(m_):
                            s[m] += src[m] * wv[m]
        for m in range(m_):
            for a in range(oh):
                for b in range(ow):
                    y[n, m, a, b] = acc[a, b, m]


def _maxpool(x, kh, kw, sh, sw, dh, dw, ph, pw, y):
    """y[n, c, a, b] = max over the in-bounds taps of x[n, c, a·sh + i·dh - ph, b·sw + j·dw - pw]: each
    plane is copied once into a -inf-padded buffer, then the taps run without bounds checks or branches."""
    n_, c_, h, w = x.shape
    oh, ow = y.shape[2], y.shape[3]
    hp, wp = (oh - 1) * sh + (kh - 1) * dh + 1, (ow - 1) * sw + (kw - 1) * dw + 1
    xp = np.full((hp, wp), -np.inf, x.dtype)
    for n in range(n_):
        for c in range(c_):
            for u in range(max(0, ph), min(hp, h + ph)):
                for v in range(max(0, pw), min(wp, w + pw)):
                    xp[u, v] = x[n, c, u - ph, v - pw]
            for a in range(oh):
                for b in range(ow):
                    m = xp[a * sh, b * sw]
                    for i in range(kh):
                        for j in range(kw):
                            m = max(m, xp[a * sh + i * dh, b * sw + j * dw])
                    y[n, c, a, b] = m


def _maxpool2(x, y):
    """The 2x2, stride-2 window maximum over planes x [P, H, W] into y [P, OH, OW] with 2·OH <= H and
    2·OW <= W (no padding, no partial window): fixed taps, so LLVM vectorises the row loop (~6x faster
    than the general kernel's runtime-sized tap loops). Compare-select, exact: the values are numbers."""
    for p in range(x.shape[0]):
        for a in range(y.shape[1]):
            r0, r1, yr = x[p, 2 * a], x[p, 2 * a + 1], y[p, a]
            for b in range(y.shape[2]):
                u, v, s, q = r0[2 * b], r0[2 * b + 1], r1[2 * b], r1[2 * b + 1]
                u = u if u > v else v
                s = s if s > q else q
                yr[b] = u if u > s else s


def _compiled() -> bool:
    return jit_module(globals(), ("_taps3x3",), ("_maxpool", "_maxpool2", "_gather", "_depthwise", "_depthwise_cl"))


def _out_size(x, w, strides, dilations, pads):
    return [(x.shape[2 + i] + pads[i] + pads[2 + i] - (w.shape[2 + i] - 1) * dilations[i] - 1) // strides[i] + 1
            for i in range(2)]


def _windows_of(x, kshape, strides, dilations, pads, patch_major=False):
    """(the samples flattened with one 0 appended [N, C·H·W + 1], the im2col index, (OH, OW))."""
    oh, ow = _out_size(x, np.empty((1, 1, *kshape)), strides, dilations, pads)
    n, c, h, w = x.shape
    idx = _im2col_index(c, h, w, kshape[0], kshape[1], strides[0], strides[1], dilations[0], dilations[1],
                        pads[0], pads[1], oh, ow, patch_major)
    xz = np.empty((n, c * h * w + 1), x.dtype)
    xz[:, :-1] = x.reshape(n, -1)
    xz[:, -1] = 0.0
    return xz, idx, (oh, ow)


def conv_int16(x, w16, kshape, strides, dilations, pads, off, corr, scale, dtype, wc=None):
    """One group through int16 products: the C kernel when its weights wc (int_gemm_c.Weights) are given
    (sim/int_gemm_c.py, windows taken channels-last), else the numba dot products on w16 (sim/int_gemm.py,
    the window matrix built per sample patch-major, cols[p, k]); None without either or for other than 2-D."""
    if x.ndim != 4:
        return None
    if wc is not None:
        out_hw = _out_size(x, np.empty((1, 1, *kshape)), strides, dilations, pads)
        return int_gemm_c.conv2d(x, kshape, strides, dilations, pads, out_hw, off, wc, scale)
    if not _compiled():
        return None
    xz, idx, (oh, ow) = _windows_of(x, kshape, strides, dilations, pads, patch_major=True)
    return int_gemm.conv(xz, idx, off, w16, corr, scale, (x.shape[0], w16.shape[0], oh, ow), dtype)


def conv_direct(x, w2, kshape, strides, dilations, pads):
    """One group: W [M, C·KH·KW] @ cols [N, C·KH·KW, OH·OW] -> [N, M, OH, OW]; None without numba or
    for other than 2-D."""
    if x.ndim != 4 or not _compiled():
        return None
    n = x.shape[0]
    xz, idx, (oh, ow) = _windows_of(x, kshape, strides, dilations, pads)
    cols = np.empty((n, w2.shape[1], oh * ow), x.dtype)
    _gather(xz, idx, cols.reshape(n, -1))
    return np.matmul(w2, cols).reshape(x.shape[0], w2.shape[0], oh, ow)


def conv_depthwise(x, wt, strides, dilations, pads):
    """Depthwise (one input channel per group, M = r·C) with weights wt [M, KH, KW]; None without numba
    or for other than 2-D."""
    if x.ndim != 4 or not _compiled():
        return None
    oh, ow = _out_size(x, wt[:, None], strides, dilations, pads)
    y = np.empty((x.shape[0], wt.shape[0], oh, ow), x.dtype)
    strided = strides[0] > 1 or strides[1] > 1  # channels-last: ~3x faster there (no contiguous tap rows)
    (_depthwise_cl if strided else _depthwise)(
        np.ascontiguousarray(x), np.ascontiguousarray(wt.transpose(1, 2, 0)) if strided else wt,
        wt.shape[0] // x.shape[1], strides[0], strides[1], dilations[0], dilations[1], pads[0], pads[1], y)
    return y


def max_pool(x, kshape, strides, dilations, pads, out_hw):
    """2-D max pooling into the output size the node's type gives (ceil_mode included: a window past
    the end takes the taps it has); None without numba or for other than 2-D."""
    if x.ndim != 4 or not _compiled():
        return None
    y = np.empty((*x.shape[:2], *out_hw), x.dtype)
    if (list(kshape) == [2, 2] and list(strides) == [2, 2] and list(dilations) == [1, 1] and not any(pads)
            and 2 * out_hw[0] <= x.shape[2] and 2 * out_hw[1] <= x.shape[3]):
        _maxpool2(np.ascontiguousarray(x).reshape(-1, *x.shape[2:]), y.reshape(-1, *out_hw))
        return y
    _maxpool(np.ascontiguousarray(x), kshape[0], kshape[1], strides[0], strides[1], dilations[0], dilations[1],
             pads[0], pads[1], y)
    return y
