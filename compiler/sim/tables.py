"""Lookup tables shared by the simulator and the generated kernels (one definition, two users).

A function table has N = 2^table_bits entries over [-2^range_bits, 2^range_bits): entry i holds
f at the centre of bucket i, x_i = -2^r + (i + 1/2) * 2^(r+1) / N, rounded to nearest-even and
saturated into the output type. The index of x is floor((x + 2^r) * N / 2^(r+1)), clamped to [0, N).
The softmax exp table covers [-2^r, 0] from its left edge (entry 0 is exp(0) = 1 exactly); the
inverse table covers [0, 2^r) at bucket centres.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..ir.types import FixedType, Overflow, Rounding
from .fixed import from_float

FUNCTIONS = {"Sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)), "Tanh": np.tanh}


def _nearest(t: FixedType) -> FixedType:
    return FixedType(t.width, t.int_bits, t.signed, Rounding.RND_CONV, Overflow.SAT)


def _shift(m: np.ndarray, k: int) -> np.ndarray:
    """m * 2^k rounded toward -inf (arithmetic shift)."""
    return m << k if k >= 0 else m >> (-k)


@lru_cache(maxsize=None)
def function_table(fn: str, table_bits: int, range_bits: int, out: FixedType) -> np.ndarray:
    n = 1 << table_bits
    x = -(2.0 ** range_bits) + (np.arange(n) + 0.5) * 2.0 ** (range_bits + 1) / n
    t = from_float(FUNCTIONS[fn](x), _nearest(out)).astype(np.int64)
    t.setflags(write=False)
    return t


def function_index(m: np.ndarray, frac_bits: int, table_bits: int, range_bits: int) -> np.ndarray:
    n = 1 << table_bits
    return np.clip(_shift(m, table_bits - range_bits - 1 - frac_bits) + n // 2, 0, n - 1).astype(np.int64)


@lru_cache(maxsize=None)
def exp_table(table_bits: int, range_bits: int, out: FixedType) -> np.ndarray:
    n = 1 << table_bits
    x = -np.arange(n) * 2.0 ** range_bits / n
    t = from_float(np.exp(x), _nearest(out)).astype(np.int64)
    t.setflags(write=False)
    return t


def exp_index(neg_d: np.ndarray, frac_bits: int, table_bits: int, range_bits: int) -> np.ndarray:
    """Index of -d (d = x - max(x) <= 0) in the exp table."""
    n = 1 << table_bits
    return np.clip(_shift(neg_d, table_bits - range_bits - frac_bits), 0, n - 1).astype(np.int64)


@lru_cache(maxsize=None)
def inv_table(table_bits: int, range_bits: int, out: FixedType) -> np.ndarray:
    n = 1 << table_bits
    x = (np.arange(n) + 0.5) * 2.0 ** range_bits / n
    t = from_float(1.0 / x, _nearest(out)).astype(np.int64)
    t.setflags(write=False)
    return t


def inv_index(s: np.ndarray, frac_bits: int, table_bits: int, range_bits: int) -> np.ndarray:
    n = 1 << table_bits
    return np.clip(_shift(s, table_bits - range_bits - frac_bits), 0, n - 1).astype(np.int64)


@lru_cache(maxsize=None)
def reciprocal_table(max_n: int, recip_bits: int) -> np.ndarray:
    """R[n] = round_half_up(2^r / n) for n = 0..max_n (R[0] unused, 0)."""
    r = np.zeros(max_n + 1, np.int64)
    for k in range(1, max_n + 1):
        r[k] = ((1 << recip_bits) + k // 2) // k
    r.setflags(write=False)
    return r
