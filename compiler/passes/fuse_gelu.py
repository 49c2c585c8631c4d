"""FuseGelu: the exact GELU as PyTorch exports it, x · 0.5 · (1 + erf(x / √2)) — Div (or Mul by 1/√2),
Erf, Add 1 and two Muls in any of the exporters' orders — becomes Gelu(x): one table in fixed point
instead of a table and a product of two activations. The float value differs from the chain only by
float32 rounding of its steps."""

from __future__ import annotations

import math

from ..ir.graph import Graph, Node, Value
from .base import Pass, take_place


def _scalar(v: Value | None) -> float | None:
    c = None if v is None else v.const
    return float(c.reshape(-1)[0]) if c is not None and c.size == 1 else None


def _other(node: Node, v: Value) -> Value | None:
    """The other input of a binary node with input v."""
    a, b = node.inputs
    return b if a is v else a if b is v else None


def _close(a: float | None, b: float) -> bool:
    return a is not None and abs(a - b) <= 1e-6 * abs(b)


class FuseGelu(Pass):
    name = "fuse-gelu"

    def _source(self, graph: Graph, erf: Node) -> Value | None:
        """x when erf's input is x / √2 or x · (1/√2) from a node used only here."""
        u = erf.inputs[0].producer
        if u is None or u.op not in ("Div", "Mul") or graph.single_consumer(u.output) is not erf:
            return None
        x, c = u.inputs
        if x.const is not None:
            x, c = c, x
        want = math.sqrt(2.0) if u.op == "Div" else math.sqrt(0.5)
        return x if x.const is None and _close(_scalar(c), want) else None

    def _match(self, graph: Graph, erf: Node):
        """(x, nodes of the chain, last Mul) or None."""
        x = self._source(graph, erf)
        add = graph.single_consumer(erf.output)
        if x is None or add is None or add.op != "Add" or not _close(_scalar(_other(add, erf.output)), 1.0):
            return None
        m1 = graph.single_consumer(add.output)
        if m1 is None or m1.op != "Mul":
            return None
        k = _other(m1, add.output)
        if k is x:  # x · (1 + erf) then · 0.5
            m2 = graph.single_consumer(m1.output)
            ok = m2 is not None and m2.op == "Mul" and _close(_scalar(_other(m2, m1.output)), 0.5)
        elif k is not None and k.producer is not None and k.producer.op == "Mul":  # (x · 0.5) · (1 + erf)
            h = k.producer
            ok = _other(h, x) is not None and _close(_scalar(_other(h, x)), 0.5) and graph.single_consumer(k) is m1
            m2 = m1
        elif _close(_scalar(k), 0.5):  # ((1 + erf) · 0.5) · x
            m2 = graph.single_consumer(m1.output)
            ok = m2 is not None and m2.op == "Mul" and _other(m2, m1.output) is x
        else:
            return None
        if not ok:
            return None
        chain = [n for n in (m1, add, erf, erf.inputs[0].producer) if n is not m2]
        if k is not None and k.producer is not None and k.producer.op == "Mul" and m2 is m1:
            chain.append(k.producer)
        return x, chain, m2

    def run(self, graph: Graph) -> bool:
        changed = False
        for erf in [n for n in graph.nodes if n.op == "Erf"]:
            if erf not in graph.nodes:
                continue
            found = self._match(graph, erf)
            if found is None:
                continue
            x, chain, last = found
            gelu = graph.add_node("Gelu", [x], {"approximate": "none"}, index=graph.nodes.index(last))
            take_place(graph, last, gelu)
            for n in chain:
                graph.remove_node(n)
            changed = True
        return changed
