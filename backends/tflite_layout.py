"""Where each IR value of the affine TFLite IR lives in the model (backends/tflite.py): every IR value gets a
permutation p with tflite_tensor = ir_value.transpose(p) (NHWC (0, 2, 3, 1) around convolutions and pools,
identity for FULLY_CONNECTED). IR Transposes only relate permutations and emit nothing; a flatten of a
channels-last tensor into a Dense permutes the Dense's weight rows instead of transposing data. A model that
would need a TRANSPOSE op is refused. Also: which boundary conversions the host performs (`io_values`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..compiler.errors import HwcError
from ..compiler.ir.graph import Graph, Node, Value
from ..compiler.sim import tflite_ops as T

SPATIAL = ("Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "Resize")
TIED = ("FromFloat", "ToFloat", "Cast", "Relu", "Sigmoid", "Tanh", "Add", "Mul", "Concat", "Pad", "Softmax") + T.LUT_OPS


@dataclass
class Layout:
    perm: dict[int, tuple[int, ...]] = field(default_factory=dict)  # id(value) -> p: tflite = ir.transpose(p)
    fold: dict[int, np.ndarray] = field(default_factory=dict)  # id(Dense) -> weight row order

    def of(self, v: Value) -> tuple[int, ...]:
        return self.perm.get(id(v), tuple(range(v.type.rank)))

    def shape(self, v: Value) -> list[int]:
        return [1 if v.type.shape[i] is None else v.type.shape[i] for i in self.of(v)]


def _compatible(p, shape) -> bool:
    """p moves no axis of size > 1 past another: the row-major bytes are those of the IR tensor."""
    big = [i for i in p if shape[i] is None or shape[i] > 1]
    return big == sorted(big)


def plan_layout(graph: Graph) -> Layout:
    lay = Layout()
    perm = lay.perm

    def put(v: Value, p, node: Node) -> bool:
        p = tuple(p)
        if id(v) in perm:
            if perm[id(v)] != p:
                raise HwcError(f"layout conflict: {v.name} would be both {list(perm[id(v)])} and {list(p)} "
                               "(a TRANSPOSE op would be needed)", node=node.name, op=node.op)
            return False
        perm[id(v)] = p
        return True

    order = graph.toposort()
    for n in order:
        if n.op in SPATIAL:
            put(n.inputs[0], T.NHWC, n)
            put(n.output, T.NHWC, n)
        elif n.op == "Dense":
            put(n.inputs[0], (0, 1), n)
            put(n.output, (0, 1), n)
        elif n.op == "Softmax":
            r, ax = n.output.type.rank, n.attrs["axis"] % n.output.type.rank
            put(n.output, [i for i in range(r) if i != ax] + [ax], n)
    runtime = [v for v in graph.inputs] + [o for n in order for o in n.outputs]
    for _ in range(len(runtime) + 1):  # each round fixes one more free value
        changed = True
        while changed:
            changed = False
            for n in order:
                if n.op in TIED:
                    group = [v for v in n.inputs if v is not None and v.const is None] + [n.output]
                    known = [perm[id(v)] for v in group if id(v) in perm]
                    if known:
                        for v in group:
                            changed |= put(v, known[0], n)
                elif n.op == "Transpose":
                    t, x, y = list(n.attrs["perm"]), n.inputs[0], n.output
                    if id(x) in perm:
                        changed |= put(y, [t.index(j) for j in perm[id(x)]], n)
                    elif id(y) in perm:
                        changed |= put(x, [t[j] for j in perm[id(y)]], n)
        free = next((v for v in runtime if id(v) not in perm), None)
        if free is None:
            break
        perm[id(free)] = tuple(range(free.type.rank))
    else:
        raise HwcError("the layout did not settle (a cycle of Transposes?)")
    for n in order:
        if n.op == "Reshape":
            x, y = n.inputs[0], n.output
            if not _compatible(perm[id(y)], y.type.shape):
                raise HwcError("this Reshape produces a channels-last tensor in another order; a TRANSPOSE op "
                               "would be needed", node=n.name, op=n.op)
            if _compatible(perm[id(x)], x.type.shape):
                continue
            users = [u.node for u in y.uses]
            px = perm[id(x)]
            if y.type.rank != 2 or px[0] != 0 or y in graph.outputs or not users or \
                    any(u.op != "Dense" or u.inputs[0] is not y for u in users):
                raise HwcError("a Reshape of a channels-last tensor that does not feed Dense layers would need a "
                               "TRANSPOSE op", node=n.name, op=n.op)
            inner = [d for d in x.type.shape[1:]]
            idx = np.arange(math.prod(inner)).reshape(inner).transpose([p - 1 for p in px[1:]]).reshape(-1)
            for u in users:
                lay.fold[id(u)] = idx
    return lay


def _is_edge(graph: Graph, n: Node, float_io: bool) -> bool:
    """A boundary conversion the host performs (not written into the model)."""
    if n.op == "FromFloat":
        return not float_io
    if n.op == "ToFloat":  # at an output (possibly through a memory-order Transpose); else inside the model
        out = n.output
        if len(out.uses) == 1 and out.uses[0].node.op == "Transpose":
            out = out.uses[0].node.output
        return not float_io and out in graph.outputs
    if n.op == "Cast":
        return n.inputs[0] in graph.inputs or (n.output in graph.outputs and not T.is_int8(n.output))
    return False


def edge_in(graph: Graph, v: Value, float_io: bool) -> Node | None:
    """The host-side conversion node that graph input v feeds (possibly through a memory-order Transpose)."""
    for u in v.uses:
        n = u.node
        if n.op == "Transpose" and len(n.output.uses) == 1:
            n = n.output.uses[0].node
        if _is_edge(graph, n, float_io):
            return n
    return None


def edge_out(graph: Graph, v: Value, float_io: bool) -> Node | None:
    """The host-side conversion node that computes graph output v (possibly through a memory-order Transpose)."""
    n = v.producer
    if n is not None and n.op == "Transpose" and n.inputs[0].producer is not None:
        n = n.inputs[0].producer if _is_edge(graph, n.inputs[0].producer, float_io) else n
    return n if n is not None and _is_edge(graph, n, float_io) else None


def io_values(graph: Graph, float_io: bool) -> tuple[list[Value], list[Value]]:
    """The IR values that are the model file's inputs and outputs (after host-side edge conversions)."""
    ins = [e.output if (e := edge_in(graph, v, float_io)) is not None else v for v in graph.inputs]
    outs = [e.inputs[0] if (e := edge_out(graph, v, float_io)) is not None else v for v in graph.outputs]
    return ins, outs


