"""Common sub-expressions of a constant matrix-vector product, y_j = sum_i M[i, j] * x_i, in shift-and-add
form: two-term common sub-expression elimination, the greedy scheme of Hartley (IEEE TCS-II 43(10), 1996)
that da4ml's CMVM search also builds on.

Every product is written in canonical signed digits (rtl_csd.csd), so each output is a sum of terms
sign * (x_v << shift). The pattern x_a + r * (x_b << d) that occurs most often over all outputs (ties: the
shallower new variable, then the smallest key, so the result is deterministic) becomes a new variable
x_v, computed by one adder, and each occurrence, sign * ((x_a << s) + r * (x_b << (s + d))), becomes the
single term sign * (x_v << s). This repeats while some pattern occurs at least twice. A variable costs
one adder and saves one adder per occurrence, so each step saves (occurrences - 1) adders.
`max_depth` bounds the adder depth of the new variables (inputs have depth 0).

Occurrence counts are kept incrementally: replacing one occurrence in an output updates only the pairs
of that output's terms with the two removed terms and the new one (O(terms) per occurrence), and the best
pattern comes from a heap whose stale entries are skipped.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np

from .rtl_arith import Leaf, Term, comb
from .rtl_csd import csd

Digit = tuple[int, int, int]  # (variable, shift, sign)


@dataclass(frozen=True)
class Shared:
    """x = x_a + sign * (x_b << shift)."""

    a: int
    b: int
    shift: int
    sign: int


@dataclass
class Plan:
    """Variables 0..n_inputs-1 are the inputs; variable n_inputs + k is shared[k]."""

    n_inputs: int
    shared: list[Shared] = field(default_factory=list)
    depth: list[int] = field(default_factory=list)
    outputs: list[list[Digit]] = field(default_factory=list)

    @property
    def adders(self) -> int:
        """Adders: one per shared variable, and (terms - 1) per output."""
        return len(self.shared) + sum(max(0, len(t) - 1) for t in self.outputs)

    @property
    def max_depth(self) -> int:
        """Adder depth with a balanced tree over each output's terms (a bound: the deepest term + log2 terms)."""
        return max((max(self.depth[v] for v, _, _ in t) + math.ceil(math.log2(len(t))) for t in self.outputs if t),
                   default=0)

    def evaluate(self, x: np.ndarray) -> np.ndarray:
        """The outputs for integer inputs x [..., n_inputs], computed through the plan (exact, object ints)."""
        vals = [x[..., i].astype(object) for i in range(self.n_inputs)]
        for s in self.shared:
            vals.append(vals[s.a] + s.sign * (vals[s.b] * (1 << s.shift)))
        zero = np.zeros(x.shape[:-1], dtype=object)
        return np.stack([sum((g * (vals[v] * (1 << sh)) for v, sh, g in t), zero) for t in self.outputs], axis=-1)


def _key(p: Digit, q: Digit) -> tuple[int, int, int, int]:
    """The pattern of two terms of one output, normalised so the term with the lower (shift, variable) is
    first: (a, b, shift difference >= 0, relative sign)."""
    if (p[1], p[0]) > (q[1], q[0]):
        p, q = q, p
    return p[0], q[0], q[1] - p[1], p[2] * q[2]


