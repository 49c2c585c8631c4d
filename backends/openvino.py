"""OpenVINO IR for the CPU (`--target openvino`) and the NCS2 / Myriad X (`--target ncs2`), and its check
in the OpenVINO runtime. The forms, their exactness conditions and the NCS2 flow: docs/OPENVINO.md.

compile: clone -> to_fixed with a QuantConfig OpenVINO executes predictably (activations round half to
even and saturate: RND_CONV, SAT; no wrapping accumulators; power-of-two scales) -> checks -> the model,
built with backends/openvino_graph.py (opset API, never XML by hand) -> `model.xml`/`model.bin`, the typed
IR (`model.json`, `weights.npz`, metadata sim_mode "openvino" or "openvino-fp16"), `README.md`, `hwc.json`.

--target openvino: f32 tensors holding fixed-point values exactly; every cast of the IR that rounds or
saturates is a FakeQuantize (2^bits levels over the type's range); Dense/Conv weights are compressed
constants i4/i8 -> Convert -> Multiply(2^-f per channel). `verify` (and the compile call the README
gives) uses og.ISA_INDEPENDENT: f32, low-precision transformations off, so every Dense/Conv runs in f32 and
is exact on every x86 ISA because every partial sum is below 2^24 units (checked here). Should a user
leave LPT on (8- and 4-bit activations then run int8 kernels), the weights are limited so that those cannot
saturate on CPUs without VNNI: a layer whose input
is an 8- or 4-bit activation keeps 2·A·max|w| <= 32767 (A: largest u8 value the kernel sees), which for
weights we quantize means wbits <= 7 there (wbits 8 becomes [-64, 63]) and for weights the model carries
means f32 weights (no int8 for that layer). `hwc simulate`/`verify` use the "openvino" simulator mode
(compiler/sim/openvino_ops.py), bit for bit.

--target ncs2: the same graph in FP16 (weights f16 constants holding the exact quantized values),
casts as Clamp -> Multiply(2^f) -> Round(half_to_even) -> Multiply(2^-f), no FakeQuantize, static batch
1, only op versions of OPSET_2022_3. Checked against the "openvino-fp16" mode within a measured bound.

Options (compiler/options.py): the quantization (rounding/overflow are RND_CONV and SAT here, noted when
other; --accum-bits is refused: OpenVINO accumulators cannot wrap), pruning and calibration of
`CompileOptions`, as for --target sim; verify: random inputs drawn with `seed`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..compiler.errors import HwcError, listing
from ..compiler.ir.graph import Graph, Node, Value
from ..compiler.ir.types import FixedType, FloatType, Overflow, Rounding
from ..compiler.options import CompileOptions, VerifyOptions
from ..compiler.quant_config import QuantConfig
from ..compiler.sim import openvino_ops as ovo
from ..compiler.summary import quant_line
from .base import Backend, CompileResult, VerifyReport, uniform_inputs, write_manifest

MODE = {"openvino": "openvino", "ncs2": "openvino-fp16"}
SAT16 = 32767  # VPMADDUBSW saturates each pair sum to int16 on CPUs without VNNI
NO_DYNQ = {"DYNAMIC_QUANTIZATION_GROUP_SIZE": 0}  # dynamic quantization of FC activations: off
UNIT_ROUNDOFF = {"f32": 2.0 ** -24, "f16": 2.0 ** -11, "bf16": 2.0 ** -8}

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


# ---- lowering ---------------------------------------------------------------------------------

def _config(options: CompileOptions, graph: Graph, layers: dict) -> QuantConfig:
    """The user's quantization with OpenVINO's modes and the per-layer weight limits in `layers`."""
    q = options.quant
    if q.accum_bits is not None:
        raise HwcError("--accum-bits: OpenVINO's accumulators cannot wrap (f32 or int32); leave it out")
    return QuantConfig.for_target(q, graph, options.target, rounding=Rounding.RND_CONV, overflow=Overflow.SAT,
                                  accum_cap=None, layers={**q.layers, **layers}, float_output_functions=False)


def _kernel_max_u8(t: FixedType) -> int | None:
    """Largest u8 value an int8 kernel multiplies for an input of type t, or None when LPT does not
    run int8 kernels (levels other than 256 and 16). Signed 8/4-bit inputs of a FullyConnected are
    shifted by +128 (s8s8 compensation); of a Convolution, mapped to u8 with zero point levels/2."""
    if t.width not in (4, 8):
        return None
    return (1 << t.width) - 1 if not t.signed else max((1 << t.width) - 1, (1 << (t.width - 1)) - 1 + 128)


def _weights_limit(node: Node) -> int | None:
    a = _kernel_max_u8(node.inputs[0].type.elem)
    return None if a is None else SAT16 // (2 * a)


def lower(graph: Graph, options: CompileOptions, source: str = "") -> tuple[Graph, list[str], dict[str, str]]:
    """The typed IR that the emitted model computes: (graph, notes, weight storage per Dense/Conv)."""
    from ..compiler.compile import to_fixed

    q = options.quant
    notes: list[str] = []
    if q.rounding not in (Rounding.RND, Rounding.RND_CONV) or q.overflow != Overflow.SAT:
        notes.append(f"--rounding {q.rounding.value} --overflow {q.overflow.value} ignored: "
                     "OpenVINO's FakeQuantize rounds half to even and saturates (RND_CONV, SAT)")
    calib = options.calib.inputs(graph, source)
    user_layers = {k for k, v in q.layers.items() if "weight" in v}

    restrict: dict[str, dict] = {}
    int8 = options.target == "openvino"  # the NCS2 form has no int8 kernels
    while True:  # at most twice: the limits depend on the input types, which the weights do not change
        compiled = to_fixed(graph.clone(), _config(options, graph, restrict), calib, pruning=options.prune,
                            labels=options.calib.labels)
        g = compiled.graph
        ours = {n.name for n in compiled.float_graph.nodes if n.op in ("Dense", "Conv", "Gemm", "MatMul")
                and len(n.inputs) > 1 and n.inputs[1].const is not None
                and isinstance(n.inputs[1].type.elem, FloatType)} - user_layers
        more = {}
        for n in (g.nodes if int8 else []):
            lim = _weights_limit(n) if n.op in ("Dense", "Conv") else None
            if lim is None or n.name in restrict or n.name not in ours:
                continue
            if int(np.abs(np.asarray(n.inputs[1].const, np.int64)).max(initial=0)) > lim:
                more[n.name] = {"weight": {"width": lim.bit_length()}}  # 2^(bits-1) <= lim
        if not more:
            break
        restrict.update(more)
    for name, spec in sorted(restrict.items()):
        notes.append(f"{name}: weights {spec['weight']['width']} bits ([-{1 << (spec['weight']['width'] - 1)}, "
                     f"{(1 << (spec['weight']['width'] - 1)) - 1}]) so that the int8 kernels of CPUs without VNNI "
                     "cannot saturate")
    notes += compiled.notes
    storage = check(g) if int8 else {n.name: "f16" for n in g.nodes if n.op in ("Dense", "Conv")}
    if not int8:
        check(g)
        check_fp16_range(g)
    for n in g.nodes:
        if storage.get(n.name) == "f32" and n.op in ("Dense", "Conv"):
            notes.append(f"{n.name}: weights the model carries exceed ±{_weights_limit(n)}: stored as f32 (the layer "
                         "runs in f32, exact on every CPU)")
    return g, notes, storage


def check(g: Graph) -> dict[str, str]:
    """Raise when OpenVINO could not compute the graph exactly; returns the weight storage of each
    Dense/Conv ("i4", "i8" or "f32")."""
    problems: list[str] = []
    storage: dict[str, str] = {}
    supported = set(ovo.OPENVINO_OPS)
    for n in g.toposort():
        if n.op not in supported:
            problems.append(f"{n.name}: no OpenVINO form for {n.op}")
            continue
        for v in n.outputs:
            t = v.type.elem
            if isinstance(t, FixedType) and t.width > 24 + t.signed:  # |m| <= 2^24
                problems.append(f"{n.name}: {v.name} is {t} ({t.width} bits): more than f32 holds exactly")
            if isinstance(t, FloatType) and n.op != "ToFloat":
                problems.append(f"{n.name}: float ({t}) value {v.name}: the OpenVINO form is fixed point throughout")
        try:
            ovo.plan(n)
            if n.op == "Concat":
                ovo.concat_quantizers(n)
        except HwcError as e:
            problems.append(f"{n.name}: {e.reason}")
        b = ovo.f32_bound(n)
        if b is not None:
            bound, f = b
            if bound >= ovo.F32_EXACT:
                problems.append(f"{n.name}: f32 partial sums up to {bound} units of 2^-{f} (2^{math.log2(bound):.1f}) "
                                "reach 2^24, where f32 kernels round: use fewer --abits/--wbits/--input-bits")
            w = np.asarray(n.inputs[1].const, np.int64)
            mx = int(np.abs(w).max(initial=0))
            lim = _weights_limit(n)
            if lim is not None and mx > lim:
                storage[n.name] = "f32"
            else:
                storage[n.name] = "i4" if (w.min(initial=0) >= -8 and w.max(initial=0) <= 7) else "i8"
            if w.min(initial=0) < -128 or w.max(initial=0) > 127:
                storage[n.name] = "f32"
        if n.op == "HardSigmoid" and ovo.hard_sigmoid_bound(n) >= ovo.F32_EXACT:
            problems.append(f"{n.name}: x·alpha + beta needs more than 24 bits")
        if n.op in ("Add", "Sub"):
            lo, hi, _ = ovo._add_range(n)
            if max(-lo, hi) > ovo.F32_EXACT:
                problems.append(f"{n.name}: the sum needs more than 24 bits")
        if n.op in ("AveragePool", "GlobalAveragePool"):
            t = n.inputs[0].type.elem
            k = math.prod(n.attrs["kernel_shape"]) if n.op == "AveragePool" else math.prod(n.inputs[0].type.shape[2:])
            if max(abs(t.min_mantissa), t.max_mantissa) * k > ovo.F32_EXACT:
                problems.append(f"{n.name}: window sums of {k} values of {t} need more than 24 bits")
        if n.op == "Softmax":
            et = n.attrs["exp_type"]
            k = n.inputs[0].type.shape[n.attrs["axis"]]
            if k * et.max_mantissa >= ovo.F32_EXACT:
                problems.append(f"{n.name}: the sum of {k} exponentials needs more than 24 bits")
    if problems:
        raise HwcError("cannot be computed exactly by OpenVINO, " + listing(problems))
    return storage


FP16_MAX = 65504.0


def check_fp16_range(g: Graph) -> None:
    """Raise when a value (or an accumulator) of the graph can leave FP16's range (the NCS2 form holds the
    real values; models whose layers compute on integers, e.g. QONNX with non-power-of-two scales folded
    into a Rescale, reach 2^20 and more)."""
    problems = []
    for n in g.toposort():
        types = [v.type.elem for v in n.outputs] + ([n.attrs["accum"]] if n.attrs.get("accum") is not None else [])
        for t in types:
            if isinstance(t, FixedType) and max(abs(t.min), abs(t.max)) > FP16_MAX:
                problems.append(f"{n.name}: {t} reaches {max(abs(t.min), abs(t.max)):.6g}, beyond FP16's 65504")
                break
    if problems:
        raise HwcError("the FP16 (NCS2) form would overflow, " + listing(problems))


# ---- emitting ---------------------------------------------------------------------------------

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

    def quantize(self, x, q: ovo.Quantize | None, rank: int, axis: int | None = None, name: str | None = None):
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

    def round_to_grid(self, x, q: ovo.Quantize, rank: int, axis, name):
        """fp16 form of a quantizer (ovo.cast16): y = x·m + b when the interval is scaled, Clamp to the
        grid's range, and for types of at most 11 bits Multiply(2^f), Round half to even, Multiply(2^-f)."""
        mb = ovo.affine(q)
        if mb is not None:
            m, b = mb
            x = self.og.multiply(x, self._c(self._bcast(m, rank, axis)))
            if np.any(b != 0):
                x = self.og.add(x, self._c(self._bcast(b, rank, axis)))
        lo, hi = ovo.grid_bounds(q)
        x = self.og.clamp(x, float(lo), float(hi), name=None if ovo.rounds_in_fp16(q) else name)
        if ovo.rounds_in_fp16(q):
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
        q = ovo.plan(node) if q is None else q
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
            how = "Clamp, Round half to even" if ovo.rounds_in_fp16(q) else "Clamp (wider than FP16's 11 bits)"
            self._note(node, f"{pre}-> {t} by {how}")
        else:
            self._note(node, f"{pre}-> {t} by FakeQuantize {q.levels} levels" + (", Clamp" if q.clamp else ""))

    def _FromFloat(self, n):
        return self._finish(n, self._in(n))

    def _ToFloat(self, n):
        q = ovo.to_float_quantizer(n)
        if q is None:
            self._note(n, "real value (nothing emitted)")
            return self._in(n)
        self._note(n, "scale/offset as a FakeQuantize output interval" if not self.fp16 else "Multiply/Add")
        if self.fp16:
            m, b = ovo.affine(q)
            rank = n.output.type.rank
            y = self.og.multiply(self._in(n), self._c(self._bcast(m, rank, None)))
            return self.og.add(y, self._c(self._bcast(b, rank, None)))
        return self.og.fake_quantize(self._in(n), q.il, q.ih, q.ol, q.oh, q.levels, name=n.name)

    def _Dense(self, n):
        w_m = np.asarray(n.inputs[1].const, np.int64).T  # [M, K]
        w, kind = self.weights(n, w_m, (-1, 1))
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
            y = self.og.convolution(self._in(n), w, a["strides"], pads, a["dilations"])
        else:
            G = a["group"]
            w5 = w_m.reshape((G, w_m.shape[0] // G) + w_m.shape[1:])
            w, kind = self.weights(n, w5, (G, -1) + (1,) * (nd + 1))
            y = self.og.group_convolution(self._in(n), w, None, a["strides"], pads, a["dilations"])
        if n.input(2) is not None:
            b = n.inputs[2]
            y = self.og.add(y, self._c((np.asarray(b.const, np.float64) * 2.0 ** -b.type.elem.frac_bits)
                                       .reshape((1, -1) + (1,) * nd)))
        return self._finish(n, y, what=f"{'Convolution' if a['group'] == 1 else 'GroupConvolution'}, weights {kind}")

    def _Relu(self, n):
        return self._finish(n, self.og.relu(self._in(n)))

    def _Bipolar(self, n):
        y = self.o1.select(self.o1.greater_equal(self._in(n), self._c(0.0)), self._c(1.0), self._c(-1.0))
        return self._finish(n, y, what="Select(x >= 0, +1, -1)")

    def _Clip(self, n):
        t = n.inputs[0].type.elem
        lo, hi = ovo._clip_bounds(n, t)
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
        counts = ovo.window_counts(n, [1, c] + list(shape[2:]))
        q = ovo.avg_quantizer(n, counts)
        return self._finish(n, s, q, axis=None)

    def _GlobalAveragePool(self, n):
        rank = n.inputs[0].type.rank
        s = self.o1.reduce_sum(self._in(n), self.og.constant(np.arange(2, rank, dtype=np.int64)), True)
        q = ovo.avg_quantizer(n, ovo.window_counts(n, [1, 1] + list(n.inputs[0].type.shape[2:])))
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
        parts = [self.quantize(self._in(n, i), q, rank) for i, q in enumerate(ovo.concat_quantizers(n))]
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
        q = ovo.plan(n)
        self._note_cast(n, q, "x·M + B per channel, as the quantizer's input interval" if not self.fp16
                        else "Multiply, Add per channel")
        return self.quantize(self._in(n), q, n.output.type.rank, n.attrs["axis"], name=n.name)

    def _Cast(self, n):
        return self._finish(n, self._in(n))


# ---- the backend ------------------------------------------------------------------------------

STORED_BITS = {"i4": 4, "i8": 8, "u8": 8, "f16": 16, "f32": 32}


def openvino_figures(g: Graph, target: str, storage: dict[str, str]):
    """MACs, BOPs and bytes as the IR stores them: weights in `storage`'s element type (f16 for the NCS2
    form), biases and activations in f32 (f16 on the NCS2)."""
    from ..compiler.cost.ops import ops_figures

    fp16 = target == "ncs2"

    def weight_bits(n, v):
        if fp16:
            return 16
        return STORED_BITS.get(storage.get(n.name, "f32"), 32) if v is n.inputs[1] else 32

    return ops_figures(g, target, weight_bits, lambda v: 16 if fp16 else 32)


class OpenvinoBackend(Backend):
    name = "openvino"
    targets = ("openvino", "ncs2")

    def compile(self, graph: Graph, options: CompileOptions, outdir: Path, source: str = "") -> CompileResult:
        from . import openvino_graph as og
        from ..compiler.ir.serialize import save_graph

        target = options.target
        if target not in self.targets:
            raise HwcError(f"the OpenVINO backend has no target {target!r}")
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        g, notes, storage = lower(graph, options, source)
        fp16 = target == "ncs2"
        em = Emitter(g, storage, fp16=fp16)
        m = em.build()
        og.save(m, outdir / "model.xml", compress_to_fp16=fp16)
        g.metadata["sim_mode"] = MODE[target]
        g.metadata["output_names"] = [v.name for v in g.outputs]
        g.metadata["openvino"] = {"target": target, "input_ranges": input_ranges(g), "weights": storage}
        files = ["model.xml", "model.bin"] + [p.name for p in save_graph(g, outdir)]
        (outdir / "README.md").write_text(readme(g, em, notes, target))
        files.append("README.md")
        u = options.quant
        manifest = {"wbits": u.wbits, "abits": u.abits, "input_bits": u.input_bits, "output_bits": u.output_bits,
                    "per_channel": u.per_channel, "calib": options.calib.path, "input_range": u.input_range_text,
                    "config": u.config}
        figs = openvino_figures(g, target, storage)
        files.append(write_manifest(outdir, target, manifest, files, figs.to_json()))
        q = g.metadata.get("quant", {})
        kinds = sorted(set(storage.values()))
        summary = [f"compiled for --target {target}: {'FP16 IR for the Myriad X' if fp16 else 'OpenVINO IR, f32 + FakeQuantize'}"
                   f", {quant_line(q, modes=False)}, "
                   f"weights {'/'.join(kinds) if not fp16 else 'f16'}, simulator mode {MODE[target]}"]
        summary += [f"  {line}" for line in em.layers]
        from ..compiler.cost.ops import ops_line

        summary.append(ops_line(figs))
        summary += [f"note: {x}" for x in notes]
        return CompileResult(files, summary)

    def verify(self, outdir: Path, manifest: dict[str, Any], inputs: list[np.ndarray] | None,
               options: VerifyOptions, seed: int = 0) -> VerifyReport:
        from ..compiler.ir.serialize import load_graph

        g = load_graph(outdir)
        if inputs is None:
            inputs = random_inputs(g, options.samples, seed=seed)
        return compare(g, Path(outdir) / "model.xml", inputs, g.metadata.get("sim_mode", "openvino"))


# ---- verification -----------------------------------------------------------------------------

def input_ranges(g: Graph) -> dict[str, list[float]]:
    """The real range of each input: its FromFloat type's range (what calibration or --input-range chose)."""
    out = {}
    for v in g.inputs:
        fr = next((u.node for u in v.uses if u.node.op == "FromFloat"), None)
        if fr is not None:
            t = fr.output.type.elem
            s = fr.attrs.get("scale") or 1.0
            out[v.name] = [t.min * s, t.max * s]
    return out


def random_inputs(g: Graph, n: int, seed: int = 0) -> list[np.ndarray]:
    """n float32 inputs per graph input, uniform over its range (slightly beyond, to exercise saturation)."""
    return uniform_inputs(g, n, seed, g.metadata.get("openvino", {}).get("input_ranges", {}), pad=0.05)


def run_openvino(xml: Path, inputs: list[np.ndarray], precision: str = "f32", batch: int | None = None,
                 static_batch: bool = False) -> tuple[list[np.ndarray], Any]:
    """Outputs of the model on the CPU, in chunks of `batch` samples (one at a time for a static batch)."""
    from . import openvino_graph as og

    cm = og.compile_model(xml, None, {**og.ISA_INDEPENDENT, "INFERENCE_PRECISION_HINT": precision})
    req = cm.create_infer_request()
    n = len(inputs[0])
    step = 1 if static_batch else (batch or n)
    outs: list[list[np.ndarray]] = [[] for _ in cm.outputs]
    for b0 in range(0, n, step):
        req.infer({i: np.ascontiguousarray(x[b0:b0 + step]) for i, x in enumerate(inputs)})
        for j in range(len(cm.outputs)):
            outs[j].append(np.array(req.get_output_tensor(j).data, copy=True))
    return [np.concatenate(o) for o in outs], cm


def fp16_precision(flags: set[str] | None = None, max_isa: str | None = None) -> str:
    """The CPU precision `verify` runs an NCS2 (FP16) IR in: "f16" where the CPU computes f16 natively
    (AVX512-FP16, or AVX-VNNI-INT8 with AVX-NE-CONVERT) and oneDNN is not capped below it, else "f32".
    Never the bf16 that the f16 hint gives on other AVX-512 CPUs: its rounding (native or emulated)
    depends on the instruction set. flags: /proc/cpuinfo flags; max_isa: oneDNN's ONEDNN_MAX_CPU_ISA cap."""
    import os

    from ..compiler.sim.openvino_arith import cpu_flags

    flags = cpu_flags() if flags is None else flags
    if max_isa is None:
        max_isa = os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA") or "ALL"
    native = "avx512_fp16" in flags or {"avx_vnni_int8", "avx_ne_convert"} <= flags
    uncapped = max_isa.upper() == "ALL" or "FP16" in max_isa.upper() or "AVX10" in max_isa.upper()
    return "f16" if native and uncapped else "f32"


def chunk_size(g: Graph) -> int:
    """Samples per inference so that one chunk's largest activation stays near 64 MB."""
    biggest = max((math.prod(d for d in v.type.shape if d is not None) for n in g.nodes for v in n.outputs), default=1)
    return max(1, min(1000, (1 << 24) // max(1, biggest)))


def compare(g: Graph, xml: Path, inputs: list[np.ndarray], mode: str) -> VerifyReport:
    """OpenVINO CPU against the simulator: bit for bit (mode "openvino"), or within the bound stored
    in the metadata for "openvino-fp16" (|difference| <= bound·(1 + |simulated|))."""
    from ..compiler.sim.run import simulate

    fp16 = mode == "openvino-fp16"
    step = chunk_size(g)
    got, cm = run_openvino(xml, inputs, fp16_precision() if fp16 else "f32", batch=step, static_batch=fp16)
    prec = cm.get_property("INFERENCE_PRECISION_HINT").to_string()
    n = len(inputs[0])
    sims: list[list[np.ndarray]] = [[] for _ in g.outputs]
    errs: list[list[np.ndarray]] = [[] for _ in g.outputs]
    for b0 in range(0, n, step):
        chunk = [x[b0:b0 + step] for x in inputs]
        outs, bounds = (ovo.fp16_run(g, chunk, UNIT_ROUNDOFF.get(prec, 2.0 ** -8)) if fp16
                        else (simulate(g, chunk, mode=mode), None))
        for j, o in enumerate(outs):
            sims[j].append(np.asarray(o))
            if fp16:
                errs[j].append(np.asarray(bounds[j]))
    expected = [np.concatenate(s) for s in sims]
    compared = mismatches = 0
    first, details = "", []
    for j, (a, e) in enumerate(zip(got, expected)):
        e = e.reshape(a.shape)
        if fp16:
            bound = np.concatenate(errs[j]).reshape(a.shape)
            diff = np.abs(a.astype(np.float64) - e.astype(np.float64))
            bad = np.flatnonzero(diff.reshape(-1) > bound.reshape(-1))
            details.append(f"output {g.outputs[j].name}: {int((diff > 0).sum())} of {a.size} values differ from the "
                           f"simulator, max |OpenVINO {prec} - simulator| = {diff.max():.4g}; propagated bound: "
                           f"{int((bound > 0).sum())} values could differ, max {bound.max():.4g}")
        else:
            bad = np.flatnonzero(a.astype(np.float32).view(np.uint32).reshape(-1)
                                 != e.astype(np.float32).view(np.uint32).reshape(-1))
        compared += a.size
        mismatches += bad.size
        if bad.size and not first:
            k = int(bad[0])
            idx = np.unravel_index(k, a.shape)
            first = (f"output {g.outputs[j].name}, sample {idx[0]}, index {tuple(int(i) for i in idx[1:])}: "
                     f"OpenVINO {a.reshape(-1)[k]!r}, simulator {e.reshape(-1)[k]!r}")
    details.append(f"{mode}: {compared:,} values from {n} inputs, {mismatches} differ (CPU, inference precision {prec})")
    from .openvino_graph import runtime_layers

    kern = sorted({f"{l['layerType']} {l['runtimePrecision']} {l['primitiveType']}" for l in runtime_layers(cm)
                   if l["layerType"] in ("FullyConnected", "Convolution", "MatMul", "Deconvolution")})
    if kern:
        details.append("kernels: " + "; ".join(kern))
    return VerifyReport(compared, mismatches, n, first, details)


# ---- README for the output directory ----------------------------------------------------------

def readme(g: Graph, em: Emitter, notes: list[str], target: str) -> str:
    q = g.metadata.get("quant", {})
    ins = [f"- `{v.name}` {['N' if d is None else d for d in v.type.shape]} float32" for v in g.inputs]
    outs = [f"- `{v.name}` {['N' if d is None else d for d in v.type.shape]} float32" for v in g.outputs]
    lines = [f"# {g.name} as OpenVINO IR ({target})", "",
             f"Written by `hwc compile --target {target}` ({quant_line(q, modes=False)}). Files:", "",
             "- `model.xml`, `model.bin`: the OpenVINO IR (written by `ov.save_model` through the opset API).",
             f"- `model.json`, `weights.npz`: the typed IR; `hwc simulate` on this directory runs the "
             f"`{MODE[target]}` simulator mode.",
             "- `hwc.json`: the manifest (`hwc verify` reads it).", "",
             "## Inputs and outputs", "", *ins, *outs, ""]
    if target == "openvino":
        lines += [
            "## Running it", "",
            "```python",
            "import openvino as ov",
            "core = ov.Core()",
            "cm = core.compile_model(\"model.xml\", \"CPU\", {\"INFERENCE_PRECISION_HINT\": \"f32\", \"LP_TRANSFORMS_MODE\": \"NO\"})",
            "y = cm(x)[0]",
            "```", "",
            "Compile with `INFERENCE_PRECISION_HINT` f32 (the CPU plugin's default is bf16 or f16 on CPUs that "
            "have them) and `LP_TRANSFORMS_MODE` NO (else 8- and 4-bit FakeQuantizes before a Dense/Conv select "
            "u8/i8 kernels whose arithmetic depends on the instruction set); the model cannot store these. "
            "`DYNAMIC_QUANTIZATION_GROUP_SIZE` 0 is stored in the model (rt_info runtime_options).", "",
            "With these, the output equals the `openvino` simulator mode bit for bit on any x86 CPU (SSE4.1, "
            "AVX2, AVX-512, VNNI, bf16): fixed-point values are f32 numbers of at most 24 significant bits, every "
            "Dense/Conv partial sum is below 2^24 units, so f32 sums are exact in any order, and casts that round "
            "are FakeQuantizes (2^bits levels, round half to even, saturate) (hwc's docs/OPENVINO.md).", ""]
    else:
        lines += [
            "## Making the NCS2 blob", "",
            "The Myriad X plugin last shipped in OpenVINO **2022.3 LTS** (the `openvino` PyPI wheel of that "
            "version has no MYRIAD plugin: use the 2022.3 archive/installer for your OS). With it:", "",
            "```",
            "source /opt/intel/openvino_2022/setupvars.sh",
            "compile_tool -m model.xml -d MYRIAD -ip FP32 -op FP32 -o model.blob",
            "```", "",
            "and run the blob with `benchmark_app -m model.blob -d MYRIAD` or "
            "`core.import_model(open('model.blob','rb'), 'MYRIAD')` (2022.3). The IR is FP16 (constants f16), "
            "batch 1, and uses only op versions the 2022.3 reader accepts and the Myriad front end maps "
            "(no FakeQuantize: casts are Clamp, Multiply, Round half to even, Multiply).", "",
            "Here (no NCS2) `hwc verify` runs the IR on the CPU in f16 where the CPU has native f16 (else f32, "
            "never bf16, whose rounding depends on the instruction set) and compares "
            "it with the `openvino-fp16` simulator mode (each op exact on f16 inputs, rounded once to f16; "
            "activations fused into the layer before them stay f32) within a bound propagated through the "
            "graph from the unit roundoff of the precision the CPU really used "
            "(`openvino_ops.fp16_run`). The NCS2 accumulates in its own order, so its outputs can "
            "differ from the simulator within the same kind of bound (an activation one step off where a sum "
            "lies near a rounding tie, propagated).", ""]
    lines += ["## Layers", "", *[f"- {x}" for x in em.layers]]
    if notes:
        lines += ["", "## Notes", "", *[f"- {x}" for x in notes]]
    return "\n".join(lines) + "\n"
