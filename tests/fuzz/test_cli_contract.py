"""The CLI contract under mutation (issue #11): for every command and every mutated model, option,
output path or compiled directory, `hwc` exits 0 or 2; exit 2 prints exactly one line
`hwc: error: ...` and no traceback; a failed command leaves nothing behind; no case hangs; and an
input that is invalid by construction is never accepted (exit 0).

Cases are drawn by hypothesis from the families in mutations.py with a fixed seed (the same cases on
every run); the CLI runs in this process (contract.run_cli), about 20-60 ms a case. `make test` runs
SLICE cases per family (6 x 90 = 540); `make fuzz` runs 2,000 per family (12,000) with a time budget
and writes the summary of outcome classes per family (--fuzz-summary).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from conftest import print_uncaptured
from contract import run_cli
from mutations import FAMILIES, Ctx
from seeds import build_seeds, compile_dirs

SLICE = 90
COUNTS: dict[str, Counter] = defaultdict(Counter)
EXAMPLES: dict[tuple[str, str], str] = {}
ALL: list[str] = []


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz_seeds")
    seeds = build_seeds(root)
    return seeds, compile_dirs(root, seeds)


@pytest.fixture(scope="module", autouse=True)
def summary(request):
    yield
    if not COUNTS:
        return
    kinds = sorted({k for c in COUNTS.values() for k in c})
    lines = ["", "fuzz summary (cases per outcome class and mutation family):",
             "  " + "family".ljust(10) + "".join(k.rjust(11) for k in kinds) + "total".rjust(9)]
    for fam in FAMILIES:
        c = COUNTS.get(fam)
        if c:
            lines.append("  " + fam.ljust(10) + "".join(str(c[k]).rjust(11) for k in kinds) +
                         str(sum(c.values())).rjust(9))
    bad = [(k, v) for k, v in sorted(EXAMPLES.items())]
    if bad:
        lines.append("  violations (first of each class):")
        lines += [f"    {fam}/{kind}: {text}" for (fam, kind), text in bad]
    text = "\n".join(lines)
    path = request.config.getoption("--fuzz-summary", default=None)
    if path:
        Path(path).write_text(text.lstrip() + "\n" + "".join(f"  {v}\n" for v in ALL))
    print_uncaptured(request, text)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_cli_contract(family, corpus, request):
    seeds, dirs = corpus
    cases = request.config.getoption("--fuzz-cases", default=None) or SLICE
    budget = request.config.getoption("--fuzz-budget", default=None)
    start = time.monotonic()
    violations: list[str] = []

    @seed(request.config.getoption("--fuzz-seed", default=0) * 1000 + list(FAMILIES).index(family))
    @settings(max_examples=cases, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck), phases=("generate",))
    @given(st.data())
    def one(data):
        if budget is not None and time.monotonic() - start > budget:
            COUNTS[family]["skipped"] += 1
            return
        work = Path(tempfile.mkdtemp(prefix="hwc_fuzz_"))
        try:
            case = FAMILIES[family](data, Ctx(work, seeds, dirs))
            out = run_cli(case.argv, work, timeout=case.timeout, invalid=case.invalid, expect_outputs=case.outputs)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        COUNTS[family][out.kind] += 1
        if out.violation:
            EXAMPLES.setdefault((family, out.kind), f"{case.what} :: {out.detail or out.stderr.strip()[:200]}")
            violations.append(f"{out.kind}: {case.what} :: {out.detail or out.stderr.strip()[:300]}")
            ALL.append(f"{family} {violations[-1]}")

    one()
    assert not violations, f"{len(violations)} contract violations, e.g.\n" + "\n".join(violations[:10])
