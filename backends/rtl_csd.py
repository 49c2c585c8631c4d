"""Canonical signed digits of an integer constant: c = sum(sign_i * 2^shift_i) with no two adjacent
nonzero digits, the fewest nonzero digits of any signed-binary form. A product x * c then costs
(digits - 1) adders: the RTL generator writes each product with a known weight as shifts and adds."""

from __future__ import annotations


def csd(c: int) -> list[tuple[int, int]]:
    """(sign, shift) pairs of c's canonical signed-digit form, lowest shift first; [] for 0.
    Each step takes the low bit of c; when c = 3 (mod 4) the digit is -1 (c + 1 clears a run of ones)."""
    digits, shift = [], 0
    c = int(c)
    while c:
        if c & 1:
            d = 2 - (c & 3)  # +1 when c = 1 (mod 4), -1 when c = 3 (mod 4)
            digits.append((d, shift))
            c -= d
        c >>= 1
        shift += 1
    return digits
