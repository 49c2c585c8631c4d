"""One RTL emitter per IR op: the body of a layer module (`layerK`) over the kernel library in
templates/rtl, computing exactly what compiler/sim/fixed_ops.py computes (docs/FIXED_POINT.md).

A value is a bus of per-sample elements in C order, element i at bits [i*W +: W] of its FixedType's
mantissa (two's complement when signed). Linear layers (Dense, Conv, AveragePool, GlobalAveragePool,
Rescale) become one constant matrix over the flattened input, found by running the simulator's own exact
integer kernels on the unit vectors; each output is a sum of shifted inputs (canonical signed digits,
zero weights and their adders removed), then the accumulator cast and the output cast. Index maps
(Reshape, Transpose, Pad, Resize, Identity) are wiring found the same way on index arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..compiler.sim import tables
from ..compiler.errors import HwcError
from ..compiler.ir.graph import Node
from ..compiler.ir.types import FixedType, Overflow
from ..compiler.sim import fixed_ops, float_ops
from ..compiler.sim.exact import int_conv, int_matmul
from ..compiler.sim.fixed import cast as sim_cast
from ..compiler.sim.fixed import from_float

from .rtl_arith import Leaf, Term, adder_tree, cast, comb, element, literal, max_tree, per_sample, product_leaves, size, wire
from .rtl_csd import csd
from .rtl_cse import digit_depth, share, shared_variables, shifted_leaf
from .rtl_tables import rom, softmax_terms, table_index

MAX_LEAVES = 250_000  # summands of one layer in the fully unrolled form; larger layers are refused


@dataclass
class LayerRtl:
    lines: list[str]  # module body
    latency: int  # register stages from input to output
    adders: int = 0  # two-input adders of the constant-coefficient sums
    multipliers: int = 0  # `*` products left to synthesis (DSPs)
    notes: list[str] = field(default_factory=list)


class RtlEmitter:
    """`emit(node, ins, out)`: ins are the bus names of the node's non-constant inputs, out the output bus."""

    OPS = ("Dense", "Conv", "AveragePool", "GlobalAveragePool", "Rescale", "Relu", "Clip", "LeakyRelu", "MaxPool",
           "GlobalMaxPool", "Add", "Sub", "Mul", "Cast", "Concat", "Reshape", "Transpose", "Pad", "Resize", "Identity")

    def __init__(self, stages: int, mult: str):
        self.stages, self.mult = stages, mult

    def emit(self, node: Node, ins: list[str], out: str) -> LayerRtl:
        fn = getattr(self, f"_{node.op}", None)
        if fn is None:
            raise HwcError(f"{node.op} has no RTL form yet (--target verilog supports {', '.join(self.OPS)})",
                           node=node.name, op=node.op)
        for v in node.inputs + node.outputs:
            if v is not None and not isinstance(v.type.elem, FixedType):
                raise HwcError(f"{v.name} is {v.type.elem}, not fixed point: the RTL computes in fixed point only",
                               node=node.name, op=node.op)
        return fn(node, ins, out)

    # ---- linear layers: a constant matrix ----------------------------------------------------------
    def _linear(self, node: Node, bus: str, out: str, matrix: np.ndarray, bias: np.ndarray | None, f_sum: int,
                accum: FixedType | None) -> LayerRtl:
        """y[j] = cast(accum(sum_i x[i]·M[i, j] + B[j]) → Y), f_sum fractional bits before the casts."""
        tx, ty = node.inputs[0].type.elem, node.output.type.elem
        n_in, n_out = matrix.shape
        nz = matrix != 0
        leaves_needed = int(nz.sum())
        if leaves_needed > MAX_LEAVES:
            raise too_large(node, n_in, n_out, leaves_needed)
        lines: list[str] = []
        xs = {int(i): element(bus, tx, int(i)) for i in np.flatnonzero(nz.any(axis=1))}
        adders = mults = 0
        latency = self.stages
        shared: dict[tuple[int, int], Term] = {}  # (input, odd constant) -> x_i * odd, computed once
        plan = share(matrix, digit_depth(matrix)) if self.mult == "shared" else None
        if plan is not None:
            variables = shared_variables(plan, xs, lines)
            adders += len(plan.shared)
        for j in range(n_out):
            leaves: list[Leaf] = []
            if plan is not None:
                leaves = [shifted_leaf(variables[v], s, g) for v, s, g in plan.outputs[j]]
            else:
                for i in np.flatnonzero(nz[:, j]):
                    ls, cost = self._product(int(i), xs[int(i)], int(matrix[i, j]), shared, lines)
                    leaves += ls
                    mults += 1 if cost is None else 0
                    adders += cost or 0
            b = int(bias[j]) if bias is not None else 0
            if b:
                leaves.append(Leaf(1 if b > 0 else -1, literal(abs(b)), abs(b), abs(b)))
            adders += max(0, len(leaves) - 1)  # the tree joining the products (and bias)
            s, _ = adder_tree(f"s_{j}", leaves, max(self.stages, 1), lines)
            s = comb(f"sum_{j}", s, lines)
            src = s
            if accum is not None and not _fits(s, accum, f_sum):
                lines.append(f"wire [{accum.width - 1}:0] acc_{j};")
                cast(f"cast_acc_{j}", s, f_sum, accum, f"acc_{j}", lines)
                src = element(f"acc_{j}", accum, 0)
                src = wire(f"acc_s_{j}", src, lines)
                f_src = accum.frac_bits
            else:
                f_src = f_sum
            cast(f"cast_y_{j}", src, f_src, ty, _slice(out + "_c", ty, j), lines)
        lines.insert(0, f"wire [{n_out * ty.width - 1}:0] {out}_c;")
        lines += _output(out, ty, n_out, self.stages >= 1)
        return LayerRtl(lines, latency, adders, mults)

    def _product(self, i: int, x: Term, c: int, shared: dict, lines: list[str]) -> tuple[list[Leaf], int | None]:
        """x_i * c as leaves of a sum, and the adders it adds (None: a DSP product). In shift-and-add form
        x * c = ±(x * odd) << k: the odd multiple of each input is built once (canonical signed digits)
        and shared by every output whose weight has that odd part, the sub-expression sharing that pays
        most at low weight widths, where a few odd values repeat across a whole layer."""
        leaves, digits = product_leaves(x, c, self.mult)
        if digits == 0:
            return leaves, None
        a = abs(c)
        k = (a & -a).bit_length() - 1
        odd, sign = a >> k, 1 if c > 0 else -1
        cost = 0
        if odd == 1:
            p = x
        else:
            if (i, odd) not in shared:
                t, _ = adder_tree(f"m_{i}_{odd}", product_leaves(x, odd, "adders")[0], 1, lines)
                lo, hi = sorted((x.lo * odd, x.hi * odd))
                shared[(i, odd)] = comb(f"mp_{i}_{odd}", Term(t.expr, lo, hi), lines)
                cost = len(csd(odd)) - 1
            p = shared[(i, odd)]
        e = f"({p.expr} <<< {k})" if k else p.expr
        return [Leaf(sign, e, p.lo << k, p.hi << k)], cost

    def _Dense(self, node, ins, out):
        x, w = node.inputs[0], node.inputs[1]
        ps = per_sample(x)
        basis = np.eye(size(x), dtype=np.int64).reshape((size(x),) + ps)
        m = int_matmul(basis, np.asarray(w.const).astype(np.int64))
        m = fixed_ops._weight_shift(node, m, m.ndim - 1)
        return self._accumulating(node, ins, out, m, -1)

    def _Conv(self, node, ins, out):
        x, w = node.inputs[0], node.inputs[1]
        a = node.attrs
        basis = np.eye(size(x), dtype=np.int64).reshape((size(x),) + per_sample(x))
        m = int_conv(basis, np.asarray(w.const).astype(np.int64), a["strides"], a["dilations"], a["pads"], a["group"])
        m = fixed_ops._weight_shift(node, m, 1)
        return self._accumulating(node, ins, out, m, 0)

    def _accumulating(self, node: Node, ins, out: str, m: np.ndarray, channel_axis: int) -> LayerRtl:
        """Dense/Conv: products at f_x + f_W, plus the bias cast into the accumulator and aligned (as
        fixed_ops._accumulate), then the accumulator's cast."""
        fx, fw = node.inputs[0].type.elem.frac_bits, node.inputs[1].type.elem.frac_bits
        f_sum = fx + fw
        accum = node.attrs.get("accum")
        bias = None
        if len(node.inputs) > 2 and node.inputs[2] is not None:
            b = np.asarray(node.inputs[2].const).astype(np.int64).reshape(-1)
            fb = node.inputs[2].type.elem.frac_bits
            if accum is not None:
                b, fb = sim_cast(b, fb, accum), accum.frac_bits
            b = np.asarray(b, dtype=object) * (1 << (f_sum - fb))
            out_ps = m.shape[1:]
            chan = np.indices(out_ps)[channel_axis % len(out_ps)].reshape(-1)
            bias = np.broadcast_to(b, (out_ps[channel_axis % len(out_ps)],))[chan]
        return self._linear(node, ins[0], out, m.reshape(m.shape[0], -1), bias, f_sum, accum)

    def _AveragePool(self, node, ins, out):
        a = node.attrs
        x = node.inputs[0]
        nd = len(a["kernel_shape"])
        idx = np.arange(size(x), dtype=np.int64).reshape((1,) + per_sample(x))
        win = float_ops._windows(idx, a["kernel_shape"], a["strides"], [1] * nd, a["pads"], -1,
                                 float_ops._ceil_extra(node, idx.shape))
        cnt = np.broadcast_to(fixed_ops._avg_counts(node, idx.shape), win.shape[:-nd]).reshape(-1)
        win = win.reshape(-1, math.prod(a["kernel_shape"]))
        r = tables.reciprocal_table(math.prod(a["kernel_shape"]), a["recip_bits"])
        m = np.zeros((size(x), win.shape[0]), dtype=np.int64)
        for o, taps in enumerate(win):
            for i in taps[taps >= 0]:
                m[i, o] = r[cnt[o]]
        return self._linear(node, ins[0], out, m, None, x.type.elem.frac_bits + a["recip_bits"], None)

    def _GlobalAveragePool(self, node, ins, out):
        x = node.inputs[0]
        ps = per_sample(x)
        n = math.prod(ps[1:])
        r = int(tables.reciprocal_table(n, node.attrs["recip_bits"])[n])
        m = np.zeros((size(x), ps[0]), dtype=np.int64)
        for c in range(ps[0]):
            m[c * n:(c + 1) * n, c] = r
        return self._linear(node, ins[0], out, m, None, x.type.elem.frac_bits + node.attrs["recip_bits"], None)

    def _Rescale(self, node, ins, out):
        x, mv = node.inputs[0], node.inputs[1]
        ps = per_sample(x)
        ax = node.attrs["axis"] - 1
        fx, fm = x.type.elem.frac_bits, mv.type.elem.frac_bits
        chan = np.indices(ps)[ax].reshape(-1)

        def per_channel(c: np.ndarray) -> np.ndarray:
            return np.broadcast_to(np.asarray(c).astype(object).reshape(-1), (ps[ax],))[chan]
        m = np.diag(per_channel(mv.const).astype(np.int64))
        bias = None
        if len(node.inputs) > 2 and node.inputs[2] is not None:
            bias = per_channel(node.inputs[2].const) * (1 << (fx + fm - node.inputs[2].type.elem.frac_bits))
        return self._linear(node, ins[0], out, m, bias, fx + fm, None)

    # ---- elementwise ---------------------------------------------------------------------------------
    def _map(self, node: Node, out: str, n: int, fn, f_src: int) -> LayerRtl:
        """y[j] = cast(fn(j, lines) → Y) for every element j; fn returns a Term at f_src fractional bits."""
        ty = node.output.type.elem
        lines = [f"wire [{n * ty.width - 1}:0] {out}_c;"]
        for j in range(n):
            t = fn(j, lines)
            cast(f"cast_y_{j}", t, f_src, ty, _slice(out + "_c", ty, j), lines)
        lines += _output(out, ty, n, self.stages >= 1)
        return LayerRtl(lines, int(self.stages >= 1))

    def _Relu(self, node, ins, out):
        tx = node.inputs[0].type.elem

        def f(j, lines):
            x = wire(f"x_{j}", element(ins[0], tx, j), lines)
            return Term(f"({x.expr} < 0 ? {literal(0)} : {x.expr})", max(x.lo, 0), max(x.hi, 0))
        return self._map(node, out, size(node.output), f, tx.frac_bits)

    def _Clip(self, node, ins, out):
        tx = node.inputs[0].type.elem
        lo, hi = fixed_ops.clip_bounds(node)

        def f(j, lines):
            x = wire(f"x_{j}", element(ins[0], tx, j), lines)
            t = x
            if hi is not None:
                t = Term(f"({t.expr} > {literal(hi)} ? {literal(hi)} : {t.expr})", min(t.lo, hi), min(t.hi, hi))
            if lo is not None:
                t = Term(f"({t.expr} < {literal(lo)} ? {literal(lo)} : {t.expr})", max(t.lo, lo), max(t.hi, lo))
            return t
        return self._map(node, out, size(node.output), f, tx.frac_bits)

    def _LeakyRelu(self, node, ins, out):
        tx = node.inputs[0].type.elem
        pt = node.attrs["param_type"]
        alpha = int(from_float(np.asarray([node.attrs["alpha"]], np.float64), pt)[0])

        def f(j, lines):
            x = wire(f"x_{j}", element(ins[0], tx, j), lines)
            neg = sorted((min(x.lo, 0) * alpha, min(x.hi, -1 if x.lo < 0 else 0) * alpha, 0))
            pos = (max(x.lo, 0) << pt.frac_bits, max(x.hi, 0) << pt.frac_bits)
            return Term(f"({x.expr} < 0 ? {x.expr} * {literal(alpha)} : {x.expr} <<< {pt.frac_bits})",
                        min(neg[0], pos[0]), max(neg[-1], pos[1]))
        return self._map(node, out, size(node.output), f, tx.frac_bits + pt.frac_bits)

    def _Cast(self, node, ins, out):
        tx = node.inputs[0].type.elem
        return self._map(node, out, size(node.output), lambda j, lines: element(ins[0], tx, j), tx.frac_bits)

    def _binary(self, node: Node, ins, out, combine) -> LayerRtl:
        """Elementwise a (op) b with ONNX broadcasting; a constant operand becomes literals."""
        full = (1,) + per_sample(node.output)
        operands, it = [], iter(ins)
        for v in node.inputs[:2]:
            shp = (1,) + per_sample(v) if v.const is None else np.asarray(v.const).shape
            idx = np.broadcast_to(np.arange(math.prod(shp), dtype=np.int64).reshape(shp), full).reshape(-1)
            const = None if v.const is None else np.asarray(v.const).reshape(-1)
            operands.append((next(it) if const is None else None, v.type.elem, idx, const))

        def get(k, j, lines):
            bus, t, idx, const = operands[k]
            if const is not None:
                c = int(const[idx[j]])
                return Term(literal(c), c, c)
            return wire(f"{'ab'[k]}_{j}", element(bus, t, int(idx[j])), lines)
        fa, fb = node.inputs[0].type.elem.frac_bits, node.inputs[1].type.elem.frac_bits
        term, f_src = combine(get, fa, fb)
        return self._map(node, out, size(node.output), term, f_src)

    def _Add(self, node, ins, out, sign=1):
        def combine(get, fa, fb):
            f = max(fa, fb)

            def term(j, lines):
                a, b = get(0, j, lines), get(1, j, lines)
                sa, sb = f - fa, f - fb
                ea = f"({a.expr} <<< {sa})" if sa else a.expr
                eb = f"({b.expr} <<< {sb})" if sb else b.expr
                blo, bhi = (b.lo << sb, b.hi << sb) if sign > 0 else (-(b.hi << sb), -(b.lo << sb))
                return Term(f"({ea} {'+' if sign > 0 else '-'} {eb})", (a.lo << sa) + blo, (a.hi << sa) + bhi)
            return term, f
        return self._binary(node, ins, out, combine)

    def _Sub(self, node, ins, out):
        return self._Add(node, ins, out, sign=-1)

    def _Mul(self, node, ins, out):
        def combine(get, fa, fb):
            def term(j, lines):
                a, b = get(0, j, lines), get(1, j, lines)
                ps = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi]
                return Term(f"({a.expr} * {b.expr})", min(ps), max(ps))
            return term, fa + fb
        return self._binary(node, ins, out, combine)

    # ---- tables: Sigmoid, Tanh, Softmax (compiler/sim/tables.py) ------------------------------------------
    def _table_fn(self, node, ins, out):
        a, tx, ty = node.attrs, node.inputs[0].type.elem, node.output.type.elem
        table = tables.function_table(node.op, a["table_bits"], a["range_bits"], ty)
        k = a["table_bits"] - a["range_bits"] - 1 - tx.frac_bits

        def f(j, lines):
            i = table_index(f"i_{j}", element(ins[0], tx, j), k, 1 << (a["table_bits"] - 1), len(table), lines)
            return rom(f"t_{j}", i, table, ty, lines)
        return self._map(node, out, size(node.output), f, ty.frac_bits)

    _Sigmoid = _table_fn
    _Tanh = _table_fn

    def _Softmax(self, node, ins, out):
        """e_i = EXP[idx(max - x_i)], s = sum e_i, inv = INV[idx(s)], y_i = cast(e_i * inv), as fixed_ops.softmax."""
        pre, terms, frac = softmax_terms(node, ins[0])
        layer = self._map(node, out, size(node.output), lambda j, lines: terms[j], frac)
        layer.lines = pre + layer.lines
        return layer

    # ---- selections: max pools, concatenation, index maps ------------------------------------------
    def _max_of(self, node, ins, out, taps_of) -> LayerRtl:
        tx = node.inputs[0].type.elem

        def f(j, lines):
            return comb(f"max_{j}", max_tree([element(ins[0], tx, int(i)) for i in taps_of(j)]), lines)
        return self._map(node, out, size(node.output), f, tx.frac_bits)

    def _MaxPool(self, node, ins, out):
        a = node.attrs
        x = node.inputs[0]
        idx = np.arange(size(x), dtype=np.int64).reshape((1,) + per_sample(x))
        win = float_ops._windows(idx, a["kernel_shape"], a["strides"], a["dilations"], a["pads"], -1,
                                 float_ops._ceil_extra(node, idx.shape)).reshape(-1, math.prod(a["kernel_shape"]))
        return self._max_of(node, ins, out, lambda j: win[j][win[j] >= 0])

    def _GlobalMaxPool(self, node, ins, out):
        ps = per_sample(node.inputs[0])
        n = math.prod(ps[1:])
        return self._max_of(node, ins, out, lambda j: range(j * n, (j + 1) * n))

    def _Concat(self, node, ins, out):
        ax = node.attrs["axis"]
        parts = []
        for k, v in enumerate(node.inputs):
            parts.append(np.full((1,) + per_sample(v), k, np.int64) * (1 << 40) + np.arange(size(v)).reshape((1,) + per_sample(v)))
        src = np.concatenate(parts, axis=ax).reshape(-1)

        def f(j, lines):
            k, i = int(src[j] >> 40), int(src[j] & ((1 << 40) - 1))
            t = node.inputs[k].type.elem
            x = element(ins[k], t, i)
            # each input keeps its own grid: shift to the finest one, then one cast
            shift = fmax - t.frac_bits
            return Term(f"({x.expr} <<< {shift})" if shift else x.expr, x.lo << shift, x.hi << shift)
        fmax = max(v.type.elem.frac_bits for v in node.inputs)
        return self._map(node, out, size(node.output), f, fmax)

    def _index_map(self, node, ins, out, fn) -> LayerRtl:
        """Wiring: output element j is input element src[j] (or the constant `fill` where src is -1)."""
        x, y = node.inputs[0], node.output
        idx = np.arange(size(x), dtype=np.int64).reshape((1,) + per_sample(x))
        src = np.asarray(fn(idx)).reshape(-1)
        tx, ty = x.type.elem, y.type.elem
        fill = self._pad_fill(node)

        def f(j, lines):
            if src[j] < 0:
                return Term(literal(fill), fill, fill)
            return element(ins[0], tx, int(src[j]))
        if tx == ty and (src >= 0).all():  # pure wiring, one block: consumers see one event per sample
            w = tx.width
            parts = ", ".join(f"{ins[0]}[{int(s) * w} +: {w}]" for s in reversed(src))
            return LayerRtl([f"reg [{len(src) * w - 1}:0] {out}_w;", f"always @* {out}_w = {{{parts}}};",
                             f"assign {out} = {out}_w;"], 0)
        return self._map(node, out, size(y), f, tx.frac_bits)

    @staticmethod
    def _pad_fill(node) -> int:
        if node.op != "Pad" or node.attrs["mode"] != "constant":
            return 0
        v = Fraction(node.attrs["value"]) * 2 ** node.inputs[0].type.elem.frac_bits
        if v.denominator != 1:
            raise HwcError(f"pad value {node.attrs['value']} is not on the input's grid", node=node.name, op=node.op)
        return int(v)

    def _Reshape(self, node, ins, out):
        return self._index_map(node, ins, out, lambda i: float_ops.reshape(node, i))

    def _Identity(self, node, ins, out):
        return self._index_map(node, ins, out, lambda i: i)

    def _Transpose(self, node, ins, out):
        return self._index_map(node, ins, out, lambda i: float_ops.transpose(node, i))

    def _Resize(self, node, ins, out):
        if node.attrs.get("mode", "nearest") != "nearest":
            raise HwcError("only nearest-neighbour Resize has an RTL form", node=node.name, op=node.op)
        return self._index_map(node, ins, out, lambda i: float_ops.resize(node, i))

    def _Pad(self, node, ins, out):
        a = node.attrs
        r = len(node.inputs[0].type.shape)
        width = [(a["pads"][i], a["pads"][r + i]) for i in range(r)]
        if a["mode"] == "constant":
            return self._index_map(node, ins, out, lambda i: np.pad(i, width, mode="constant", constant_values=-1))
        return self._index_map(node, ins, out, lambda i: np.pad(i, width, mode=a["mode"]))


