"""Lookup tables shared by the simulator and the generated kernels (one definition, two users).

A function table has N = 2^table_bits entries over [-2^range_bits, 2^range_bits): entry i holds
f at the centre of bucket i, x_i = -2^r + (i + 1/2) * 2^(r+1) / N, rounded to nearest-even and
saturated into the output type. The index of x is floor((x + 2^r) * N / 2^(r+1)), clamped to [0, N).
The softmax exp table covers [-2^r, 0] from its left edge (entry 0 is exp(0) = 1 exactly); the
inverse table covers [0, 2^r) at bucket centres.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ..ir.types import FixedType, Overflow, Rounding
from .fixed import from_float

_erf = np.frompyfunc(math.erf, 1, 1)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _gelu(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64))


# f(x, *params) in float64; params are the op's attributes in the order of TABLE_PARAMS
FUNCTIONS = {
    "Sigmoid": _sigmoid, "Tanh": np.tanh,
    "Selu": lambda x, alpha, gamma: gamma * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))),
    "Elu": lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))),
    "Softplus": lambda x: np.logaddexp(0.0, x),
    "HardSwish": lambda x: x * np.clip(x / 6.0 + 0.5, 0.0, 1.0),
    "Swish": lambda x, alpha: x * _sigmoid(alpha * x),
    "Gelu": _gelu,
    "Erf": lambda x: _erf(x).astype(np.float64),
}
TABLE_PARAMS = {"Selu": ("alpha", "gamma"), "Elu": ("alpha",), "Swish": ("alpha",), "Gelu": ("approximate",)}
# activations that are tables over the whole input range (Sigmoid and Tanh saturate: a fixed range)
WIDE_TABLES = ("Selu", "Elu", "Softplus", "HardSwish", "Swish", "Gelu", "Erf")


def table_params(node) -> tuple:
    """The attributes a table function of `node` depends on (hashable, for the table cache)."""
    return tuple(node.attrs[k] for k in TABLE_PARAMS.get(node.op, ()))


def wide_range_bits(x: FixedType) -> int:
    """range_bits of a table that covers every value of x: [-2^r, 2^r) holds [x.min, x.max]."""
    return x.int_bits - 1 if x.signed else x.int_bits


def _nearest(t: FixedType) -> FixedType:
    return FixedType(t.width, t.int_bits, t.signed, Rounding.RND_CONV, Overflow.SAT)


def _shift(m: np.ndarray, k: int) -> np.ndarray:
    """m * 2^k rounded toward -inf (arithmetic shift)."""
    return m << k if k >= 0 else m >> (-k)


@lru_cache(maxsize=None)
def function_table(fn: str, table_bits: int, range_bits: int, out: FixedType, params: tuple = ()) -> np.ndarray:
    n = 1 << table_bits
    x = -(2.0 ** range_bits) + (np.arange(n) + 0.5) * 2.0 ** (range_bits + 1) / n
    t = from_float(np.asarray(FUNCTIONS[fn](x, *params), np.float64), _nearest(out)).astype(np.int64)
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
