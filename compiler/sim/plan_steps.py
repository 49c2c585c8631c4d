"""The steps of a compiled fixed-point plan (sim/plan.py): one class per op family, built once per graph.

Every fixed-typed value is held as its mantissas in an integer-valued float array (float32 when the
step's largest intermediate is below 2^24, float64 below 2^53; see sim/float_chain.py for why that is
exact on any CPU). A step's constants are prepared when the plan is built: weights as floats with the
per-channel weight shift and the first power-of-two scale of the output cast folded in, the bias cast
to the accumulator and aligned, the bounds of every value from its type (no data scans), and the casts
that range analysis proves to be identities left out. Each step ends in its output chain (bias add,
rounding, saturation, the ReLU/Clip nodes merged into it), run in place on the step's own result.
"""

from __future__ import annotations

import math

import numpy as np

from . import float_ops, tables
from .exact import _depthwise, _direct, _float_type, _grouped
from .fixed import cast
from .fixed_ops import _tap_reduce, clip_bounds, from_float_op, run_node, to_float_op
from .conv_kernels import conv_depthwise, conv_direct, conv_int16, max_pool
from . import int_gemm, int_gemm_c
from .fused import from_float as quantize, run_fused
from .float_chain import cast_steps, run_steps, simplify
from ..ir.graph import Node, Value
from ..ir.types import FixedType


class Unsupported(Exception):
    """The plan cannot run this node with exact floats (the node runs through the reference op)."""


def fixed_bounds(v: Value) -> tuple[int, int]:
    """The proven interval of a value computed by a fixed op (every op ends in the cast to its type)."""
    t = v.type.elem
    if not isinstance(t, FixedType) or v.producer is None or v.const is not None:
        raise Unsupported(f"{v.name} has no proven interval")
    return t.min_mantissa, t.max_mantissa


class Step:
    """Runs one node (or a node with the element-wise nodes merged into it) on float mantissas.
    `inputs`: the values read (None for a constant argument), `output`: the value written."""

    chain_ok = False  # its result is a fresh array that a merged Relu/Clip may overwrite

    def __init__(self, node: Node):
        self.node = node
        self.inputs = [v for v in node.inputs if v is not None and v.const is None]
        self.output = node.outputs[0]
        self.steps: list[tuple] = []
        self.need = 0
        self.dtype = None
        self.compiled = False  # numba kernels allowed (set by the plan)
        self.fused = None  # the chain's compiled kernel arguments (sim/fused.py), set by the plan

    def extend(self, src_frac: int, dst: FixedType, lo: int, hi: int, raw: int, pre=()) -> None:
        """Append `pre` (e.g. a ReLU clip) and the cast from src_frac to dst of values in [lo, hi]."""
        steps, self.interval, self.raw, need = cast_steps(src_frac - dst.frac_bits, dst, lo, hi, raw)
        self.steps += list(pre) + steps
        self.need = max(self.need, need)
        self.frac = dst.frac_bits

    def finish(self) -> None:
        self.dtype = _float_type(self.need)
        if self.dtype is None:
            raise Unsupported("needs more than 53 bits")
        self.steps = [(k, *(_as(a, self.dtype) for a in rest)) for k, *rest in simplify(self.steps)]

    def __call__(self, *xs: np.ndarray) -> np.ndarray:
        if self.fused is not None:
            return run_fused(self.compute(*xs), self.fused)
        return run_steps(self.compute(*xs), self.steps)


def _as(a, dtype):
    if isinstance(a, np.ndarray):
        return a.astype(dtype)
    return dtype(a) if isinstance(a, float) and not math.isinf(a) else a


# The numba int16 kernels (sim/int_gemm.py) beat float64 BLAS from these reduction lengths on (bench/sim_speed.py
# shapes, one thread: Dense K=128 1.2x, 640 1.9x; Conv K=288 1.2x, 576 1.8x; below, BLAS is as fast or faster).
INT16_MIN_K = {"Dense": 128, "Conv": 256}


