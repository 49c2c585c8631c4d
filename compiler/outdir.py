"""Output directories are written atomically: into a temporary sibling, renamed into place at the end.
An existing directory is replaced only with `force`; a failure leaves nothing half-written."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from .errors import HwcError


@contextlib.contextmanager
def atomic_dir(path, force: bool = False):
    path = Path(path)
    if path.exists() and not force:
        raise HwcError("already exists (use --force to replace it)", str(path))
    if path.exists() and not path.is_dir():
        raise HwcError("exists and is not a directory", str(path))
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise HwcError("parent directory does not exist", str(path))
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=parent))
    try:
        yield tmp
        os.chmod(tmp, 0o755)
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=parent))
            os.rename(path, old / "x")
            os.rename(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
