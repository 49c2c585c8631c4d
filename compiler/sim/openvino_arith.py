"""Numpy models of what the OpenVINO CPU plugin (2026.4) computes, bit for bit.

Measured on openvino 2026.4.1 (x86-64 wheel); evidence and counts in
docs/openvino_arithmetic.md, checked by tests/sim/test_openvino_arith.py.

Contents

- ``fake_quantize``: FakeQuantize as the CPU plugin runs it (f32 ops in the plugin's order,
  round half to even on the *f32* intermediate, FMA in the output stage, and the rewrite
  of the output interval that the low-precision transformations (LPT) apply for
  levels 15, 16, 255 and 256).
- ``fake_quantize_index``: the integer the FakeQuantize hands to an int8 MatMul /
  Convolution when LPT runs that consumer in int8.
- ``int8_matmul`` / ``int8_conv2d``: the int32 accumulator of the int8 kernels. On CPUs with
  VNNI (AVX512_VNNI, AVX_VNNI) or AMX it is the exact integer dot product. Without VNNI
  (plain AVX2 / AVX-512 "core") oneDNN multiplies u8 x s8 with VPMADDUBSW, which adds the
  two products of each adjacent pair of reduction elements and *saturates the pair sum to
  int16*; ``saturating=True`` models that exactly.
- ``dequantize_int8_output``: f32(f32(acc) * f32(s_x * s_w[c])).
- ``f32_dot_is_exact`` and ``UNIT_ROUNDOFF`` for the float paths.

Rounding vocabulary: *half even* = ``np.rint`` (what ``vroundps``/``vcvtps2dq`` do under
the default MXCSR); *f32(...)* = the IEEE single rounding of an exact value;
``fma32(a, b, c)`` = a*b + c rounded once to f32.
"""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np

__all__ = [
    "LPT_LEVELS",
    "UNIT_ROUNDOFF",
    "fma32",
    "lpt_output_interval",
    "fake_quantize",
    "fake_quantize_index",
    "int8_matmul",
    "int8_conv2d",
    "dequantize_int8_output",
    "f32_dot_is_exact",
    "cpu_flags",
    "int8_saturates",
]

_f32 = np.float32

#: FakeQuantize level counts that the low-precision transformations take (8-bit and
#: 4-bit families); other counts (2..256) stay plain f32 FakeQuantize.
LPT_LEVELS = (15, 16, 255, 256)

#: Unit roundoff of each INFERENCE_PRECISION_HINT (half an ulp at 1).
UNIT_ROUNDOFF = {"f32": 2.0**-24, "f16": 2.0**-11, "bf16": 2.0**-8}


# ----------------------------------------------------------------------------------------
# f32 helpers
# ----------------------------------------------------------------------------------------
def fma32(a, b, c) -> np.ndarray:
    """a*b + c with a single rounding to float32 (as vfmadd does), exactly.

    The f32 product is exact in float64; s = p + c is rounded once to float64 and the
    TwoSum error e is exact. s -> f32 is the correct rounding of p + c unless s lies
    exactly on an f32 midpoint, where the sign of e decides.
    """
    a, b, c = np.broadcast_arrays(np.asarray(a, _f32), np.asarray(b, _f32), np.asarray(c, _f32))
    p = a.astype(np.float64) * b.astype(np.float64)
    cd = c.astype(np.float64)
    s = p + cd
    bb = s - p
    e = (p - (s - bb)) + (cd - bb)
    r = s.astype(_f32)
    r64 = r.astype(np.float64)
    with np.errstate(invalid="ignore"):
        towards = np.where(s > r64, np.inf, -np.inf).astype(_f32)
        other = np.nextafter(r, towards).astype(np.float64)
        mid = (r64 + other) / 2
    on_mid = (s == mid) & (r64 != s) & (e != 0)
    if np.any(on_mid):
        up = np.where(e > 0, np.maximum(r64, other), np.minimum(r64, other)).astype(_f32)
        r = np.where(on_mid, up, r)
    return np.asarray(r, _f32)