def c_int16_pays(op: str, k: int, m: int) -> bool:
    """Whether the C kernel (sim/int_gemm_c.py) beats float64 BLAS for a reduction of K into M outputs, as
    measured on one thread (µs per 1,024 rows, VNNI path / BLAS). Dense: K → M 16 → 64 34/61, 64 → 32 50/115,
    144 → 16 70/156, 256 → 5 114/203, but 32 → 16 26/23, 64 → 10 41/32, 32 → 5 28/13 (converting the input to
    int16 costs more than a narrow product): from K = 128, or above 16 outputs. Conv (BLAS's path builds a
    float window matrix too): 1.2x at K = 27 (ResNet-8's first layer), 1.8x at K = 72 (the digits CNN's
    second), 0.55x at K = 9 (its one-channel first layer, where copying windows costs more than the products)."""
    if op == "Conv":
        return k >= 16
    return k >= 128 or m > 16


class Gemm(Step):
    """Dense and Conv: y = x @ (w·2^shift) in the exact float type, then bias + casts in one chain.
    When that type is float64 and the operands fit int16 with an int32 accumulator, the product runs as
    int16 products instead (same integers): the C kernel where it beats BLAS (`c_int16_pays`, sim/int_gemm_c.py),
    else the numba dot products when the reduction is long (INT16_MIN_K, sim/int_gemm.py)."""

    chain_ok = True

    def __init__(self, node: Node):
        super().__init__(node)
        x, w = node.inputs[0], node.inputs[1]
        if w.const is None or w.const.dtype == object or len(self.inputs) != 1 or x is not self.inputs[0]:
            raise Unsupported("weights must be an int64 constant")
        tx, tw, a = x.type.elem, w.type.elem, node.attrs.get("accum")
        lo, hi = fixed_bounds(x)
        self.conv = node.op == "Conv"
        axis = 0 if self.conv else w.const.ndim - 1  # the output-channel axis of w
        ws = np.asarray(node.attrs.get("weight_shift") or [0], np.int64)
        shape = [-1 if i == axis else 1 for i in range(w.const.ndim)]
        wf = w.const.astype(np.float64) * np.exp2(ws.reshape(shape))  # exact: integers times powers of two
        per_out = np.abs(w.const).sum(axis=tuple(i for i in range(w.const.ndim) if i != axis))
        l1 = max((int(v) << int(ws[j % ws.size]) for j, v in enumerate(per_out)), default=0)
        bound = max(abs(lo), abs(hi)) * l1
        self._int16_of = (w.const, ws.reshape(shape), axis, lo, hi, l1)  # for finish(), once the float type is known
        f_acc = tx.frac_bits + tw.frac_bits
        self.need = bound
        if len(node.inputs) > 2 and node.inputs[2] is not None:
            b, fb = node.inputs[2].const, node.inputs[2].type.elem.frac_bits
            if b is None:
                raise Unsupported("bias must be a constant")
            b = cast(b, fb, a) if a is not None else np.asarray(b)
            fb_acc = a.frac_bits if a is not None else fb
            if fb_acc > f_acc or b.dtype == object:
                raise Unsupported("bias wider than the accumulator")
            b = b.astype(np.int64) << (f_acc - fb_acc)
            bound += max((abs(int(v)) for v in b.ravel()), default=0)
            rank = len(node.outputs[0].type.shape)
            self.steps.append(("add", b.astype(np.float64).reshape((-1,) + (1,) * (rank - 2) if self.conv else -1)))
        lo, hi, raw = -bound, bound, bound
        if a is not None:
            if a.frac_bits != f_acc:
                raise Unsupported("accumulator drops product bits")
            self.extend(f_acc, a, lo, hi, raw)
            lo, hi, raw = *self.interval, self.raw
        self.extend(f_acc, node.outputs[0].type.elem, lo, hi, raw)
        self.w = wf

    def _int16(self, w, ws, axis, lo, hi, l1):
        """(offset, weights [M, K] int16, o·Σ_k w per output) when both operands fit int16 and the int32
        accumulator holds every partial sum, else None."""
        off = int_gemm.int16_offset(lo, hi)
        a = self.node.attrs
        k = w.size // w.shape[axis]
        c_kernel = int_gemm_c.available() and c_int16_pays(self.node.op, k, w.shape[axis])
        if (off is None or (k < INT16_MIN_K[self.node.op] and not c_kernel) or w.ndim != (4 if self.conv else 2)
                or (self.conv and a["group"] != 1)):
            return None
        wi = w << ws
        if wi.min(initial=0) < -2 ** 15 or wi.max(initial=0) >= 2 ** 15:
            return None
        if max(abs(min(lo, 0) - off), abs(max(hi, 0) - off)) * l1 >= int_gemm.INT32_LIMIT:
            return None
        w2 = (wi.reshape(wi.shape[0], -1) if self.conv else wi.T).astype(np.int16)
        corr = off * w2.sum(axis=1, dtype=np.int64).astype(np.float64)
        if c_kernel:  # a convolution's k in the order (tap row, tap column, channel): sim/int_gemm_c.py conv2d
            wc = wi.transpose(0, 2, 3, 1).reshape(wi.shape[0], -1) if self.conv else w2
            return float(off), None, corr, int_gemm_c.Weights(wc.astype(np.int16), corr)
        w16 = np.zeros((w2.shape[0], int_gemm.padded(k)), np.int16)
        w16[:, :k] = w2
        return float(off), w16, corr, None

    def finish(self) -> None:
        super().finish()
        self.scale = 1.0
        if self.steps and self.steps[0][0] == "mul":  # x @ (w·2^k) = (x @ w)·2^k exactly
            self.scale = float(self.steps.pop(0)[1])
            self.w = self.w * self.scale
        self.w = self.w.astype(self.dtype)
        # int16 products only where the float type would be float64 (float32 BLAS is exact and faster)
        self.int16 = self._int16(*self._int16_of) if self.dtype is np.float64 else None
        del self._int16_of

    def compute(self, x):
        a = self.node.attrs
        if self.int16 is not None and (self.compiled or self.int16[3] is not None):
            off, w16, corr, wc = self.int16
            m = corr.size
            if self.conv:
                y = conv_int16(x, w16, self.w.shape[2:], a["strides"], a["dilations"], a["pads"], off, corr,
                               self.scale, self.dtype, wc)
            elif wc is not None:
                y = int_gemm_c.dense(x.reshape(-1, x.shape[-1]), off, wc, self.scale)
            else:
                y = int_gemm.dense(x.reshape(-1, x.shape[-1]), off, w16, corr, self.scale, self.dtype)
            if y is not None and not self.conv:
                y = y.reshape(*x.shape[:-1], m)
            if y is not None:
                return y
        x = x.astype(self.dtype, copy=False)
        if not self.conv:
            return np.matmul(x, self.w)
        st, dil, pads, g = a["strides"], a["dilations"], a["pads"], a["group"]
        y = None
        if g > 1 and self.w.shape[1] == 1:
            if self.compiled:
                y = conv_depthwise(x, self.w.reshape(self.w.shape[0], *self.w.shape[2:]), st, dil, pads)
            return _depthwise(x, self.w, st, dil, pads, self.dtype) if y is None else y
        if g > 1:
            return _grouped(x, self.w, st, dil, pads, g, self.dtype)
        pointwise = all(k == 1 for k in self.w.shape[2:]) and all(v == 1 for v in st) and not any(pads)
        if self.compiled and not pointwise:
            y = conv_direct(x, self.w.reshape(self.w.shape[0], -1), self.w.shape[2:], st, dil, pads)
        return _direct(x, self.w, st, dil, pads, self.dtype) if y is None else y