# ops whose builtin kernels treat a SIMD prefix and a scalar tail of the flat tensor differently
ORDER_DEPENDENT = ("FromFloat", "ToFloat", "Mul")


def explicit_memory_order(graph: Graph, lay: Layout) -> bool:
    """Put ORDER_DEPENDENT nodes whose tensors are stored permuted between IR Transposes to and from the
    stored order, so that the simulator sees the elements in memory order. The Transposes emit nothing."""
    changed = False
    for n in [n for n in graph.toposort() if n.op in ORDER_DEPENDENT]:
        p = lay.of(n.output)
        if _compatible(p, n.output.type.shape):
            continue
        ins = [graph.add_node("Transpose", [v], {"perm": list(p)}, name=f"{n.name}_to_memory_order").output
               for v in n.inputs]
        t = n.output.type
        inner = graph.add_node(n.op, ins, dict(n.attrs), name=f"{n.name}_in_memory_order",
                               output_types=[t.with_shape([t.shape[i] for i in p])])
        back = graph.add_node("Transpose", [inner.output], {"perm": [int(i) for i in np.argsort(p)]},
                              name=f"{n.name}_from_memory_order", output_types=[t])
        name = n.output.name
        graph.replace_all_uses(n.output, back.output)
        graph.remove_node(n)
        graph.rename(back.output, name)
        changed = True
    if changed:
        graph.sort()
        graph.verify()
    return changed
