"""HLS emitters of broadcasting arithmetic and data movement: Add/Sub/Mul with strides, copies, gathers
(Transpose, Resize, Pad as index tables computed by the float simulator), Concat, Rescale."""

from __future__ import annotations

import math

import numpy as np

from ..compiler.ir.types import FixedType
from ..compiler.sim import float_ops

from .hls_emit_base import EmitterBase
from .hls_text import array_def, fixed_array, literal, per_sample, size


class MovementEmitters(EmitterBase):
    """Add, Sub, Mul, Reshape/Identity/Dropout/Cast (copies), Transpose, Resize, Pad, Concat, Rescale."""

    # -- element-wise with broadcasting --
    def _binary(self, layer, node, args, out, kernel):
        k = layer.index
        y_shape = per_sample(node.output)
        rank = len(y_shape)
        strides = []
        for v in node.inputs:
            s = per_sample(v) if v.const is None else tuple(v.type.shape)
            s = (1,) * (rank - len(s)) + tuple(s[max(0, len(s) - rank):])  # a constant's leading 1s (batch) go
            row = [math.prod(s[d + 1:]) if s[d] != 1 else 0 for d in range(rank)]
            strides.append(row)
        members = [f"static const unsigned n_out = {size(node.output)}, rank = {rank};",
                   f"static const unsigned shape[{rank}], a_stride[{rank}], b_stride[{rank}];"]
        layer.arrays += [array_def("unsigned", f"config{k}::shape", list(y_shape)),
                         array_def("unsigned", f"config{k}::a_stride", strides[0]),
                         array_def("unsigned", f"config{k}::b_stride", strides[1])]
        layer.config = self._struct(k, members)
        layer.calls.append(self._call(kernel, node, args[:2], out, k, inputs=list(node.inputs)))

    def _Add(self, layer, node, args, out):
        self._binary(layer, node, args, out, "add")

    def _Sub(self, layer, node, args, out):
        self._binary(layer, node, args, out, "sub")

    def _Mul(self, layer, node, args, out):
        self._binary(layer, node, args, out, "mul")

    # -- data movement --
    def _copy(self, layer, node, args, out):
        k = layer.index
        layer.config = self._struct(k, [f"static const unsigned n_in = {size(node.inputs[0])};"])
        layer.calls.append(self._call("copy", node, args[:1], out, k))

    _Reshape = _Identity = _Dropout = _Cast = _copy

    def _gather(self, layer, node, args, out, index: np.ndarray, pad_value: str = "0.0"):
        k = layer.index
        n = index.size
        layer.config = self._struct(k, [f"static const unsigned n_out = {n};", f"static const int index[{n}];",
                                        f"static constexpr double pad_value = {pad_value};"])
        layer.arrays.append(array_def("int", f"config{k}::index", np.asarray(index).reshape(-1)))
        layer.calls.append(self._call("gather", node, args[:1], out, k))

    def _positions(self, node) -> np.ndarray:
        shape = per_sample(node.inputs[0])
        return np.arange(math.prod(shape), dtype=np.int64).reshape((1,) + shape)

    def _Transpose(self, layer, node, args, out):
        self._gather(layer, node, args, out, float_ops.transpose(node, self._positions(node)))

    def _Resize(self, layer, node, args, out):
        self._gather(layer, node, args, out, float_ops.resize(node, self._positions(node)))

    def _Pad(self, layer, node, args, out):
        a = node.attrs
        pos = self._positions(node)
        r = pos.ndim
        width = [(a["pads"][i], a["pads"][r + i]) for i in range(r)]
        if a["mode"] == "constant":
            idx = np.pad(pos, width, mode="constant", constant_values=-1)
            x: FixedType = node.inputs[0].type.elem
            m = a["value"] * 2 ** x.frac_bits
            self._gather(layer, node, args, out, idx, literal(int(m), x.frac_bits))
        else:
            self._gather(layer, node, args, out, np.pad(pos, width, mode=a["mode"]))

    def _Concat(self, layer, node, args, out):
        k = layer.index
        y_shape = per_sample(node.output)
        ax = node.attrs["axis"] - (1 if node.output.type.shape[0] is None else 0)
        n_outer, n_inner = math.prod(y_shape[:ax]), math.prod(y_shape[ax + 1:])
        offset = 0
        structs = []
        for i, v in enumerate(node.inputs):
            s = per_sample(v) if v.const is None else tuple(v.type.shape)
            structs.append(f"struct config{k}_{i} {{\n    static const unsigned n_outer = {n_outer}, n_inner = {n_inner}, "
                           f"axis_in = {s[ax]}, axis_out = {y_shape[ax]}, offset = {offset};\n}};")
            layer.calls.append(f"hwc::concat_slice<{self.t(v)}, {self.t(node.output)}, config{k}_{i}>({args[i]}, {out});")
            offset += s[ax]
        layer.config = "\n".join(structs)

    def _Rescale(self, layer, node, args, out):
        k = layer.index
        x = node.inputs[0]
        shape = per_sample(x)
        ax = node.attrs["axis"] - (1 if x.type.shape[0] is None else 0)
        m = node.inputs[1]
        n_chan = m.const.size if m.const.size > 1 else 1
        n_outer = math.prod(shape[:ax]) if n_chan > 1 else 1
        n_inner = math.prod(shape[ax + 1:]) if n_chan > 1 else math.prod(shape)
        mt: FixedType = m.type.elem
        members = [f"static const unsigned n_outer = {n_outer}, n_chan = {n_chan}, n_inner = {n_inner};",
                   f"typedef {self.spell(mt)} mult_t;"]
        decl, definition = fixed_array("mult", "mult_t", f"config{k}::mult", np.broadcast_to(m.const.reshape(-1), (n_chan,)), mt)
        members.append(decl)
        layer.arrays.append(definition)
        b = node.input(2)
        members.append(f"static const bool has_offset = {'true' if b is not None else 'false'};")
        if b is not None:
            bt: FixedType = b.type.elem
            decl, definition = fixed_array("offset", "offset_t", f"config{k}::offset",
                                           np.broadcast_to(b.const.reshape(-1), (n_chan,)), bt)
            members += [f"typedef {self.spell(bt)} offset_t;", decl]
            layer.arrays.append(definition)
        layer.config = self._struct(k, members)
        layer.calls.append(self._call("rescale", node, args[:1], out, k))