class AddSub(Step):
    """a·2^(f-fa) ± b·2^(f-fb), then the cast (f the larger of the two fractional bits)."""

    chain_ok = True

    def __init__(self, node: Node):
        super().__init__(node)
        if len(self.inputs) != 2:
            raise Unsupported("constant operand")
        (la, ha), (lb, hb) = fixed_bounds(node.inputs[0]), fixed_bounds(node.inputs[1])
        fa, fb = node.inputs[0].type.elem.frac_bits, node.inputs[1].type.elem.frac_bits
        f = max(fa, fb)
        self.ka, self.kb, self.sign = 2.0 ** (f - fa), 2.0 ** (f - fb), 1 if node.op == "Add" else -1
        lb, hb = (lb, hb) if self.sign > 0 else (-hb, -lb)
        lo, hi = (la << (f - fa)) + (lb << (f - fb)), (ha << (f - fa)) + (hb << (f - fb))
        self.need = max(-lo, hi)
        self.extend(f, node.outputs[0].type.elem, lo, hi, max(-lo, hi))

    def compute(self, a, b):  # a fresh array (the operands may broadcast)
        a, b = (a * k if k != 1 else a for a, k in ((a, self.ka), (b, self.kb)))
        return (np.add if self.sign > 0 else np.subtract)(a, b, dtype=self.dtype)


