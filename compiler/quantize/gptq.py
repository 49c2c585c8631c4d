"""GPTQ / OBQ: second-order weight quantization (and OBS pruning) of one layer.

The layer's loss is ||X (Ŵ - W)||² = tr((Ŵ - W)ᵀ H (Ŵ - W)) with H = XᵀX + λI (λ = `damp`·mean
diag H), separately for every output column. Input rows are quantized one at a time; the rounding
error e_i = (w_i - q_i) / U_ii is spread over the rows not yet quantized, w_j -= U_ij e_i (j > i),
where U is the upper Cholesky factor of H⁻¹ (Frantar et al., GPTQ, 2023). With `prune`, in each
block of rows the weights of least OBS saliency w² / U_ii² are set to 0 first (the same update then
compensates them, as in SparseGPT), so pruning and quantization share one pass.

Lazy batch updates (GPTQ §3, step 2): inside a block of rows the updates are applied row by row, and
the rows after the block receive the block's errors at once, w[b1:] -= U[b0:b1, b1:]ᵀ E — the same
sums as row by row, as one matrix product. O(K²M) flops either way, but in BLAS instead of K passes
over the [K, M] matrix (a 2,200 × 2,200 layer: seconds instead of minutes).
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from .grid import Grid

# ONE_THREAD: the Cholesky factorization runs on one BLAS thread. OpenBLAS's threaded potrf meets its
# threads at every panel; on a machine whose cores are busy it measured 2.5 s for K = 2,115 against
# 0.34 s on one thread.


DAMP = 0.01  # λ = DAMP · mean(diag H): the GPTQ paper's default


def damped(h: np.ndarray, damp: float = DAMP) -> tuple[np.ndarray, np.ndarray]:
    """(H + λI with dead inputs' diagonal set to 1, mask of dead inputs)."""
    h = np.array(h, np.float64)
    dead = np.diag(h) <= 0
    h[dead, dead] = 1.0
    lam = damp * float(np.mean(np.diag(h)))
    h[np.diag_indices_from(h)] += lam
    return h, dead


def lower_inverse(l: np.ndarray, leaf: int = 128) -> np.ndarray:
    """L⁻¹ of a lower-triangular L by halves, [[A, 0], [C, D]]⁻¹ = [[A⁻¹, 0], [-D⁻¹CA⁻¹, D⁻¹]]: K³/3 flops
    in matrix products (a general inverse takes 2K³)."""
    n = len(l)
    if n <= leaf:
        return np.tril(np.linalg.inv(l))
    k = n // 2
    a, d = lower_inverse(l[:k, :k], leaf), lower_inverse(l[k:, k:], leaf)
    out = np.zeros_like(l)
    out[:k, :k], out[k:, k:] = a, d
    out[k:, :k] = -d @ (l[k:, :k] @ a)
    return out


def inverse_cholesky(h: np.ndarray) -> np.ndarray:
    """Upper U with UᵀU = H⁻¹, adding damping until H is positive definite. With P the reversal
    permutation and PHP = RRᵀ (R lower), U = P R⁻¹ P: one Cholesky factor and one triangular inverse."""
    extra = 0.0
    for _ in range(8):  # K² temporaries, one at a time: H reversed, R, R⁻¹, U
        hr = np.array(h[::-1, ::-1], np.float64)
        hr[np.diag_indices_from(hr)] += extra
        try:
            with threadpool_limits(1, user_api="blas"):  # see ONE_THREAD
                r = np.linalg.cholesky(hr)
        except np.linalg.LinAlgError:
            extra = max(extra * 10, 1e-6 * float(np.mean(np.diag(h))) or 1e-6)
            continue
        del hr
        r = lower_inverse(r)
        return np.ascontiguousarray(r[::-1, ::-1])
    raise np.linalg.LinAlgError("Hessian is not positive definite")


def gptq(w: np.ndarray, h: np.ndarray, grid: Grid, damp: float = DAMP, prune: float = 0.0,
         block: int = 64, u: np.ndarray | None = None) -> np.ndarray:
    """Mantissas [K, M] on `grid` for float weights w [K, M] with input Hessian h [K, K]; `u`, if
    given, is inverse_cholesky(damped(h, damp)[0]) (shared by the calls that try several grids)."""
    h, dead = damped(h, damp)
    zero = np.asarray(w) == 0  # pruned weights stay pruned
    w = np.array(w, np.float64)
    w[dead] = 0.0
    u = inverse_cholesky(h) if u is None else u
    k = len(w)
    q = np.zeros(w.shape, np.int64)
    scale = grid.scale
    for b0 in range(0, k, block):
        b1 = min(k, b0 + block)
        keep = ~zero[b0:b1]
        if prune > 0:
            sal = (w[b0:b1] / np.diag(u)[b0:b1, None]) ** 2
            n = int(round(prune * sal.size)) - int(zero[b0:b1].sum())
            if n > 0:
                sal[~keep] = -1.0
                keep.ravel()[np.argsort(sal, axis=None, kind="stable")[:n + int(zero[b0:b1].sum())]] = False
        errs = np.empty((b1 - b0, w.shape[1]))
        for i in range(b0, b1):
            m = np.where(keep[i - b0], grid.snap(w[i] / scale), 0)
            q[i] = m
            errs[i - b0] = err = (w[i] - m * scale) / u[i, i]
            w[i + 1:b1] -= np.outer(u[i, i + 1:b1], err)
        w[b1:] -= u[b0:b1, b1:].T @ errs
    return q
