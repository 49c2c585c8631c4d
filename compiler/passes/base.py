"""What a pass is, and the loop that runs a list of them to a fixed point."""

from __future__ import annotations

from typing import Sequence

from ..ir.errors import IRError
from ..ir.graph import Graph


class Pass:
    """A graph rewrite. `run` changes the graph in place and returns whether it changed anything."""

    name: str = ""  # the CLI name, e.g. "fold-batchnorm"

    def run(self, graph: Graph) -> bool:
        raise NotImplementedError


class PassManager:
    """Run passes in order, repeating the list until none changes the graph (at most `max_rounds`).

    With `verify=True` the graph is verified after every pass that changed it (the tests do this).
    With `fixed_point=False` the list runs once: a lowering whose steps each do their part once, in order.
    """

    def __init__(self, passes: Sequence[Pass], max_rounds: int = 20, verify: bool = False, fixed_point: bool = True):
        self.passes = list(passes)
        self.max_rounds = max_rounds if fixed_point else 1
        self.verify = verify
        self.fixed_point = fixed_point

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
            if not changed or not self.fixed_point:
                return changes
        raise IRError(f"passes did not reach a fixed point in {self.max_rounds} rounds: {changes}")


def take_place(graph: Graph, old, new) -> None:
    """`new` (already added) replaces the single-output node `old`: old's uses move to new's output,
    old is removed and new takes its node and value names (so names in files and reports stay)."""
    graph.replace_all_uses(old.output, new.output)
    graph.remove_node(old)
    graph.rename_node(new, old.name)
    graph.rename(new.output, old.output.name)