def too_large(node: Node, n_in: int, n_out: int, leaves: int) -> HwcError:
    """The refusal of a layer whose unrolled constant matrix has more than MAX_LEAVES nonzero coefficients."""
    return HwcError(f"too large to unroll: {n_in} x {n_out} constant matrix with {leaves:,} nonzero coefficients "
                    f"(limit {MAX_LEAVES:,}); --target verilog has no time-multiplexed form yet", node=node.name, op=node.op)


def dense_leaves(node: Node) -> tuple[int, int, int]:
    """(inputs, outputs, nonzero coefficients) of a Dense layer's unrolled matrix, from its weights alone (the
    matrix repeats W once per leading position of a multi-axis input), so a design can be refused before any
    layer is built."""
    x, w = node.inputs[0], np.asarray(node.inputs[1].const)
    reps = size(x) // w.shape[0]
    return size(x), reps * w.shape[1], reps * int(np.count_nonzero(w))


def _fits(s: Term, t: FixedType, frac: int) -> bool:
    """Whether casting s (at frac fractional bits) to t is the identity: same grid, every value in range."""
    lo = t.min_mantissa + (1 if t.signed and t.overflow is Overflow.SAT_SYM else 0)
    return t.frac_bits == frac and lo <= s.lo and s.hi <= t.max_mantissa


def _slice(bus: str, t: FixedType, j: int) -> str:
    return f"{bus}[{j * t.width} +: {t.width}]"


def _output(out: str, t: FixedType, n: int, registered: bool) -> list[str]:
    """The layer's output: the cast values, through the layer's output register when it has one."""
    if not registered:
        return [f"assign {out} = {out}_c;"]
    return [f"reg [{n * t.width - 1}:0] {out}_r;", f"always @(posedge clk) if (ce) {out}_r <= {out}_c;",
            f"assign {out} = {out}_r;"]
