"""The C kernel of the int16 products (compiler/sim/_int_gemm.c), loaded with ctypes: register-blocked
multiply-adds of int16 pairs (AVX2 vpmaddwd, AVX-512BW, AVX-512 VNNI vpdpwssd, or a scalar loop), chosen
at run time for the CPU or by the caller. pip builds it with the package as an optional extension (needs
a C compiler); without it, or on a CPU without a SIMD path, `available()` is False and sim/int_gemm.py
runs its numba kernels or the plan its float64 BLAS product. Every path computes the same integers
(exact int32 sums, bounds proven by the plan).
"""

from __future__ import annotations

import ctypes
import importlib.machinery
from pathlib import Path

import numpy as np

LANES = 16  # outputs per packed block (_int_gemm.c)
PATHS = {"auto": 0, "scalar": 1, "avx2": 2, "avx512": 3, "vnni": 4}

_LIB: list = []


def _lib():
    """The loaded library, or None when the extension was not built."""
    if not _LIB:
        here = Path(__file__).resolve().parent
        found = [here / f"_int_gemm{s}" for s in importlib.machinery.EXTENSION_SUFFIXES]
        lib = None
        for path in found:
            if path.exists():
                lib = ctypes.CDLL(str(path))
                p, i64, d = ctypes.c_void_p, ctypes.c_int64, ctypes.c_double
                lib.hwc_int_gemm_paths.restype = ctypes.c_int
                lib.hwc_int_gemm_dense.argtypes = [p, i64, i64, d, p, i64, i64, i64, p, d, p, ctypes.c_int]
                lib.hwc_int_gemm_conv2d.argtypes = [p] + [i64] * 16 + [d, p, i64, i64, i64, p, d, p, ctypes.c_int]
                break
        _LIB.append(lib)
    return _LIB[0]


def built() -> bool:
    """Whether pip built the extension."""
    return _lib() is not None


def available() -> bool:
    """Whether the plan should use it: built, and this CPU runs one of its SIMD paths (the scalar loop is
    slower than float64 BLAS: K = 16 → 64 outputs, 17 vs 3 ms per 20,000 rows; it is there for the tests
    and for exactness on any CPU, not for speed)."""
    return any(p != "scalar" for p in paths())


def paths() -> list[str]:
    """The kernel paths this CPU runs (the scalar one always), for tests that compare them all."""
    lib = _lib()
    if lib is None:
        return []
    bits = lib.hwc_int_gemm_paths()
    return [name for name, v in PATHS.items() if v and bits >> v & 1]


def pack(w: np.ndarray) -> np.ndarray:
    """Weights w [M, K] (int16 values) as the kernel reads them: [ceil(M/16), ceil(K/2), 16, 2] with
    wp[b, j, i] = (w[16b + i, 2j], w[16b + i, 2j + 1]), zero past M and K."""
    m, k = w.shape
    nb, k2 = -(-m // LANES), -(-k // 2)
    wz = np.zeros((nb * LANES, 2 * k2), np.int16)
    wz[:m, :k] = w
    return np.ascontiguousarray(wz.reshape(nb, LANES, k2, 2).transpose(0, 2, 1, 3))


def _ptr(a: np.ndarray) -> int:
    """The buffer's address (about 1 µs, `ctypes.data_as` 3 µs: the fixed cost of a call matters when the
    plan runs one sample per chunk)."""
    return a.__array_interface__["data"][0]


class Weights:
    """The operands that stay: w [M, K] packed (`pack`), the per-output constant corr [M] added to each
    product, and their addresses, taken once."""

    def __init__(self, w: np.ndarray, corr: np.ndarray):
        self.wp = pack(w)
        self.corr = np.ascontiguousarray(corr, np.float64)
        self.m, self.k = w.shape
        self._address()

    def _address(self) -> None:
        self.args = (_ptr(self.wp), self.wp.shape[1], self.wp.shape[0], self.m, _ptr(self.corr))

    def __getstate__(self):  # a copy or an unpickled object has new buffers: their addresses are taken again
        return {"wp": self.wp, "corr": self.corr, "m": self.m, "k": self.k}

    def __setstate__(self, state) -> None:
        self.__dict__.update(state)
        self._address()


def _call(fn: str, path: str, *args) -> bool:
    """Run the library's `fn`; False (the caller falls back to BLAS) when path is "auto" and the library is
    missing (a plan unpickled on another host) or the call fails (out of memory); an explicit path raises."""
    lib = _lib()
    rc = getattr(lib, fn)(*args, PATHS[path]) if lib is not None else -1
    if rc != 0 and path != "auto":
        raise RuntimeError(f"int16 kernel path {path!r} is not available on this CPU (or out of memory)")
    return rc == 0


def dense(x: np.ndarray, off: float, w: Weights, scale: float, path: str = "auto") -> np.ndarray | None:
    """y [R, M] = ((x - off) @ w.T + corr)·scale in float64, x [R, K] float64 (K the weights' reduction);
    None when the kernel cannot run (see `_call`)."""
    x = np.ascontiguousarray(x, np.float64)
    if x.shape[1] != w.k:  # the kernel reads K columns per row of x: a mismatch would read past the row
        raise ValueError(f"x has {x.shape[1]} columns, the weights {w.k}")
    y = np.empty((x.shape[0], w.m), np.float64)
    ok = _call("hwc_int_gemm_dense", path, _ptr(x), x.shape[0], x.shape[1], off, *w.args, scale, _ptr(y))
    return y if ok else None


def conv2d(x: np.ndarray, kshape, strides, dilations, pads, out_hw, off: float, w: Weights, scale: float,
           path: str = "auto") -> np.ndarray | None:
    """One-group 2-D convolution of x [N, C, H, W] with Weights of w [M, KH, KW, C] (k in the order tap row,
    tap column, channel: `Weights(w.reshape(M, -1), corr)`), pads (top, left, bottom, right): y [N, M, OH, OW]
    in float64; None when the kernel cannot run (see `_call`)."""
    x = np.ascontiguousarray(x, np.float64)
    n, c, h, wd = x.shape
    if c * kshape[0] * kshape[1] != w.k:
        raise ValueError(f"{c} channels x {kshape[0]}x{kshape[1]} taps, the weights reduce over {w.k}")
    y = np.empty((n, w.m, *out_hw), np.float64)
    ok = _call("hwc_int_gemm_conv2d", path, _ptr(x), n, c, h, wd, *kshape, *strides, *dilations, *pads, *out_hw, off,
               *w.args, scale, _ptr(y))
    return y if ok else None
