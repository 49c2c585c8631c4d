"""Output directories are written atomically: into a temporary sibling, renamed into place at the end.
An existing directory is replaced only with `force`; a failure leaves nothing half-written. A place that
cannot hold a directory (under a regular file, /proc, /sys, a read-only mount) is refused before any work."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from .errors import HwcError


def writable_parent(path, what: str = "output") -> Path:
    """The directory that will hold `path`, checked to exist and to accept files; a one-line error otherwise."""
    if str(path) == "":
        raise HwcError(f"the {what} path is empty")
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise HwcError("parent directory does not exist", str(path))
    if not parent.is_dir():
        raise HwcError(f"cannot write here: {parent} is not a directory", str(path))
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", dir=parent)
    except OSError as e:
        raise HwcError(f"cannot write in {parent} ({e.strerror or type(e).__name__})", str(path)) from None
    os.close(fd)
    os.unlink(probe)
    return parent


@contextlib.contextmanager
def atomic_dir(path, force: bool = False):
    if str(path) == "":
        raise HwcError("the output directory path is empty")
    path = Path(path)
    if path.exists() and not force:
        raise HwcError("already exists (use --force to replace it)", str(path))
    if path.exists() and not path.is_dir():
        raise HwcError("exists and is not a directory", str(path))
    here = Path.cwd().resolve()
    if path.exists() and (path.resolve() == here or path.resolve() in here.parents):
        raise HwcError("is the current directory or contains it: choose another output directory", str(path))
    parent = writable_parent(path, "output directory")
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=parent))
    except OSError as e:
        raise HwcError(f"cannot create a directory in {parent} ({e.strerror or type(e).__name__})", str(path)) from None
    try:
        yield tmp
        os.chmod(tmp, 0o755)
        try:
            if path.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=parent))
                os.rename(path, old / "x")
                os.rename(tmp, path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(tmp, path)
        except OSError as e:
            raise HwcError(f"cannot move the result into place ({e.strerror or type(e).__name__})", str(path)) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