def share(matrix: np.ndarray, max_depth: int | None = None) -> Plan:
    """The greedy two-term CSE plan of x @ matrix (matrix [n_inputs, n_outputs] of integers)."""
    m = np.asarray(matrix, dtype=np.int64)
    n_in, n_out = m.shape
    plan = Plan(n_in, [], [0] * n_in, [])
    for j in range(n_out):
        plan.outputs.append([(i, s, g) for i in range(n_in) if m[i, j] for g, s in csd(int(m[i, j]))])
    holders: dict[int, set[int]] = {}  # variable -> the outputs with a term of it
    for j, t in enumerate(plan.outputs):
        for var, _, _ in t:
            holders.setdefault(var, set()).add(j)
    count: dict[tuple, int] = {}
    for t in plan.outputs:
        for x in range(len(t)):
            for y in range(x + 1, len(t)):
                k = _key(t[x], t[y])
                count[k] = count.get(k, 0) + 1
    heap = [(-c, 1 + max(plan.depth[k[0]], plan.depth[k[1]]), k) for k, c in count.items() if c >= 2]
    heapq.heapify(heap)
    while heap:
        neg, d, k = heapq.heappop(heap)
        if count.get(k, 0) != -neg or count[k] < 2:
            continue  # stale: a fresher entry for k was pushed when its count changed
        if max_depth is not None and d > max_depth:
            continue
        v = len(plan.depth)
        plan.shared.append(Shared(k[0], k[1], k[2], k[3]))
        plan.depth.append(d)
        touched: set[tuple] = set()
        for j in sorted(holders[k[0]] & holders[k[1]]):
            _replace(plan.outputs[j], k, v, count, touched)
            for var in {k[0], k[1]} - {var for var, _, _ in plan.outputs[j]}:
                holders[var].discard(j)
            holders.setdefault(v, set()).add(j)
        for key in touched:
            c = count.get(key, 0)
            if c >= 2:
                heapq.heappush(heap, (-c, 1 + max(plan.depth[key[0]], plan.depth[key[1]]), key))
    return plan


def _replace(t: list[Digit], k: tuple, v: int, count: dict, touched: set) -> None:
    """Replace every non-overlapping occurrence of pattern k in one output's terms by variable v, updating
    the pair counts of that output."""
    a, b, d, rel = k
    while True:
        where = {(var, sh): n for n, (var, sh, _) in enumerate(t)}
        hit = None
        for n, (var, sh, g) in enumerate(t):
            if var == a:
                o = where.get((b, sh + d))
                if o is not None and o != n and t[o][2] * g == rel:
                    hit = (n, o)
                    break
        if hit is None:
            return
        p, q = hit
        for n, term in enumerate(t):  # pairs with the removed terms leave the counts
            for r in (p, q):
                if n != r and not (r == q and n == p):
                    kk = _key(t[r], term)
                    count[kk] -= 1
                    touched.add(kk)
        new = (v, t[p][1], t[p][2])
        rest = [term for n, term in enumerate(t) if n not in hit]
        for term in rest:
            kk = _key(new, term)
            count[kk] = count.get(kk, 0) + 1
            touched.add(kk)
        t[:] = rest + [new]


def digit_depth(matrix: np.ndarray) -> int:
    """Adder levels of the deepest product in canonical signed digits: the depth `--rtl-mult shared` lets its
    shared variables reach, so sharing does not deepen the products (at least 1)."""
    digits = max((len(csd(int(v))) for v in np.unique(matrix) if v), default=1)
    return max(1, math.ceil(math.log2(digits)))


def shared_variables(plan: Plan, xs: dict[int, Term], lines: list[str]) -> dict[int, Term]:
    """The inputs xs (input index -> signed element) and the plan's shared variables x_a + sign * (x_b << shift),
    each declared once with its exact interval, as Verilog terms by variable number."""
    variables = dict(xs)
    for k, sv in enumerate(plan.shared):
        a, b = variables[sv.a], variables[sv.b]
        blo, bhi = b.lo << sv.shift, b.hi << sv.shift
        be = f"({b.expr} <<< {sv.shift})" if sv.shift else b.expr
        if sv.sign > 0:
            t = Term(f"({a.expr} + {be})", a.lo + blo, a.hi + bhi)
        else:
            t = Term(f"({a.expr} - {be})", a.lo - bhi, a.hi - blo)
        variables[plan.n_inputs + k] = comb(f"cse_{k}", t, lines)
    return variables


def shifted_leaf(t: Term, shift: int, sign: int) -> Leaf:
    """sign * (t << shift) as a leaf of a sum."""
    e = f"({t.expr} <<< {shift})" if shift else t.expr
    return Leaf(sign, e, t.lo << shift, t.hi << shift)
