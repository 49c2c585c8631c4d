"""The points of a sweep: value lists and ranges per compile option, crossed into a grid or sampled.

`2,3,4` is a list; `LO:HI:STEP` is the inclusive range LO, LO+STEP, … ≤ HI (computed in decimal, so
`0:0.75:0.25` is exactly 0, 0.25, 0.5, 0.75). Random sampling draws distinct grid points with a fixed
seed, so a restarted sweep asks for the same points.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from ..errors import HwcError

MAX_POINTS = 100_000


@dataclass(frozen=True)
class Axis:
    """One swept option: `name` is the option's key in a point, `flag` how the user spelled it."""

    name: str
    flag: str
    values: tuple


def parse_values(text: str, flag: str, convert: Callable[[str], Any]) -> tuple:
    """The values of `--flag TEXT`: a comma list, each item a value or an inclusive LO:HI:STEP range."""
    out: list = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            raise HwcError(f"{flag} {text!r}: empty item in the list")
        parts = item.split(":")
        if len(parts) == 1:
            out.append(_convert(convert, item, flag))
        elif len(parts) == 3:
            out.extend(_convert(convert, v, flag) for v in _decimal_range(parts, flag, text))
        else:
            raise HwcError(f"{flag} {text!r}: a range is LO:HI:STEP")
    unique = tuple(dict.fromkeys(out))
    if len(unique) != len(out):
        raise HwcError(f"{flag} {text!r}: a value is repeated")
    return unique


def _decimal_range(parts: list[str], flag: str, text: str) -> list[str]:
    try:
        lo, hi, step = (Decimal(p) for p in parts)
    except InvalidOperation:
        raise HwcError(f"{flag} {text!r}: LO:HI:STEP must be numbers") from None
    if step <= 0 or hi < lo:
        raise HwcError(f"{flag} {text!r}: a range needs STEP > 0 and LO <= HI")
    n = int((hi - lo) / step) + 1
    if n > MAX_POINTS:
        raise HwcError(f"{flag} {text!r}: more than {MAX_POINTS} values")
    return [str(lo + k * step) for k in range(n)]


def _convert(convert: Callable[[str], Any], item: str, flag: str):
    try:
        return convert(item)
    except (ValueError, TypeError):
        raise HwcError(f"{flag}: invalid value {item!r}") from None


def grid(axes: list[Axis]) -> list[dict[str, Any]]:
    """Every combination of the axes' values, the first axis varying slowest."""
    total = 1
    for a in axes:
        total *= len(a.values)
    if total > MAX_POINTS:
        raise HwcError(f"the grid has {total} points (more than {MAX_POINTS}): use --samples N")
    return [dict(zip([a.name for a in axes], combo)) for combo in itertools.product(*[a.values for a in axes])]


def sample(axes: list[Axis], n: int, seed: int) -> list[dict[str, Any]]:
    """`n` distinct grid points drawn uniformly with `seed` (all of them if the grid is smaller)."""
    if n < 1:
        raise HwcError("--samples must be at least 1")
    sizes = [len(a.values) for a in axes]
    total = 1
    for s in sizes:
        total *= s
    indices = sorted(random.Random(seed).sample(range(total), min(n, total)))
    points = []
    for flat in indices:
        point = {}
        for a, s in zip(reversed(axes), reversed(sizes)):
            flat, k = divmod(flat, s)
            point[a.name] = a.values[k]
        points.append({a.name: point[a.name] for a in axes})
    return points
