"""The results table of a sweep: `SWEEP_DIR/results.sqlite`, one row per point, appended as points finish.

SQLite in WAL mode with a busy timeout: each row is one committed transaction, so a killed sweep
loses at most the points still running, and two sweeps writing the same directory serialise their
writes instead of corrupting the file. The point's key (content hash of model, data and options) is
the primary key and rows are inserted with `INSERT OR IGNORE`: a point evaluated twice (two sweeps,
a Ray retry) is stored once, the first result kept.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from ..errors import HwcError

FILE = "results.sqlite"
COLUMNS = {  # name -> SQL type
    "key": "TEXT PRIMARY KEY", "model_hash": "TEXT", "data_hash": "TEXT", "target": "TEXT", "point": "TEXT",
    "options": "TEXT", "command": "TEXT", "status": "TEXT", "error": "TEXT", "metric": "TEXT", "accuracy": "REAL",
    "correct": "INTEGER", "total": "INTEGER", "cost": "TEXT", "verify": "TEXT", "durations": "TEXT",
    "hwc_version": "TEXT", "worker": "TEXT", "finished": "REAL",
}
JSON_COLUMNS = ["point", "options", "cost", "verify", "durations"]  # stored as JSON text (SQLite's json_extract reads them)


class ResultStore:
    def __init__(self, sweep_dir, create: bool = True):
        path = Path(sweep_dir) / FILE
        if not create and not path.exists():
            raise HwcError(f"has no {FILE}: not a sweep directory", str(sweep_dir))
        if create:
            Path(sweep_dir).mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(path, timeout=60, isolation_level=None)
            self.db.execute("PRAGMA busy_timeout = 60000")
            self.db.execute("PRAGMA journal_mode = WAL")
            cols = ", ".join(f"{k} {t}" for k, t in COLUMNS.items())
            self.db.execute(f"CREATE TABLE IF NOT EXISTS results ({cols})")
            self.db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
        except sqlite3.DatabaseError as e:
            raise HwcError(f"cannot use {FILE} ({e})", str(sweep_dir)) from None

    def done_keys(self) -> set[str]:
        return {k for (k,) in self.db.execute("SELECT key FROM results")}

    def add(self, row: dict[str, Any]) -> bool:
        """Append one finished point; False when its key was already stored."""
        row = {**row, "finished": row.get("finished", time.time())}
        values = [json.dumps(row.get(k), sort_keys=True) if k in JSON_COLUMNS else row.get(k) for k in COLUMNS]
        cur = self.db.execute(f"INSERT OR IGNORE INTO results ({', '.join(COLUMNS)}) VALUES "
                              f"({', '.join('?' * len(COLUMNS))})", values)
        return cur.rowcount == 1

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for values in self.db.execute(f"SELECT {', '.join(COLUMNS)} FROM results ORDER BY key"):
            row = dict(zip(COLUMNS, values))
            for k in JSON_COLUMNS:
                row[k] = json.loads(row[k]) if row[k] is not None else None
            out.append(row)
        return out

    def set_meta(self, name: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, json.dumps(value, sort_keys=True)))

    def meta(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.db.execute("SELECT name, value FROM meta")}

    def close(self) -> None:
        self.db.close()
