"""Weights as fixed-point mantissas at compile time: a power-of-two scale per tensor or per output channel."""

from __future__ import annotations

import math

import numpy as np

from ..ir.types import FixedType, Overflow, Rounding
from ..sim.fixed import from_float


def quantize_weights(w: np.ndarray, bits: int, per_channel_axis: int | None, ternary: bool):
    """(mantissas, FixedType, weight_shift | None). Power-of-two scale per tensor or per channel: the
    one of the four largest useful scales with the least squared error (round half to even, saturate);
    binary: ±2^round(log2(mean|w|)); ternary: {-1, 0, 1}·2^k with threshold 0.7·mean|w|."""
    w64 = w.astype(np.float64)
    if per_channel_axis is None:
        groups = [w64]
    else:
        groups = [np.take(w64, c, axis=per_channel_axis) for c in range(w.shape[per_channel_axis])]
    fracs, mants = [], []
    for g in groups:
        a = np.abs(g)
        if bits == 1 or ternary:
            if ternary:
                keep = a > 0.7 * a.mean() if a.size else a > 0
                mag = a[keep].mean() if keep.any() else 1.0
                m = np.sign(g) * keep
            else:
                mag = a.mean() if a.size and a.mean() > 0 else 1.0
                m = np.where(g >= 0, 1, -1)
            f = -int(round(math.log2(mag)))
            mants.append(m.astype(np.int64))
            fracs.append(f)
            continue
        mx = float(a.max()) if a.size else 0.0
        ib = math.floor(math.log2(mx)) + 2 if mx > 0 else 1
        best = None
        for clip in range(4):  # the range that covers max|w|, or 1-3 octaves less (saturating the largest weights)
            t = FixedType(bits, ib - clip, True, Rounding.RND_CONV, Overflow.SAT)
            m = from_float(g, t).astype(np.int64)
            err = float(((g - m * 2.0 ** -t.frac_bits) ** 2).sum())
            if best is None or err < best[0]:
                best = (err, m, t.frac_bits)
        mants.append(best[1])
        fracs.append(best[2])
    width = 2 if bits == 1 or ternary else bits
    fmax = max(fracs)
    t = FixedType(width, width - fmax, True, Rounding.RND_CONV, Overflow.SAT)
    if per_channel_axis is None:
        return mants[0], t, None
    m = np.stack(mants, axis=per_channel_axis)
    shifts = [fmax - f for f in fracs]
    return m, t, (shifts if any(shifts) else None)
