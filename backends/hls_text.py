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
    signature: str = ""  # the layer's function `void layerK(...)` (backends/hls_units.py)
    body: list[str] = field(default_factory=list)  # its statements; `calls` then holds the call in the top


def literal(m: int, frac: int) -> str:
    """The exact value m·2^-frac as a C++ double literal."""
    if abs(int(m)) >= 1 << 53:
        raise HwcError(f"constant {m}·2^-{frac} has more than 53 significant bits")
    v = math.ldexp(int(m), -int(frac))
    return repr(v) if v != int(v) or abs(v) >= 1e16 else f"{v:.1f}"


def array_def(ctype: str, name: str, values, per_line: int = 16) -> str:
    """`const ctype name[n] = {...};`, 16 values a line. An integer numpy array is written by numpy as
    right-aligned columns (`_int_body`: no Python call per element, for tables of millions of weights);
    anything else element by element with str."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu":
        a = values.reshape(-1)
        return f"const {ctype} {name}[{a.size}] = {{\n{_int_body(ctype, a, per_line)}\n}};"
    vals = [str(v) for v in values]
    lines = [", ".join(vals[i:i + per_line]) for i in range(0, len(vals), per_line)]
    return f"const {ctype} {name}[{len(vals)}] = {{\n    " + ",\n    ".join(lines) + "\n};"


def _int_body(ctype: str, a: np.ndarray, per_line: int) -> str:
    """The lines of an integer initializer, `per_line` values a line. Values over a small range (weights,
    index maps: the usual case) become a byte matrix, each value right-aligned to the widest literal,
    indexed from a table of the literals of the range: the cost per element is numpy indexing. Values
    spread over a wide range get one str() each."""
    if a.size == 0:
        return "    "
    lo, hi = int(a.min()), int(a.max())
    if hi - lo >= max(1 << 16, a.size // 4):
        vals = _int_literals(ctype, a.tolist())
        return "    " + ",\n    ".join(", ".join(vals[i:i + per_line]) for i in range(0, len(vals), per_line))
    index = (a - a.dtype.type(lo)).astype(np.intp)
    lits = _int_literals(ctype, range(lo, hi + 1))
    w = max(map(len, lits))
    cell = np.frombuffer("".join(f" {s:>{w}}," for s in lits).encode(), np.uint8).reshape(len(lits), w + 2)
    cells = cell[index.reshape(-1)]
    rows = []
    for part in (cells[:a.size - a.size % per_line], cells[a.size - a.size % per_line:]):
        if len(part):
            m = part.reshape(-1, min(per_line, len(part)) * (w + 2))
            pad = lambda text: np.broadcast_to(np.frombuffer(text.encode(), np.uint8), (len(m), len(text)))  # noqa: E731
            rows.append(np.hstack([pad("   "), m, pad("\n")]))
    return b"".join(r.tobytes() for r in rows).decode()[:-2]  # without the last ",\n"


def _int_literals(ctype: str, vals) -> list[str]:
    """Decimal literals of Python integers for an array of ctype: 64-bit types get their LL/ULL suffix,
    and INT64_MIN (whose magnitude no literal holds) is written as an expression."""
    if ctype == "int64_t":
        return ["(-9223372036854775807LL - 1)" if v == -(1 << 63) else f"{v}LL" for v in vals]
    if ctype == "uint64_t":
        return [f"{v}ULL" for v in vals]
    return [str(v) for v in vals]


def fixed_array(member: str, type_name: str, qualified: str, values, t: FixedType) -> tuple[str, str]:
    """A constant array of t's values (C typedef `type_name`): (its declaration in a config struct, its
    definition). Stored as integer mantissas (int8_t ... uint64_t) when t fits 64 bits: g++ compiles those
    as plain data, where an array of ap_fixed/ac_fixed constants is a static initializer built at start-up
    and slow to compile. Kernels read an element as hwc::weight_value<type_name>(member[i]): the same bits
    reinterpreted (wiring in synthesis). Wider types keep exact double literals of type_name."""
    a = np.asarray(values).reshape(-1)
    mt = mantissa_ctype(t)
    if mt is not None:
        return f"static const {mt} {member}[{a.size}];", array_def(mt, qualified, a.astype(np.int64 if t.signed else np.uint64))
    scope = qualified.rpartition("::")[0]  # the typedef lives in the config struct: name it there outside
    return (f"static const {type_name} {member}[{a.size}];",
            array_def(f"{scope}::{type_name}" if scope else type_name, qualified, fixed_values(a, t)))


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
