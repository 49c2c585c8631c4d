"""Every shipped example compiled for every target writes the same bytes as recorded in
`output_hashes.json` (recorded at the branch point of the architecture refactor, commit 0c30f55).

A change that alters outputs on purpose re-records them: `.venv/bin/python tests/hw_examples/output_hashes.py`
(see that module). Compile only: no C simulation, no runtime.
"""

from __future__ import annotations

import json

import pytest

from output_hashes import CASES, RECORD, record, targets_of

RECORDED = json.loads(RECORD.read_text())


@pytest.fixture(scope="module")
def compiled():
    return record()


@pytest.mark.parametrize("case", sorted(CASES))
def test_outputs_are_byte_identical(case, compiled):
    got = compiled[case]
    for t in targets_of(case):
        assert got[t] == RECORDED[case][t], f"{case} --target {t}: outputs differ from {RECORD.name}"


def test_every_case_is_recorded():
    assert sorted(RECORDED) == sorted(CASES)
    assert all(sorted(RECORDED[c]) == sorted(targets_of(c)) for c in CASES)
