"""Fixed-point casts as a chain of in-place numpy steps on integer-valued float arrays (the fast simulator).

A mantissa m of a fixed type is held as the float m (float32 when every value of the chain stays below
2^24, float64 below 2^53): sums, products by powers of two and floor/ceil/rint/trunc of such floats are
exact, so the result is the integer the reference `fixed.cast` computes, whatever the CPU or summation
order. Casting m (src_frac_bits) to dst with s = src_frac_bits - dst.frac_bits dropped bits is
v = m·2^-s, then one rounding function (below), then the overflow step:

    TRN floor(v)   RND floor(v + 1/2)   RND_MIN_INF ceil(v - 1/2)   RND_CONV rint(v) (ties to even)
    TRN_ZERO trunc(v)   RND_INF / RND_ZERO: the sign-free form (floor(v + 1/2), ceil(v - 1/2)) when the
    proven interval has one sign, else copysign(floor(|v| + 1/2), v) / copysign(ceil(|v| - 1/2), v)
    SAT clip(lo, hi)   SAT_SYM clip(-hi, hi)   SAT_ZERO 0 outside [lo, hi]   WRAP v - 2^W·floor((v + o)·2^-W)

Steps are ("mul", c) (c a power of two or an integer), ("add", c) (scalar or per-channel), ("round", fn),
("clip", lo, hi), ("zero", lo, hi), ("wrap", W, o). `simplify` moves every clip to the end of the chain
(each other step is monotone: round(clip(v, a, b)) = clip(round(v), round(a), round(b))) and merges
neighbours, so a Dense + ReLU + cast is one GEMM, one add, one floor and one clip; a leading "mul" is
folded into the weights by the caller (x @ (w·2^k) = (x @ w)·2^k exactly).
"""

from __future__ import annotations

import math

import numpy as np

from ..ir.types import FixedType, Overflow, Rounding

_ROUND = {  # rounding -> (added constant, function), for values that may have either sign
    Rounding.TRN: (0.0, "floor"), Rounding.RND: (0.5, "floor"), Rounding.RND_MIN_INF: (-0.5, "ceil"),
    Rounding.RND_CONV: (0.0, "rint"), Rounding.TRN_ZERO: (0.0, "trunc"),
    Rounding.RND_INF: (0.0, "half_away"), Rounding.RND_ZERO: (0.0, "half_zero"),
}
_ONE_SIGN = {  # sign-dependent modes when the interval is >= 0 / <= 0
    Rounding.TRN_ZERO: ((0.0, "floor"), (0.0, "ceil")),
    Rounding.RND_INF: ((0.5, "floor"), (-0.5, "ceil")),
    Rounding.RND_ZERO: ((-0.5, "ceil"), (0.5, "floor")),
}


def cast_steps(s: int, dst: FixedType, lo: int, hi: int, raw: int) -> tuple[list[tuple], tuple[int, int], int, int]:
    """Steps casting mantissas in the proven interval [lo, hi] with s dropped bits (s < 0: appended) to
    dst. raw: the largest magnitude the array may hold before the clips that `simplify` moves to the end.
    Returns (steps, proven interval of the result, raw after the steps, the largest magnitude any step
    holds in units of its last bit: the chain is exact in a float type whose integers reach it)."""
    steps: list[tuple] = []
    need = raw
    if s > 0:
        steps.append(("mul", 2.0 ** -s))
        c, fn = _ROUND[dst.rounding]
        if dst.rounding in _ONE_SIGN and (lo >= 0 or hi <= 0):
            c, fn = _ONE_SIGN[dst.rounding][0 if lo >= 0 else 1]
        if c:
            steps.append(("add", c))
        steps.append(("round", fn))
        need = raw + (1 << s)
        lo, hi, raw = lo >> s, (hi >> s) + 1, (raw >> s) + 1  # rounding is monotone, moves by < 1 unit
    elif s < 0:
        steps.append(("mul", float(1 << -s)))
        lo, hi, raw = lo << -s, hi << -s, raw << -s
        need = raw
    dlo, dhi = dst.min_mantissa, dst.max_mantissa
    ov = dst.overflow
    if ov is Overflow.SAT_SYM and dst.signed:
        dlo = -dhi
    if lo >= dlo and hi <= dhi:
        return steps, (lo, hi), raw, need
    if ov in (Overflow.SAT, Overflow.SAT_SYM):
        steps.append(("clip", dlo, dhi))
        return steps, (min(max(lo, dlo), dhi), max(min(hi, dhi), dlo)), raw, need
    if ov is Overflow.SAT_ZERO:
        steps.append(("zero", dlo, dhi))
        return steps, (min(max(lo, dlo), 0), max(min(hi, dhi), 0)), max(-dlo, dhi), need
    off = 1 << (dst.width - 1) if dst.signed else 0
    steps.append(("wrap", dst.width, off))
    return steps, (dlo, dhi), max(-dlo, dhi), max(need, raw + off + (1 << dst.width))


