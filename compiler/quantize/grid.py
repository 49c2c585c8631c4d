"""The grid a layer's weights must land on: mantissas m in {offset + step·k} ∩ [qmin, qmax] with a
power-of-two scale 2^-f per output column (one f for the whole tensor unless per channel).

Integer grids (2..8 bits): step 1, [-2^(b-1), 2^(b-1) - 1]; binary: {-1, +1} (step 2);
ternary: {-1, 0, 1}. Columns are the layer's outputs on the [K, M] matrix view (`as_matrix`): Dense
weights as they are, Conv weights [O, C/g, kh, kw] as [C/g·kh·kw, O]. The finished weights become a
FixedType of `width` bits with frac_bits max(f) and a per-column `weight_shift` max(f) - f_c, as
AssignTypes writes them, so the simulator and every backend read them unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..ir.types import FixedType, Overflow, Rounding


def as_matrix(w: np.ndarray, op: str) -> np.ndarray:
    """[K, M] view of a layer's weights: K inputs (per group) by M outputs."""
    return w if op == "Dense" else w.reshape(w.shape[0], -1).T


def from_matrix(m: np.ndarray, op: str, shape) -> np.ndarray:
    return m if op == "Dense" else m.T.reshape(shape)


@dataclass
class Grid:
    bits: int
    ternary: bool
    frac: np.ndarray  # [M] fractional bits per column (all equal per tensor)

    @property
    def step(self) -> int:
        return 2 if self.bits == 1 and not self.ternary else 1

    @property
    def qmin(self) -> int:
        return -1 if self.bits == 1 or self.ternary else -(1 << (self.bits - 1))

    @property
    def qmax(self) -> int:
        return 1 if self.bits == 1 or self.ternary else (1 << (self.bits - 1)) - 1

    @property
    def scale(self) -> np.ndarray:
        return np.ldexp(1.0, -self.frac.astype(np.int64))

    def mantissas(self, w: np.ndarray) -> np.ndarray:
        """Nearest grid point of each weight (ties to even on the integer grid; 0 to +1 in binary)."""
        x = w * np.ldexp(1.0, self.frac.astype(np.int64))
        return self.snap(x)

    def snap(self, x: np.ndarray) -> np.ndarray:
        """Nearest grid mantissa for real-valued mantissas x."""
        if self.step == 2:
            return np.where(x >= 0, 1, -1).astype(np.int64)
        return np.clip(np.round(x), self.qmin, self.qmax).astype(np.int64)

    def values(self, m: np.ndarray) -> np.ndarray:
        return m * self.scale

    def fixed(self, m: np.ndarray) -> tuple[FixedType, list[int] | None, np.ndarray]:
        """(type, weight_shift, mantissas) as AssignTypes stores a quantized weight."""
        width = 2 if self.bits == 1 or self.ternary else self.bits
        fmax = int(self.frac.max())
        t = FixedType(width, width - fmax, True, Rounding.RND_CONV, Overflow.SAT)
        shifts = [fmax - int(f) for f in self.frac]
        return t, (shifts if any(shifts) else None), m.astype(np.int64)


def candidate_fracs(wm: np.ndarray, bits: int, ternary: bool, per_channel: bool) -> list[np.ndarray]:
    """Fractional bits worth trying for weights wm [K, M], one array [M] per candidate: the scale
    that covers max|w| and 1-3 octaves finer (saturating the largest weights); for binary and
    ternary, 2^round(log2 mean|w|) and one octave either side. Per tensor, all columns share f."""
    a = np.abs(wm) if per_channel else np.abs(wm).reshape(-1, 1)
    m = wm.shape[1]
    if bits == 1 or ternary:
        mag = np.where(a.mean(axis=0) > 0, a.mean(axis=0), 1.0) if a.size else np.ones(a.shape[1])
        f0 = -np.round(np.log2(mag)).astype(np.int64)
        cands = [f0 + d for d in (0, -1, 1)]
    else:
        mx = a.max(axis=0) if a.size else np.zeros(a.shape[1])
        ib = np.where(mx > 0, np.floor(np.log2(np.where(mx > 0, mx, 1.0))).astype(np.int64) + 2, 1)
        cands = [bits - (ib - clip) for clip in range(4)]
    return [np.broadcast_to(c, (m,)).astype(np.int64) for c in cands]
