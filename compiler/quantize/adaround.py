"""AdaRound: learned rounding of one layer's weights by output reconstruction (Nagel et al., 2020).

Each weight goes down or up one grid step: Ŵ = s · clip(⌊W/s⌋ + step·h(V), qmin, qmax), with the
rectified sigmoid h(V) = clip(σ(V)(ζ - γ) + γ, 0, 1), ζ = 1.1, γ = -0.1, V initialised so that h is
the fractional part. V minimises the layer's output error on calibration data,
tr((Ŵ - W)ᵀ H (Ŵ - W)) with H = XᵀX / N (exact, full batch: the error needs only H), plus
λ Σ (1 - |2h - 1|^β) with β annealed from 20 to 2, which drives every h to 0 or 1; Adam in numpy.
The result rounds h at 0.5, so the weights are exactly on the grid.
"""

from __future__ import annotations

import numpy as np

from .grid import Grid

ZETA, GAMMA = 1.1, -0.1


def _floor(x: np.ndarray, grid: Grid) -> np.ndarray:
    """The grid point at or below x (before clipping)."""
    if grid.step == 2:
        return 2 * np.floor((x + 1) / 2) - 1
    return np.floor(x)


def adaround(w: np.ndarray, h: np.ndarray, grid: Grid, iters: int = 1500, lr: float = 0.05, reg: float = 0.01,
             warmup: float = 0.2, beta=(20.0, 2.0), init: np.ndarray | None = None,
             zero: np.ndarray | None = None) -> np.ndarray:
    """Mantissas [K, M] on `grid` for weights w [K, M] and the (sample-averaged) Hessian h [K, K].

    `init` (mantissas) starts the rounding from another method's choice (e.g. GPTQ) instead of the
    fractional part, where it lies within one step of w; weights where `zero` is true stay 0."""
    scale = grid.scale
    x = w / scale
    base = _floor(x, grid)
    frac = np.clip((x - base) / grid.step, 0.0, 1.0)
    if init is not None:
        up = (init - base) / grid.step
        frac = np.where(np.isin(up, (0, 1)), 0.2 + 0.6 * up, frac)
    p = np.clip((frac - GAMMA) / (ZETA - GAMMA), 1e-4, 1 - 1e-4)
    v = np.log(p / (1 - p))
    m1, m2 = np.zeros_like(v), np.zeros_like(v)
    norm = max(float(np.mean(np.diag(h))) * float(np.mean(scale ** 2)), 1e-30)  # lr and reg in grid steps
    for t in range(1, iters + 1):
        sig = 1 / (1 + np.exp(-v))
        hr = sig * (ZETA - GAMMA) + GAMMA
        hv = np.clip(hr, 0, 1)
        raw = base + grid.step * hv
        mant = np.clip(raw, grid.qmin, grid.qmax)
        delta = (mant * scale - w)
        g_w = 2 * (h @ delta) / norm
        g_h = g_w * scale * grid.step * ((raw >= grid.qmin) & (raw <= grid.qmax))
        if t > warmup * iters:
            b = beta[0] + (beta[1] - beta[0]) * (t - warmup * iters) / ((1 - warmup) * iters)
            z = 2 * hv - 1
            g_h = g_h - reg * b * np.abs(z) ** (b - 1) * np.sign(z) * 2
        g_v = g_h * (ZETA - GAMMA) * sig * (1 - sig) * ((hr > 0) & (hr < 1))
        m1 = 0.9 * m1 + 0.1 * g_v
        m2 = 0.999 * m2 + 0.001 * g_v ** 2
        v -= lr * (m1 / (1 - 0.9 ** t)) / (np.sqrt(m2 / (1 - 0.999 ** t)) + 1e-8)
    hv = np.clip((1 / (1 + np.exp(-v))) * (ZETA - GAMMA) + GAMMA, 0, 1)
    q = np.clip(base + grid.step * (hv >= 0.5), grid.qmin, grid.qmax).astype(np.int64)
    return q if zero is None else np.where(zero, 0, q)