def _monotone(step) -> bool:
    return step[0] == "round" or (step[0] in ("mul", "add") and np.ndim(step[1]) == 0 and
                                  (step[0] == "add" or step[1] > 0))


def _through(step, b: float) -> float:
    """A clip bound carried through a monotone step."""
    if math.isinf(b):
        return b
    if step[0] == "mul":
        return b * step[1]
    if step[0] == "add":
        return b + step[1]
    return float(_apply_round(np.array([b]), step[1])[0])


def simplify(steps: list[tuple]) -> list[tuple]:
    """Clips moved to the end and merged; adds moved before nothing, muls before adds (exact: the
    constants are multiples of powers of two far from the float limits); neighbours merged."""
    out: list[tuple] = []
    for st in steps:
        out.append(st)
        i = len(out) - 1
        while i > 0 and out[i - 1][0] == "clip" and _monotone(out[i]):  # clip ∘ f = f ∘ clip' for monotone f
            c = out[i - 1]
            out[i - 1], out[i] = out[i], ("clip", _through(out[i], c[1]), _through(out[i], c[2]))
            i -= 1
        while i > 0 and out[i][0] == "mul" and out[i - 1][0] == "add" and math.frexp(out[i][1])[0] == 0.5:
            # (v + c)·2^k = v·2^k + c·2^k, exactly
            out[i - 1], out[i] = out[i], ("add", out[i - 1][1] * out[i][1])
            i -= 1
        if i > 0 and out[i][0] == out[i - 1][0] and out[i][0] in ("mul", "add", "clip"):
            a, b = out[i - 1], out.pop(i)
            if a[0] == "mul":
                out[i - 1] = ("mul", a[1] * b[1])
            elif a[0] == "add":
                out[i - 1] = ("add", a[1] + b[1])
            else:  # clip(clip(v, a1, a2), b1, b2) = clip(v, clamp(a1), clamp(a2))
                out[i - 1] = ("clip", min(max(a[1], b[1]), b[2]), min(max(a[2], b[1]), b[2]))
            if _noop(out[i - 1]):
                out.pop(i - 1)
    return [st for st in out if not _noop(st)]


def _noop(st) -> bool:
    if st[0] == "clip":
        return st[1] == -math.inf and st[2] == math.inf
    return st[0] in ("mul", "add") and np.ndim(st[1]) == 0 and st[1] == (1.0 if st[0] == "mul" else 0.0)


def _apply_round(y: np.ndarray, fn: str) -> np.ndarray:
    if fn in ("floor", "ceil", "rint", "trunc"):
        return getattr(np, fn)(y, out=y)
    t = np.abs(y)
    if fn == "half_away":
        np.floor(np.add(t, 0.5, out=t), out=t)
    else:
        np.ceil(np.subtract(t, 0.5, out=t), out=t)
    return np.copysign(t, y, out=y)


def run_steps(y: np.ndarray, steps: list[tuple]) -> np.ndarray:
    """Apply the steps to y in place (y must be a float array the caller owns)."""
    for st in steps:
        k = st[0]
        if k == "mul":
            np.multiply(y, st[1], out=y)
        elif k == "add":
            np.add(y, st[1], out=y)
        elif k == "round":
            _apply_round(y, st[1])
        elif k == "clip":
            if math.isinf(st[2]):
                np.maximum(y, st[1], out=y)
            elif math.isinf(st[1]):
                np.minimum(y, st[2], out=y)
            else:
                np.clip(y, st[1], st[2], out=y)
        elif k == "zero":
            y[(y < st[1]) | (y > st[2])] = 0.0
        else:  # wrap: y - 2^W·floor((y + o)·2^-W)
            t = np.add(y, float(st[2]))
            np.floor(np.multiply(t, 2.0 ** -st[1], out=t), out=t)
            np.subtract(y, np.multiply(t, 2.0 ** st[1], out=t), out=y)
    return y
