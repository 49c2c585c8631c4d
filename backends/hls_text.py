"""C++ text of a layer: the Layer record an emitter fills, exact literals and arrays of fixed-point
values, and the per-sample shapes the kernels are configured with."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..compiler.errors import HwcError
from ..compiler.ir.graph import Node, Value
from ..compiler.ir.types import FixedType


@dataclass
class Layer:
    index: int
    node: Node
    config: str = ""  # struct text
    arrays: list[str] = field(default_factory=list)  # out-of-struct definitions
    calls: list[str] = field(default_factory=list)  # statements in the top function
    multipliers: int = 0  # multiplications in the kernel after zero-skipping
    binary: bool = False  # ±1 weights: every multiplication is an add or a subtract
    header: str | None = None  # a kernel header beyond the always-included ones (templates/hls)


def literal(m: int, frac: int) -> str:
    """The exact value m·2^-frac as a C++ double literal."""
    if abs(int(m)) >= 1 << 53:
        raise HwcError(f"constant {m}·2^-{frac} has more than 53 significant bits")
    v = math.ldexp(int(m), -int(frac))
    return repr(v) if v != int(v) or abs(v) >= 1e16 else f"{v:.1f}"


def array_def(ctype: str, name: str, values, per_line: int = 16) -> str:
    vals = [str(v) for v in values]
    lines = [", ".join(vals[i:i + per_line]) for i in range(0, len(vals), per_line)]
    return f"const {ctype} {name}[{len(vals)}] = {{\n    " + ",\n    ".join(lines) + "\n};"


def fixed_values(a: np.ndarray, t: FixedType) -> list[str]:
    """Double literals of the values, one `literal` call per distinct mantissa (a table lookup)."""
    a = np.asarray(a).reshape(-1)
    if a.size == 0:
        return []
    distinct, index = np.unique(a, return_inverse=True)
    table = np.array([literal(int(m), t.frac_bits) for m in distinct], dtype=object)
    return table[index.reshape(-1)].tolist()


def mantissa_ctype(t: FixedType) -> str | None:
    """The C integer type that holds t's mantissas (int8_t ... uint64_t), None above 64 bits."""
    for bits in (8, 16, 32, 64):
        if t.width <= bits:
            return f"int{bits}_t" if t.signed else f"uint{bits}_t"
    return None


def per_sample(v: Value) -> tuple[int, ...]:
    return tuple(d for d in v.type.shape[1:]) if v.type.shape and v.type.shape[0] is None else tuple(v.type.shape)


def size(v: Value) -> int:
    return math.prod(per_sample(v))


def stream_shape(v: Value) -> tuple[int, int]:
    """(values per stream element, elements): a feature map [C, *S] is prod(S) pixels of C channels,
    a vector [N] one element of N values."""
    s = per_sample(v)
    return (s[0], math.prod(s[1:])) if len(s) >= 2 else ((s[0], 1) if s else (1, 1))
