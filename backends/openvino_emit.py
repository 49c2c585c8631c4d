"""The OpenVINO model of a checked fixed-point graph (`Emitter`, one method per IR op), built with
backends/openvino_graph.py (opset API, never XML by hand). Casts follow `openvino_casts.plan`, the plan the
simulator modes compute, so the two cannot disagree.

--target openvino: f32 tensors holding fixed-point values exactly; every cast of the IR that rounds or
saturates is a FakeQuantize (2^bits levels over the type's range); Dense/Conv weights are compressed
constants i4/i8 -> Convert -> Multiply(2^-f per channel).
--target ncs2: the same graph in FP16 (weights f16 constants holding the exact quantized values),
casts as Clamp -> Multiply(2^f) -> Round(half_to_even) -> Multiply(2^-f), no FakeQuantize, static batch
1, only op versions of OPSET_2022_3.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..compiler.errors import HwcError
from ..compiler.ir.graph import Graph, Node, Value
from ..compiler.sim import openvino_casts as ovc
from ..compiler.sim.openvino_ops import window_counts

NO_DYNQ = {"DYNAMIC_QUANTIZATION_GROUP_SIZE": 0}  # dynamic quantization of FC activations: off

#: Op type -> versions that the OpenVINO 2022.3 LTS IR reader accepts and the MYRIAD plugin maps, for what
#: this backend emits. Sources: the 2022.3 reader knows opset1..opset10 (docs/openvino_arithmetic.md,
#: "NCS2 (Myriad X) IR"); the Myriad front end of releases/2022/3
#: (src/plugins/intel_myriad/graph_transformer/src/frontend/frontend.cpp: parsers Convolution, Pooling,
#: ReLU, Clamp, FullyConnected/GEMM, Eltwise, Power/ScaleShift, PReLU, Reshape, Permute, Pad, Gather,
#: Floor, Round (half_to_even, half_away_from_zero), ReduceMax/ReduceSum, Convert, Concat; Gather-8/7 are
#: converted to Gather-1 there, opset1 ops to legacy layers by ConvertOpSet1ToLegacy).
OPSET_2022_3 = {
    "Parameter": {"opset1"}, "Result": {"opset1"}, "Const": {"opset1"}, "Convert": {"opset1"},
    "MatMul": {"opset1"}, "Convolution": {"opset1"}, "GroupConvolution": {"opset1"},
    "Add": {"opset1"}, "Subtract": {"opset1"}, "Multiply": {"opset1"}, "Maximum": {"opset1"},
    "ReLU": {"opset1"}, "Clamp": {"opset1"}, "PReLU": {"opset1"}, "MaxPool": {"opset1"},
    "ReduceMax": {"opset1"}, "ReduceSum": {"opset1"}, "Concat": {"opset1"}, "Reshape": {"opset1"},
    "Transpose": {"opset1"}, "Pad": {"opset1"}, "Gather": {"opset1", "opset7", "opset8"},
    "Floor": {"opset1"}, "Round": {"opset5"},
}


class Emitter:
    """Builds the OpenVINO model of a checked fixed-point graph, one method per IR op.

    fp16=False: the "openvino" form (FakeQuantize, compressed weights, dynamic batch).
    fp16=True: the "ncs2" form (Clamp/Multiply/Round casts, exact-valued weights, batch 1)."""

    def __init__(self, graph: Graph, storage: dict[str, str], fp16: bool = False):
        from . import openvino_graph as og
        from openvino import opset1, opset5

        self.g, self.og, self.o1, self.o5 = graph, og, opset1, opset5
        self.storage = storage
        self.fp16 = fp16
        self.vals: dict[int, Any] = {}
        self.layers: list[str] = []  # one line per emitted IR node, for the README

    # -- helpers --
    def _shape(self, v: Value) -> list[int]:
        return [(1 if self.fp16 else -1) if d is None else d for d in v.type.shape]

    def _c(self, a) -> Any:
        return self.og.constant(np.asarray(a, np.float32))

    def quantize(self, x, q: ovc.Quantize | None, rank: int, axis: int | None = None, name: str | None = None):
        """Emit q on x: FakeQuantize (+ Clamp), or for fp16 the Clamp/Multiply/Round/Multiply form."""
        if q is None:
            return x
        shp = lambda a: self._bcast(a, rank, axis)  # noqa: E731
        if not self.fp16:
            y = x
            if q.levels:
                y = self.og.fake_quantize(x, shp(q.il), shp(q.ih), shp(q.ol), shp(q.oh), q.levels, name=name)
            if q.clamp is not None:
                y = self.og.clamp(y, q.clamp[0], q.clamp[1], name=None if q.levels else name)
            return y
        return self.round_to_grid(x, q, rank, axis, name)

    def round_to_grid(self, x, q: ovc.Quantize, rank: int, axis, name):
        """fp16 form of a quantizer (openvino_fp16.cast16): y = x·m + b when the interval is scaled, Clamp to the
        grid's range, and for types of at most 11 bits Multiply(2^f), Round half to even, Multiply(2^-f)."""
        mb = ovc.affine(q)
        if mb is not None:
            m, b = mb
            x = self.og.multiply(x, self._c(self._bcast(m, rank, axis)))
            if np.any(b != 0):
                x = self.og.add(x, self._c(self._bcast(b, rank, axis)))
        lo, hi = ovc.grid_bounds(q)
        x = self.og.clamp(x, float(lo), float(hi), name=None if ovc.rounds_in_fp16(q) else name)
        if ovc.rounds_in_fp16(q):
            if q.frac:
                x = self.og.multiply(x, self._c(2.0 ** q.frac))
            x = self.o5.round(x, "half_to_even")
            if q.frac:
                x = self.og.multiply(x, self._c(2.0 ** -q.frac), name=name)
        return x

    @staticmethod
    def _bcast(a, rank: int, axis: int | None):
        a = np.asarray(a, np.float32)
        if a.ndim == 0 or a.size == 1:
            return a.reshape(())
        if axis is None:  # already shaped for the trailing axes
            return a.reshape((1,) * (rank - a.ndim) + a.shape)
        return a.reshape((1,) * axis + (-1,) + (1,) * (rank - 1 - axis))

    def _in(self, node: Node, i: int = 0):
        v = node.inputs[i]
        if v.const is not None:
            t = v.type.elem
            return self._c(np.asarray(v.const, np.float64) * 2.0 ** -t.frac_bits)
        return self.vals[id(v)]

    def weights(self, node: Node, w_m: np.ndarray, out_axis_shape: tuple[int, ...]):
        """Weight tensor (mantissas w_m, any layout with output channels first) as the model stores it."""
        t = node.inputs[1].type.elem
        ws = node.attrs.get("weight_shift") or [0] * w_m.shape[0]
        scale = np.asarray([2.0 ** (s - t.frac_bits) for s in ws], np.float64).reshape(out_axis_shape)
        kind = self.storage.get(node.name, "f32")
        if self.fp16 or kind == "f32":
            real = w_m.astype(np.float64) * scale
            if self.fp16 and np.any(real.astype(np.float16).astype(np.float64) != real):
                raise HwcError("weights not exactly representable in FP16", node=node.name, op=node.op)
            return self._c(real), "f16" if self.fp16 else "f32"
        s = np.unique(scale)
        return self.og.compressed_weights(w_m, s.reshape(()) if s.size == 1 else scale, dtype=kind), kind

    # -- the graph --
    def build(self):
        og = self.og
        params = []
        for v in self.g.inputs:
            p = og.parameter(self._shape(v), np.float32, name=v.name)
            params.append(p)
            self.vals[id(v)] = p
        for n in self.g.toposort():
            out = getattr(self, f"_{n.op}")(n)
            self.vals[id(n.output)] = out
        outs = []
        for v in self.g.outputs:
            o = self.vals[id(v)]
            o = o.output(0) if hasattr(o, "output") else o
            o.get_tensor().set_names({v.name})
            outs.append(o)
        m = og.model(outs, params, name=self.g.name or "hwc")
        if not self.fp16:
            og.set_runtime_options(m, NO_DYNQ)
        return m

    def _note(self, node: Node, text: str) -> None:
        self.layers.append(f"`{node.name}` ({node.op}): {text}")

    def _finish(self, node: Node, y, q=None, axis=None, what: str = ""):
        q = ovc.plan(node) if q is None else q
        rank = node.output.type.rank
        self._note_cast(node, q, what)
        return self.quantize(y, q, rank, axis, name=node.name)

    def _note_cast(self, node, q, what: str = ""):
        t = node.output.type.elem
        pre = f"{what}; " if what else ""
        if q is None:
            self._note(node, f"{pre}-> {t}, exact (no cast)")
        elif not q.levels:
            self._note(node, f"{pre}-> {t} by Clamp (saturation only)")
        elif self.fp16:
            how = "Clamp, Round half to even" if ovc.rounds_in_fp16(q) else "Clamp (wider than FP16's 11 bits)"
            self._note(node, f"{pre}-> {t} by {how}")
        else:
            self._note(node, f"{pre}-> {t} by FakeQuantize {q.levels} levels" + (", Clamp" if q.clamp else ""))

    def _FromFloat(self, n):
        return self._finish(n, self._in(n))

    def _ToFloat(self, n):
        q = ovc.to_float_quantizer(n)
        if q is None:
            self._note(n, "real value (nothing emitted)")
            return self._in(n)
        self._note(n, "scale/offset as a FakeQuantize output interval" if not self.fp16 else "Multiply/Add")
        if self.fp16:
            m, b = ovc.affine(q)
            rank = n.output.type.rank
            y = self.og.multiply(self._in(n), self._c(self._bcast(m, rank, None)))
            return self.og.add(y, self._c(self._bcast(b, rank, None)))
        return self.og.fake_quantize(self._in(n), q.il, q.ih, q.ol, q.oh, q.levels, name=n.name)

    def _limbs(self, n, layer, bias, what: str):  # bias: None or a function that makes the bias constant
        """The exact two-limb form of a Dense/Conv whose f32 sums reach 2^24 (`openvino_casts.Limbs`):
        H = Floor(x·2^(fx-k)), L = x - H·2^(k-fx); A_H, A_L by the layer; t = A_H·2^(k-s), I = 2·Floor(t/2),
        y = Clamp(I + Round(t - I + A_L·2^-s)) on the output grid, then ·2^-fy."""
        og, L = self.og, ovc.limb_split(n)
        fx, fy = n.inputs[0].type.elem.frac_bits, L.frac
        f_acc = fx + n.inputs[1].type.elem.frac_bits
        x = self._in(n)
        h = self.o1.floor(og.multiply(x, self._c(2.0 ** (fx - L.k))))
        lo = og.subtract(x, og.multiply(h, self._c(2.0 ** (L.k - fx))))
        a_h, a_l = layer(h), layer(lo)
        if bias is not None:
            a_l = og.add(a_l, bias())
        t = og.multiply(a_h, self._c(2.0 ** (f_acc - fx + L.k - L.s)))  # A_H·2^(k-s): a_h holds A_H·2^-(f_acc-fx)
        i = og.multiply(self.o1.floor(og.multiply(t, self._c(0.5))), self._c(2.0))  # even: ties stay to even
        u = og.add(og.subtract(t, i), og.multiply(a_l, self._c(2.0 ** (f_acc - L.s))))
        y = og.clamp(og.add(i, self.o5.round(u, "half_to_even")), float(L.lo), float(L.hi))
        into = L.relu.output.type.elem if L.relu is not None else n.output.type.elem
        self._note(n, f"{what}; two limbs of the input (k = {L.k}: sums reach 2^24) -> {into} by Floor, Round half "
                      "to even, Clamp" + (" (with the Relu after it)" if L.relu is not None else ""))
        return og.multiply(y, self._c(2.0 ** -fy), name=n.name)

    def _Dense(self, n):
        w_m = np.asarray(n.inputs[1].const, np.int64).T  # [M, K]
        w, kind = self.weights(n, w_m, (-1, 1))
        if not self.fp16 and ovc.limb_split(n) is not None:
            return self._limbs(n, lambda v: self.og.matmul(v, w, transpose_b=True),
                               (lambda: self._in(n, 2)) if n.input(2) is not None else None, f"MatMul, weights {kind}")
        y = self.og.matmul(self._in(n), w, transpose_b=True)
        if n.input(2) is not None:
            y = self.og.add(y, self._in(n, 2))
        return self._finish(n, y, what=f"MatMul, weights {kind}")

    def _Conv(self, n):
        a = n.attrs
        w_m = np.asarray(n.inputs[1].const, np.int64)
        nd = w_m.ndim - 2
        pads = (a["pads"][:nd], a["pads"][nd:])
        if a["group"] == 1:
            w, kind = self.weights(n, w_m, (-1,) + (1,) * (nd + 1))
            layer = lambda v: self.og.convolution(v, w, a["strides"], pads, a["dilations"])  # noqa: E731
        else:
            G = a["group"]
            w5 = w_m.reshape((G, w_m.shape[0] // G) + w_m.shape[1:])
            w, kind = self.weights(n, w5, (G, -1) + (1,) * (nd + 1))
            layer = lambda v: self.og.group_convolution(v, w, None, a["strides"], pads, a["dilations"])  # noqa: E731
        b = n.input(2)
        bias = (lambda: self._c((np.asarray(b.const, np.float64) * 2.0 ** -b.type.elem.frac_bits)  # noqa: E731
                                .reshape((1, -1) + (1,) * nd))) if b is not None else None
        what = f"{'Convolution' if a['group'] == 1 else 'GroupConvolution'}, weights {kind}"
        if not self.fp16 and ovc.limb_split(n) is not None:
            return self._limbs(n, layer, bias, what)
        y = layer(self._in(n))
        if bias is not None:
            y = self.og.add(y, bias())
        return self._finish(n, y, what=what)

    def _Relu(self, n):
        p = n.inputs[0].producer
        if not self.fp16 and p is not None and p.op in ("Dense", "Conv") and (L := ovc.limb_split(p)) is not None \
                and L.relu is n:
            self._note(n, "computed by the layer's limb form")
            return self._in(n)
        return self._finish(n, self.og.relu(self._in(n)))

    def _Bipolar(self, n):
        y = self.o1.select(self.o1.greater_equal(self._in(n), self._c(0.0)), self._c(1.0), self._c(-1.0))
        return self._finish(n, y, what="Select(x >= 0, +1, -1)")

    def _Clip(self, n):
        t = n.inputs[0].type.elem
        lo, hi = ovc._clip_bounds(n, t)
        return self._finish(n, self.og.clamp(self._in(n), lo * 2.0 ** -t.frac_bits, hi * 2.0 ** -t.frac_bits))

    def _LeakyRelu(self, n):
        pt = n.attrs["param_type"]
        from ..compiler.sim.fixed_ops import _param
        a = _param(n.attrs["alpha"], pt) * 2.0 ** -pt.frac_bits
        return self._finish(n, self.o1.prelu(self._in(n), self._c(np.asarray([a]))))

    def _PRelu(self, n):
        st = n.inputs[1].type.elem
        a = np.asarray(n.inputs[1].const, np.float64).reshape(-1) * 2.0 ** -st.frac_bits
        return self._finish(n, self.o1.prelu(self._in(n), self._c(a)), what="PRelu, a slope per channel")

    def _HardSigmoid(self, n):
        from ..compiler.sim.fixed_ops import _param
        pt = n.attrs["param_type"]
        a, b = (_param(n.attrs[k], pt) * 2.0 ** -pt.frac_bits for k in ("alpha", "beta"))
        y = self.o1.hard_sigmoid(self._in(n), self._c(a), self._c(b))
        return self._finish(n, y, what="HardSigmoid (exact in f32)")

    def _MaxPool(self, n):
        a = n.attrs
        if any(d != 1 for d in a["dilations"]):
            raise HwcError("MaxPool with dilations has no opset1 form", node=n.name, op=n.op)
        nd = len(a["kernel_shape"])
        y = self.og.max_pool(self._in(n), a["kernel_shape"], a["strides"], (a["pads"][:nd], a["pads"][nd:]),
                             "ceil" if a["ceil_mode"] else "floor")
        return self._finish(n, y)

    def _GlobalMaxPool(self, n):
        rank = n.inputs[0].type.rank
        y = self.o1.reduce_max(self._in(n), self.og.constant(np.arange(2, rank, dtype=np.int64)), True)
        return self._finish(n, y)

    def _AveragePool(self, n):
        from ..compiler.sim import float_ops
        a = n.attrs
        x = self._in(n)
        shape = n.inputs[0].type.shape
        c = shape[1]
        nd = len(a["kernel_shape"])
        extra = float_ops._ceil_extra(n, [1, c] + list(shape[2:]))
        ones = np.ones((c, 1, 1) + tuple(a["kernel_shape"]), np.float32)
        s = self.o1.group_convolution(x, self.og.constant(ones), a["strides"], a["pads"][:nd],
                                      [p + e for p, e in zip(a["pads"][nd:], extra)], [1] * nd, "explicit")
        counts = window_counts(n, [1, c] + list(shape[2:]))
        q = ovc.avg_quantizer(n, counts)
        return self._finish(n, s, q, axis=None)

    def _GlobalAveragePool(self, n):
        rank = n.inputs[0].type.rank
        s = self.o1.reduce_sum(self._in(n), self.og.constant(np.arange(2, rank, dtype=np.int64)), True)
        q = ovc.avg_quantizer(n, window_counts(n, [1, 1] + list(n.inputs[0].type.shape[2:])))
        return self._finish(n, s, q)

    def _binary(self, n, fn):
        return self._finish(n, fn(self._in(n, 0), self._in(n, 1)))

    def _Add(self, n):
        return self._binary(n, self.og.add)

    def _Sub(self, n):
        return self._binary(n, self.og.subtract)

    def _Mul(self, n):
        return self._binary(n, self.og.multiply)

    def _Concat(self, n):
        rank = n.output.type.rank
        parts = [self.quantize(self._in(n, i), q, rank) for i, q in enumerate(ovc.concat_quantizers(n))]
        self._note(n, f"-> {n.output.type.elem}, each input cast")
        return self.og.concat(parts, n.attrs["axis"] % rank)

    def _Reshape(self, n):
        shape = [-1 if d is None else d for d in n.attrs["shape"]]
        if self.fp16:
            shape = [1 if d is None else d for d in n.attrs["shape"]]
        return self._finish(n, self.og.reshape(self._in(n), shape))

    def _Transpose(self, n):
        return self._finish(n, self.og.transpose(self._in(n), n.attrs["perm"]))

    def _Identity(self, n):
        return self._finish(n, self._in(n))

    def _Pad(self, n):
        a = n.attrs
        r = n.inputs[0].type.rank
        return self._finish(n, self.og.pad(self._in(n), a["pads"][:r], a["pads"][r:], a["value"], a["mode"]))

    def _Resize(self, n):
        """Nearest resize as one Gather per resized axis with the exact ONNX source indices."""
        from ..compiler.sim.float_ops import resize_indices
        a = n.attrs
        y = self._in(n)
        src = n.inputs[0].type.shape
        for ax, (scale, out) in enumerate(zip(a["scales"], a["shape"])):
            if out is None or (out == src[ax] and scale == 1.0):
                continue
            idx = resize_indices(src[ax], out, scale, a["coordinate_transformation_mode"], a["nearest_mode"])
            y = self.o1.gather(y, self.og.constant(idx.astype(np.int32)), self.og.constant(np.int64(ax)))
        return self._finish(n, y)

    def _table_index(self, x, scale_pow: int, offset: int, n_entries: int):
        """Convert(i32, Clamp(Floor(x·2^k) + offset, 0, N-1)): exact for values on a power-of-two grid."""
        og = self.og
        y = og.multiply(x, self._c(2.0 ** scale_pow)) if scale_pow else x
        y = self.o1.floor(y)
        if offset:
            y = og.add(y, self._c(float(offset)))
        y = og.clamp(y, 0.0, float(n_entries - 1))
        return og.convert(y, "i32")

    def _gather_table(self, table_real: np.ndarray, idx):
        return self.o1.gather(self._c(table_real), idx, self.og.constant(np.int64(0)))

    def _table_fn(self, n, name):
        from ..compiler.sim import tables
        a = n.attrs
        t = n.output.type.elem
        tab = tables.function_table(name, a["table_bits"], a["range_bits"], t, tables.table_params(n)) * 2.0 ** -t.frac_bits
        N = 1 << a["table_bits"]
        idx = self._table_index(self._in(n), a["table_bits"] - a["range_bits"] - 1, N // 2, N)
        self._note(n, f"table of {N} entries (Floor, Clamp, Convert, Gather)")
        return self._gather_table(tab, idx)

    def _Sigmoid(self, n):
        return self._table_fn(n, "Sigmoid")

    def _table_activation(self, n):
        return self._table_fn(n, n.op)

    _Selu = _Elu = _Softplus = _HardSwish = _Swish = _Gelu = _Erf = _table_activation

    def _Tanh(self, n):
        return self._table_fn(n, "Tanh")

    def _Softmax(self, n):
        from ..compiler.sim import tables
        a = n.attrs
        og = self.og
        ax = a["axis"] % n.inputs[0].type.rank
        x = self._in(n)
        et, it = a["exp_type"], a["inv_type"]
        mx = self.o1.reduce_max(x, og.constant(np.array([ax], np.int64)), True)
        d = og.subtract(mx, x)
        N = 1 << a["exp_table_bits"]
        e = self._gather_table(tables.exp_table(a["exp_table_bits"], a["exp_range_bits"], et) * 2.0 ** -et.frac_bits,
                               self._table_index(d, a["exp_table_bits"] - a["exp_range_bits"], 0, N))
        s = self.o1.reduce_sum(e, og.constant(np.array([ax], np.int64)), True)
        Ni = 1 << a["inv_table_bits"]
        inv = self._gather_table(tables.inv_table(a["inv_table_bits"], a["inv_range_bits"], it) * 2.0 ** -it.frac_bits,
                                 self._table_index(s, a["inv_table_bits"] - a["inv_range_bits"], 0, Ni))
        return self._finish(n, og.multiply(e, inv), what="exp and reciprocal tables (ReduceMax, Floor, Gather, "
                                                          "ReduceSum), Multiply")

    def _Rescale(self, n):
        q = ovc.plan(n)
        self._note_cast(n, q, "x·M + B per channel, as the quantizer's input interval" if not self.fp16
                        else "Multiply, Add per channel")
        return self.quantize(self._in(n), q, n.output.type.rank, n.attrs["axis"], name=n.name)

    def _Cast(self, n):
        return self._finish(n, self._in(n))
