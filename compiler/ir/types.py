"""Numeric and tensor types of the IR.

A tensor's element type is one of
- `FloatType(bits)`: IEEE float (the float reference path),
- `IntType(bits, signed)`: plain integers (ONNX int8/uint8/int32/int64 tensors, shape tensors),
- `FixedType(width, int_bits, signed, rounding, overflow)`: `ap_fixed`/`ac_fixed`; a value is an
  integer mantissa m with real value m * 2**(int_bits - width),
- `AffineType(storage, scale, zero_point, axis)`: TFLite/ONNX affine integers, real = scale * (q - zero_point).

`TensorType(elem, shape)` puts an element type on a shape; a `None` dimension is the batch.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np


class Rounding(enum.Enum):
    """Quantization (rounding) modes of ap_fixed / ac_fixed, when fractional bits are dropped."""

    TRN = "TRN"  # toward minus infinity (floor); the default
    TRN_ZERO = "TRN_ZERO"  # toward zero
    RND = "RND"  # to nearest, ties toward plus infinity
    RND_ZERO = "RND_ZERO"  # to nearest, ties toward zero
    RND_INF = "RND_INF"  # to nearest, ties away from zero
    RND_MIN_INF = "RND_MIN_INF"  # to nearest, ties toward minus infinity
    RND_CONV = "RND_CONV"  # to nearest, ties to even (convergent)


class Overflow(enum.Enum):
    """Overflow modes of ap_fixed / ac_fixed, when the value does not fit the integer bits."""

    WRAP = "WRAP"  # keep the low `width` bits (two's complement); the default
    SAT = "SAT"  # clamp to [min, max]
    SAT_ZERO = "SAT_ZERO"  # any overflow gives 0
    SAT_SYM = "SAT_SYM"  # clamp to [-max, max] (signed), i.e. the most negative code is not used


@dataclass(frozen=True)
class FloatType:
    bits: int = 32

    @property
    def numpy_dtype(self) -> np.dtype:
        return np.dtype({16: np.float16, 32: np.float32, 64: np.float64}[self.bits])

    def __str__(self) -> str:
        return f"f{self.bits}"


@dataclass(frozen=True)
class IntType:
    bits: int
    signed: bool = True

    @property
    def numpy_dtype(self) -> np.dtype:
        return np.dtype(f"{'' if self.signed else 'u'}int{self.bits}") if self.bits in (8, 16, 32, 64) else np.dtype(np.int64)

    @property
    def min(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max(self) -> int:
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    def __str__(self) -> str:
        return f"{'i' if self.signed else 'u'}{self.bits}"


BOOL = IntType(1, False)


@dataclass(frozen=True)
class FixedType:
    """ap_fixed<width, int_bits, rounding, overflow> (ap_ufixed when not signed).

    Mantissa m is an integer in [min_mantissa, max_mantissa]; real value = m * 2**-frac_bits with
    frac_bits = width - int_bits. int_bits may be negative or larger than width, as in ap_fixed.
    """

    width: int
    int_bits: int
    signed: bool = True
    rounding: Rounding = Rounding.TRN
    overflow: Overflow = Overflow.WRAP

    def __post_init__(self):
        if not isinstance(self.width, int) or self.width < 1:
            raise ValueError(f"fixed-point width must be a positive integer, got {self.width!r}")
        if self.signed and self.width < 2 and self.overflow is Overflow.SAT_SYM:
            raise ValueError("SAT_SYM needs a signed width of at least 2")
        if not isinstance(self.rounding, Rounding) or not isinstance(self.overflow, Overflow):
            raise TypeError("rounding and overflow must be Rounding and Overflow members")

    @property
    def frac_bits(self) -> int:
        return self.width - self.int_bits

    @property
    def min_mantissa(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max_mantissa(self) -> int:
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    @property
    def lsb(self) -> float:
        return 2.0 ** -self.frac_bits

    @property
    def min(self) -> float:
        return self.min_mantissa * self.lsb

    @property
    def max(self) -> float:
        return self.max_mantissa * self.lsb

    def with_modes(self, rounding: Rounding | None = None, overflow: Overflow | None = None) -> "FixedType":
        return FixedType(self.width, self.int_bits, self.signed, rounding or self.rounding, overflow or self.overflow)

    def __str__(self) -> str:
        base = f"{'fixed' if self.signed else 'ufixed'}<{self.width},{self.int_bits}"
        if self.rounding is Rounding.TRN and self.overflow is Overflow.WRAP:
            return base + ">"
        return f"{base},{self.rounding.value},{self.overflow.value}>"


@dataclass(frozen=True)
class AffineType:
    """Affine integer (TFLite / ONNX QDQ): real = scale * (q - zero_point), q stored in `storage`.

    scale and zero_point are tuples, one entry per channel along `axis` (per-tensor: one entry, axis None).
    """

    storage: IntType
    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int | None = None

    def __str__(self) -> str:
        if len(self.scale) == 1:
            return f"{self.storage}[s={self.scale[0]:.9g},z={self.zero_point[0]}]"
        return f"{self.storage}[per-axis {self.axis}, {len(self.scale)} scales]"


ElemType = FloatType | IntType | FixedType | AffineType

F32 = FloatType(32)
I64 = IntType(64)
I32 = IntType(32)


@dataclass(frozen=True)
class TensorType:
    """An element type on a shape. A `None` dimension is the (symbolic) batch dimension."""

    elem: ElemType
    shape: tuple[int | None, ...] = field(default=())

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def batched(self) -> bool:
        return None in self.shape

    def with_shape(self, shape) -> "TensorType":
        return TensorType(self.elem, tuple(shape))

    def with_elem(self, elem: ElemType) -> "TensorType":
        return TensorType(elem, self.shape)

    def concrete(self, batch: int) -> tuple[int, ...]:
        return tuple(batch if d is None else d for d in self.shape)

    def __str__(self) -> str:
        dims = "x".join("N" if d is None else str(d) for d in self.shape)
        return f"{self.elem}[{dims}]"


_NP_TO_ELEM = {
    np.dtype(np.float16): FloatType(16),
    np.dtype(np.float32): F32,
    np.dtype(np.float64): FloatType(64),
    np.dtype(np.bool_): BOOL,
    np.dtype(np.int8): IntType(8),
    np.dtype(np.uint8): IntType(8, False),
    np.dtype(np.int16): IntType(16),
    np.dtype(np.uint16): IntType(16, False),
    np.dtype(np.int32): I32,
    np.dtype(np.uint32): IntType(32, False),
    np.dtype(np.int64): I64,
    np.dtype(np.uint64): IntType(64, False),
}


def elem_from_numpy(dtype) -> ElemType:
    """The element type of a numpy dtype (float or plain integer)."""
    try:
        return _NP_TO_ELEM[np.dtype(dtype)]
    except KeyError:
        raise TypeError(f"unsupported tensor element type {np.dtype(dtype)}") from None


def numpy_dtype(elem: ElemType) -> np.dtype:
    """The numpy dtype that holds values of `elem` in the float-mode simulator."""
    if isinstance(elem, (FloatType, IntType)):
        return np.dtype(np.bool_) if elem == BOOL else elem.numpy_dtype
    if isinstance(elem, AffineType):
        return elem.storage.numpy_dtype
    return np.dtype(np.int64)