class GlobalAvg(Step):
    """Σ over the window times the reciprocal table's entry r, then the cast dropping recip_bits."""

    chain_ok = True

    def __init__(self, node: Node):
        super().__init__(node)
        lo, hi = fixed_bounds(node.inputs[0])
        shape = node.inputs[0].type.shape[2:]
        if any(d is None for d in shape):
            raise Unsupported("spatial size unknown")
        n, rb = math.prod(shape), node.attrs["recip_bits"]
        self.r = int(tables.reciprocal_table(n, rb)[n])
        self.need = max(-lo, hi) * n * self.r
        self.steps.append(("mul", float(self.r)))
        self.extend(node.inputs[0].type.elem.frac_bits + rb, node.outputs[0].type.elem, lo * n * self.r,
                    hi * n * self.r, self.need)

    def compute(self, x):
        return x.astype(self.dtype, copy=False).sum(axis=tuple(range(2, x.ndim)), keepdims=True)


class MaxPool(Step):
    """The window maximum (padding never wins: -inf), then the cast."""

    chain_ok = True

    def __init__(self, node: Node):
        super().__init__(node)
        lo, hi = fixed_bounds(node.inputs[0])
        self.extend(node.inputs[0].type.elem.frac_bits, node.outputs[0].type.elem, lo, hi, max(-lo, hi))

    def compute(self, x):
        a = self.node.attrs
        if self.steps or x.dtype != np.float64:  # no chain: the max of exact floats is exact in the
            x = x.astype(self.dtype, copy=False)  # producer's float64 too (and no conversion pass either way)
        if self.compiled:
            y = max_pool(x, a["kernel_shape"], a["strides"], a["dilations"], a["pads"], self.output.type.shape[2:])
            if y is not None:
                return y
        w = float_ops._windows(x, a["kernel_shape"], a["strides"], a["dilations"],
                               a["pads"], -np.inf, float_ops._ceil_extra(self.node, x.shape))
        return _tap_reduce(np.maximum, w, len(a["kernel_shape"]))


