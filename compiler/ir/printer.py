"""Deterministic text dump of a graph (for `hwc inspect --ir` and for reviewing changes)."""

from __future__ import annotations

import enum

import numpy as np

from .graph import Graph, Value


def _attr(a) -> str:
    if isinstance(a, float):
        return repr(a)
    if isinstance(a, (list, tuple)):
        return "[" + ", ".join(_attr(x) for x in a) + "]"
    if isinstance(a, enum.Enum):
        return a.value
    if isinstance(a, str):
        return repr(a)
    if a is None:
        return "none"
    return str(a)


def _operand(v: Value | None) -> str:
    if v is None:
        return "_"
    if v.const is not None:
        if v.const.size == 1:
            return f"{np.asarray(v.const).reshape(-1)[0]!r}:{v.type}"
        return f"@{v.name}:{v.type}"
    return f"%{v.name}"


def format_graph(graph: Graph) -> str:
    lines = [f"graph {graph.name}(" + ", ".join(f"%{v.name}: {v.type}" for v in graph.inputs) + ")"]
    for n in graph.toposort():
        outs = ", ".join(f"%{o.name}: {o.type}" for o in n.outputs)
        attrs = ", ".join(f"{k}={_attr(v)}" for k, v in sorted(n.attrs.items()))
        args = ", ".join(_operand(v) for v in n.inputs)
        lines.append(f"  {outs} = {n.op}({args})" + (f" {{{attrs}}}" if attrs else "") + f"  # {n.name}")
    lines.append("  return " + ", ".join(_operand(v) for v in graph.outputs))
    return "\n".join(lines) + "\n"
