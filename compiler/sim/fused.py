"""The common output chain of a plan step, y = clip(round(y·m + c)·m2, lo, hi), in one compiled pass (numba).

m and m2 are powers of two (or 1), c a scalar or one constant per output channel, round one of the functions
of sim/float_chain.py; every value is an integer (or a multiple of 2^-s below 2^53) held exactly in the
float type, so y·m, + c, floor/ceil/rint/trunc and the clip are exact, and the kernel returns the same
integers as numpy's passes on any CPU (numba compiles for the host's instruction set; exact operations
have no ISA-dependent result). Without numba (the `fast` extra), `fuse` returns None and the plan runs
the same chain as numpy passes (`float_chain.run_steps`).
"""

from __future__ import annotations

import math

import numpy as np

from ..ir.types import FixedType, Overflow, Rounding

from .jit import jit_module

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


def _one(v, c1, wrap, inv, off, m, c2, code, lo, hi, w, m2):
    v = v + c1
    if w:  # v - 2^W·floor((v + o)·2^-W); inv = 2^-W exactly, so the product equals the quotient
        v = v - wrap * np.floor((v + off) * inv)
    return min(max(_round(v * m + c2, code) * m2, lo), hi)


def _last_k(y, c1, wrap, inv, off, m, c2, code, lo, hi, w, m2):
    for i in range(y.shape[0]):
        for j in range(y.shape[1]):
            y[i, j] = _one(y[i, j], c1[j], wrap, inv, off, m, c2[j], code, lo, hi, w, m2)


def _mid_k(y, c1, wrap, inv, off, m, c2, code, lo, hi, w, m2):
    for i in range(y.shape[0]):
        for j in range(y.shape[1]):
            a, b = c1[j], c2[j]
            for k in range(y.shape[2]):
                y[i, j, k] = _one(y[i, j, k], a, wrap, inv, off, m, b, code, lo, hi, w, m2)


# The loops above are inlined once per (rounding, wrap) with both as literal constants: LLVM then folds
# the rounding switch and vectorises the loop (~1.6x faster than one loop that switches per element).
def _last(y, c1, wrap, off, m, c2, code, lo, hi, m2):
    """y [R, M], c1 and c2 [M]: the channel is the last axis."""
    inv = (wrap * 0 + 1) / wrap if wrap else wrap  # one division per call, not per element
    if wrap:
        if code == 0:
            _last_k(y, c1, wrap, inv, off, m, c2, 0, lo, hi, True, m2)
        elif code == 1:
            _last_k(y, c1, wrap, inv, off, m, c2, 1, lo, hi, True, m2)
        elif code == 2:
            _last_k(y, c1, wrap, inv, off, m, c2, 2, lo, hi, True, m2)
        elif code == 3:
            _last_k(y, c1, wrap, inv, off, m, c2, 3, lo, hi, True, m2)
        elif code == 4:
            _last_k(y, c1, wrap, inv, off, m, c2, 4, lo, hi, True, m2)
        elif code == 5:
            _last_k(y, c1, wrap, inv, off, m, c2, 5, lo, hi, True, m2)
        else:
            _last_k(y, c1, wrap, inv, off, m, c2, 6, lo, hi, True, m2)
    else:
        if code == 0:
            _last_k(y, c1, wrap, inv, off, m, c2, 0, lo, hi, False, m2)
        elif code == 1:
            _last_k(y, c1, wrap, inv, off, m, c2, 1, lo, hi, False, m2)
        elif code == 2:
            _last_k(y, c1, wrap, inv, off, m, c2, 2, lo, hi, False, m2)
        elif code == 3:
            _last_k(y, c1, wrap, inv, off, m, c2, 3, lo, hi, False, m2)
        elif code == 4:
            _last_k(y, c1, wrap, inv, off, m, c2, 4, lo, hi, False, m2)
        elif code == 5:
            _last_k(y, c1, wrap, inv, off, m, c2, 5, lo, hi, False, m2)
        else:
            _last_k(y, c1, wrap, inv, off, m, c2, 6, lo, hi, False, m2)


def _mid(y, c1, wrap, off, m, c2, code, lo, hi, m2):
    """y [N, M, P], c1 and c2 [M]: the channel is the middle axis."""
    inv = (wrap * 0 + 1) / wrap if wrap else wrap
    if wrap:
        if code == 0:
            _mid_k(y, c1, wrap, inv, off, m, c2, 0, lo, hi, True, m2)
        elif code == 1:
            _mid_k(y, c1, wrap, inv, off, m, c2, 1, lo, hi, True, m2)
        elif code == 2:
            _mid_k(y, c1, wrap, inv, off, m, c2, 2, lo, hi, True, m2)
        elif code == 3:
            _mid_k(y, c1, wrap, inv, off, m, c2, 3, lo, hi, True, m2)
        elif code == 4:
            _mid_k(y, c1, wrap, inv, off, m, c2, 4, lo, hi, True, m2)
        elif code == 5:
            _mid_k(y, c1, wrap, inv, off, m, c2, 5, lo, hi, True, m2)
        else:
            _mid_k(y, c1, wrap, inv, off, m, c2, 6, lo, hi, True, m2)
    else:
        if code == 0:
            _mid_k(y, c1, wrap, inv, off, m, c2, 0, lo, hi, False, m2)
        elif code == 1:
            _mid_k(y, c1, wrap, inv, off, m, c2, 1, lo, hi, False, m2)
        elif code == 2:
            _mid_k(y, c1, wrap, inv, off, m, c2, 2, lo, hi, False, m2)
        elif code == 3:
            _mid_k(y, c1, wrap, inv, off, m, c2, 3, lo, hi, False, m2)
        elif code == 4:
            _mid_k(y, c1, wrap, inv, off, m, c2, 4, lo, hi, False, m2)
        elif code == 5:
            _mid_k(y, c1, wrap, inv, off, m, c2, 5, lo, hi, False, m2)
        else:
            _mid_k(y, c1, wrap, inv, off, m, c2, 6, lo, hi, False, m2)


