"""HLS emitters of activations: elementwise kernels with their parameters, table activations and
Softmax with the simulator's own tables."""

from __future__ import annotations

import math

import numpy as np

from ..compiler.ir.types import FixedType
from ..compiler.sim import tables
from ..compiler.sim.fixed_ops import clip_bounds

from .hls_emit_base import EmitterBase
from .hls_text import fixed_array, literal, per_sample, size, stream_shape


class ActivationEmitters(EmitterBase):
    """Relu, Bipolar, LeakyRelu, PRelu, HardSigmoid, Clip, the table activations, Softmax."""

    # -- activations --
    def _elementwise(self, layer, node, args, out, kernel, extra=()):
        k = layer.index
        layer.config = self._struct(k, [f"static const unsigned n_in = {size(node.inputs[0])}, "
                                        f"n_chan = {stream_shape(node.inputs[0])[0]};", *extra])
        layer.calls.append(self._call(kernel, node, args[:1], out, k))

    def _Relu(self, layer, node, args, out):
        self._elementwise(layer, node, args, out, "relu")

    def _Bipolar(self, layer, node, args, out):
        self._elementwise(layer, node, args, out, "bipolar")

    def _LeakyRelu(self, layer, node, args, out):
        a = node.attrs
        self._elementwise(layer, node, args, out, "leaky_relu",
                          [f"typedef {self.spell(a['param_type'])} param_t;", f"static constexpr double alpha = {a['alpha']!r};"])

    def _PRelu(self, layer, node, args, out):
        k = layer.index
        pt: FixedType = node.attrs["param_type"]
        slope = np.asarray(node.inputs[1].const).reshape(-1)
        decl, definition = fixed_array("slope", "param_t", f"config{k}::slope", slope, pt)
        self._elementwise(layer, node, args, out, "prelu", [f"typedef {self.spell(pt)} param_t;", decl])
        layer.arrays.append(definition)

    def _HardSigmoid(self, layer, node, args, out):
        a = node.attrs
        self._elementwise(layer, node, args, out, "hard_sigmoid",
                          [f"typedef {self.spell(a['param_type'])} param_t;", f"static constexpr double alpha = {a['alpha']!r};",
                           f"static constexpr double beta = {a['beta']!r};"])

    def _Clip(self, layer, node, args, out):
        x: FixedType = node.inputs[0].type.elem
        f = x.frac_bits
        lo, hi = clip_bounds(node)
        m_lo = min(x.min_mantissa, lo if lo is not None else 0, hi if hi is not None else 0)
        m_hi = max(x.max_mantissa, lo if lo is not None else 0, hi if hi is not None else 0)
        wbits = max(int(m_hi).bit_length(), (-int(m_lo) - 1).bit_length() if m_lo < 0 else 0) + 1
        bound = FixedType(wbits, wbits - f, True)
        self._elementwise(layer, node, args, out, "clip", [
            f"static const bool has_min = {'true' if lo is not None else 'false'}, has_max = {'true' if hi is not None else 'false'};",
            f"static constexpr double min_value = {literal(lo, f) if lo is not None else '0.0'};",
            f"static constexpr double max_value = {literal(hi, f) if hi is not None else '0.0'};",
            f"typedef {self.spell(bound)} bound_t;"])

    def _table_fn(self, layer, node, args, out, fn):
        k = layer.index
        a = node.attrs
        y: FixedType = node.output.type.elem
        table = tables.function_table(fn, a["table_bits"], a["range_bits"], y, tables.table_params(node))
        decl, definition = fixed_array("table", "table_t", f"config{k}::table", table, y)
        layer.config = self._struct(k, [f"static const unsigned n_in = {size(node.inputs[0])}, "
                                        f"n_chan = {stream_shape(node.inputs[0])[0]};",
                                        f"static const unsigned table_bits = {a['table_bits']}, range_bits = {a['range_bits']};",
                                        f"typedef {self.t(node.output)} table_t;", decl])
        layer.arrays.append(definition)
        kernel = "table_activation" if fn in tables.WIDE_TABLES else fn.lower()
        layer.calls.append(self._call(kernel, node, args[:1], out, k))

    def _table_activation(self, layer, node, args, out):
        self._table_fn(layer, node, args, out, node.op)

    _Selu = _Elu = _Softplus = _HardSwish = _Swish = _Gelu = _Erf = _table_activation

    def _Sigmoid(self, layer, node, args, out):
        self._table_fn(layer, node, args, out, "Sigmoid")

    def _Tanh(self, layer, node, args, out):
        self._table_fn(layer, node, args, out, "Tanh")

    def _Softmax(self, layer, node, args, out):
        k = layer.index
        a = node.attrs
        shape = per_sample(node.inputs[0])
        ax = (a["axis"] % len(node.inputs[0].type.shape)) - (1 if node.inputs[0].type.shape[0] is None else 0)
        n_outer, n_in, n_inner = math.prod(shape[:ax]), shape[ax], math.prod(shape[ax + 1:])
        et, it = a["exp_type"], a["inv_type"]
        e = tables.exp_table(a["exp_table_bits"], a["exp_range_bits"], et)
        i = tables.inv_table(a["inv_table_bits"], a["inv_range_bits"], it)
        exp_decl, exp_def = fixed_array("exp_table", "exp_t", f"config{k}::exp_table", e, et)
        inv_decl, inv_def = fixed_array("inv_table", "inv_t", f"config{k}::inv_table", i, it)
        layer.config = self._struct(k, [
            f"static const unsigned n_outer = {n_outer}, n_in = {n_in}, n_inner = {n_inner};",
            f"typedef {self.spell(et)} exp_t;", f"typedef {self.spell(it)} inv_t;",
            f"static const unsigned exp_table_bits = {a['exp_table_bits']}, exp_range_bits = {a['exp_range_bits']};",
            f"static const unsigned inv_table_bits = {a['inv_table_bits']}, inv_range_bits = {a['inv_range_bits']};",
            exp_decl, inv_decl])
        layer.arrays += [exp_def, inv_def]
        layer.calls.append(self._call("softmax", node, args[:1], out, k))
