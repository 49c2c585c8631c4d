"""The per-layer table of a fixed-point graph: types, weight bits, multipliers after zero-skipping.
Printed by `hwc compile` at the end and by `hwc inspect DIR`."""

from __future__ import annotations

import numpy as np

from .ir.graph import Graph
from .ir.types import FixedType


def layer_rows(graph: Graph) -> list[dict]:
    rows = []
    for n in graph.toposort():
        row = {"node": n.name, "op": n.op, "output": str(n.output.type.elem), "weight": "", "accum": "",
               "weights": 0, "multipliers": 0, "weight_bits": 0}
        if n.op in ("Dense", "Conv"):
            w = n.inputs[1]
            wt = w.type.elem
            row["weight"] = str(wt)
            row["accum"] = str(n.attrs.get("accum") or "")
            row["weights"] = int(w.const.size)
            nz = int(np.count_nonzero(w.const))
            row["multipliers"] = nz
            row["weight_bits"] = nz * (wt.width if isinstance(wt, FixedType) else 32)
        rows.append(row)
    return rows


def format_rows(rows: list[dict]) -> str:
    header = ("node", "op", "output type", "weight type", "accumulator", "multipliers", "weight bits")
    table = [header] + [(r["node"], r["op"], r["output"], r["weight"], r["accum"],
                         f"{r['multipliers']:,}" if r["weights"] else "", f"{r['weight_bits']:,}" if r["weights"] else "")
                        for r in rows]
    total_m = sum(r["multipliers"] for r in rows)
    total_b = sum(r["weight_bits"] for r in rows)
    table.append(("total", "", "", "", "", f"{total_m:,}", f"{total_b:,}"))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = []
    for k, row in enumerate(table):
        lines.append("  ".join(c.rjust(w) if i >= 5 else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip())
        if k == 0 or k == len(table) - 2:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
