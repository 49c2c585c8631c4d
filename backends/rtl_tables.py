"""Table functions in RTL (compiler/sim/tables.py): the clamped table index, a constant ROM, and the
terms of Softmax (e_i = EXP[idx(max - x_i)], s = sum e_i, inv = INV[idx(s)], y_i = e_i * inv, before the
output cast), exactly as fixed_ops.softmax computes them."""

from __future__ import annotations

import numpy as np

from ..compiler.ir.graph import Node
from ..compiler.ir.types import FixedType
from ..compiler.sim import tables

from .rtl_arith import Term, comb, element, literal, max_tree, per_sample, size


def table_index(name: str, x: Term, k: int, offset: int, n: int, lines: list[str]) -> Term:
    """clamp(floor(x * 2^k) + offset, 0, n - 1): a table index as compiler/sim/tables.py computes it."""
    if k >= 0:
        t = Term(f"(({x.expr} <<< {k}) + {literal(offset)})", (x.lo << k) + offset, (x.hi << k) + offset)
    else:
        t = Term(f"(({x.expr} >>> {-k}) + {literal(offset)})", (x.lo >> -k) + offset, (x.hi >> -k) + offset)
    t = comb(f"{name}_raw", t, lines)
    lo, hi = max(min(t.lo, n - 1), 0), min(max(t.hi, 0), n - 1)
    w = max(1, (n - 1).bit_length())
    lines.append(f"wire [{w - 1}:0] {name} = {t.expr} < 0 ? {w}'d0 : {t.expr} > {literal(n - 1)} ? {w}'d{n - 1} : "
                 f"{t.expr}[{w - 1}:0];")
    return Term(name, lo, hi)


def rom(name: str, index: Term, table: np.ndarray, t: FixedType, lines: list[str]) -> Term:
    """table[index] for a constant table of t's mantissas: one packed localparam, entry i at [i*W +: W]."""
    w = t.width
    mask = (1 << w) - 1
    packed = 0
    for i, v in enumerate(table):
        packed |= (int(v) & mask) << (i * w)
    lines.append(f"localparam [{len(table) * w - 1}:0] {name}_rom = {len(table) * w}'h{packed:x};")
    part = f"{name}_rom[{index.expr} * {w} +: {w}]"
    expr = f"$signed({part})" if t.signed else f"$signed({{1'b0, {part}}})"
    vals = [int(v) for v in table[index.lo:index.hi + 1]]
    return Term(expr, min(vals), max(vals))


def softmax_terms(node: Node, bus: str) -> tuple[list[str], dict[int, Term], int]:
    """(lines, output element -> product term, its fractional bits) of a Softmax over the input bus."""
    a, tx = node.attrs, node.inputs[0].type.elem
    et, it = a["exp_type"], a["inv_type"]
    ps = per_sample(node.inputs[0])
    ax = a["axis"] % (len(ps) + 1) - 1
    groups = np.moveaxis(np.arange(size(node.inputs[0])).reshape(ps), ax, -1).reshape(-1, ps[ax])
    exp_t = tables.exp_table(a["exp_table_bits"], a["exp_range_bits"], et)
    inv_t = tables.inv_table(a["inv_table_bits"], a["inv_range_bits"], it)
    k_e = a["exp_table_bits"] - a["exp_range_bits"] - tx.frac_bits
    k_i = a["inv_table_bits"] - a["inv_range_bits"] - et.frac_bits
    terms: dict[int, Term] = {}
    pre: list[str] = []
    for g, members in enumerate(groups):
        xs = [element(bus, tx, int(i)) for i in members]
        mx = comb(f"max_{g}", max_tree(xs), pre)
        es = []
        for i, x in zip(members, xs):
            d = Term(f"({mx.expr} - {x.expr})", 0, mx.hi - x.lo)
            e = rom(f"e_{i}", table_index(f"ie_{i}", d, k_e, 0, len(exp_t), pre), exp_t, et, pre)
            es.append(comb(f"ev_{i}", e, pre))
        total = comb(f"sum_{g}", Term("(" + " + ".join(e.expr for e in es) + ")", sum(e.lo for e in es),
                                      sum(e.hi for e in es)), pre)
        inv = comb(f"inv_{g}", rom(f"r_{g}", table_index(f"ii_{g}", total, k_i, 0, len(inv_t), pre), inv_t, it, pre), pre)
        for i, e in zip(members, es):
            p = [e.lo * inv.lo, e.lo * inv.hi, e.hi * inv.lo, e.hi * inv.hi]
            terms[int(i)] = Term(f"({e.expr} * {inv.expr})", min(p), max(p))
    return pre, terms, et.frac_bits + it.frac_bits
