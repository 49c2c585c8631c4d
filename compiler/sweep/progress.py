"""The sweep's progress bar on stderr (rich): points done of those to run, failed, lost, points done by an
earlier run, elapsed and ETA.
Drawn only on a terminal, like every hwc progress display; `counts` are kept either way."""

from __future__ import annotations

import sys


class SweepProgress:
    def __init__(self, total: int, skipped: int):
        self.total, self.counts = total, {"ok": 0, "failed": 0, "lost": 0}
        self.skipped = skipped
        self._bar = None

    def __enter__(self):
        if sys.stderr.isatty() and self.total:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
                TimeRemainingColumn

            self._bar = Progress(TextColumn("sweep"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[status]}"), TimeElapsedColumn(), TextColumn("ETA"),
                                 TimeRemainingColumn(), console=Console(stderr=True), transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task("sweep", total=self.total, status=self._status())
        return self

    def _status(self) -> str:
        c = self.counts
        return (f"failed {c['failed']}" + (f", lost {c['lost']}" if c["lost"] else "")
                + (f" ({self.skipped} done before)" if self.skipped else ""))

    def advance(self, status: str) -> None:
        self.counts[status] += 1
        if self._bar is not None:
            self._bar.update(self._task, advance=1, status=self._status())

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.__exit__(*exc)
        return False
