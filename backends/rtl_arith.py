"""Verilog arithmetic over exact integer intervals: signed element expressions, literals, the
pipelined adder tree of a constant-coefficient sum, and casts through `hwc_cast` (templates/rtl).

Every expression is written so that Verilog evaluates it exactly: all operands are signed, the
left-hand side is wide enough for the exact interval of the result, and additions in two's complement
are exact modulo 2^width, so partial sums may overflow as long as the final value fits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..compiler.ir.graph import Value
from ..compiler.ir.types import FixedType, Overflow, Rounding

from .rtl_csd import csd

ROUNDING_CODE = {Rounding.TRN: 0, Rounding.TRN_ZERO: 1, Rounding.RND: 2, Rounding.RND_ZERO: 3, Rounding.RND_INF: 4,
                 Rounding.RND_MIN_INF: 5, Rounding.RND_CONV: 6}
OVERFLOW_CODE = {Overflow.WRAP: 0, Overflow.SAT: 1, Overflow.SAT_ZERO: 2, Overflow.SAT_SYM: 3}


def signed_width(lo: int, hi: int) -> int:
    """Bits of the smallest two's complement type holding every integer in [lo, hi]."""
    w = 1
    while not (-(1 << (w - 1)) <= lo and hi <= (1 << (w - 1)) - 1):
        w += 1
    return w


def literal(v: int) -> str:
    """A signed Verilog literal of exactly the value v (one bit wider than |v| needs, so never negative by accident)."""
    v = int(v)
    a = abs(v)
    text = f"{a.bit_length() + 1}'sd{a}"
    return f"-{text}" if v < 0 else text


@dataclass
class Term:
    """A signed expression with its exact value interval."""

    expr: str
    lo: int
    hi: int

    @property
    def width(self) -> int:
        return signed_width(self.lo, self.hi)


def element(bus: str, t: FixedType, i: int) -> Term:
    """Element i of a bus of t's mantissas as a signed expression (unsigned ones zero-extended by one bit)."""
    w = t.width
    part = f"{bus}[{i * w} +: {w}]"
    expr = f"$signed({part})" if t.signed else f"$signed({{1'b0, {part}}})"
    return Term(expr, t.min_mantissa, t.max_mantissa)


class Leaf:
    """One signed summand: sign * expr, expr in [lo, hi]."""

    __slots__ = ("sign", "expr", "lo", "hi")

    def __init__(self, sign: int, expr: str, lo: int, hi: int):
        self.sign, self.expr, self.lo, self.hi = sign, expr, lo, hi


def product_leaves(x: Term, c: int, mode: str) -> tuple[list[Leaf], int]:
    """x * c as leaves: canonical signed digits (shifts, no multiplier) or one `*` that synthesis maps
    to a DSP (mode "dsp"; "auto" takes the DSP when the constant has more than AUTO_DIGITS digits).
    Returns the leaves and the number of adders the digits cost (0 for a DSP product)."""
    digits = csd(c)
    if mode == "dsp" or (mode == "auto" and len(digits) > AUTO_DIGITS and x.width > AUTO_WIDTH):
        lo, hi = sorted((x.lo * c, x.hi * c))
        return [Leaf(1, f"({x.expr} * {literal(c)})", lo, hi)], 0
    out = []
    for sign, shift in digits:
        e = x.expr if shift == 0 else f"({x.expr} <<< {shift})"
        out.append(Leaf(sign, e, x.lo << shift, x.hi << shift))
    return out, len(digits)


AUTO_DIGITS = 3  # --rtl-mult auto: products with more nonzero digits than this ...
AUTO_WIDTH = 8  # ... on inputs wider than this go to a DSP


def _combine(a: Leaf, b: Leaf) -> Leaf:
    if a.sign == b.sign:
        return Leaf(a.sign, f"({a.expr} + {b.expr})", a.lo + b.lo, a.hi + b.hi)
    p, n = (a, b) if a.sign > 0 else (b, a)
    return Leaf(1, f"({p.expr} - {n.expr})", p.lo - n.hi, p.hi - n.lo)


