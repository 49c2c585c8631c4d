"""The per-layer table of a fixed-point graph: types, weight bits, multipliers after zero-skipping,
and, when cost figures are given (compiler/cost), estimated DSP, LUT, FF, block RAM and latency.
Printed by `hwc compile` at the end and by `hwc inspect DIR`."""

from __future__ import annotations

import numpy as np

from .ir.graph import Graph
from .ir.types import FixedType

COST_COLUMNS = ("dsp", "lut", "ff", "bram", "latency")


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


def _num(v) -> str:
    return f"{v:,.0f}" if v else ""


def format_rows(rows: list[dict], figures=None) -> str:
    """The table; with `figures` (compiler.cost.figures.Figures) its multipliers and cost columns."""
    header = ["node", "op", "output type", "weight type", "accumulator", "multipliers", "weight bits"]
    cost = []
    if figures is not None:
        units = {f.name: f.unit for f in figures.total}
        cost = [c for c in COST_COLUMNS if c in units]
        header += [units[c] if c != "latency" else "latency (cycles)" for c in cost]
    table = [tuple(header)]
    for r in rows:
        lf = figures.layer(r["node"]) if figures is not None else None
        mult = lf.value("multipliers") if lf is not None and r["weights"] else r["multipliers"]
        row = [r["node"], r["op"], r["output"], r["weight"], r["accum"],
               f"{mult:,}" if r["weights"] else "", f"{r['weight_bits']:,}" if r["weights"] else ""]
        row += [_num(lf.value(c)) if lf is not None else "" for c in cost]
        table.append(tuple(row))
    total_m = figures.value("multipliers") if figures is not None else sum(r["multipliers"] for r in rows)
    total_b = sum(r["weight_bits"] for r in rows)
    table.append(tuple(["total", "", "", "", "", f"{total_m:,}", f"{total_b:,}"] + [_num(figures.value(c)) for c in cost]))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = []
    for k, row in enumerate(table):
        lines.append("  ".join(c.rjust(w) if i >= 5 else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip())
        if k == 0 or k == len(table) - 2:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def quant_line(q: dict, modes: bool = True) -> str:
    """"wbits 4, abits 16, input 16 bits, outputs 16 bits, rounding RND, overflow SAT" from a graph's
    `quant` metadata (without the modes when `modes` is false)."""
    line = (f"wbits {q.get('wbits')}, abits {q.get('abits')}, input {q.get('input_bits')} bits, "
            f"outputs {q.get('output_bits')} bits")
    if modes:
        line += f", rounding {q.get('rounding')}, overflow {q.get('overflow')}"
        line += ", per-channel weights" if q.get("per_channel") else ""
    return line


def pruning_line(p: dict) -> str:
    """What pruning removed, from the `pruning` figures of compiler/compile.py `prune`."""
    b, a = p["before"], p["after"]
    what = {"weights": "weights", "neurons": "Dense neurons", "channels": "Conv channels"}[p["mode"]]
    how = p["criterion"] + (", refit" if p["refit"] else "") + (f", fine-tuned {p['finetune']} epochs" if p.get("finetune") else "")
    return (f"pruned {100 * p['fraction']:.0f} % of the {what} ({how}): parameters {b['params']:,} -> {a['params']:,} "
            f"({a['nonzero']:,} nonzero), MACs per sample {b['macs']:,} -> {a['macs']:,} "
            f"({b['macs'] / max(a['macs'], 1):.2f}x fewer)")
