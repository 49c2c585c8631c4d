"""HLS emitters of the ops transformers add (kernels in templates/hls/hwc_transformer.h): LayerNormalization
with the simulator's 1/sqrt table, MatMul of two activations, Gather as an index table."""

from __future__ import annotations

import math

import numpy as np

from ..compiler.errors import HwcError
from ..compiler.ir.types import FixedType
from ..compiler.sim.transformer_ops import layer_norm_eps, rsqrt_table

from .hls_emit_base import EmitterBase
from .hls_text import array_def, per_sample, size

HEADER = "hwc_transformer.h"


class TransformerEmitters(EmitterBase):
    """LayerNormalization, MatMul (two activations), Gather."""

    def _LayerNormalization(self, layer, node, args, out):
        k = layer.index
        a = node.attrs
        x = node.inputs[0]
        n_in = math.prod(x.type.shape[a["axis"]:])
        f = x.type.elem.frac_bits
        g: FixedType = node.inputs[1].type.elem
        frac = g.frac_bits + a["rsqrt_bits"]
        b = node.input(2)
        h = b.type.elem.frac_bits if b is not None else frac
        out_frac = max(frac, h)
        rs = rsqrt_table(a["table_bits"], a["rsqrt_bits"])
        bias = np.asarray(b.const, np.int64).reshape(-1) if b is not None else np.zeros(n_in, np.int64)
        layer.config = self._struct(k, [
            f"static const unsigned n_outer = {size(x) // n_in}, n_in = {n_in}, table_bits = {a['table_bits']};",
            f"static const long long eps = {layer_norm_eps(a['epsilon'], n_in, f)}LL;",
            f"static const int out_frac = {out_frac}, z_shift = {out_frac - frac}, bias_shift = {out_frac - h};",
            f"static const bool has_bias = {'true' if b is not None else 'false'};",
            f"static const long long scale[{n_in}], bias[{n_in}];", f"static const int32_t rsqrt[{len(rs)}];"])
        layer.arrays += [array_def("long long", f"config{k}::scale", [f"{int(v)}LL" for v in np.asarray(node.inputs[1].const).reshape(-1)]),
                         array_def("long long", f"config{k}::bias", [f"{int(v)}LL" for v in bias]),
                         array_def("int32_t", f"config{k}::rsqrt", rs.tolist())]
        layer.header = HEADER
        layer.calls.append(self._call("layer_norm", node, args[:1], out, k))

    def _MatMul(self, layer, node, args, out):
        k = layer.index
        a, b = node.inputs
        if a.const is not None or b.const is not None:
            raise HwcError("a MatMul with a constant operand has no HLS kernel (a constant right operand becomes a "
                           "Dense before lowering)", node=node.name, op=node.op)
        sa, sb = per_sample(a), per_sample(b)
        if len(sa) < 2 or len(sb) < 2 or sa[:-2] != sb[:-2]:
            raise HwcError(f"MatMul of per-sample shapes {sa} and {sb}: the HLS kernel takes equal batch dimensions "
                           "and matrices on both sides", node=node.name, op=node.op)
        layer.config = self._struct(k, [
            f"static const unsigned n_batch = {math.prod(sa[:-2])}, n_m = {sa[-2]}, n_k = {sa[-1]}, n_n = {sb[-1]};",
            f"typedef {self.spell(node.attrs['accum'])} accum_t;"])
        layer.header = HEADER
        layer.calls.append(self._call("matmul", node, args[:2], out, k, inputs=list(node.inputs)))

    def _Gather(self, layer, node, args, out):
        self._gather(layer, node, args, out, np.take(self._positions(node), node.attrs["indices"], axis=node.attrs["axis"]))