class Elementwise(Step):
    """Relu, Clip and the moving ops (Reshape, Transpose, Identity) with their casts: merged into the
    producer's chain when the producer owns its result and nothing else reads it."""

    def __init__(self, node: Node, raw: int | None = None):
        """raw: the largest magnitude the input may hold before the clips of its producer's chain."""
        super().__init__(node)
        lo, hi = fixed_bounds(node.inputs[0])
        pre = []
        if node.op == "Relu":
            pre, lo, hi = [("clip", 0.0, math.inf)], max(lo, 0), max(hi, 0)
        elif node.op == "Clip":
            cl, ch = clip_bounds(node)
            pre = [("clip", -math.inf if cl is None else float(cl), math.inf if ch is None else float(ch))]
            cl, ch = lo if cl is None else cl, hi if ch is None else ch
            lo, hi = min(max(lo, cl), ch), min(max(hi, cl), ch)  # numpy's clip: the max, then the min
        self.move = {"Reshape": float_ops.FLOAT_OPS["Reshape"], "Transpose": float_ops.FLOAT_OPS["Transpose"]}.get(node.op)
        self.raw = max(abs(lo), abs(hi), raw or 0)
        self.need = self.raw
        tin, tout = node.inputs[0].type.elem, node.outputs[0].type.elem
        if node.op in ("Relu", "Clip") or tin != tout:
            self.extend(tin.frac_bits, tout, lo, hi, self.raw, pre)

    def compute(self, x):
        y = self.move(self.node, x) if self.move is not None else x
        if not self.steps and y.dtype == np.float64:  # a pure move keeps float64: exact, no conversion pass
            return y
        return np.array(y, dtype=self.dtype) if self.steps or y.dtype != self.dtype else y


class Boundary(Step):
    """FromFloat / ToFloat and every op the plan has no float step for: the reference op on int64
    mantissas, converted from and to floats at the edges (exact: every width here is <= 53)."""

    def __init__(self, node: Node):
        super().__init__(node)
        if len(node.outputs) != 1:
            raise Unsupported("several outputs")
        for v in list(node.inputs) + list(node.outputs):
            if v is not None and isinstance(v.type.elem, FixedType) and v.type.elem.width > 53:
                raise Unsupported("wider than 53 bits")
        t = node.outputs[0].type.elem
        self.fixed_in = [isinstance(v.type.elem, FixedType) and v.const is None and node.op != "ToFloat"
                         if v is not None else False for v in node.inputs]  # ToFloat reads the floats as they are
        self.need = max(-t.min_mantissa, t.max_mantissa) if isinstance(t, FixedType) else 0
        self.fixed_out = isinstance(t, FixedType)

    def finish(self) -> None:
        self.dtype = np.float64 if self.fixed_out else None  # what a following GEMM most often reads

    def __call__(self, *xs):
        args, it = [], iter(xs)
        for v, fx in zip(self.node.inputs, self.fixed_in):
            if v is None:
                args.append(None)
            elif v.const is not None:
                args.append(v.const)
            else:
                a = next(it)
                args.append(a.astype(np.int64) if fx else a)
        while args and args[-1] is None:
            args.pop()
        if self.node.op == "ToFloat":  # + 0.0: a chain's -0.0 (ceil, trunc, 0·-w) is the mantissa 0
            a = self.node.attrs
            f = self.node.inputs[0].type.elem.frac_bits
            if a.get("scale") is None and a.get("offset") is None and abs(f) < 900:  # m·2^-f: exact, as ldexp
                y = np.multiply(args[0], 2.0 ** -f, dtype=np.float64)
                return np.add(y, 0.0, out=y)
            return np.add(to_float_op(self.node, *args), 0.0)
        if self.node.op == "FromFloat":
            x = args[0]
            if self.node.attrs.get("scale") is not None:  # as fixed_ops.from_float_op
                x = x.astype(np.float32) / np.float32(self.node.attrs["scale"])
            y = quantize(x, self.output.type.elem) if self.compiled else None
            return y if y is not None else from_float_op(self.node, *args).astype(self.dtype)
        y = run_node(self.node, *args)
        return y.astype(self.dtype) if self.fixed_out else y


STEPS = {"Dense": Gemm, "Conv": Gemm, "Add": AddSub, "Sub": AddSub, "GlobalAveragePool": GlobalAvg,
         "MaxPool": MaxPool, "Relu": Elementwise, "Clip": Elementwise, "Reshape": Elementwise,
         "Transpose": Elementwise, "Identity": Elementwise}
