"""Every IR op is handled by every op table or listed as unsupported there with a reason, and
docs/SUPPORT.md is the current output of `python -m hwc.compiler.support_matrix`."""

from __future__ import annotations

from conftest import ROOT
from hwc.compiler import support_matrix as sm
from hwc.compiler.ir import ops


def test_every_op_is_in_every_table_or_listed_unsupported():
    assert sm.problems() == []


def test_an_op_added_to_the_schema_only_names_every_missing_table(monkeypatch):
    monkeypatch.setitem(ops.SCHEMAS, "NotAnOp", ops.SCHEMAS["Relu"])
    found = sm.problems()
    assert len(found) == len(sm.TABLES)
    for name, (what, where, _) in sm.TABLES.items():
        assert any(line.startswith(f"NotAnOp: missing in the {what} ({where})") and f"UNSUPPORTED[{name!r}]" in line
                   for line in found), name


def test_a_table_that_gains_a_listed_op_is_reported(monkeypatch):
    from hwc.compiler.sim.float_ops import FLOAT_OPS

    monkeypatch.setitem(FLOAT_OPS, "Rescale", FLOAT_OPS["Relu"])
    assert sm.problems() == ["Rescale: the float simulator (compiler/sim/float_ops.py FLOAT_OPS) handles it, "
                             "but UNSUPPORTED['float'] lists it"]


def test_docs_support_is_generated():
    assert (ROOT / "docs" / "SUPPORT.md").read_text() == sm.render(), \
        "regenerate: python -m hwc.compiler.support_matrix > docs/SUPPORT.md"
