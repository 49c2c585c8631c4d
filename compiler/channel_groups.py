"""Which channels must be pruned together, and where each one lives.

A *group* is a set of logical channels 0..C-1 shared by several tensors: the output of the layers that
produce them (Dense neurons, Conv kernels: the *sources*), every tensor that carries them unchanged
(activations, BatchNorm, pooling, Pad, Resize, Identity), the other operand of a residual Add (whose
producer becomes a source too: coupled channels go together), a Concat output (at an offset), a
flattened tensor (channel l is the block [l·HW, (l+1)·HW)), and the layers that read them (the
*sinks*: input channels of a Conv, rows of a Dense). Depthwise convolutions pass channels through,
with their own kernels sliced. A group that reaches something it cannot shrink (a graph output, a
Softmax over channels, an unsupported op) is frozen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .ir.graph import Graph, Node, Value
from .ir.static import is_static

CHANNEL_PRESERVING = frozenset({"Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh", "HardSigmoid", "Selu", "Identity",
                                "Dropout", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Resize",
                                "Cast", "BatchNormalization", "Quant", "Trunc", "Rescale"})
LAYERS = frozenset({"Dense", "Conv"})
ELEMENTWISE = frozenset({"Add", "Sub", "Mul"})
# every op the walk carries channels through (Concat on axis 1, a flattening Reshape, Pad off the channel axis);
# any other op on the path freezes the group: its channels are not pruned
CHANNEL_OPS = CHANNEL_PRESERVING | LAYERS | ELEMENTWISE | {"Concat", "Reshape", "Pad"}


@dataclass(frozen=True)
class Member:
    value: Value
    offset: int  # logical channel l lives at channel offset + l of this tensor's channel axis ...
    block: int = 1  # ... as the indices [(offset + l) * block, (offset + l + 1) * block)


@dataclass
class Group:
    size: int
    sources: list[Node] = field(default_factory=list)  # Dense/Conv whose output channels are the group
    members: list[Member] = field(default_factory=list)
    sinks: list[tuple[Node, Member]] = field(default_factory=list)  # layers reading the channels as inputs
    passthrough: list[Node] = field(default_factory=list)  # BatchNorm, depthwise Conv, per-channel Quant: sliced
    frozen: str = ""  # why it cannot be pruned ("" when it can)

    @property
    def name(self) -> str:
        return "+".join(n.name for n in self.sources)


def channels(v: Value) -> int | None:
    s = v.type.shape
    return s[1] if len(s) >= 2 and s[1] is not None else None


def _static_weights(graph: Graph, node: Node) -> bool:
    return node.op in ("Dense", "Conv") and is_static(graph, node.inputs[1]) and \
        (node.input(2) is None or is_static(graph, node.inputs[2]))


def _depthwise(node: Node) -> bool:
    return node.op == "Conv" and node.attrs["group"] > 1 and node.attrs["group"] == node.inputs[1].type.shape[0] \
        and node.inputs[1].type.shape[1] == 1


def find_group(graph: Graph, source: Node) -> Group:
    """The group of `source`'s output channels."""
    size = channels(source.output)
    g = Group(size or 0)
    if not size or not _static_weights(graph, source):
        g.frozen = "not a layer with constant weights"
        return g
    seen: set[tuple[int, int, int]] = set()
    todo: list[Member] = []
    backward: set[int] = set()  # members reached as the other operand of a residual op: their producer joins

    def add(member: Member, from_consumer: bool = False):
        key = (id(member.value), member.offset, member.block)
        if from_consumer:
            backward.add(id(member.value))
        if key not in seen:
            seen.add(key)
            g.members.append(member)
            todo.append(member)

    def add_source(node: Node, offset: int):
        if node in g.sources:
            return
        if offset != 0 or channels(node.output) != size or not _static_weights(graph, node):
            g.frozen = g.frozen or f"{node.name} cannot drop its output channels with the group"
            return
        g.sources.append(node)

    add_source(source, 0)
    add(Member(source.output, 0))
    while todo and not g.frozen:
        m = todo.pop()
        v = m.value
        if v in graph.outputs:
            g.frozen = f"{v.name} is a graph output"
            break
        # backward: who else produces these channels (reached through a residual Add)
        p = v.producer
        if id(v) in backward and p is not None and p not in g.sources and m.block == 1:
            if p.op in LAYERS and not _depthwise(p):
                add_source(p, m.offset)
            elif p.op in CHANNEL_PRESERVING or _depthwise(p):
                if (p.op == "Quant" and _per_channel(p)) or p.op in ("BatchNormalization", "Rescale") or _depthwise(p):
                    if p not in g.passthrough:
                        g.passthrough.append(p)
                add(Member(p.inputs[0], m.offset), from_consumer=True)
            elif p.op in ELEMENTWISE:
                for x in p.inputs:
                    if x.const is None:
                        add(Member(x, m.offset), from_consumer=True)
            elif p.op == "Concat":
                pass  # channels came from one input: handled going forward from that input
            else:
                g.frozen = f"{p.name} ({p.op}) produces the channels and cannot drop them"
                break
        for use in list(v.uses):
            u = use.node
            if u.op in ("Dense",) and use.index == 0 and v.type.rank == 2:
                g.sinks.append((u, m))
            elif u.op == "Conv" and use.index == 0:
                if _depthwise(u) and m.block == 1:
                    if u not in g.passthrough:
                        g.passthrough.append(u)
                    add(Member(u.output, m.offset))
                elif u.attrs["group"] == 1 and m.block == 1:
                    g.sinks.append((u, m))
                else:
                    g.frozen = f"{u.name}: grouped convolution"
            elif u.op in CHANNEL_PRESERVING and use.index == 0:
                if u.op in ("BatchNormalization", "Rescale") or (u.op == "Quant" and _per_channel(u)):
                    if u not in g.passthrough:
                        g.passthrough.append(u)
                add(Member(u.output, m.offset, m.block))
            elif u.op in ELEMENTWISE and all(x.const is None for x in u.inputs):
                if any(x.type.shape != v.type.shape for x in u.inputs):
                    g.frozen = f"{u.name}: broadcasting over channels"
                    break
                add(Member(u.output, m.offset, m.block))
                for x in u.inputs:
                    if x is not v:
                        add(Member(x, m.offset, m.block), from_consumer=True)
            elif u.op in ELEMENTWISE:  # with a constant: per-channel constants are sliced
                c = next(x for x in u.inputs if x.const is not None)
                if c.type.rank >= 1 and math.prod(c.type.shape) > 1:
                    g.frozen = f"{u.name}: a per-channel constant operand"
                    break
                add(Member(u.output, m.offset, m.block))
            elif u.op == "Concat" and u.attrs["axis"] == 1 and m.block == 1:
                off = sum(channels(x) for x in u.inputs[:use.index])
                add(Member(u.output, off + m.offset))
            elif u.op == "Reshape" and _is_flatten(u, v):
                add(Member(u.output, m.offset, m.block * math.prod(v.type.shape[2:])))
            elif u.op == "Pad" and not any(u.attrs["pads"][i] for i in (1, v.type.rank + 1)):
                add(Member(u.output, m.offset, m.block))
            else:
                g.frozen = f"{u.name} ({u.op}) reads the channels and cannot be sliced"
                break
    return g


def _per_channel(q: Node) -> bool:
    s = q.inputs[1]
    return s.const is not None and s.const.size > 1


def _is_flatten(node: Node, v: Value) -> bool:
    shape = node.attrs["shape"]
    return len(shape) == 2 and shape[0] is None and v.type.shape[0] is None and v.type.rank >= 2


def all_groups(graph: Graph, ops=("Dense", "Conv")) -> list[Group]:
    """One group per set of coupled sources, in topological order of their first source."""
    groups, covered = [], set()
    for node in graph.toposort():
        if node.op in ops and node not in covered and not _depthwise(node):
            g = find_group(graph, node)
            covered.update(g.sources)
            groups.append(g)
    return groups
