"""Progress feedback for long steps (calibration, fine-tuning, C simulation, benchmarks): a rich
progress bar or spinner on stderr when it is a terminal; nothing otherwise (pipes, tests, CI), and
nothing for short runs."""

from __future__ import annotations

import contextlib
import sys
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")


def _interactive() -> bool:
    return sys.stderr.isatty()


def track(items: Iterable[T], total: int, description: str, min_total: int = 2) -> Iterator[T]:
    """Iterate with a progress bar when interactive and there are at least `min_total` steps."""
    if not _interactive() or total < min_total:
        yield from items
        return
    from rich.progress import track as rich_track

    yield from rich_track(items, total=total, description=description, console=_console(), transient=True)


@contextlib.contextmanager
def status(text: str):
    """A spinner for one long step (a g++ build, a C simulation)."""
    if not _interactive():
        yield
        return
    with _console().status(text):
        yield


def _console():
    from rich.console import Console

    return Console(stderr=True)
