"""AssignTypes: turn a float graph (possibly carrying the model's own fixed types from
LowerQuantizers) into the fixed-point form of docs/FIXED_POINT.md.

- Graph inputs get a `FromFloat` (input_bits, range from calibration or the declared input range),
  graph outputs a `ToFloat`.
- Dense/Conv weights are quantized at compile time (round half to even, saturate) to `wbits` with a
  power-of-two scale per layer, or per output channel (`weight_shift`); 1 bit is ±2^k (binary),
  2 bits with `ternary` is {-1, 0, 1}·2^k. Biases are quantized at the accumulator's fraction.
- The accumulator of every Dense/Conv gets the products' fraction and enough integer bits for every
  input the input type admits (interval arithmetic over the exact weights); `accum_cap` makes it
  narrower and wrapping (with a warning).
- Where a value is rounded: layer outputs that feed something other than an activation, and
  activation outputs, get `abits` (graph outputs `output_bits`) with a power-of-two range from the
  value ranges, `rounding`/`overflow` from the config. Data movement and max keep their input type;
  a value that feeds only a cast (a quantizer the model carried) is computed exactly and the cast is
  fused into its producer, so the model's quantizer rounds once, as in the model.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from ..sim import tables
from ..errors import HwcError
from ..ir.graph import Graph, Node, Value
from ..ir.types import F32, FixedType, FloatType, Overflow, Rounding, TensorType
from ..quant_config import QuantConfig
from ..sim.fixed import from_float
from .assign_types_transformer import TransformerTypes
from .base import Pass

ACTIVATIONS = frozenset({"Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh", "HardSigmoid", "Softmax"})
DATA_MOVEMENT = frozenset({"Reshape", "Transpose", "Pad", "Resize", "Identity", "Dropout", "MaxPool", "GlobalMaxPool"})
TABLE_RANGE_BITS = {"Sigmoid": 3, "Tanh": 2}


class TypeWarning(UserWarning):
    """A type choice the user should know about (saturation seen in calibration, a capped accumulator)."""


# ---- type helpers ----------------------------------------------------------------------------

def width_for(lo: int, hi: int) -> tuple[int, bool]:
    """Smallest two's-complement (or unsigned when lo >= 0) width holding the integers [lo, hi]."""
    if lo >= 0:
        return max(1, int(hi).bit_length()), False
    return max(int(hi).bit_length(), (-int(lo) - 1).bit_length()) + 1, True


def type_for_range(lo: float, hi: float, bits: int, rounding: Rounding, overflow: Overflow,
                   signed: bool | None = None) -> FixedType:
    """A `bits`-wide type whose power-of-two range covers [lo, hi] (signed when lo < 0)."""
    signed = lo < 0 if signed is None else signed
    m = max(abs(lo), abs(hi))
    if m == 0 or not math.isfinite(m):
        ib = 1
    else:
        ib = math.floor(math.log2(m)) + 1 + (1 if signed else 0)
        if bits == 1 and signed:
            ib = max(ib, 1)
    if signed and bits < 2:
        bits = 2
    return FixedType(bits, ib, signed, rounding, overflow)


DYNAMIC_QUANT_REFUSAL = ("computes its scale and zero point from each input's min and max at run time; fixed-point "
                         "and int8 hardware needs them at compile time (export with static quantization, or "
                         "compile the float model)")


def input_port_type(config, lo: float, hi: float) -> FixedType:
    """The type of a graph input's port: --input-bits wide, its power-of-two range covering [lo, hi]."""
    return type_for_range(lo, hi, config.in_bits, config.rounding, config.overflow)


def exact_int_type(lo: int, hi: int, frac: int, rounding=Rounding.TRN, overflow=Overflow.WRAP) -> FixedType:
    """The narrowest type holding mantissas [lo, hi] at `frac` fractional bits."""
    w, signed = width_for(lo, hi)
    return FixedType(w, w - frac, signed, rounding, overflow)


