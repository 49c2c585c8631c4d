"""TFLite int8 quantization parameters, and what the affine-quantization passes share.

Real value = scale * (q - zero_point) (TFLite int8 spec). `choose_params` nudges a real range as TFLite does:
s = (max - min) / 255, z = round(-128 - min / s) (0 always representable); `carried_params` maps a model's own
b-bit quantizer to int8 by q8 = q + 127 - qmax, so its clamp stays exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import HwcError
from ..ir.graph import Graph, Node, Value
from ..ir.types import AffineType, FloatType, IntType
from .base import Pass

I8 = IntType(8)
U8 = IntType(8, False)
I32 = IntType(32)
F32_ELEM = FloatType(32)

Range = tuple[float, float]


def f32(x) -> float:
    return float(np.float32(x))


@dataclass(frozen=True)
class Params:
    """Per-tensor int8 parameters; [lo, hi] are the codes a carried quantizer allows (its clamp)."""

    scale: float
    zp: int
    lo: int = -128
    hi: int = 127

    def elem(self, storage: IntType = I8) -> AffineType:
        shift = 128 if storage == U8 else 0
        return AffineType(storage, (self.scale,), (self.zp + shift,), None)

    def same(self, other: "Params") -> bool:
        return self.scale == other.scale and self.zp == other.zp


def choose_params(lo: float, hi: float) -> Params:
    """TFLite's nudged asymmetric int8 parameters for the real range [lo, hi] (0 always included)."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise HwcError(f"value range [{lo}, {hi}] is not finite")
    if hi - lo < 1e-30:
        hi = lo + 1.0
    scale = f32((hi - lo) / 255.0)
    zp_lo, zp_hi = -128 - lo / scale, 127 - hi / scale
    zp = zp_lo if 128 + abs(lo / scale) < 127 + abs(hi / scale) else zp_hi
    return Params(scale, int(np.clip(np.round(zp), -128, 127)))


def carried_params(scale: float, zero_point: int, qmin: int, qmax: int, where: Node | None) -> Params:
    """A model's own b-bit quantizer (codes [qmin, qmax], zero point z in that storage) as int8:
    q8 = q + 127 - qmax, so the upper clamp is int8's and the lower one int8's or a RELU's."""
    if qmax - qmin > 255:
        raise HwcError(f"a {qmax - qmin + 1}-level quantizer does not fit int8 (TFLite is 8-bit)",
                       node=where.name, op=where.op)
    if not scale > 0:
        raise HwcError("quantizer scale must be positive", node=where.name, op=where.op)
    d = 127 - qmax
    return Params(f32(scale), int(zero_point) + d, qmin + d, qmax + d)


def constant_scalar(v: Value | None, node: Node, what: str, default=0.0) -> float:
    """The one number of a constant per-tensor scale or zero point (refused when run-time or per channel)."""
    if v is None:
        return default
    if v.const is None:
        raise HwcError(f"the {what} must be a constant", node=node.name, op=node.op)
    a = np.asarray(v.const).reshape(-1)
    if a.size != 1 and not np.all(a == a[0]):
        raise HwcError(f"per-channel activation {what}s are not supported by TFLite", node=node.name, op=node.op)
    return float(a[0])


@dataclass
class AffineState:
    """What the affine passes hand on, keyed by `Value`: ranges (calibration or intervals, overridden where a
    fold moves a range onto another value), the model's own (carried) parameters, uint8 storage at the graph's
    edges, BatchNorm scales folded into a Conv/Dense, and finally every value's chosen parameters."""

    ranges: dict[Value, Range] = field(default_factory=dict)
    wbits: int = 8
    carried: dict[Value, Params] = field(default_factory=dict)
    in_storage: dict[Value, IntType] = field(default_factory=dict)
    out_storage: dict[Value, IntType] = field(default_factory=dict)
    bn_fold: dict[Node, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    params: dict[Value, Params] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    ranged: set[Value] = field(default_factory=set)  # values whose parameters came from a range

    @classmethod
    def of(cls, graph: Graph, ranges: dict[str, Range], wbits: int = 8) -> "AffineState":
        """The state for `graph` with ranges given by value name (as `calibrate`/`intervals` return them)."""
        return cls({v: ranges[v.name] for v in graph.values() if v.name in ranges}, wbits)

    def range(self, v: Value) -> Range:
        self.ranged.add(v)
        if v not in self.ranges:
            raise HwcError(f"no value range for {v.name} (give --calib data or --input-range)")
        return self.ranges[v]

    def carry(self, graph: Graph, v: Value, p: Params, node: Node) -> Value:
        """Record parameters on v; a value quantized twice differently gets a requantizing Cast."""
        old = self.carried.get(v)
        if old is None or old.same(p):
            self.carried[v] = p
            return v
        c = graph.add_node("Cast", [v], {"to": p.elem()}, name=f"{node.name}_requant")
        self.carried[c.output] = p
        return c.output


class AffinePass(Pass):
    """A step of the affine lowering: it reads and extends the `AffineState` the steps share."""

    def __init__(self, state: AffineState):
        self.state = state


def bypass(graph: Graph, q: Node, target: Value, *dead: Node | None) -> None:
    """q's uses read `target`; q and the given producers before it go when nothing else reads them."""
    graph.replace_all_uses(q.output, target)
    for n in (q,) + dead:
        if n is not None and n in graph.nodes and not n.output.uses and n.output not in graph.outputs:
            graph.remove_node(n)
