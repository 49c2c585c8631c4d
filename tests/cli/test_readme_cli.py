"""README's CLI overview stays true: every `hwc` subcommand is documented there, every documented
`hwc X` command exists, and `hwc --help` lists them all."""

import argparse
import re

from conftest import ROOT, hwc
from hwc.compiler.cli import build_parser


def test_readme_lists_exactly_the_subcommands():
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    commands = set(sub.choices)
    readme = (ROOT / "README.md").read_text()
    assert set(re.findall(r"^\| `hwc ([a-z]+)", readme, flags=re.M)) == commands
    res = hwc("--help")
    assert res.returncode == 0
    for cmd in commands:
        assert re.search(rf"^\s+{cmd}\s", res.stdout, flags=re.M), cmd