# ----------------------------------------------------------------------------------------
# FakeQuantize
# ----------------------------------------------------------------------------------------
def lpt_output_interval(ol, oh, levels: int):
    """The output interval LPT leaves on a FakeQuantize whose output stays f32.

    LPT decomposes FQ(levels in 15/16/255/256) into FQ(out = [0, M]) in u8 followed by a
    dequantization Subtract(shift) -> Multiply(scale), M = 15 for levels 16, else 255:

        shift = f32(f32(f32(0*oh) - f32(M*ol)) / f32(oh - ol))      (0 if |shift| <= 1e-32)
        scale = f32(f32(oh - ol) / M)                               (clamped to [1e-32, 1e32])

    When nothing int8 consumes the result, the Subtract and Multiply are fused back into the
    FakeQuantize: ol' = f32(f32(0 - shift) * scale), oh' = f32(f32(M - shift) * scale).
    For levels 15 and 255 this maps 15 / 255 levels onto 0..255: ol' / oh' are only
    approximately ol / oh, and an int8 consumer sees non-uniform integers (do not use).
    Channels with ol == oh keep ol' = oh' = oh.
    """
    ol = np.asarray(ol, _f32)
    oh = np.asarray(oh, _f32)
    ol, oh = np.broadcast_arrays(ol, oh)
    mx = _f32(15.0 if levels == 16 else 255.0)
    mn = _f32(0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = _f32(oh - ol)
        shift = _f32(_f32(_f32(mn * oh) - _f32(mx * ol)) / diff)
        scale = _f32(diff / _f32(mx - mn))
    same = ol == oh
    shift = np.where(same, _f32(0), shift).astype(_f32)
    scale = np.where(same, _f32(1), scale).astype(_f32)
    a = np.abs(scale)
    scale = np.where(a < 1e-32, np.copysign(_f32(1e-32), scale), scale).astype(_f32)
    scale = np.where(a > 1e32, np.copysign(_f32(1e32), scale), scale).astype(_f32)
    if np.all(np.abs(shift) <= 1e-32):
        shift = np.zeros_like(shift)
    lo = np.where(same, oh, _f32(mn - shift) * scale).astype(_f32)
    hi = np.where(same, oh, _f32(mx - shift) * scale).astype(_f32)
    return lo, hi


def _fq_core(x, il, ih, levels):
    x = np.asarray(x, _f32)
    il = np.asarray(il, _f32)
    ih = np.asarray(ih, _f32)
    lm1 = _f32(levels - 1)
    isc = _f32(lm1 / _f32(ih - il))
    ish = _f32(il * isc)
    c = np.minimum(np.maximum(x, il), ih)
    return np.rint(_f32(_f32(c * isc) - ish)).astype(_f32)


def fake_quantize(x, il, ih, ol, oh, levels: int, lpt: bool = True) -> np.ndarray:
    """FakeQuantize exactly as the CPU plugin computes it (f32 output, INFERENCE_PRECISION f32).

    With il < ih (broadcastable arrays allowed, e.g. per channel):

        isc = f32(f32(levels - 1) / f32(ih - il))          (folded at compile time)
        ish = f32(il * isc)
        c   = min(max(x, il), ih)                           (x <= il -> il, x >= ih -> ih)
        r   = rint(f32(f32(c * isc) - ish))                 (half even on the f32 value)
        osc = f32(f32(oh' - ol') / f32(levels - 1))
        y   = fma32(r, osc, ol')                            (one rounding)

    ol' = ol, oh' = oh, except for levels in LPT_LEVELS (with ``lpt=True``, the default,
    which is what the plugin does), where ``lpt_output_interval`` rewrites them.

    Ties: the rounding is half to even, but on the f32 value f32(c*isc) - ish, not on the
    exact (x - il)/(ih - il)*(levels - 1); an input on an exact bucket boundary can land
    either side when isc or the product are inexact (see the doc for counts). Levels 2 run
    the plugin's own FakeQuantize node; the same formula matches it.
    """
    if lpt and levels in LPT_LEVELS:
        ol, oh = lpt_output_interval(ol, oh, levels)
    ol = np.asarray(ol, _f32)
    oh = np.asarray(oh, _f32)
    r = _fq_core(x, il, ih, levels)
    osc = _f32(_f32(oh - ol) / _f32(levels - 1))
    return fma32(r, osc, ol)


def fake_quantize_index(x, il, ih, levels: int) -> np.ndarray:
    """The integer r = rint(f32(f32(min(max(x, il), ih) * isc) - il*isc)) in [0, levels-1]
    (as int64), isc = f32((levels-1)/(ih-il)): the bucket index FakeQuantize computes. An
    int8 consumer sees r (u8, unsigned ranges) or r - levels//2 (i8, LPT's signed symmetric
    ranges such as [-128 s, 127 s] for 256 levels)."""
    return _fq_core(x, il, ih, levels).astype(np.int64)


# ----------------------------------------------------------------------------------------
# int8 MatMul / Convolution accumulators
# ----------------------------------------------------------------------------------------
def _sat16(v):
    return np.clip(v, -32768, 32767)


def int8_matmul(a, w, saturating: bool = False, u8_shift: int | None = None) -> np.ndarray:
    """int32 accumulator of an int8 FullyConnected: acc[..., n] = sum_k a[..., k] * w[n, k].

    a: integer activations as the kernel sees them (u8 0..255, or i8 -128..127);
    w: int8 weights [N, K] (the compressed-weight constant, zero point 0).

    saturating=False (VNNI / AMX CPUs): the exact integer sum.

    saturating=True (no VNNI: AVX2, AVX-512 core; kernels jit_gemm_I8, brgemm_avx*_I8): the
    kernel works on u8 values a_u = a + u8_shift (u8_shift = 128 for i8 activations, the
    s8s8 compensation trick; 0 for u8; default: 128 if any a < 0); for each pair (k, k+1),
    k even, it forms sat16(a_u[k]*w[k] + a_u[k+1]*w[k+1]) (VPMADDUBSW), adds the pair sums
    exactly in int32 and subtracts u8_shift*sum_k w[n, k]. An odd K is padded with a zero.
    No saturation can happen when 2*max(a_u)*max|w| <= 32767, e.g. u8 activations with
    |w| <= 64, or 4-bit (0..15) u8 activations with any int8 weight -- but i8 activations
    are shifted by 128, so even 4-bit signed activations saturate with |w| > 64.
    """
    a = np.asarray(a, np.int64)
    w = np.asarray(w, np.int64)
    if not saturating:
        return a @ w.T
    shift = (128 if (a.size and a.min() < 0) else 0) if u8_shift is None else int(u8_shift)
    au = a + shift
    K = au.shape[-1]
    if K % 2:
        au = np.concatenate([au, np.zeros(au.shape[:-1] + (1,), np.int64)], -1)
        w = np.concatenate([w, np.zeros((w.shape[0], 1), np.int64)], -1)
        K += 1
    ap = au.reshape(au.shape[:-1] + (1, K // 2, 2))
    wp = w.reshape((w.shape[0], K // 2, 2))
    pairs = (ap * wp).sum(-1)  # [..., N, K/2]
    return _sat16(pairs).sum(-1) - shift * w.sum(-1)


def _pair2(v) -> tuple[int, int]:
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    v = tuple(int(t) for t in v)
    return (v[0], v[0]) if len(v) == 1 else (v[0], v[1])


def int8_conv2d(a, w, strides=1, pads=0, dilations=1, groups: int = 1,
                saturating: bool = False, u8_shift: int | None = None) -> np.ndarray:
    """int32 accumulator of an int8 (Group)Convolution, NCHW activations, OIHW weights
    (O = groups * O_g, I = C / groups), zero padding of the *real* value 0.

    pads: int, (ph, pw) or (top, left, bottom, right).

    saturating=False: exact. saturating=True: the kernel works on u8 values a_u = a +
    u8_shift; per output and tap (kh, kw) the input channels of the group are paired
    (c, c+1), c even within the group, each pair sum is saturated to int16 as in
    ``int8_matmul``, padded taps hold u8_shift (the real zero), and u8_shift * sum(w[o]) is
    subtracted. On no-VNNI CPUs LPT feeds a Convolution with *signed* activations as u8 with
    a zero point instead of i8: u8_shift = levels // 2 (the FakeQuantize bucket index r is
    what the kernel multiplies), so pass ``u8_shift=levels//2`` there. Default: 128 if any
    a < 0, else 0. Depthwise (one channel per group) never saturates.
    """
    a = np.asarray(a, np.int64)
    w = np.asarray(w, np.int64)
    if u8_shift is None:
        u8_shift = 128 if (a.size and a.min() < 0) else 0
    sh, sw = _pair2(strides)
    dh, dw = _pair2(dilations)
    if isinstance(pads, (int, np.integer)):
        pt = pl = pb = pr = int(pads)
    elif len(pads) == 2:
        pt, pl = pads
        pb, pr = pads
    else:
        pt, pl, pb, pr = pads
    n, c, h, wd = a.shape
    o, cg, kh, kw = w.shape
    og = o // groups
    shift = int(u8_shift) if saturating else 0
    ap = np.pad(a + shift, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=shift)
    oh_ = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    ow_ = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, oh_, ow_), np.int64)
    for g in range(groups):
        xg = ap[:, g * cg:(g + 1) * cg]
        wg = w[g * og:(g + 1) * og]
        if saturating and cg % 2:
            xg = np.concatenate([xg, np.zeros_like(xg[:, :1])], 1)
            wg = np.concatenate([wg, np.zeros_like(wg[:, :1])], 1)
        cc = xg.shape[1]
        for i in range(kh):
            for j in range(kw):
                xs = xg[:, :, i * dh:i * dh + sh * (oh_ - 1) + 1:sh, j * dw:j * dw + sw * (ow_ - 1) + 1:sw]
                wt = wg[:, :, i, j]
                if saturating:
                    xs2 = xs.reshape(n, cc // 2, 2, oh_, ow_)
                    wt2 = wt.reshape(og, cc // 2, 2)
                    pairs = np.einsum("nptyx,opt->nopyx", xs2, wt2)
                    out[:, g * og:(g + 1) * og] += _sat16(pairs).sum(2)
                else:
                    out[:, g * og:(g + 1) * og] += np.einsum("ncyx,oc->noyx", xs, wt)
    if shift:
        out -= shift * w.sum((1, 2, 3))[None, :, None, None]
    return out


def dequantize_int8_output(acc, scale_x, scale_w, channel_axis: int = -1) -> np.ndarray:
    """The f32 output of an int8 MatMul/Convolution without zero points:
    f32(f32(acc) * f32(scale_x * scale_w[c])) -- the two dequantization scales are
    multiplied in f32 first (LPT folds them into one constant). scale_x is LPT's activation
    scale f32(f32(oh - ol) / M), M = 255 (15 for 16 levels), which equals the user's scale
    when that is a power of two. Exact when both scales are powers of two and
    |acc| < 2**24."""
    acc = np.asarray(acc)
    s = _f32(np.asarray(scale_x, _f32) * np.asarray(scale_w, _f32)).ravel()
    shape = [1] * acc.ndim
    if s.size > 1:
        shape[channel_axis] = s.size
    return _f32(acc.astype(_f32) * s.reshape(shape))


# ----------------------------------------------------------------------------------------
# Float paths
# ----------------------------------------------------------------------------------------
def _pow2_grid_exponent(v: np.ndarray) -> int | None:
    """Smallest e >= -149 such that every element is an integer multiple of 2**e."""
    v = np.asarray(v, np.float64)
    v = v[v != 0]
    if v.size == 0:
        return 0
    if not np.all(np.isfinite(v)):
        return None
    _, ex = np.frexp(v)
    # v = m * 2**ex, m in [0.5, 1) with 53 bits; find trailing zeros of the mantissa
    m = np.ldexp(np.abs(v), 53 - ex).astype(np.int64)  # exact integer
    tz = np.zeros(m.shape, np.int64)
    mm = m.copy()
    for _ in range(64):
        odd = (mm & 1) == 1
        if odd.all():
            break
        tz = np.where(odd, tz, tz + 1)
        mm = np.where(odd, mm, mm >> 1)
    return int(np.min(ex - 53 + tz))


def f32_dot_is_exact(x, w, axis_x: int = -1, axis_w: int = 0) -> bool:
    """True when an f32 dot product (MatMul/Conv, any summation order, FMA or not) of x and
    w is certainly exact: all elements are integers on power-of-two grids 2**ex, 2**ew and
    sum_k |x_k| |w_k| < 2**24 * 2**(ex+ew) for every output (so every partial sum is an
    integer multiple of 2**(ex+ew) below 2**24 of them). Checks the worst case
    max|x| * max|w| * K, which is conservative."""
    ex = _pow2_grid_exponent(x)
    ew = _pow2_grid_exponent(w)
    if ex is None or ew is None:
        return False
    k = np.asarray(x).shape[axis_x]
    bound = float(np.max(np.abs(x))) * float(np.max(np.abs(w))) * k
    return bound < 2.0**24 * 2.0 ** (ex + ew)


# ----------------------------------------------------------------------------------------
# Which int8 flavour runs here
# ----------------------------------------------------------------------------------------
def cpu_flags() -> set[str]:
    """The x86 CPU flags of this machine (empty set where /proc/cpuinfo is unreadable)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


_VNNI_ISAS = {"AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE_VNNI", "AVX512_CORE_BF16",
              "AVX512_CORE_FP16", "AVX512_CORE_AMX", "AVX512_CORE_AMX_FP16", "AVX10_1_512",
              "AVX10_1_512_AMX", "AVX10_1_512_AMX_FP16", "AVX10_2_512", "AVX10_2_512_AMX_2", "ALL"}


def int8_saturates(flags: Sequence[str] | None = None, max_isa: str | None = None) -> bool:
    """True when int8 MatMul/Convolution kernels on this CPU use the saturating u8 x s8
    pair instruction (no AVX512_VNNI, no AVX_VNNI, no AMX-INT8), taking oneDNN's
    ``ONEDNN_MAX_CPU_ISA`` / ``DNNL_MAX_CPU_ISA`` cap into account."""
    fl = set(cpu_flags() if flags is None else flags)
    has_vnni = bool(fl & {"avx512_vnni", "avx_vnni", "amx_int8"})
    if max_isa is None:
        max_isa = os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA")
    if max_isa:
        isa = max_isa.strip().upper()
        if isa not in _VNNI_ISAS:
            return True
        if isa.startswith("AVX2") and "avx_vnni" not in fl:
            return True
    return not has_vnni