def _quantize(x, scale, code, lo2, hi2, lo, hi, y):
    """fixed.from_float's scaled path (`_from_float_scaled`) element by element: v = clip(x·2^f, lo - 2,
    hi + 2), fl = floor(v), + the rounding increment from exact comparisons with fl + 1/2, then the
    saturation. Returns False when some nonzero |x| < 2^-700 (the vendors differ there) or some x is NaN or
    infinite (the reference raises): the caller then runs the reference; no early exit, so the loop vectorises."""
    bad = False
    for i in range(x.size):
        xv = np.float64(x[i])
        bad |= ((xv != 0.0) & (abs(xv) < 2.0 ** -700)) | (xv != xv) | (abs(xv) == np.inf)  # NaN, inf: the reference raises
        v = min(max(xv * scale, lo2), hi2)
        fl = np.floor(v)
        h = fl + 0.5
        up = False  # bitwise & and |, no short-circuit: data-dependent branches mispredict
        if code == 1:  # TRN_ZERO
            up = (v != fl) & (v < 0)
        elif code == 2:  # RND
            up = v >= h
        elif code == 3:  # RND_ZERO
            up = (v > h) | ((v == h) & (v < 0))
        elif code == 4:  # RND_INF
            up = (v > h) | ((v == h) & (v >= 0))
        elif code == 5:  # RND_MIN_INF
            up = v > h
        elif code == 6:  # RND_CONV
            up = (v > h) | ((v == h) & (np.fmod(fl, 2.0) != 0))
        fl += np.float64(up)
        y[i] = min(max(fl, lo), hi)
    return not bad


def _compiled() -> bool:
    return jit_module(globals(), ("_round", "_one", "_last_k", "_mid_k"), ("_quantize", "_last", "_mid"))


def fuse(steps: list[tuple], dtype) -> tuple | None:
    """The kernel's arguments when the chain is [add c1][wrap][mul m][add c2][round][mul m2][clip] (each part
    optional, in that order; c1, c2 scalars or per channel) and numba is installed, else None."""
    if not steps or not _compiled():
        return None
    rest = list(steps)

    def take(kind, default):
        return rest.pop(0)[1:] if rest and rest[0][0] == kind else default

    (c1,) = take("add", (0.0,))
    wrap, off = take("wrap", (0, 0))
    (m,) = take("mul", (1.0,))
    (c2,) = take("add", (0.0,))
    (fn,) = take("round", (None,))
    (m2,) = take("mul", (1.0,)) if fn is not None else (1.0,)
    lo, hi = take("clip", (-math.inf, math.inf))
    if rest or np.ndim(m) or np.ndim(m2):
        return None
    c1, c2 = np.asarray(c1, dtype), np.asarray(c2, dtype)
    shape = c1.shape if c1.ndim else c2.shape
    kind = "scalar" if not shape else ("last" if len(shape) == 1 else "mid")
    c1, c2 = (np.broadcast_to(c, shape).reshape(-1).copy() for c in (c1, c2))
    return (kind, c1, dtype(2.0 ** wrap if wrap else 0), dtype(off), dtype(m), c2, _CODES.get(fn, 0),
            dtype(lo), dtype(hi), dtype(m2))


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


_FROM_FLOAT = {Rounding.TRN: 0, Rounding.TRN_ZERO: 1, Rounding.RND: 2, Rounding.RND_ZERO: 3, Rounding.RND_INF: 4,
               Rounding.RND_MIN_INF: 5, Rounding.RND_CONV: 6}


def from_float(x: np.ndarray, dst: FixedType) -> np.ndarray | None:
    """Mantissas of dst for float64 values x, as float64, in one pass: the cases where
    `fixed._from_float_scaled` applies (SAT or SAT_SYM, width <= 52, |frac_bits| <= 120, no nonzero
    |x| < 2^-700), else None (the caller runs `fixed.from_float`)."""
    ov = dst.overflow
    if dst.width > 52 or ov not in (Overflow.SAT, Overflow.SAT_SYM) or abs(dst.frac_bits) > 120:
        return None
    if not _compiled():
        return None
    lo = -dst.max_mantissa if ov is Overflow.SAT_SYM and dst.signed else dst.min_mantissa
    x = np.ascontiguousarray(x, x.dtype if x.dtype in (np.float32, np.float64) else np.float64)  # exact
    y = np.empty(x.shape, np.float64)
    ok = _quantize(x.reshape(-1), 2.0 ** dst.frac_bits, _FROM_FLOAT[dst.rounding], float(dst.min_mantissa - 2),
                   float(dst.max_mantissa + 2), float(lo), float(dst.max_mantissa), y.reshape(-1))
    return y if ok else None
