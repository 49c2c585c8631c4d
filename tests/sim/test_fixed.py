"""hwc.compiler.sim.fixed against hand-written tables derived from the mode definitions (no compiler needed)."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import numpy as np
import pytest

from hwc.compiler.ir.types import FixedType, Overflow, Rounding
from hwc.compiler.sim.fixed import cast, from_float, to_float

R, O = Rounding, Overflow

# value ->        -2.75 -2.5 -2.25 -1.5 -0.5 -0.25 0.25 0.5 1.5 2.25 2.5 2.75
TIE_INPUTS = [-2.75, -2.5, -2.25, -1.5, -0.5, -0.25, 0.25, 0.5, 1.5, 2.25, 2.5, 2.75]
ROUND_TABLE = {
    R.TRN:         [-3, -3, -3, -2, -1, -1, 0, 0, 1, 2, 2, 2],  # floor
    R.TRN_ZERO:    [-2, -2, -2, -1, 0, 0, 0, 0, 1, 2, 2, 2],  # toward zero
    R.RND:         [-3, -2, -2, -1, 0, 0, 0, 1, 2, 2, 3, 3],  # ties toward +inf
    R.RND_ZERO:    [-3, -2, -2, -1, 0, 0, 0, 0, 1, 2, 2, 3],  # ties toward zero
    R.RND_INF:     [-3, -3, -2, -2, -1, 0, 0, 1, 2, 2, 3, 3],  # ties away from zero
    R.RND_MIN_INF: [-3, -3, -2, -2, -1, 0, 0, 0, 1, 2, 2, 3],  # ties toward -inf
    R.RND_CONV:    [-3, -2, -2, -2, 0, 0, 0, 0, 2, 2, 2, 3],  # ties to even
}  # fmt: skip


@pytest.mark.parametrize("rounding", list(Rounding), ids=lambda r: r.value)
def test_rounding_table(rounding):
    dst = FixedType(8, 8, True, rounding, O.SAT)  # integers, no overflow here
    m = np.array([int(v * 4) for v in TIE_INPUTS])  # two fractional bits
    want = ROUND_TABLE[rounding]
    np.testing.assert_array_equal(cast(m, 2, dst), want)
    np.testing.assert_array_equal(from_float(np.array(TIE_INPUTS), dst), want)
    np.testing.assert_array_equal(from_float(np.array(TIE_INPUTS), dst, vendor="ac"), want)
    # the same values 60 bits further down, through the exact object path
    wide = np.array([int(v * 4) << 60 for v in TIE_INPUTS], dtype=object)
    np.testing.assert_array_equal(cast(wide, 62, dst), want)
    # half the values into a type with one fractional bit: the same mantissas
    np.testing.assert_array_equal(cast(m, 3, FixedType(9, 8, True, rounding, O.SAT)), want)


# (input value, dst, {overflow: expected real value}) at the range edges of fixed<4,4> / ufixed<4,4>
S4 = dict(width=4, int_bits=4, signed=True)
U4 = dict(width=4, int_bits=4, signed=False)
OVERFLOW_TABLE = [
    # value, type, rounding, WRAP, SAT, SAT_ZERO, SAT_SYM
    (-10, S4, R.TRN, 6, -8, 0, -7),
    (-9, S4, R.TRN, 7, -8, 0, -7),
    (-8, S4, R.TRN, -8, -8, -8, -7),  # the minimum itself: only SAT_SYM moves it
    (-7, S4, R.TRN, -7, -7, -7, -7),
    (0, S4, R.TRN, 0, 0, 0, 0),
    (7, S4, R.TRN, 7, 7, 7, 7),
    (8, S4, R.TRN, -8, 7, 0, 7),
    (9, S4, R.TRN, -7, 7, 0, 7),
    (17, S4, R.TRN, 1, 7, 0, 7),
    (7.5, S4, R.RND, -8, 7, 0, 7),  # rounding up past the maximum is an overflow like any other
    (7.5, S4, R.RND_ZERO, 7, 7, 7, 7),  # tie toward zero: stays at 7
    (-8.5, S4, R.RND, -8, -8, -8, -7),  # tie toward +inf: lands on the minimum, no overflow
    (-8.5, S4, R.RND_INF, 7, -8, 0, -7),  # tie away from zero: -9 overflows
    (-8.25, S4, R.TRN_ZERO, -8, -8, -8, -7),
    (-8.25, S4, R.TRN, 7, -8, 0, -7),
    (-1, U4, R.TRN, 15, 0, 0, 0),
    (0, U4, R.TRN, 0, 0, 0, 0),
    (15, U4, R.TRN, 15, 15, 15, 15),
    (16, U4, R.TRN, 0, 15, 0, 15),
    (17, U4, R.TRN, 1, 15, 0, 15),
    (-16, U4, R.TRN, 0, 0, 0, 0),
    (31, U4, R.TRN, 15, 15, 0, 15),
    (15.5, U4, R.RND, 0, 15, 0, 15),  # rounding carry out of the top bit
    (-0.25, U4, R.RND, 0, 0, 0, 0),  # negative, but rounds to 0: no underflow
    (-0.5, U4, R.RND, 0, 0, 0, 0),
    (-0.5, U4, R.RND_INF, 15, 0, 0, 0),  # rounds to -1: underflow
    (-0.25, U4, R.TRN_ZERO, 0, 0, 0, 0),
    (-0.25, U4, R.TRN, 15, 0, 0, 0),
]


@pytest.mark.parametrize("value,kind,rounding,wrap,sat,sat_zero,sat_sym", OVERFLOW_TABLE)
def test_overflow_table(value, kind, rounding, wrap, sat, sat_zero, sat_sym):
    for ov, want in zip(Overflow, (wrap, sat, sat_zero, sat_sym)):
        dst = FixedType(rounding=rounding, overflow=ov, **kind)
        assert cast(np.array([int(value * 4)]), 2, dst).tolist() == [want], (value, dst)
        assert from_float(np.array([value]), dst).tolist() == [want], (value, dst)
        assert from_float(np.array([value]), dst, vendor="ac").tolist() == [want], (value, dst)


def test_overflow_order_is_wrap_sat_satzero_satsym():
    assert list(Overflow) == [O.WRAP, O.SAT, O.SAT_ZERO, O.SAT_SYM]


# ---------------------------------------------------------------- an independent exact reference


def _reference(v: Fraction, dst: FixedType) -> int:
    """Textbook definition with Fractions: scale, round with the named rule, then handle overflow."""
    x = v * 2**dst.frac_bits
    fl = math.floor(x)
    f = x - fl
    half = Fraction(1, 2)
    r = dst.rounding
    if r is R.TRN or f == 0:
        q = fl
    elif r is R.TRN_ZERO:
        q = fl + (x < 0)
    elif f != half:
        q = fl + (f > half)
    else:
        q = fl + {R.RND: 1, R.RND_ZERO: x < 0, R.RND_INF: x > 0, R.RND_MIN_INF: 0, R.RND_CONV: fl % 2}[r]
    lo, hi = dst.min_mantissa, dst.max_mantissa
    if lo <= q <= hi and not (dst.overflow is O.SAT_SYM and dst.signed and q == lo):
        return int(q)
    if dst.overflow is O.WRAP:
        q %= 1 << dst.width
        return q - (1 << dst.width) if dst.signed and q > hi else q
    if dst.overflow is O.SAT_ZERO:
        return 0
    return hi if q > hi else (-hi if dst.signed and dst.overflow is O.SAT_SYM else lo)


TYPES = [(8, 3), (5, -2), (4, 9), (2, 1), (70, 20), (63, 1), (64, 60)]


@pytest.mark.parametrize("w,i", TYPES)
@pytest.mark.parametrize("signed", [True, False])
def test_against_fraction_reference(w, i, signed):
    rnd = random.Random(w * 100 + i + signed)
    for src_frac in (w - i + 3, w - i + 1, w - i - 5):
        scale = 1 << w
        m = [rnd.randrange(-4 * scale, 4 * scale) for _ in range(100)] + list(range(-20, 21))
        m += [(k << 3) + 4 for k in range(-10, 10)] + [scale, -scale, scale // 2, -scale // 2, scale - 1]
        vals = [Fraction(x) * Fraction(2) ** -src_frac for x in m]
        small = all(abs(x) < 2**62 for x in m) and w <= 62
        for q in Rounding:
            for o in Overflow:
                dst = FixedType(w, i, signed, q, o)
                want = np.array([_reference(v, dst) for v in vals], dtype=object)
                np.testing.assert_array_equal(cast(np.array(m, dtype=object), src_frac, dst), want, err_msg=str(dst))
                if small:  # the int64 path gives the same
                    np.testing.assert_array_equal(cast(np.array(m, dtype=np.int64), src_frac, dst), want)


def test_int64_and_object_paths_agree_on_huge_shifts():
    m = np.array([0, 1, -1, 5, -5, 2**61 - 1, -(2**61)], dtype=np.int64)
    for src_frac in (-200, -63, -62, -61, -10, 0, 10, 61, 62, 63, 64, 200):
        for q in Rounding:
            for o in Overflow:
                for signed in (True, False):
                    dst = FixedType(12, 5, signed, q, o)
                    fast = cast(m, src_frac, dst)
                    exact = [_reference(Fraction(int(x)) * Fraction(2) ** -src_frac, dst) for x in m]
                    np.testing.assert_array_equal(fast, exact, err_msg=f"{dst} src_frac={src_frac}")


def test_left_shift_edges():
    assert cast([1, -1, 0], -100, FixedType(8, 4, True, R.TRN, O.SAT)).tolist() == [127, -128, 0]
    assert cast([1, -1, 0], -100, FixedType(8, 4, True, R.TRN, O.WRAP)).tolist() == [0, 0, 0]
    assert cast([3, -3], 2, FixedType(8, 8)).tolist() == [0, -1]
    assert cast([3], -2, FixedType(8, 8)).tolist() == [12]
    assert cast([5], 0, FixedType(100, 0)).tolist() == [0]  # 5 wraps away in an all-fraction type
    assert cast([-5], 0, FixedType(100, 100)).tolist() == [-5]


def test_result_dtypes():
    assert cast([1], 0, FixedType(64, 64)).dtype == np.int64
    assert cast([1], 0, FixedType(63, 63, False)).dtype == np.int64
    assert cast([1], 0, FixedType(64, 64, False)).dtype == object
    assert cast([1], 0, FixedType(65, 65)).dtype == object
    assert cast(np.array([2**70], dtype=object), 70, FixedType(8, 8)).tolist() == [1]
    assert cast(np.uint64([2**64 - 1]), 0, FixedType(70, 70, False)).tolist() == [2**64 - 1]


def test_from_float_exact_and_vendor_corners():
    t = FixedType(16, 6, True, R.RND_CONV, O.SAT)
    x = np.array([0.1, -0.1, 1 / 3, 31.99999, -32.0, -32.1, 1e300, -1e300, 0.0, -0.0])
    want = [_reference(Fraction(float(v)), t) for v in x]
    np.testing.assert_array_equal(from_float(x, t), want)
    x32 = x[np.abs(x) < 1e30].astype(np.float32)
    np.testing.assert_array_equal(from_float(x32, t), [_reference(Fraction(float(v)), t) for v in x32])
    # 1e300 is a multiple of 2**900: in a WRAP type all its kept bits are 0
    assert from_float(np.array([1e300]), FixedType(8, 4)).tolist() == [0]
    # smallest negative subnormal with TRN: ap_fixed gives -lsb; ac_fixed first divides it by 2**22 -> -0.0 -> 0
    tiny = np.array([-5e-324])
    assert from_float(tiny, FixedType(16, 6), vendor="ap").tolist() == [-1]
    assert from_float(tiny, FixedType(16, 6), vendor="ac").tolist() == [0]
    with pytest.raises(ValueError):
        from_float(np.array([np.nan]), t)
    with pytest.raises(TypeError):
        cast(np.array([0.5]), 0, t)


def test_to_float():
    t = FixedType(8, 3)
    np.testing.assert_array_equal(to_float(np.array([-128, -1, 0, 1, 127]), t), [-4.0, -1 / 32, 0.0, 1 / 32, 127 / 32])
    big = FixedType(80, 10)
    assert to_float(np.array([3 << 69], dtype=object), big).tolist() == [3 * 2.0**-1]
    m = from_float(np.array([1.25, -3.5]), FixedType(12, 4))
    np.testing.assert_array_equal(to_float(m, FixedType(12, 4)), [1.25, -3.5])


@pytest.mark.parametrize("signed", [True, False])
@pytest.mark.parametrize("w,i", [(8, 3), (12, -3), (6, 14), (52, 20)])
def test_cast_with_proven_bounds(w, i, signed):
    """A proven interval (wider than the data, as a type's range is) gives the reference result in every
    mode, whether the rounded interval fits dst (no overflow step) or not (clip / wrap)."""
    rnd = random.Random(w * 7 + i)
    for src_frac, lo, hi in ((w - i + 4, -(1 << (w + 3)), 1 << (w + 3)), (w - i, -(1 << (w - 2)), (1 << (w - 2)) - 1),
                             (w - i - 3, -(1 << 20), 1 << 20), (w - i + 2, 0, (1 << (w + 1)) - 1)):
        m = [rnd.randrange(lo, hi + 1) for _ in range(60)] + [lo, hi, 0, 4, -4, 6, -6]
        m = [v for v in m if lo <= v <= hi]
        for q in Rounding:
            for o in Overflow:
                dst = FixedType(w, i, signed, q, o)
                want = [_reference(Fraction(v) * Fraction(2) ** -src_frac, dst) for v in m]
                got = cast(np.array(m, dtype=np.int64), src_frac, dst, (lo - 5, hi + 5))
                np.testing.assert_array_equal(got, want, err_msg=f"{dst} src_frac={src_frac}")


def test_cast_never_writes_into_its_input():
    m = np.array([300, -300, 5], dtype=np.int64)
    y = cast(m, 0, FixedType(8, 8, True, R.TRN, O.SAT), (-300, 300))
    assert y.tolist() == [127, -128, 5] and m.tolist() == [300, -300, 5]


@pytest.mark.parametrize("vendor", ["ap", "ac"])
@pytest.mark.parametrize("w,i,signed", [(8, 0, False), (4, -2, True), (52, 30, True)])
def test_from_float_vectorised_matches_reference(w, i, signed, vendor):
    """The float64 fast path of from_float (SAT modes): ties, values next to ties, both range ends,
    huge and tiny magnitudes (the 2**-700 limit on either side), against the Fraction definition."""
    rng = np.random.default_rng(w + i)
    f = w - i
    k = rng.integers(-(1 << (w + 1)), 1 << (w + 1), 80).astype(np.float64)
    ties = np.ldexp(k + 0.5, -f)
    x = np.concatenate([ties, np.nextafter(ties, np.inf), np.nextafter(ties, -np.inf), np.ldexp(k, -f),
                        rng.normal(0, 2.0 ** (i - 1), 80), [1e300, -1e300, 2.0**-700, -(2.0**-700), 0.0, -0.0]])
    tiny = np.concatenate([x, [2.0**-701, -(2.0**-701), 5e-324, -5e-324]])  # below the limit: the general path
    for q in Rounding:
        for o in (O.SAT, O.SAT_SYM):
            t = FixedType(w, i, signed, q, o)
            want = [_reference(Fraction(float(v)), t) for v in x]
            np.testing.assert_array_equal(from_float(x, t, vendor=vendor), want, err_msg=str(t))
            if vendor == "ap":  # ac_fixed differs from the exact value there (test_from_float_exact_and_vendor_corners)
                want = [_reference(Fraction(float(v)), t) for v in tiny]
                np.testing.assert_array_equal(from_float(tiny, t, vendor=vendor), want, err_msg=str(t))
