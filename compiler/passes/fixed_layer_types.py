"""AssignTypes' rules for compute layers. Dense/Conv weights are quantized at compile time (`wbits`, power-of-two
scale per layer or per output channel, or the config's type); the bias goes to the accumulator's fraction; the
accumulator has the products' fraction and enough integer bits for every input the input type admits (interval
arithmetic over the exact weights), narrower and wrapping under `accum_cap`. A BatchNorm that could not be folded
becomes Rescale(x, a, b), exact."""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import HwcError
from ..ir.graph import Graph, Node
from ..ir.types import FixedType, Overflow, Rounding
from ..sim.fixed import from_float
from .fixed_type_rules import TypeWarning, exact_int_type, fixed_const
from .weight_mantissas import quantize_weights

# ops that read a layer's exact accumulator (a layer feeding one of them only is not rounded)
ACTIVATIONS = frozenset({"Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh", "HardSigmoid", "Softmax"})


def _weights(at, graph: Graph, node: Node, axis_out: int):
    c = at.config
    layer = c.layer(node.name, node.op)
    w = node.inputs[1]
    if isinstance(w.type.elem, FixedType):
        return at.elem(w), node.attrs.get("weight_shift")
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


def _accumulate(at, graph: Graph, node: Node, x_t: FixedType, w_t: FixedType, ws, flat_w: np.ndarray):
    """Bias at the accumulator fraction, and the accumulator type from interval arithmetic.

    flat_w: [K, M] weight mantissas, shifted per channel, as each output channel sums them.
    """
    c = at.config
    f_acc = x_t.frac_bits + w_t.frac_bits
    b = node.input(2)
    b_m = None
    if b is not None:
        if isinstance(b.type.elem, FixedType):
            bt = at.elem(b)
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


def _layer_output(at, graph: Graph, node: Node, acc: FixedType, w_t: FixedType):
    out = node.output
    feeds_activation = at.feeds_only(graph, out, ACTIVATIONS | {"Cast", "Rescale", "ToFloat"}) and out not in graph.outputs
    if feeds_activation or (out in graph.outputs and at.config.exact_outputs):
        t = acc.with_modes(at.config.rounding, at.config.overflow)
    else:
        t = at.rounded(out, node, graph)
    at.set_type(graph, out, t)
    at.decide(node, output=t, weight=w_t, accum=acc)


def dense(at, graph, node):
    x_t = at.elem(node.inputs[0])
    w_t, ws = _weights(at, graph, node, axis_out=1)
    w = np.asarray(node.inputs[1].const, np.int64)
    if ws:
        w = w << np.asarray(ws, np.int64).reshape(1, -1)
    acc = _accumulate(at, graph, node, x_t, w_t, ws, w)
    _layer_output(at, graph, node, acc, w_t)


def conv(at, graph, node):
    x_t = at.elem(node.inputs[0])
    w_t, ws = _weights(at, graph, node, axis_out=0)
    w = np.asarray(node.inputs[1].const, np.int64)
    if ws:
        w = w << np.asarray(ws, np.int64).reshape((-1,) + (1,) * (w.ndim - 1))
    acc = _accumulate(at, graph, node, x_t, w_t, ws, w.reshape(w.shape[0], -1).T)
    _layer_output(at, graph, node, acc, w_t)


def batch_normalization(at, graph, node):
    """A BatchNorm that could not be folded becomes Rescale(x, a, b): y = x * a + b per channel."""
    from ..sim.float_ops import batchnorm_affine

    x_t = at.elem(node.inputs[0])
    a, b = batchnorm_affine(*[v.const for v in node.inputs[1:]], node.attrs["epsilon"], np.float64)
    m = fixed_const(graph, a, at.config.param_bits, f"{node.name}_scale")
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
    rescale(at, graph, r)


def rescale(at, graph, node):
    x, m = at.elem(node.inputs[0]), at.elem(node.inputs[1])
    mm = np.asarray(node.inputs[1].const, np.int64)
    cands = [int(v) for v in (x.min_mantissa * mm.min(), x.min_mantissa * mm.max(), x.max_mantissa * mm.min(),
                              x.max_mantissa * mm.max())]
    lo, hi = min(cands), max(cands)
    if node.input(2) is not None:
        bm = np.asarray(node.inputs[2].const, np.int64) << (x.frac_bits + m.frac_bits - at.elem(node.inputs[2]).frac_bits)
        lo, hi = lo + int(bm.min()), hi + int(bm.max())
    at.activation_out(graph, node, exact_int_type(lo, hi, x.frac_bits + m.frac_bits))


#: op -> rule(at, graph, node), `at` the running AssignTypes
RULES = {"Dense": dense, "Conv": conv, "BatchNormalization": batch_normalization, "Rescale": rescale}
