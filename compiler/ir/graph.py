"""The graph IR: values with a producer and uses, nodes with typed attributes, one graph.

Edges change only through `Graph` methods (`add_node`, `set_input`, `replace_all_uses`, `remove_node`,
`set_outputs`), which keep every value's use list right; `verify()` checks that they are.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from .types import TensorType, elem_from_numpy


class IRError(Exception):
    """An inconsistent graph: a pass or the front end broke an invariant."""


@dataclass(frozen=True, eq=True)
class Use:
    node: "Node"
    index: int


def stable_toposort(count: int, edges: Iterable[tuple[int, int]]) -> list[int] | None:
    """Indices 0..count-1 in a topological order of the edges (a, b) = "a before b", taking the smallest
    ready index each time (Kahn's algorithm with a heap: networkx's lexicographical_topological_sort,
    without building a graph object); None when there is a cycle."""
    after: list[set[int]] = [set() for _ in range(count)]
    for a, b in edges:
        after[a].add(b)
    pending = [0] * count
    for succ in after:
        for b in succ:
            pending[b] += 1
    ready = [k for k in range(count) if pending[k] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        k = heapq.heappop(ready)
        order.append(k)
        for b in after[k]:
            pending[b] -= 1
            if pending[b] == 0:
                heapq.heappush(ready, b)
    return order if len(order) == count else None


class Value:
    """An SSA value: produced by one node (or a graph input / constant), used by many."""

    __slots__ = ("name", "type", "producer", "uses", "const", "__weakref__")

    def __init__(self, name: str, type: TensorType, const: np.ndarray | None = None):
        self.name = name
        self.type = type
        self.producer: Node | None = None
        self.uses: list[Use] = []
        self.const = const

    @property
    def is_const(self) -> bool:
        return self.const is not None

    @property
    def shape(self):
        return self.type.shape

    def __repr__(self) -> str:
        return f"%{self.name}: {self.type}"


class Node:
    """An operation. `op` names an IR op of `ops.SCHEMAS`; attributes are plain Python values."""

    __slots__ = ("op", "name", "inputs", "outputs", "attrs", "__weakref__")

    def __init__(self, op: str, name: str, inputs: list[Value | None], outputs: list[Value], attrs: dict[str, Any]):
        self.op = op
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.attrs = attrs

    def input(self, i: int) -> Value | None:
        return self.inputs[i] if i < len(self.inputs) else None

    @property
    def output(self) -> Value:
        return self.outputs[0]

    def __repr__(self) -> str:
        return f"<{self.op} {self.name}>"


class Graph:
    def __init__(self, name: str = "graph"):
        self.name = name
        self.nodes: list[Node] = []
        self.inputs: list[Value] = []
        self.outputs: list[Value] = []
        self.metadata: dict[str, Any] = {}
        self._names: set[str] = set()
        self._counter = itertools.count()

    # ---- names -------------------------------------------------------------------------------
    def unique_name(self, base: str) -> str:
        base = base or "v"
        name = base
        while name in self._names:
            name = f"{base}_{next(self._counter)}"
        self._names.add(name)
        return name

    # ---- construction ------------------------------------------------------------------------
    def add_input(self, name: str, type: TensorType) -> Value:
        v = Value(self.unique_name(name), type)
        self.inputs.append(v)
        return v

    def constant(self, array, name: str = "const", elem=None) -> Value:
        """A constant value (an initializer). It has no producer; the array is stored read-only.

        `elem` types the array's entries (e.g. a FixedType for an array of mantissas); by default the
        element type follows the numpy dtype.
        """
        arr = np.array(array, copy=True)
        arr.setflags(write=False)
        return Value(self.unique_name(name), TensorType(elem or elem_from_numpy(arr.dtype), arr.shape), const=arr)

    def add_node(self, op: str, inputs: Iterable[Value | None], attrs: dict[str, Any] | None = None,
                 name: str | None = None, num_outputs: int = 1, output_names: Iterable[str] | None = None,
                 output_types: Iterable[TensorType] | None = None, index: int | None = None) -> Node:
        """Create a node, wire its inputs, infer its output types (unless given) and append it.

        `index` inserts the node at that position in `self.nodes` instead of appending (the order
        is kept topological by `toposort`, so this is cosmetic).
        """
        from .ops import infer_types  # late import: ops depends on this module

        inputs = list(inputs)
        node = Node(op, self.unique_name(name or op.lower()), inputs, [], dict(attrs or {}))
        names = list(output_names) if output_names is not None else [f"{node.name}_out{i}" if i else node.name for i in range(num_outputs)]
        types = list(output_types) if output_types is not None else infer_types(node)
        if len(types) != len(names):
            raise IRError(f"{op} node {node.name}: {len(types)} output types for {len(names)} outputs")
        for n, t in zip(names, types):
            v = Value(self.unique_name(n), t)
            v.producer = node
            node.outputs.append(v)
        for i, v in enumerate(inputs):
            if v is not None:
                v.uses.append(Use(node, i))
        if index is None:
            self.nodes.append(node)
        else:
            self.nodes.insert(index, node)
        return node

    # ---- mutation ----------------------------------------------------------------------------
    def set_input(self, node: Node, index: int, value: Value | None) -> None:
        old = node.inputs[index] if index < len(node.inputs) else None
        if old is not None:
            old.uses.remove(Use(node, index))
        while len(node.inputs) <= index:
            node.inputs.append(None)
        node.inputs[index] = value
        if value is not None:
            value.uses.append(Use(node, index))

    def replace_all_uses(self, old: Value, new: Value, skip: Node | None = None) -> None:
        """Every use of `old` (including as a graph output) becomes a use of `new`, except by `skip`."""
        if old is new:
            return
        for use in list(old.uses):
            if use.node is not skip:
                self.set_input(use.node, use.index, new)
        self.outputs = [new if o is old else o for o in self.outputs]

    def remove_node(self, node: Node) -> None:
        """Remove a node whose outputs are unused (replace their uses first)."""
        for out in node.outputs:
            if out.uses or out in self.outputs:
                raise IRError(f"cannot remove {node.op} node {node.name}: its output {out.name} is still used")
        for i, v in enumerate(node.inputs):
            if v is not None:
                v.uses.remove(Use(node, i))
        node.inputs = []
        self.nodes.remove(node)
        self._names.discard(node.name)
        for out in node.outputs:
            self._names.discard(out.name)

    def set_outputs(self, outputs: list[Value]) -> None:
        self.outputs = list(outputs)

    def rename(self, value: Value, name: str) -> None:
        """Give a value a new name (made unique); its old name becomes free."""
        self._names.discard(value.name)
        value.name = self.unique_name(name)

    def rename_node(self, node: Node, name: str) -> None:
        self._names.discard(node.name)
        node.name = self.unique_name(name)

    def retype(self, value: Value, type: TensorType) -> None:
        """Change a value's type (a pass that narrows or quantizes a value calls this)."""
        value.type = type

    # ---- queries -----------------------------------------------------------------------------
    def producers_graph(self) -> "nx.DiGraph":
        import networkx as nx  # only for analyses that want the graph object (imported when needed)

        g = nx.DiGraph()
        g.add_nodes_from(self.nodes)
        for n in self.nodes:
            for v in n.inputs:
                if v is not None and v.producer is not None:
                    g.add_edge(v.producer, n)
        return g

    def toposort(self) -> list[Node]:
        """Nodes in a topological order; stable: ties keep the order of `self.nodes`."""
        index = {n: i for i, n in enumerate(self.nodes)}
        edges = [(index[v.producer], k) for k, n in enumerate(self.nodes)
                 for v in n.inputs if v is not None and v.producer is not None]
        order = stable_toposort(len(self.nodes), edges)
        if order is None:
            import networkx as nx  # only to name the cycle in the error

            cycle = nx.find_cycle(self.producers_graph())
            raise IRError("graph has a cycle through " + " -> ".join(f"{a.name}" for a, _ in cycle))
        return [self.nodes[k] for k in order]

    def sort(self) -> None:
        self.nodes = self.toposort()

    def values(self) -> list[Value]:
        """Every value reachable in the graph: inputs, constants used by nodes, node outputs."""
        seen: dict[int, Value] = {}
        for v in self.inputs:
            seen.setdefault(id(v), v)
        for n in self.nodes:
            for v in n.inputs:
                if v is not None:
                    seen.setdefault(id(v), v)
            for v in n.outputs:
                seen.setdefault(id(v), v)
        return list(seen.values())

    def consumers(self, value: Value) -> list[Node]:
        return [u.node for u in value.uses]

    def single_consumer(self, value: Value) -> Node | None:
        """The one node that uses `value`, if it has exactly one use and is not a graph output."""
        if len(value.uses) == 1 and value not in self.outputs:
            return value.uses[0].node
        return None

    # ---- checks ------------------------------------------------------------------------------
    def verify(self) -> None:
        """Check use-def consistency, acyclicity, each node's schema and its output types."""
        from .ops import check_node

        node_set = set(self.nodes)
        if len(node_set) != len(self.nodes):
            raise IRError("a node appears twice in the node list")
        produced: set[int] = set()
        for n in self.nodes:
            for i, out in enumerate(n.outputs):
                if out.producer is not n:
                    raise IRError(f"{n.op} node {n.name}: output {out.name} names another producer")
                if id(out) in produced:
                    raise IRError(f"value {out.name} is produced twice")
                produced.add(id(out))
        graph_inputs = {id(v) for v in self.inputs}
        for v in self.inputs:
            if v.producer is not None or v.is_const:
                raise IRError(f"graph input {v.name} has a producer or is constant")
        for n in self.nodes:
            for i, v in enumerate(n.inputs):
                if v is None:
                    continue
                if Use(n, i) not in v.uses:
                    raise IRError(f"{n.op} node {n.name}: input {i} ({v.name}) does not list this use")
                if v.producer is None and not v.is_const and id(v) not in graph_inputs:
                    raise IRError(f"{n.op} node {n.name}: input {v.name} is neither produced, constant nor a graph input")
                if v.producer is not None and v.producer not in node_set:
                    raise IRError(f"{n.op} node {n.name}: input {v.name} comes from a removed node {v.producer.name}")
        for v in self.values():
            for u in v.uses:
                if u.node not in node_set:
                    raise IRError(f"value {v.name} lists a use by removed node {u.node.name}")
                if u.index >= len(u.node.inputs) or u.node.inputs[u.index] is not v:
                    raise IRError(f"value {v.name} lists a use {u.node.name}[{u.index}] that does not exist")
        for o in self.outputs:
            if o.producer is not None and o.producer not in node_set:
                raise IRError(f"graph output {o.name} comes from a removed node")
        self.toposort()  # raises on a cycle
        for n in self.nodes:
            check_node(n)

    def clone(self) -> "Graph":
        """A deep copy of the structure; constant arrays (read-only) are shared."""
        g = Graph(self.name)
        g.metadata = dict(self.metadata)
        g._names = set(self._names)
        vmap: dict[int, Value] = {}

        def copy_value(v: Value) -> Value:
            if id(v) not in vmap:
                nv = Value(v.name, v.type, v.const)
                vmap[id(v)] = nv
            return vmap[id(v)]

        g.inputs = [copy_value(v) for v in self.inputs]
        for n in self.nodes:
            nn = Node(n.op, n.name, [copy_value(v) if v is not None else None for v in n.inputs], [],
                      {k: (list(a) if isinstance(a, list) else a) for k, a in n.attrs.items()})
            for out in n.outputs:
                nv = copy_value(out)
                nv.producer = nn
                nn.outputs.append(nv)
            for i, v in enumerate(nn.inputs):
                if v is not None:
                    v.uses.append(Use(nn, i))
            g.nodes.append(nn)
        g.outputs = [copy_value(v) for v in self.outputs]
        return g
