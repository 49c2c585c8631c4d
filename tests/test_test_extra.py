"""A broken install fails the suite instead of skipping it: every package of the `[test]` extra is
installed, and no test module skips itself when one is missing (`pytest.importorskip`)."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _requirements(extra: str, table: dict, seen: set[str]) -> list[str]:
    out = []
    for req in table[extra]:
        m = re.match(r"hwc\[([\w,]+)\]", req)
        if m:
            for sub in m[1].split(","):
                if sub not in seen:
                    seen.add(sub)
                    out += _requirements(sub, table, seen)
        else:
            out.append(re.split(r"[<>=!~\[; ]", req, maxsplit=1)[0])
    return out


def test_every_test_requirement_is_installed():
    pyproject = tomllib.loads((TESTS.parent / "pyproject.toml").read_text())
    names = _requirements("test", pyproject["project"]["optional-dependencies"], {"test"})
    assert len(names) >= 8, names
    missing = []
    for name in names:
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    assert not missing, f"the [test] extra is not fully installed: {missing} (pip install '.[test]')"


def test_no_module_skips_on_a_missing_test_requirement():
    offenders = [str(p.relative_to(TESTS)) for p in sorted(TESTS.rglob("*.py"))
                 if p.name != Path(__file__).name and "importorskip(" in p.read_text()]
    assert offenders == []
