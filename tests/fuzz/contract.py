"""The user-facing contract of every `hwc` command, checked on one run of the CLI in this process.

run_cli(argv, workdir) runs `hwc.compiler.cli.main(argv)` with stdout/stderr captured, a time limit
(SIGALRM) and numpy's floating-point state as a user has it, and returns an Outcome classified as:
  ok        exit 0, nothing on stderr
  error     exit 2, exactly one stderr line `hwc: error: ...`, no traceback
  traceback an exception escaped main()
  multiline exit 2 (or 0) with more than one stderr line, or a line not `hwc: error:` (e.g. a warning)
  exit-N    any other exit code (argparse's usage block exits 2 with several lines: multiline)
  hang      the time limit passed
  leftover  the command failed and left files in the work directory (or a temporary sibling)
  accepted  the input was invalid by construction and the command exited 0
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import traceback
from dataclasses import dataclass
from pathlib import Path

VIOLATIONS = ("traceback", "multiline", "hang", "leftover", "accepted") 


class Hang(BaseException):
    """Raised by the alarm: a BaseException so that no `except Exception` in the code under test eats it."""


@dataclass
class Outcome:
    kind: str
    code: int | None
    stderr: str
    detail: str = ""

    @property
    def violation(self) -> bool:
        return self.kind in VIOLATIONS or self.kind.startswith("exit-")


def _files(d: Path) -> set[str]:
    return {str(p.relative_to(d)) for p in d.rglob("*")}


def run_cli(argv: list[str], workdir: Path, timeout: int = 60, invalid: bool = False,
            expect_outputs: tuple[str, ...] = ()) -> Outcome:
    """One CLI run in `workdir` (the current directory while it runs). `invalid`: the input is wrong by
    construction, so exit 0 is a violation. `expect_outputs`: paths (relative to workdir) a successful
    run may create; anything else new in workdir is a leftover."""
    from hwc.compiler.cli import main

    before = _files(workdir)
    out, err = io.StringIO(), io.StringIO()
    old_cwd = os.getcwd()

    def _alarm(signum, frame):
        raise Hang()

    old_handler = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    code: int | None
    try:
        os.chdir(workdir)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in argv])
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 2
    except Hang:
        return Outcome("hang", None, err.getvalue())
    except BaseException as e:  # noqa: BLE001 - the contract: nothing escapes main()
        tb = traceback.format_exception(type(e), e, e.__traceback__)
        return Outcome("traceback", None, err.getvalue(), f"{type(e).__name__}: {e}".splitlines()[0][:300] +
                       " @ " + _where(tb))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old_handler)
        os.chdir(old_cwd)
    lines = err.getvalue().splitlines()
    created = _files(workdir) - before
    if code == 0:
        allowed = {c for c in created if any(c == e or c.startswith(e + "/") for e in expect_outputs)}
        if created - allowed:
            return Outcome("leftover", code, err.getvalue(), f"unexpected files: {sorted(created - allowed)[:3]}")
        if lines:
            return Outcome("multiline", code, err.getvalue(), "stderr on success: " + lines[0][:200])
        if invalid:
            return Outcome("accepted", code, err.getvalue(), out.getvalue()[-200:])
        return Outcome("ok", code, "")
    if code == 2:
        if len(lines) != 1 or not lines[0].startswith("hwc: error: "):
            return Outcome("multiline", code, err.getvalue(), " | ".join(lines[:3])[:300])
        if created:
            return Outcome("leftover", code, err.getvalue(), f"left {sorted(created)[:3]}")
        return Outcome("error", code, lines[0])
    return Outcome(f"exit-{code}", code, err.getvalue(), " | ".join(lines[:2])[:300])


def _where(tb: list[str]) -> str:
    """The innermost frame inside hwc, as file:line."""
    frames = [line for line in tb if 'File "' in line and "/hwc/" in line]
    if not frames:
        return tb[-2].strip()[:120] if len(tb) > 1 else ""
    f = frames[-1].strip()
    path = f.split('"')[1]
    return path.split("/hwc/", 1)[1] + ":" + f.split("line ")[1].split(",")[0]
