"""The results table: one row per key whoever writes it, JSON columns round-trip, concurrent writers."""

from __future__ import annotations

import multiprocessing
import sqlite3

from hwc.compiler.sweep.store import ResultStore


def point(key: str) -> dict:
    return {"key": key, "status": "ok", "accuracy": 0.5, "point": {"wbits": 4}, "cost": {"bops": 12},
            "durations": {"total": 0.1}}


def test_insert_once_and_round_trip(tmp_path):
    store = ResultStore(tmp_path)
    assert store.add(point("k1")) is True
    assert store.add({**point("k1"), "accuracy": 0.9}) is False  # the first result is kept
    store.set_meta("float_accuracy", 0.97)
    store.close()
    again = ResultStore(tmp_path, create=False)
    (r,) = again.rows()
    assert (r["key"], r["accuracy"], r["point"], r["cost"]) == ("k1", 0.5, {"wbits": 4}, {"bops": 12})
    assert again.meta() == {"float_accuracy": 0.97} and again.done_keys() == {"k1"}


def _writer(path, start):
    store = ResultStore(path)
    for k in range(start, start + 200):
        store.add(point(f"k{k % 300}"))  # the two writers overlap on keys 100..199 (mod 300)
    store.close()


def test_two_writers(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(tmp_path, s)) for s in (0, 100)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = ResultStore(tmp_path, create=False)
    assert store.done_keys() == {f"k{k}" for k in range(300)}
    assert len(store.rows()) == 300
    assert sqlite3.connect(tmp_path / "results.sqlite").execute("PRAGMA integrity_check").fetchone() == ("ok",)
