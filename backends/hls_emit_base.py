"""The shared part of the HLS emitters: vendor, type names, reuse, the config struct and the kernel call."""

from __future__ import annotations

from ..compiler.ir.graph import Node, Value
from ..compiler.ir.types import FixedType

from .hls_vendor import Vendor


class EmitterBase:
    """What every emitter family shares: `type_name` maps values to their C typedef names; the vendor
    spells fixed-point types; strategy and reuse (per layer with --reuse auto) configure dense kernels."""

    def __init__(self, vendor: Vendor, type_name, strategy: str, reuse: int, layer_reuse: dict[str, int] | None = None):
        self.vendor, self.type_name, self.strategy, self.reuse = vendor, type_name, strategy, reuse
        self.layer_reuse = layer_reuse or {}  # node name -> reuse factor (--reuse auto)

    def reuse_of(self, node: Node) -> int:
        return self.layer_reuse.get(node.name, self.reuse)

    def t(self, v: Value) -> str:
        return self.type_name(v)

    def spell(self, t: FixedType) -> str:
        return self.vendor.fixed(t)

    def _struct(self, k: int, members: list[str]) -> str:
        body = "\n".join(f"    {m}" for m in members)
        return f"struct config{k} {{\n{body}\n}};"

    def _call(self, kernel: str, node: Node, ins: list[str], out: str, k: int, inputs: list[Value] | None = None) -> str:
        inputs = inputs if inputs is not None else [node.inputs[0]]
        tparams = ", ".join([self.t(v) for v in inputs] + [self.t(node.output), f"config{k}"])
        return f"hwc::{kernel}<{tparams}>({', '.join(ins + [out])});"
