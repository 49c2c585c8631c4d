"""`hwc inspect MODEL|DIR`: layers, shapes, parameters, MACs, quantization; types of a compiled model."""

from __future__ import annotations

import json
import sys

from ..analysis import layer_table
from ..ir.printer import format_graph
from ..summary import format_rows, layer_rows
from ..compile_model import load_onnx_model
from .common import is_compiled_dir, load_compiled


def _shape(s) -> str:
    return "x".join("N" if d is None else str(d) for d in s)


def run(args) -> int:
    compiled = is_compiled_dir(args.model)
    graph = load_compiled(args.model) if compiled else load_onnx_model(args.model)
    if args.ir:
        sys.stdout.write(format_graph(graph))
        return 0
    rows = layer_table(graph)
    totals = {"params": sum(r["params"] for r in rows), "macs": sum(r["macs"] for r in rows), "nodes": len(rows)}
    if compiled:
        typed = layer_rows(graph)
        for r, t in zip(rows, typed):
            r.update({k: t[k] for k in ("output", "weight", "accum", "multipliers", "weight_bits")})
        totals.update(multipliers=sum(t["multipliers"] for t in typed), weight_bits=sum(t["weight_bits"] for t in typed))
    if args.json:
        print(json.dumps({"model": str(args.model), "compiled": compiled,
                          "inputs": {v.name: str(v.type) for v in graph.inputs},
                          "outputs": {v.name: str(v.type) for v in graph.outputs}, "layers": rows, "total": totals}, indent=1))
        return 0
    print(f"{args.model}: {totals['nodes']} nodes, {totals['params']:,} parameters, {totals['macs']:,} MACs per sample")
    print("inputs:  " + ", ".join(f"{v.name} {v.type}" for v in graph.inputs))
    print("outputs: " + ", ".join(f"{v.name} {v.type}" for v in graph.outputs))
    if compiled:
        pruning = graph.metadata.get("pruning")
        if pruning:  # what the model had before it was pruned
            from ..summary import pruning_line

            print(pruning_line(pruning))
        print(format_rows(layer_rows(graph)))
        return 0
    header = ("node", "op", "input shape", "output", "params", "MACs", "quantization")
    table = [header] + [(r["node"], r["op"], " ".join(_shape(s) for s in r["inputs"]), _shape(r["output"]),
                         f"{r['params']:,}", f"{r['macs']:,}", r["quant"]) for r in rows]
    table.append(("total", "", "", "", f"{totals['params']:,}", f"{totals['macs']:,}", ""))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for k, row in enumerate(table):
        print("  ".join(c.ljust(w) if i in (0, 1, 2, 3, 6) else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip())
        if k == 0 or k == len(table) - 2:
            print("  ".join("-" * w for w in widths))
    return 0
