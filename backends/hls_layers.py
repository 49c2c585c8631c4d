"""One emitter per IR op: the config struct, the constant arrays and the kernel call of a layer,
following docs/HLS_KERNELS.md. Emitters only read the IR; every number they write is an exact value
of the node's types (double literals of m·2^-f), every identifier is derived (`layerK`, `configK`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..compiler import tables
from ..compiler.errors import HwcError
from ..compiler.ir.graph import Node, Value
from ..compiler.ir.types import FixedType
from ..compiler.sim import float_ops
from ..compiler.sim.fixed_ops import clip_bounds

from .hls_vendor import Vendor


@dataclass
class Layer:
    index: int
    node: Node
    config: str = ""  # struct text
    arrays: list[str] = field(default_factory=list)  # out-of-struct definitions
    calls: list[str] = field(default_factory=list)  # statements in the top function
    multipliers: int = 0  # multiplications in the kernel after zero-skipping
    binary: bool = False  # ±1 weights: every multiplication is an add or a subtract


def literal(m: int, frac: int) -> str:
    """The exact value m·2^-frac as a C++ double literal."""
    if abs(int(m)) >= 1 << 53:
        raise HwcError(f"constant {m}·2^-{frac} has more than 53 significant bits")
    v = math.ldexp(int(m), -int(frac))
    return repr(v) if v != int(v) or abs(v) >= 1e16 else f"{v:.1f}"


def array_def(ctype: str, name: str, values, per_line: int = 16) -> str:
    vals = [str(v) for v in values]
    lines = [", ".join(vals[i:i + per_line]) for i in range(0, len(vals), per_line)]
    return f"const {ctype} {name}[{len(vals)}] = {{\n    " + ",\n    ".join(lines) + "\n};"


def fixed_values(a: np.ndarray, t: FixedType) -> list[str]:
    """Double literals of the values, one `literal` call per distinct mantissa (a table lookup)."""
    a = np.asarray(a).reshape(-1)
    if a.size == 0:
        return []
    distinct, index = np.unique(a, return_inverse=True)
    table = np.array([literal(int(m), t.frac_bits) for m in distinct], dtype=object)
    return table[index.reshape(-1)].tolist()


def mantissa_ctype(t: FixedType) -> str | None:
    """The C integer type that holds t's mantissas (int8_t ... uint64_t), None above 64 bits."""
    for bits in (8, 16, 32, 64):
        if t.width <= bits:
            return f"int{bits}_t" if t.signed else f"uint{bits}_t"
    return None


def per_sample(v: Value) -> tuple[int, ...]:
    return tuple(d for d in v.type.shape[1:]) if v.type.shape and v.type.shape[0] is None else tuple(v.type.shape)


def size(v: Value) -> int:
    return math.prod(per_sample(v))


def stream_shape(v: Value) -> tuple[int, int]:
    """(values per stream element, elements): a feature map [C, *S] is prod(S) pixels of C channels,
    a vector [N] one element of N values."""
    s = per_sample(v)
    return (s[0], math.prod(s[1:])) if len(s) >= 2 else ((s[0], 1) if s else (1, 1))


