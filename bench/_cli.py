"""What every bench script does when run alone: print its section, optionally write it to a file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable


def main(doc: str, section: Callable[[], str], argv=None) -> int:
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--out", help="also write the section to this Markdown file")
    args = p.parse_args(argv)
    text = section()
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0
