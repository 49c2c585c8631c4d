"""Exact fixed-point casts on integer mantissas, as ap_fixed (Vitis HLS) and ac_fixed (Intel/Catapult) do them.

A value of `FixedType t` is an integer mantissa m with real value m * 2**-t.frac_bits. Casting the
value v = m * 2**-src_frac_bits to a type `dst` (what `dst_t d = src;` does in C++) is two steps:

1. Rounding (only when bits are dropped, s = src_frac_bits - dst.frac_bits > 0).
   q = floor(m / 2**s); the dropped part r = m - q * 2**s is compared with half = 2**(s-1):
     TRN          q                                  (toward -inf)
     TRN_ZERO     q + (r != 0 and v < 0)             (toward zero)
     RND          q + (r >= half)                    (nearest, ties toward +inf)
     RND_ZERO     q + (r > half or r == half and v < 0)    (ties toward zero)
     RND_INF      q + (r > half or r == half and v >= 0)   (ties away from zero)
     RND_MIN_INF  q + (r > half)                     (ties toward -inf)
     RND_CONV     q + (r > half or r == half and q odd)    (ties to even)
   When s <= 0 bits are appended: q = m * 2**-s, exactly.
2. Overflow of q against [lo, hi] = [dst.min_mantissa, dst.max_mantissa], applied to the
   *rounded* q (so rounding up past the maximum saturates, or wraps, like any other overflow):
     WRAP      the low `width` bits of q, sign-extended when signed (two's complement)
     SAT       clamp to [lo, hi]
     SAT_ZERO  0 if q < lo or q > hi, else q
     SAT_SYM   signed: clamp to [-hi, hi] (the code lo = -2**(W-1) never appears, even when q == lo
               exactly); unsigned: same as SAT, clamp to [0, hi] (both headers do this).

These are exactly the results of ap_fixed_base::operator= and ac_fixed's converting constructor in the
hls4ml 1.3.0 copies of the headers, for every mode and for both vendors (tests/sim checks millions of
values against the compiled headers), so `cast` has no vendor argument. The one corner not modelled:
ac_fixed skips the SAT_SYM check when the *source* type is itself AC_SAT_SYM and no bits are dropped,
trusting that such a source never holds its most negative code (it cannot, unless set bit by bit).
One ap_fixed quirk to know: when a cast drops more fractional bits than the source has bits at all
(s > source width) with any rounding but TRN, ap_fixed's operator= reads a bit past the source's MSB
and ap_private's assert aborts the C simulation unless it is compiled with -DNDEBUG; with NDEBUG (and in
synthesis) the result is the one given here.

Conversions from doubles (`from_float`) do differ between the vendors, but only for tiny magnitudes:
ap_fixed(double) reads subnormals as if they had the hidden bit, and ac_fixed(double) first scales by a
power of two in floating point, which can underflow. See `from_float`.

Arithmetic: int64 numpy when |m| < 2**62 and dst.width <= 62 (shifts of any size are handled without
overflow); otherwise numpy object arrays of Python ints, which are exact at any width but ~10x
slower. Results are int64 arrays when dst fits in int64 (signed width <= 64, unsigned width <= 63),
else object arrays of Python ints.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from hwc.compiler.ir.types import FixedType, Overflow, Rounding

Vendor = Literal["ap", "ac"]

_FAST_BITS = 62  # int64 path: |mantissa| < 2**62 and dst.width <= 62, leaving headroom for +1 and sign


def _int_array(m) -> np.ndarray:
    """m as an int64 array (no copy when it already is one), or an object array of Python ints when it
    does not fit in int64."""
    a = np.asarray(m)
    if a.dtype == np.int64:
        return a
    if a.dtype == object:
        if a.size == 0:
            return a.astype(np.int64)
        a = np.asarray(np.frompyfunc(int, 1, 1)(a), dtype=object)  # np.int64 items -> Python ints
        return a.astype(np.int64) if -(2**63) <= a.min() and a.max() < 2**63 else a
    if a.dtype.kind == "b":
        return a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise TypeError(f"mantissas must be integers, got dtype {a.dtype} (use from_float for real values)")
    if a.dtype == np.uint64 and a.size and a.max() >= 2**63:
        return a.astype(object)
    return a.astype(np.int64)


def type_bounds(t: FixedType) -> tuple[int, int]:
    """The mantissa interval [lo, hi] every value of type t lies in."""
    return t.min_mantissa, t.max_mantissa


def array_bounds(a: np.ndarray) -> tuple[int, int]:
    """[min, max] of an integer array, by one scan ((0, 0) when empty)."""
    if a.size == 0:
        return 0, 0
    return int(a.min()), int(a.max())


def _round_up(rounding: Rounding, q, half, sticky, neg):
    """The 0/1 increment added to q = floor(value) for each rounding mode (half: the first dropped bit,
    sticky: any lower dropped bit set, neg: value < 0)."""
    if rounding is Rounding.TRN:
        return np.zeros_like(half)
    if rounding is Rounding.TRN_ZERO:
        return neg & (half | sticky)
    if rounding is Rounding.RND:
        return half
    if rounding is Rounding.RND_ZERO:
        return half & (sticky | neg)
    if rounding is Rounding.RND_INF:
        return half & (sticky | ~neg)
    if rounding is Rounding.RND_MIN_INF:
        return half & sticky
    if rounding is Rounding.RND_CONV:
        return half & (sticky | (q & 1).astype(bool))
    raise ValueError(rounding)


def _quantize(m: np.ndarray, s, dst: FixedType, fast: bool) -> np.ndarray:
    """Round m * 2**-s (s scalar or per element) to an integer with dst.rounding, then apply dst.overflow.

    fast: m is int64 with |m| < 2**62 and dst.width <= 62; else m and s hold Python ints (object)."""
    W, lo, hi = dst.width, dst.min_mantissa, dst.max_mantissa
    s = np.asarray(s, dtype=np.int64 if fast else object)
    down, up = s > 0, s <= 0
    q = np.zeros(np.broadcast(m, s).shape, dtype=np.int64 if fast else object)

    if down.any():  # drop s bits: floor, then the rounding increment
        sr = np.where(down, s, 1)
        if fast:
            sr = np.minimum(sr, 63)  # exact: with |m| < 2**62, shifting by >= 63 leaves only the sign
        fl = m >> sr
        half = ((m >> (sr - 1)) & 1).astype(bool)
        sticky = (m & ((np.ones_like(sr) << (sr - 1)) - 1)) != 0
        inc = _round_up(dst.rounding, fl, half, sticky, np.asarray(m < 0))
        q = np.where(down, fl + inc.astype(q.dtype), q)

    if up.any():  # append -s zero bits: exact, but in int64 only the part that matters is kept
        k = np.where(up, -s, 0)
        if not fast:
            q = np.where(up, m << k, q)
        elif dst.overflow is Overflow.WRAP:  # low W bits of m * 2**k
            kc = np.minimum(k, W)
            q = np.where(up, (m & ((np.int64(1) << (W - kc)) - 1)) << kc, q)
        else:  # anything >= 2**62 in magnitude is out of range: replace it by +-2**62
            kc = np.minimum(k, 62)
            lim = np.int64(1) << (62 - kc)
            big = (m >= lim) | (m <= -lim)
            shifted = np.where(big, np.sign(m) << 62, m << np.where(big, 0, kc))
            q = np.where(up, shifted, q)

    ov = dst.overflow
    if ov is Overflow.WRAP:
        q = q & ((1 << W) - 1)
        if dst.signed:
            q = np.where(q > hi, q - (1 << W), q)
    elif ov is Overflow.SAT:
        q = np.minimum(np.maximum(q, lo), hi)
    elif ov is Overflow.SAT_ZERO:
        q = np.where((q < lo) | (q > hi), 0, q)
    elif ov is Overflow.SAT_SYM:
        q = np.minimum(np.maximum(q, -hi if dst.signed else 0), hi)
    else:
        raise ValueError(ov)
    return _result(q, dst)


def _result(q: np.ndarray, dst: FixedType) -> np.ndarray:
    if dst.width <= 64 if dst.signed else dst.width <= 63:
        return np.asarray(q).astype(np.int64)
    return np.asarray(q, dtype=object)


def cast(m, src_frac_bits: int, dst: FixedType, bounds: tuple[int, int] | None = None) -> np.ndarray:
    """Mantissas of dst for the values m * 2**-src_frac_bits, as `dst_t d = src;` computes them.

    m: integers of any width (int64 array, or object array / Python ints for wider accumulators).
    bounds: a proven interval [lo, hi] holding every m (e.g. the source type's), which spares the
    min/max scans; the overflow step is skipped when the rounded interval lies inside dst.
    Rounding then overflow, as in the module docstring (same for ap_fixed and ac_fixed).
    int64 arithmetic when |m| < 2**62 and dst.width <= 62, else exact Python-int object arrays.
    """
    a = _int_array(m)
    s = int(src_frac_bits) - dst.frac_bits
    if a.dtype == object or dst.width > _FAST_BITS:
        return _quantize(a.astype(object), s, dst, False)
    if a.size == 0:
        return _result(a, dst)
    lo, hi = bounds if bounds is not None else array_bounds(a)
    if lo <= -(2**_FAST_BITS) or hi >= 2**_FAST_BITS:
        if bounds is None:
            return _quantize(a.astype(object), s, dst, False)
        return cast(a, src_frac_bits, dst)  # the proven interval is wide: look at the actual values
    q = _round_scalar_shift(a, s, dst, lo, hi)
    if q is None:
        return _quantize(a, s, dst, True)
    qlo, qhi = (lo >> s, (hi >> s) + 1) if s > 0 else (lo << -s, hi << -s)  # rounding is monotone
    lo_ok = qlo > dst.min_mantissa or (qlo == dst.min_mantissa and not (dst.overflow is Overflow.SAT_SYM and dst.signed))
    if lo_ok and qhi <= dst.max_mantissa:
        return q  # in range: no overflow handling needed
    if dst.overflow is Overflow.SAT or (dst.overflow is Overflow.SAT_SYM and not dst.signed):
        out = q if q is not a else None  # never write into the caller's array
        return np.clip(q, dst.min_mantissa, dst.max_mantissa, out=out)
    if dst.overflow is Overflow.SAT_SYM:
        out = q if q is not a else None
        return np.clip(q, -dst.max_mantissa, dst.max_mantissa, out=out)
    if dst.overflow is Overflow.WRAP:  # the low W bits, sign-extended: ((q + 2^(W-1)) mod 2^W) - 2^(W-1)
        off = 1 << (dst.width - 1) if dst.signed else 0
        return ((q + off) & ((1 << dst.width) - 1)) - off
    return _quantize(q, 0, dst, True)


def _round_scalar_shift(m: np.ndarray, s: int, dst: FixedType, lo: int, hi: int) -> np.ndarray | None:
    """The rounding step for one shift s with int64 m in [lo, hi], |m| < 2**62, in two or three array
    operations (h = 2**(s-1); for negative m the *_ZERO/*_INF modes mirror the positive formula).
    None when appending bits could leave int64 (the general path handles that)."""
    if s <= 0:
        k = -s
        if k and max(abs(lo), abs(hi)) >= (1 << (62 - min(k, 62))):
            return None
        return m << k if k else m
    if s >= 63:
        return None
    h = np.int64(1) << np.int64(s - 1)
    r = dst.rounding
    if r is Rounding.TRN:
        return m >> s
    if r is Rounding.RND:
        return (m + h) >> s
    if r is Rounding.RND_MIN_INF:
        return (m + (h - 1)) >> s
    if r is Rounding.RND_CONV:
        return (m + (h - 1) + ((m >> s) & 1)) >> s
    neg = m < 0
    am = np.abs(m)
    if r is Rounding.TRN_ZERO:
        mag = am >> s
    elif r is Rounding.RND_INF:
        mag = (am + h) >> s
    elif r is Rounding.RND_ZERO:
        mag = (am + (h - 1)) >> s
    else:
        return None
    return np.where(neg, -mag, mag)


def _ac_ldexpr(d: np.ndarray, n: int) -> np.ndarray:
    """ac_private::ldexpr<n>(d): the same float64 operations in the same order (so the same rounding)."""
    d = d / float(1 << (-n & 31)) if n < 0 else d * float(1 << (n & 31))
    words = -((-n) // 32) if n < 0 else n // 32  # C++ n/32 truncates toward zero
    for _ in range(abs(words)):
        d = d / 4294967296.0 if words < 0 else d * 4294967296.0
    return d


def from_float(x, dst: FixedType, vendor: Vendor = "ap") -> np.ndarray:
    """Mantissas of dst for float values, as `dst_t v = (double)x;` computes them (float32 goes via double).

    Each finite double is exactly M * 2**e with |M| < 2**53 (np.frexp), so this is
    cast(M, -e, dst) with a per-element shift: the rounding and overflow rules of `cast`, no inexact
    arithmetic. NaN and infinities raise ValueError (the headers give no meaningful value for them).

    The two vendors differ only for tiny magnitudes:
    - "ap": ap_fixed(double) sets the hidden bit of subnormals too, so a subnormal x = f * 2**-1074
      converts as (2**52 + f) * 2**-1075. Only the sign matters unless dst has ~1000 fractional bits.
    - "ac": ac_fixed(double) first computes d * 2**-(I + !S + ((32 - W - !S) & 31)) in float64 (by
      dividing by powers of two), converts that exactly, and scales back. Values below about
      2**(-1022 + int_bits) lose bits or underflow to zero there: e.g. -5e-324 to fixed<16,6> with TRN
      gives 0 on ac_fixed but -lsb on ap_fixed. Modelled by repeating those float64 operations.
    """
    if vendor not in ("ap", "ac"):
        raise ValueError(f"vendor must be 'ap' or 'ac', got {vendor!r}")
    xf = np.asarray(x)
    if xf.dtype.kind not in "fiub":
        raise TypeError(f"from_float needs real numbers, got dtype {xf.dtype}")
    xf = xf.astype(np.float64)
    if not np.all(np.isfinite(xf)):
        raise ValueError("from_float: NaN or infinite input has no fixed-point value")

    fast = _from_float_scaled(xf, dst)
    if fast is not None:
        return fast
    shift = np.zeros(xf.shape, dtype=np.int64)  # value = ldexp(frac-part float, e + shift)
    if vendor == "ac":
        k = dst.int_bits + (not dst.signed) + ((32 - dst.width - (not dst.signed)) & 31)
        scaled = _ac_ldexpr(xf, -k)
        ok = np.isfinite(scaled)  # never false for sane types (only for int_bits < ~ -700)
        xf = np.where(ok, scaled, xf)
        shift = np.where(ok, k, 0)

    frac, e = np.frexp(xf)  # xf = frac * 2**e, 0.5 <= |frac| < 1: exact, subnormals included
    M = np.ldexp(frac, 53).astype(np.int64)  # exact integer, |M| < 2**53
    e = e.astype(np.int64) - 53 + shift  # value = M * 2**e
    if vendor == "ap":
        sub = (xf != 0) & (np.abs(xf) < 2.0**-1022)
        if sub.any():  # ap_fixed: exponent field 0 read as -1023 with the hidden bit set
            f = np.ldexp(np.abs(xf[sub]), 1074).astype(np.int64)  # the 52-bit fraction field
            M, e = M.copy(), e.copy()
            M[sub] = np.sign(xf[sub]).astype(np.int64) * ((1 << 52) + f)
            e[sub] = -1075

    s = -e - dst.frac_bits
    fast = dst.width <= _FAST_BITS
    if not fast:
        M, s = M.astype(object), s.astype(object)
    return _quantize(M, s, dst, fast)


_INCREMENT = {  # rounding increment from floor fl, the midpoint h = fl + 1/2 and v (all exact comparisons)
    Rounding.TRN: None,
    Rounding.TRN_ZERO: lambda fl, h, v: (v != fl) & (v < 0),
    Rounding.RND: lambda fl, h, v: v >= h,
    Rounding.RND_ZERO: lambda fl, h, v: (v > h) | ((v == h) & (v < 0)),
    Rounding.RND_INF: lambda fl, h, v: (v > h) | ((v == h) & (v >= 0)),
    Rounding.RND_MIN_INF: lambda fl, h, v: v > h,
    Rounding.RND_CONV: lambda fl, h, v: (v > h) | ((v == h) & (np.fmod(fl, 2.0) != 0)),
}


def _from_float_scaled(xf: np.ndarray, dst: FixedType) -> np.ndarray | None:
    """from_float in a few float64 array operations, for both vendors, when that is provably the same:
    v = x * 2**frac_bits is exact (a power-of-two scaling of doubles whose magnitudes are 0 or at
    least 2**-700, so neither subnormal inputs nor underflow occur, and the vendors agree), floor(v)
    and the midpoint floor(v) + 1/2 are exact (v - floor(v) need not be), and saturating v first to [lo - 2, hi + 2] (SAT modes, width
    <= 52) keeps every integer below 2**53. None otherwise (the general path handles it)."""
    ov = dst.overflow
    if dst.width > 52 or ov not in (Overflow.SAT, Overflow.SAT_SYM) or abs(dst.frac_bits) > 120:
        return None
    if xf.size == 0:
        return _result(np.zeros(xf.shape, np.int64), dst)
    a = np.abs(xf)
    tiny = a < 2.0 ** -700
    if tiny.any() and np.any(xf[tiny] != 0):
        return None
    lo = -dst.max_mantissa if ov is Overflow.SAT_SYM and dst.signed else dst.min_mantissa
    hi = dst.max_mantissa
    v = np.clip(np.ldexp(xf, dst.frac_bits), float(dst.min_mantissa - 2), float(hi + 2))
    fl = np.floor(v)
    inc = _INCREMENT[dst.rounding]
    if inc is not None:
        fl += inc(fl, fl + 0.5, v)
    return np.clip(fl, lo, hi, out=fl).astype(np.int64)


def to_float(m, t: FixedType) -> np.ndarray:
    """Real values m * 2**-t.frac_bits as float64 (exact when m fits in 53 bits and no under/overflow;
    otherwise m is rounded to nearest double first)."""
    a = np.asarray(m)
    a = a.astype(np.float64) if a.dtype != object else np.array([float(v) for v in a.ravel()]).reshape(a.shape)
    return np.ldexp(a, -t.frac_bits)
