"""What a pass is, and the loop that runs a list of them to a fixed point."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..ir.graph import Graph, IRError


class Pass:
    """A graph rewrite. `run` changes the graph in place and returns whether it changed anything."""

    name: str = ""  # the CLI name, e.g. "fold-batchnorm"

    def run(self, graph: Graph) -> bool:
        raise NotImplementedError


class PassManager:
    """Run passes in order, repeating the list until none changes the graph (at most `max_rounds`).

    With `verify=True` the graph is verified after every pass that changed it (the tests do this).
    """

    def __init__(self, passes: Sequence[Pass], max_rounds: int = 20, verify: bool = False):
        self.passes = list(passes)
        self.max_rounds = max_rounds
        self.verify = verify

    def run(self, graph: Graph) -> dict[str, int]:
        """Returns how many times each pass changed the graph."""
        changes = {p.name: 0 for p in self.passes}
        for _ in range(self.max_rounds):
            changed = False
            for p in self.passes:
                if p.run(graph):
                    changed = True
                    changes[p.name] += 1
                    if self.verify:
                        graph.verify()
            if not changed:
                return changes
        raise IRError(f"passes did not reach a fixed point in {self.max_rounds} rounds: {changes}")


def static_value(v) -> np.ndarray:
    """The value of a static sub-graph (weights behind quantizers and layout ops), computed by the
    float simulator, in the dtype its ops produce."""
    from ..sim.float_ops import FLOAT_OPS

    if v.const is not None:
        return v.const
    node = v.producer
    if node is None:  # a graph input where a weight is expected (its initializer is missing)
        from ..errors import HwcError

        raise HwcError(f"'{v.name}' is used as a weight but is a graph input (no initializer gives its value)")
    args = [static_value(i) if i is not None else None for i in node.inputs]
    while args and args[-1] is None:
        args.pop()
    return FLOAT_OPS[node.op](node, *args)


# ops a weight passes through between its constant and the layer that reads it
WEIGHT_PATH = frozenset({"Quant", "BipolarQuant", "Trunc", "QuantizeLinear", "DequantizeLinear", "Transpose", "Reshape",
                         "Clip", "Cast", "Identity"})


def constant_source(v):
    """The constant a value is derived from through the ops of WEIGHT_PATH (None when there is none)."""
    while v is not None and v.const is None and v.producer is not None and v.producer.op in WEIGHT_PATH:
        v = v.producer.inputs[0]
    return v if v is not None and v.const is not None else None


def is_static(graph: Graph, value) -> bool:
    """True if `value` is a constant or computed from constants only (e.g. Quant applied to a weight)."""
    seen: dict[int, bool] = {}

    def walk(v) -> bool:
        if v is None or v.const is not None:
            return True
        if v.producer is None:
            return False
        if id(v) not in seen:
            seen[id(v)] = all(walk(i) for i in v.producer.inputs)
        return seen[id(v)]

    return walk(value)


def take_place(graph: Graph, old, new) -> None:
    """`new` (already added) replaces the single-output node `old`: old's uses move to new's output,
    old is removed and new takes its node and value names (so names in files and reports stay)."""
    graph.replace_all_uses(old.output, new.output)
    graph.remove_node(old)
    graph.rename_node(new, old.name)
    graph.rename(new.output, old.output.name)