def quantize_weights(w: np.ndarray, bits: int, per_channel_axis: int | None, ternary: bool):
    """(mantissas, FixedType, weight_shift | None). Power-of-two scale per tensor or per channel: the
    one of the four largest useful scales with the least squared error (round half to even, saturate);
    binary: ±2^round(log2(mean|w|)); ternary: {-1, 0, 1}·2^k with threshold 0.7·mean|w|."""
    w64 = w.astype(np.float64)
    if per_channel_axis is None:
        groups = [w64]
    else:
        groups = [np.take(w64, c, axis=per_channel_axis) for c in range(w.shape[per_channel_axis])]
    fracs, mants = [], []
    for g in groups:
        a = np.abs(g)
        if bits == 1 or ternary:
            if ternary:
                keep = a > 0.7 * a.mean() if a.size else a > 0
                mag = a[keep].mean() if keep.any() else 1.0
                m = np.sign(g) * keep
            else:
                mag = a.mean() if a.size and a.mean() > 0 else 1.0
                m = np.where(g >= 0, 1, -1)
            f = -int(round(math.log2(mag)))
            mants.append(m.astype(np.int64))
            fracs.append(f)
            continue
        mx = float(a.max()) if a.size else 0.0
        ib = math.floor(math.log2(mx)) + 2 if mx > 0 else 1
        best = None
        for clip in range(4):  # the range that covers max|w|, or 1-3 octaves less (saturating the largest weights)
            t = FixedType(bits, ib - clip, True, Rounding.RND_CONV, Overflow.SAT)
            m = from_float(g, t).astype(np.int64)
            err = float(((g - m * 2.0 ** -t.frac_bits) ** 2).sum())
            if best is None or err < best[0]:
                best = (err, m, t.frac_bits)
        mants.append(best[1])
        fracs.append(best[2])
    width = 2 if bits == 1 or ternary else bits
    fmax = max(fracs)
    t = FixedType(width, width - fmax, True, Rounding.RND_CONV, Overflow.SAT)
    if per_channel_axis is None:
        return mants[0], t, None
    m = np.stack(mants, axis=per_channel_axis)
    shifts = [fmax - f for f in fracs]
    return m, t, (shifts if any(shifts) else None)


def fixed_const(graph: Graph, values: np.ndarray, bits: int, name: str) -> Value:
    """A float constant (scale, offset, alpha) as a fixed-point constant of `bits` bits."""
    mx = float(np.abs(values).max()) if values.size else 0.0
    signed = bool((values < 0).any())
    t = type_for_range(-mx if signed else 0.0, mx, bits, Rounding.RND_CONV, Overflow.SAT, signed)
    return graph.constant(from_float(values.astype(np.float64), t), name, elem=t)


# ---- the pass --------------------------------------------------------------------------------

@dataclass
class Decision:
    """One line of the compile summary."""
    node: str
    op: str
    output: FixedType | None = None
    weight: FixedType | None = None
    accum: FixedType | None = None
    note: str = ""


