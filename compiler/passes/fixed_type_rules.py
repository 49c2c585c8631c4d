"""How a fixed-point type is chosen: for a real range (power-of-two, `bits` wide), for an integer interval of
mantissas (the narrowest exact type), for a graph input's port, for a float constant (scale, offset, alpha)."""

from __future__ import annotations

import math

import numpy as np

from ..ir.graph import Graph, Value
from ..ir.types import FixedType, Overflow, Rounding
from ..sim.fixed import from_float


class TypeWarning(UserWarning):
    """A type choice the user should know about (saturation seen in calibration, a capped accumulator)."""


def width_for(lo: int, hi: int) -> tuple[int, bool]:
    """Smallest two's-complement (or unsigned when lo >= 0) width holding the integers [lo, hi]."""
    if lo >= 0:
        return max(1, int(hi).bit_length()), False
    return max(int(hi).bit_length(), (-int(lo) - 1).bit_length()) + 1, True


def type_for_range(lo: float, hi: float, bits: int, rounding: Rounding, overflow: Overflow,
                   signed: bool | None = None) -> FixedType:
    """A `bits`-wide type whose power-of-two range covers [lo, hi] (signed when lo < 0)."""
    signed = lo < 0 if signed is None else signed
    m = max(abs(lo), abs(hi))
    if m == 0 or not math.isfinite(m):
        ib = 1
    else:
        ib = math.floor(math.log2(m)) + 1 + (1 if signed else 0)
        if bits == 1 and signed:
            ib = max(ib, 1)
    if signed and bits < 2:
        bits = 2
    return FixedType(bits, ib, signed, rounding, overflow)


def input_port_type(config, lo: float, hi: float) -> FixedType:
    """The type of a graph input's port: --input-bits wide, its power-of-two range covering [lo, hi]."""
    return type_for_range(lo, hi, config.in_bits, config.rounding, config.overflow)


def exact_int_type(lo: int, hi: int, frac: int, rounding=Rounding.TRN, overflow=Overflow.WRAP) -> FixedType:
    """The narrowest type holding mantissas [lo, hi] at `frac` fractional bits."""
    w, signed = width_for(lo, hi)
    return FixedType(w, w - frac, signed, rounding, overflow)


def fixed_const(graph: Graph, values: np.ndarray, bits: int, name: str) -> Value:
    """A float constant (scale, offset, alpha) as a fixed-point constant of `bits` bits."""
    mx = float(np.abs(values).max()) if values.size else 0.0
    signed = bool((values < 0).any())
    t = type_for_range(-mx if signed else 0.0, mx, bits, Rounding.RND_CONV, Overflow.SAT, signed)
    return graph.constant(from_float(values.astype(np.float64), t), name, elem=t)
