"""The common output chain of a plan step, y = clip(round(y·m + c), lo, hi), in one compiled pass (numba).

m is a power of two (or 1), c a scalar or one constant per output channel, round one of the functions
of sim/float_chain.py; every value is an integer (or a multiple of 2^-s below 2^53) held exactly in the
float type, so y·m, + c, floor/ceil/rint/trunc and the clip are exact, and the kernel returns the same
integers as numpy's passes on any CPU (numba compiles for the host's instruction set; exact operations
have no ISA-dependent result). Without numba (the `fast` extra), `fuse` returns None and the plan runs
the same chain as numpy passes (`float_chain.run_steps`).
"""

from __future__ import annotations

import math

import numpy as np

try:
    import numba
except ImportError:  # the numpy passes run instead
    numba = None

_CODES = {"floor": 1, "ceil": 2, "rint": 3, "trunc": 4, "half_away": 5, "half_zero": 6}


def _round(v, code):
    if code == 1:
        return np.floor(v)
    if code == 2:
        return np.ceil(v)
    if code == 3:
        return np.rint(v)
    if code == 4:
        return np.trunc(v)
    if code == 5:
        return math.copysign(np.floor(abs(v) + 0.5), v)
    if code == 6:
        return math.copysign(np.ceil(abs(v) - 0.5), v)
    return v


def _one(v, c1, wrap, off, m, c2, code, lo, hi):
    v = v + c1
    if wrap:  # v - 2^W·floor((v + o)·2^-W)
        v = v - wrap * np.floor((v + off) / wrap)
    return min(max(_round(v * m + c2, code), lo), hi)


def _last(y, c1, wrap, off, m, c2, code, lo, hi):
    """y [R, M], c1 and c2 [M]: the channel is the last axis."""
    for i in range(y.shape[0]):
        for j in range(y.shape[1]):
            y[i, j] = _one(y[i, j], c1[j], wrap, off, m, c2[j], code, lo, hi)


def _mid(y, c1, wrap, off, m, c2, code, lo, hi):
    """y [N, M, P], c1 and c2 [M]: the channel is the middle axis."""
    for i in range(y.shape[0]):
        for j in range(y.shape[1]):
            a, b = c1[j], c2[j]
            for k in range(y.shape[2]):
                y[i, j, k] = _one(y[i, j, k], a, wrap, off, m, b, code, lo, hi)


if numba is not None:
    _round = numba.njit(inline="always", cache=True)(_round)
    _one = numba.njit(inline="always", cache=True)(_one)
    _last = numba.njit(cache=True)(_last)
    _mid = numba.njit(cache=True)(_mid)


def fuse(steps: list[tuple], dtype) -> tuple | None:
    """The kernel's arguments when the chain is [add c1][wrap][mul m][add c2][round][clip] (each part
    optional, in that order; c1, c2 scalars or per channel) and numba is installed, else None."""
    if numba is None or not steps:
        return None
    rest = list(steps)

    def take(kind, default):
        return rest.pop(0)[1:] if rest and rest[0][0] == kind else default

    (c1,) = take("add", (0.0,))
    wrap, off = take("wrap", (0, 0))
    (m,) = take("mul", (1.0,))
    (c2,) = take("add", (0.0,))
    (fn,) = take("round", (None,))
    lo, hi = take("clip", (-math.inf, math.inf))
    if rest or np.ndim(m):
        return None
    c1, c2 = np.asarray(c1, dtype), np.asarray(c2, dtype)
    shape = c1.shape if c1.ndim else c2.shape
    kind = "scalar" if not shape else ("last" if len(shape) == 1 else "mid")
    c1, c2 = (np.broadcast_to(c, shape).reshape(-1).copy() for c in (c1, c2))
    return (kind, c1, dtype(2.0 ** wrap if wrap else 0), dtype(off), dtype(m), c2, _CODES.get(fn, 0),
            dtype(lo), dtype(hi))


def run_fused(y: np.ndarray, args: tuple) -> np.ndarray:
    kind, c1 = args[0], args[1]
    y = np.ascontiguousarray(y)  # the kernels write through a reshaped view
    if kind == "last":
        _last(y.reshape(-1, c1.size), *args[1:])
    elif kind == "mid":
        _mid(y.reshape(y.shape[0], c1.size, -1), *args[1:])
    else:
        _mid(y.reshape(1, 1, -1), *args[1:])
    return y