class AssignTypes(TransformerTypes, Pass):
    name = "assign-types"
    fixed_const = staticmethod(fixed_const)  # for the op-family parts (assign_types_transformer.py)
    exact_int_type = staticmethod(exact_int_type)

    def __init__(self, config: QuantConfig, ranges: dict[str, tuple[float, float]]):
        self.config = config
        self.ranges = ranges
        self.decisions: list[Decision] = []
        self.chosen: dict[str, FixedType] = {}  # values whose type the compiler chose from their range

    # -- helpers --
    def _range(self, v: Value) -> tuple[float, float]:
        if v.name in self.ranges:
            return self.ranges[v.name]
        raise HwcError(f"no value range for {v.name}: give --calib data or --input-range", node=v.producer.name if v.producer else v.name)

    def _rounded(self, v: Value, node: Node, graph: Graph, signed: bool | None = None) -> FixedType:
        c = self.config
        lo, hi = self._range(v)
        bits = c.output_bits if v in graph.outputs else c.abits
        t = type_for_range(lo, hi, bits, c.rounding, c.overflow, signed)
        t = c.override(t, c.layer(node.name, node.op).get("output"))
        self.chosen[v.name] = t
        return t

    @staticmethod
    def _elem(v: Value) -> FixedType:
        t = v.type.elem
        if not isinstance(t, FixedType):
            raise HwcError(f"input {v.name} has no fixed-point type ({t})", node=v.uses[0].node.name if v.uses else None)
        return t

    def _feeds_only(self, graph: Graph, v: Value, ops) -> bool:
        c = graph.single_consumer(v)
        return c is not None and c.op in ops

    def _set(self, graph: Graph, v: Value, t) -> None:
        graph.retype(v, v.type.with_elem(t))

    def run(self, graph: Graph) -> bool:
        if graph.metadata.get("fixed"):
            return False
        c = self.config
        for v in list(graph.inputs):
            if isinstance(v.type.elem, FloatType) and not all(u.node.op == "FromFloat" for u in v.uses):
                t = input_port_type(c, *(c.input_range or self._range(v)))
                n = graph.add_node("FromFloat", [v], name=f"{v.name}_to_fixed", output_names=[f"{v.name}_fixed"],
                                   output_types=[v.type.with_elem(t)], index=0)
                graph.replace_all_uses(v, n.output, skip=n)
                self.decisions.append(Decision(n.name, "FromFloat", output=t))
        for node in graph.toposort():
            if node.op in ("FromFloat", "ToFloat") or (node.op == "Rescale" and isinstance(node.output.type.elem, FixedType)):
                continue  # already typed by a lowering pass
            handler = getattr(self, f"_type_{node.op}", None)
            if handler is None:
                raise HwcError(f"no fixed-point form for {node.op} yet", node=node.name, op=node.op)
            handler(graph, node)
        self._fuse_casts(graph)
        for v in list(graph.outputs):
            if isinstance(v.type.elem, FixedType):
                n = graph.add_node("ToFloat", [v], name=f"{v.name}_to_float", output_names=[f"{v.name}_float"])
                graph.replace_all_uses(v, n.output, skip=n)
        graph.metadata["fixed"] = True
        graph.metadata["quant"] = {"wbits": c.wbits, "abits": c.abits, "input_bits": c.in_bits, "output_bits": c.output_bits,
                                   "rounding": c.rounding.value, "overflow": c.overflow.value, "per_channel": c.per_channel}
        return True

    # -- compute layers --
    def _weights(self, graph: Graph, node: Node, axis_out: int):
        c = self.config
        layer = c.layer(node.name, node.op)
        w = node.inputs[1]
        if isinstance(w.type.elem, FixedType):
            return self._elem(w), node.attrs.get("weight_shift")
        if w.const is None:
            raise HwcError("weights must be constant for fixed point", node=node.name, op=node.op)
        per_channel = layer.get("per_channel", c.per_channel)
        spec = layer.get("weight") or {}
        bits = spec.get("width", c.wbits)
        if "int_bits" in spec:  # a fully specified weight type from the config
            t = c.override(FixedType(bits, spec["int_bits"], True, Rounding.RND_CONV, Overflow.SAT), spec)
            m, ws = from_float(w.const.astype(np.float64), t), None
        else:
            m, t, ws = quantize_weights(w.const, bits, axis_out if per_channel else None, c.ternary and bits == 2)
        graph.set_input(node, 1, graph.constant(m, w.name + "_q", elem=t))
        node.attrs["weight_shift"] = ws
        return t, ws

    def _accumulate(self, graph: Graph, node: Node, x_t: FixedType, w_t: FixedType, ws, flat_w: np.ndarray):
        """Bias at the accumulator fraction, and the accumulator type from interval arithmetic.

        flat_w: [K, M] weight mantissas, shifted per channel, as each output channel sums them.
        """
        c = self.config
        f_acc = x_t.frac_bits + w_t.frac_bits
        b = node.input(2)
        b_m = None
        if b is not None:
            if isinstance(b.type.elem, FixedType):
                bt = self._elem(b)
                if bt.frac_bits > f_acc:
                    raise HwcError(f"bias has {bt.frac_bits} fractional bits, more than the accumulator's {f_acc}",
                                   node=node.name, op=node.op)
                b_m = np.asarray(b.const, np.int64) << (f_acc - bt.frac_bits)
            else:
                t = FixedType(64, 64 - f_acc, True, Rounding.RND_CONV, Overflow.SAT)
                b_m = from_float(b.const.astype(np.float64), t).astype(np.int64)
                bt = exact_int_type(int(b_m.min()), int(b_m.max()), f_acc)
                graph.set_input(node, 2, graph.constant(b_m, b.name + "_q", elem=bt))
        lo, hi = x_t.min_mantissa, x_t.max_mantissa
        if node.op == "Conv":  # zero padding: a tap may contribute 0
            lo, hi = min(lo, 0), max(hi, 0)
        pos, neg = np.maximum(flat_w, 0), np.minimum(flat_w, 0)
        top = hi * pos.sum(axis=0) + lo * neg.sum(axis=0)
        bot = lo * pos.sum(axis=0) + hi * neg.sum(axis=0)
        if b_m is not None:
            top, bot = top + b_m, bot + b_m
        acc = exact_int_type(min(0, int(bot.min())), max(0, int(top.max())), f_acc)
        spec = c.layer(node.name, node.op).get("accum") or {}
        cap = spec.get("width", c.accum_cap)
        if cap is not None and cap < acc.width:
            warnings.warn(f"{node.name}: accumulator capped at {cap} bits (needs {acc.width}); it wraps on large inputs",
                          TypeWarning, stacklevel=2)
            acc = FixedType(cap, cap - f_acc, True, Rounding.TRN, Overflow.WRAP)
        node.attrs["accum"] = acc
        return acc

    def _layer_output(self, graph: Graph, node: Node, acc: FixedType, w_t: FixedType):
        out = node.output
        feeds_activation = self._feeds_only(graph, out, ACTIVATIONS | {"Cast", "Rescale", "ToFloat"}) and out not in graph.outputs
        if feeds_activation or (out in graph.outputs and self.config.exact_outputs):
            t = acc.with_modes(self.config.rounding, self.config.overflow)
        else:
            t = self._rounded(out, node, graph)
        self._set(graph, out, t)
        self.decisions.append(Decision(node.name, node.op, output=t, weight=w_t, accum=acc))

    def _type_Dense(self, graph, node):
        x_t = self._elem(node.inputs[0])
        w_t, ws = self._weights(graph, node, axis_out=1)
        w = np.asarray(node.inputs[1].const, np.int64)
        if ws:
            w = w << np.asarray(ws, np.int64).reshape(1, -1)
        acc = self._accumulate(graph, node, x_t, w_t, ws, w)
        self._layer_output(graph, node, acc, w_t)

    def _type_Conv(self, graph, node):
        x_t = self._elem(node.inputs[0])
        w_t, ws = self._weights(graph, node, axis_out=0)
        w = np.asarray(node.inputs[1].const, np.int64)
        if ws:
            w = w << np.asarray(ws, np.int64).reshape((-1,) + (1,) * (w.ndim - 1))
        acc = self._accumulate(graph, node, x_t, w_t, ws, w.reshape(w.shape[0], -1).T)
        self._layer_output(graph, node, acc, w_t)

    # -- activations --
    def _activation_out(self, graph, node, exact: FixedType, signed=None):
        out = node.output
        if self._feeds_only(graph, out, {"Cast"}) and out not in graph.outputs:
            t = exact
        else:
            t = self._rounded(out, node, graph, signed)
        self._set(graph, out, t)
        self.decisions.append(Decision(node.name, node.op, output=t))

    def _type_Relu(self, graph, node):
        x = self._elem(node.inputs[0])
        exact = FixedType(x.width - 1, x.int_bits - 1, False, x.rounding, x.overflow) if x.signed and x.width > 1 else x
        self._activation_out(graph, node, exact, signed=False)

    def _type_Clip(self, graph, node):
        self._activation_out(graph, node, self._elem(node.inputs[0]))

    def _type_LeakyRelu(self, graph, node):
        x = self._elem(node.inputs[0])
        a = node.attrs["alpha"]
        pt = type_for_range(-abs(a), abs(a), self.config.param_bits, Rounding.RND_CONV, Overflow.SAT, True)
        node.attrs["param_type"] = pt
        lo_m = min(x.min_mantissa * int(from_float(np.asarray([a]), pt)[0]), 0)
        hi_m = x.max_mantissa << pt.frac_bits
        self._activation_out(graph, node, exact_int_type(lo_m, hi_m, x.frac_bits + pt.frac_bits))

    def _type_HardSigmoid(self, graph, node):
        a, b = node.attrs["alpha"], node.attrs["beta"]
        m = max(abs(a), abs(b))
        node.attrs["param_type"] = type_for_range(-m, m, self.config.param_bits, Rounding.RND_CONV, Overflow.SAT, True)
        self._table_like_out(graph, node, signed=False)

    def _table_like_out(self, graph, node, signed: bool):
        c = self.config
        bits = c.output_bits if node.output in graph.outputs else c.abits
        t = c.override(FixedType(bits, 1, signed, c.rounding, c.overflow), c.layer(node.name, node.op).get("output"))
        self._set(graph, node.output, t)
        self.decisions.append(Decision(node.name, node.op, output=t))

    def _float_output_function(self, graph, node) -> bool:
        """Target sim may keep a final Softmax/Sigmoid/Tanh in float (the model left it unquantized)."""
        if not (self.config.float_output_functions and node.output in graph.outputs):
            return False
        x = node.inputs[0]
        exact = graph.add_node("ToFloat", [x], name=f"{x.name}_to_float", output_names=[f"{x.name}_float"])
        f32 = graph.add_node("Cast", [exact.output], {"to": F32}, name=f"{x.name}_f32")
        graph.set_input(node, 0, f32.output)
        self._set(graph, node.output, F32)
        self.decisions.append(Decision(node.name, node.op, note="float (left unquantized by the model)"))
        return True

    def _type_Sigmoid(self, graph, node):
        if self._float_output_function(graph, node):
            return
        node.attrs.update(table_bits=self.config.table_bits, range_bits=TABLE_RANGE_BITS["Sigmoid"])
        self._table_like_out(graph, node, signed=False)

    def _type_Tanh(self, graph, node):
        if self._float_output_function(graph, node):
            return
        node.attrs.update(table_bits=self.config.table_bits, range_bits=TABLE_RANGE_BITS["Tanh"])
        self._table_like_out(graph, node, signed=True)

    def _type_table(self, graph, node):
        """Selu, Elu, Softplus, HardSwish, Swish, Gelu: a table of 2^table_bits entries over the whole range
        of x (exact per input value when x has at most table_bits bits), output typed by its range."""
        x_t = self._operand(graph, node, 0)
        node.attrs.update(table_bits=self.config.table_bits, range_bits=tables.wide_range_bits(x_t))
        t = self._rounded(node.output, node, graph)
        self._set(graph, node.output, t)
        self.decisions.append(Decision(node.name, node.op, output=t))

    _type_Selu = _type_Elu = _type_Softplus = _type_HardSwish = _type_Swish = _type_Gelu = _type_Erf = _type_table

    def _type_Softmax(self, graph, node):
        if self._float_output_function(graph, node):
            return
        c = self.config
        n = node.inputs[0].type.shape[node.attrs["axis"]]
        node.attrs.update(exp_type=FixedType(18, 1, False, Rounding.RND_CONV, Overflow.SAT), exp_table_bits=c.table_bits,
                          exp_range_bits=3, inv_type=FixedType(18, 2, False, Rounding.RND_CONV, Overflow.SAT),
                          inv_table_bits=c.table_bits, inv_range_bits=max(1, math.floor(math.log2(n)) + 1))
        self._table_like_out(graph, node, signed=False)

    # -- pooling and data movement --
    def _keep_type(self, graph, node):
        t = self._elem(node.inputs[0])
        self._set(graph, node.output, t)

    _type_MaxPool = _type_GlobalMaxPool = _type_Reshape = _type_Transpose = _type_Resize = _keep_type
    _type_Identity = _type_Dropout = _keep_type

    def _type_Pad(self, graph, node):
        x = self._elem(node.inputs[0])
        if node.attrs["mode"] == "constant":
            v = node.attrs["value"]
            if v * 2 ** x.frac_bits != round(v * 2 ** x.frac_bits) or not x.min <= v <= x.max:
                raise HwcError(f"pad value {v} is not representable in {x}", node=node.name, op=node.op)
        self._set(graph, node.output, x)

    def _type_AveragePool(self, graph, node):
        node.attrs["recip_bits"] = self.config.recip_bits
        self._activation_out(graph, node, self._elem(node.inputs[0]))

    _type_GlobalAveragePool = _type_AveragePool

    # -- elementwise arithmetic --
    def _operand(self, graph, node, i) -> FixedType:
        v = node.inputs[i]
        if v.const is not None and not isinstance(v.type.elem, FixedType):
            q = fixed_const(graph, np.asarray(v.const, np.float64), self.config.param_bits, v.name + "_q")
            graph.set_input(node, i, q)
            v = q
        return self._elem(v)

    def _type_Add(self, graph, node, sign=1):
        a, b = self._operand(graph, node, 0), self._operand(graph, node, 1)
        f = max(a.frac_bits, b.frac_bits)
        sa, sb = 1 << (f - a.frac_bits), 1 << (f - b.frac_bits)
        if sign > 0:
            lo, hi = a.min_mantissa * sa + b.min_mantissa * sb, a.max_mantissa * sa + b.max_mantissa * sb
        else:
            lo, hi = a.min_mantissa * sa - b.max_mantissa * sb, a.max_mantissa * sa - b.min_mantissa * sb
        self._activation_out(graph, node, exact_int_type(lo, hi, f))

    def _type_Sub(self, graph, node):
        self._type_Add(graph, node, sign=-1)

    def _type_Mul(self, graph, node):
        a, b = self._operand(graph, node, 0), self._operand(graph, node, 1)
        cands = [x * y for x in (a.min_mantissa, a.max_mantissa) for y in (b.min_mantissa, b.max_mantissa)]
        self._activation_out(graph, node, exact_int_type(min(cands), max(cands), a.frac_bits + b.frac_bits))

    def _type_Div(self, graph, node):
        raise HwcError("division by a run-time tensor has no fixed-point form here (division by a constant "
                       "becomes a multiplication)", node=node.name, op=node.op)

    def _type_PRelu(self, graph, node):
        """x < 0 ? x·slope[c] : x with one slope per channel (axis 1), slopes as fixed-point constants."""
        from .merge_affine_chain import channel_vector

        x = self._elem(node.inputs[0])
        s = node.inputs[1].const
        c = channel_vector(np.asarray(s, np.float64), node.inputs[0]) if s is not None else None
        if c is None:
            raise HwcError("a PRelu slope that varies along other axes than the channels (axis 1) has no "
                           "fixed-point form here", node=node.name, op=node.op)
        m = float(np.abs(c).max())
        pt = type_for_range(-m, m, self.config.param_bits, Rounding.RND_CONV, Overflow.SAT, True)
        node.attrs["param_type"] = pt
        shape = (len(c),) + (1,) * (node.inputs[0].type.rank - 2)
        sm = from_float(c, pt).astype(np.int64)
        graph.set_input(node, 1, graph.constant(sm.reshape(shape), node.inputs[1].name + "_q", elem=pt))
        lo_m = min(x.min_mantissa * int(sm.max()), x.min_mantissa * int(sm.min()), 0)
        hi_m = max(x.max_mantissa << pt.frac_bits, 0)
        self._activation_out(graph, node, exact_int_type(lo_m, hi_m, x.frac_bits + pt.frac_bits))

    def _type_DynamicQuantizeLinear(self, graph, node):
        raise HwcError(DYNAMIC_QUANT_REFUSAL, node=node.name, op=node.op)

    def _type_Bipolar(self, graph, node):
        """x >= 0 ? +1 : -1: mantissas +-1 in a 2-bit signed integer type."""
        self._operand(graph, node, 0)
        self._set(graph, node.output, FixedType(2, 2, True))

    def _type_Concat(self, graph, node):
        for i in range(len(node.inputs)):
            self._operand(graph, node, i)
        t = self._rounded(node.output, node, graph)
        self._set(graph, node.output, t)
        self.decisions.append(Decision(node.name, node.op, output=t))

    def _type_BatchNormalization(self, graph, node):
        """A BatchNorm that could not be folded becomes Rescale(x, a, b): y = x * a + b per channel."""
        from ..sim.float_ops import batchnorm_affine

        x_t = self._elem(node.inputs[0])
        a, b = batchnorm_affine(*[v.const for v in node.inputs[1:]], node.attrs["epsilon"], np.float64)
        m = fixed_const(graph, a, self.config.param_bits, f"{node.name}_scale")
        f_m = m.type.elem.frac_bits
        f = x_t.frac_bits + f_m
        bt = FixedType(64, 64 - f, True, Rounding.RND_CONV, Overflow.SAT)
        b_m = from_float(b, bt).astype(np.int64)
        off = graph.constant(b_m, f"{node.name}_offset", elem=exact_int_type(int(b_m.min()), int(b_m.max()), f))
        name, out_name = node.name, node.output.name
        r = graph.add_node("Rescale", [node.inputs[0], m, off], {"axis": 1}, name=name + "_rescale",
                           output_names=[out_name + "_rescaled"], output_types=[node.output.type],
                           index=graph.nodes.index(node))
        graph.replace_all_uses(node.output, r.output)
        graph.remove_node(node)
        graph.rename_node(r, name)
        graph.rename(r.output, out_name)
        self._type_Rescale(graph, r)

    def _type_Rescale(self, graph, node):
        x, m = self._elem(node.inputs[0]), self._elem(node.inputs[1])
        mm = np.asarray(node.inputs[1].const, np.int64)
        cands = [int(v) for v in (x.min_mantissa * mm.min(), x.min_mantissa * mm.max(), x.max_mantissa * mm.min(),
                                  x.max_mantissa * mm.max())]
        lo, hi = min(cands), max(cands)
        if node.input(2) is not None:
            bm = np.asarray(node.inputs[2].const, np.int64) << (x.frac_bits + m.frac_bits - self._elem(node.inputs[2]).frac_bits)
            lo, hi = lo + int(bm.min()), hi + int(bm.max())
        self._activation_out(graph, node, exact_int_type(lo, hi, x.frac_bits + m.frac_bits))

    def _type_Cast(self, graph, node):
        if not isinstance(node.output.type.elem, (FixedType, FloatType)):
            raise HwcError("cast to an integer type is not supported in fixed point", node=node.name, op=node.op)

    # -- fusing the model's quantizers into their producers --
    def _fuse_casts(self, graph: Graph) -> None:
        for cast_node in [n for n in graph.nodes if n.op == "Cast" and isinstance(n.output.type.elem, FixedType)]:
            src = cast_node.inputs[0]
            prod = src.producer
            if prod is None or graph.single_consumer(src) is not cast_node or prod.op in ("Cast",):
                continue
            if not isinstance(src.type.elem, FixedType):
                continue
            self._set(graph, src, cast_node.output.type.elem)
            graph.replace_all_uses(cast_node.output, src)
            graph.remove_node(cast_node)
            for d in self.decisions:
                if d.node == prod.name:
                    d.output = src.type.elem