class Emitter:
    """Builds Layer objects; `types` maps values to their C typedef names, `args` carries strategy/reuse."""

    def __init__(self, vendor: Vendor, type_name, strategy: str, reuse: int, layer_reuse: dict[str, int] | None = None):
        self.vendor, self.type_name, self.strategy, self.reuse = vendor, type_name, strategy, reuse
        self.layer_reuse = layer_reuse or {}  # node name -> reuse factor (--reuse auto)

    def reuse_of(self, node: Node) -> int:
        return self.layer_reuse.get(node.name, self.reuse)

    def t(self, v: Value) -> str:
        return self.type_name(v)

    def spell(self, t: FixedType) -> str:
        return self.vendor.fixed(t)

    def emit(self, index: int, node: Node, args: list[str], out: str) -> Layer:
        fn = getattr(self, f"_{node.op}", None)
        if fn is None:
            raise HwcError(f"the HLS backends have no kernel for {node.op}", node=node.name, op=node.op)
        layer = Layer(index, node)
        fn(layer, node, args, out)
        return layer

    # -- helpers --
    def _struct(self, k: int, members: list[str]) -> str:
        body = "\n".join(f"    {m}" for m in members)
        return f"struct config{k} {{\n{body}\n}};"

    def _call(self, kernel: str, node: Node, ins: list[str], out: str, k: int, inputs: list[Value] | None = None) -> str:
        inputs = inputs if inputs is not None else [node.inputs[0]]
        tparams = ", ".join([self.t(v) for v in inputs] + [self.t(node.output), f"config{k}"])
        return f"hwc::{kernel}<{tparams}>({', '.join(ins + [out])});"

    # -- dense algebra --
    def _triplets(self, layer: Layer, members: list[str], w: np.ndarray, ins, outs, wt: FixedType, k: int):
        """Nonzero weights as (in, out, weight) triplets; at least one (a zero weight) for an all-zero layer."""
        nz = np.flatnonzero(w)
        if nz.size == 0:
            ins, outs, vals = np.array([0]), np.array([0]), np.array([0])
        else:
            ins, outs, vals = ins[nz], outs[nz], w[nz]
        layer.multipliers = int(nz.size)
        binary = wt.width == 2 and nz.size > 0 and bool(np.all(np.abs(vals) == 1))
        # weights as integer mantissas (hwc::weight_value reinterprets them): no static initializer for g++
        mt = mantissa_ctype(wt)
        layer.binary = binary
        members += [f"static const unsigned n_nonzero = {len(vals)};", f"static const bool binary = {str(binary).lower()};",
                    f"typedef {self.spell(wt)} weight_t;",
                    f"static const unsigned in_index[{len(vals)}], out_index[{len(vals)}];",
                    f"static const {mt or 'weight_t'} weight[{len(vals)}];"]
        layer.arrays += [array_def("unsigned", f"config{k}::in_index", ins.tolist()),
                         array_def("unsigned", f"config{k}::out_index", outs.tolist()),
                         array_def(mt, f"config{k}::weight", np.asarray(vals).tolist()) if mt else
                         array_def(f"config{k}::weight_t", f"config{k}::weight", fixed_values(vals, wt))]

    def _common_acc(self, layer: Layer, node: Node, members: list[str], k: int, n_out: int):
        acc: FixedType = node.attrs["accum"]
        members += [f"typedef {self.spell(acc)} accum_t;", "typedef accum_t sum_t;",
                    f"static const hwc::strategy_t strategy = hwc::{self.strategy};",
                    f"static const unsigned reuse_factor = {self.reuse_of(node)};"]
        ws = node.attrs.get("weight_shift")
        if ws:
            members += [f"static const unsigned max_shift = {max(ws)};", f"static const unsigned weight_shift[{n_out}];"]
            layer.arrays.append(array_def("unsigned", f"config{k}::weight_shift", list(ws)))
        else:
            members.append("static const unsigned max_shift = 0;")
        b = node.input(2)
        members.append(f"static const bool has_bias = {'true' if b is not None else 'false'};")
        if b is not None:
            bt = b.type.elem
            members += [f"typedef {self.spell(bt)} bias_t;", f"static const bias_t bias[{n_out}];"]
            layer.arrays.append(array_def(f"config{k}::bias_t", f"config{k}::bias", fixed_values(b.const, bt)))

    def _Dense(self, layer, node, args, out):
        k = layer.index
        w = np.asarray(node.inputs[1].const)
        n_in, n_out = w.shape
        kk, jj = np.meshgrid(np.arange(n_in), np.arange(n_out), indexing="ij")
        members = [f"static const unsigned n_in = {n_in}, n_out = {n_out};"]
        self._triplets(layer, members, w.reshape(-1), kk.reshape(-1), jj.reshape(-1), node.inputs[1].type.elem, k)
        self._common_acc(layer, node, members, k, n_out)
        layer.config = self._struct(k, members)
        layer.calls.append(self._call("dense", node, args[:1], out, k))

    def _Conv(self, layer, node, args, out):
        k = layer.index
        a = node.attrs
        w = np.asarray(node.inputs[1].const)
        m_out, cg = w.shape[:2]
        nd = w.ndim - 2
        x_shape, y_shape = per_sample(node.inputs[0]), per_sample(node.output)
        n_chan, g = x_shape[0], a["group"]
        mg = m_out // g
        kh, kw = (w.shape[2], w.shape[3]) if nd == 2 else (1, w.shape[2])
        # triplets over (m, absolute c, ky, kx)
        m_i, c_l, ky, kx = np.meshgrid(np.arange(m_out), np.arange(cg), np.arange(kh), np.arange(kw), indexing="ij")
        c_abs = (m_i // mg) * cg + c_l
        ins = ((c_abs * kh + ky) * kw + kx).reshape(-1)
        w4 = w.reshape(m_out, cg, kh, kw)
        members = [f"static const unsigned n_chan = {n_chan}, n_filt = {m_out};"]
        if nd == 2:
            (ih, iw), (oh, ow) = x_shape[1:], y_shape[1:]
            members += [f"static const unsigned in_height = {ih}, in_width = {iw}, out_height = {oh}, out_width = {ow};",
                        f"static const unsigned kernel_height = {kh}, kernel_width = {kw};",
                        f"static const unsigned stride_height = {a['strides'][0]}, stride_width = {a['strides'][1]};",
                        f"static const unsigned dilation_height = {a['dilations'][0]}, dilation_width = {a['dilations'][1]};",
                        f"static const unsigned pad_top = {a['pads'][0]}, pad_left = {a['pads'][1]}, "
                        f"pad_bottom = {a['pads'][2]}, pad_right = {a['pads'][3]};"]
        else:
            members += [f"static const unsigned in_width = {x_shape[1]}, out_width = {y_shape[1]}, kernel_width = {kw};",
                        f"static const unsigned stride_width = {a['strides'][0]}, dilation_width = {a['dilations'][0]};",
                        f"static const unsigned pad_left = {a['pads'][0]}, pad_right = {a['pads'][1]};"]
        self._triplets(layer, members, w4.reshape(-1), ins, m_i.reshape(-1), node.inputs[1].type.elem, k)
        self._common_acc(layer, node, members, k, m_out)
        layer.config = self._struct(k, members)
        layer.calls.append(self._call("conv2d" if nd == 2 else "conv1d", node, args[:1], out, k))

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
        self._elementwise(layer, node, args, out, "prelu", [f"typedef {self.spell(pt)} param_t;",
                                                           f"static const param_t slope[{len(slope)}];"])
        layer.arrays.append(array_def(self.spell(pt), f"config{k}::slope", fixed_values(slope, pt)))

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
        layer.config = self._struct(k, [f"static const unsigned n_in = {size(node.inputs[0])}, "
                                        f"n_chan = {stream_shape(node.inputs[0])[0]};",
                                        f"static const unsigned table_bits = {a['table_bits']}, range_bits = {a['range_bits']};",
                                        f"static const {self.t(node.output)} table[{len(table)}];"])
        layer.arrays.append(array_def(self.t(node.output), f"config{k}::table", fixed_values(table, y)))
        kernel = "table_activation" if fn in tables.WIDE_TABLES else fn.lower()
        layer.calls.append(self._call(kernel, node, args[:1], out, k))

    def _table_activation(self, layer, node, args, out):
        self._table_fn(layer, node, args, out, node.op)

    _Selu = _Elu = _Softplus = _HardSwish = _Swish = _Gelu = _table_activation

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
        layer.config = self._struct(k, [
            f"static const unsigned n_outer = {n_outer}, n_in = {n_in}, n_inner = {n_inner};",
            f"typedef {self.spell(et)} exp_t;", f"typedef {self.spell(it)} inv_t;",
            f"static const unsigned exp_table_bits = {a['exp_table_bits']}, exp_range_bits = {a['exp_range_bits']};",
            f"static const unsigned inv_table_bits = {a['inv_table_bits']}, inv_range_bits = {a['inv_range_bits']};",
            f"static const exp_t exp_table[{len(e)}];", f"static const inv_t inv_table[{len(i)}];"])
        layer.arrays += [array_def(f"config{k}::exp_t", f"config{k}::exp_table", fixed_values(e, et)),
                         array_def(f"config{k}::inv_t", f"config{k}::inv_table", fixed_values(i, it))]
        layer.calls.append(self._call("softmax", node, args[:1], out, k))

    # -- pooling --
    def _window(self, node, members, dilation=True):
        a = node.attrs
        x_shape, y_shape = per_sample(node.inputs[0]), per_sample(node.output)
        nd = len(a["kernel_shape"])
        dil = a.get("dilations", [1] * nd)
        members.append(f"static const unsigned n_chan = {x_shape[0]}, reuse_factor = 1;")
        if nd == 2:
            members += [f"static const unsigned in_height = {x_shape[1]}, in_width = {x_shape[2]}, "
                        f"out_height = {y_shape[1]}, out_width = {y_shape[2]};",
                        f"static const unsigned kernel_height = {a['kernel_shape'][0]}, kernel_width = {a['kernel_shape'][1]};",
                        f"static const unsigned stride_height = {a['strides'][0]}, stride_width = {a['strides'][1]};",
                        f"static const unsigned dilation_height = {dil[0]}, dilation_width = {dil[1]};",
                        f"static const unsigned pad_top = {a['pads'][0]}, pad_left = {a['pads'][1]}, "
                        f"pad_bottom = {a['pads'][2]}, pad_right = {a['pads'][3]};"]
        else:
            members += [f"static const unsigned in_width = {x_shape[1]}, out_width = {y_shape[1]}, "
                        f"kernel_width = {a['kernel_shape'][0]};",
                        f"static const unsigned stride_width = {a['strides'][0]}, dilation_width = {dil[0]};",
                        f"static const unsigned pad_left = {a['pads'][0]}, pad_right = {a['pads'][1]};"]
        return nd

    def _MaxPool(self, layer, node, args, out):
        members: list[str] = []
        nd = self._window(node, members)
        layer.config = self._struct(layer.index, members)
        layer.calls.append(self._call(f"max_pool{nd}d", node, args[:1], out, layer.index))

    def _AveragePool(self, layer, node, args, out):
        k = layer.index
        a = node.attrs
        members: list[str] = []
        nd = self._window(node, members)
        r = a["recip_bits"]
        n = math.prod(a["kernel_shape"])
        recip = tables.reciprocal_table(n, r)
        rt = FixedType(r + 1, 1, False)
        members += [f"static const bool count_include_pad = {'true' if a['count_include_pad'] else 'false'};",
                    f"typedef {self.spell(rt)} recip_t;", f"static const recip_t recip[{n + 1}];"]
        layer.arrays.append(array_def(f"config{k}::recip_t", f"config{k}::recip", fixed_values(recip, rt)))
        layer.config = self._struct(k, members)
        layer.calls.append(self._call(f"avg_pool{nd}d", node, args[:1], out, k))

    def _global(self, layer, node, args, out, kernel, avg):
        k = layer.index
        shape = per_sample(node.inputs[0])
        n_in = math.prod(shape[1:])
        members = [f"static const unsigned n_chan = {shape[0]}, n_in = {n_in};"]
        if avg:
            r = node.attrs["recip_bits"]
            rt = FixedType(r + 1, 1, False)
            members += [f"typedef {self.spell(rt)} recip_t;", "static const recip_t recip;"]
            layer.arrays.append(f"const config{k}::recip_t config{k}::recip = "
                                f"{literal(int(tables.reciprocal_table(n_in, r)[n_in]), r)};")
        layer.config = self._struct(k, members)
        layer.calls.append(self._call(kernel, node, args[:1], out, k))

    def _GlobalAveragePool(self, layer, node, args, out):
        self._global(layer, node, args, out, "global_avg_pool", True)

    def _GlobalMaxPool(self, layer, node, args, out):
        self._global(layer, node, args, out, "global_max_pool", False)

    # -- element-wise with broadcasting --
    def _binary(self, layer, node, args, out, kernel):
        k = layer.index
        y_shape = per_sample(node.output)
        rank = len(y_shape)
        strides = []
        for v in node.inputs:
            s = per_sample(v) if v.const is None else tuple(v.type.shape)
            s = (1,) * (rank - len(s)) + tuple(s)
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
        layer.arrays.append(array_def("int", f"config{k}::index", index.reshape(-1).tolist()))
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
                   f"typedef {self.spell(mt)} mult_t;", f"static const mult_t mult[{n_chan}];"]
        layer.arrays.append(array_def(f"config{k}::mult_t", f"config{k}::mult", fixed_values(np.broadcast_to(m.const.reshape(-1), (n_chan,)), mt)))
        b = node.input(2)
        members.append(f"static const bool has_offset = {'true' if b is not None else 'false'};")
        if b is not None:
            bt: FixedType = b.type.elem
            members += [f"typedef {self.spell(bt)} offset_t;", f"static const offset_t offset[{n_chan}];"]
            layer.arrays.append(array_def(f"config{k}::offset_t", f"config{k}::offset",
                                          fixed_values(np.broadcast_to(b.const.reshape(-1), (n_chan,)), bt)))
        layer.config = self._struct(k, members)
        layer.calls.append(self._call("rescale", node, args[:1], out, k))