def adder_tree(name: str, leaves: list[Leaf], stages: int, lines: list[str]) -> tuple[Term, int]:
    """The sum of the leaves as a balanced tree of two-input adders, each node a variable only as wide as
    its exact interval (so synthesis builds small adders), with `stages - 1` register levels cut into it
    evenly over its depth (`stages` >= 1). Nodes between cuts are one `always @*` block (evaluated once per
    sample by an event-driven simulator). Returns the sum and the register levels used."""
    level = list(leaves) or [Leaf(1, "1'sd0", 0, 0)]
    depth = max(1, (len(level) - 1).bit_length())
    cuts = sorted(round(i * depth / stages) for i in range(1, stages))
    rounds, used, count, block = 0, 0, 0, []

    def flush():
        if block:
            lines.append("always @* begin")
            lines.extend(f"    {b}" for b in block)
            lines.append("end")
            block.clear()
    for cut in cuts + [None]:
        while len(level) > 1 and (cut is None or rounds < cut):
            nxt = []
            for i in range(0, len(level), 2):
                if i + 1 == len(level):
                    nxt.append(level[i])
                    continue
                c = _combine(level[i], level[i + 1])
                node = f"{name}_n{count}"
                count += 1
                lines.append(f"reg signed [{signed_width(c.lo, c.hi) - 1}:0] {node};")
                block.append(f"{node} = {c.expr};")
                nxt.append(Leaf(c.sign, node, c.lo, c.hi))
            level = nxt
            rounds += 1
        flush()
        if cut is None:
            break
        regs = []
        for k, leaf in enumerate(level):
            r = f"{name}_p{used}_{k}"
            lines.append(f"reg signed [{signed_width(leaf.lo, leaf.hi) - 1}:0] {r};")
            lines.append(f"always @(posedge clk) if (ce) {r} <= {leaf.expr};")
            regs.append(Leaf(leaf.sign, r, leaf.lo, leaf.hi))
        level, used = regs, used + 1
    top = level[0]
    if top.sign < 0:
        return Term(f"(-{top.expr})", -top.hi, -top.lo), used
    return Term(top.expr, top.lo, top.hi), used


def wire(name: str, t: Term, lines: list[str]) -> Term:
    """Declare a signed wire holding t exactly."""
    w = t.width
    lines.append(f"wire signed [{w - 1}:0] {name} = {t.expr};")
    return Term(name, t.lo, t.hi)


def comb(name: str, t: Term, lines: list[str]) -> Term:
    """Declare a signed reg holding t exactly, computed by one `always @*` block. A wide sum written this
    way reads its input buses directly, so an event-driven simulator evaluates it once per new sample
    rather than once per changed summand (the synthesized logic is the same as a wire's)."""
    w = t.width
    if t.lo == t.hi:  # a constant: `always @*` without inputs would never run
        lines.append(f"wire signed [{w - 1}:0] {name} = {literal(t.lo)};")
        return Term(name, t.lo, t.hi)
    lines.append(f"reg signed [{w - 1}:0] {name};")
    lines.append(f"always @* {name} = {t.expr};")
    return Term(name, t.lo, t.hi)


def cast(name: str, x: Term, src_frac: int, dst: FixedType, out: str, lines: list[str]) -> None:
    """`out` (a bus slice of dst's width) = cast(x · 2^-src_frac → dst) through one hwc_cast instance."""
    if not (x.expr.isidentifier()):
        x = wire(f"{name}_x", x, lines)
    lines.append(f"hwc_cast #(.IW({x.width}), .S({src_frac - dst.frac_bits}), .OW({dst.width}), "
                 f".OSIGNED({int(dst.signed)}), .RND({ROUNDING_CODE[dst.rounding]}), .OVF({OVERFLOW_CODE[dst.overflow]})) "
                 f"{name} (.x({x.expr}), .y({out}));")


def max_tree(terms: list[Term]) -> Term:
    """The largest of the terms, as a balanced tree of comparisons."""
    while len(terms) > 1:
        nxt = []
        for k in range(0, len(terms) - 1, 2):
            a, b = terms[k], terms[k + 1]
            nxt.append(Term(f"({a.expr} > {b.expr} ? {a.expr} : {b.expr})", max(a.lo, b.lo), max(a.hi, b.hi)))
        if len(terms) % 2:
            nxt.append(terms[-1])
        terms = nxt
    return terms[0]


def per_sample(v: Value) -> tuple[int, ...]:
    s = v.type.shape
    return tuple(s[1:]) if s and s[0] is None else tuple(s)


def size(v: Value) -> int:
    return math.prod(per_sample(v))
