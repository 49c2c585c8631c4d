"""Full-integer TFLite (int8) for LiteRT and the Edge TPU, and its bit-exact check.

compile: clone -> optimize -> value ranges (calibration or intervals) -> quantize-affine -> NHWC layout ->
`model.tflite` (+ the typed IR `model.json`/`weights.npz` that `hwc simulate DIR` runs in the TFLite mode,
`edgetpu_report.txt`, `README.md`, `hwc.json`).
verify: LiteRT (ai-edge-litert) on N inputs, per resolver, against the simulator in the matching mode,
bit for bit (int8 outputs; float32 with --float-io).

Options (compiler/options.py): wbits (2..8 here), abits (8 or unset), calibration and input range of
`CompileOptions.quant`/`.calib`, `CompileOptions.tflite.float_io` (QUANTIZE/DEQUANTIZE in the model
instead of int8 I/O), target (tflite | edgetpu); verify: the LiteRT resolvers of `VerifyOptions`,
random inputs drawn with `seed`.

Layout: the IR is NCHW; every IR value gets a permutation p with tflite_tensor = ir_value.transpose(p)
(NHWC (0, 2, 3, 1) around convolutions and pools, identity for FULLY_CONNECTED). IR Transposes only
relate permutations and emit nothing; a flatten of a channels-last tensor into a Dense permutes the
Dense's weight rows instead of transposing data. A model that would need a TRANSPOSE op is refused.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..compiler.options import RESOLVERS, CompileOptions, VerifyOptions
from .base import Backend, CompileResult, VerifyReport, write_manifest
from .edgetpu_report import OpInfo, render
from .tflite_agreement import reference_agreement
from ..compiler.errors import HwcError
from ..compiler.ir.graph import Graph, Node, Value
from ..compiler.ir.types import AffineType, FloatType, IntType
from ..compiler.sim import tflite_ops as T

DEFAULT_MODE = "tflite-xnnpack"  # what Interpreter(model_path) runs by default
DEFAULT_INPUT_RANGE = (-1.0, 1.0)
SPATIAL = ("Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "Resize")
TIED = ("FromFloat", "ToFloat", "Cast", "Relu", "Sigmoid", "Tanh", "Add", "Mul", "Concat", "Pad", "Softmax") + T.LUT_OPS


# ---- lowering --------------------------------------------------------------------------------

def lower(graph: Graph, options: CompileOptions, source: str = "") -> tuple[Graph, dict, list[str]]:
    """The affine int8 IR of `graph` (a clone): returns (graph, input ranges, notes)."""
    from ..compiler.passes.quantize_affine import QuantizeAffine
    from ..compiler.pipeline import optimize
    from ..compiler.ranges import calibrate, intervals

    from ..compiler.passes.global_max_pool_to_max_pool import GlobalMaxPoolToMaxPool

    g = graph.clone()
    optimize(g)
    GlobalMaxPoolToMaxPool().run(g)  # TFLite has MAX_POOL_2D, no global max pool
    notes: list[str] = []
    input_range = options.quant.input_range
    calib = options.calib.inputs(g, source)
    floats = [v for v in g.inputs if isinstance(v.type.elem, FloatType)]
    if calib is not None:
        ranges = calibrate(g, calib)
    elif floats:
        ranges = intervals(g, input_range or DEFAULT_INPUT_RANGE)
    else:
        ranges = {}
    if input_range is not None:
        for v in floats:
            ranges[v.name] = input_range
    in_ranges = {v.name: [float(x) for x in ranges[v.name]] for v in floats if v.name in ranges}
    qa = QuantizeAffine(ranges, wbits=options.quant.wbits, abits=options.quant.abits_for(options.target))
    qa.run(g)
    g.verify()
    if calib is None and input_range is None and qa.ranged:
        notes.append(f"no --calib data: activation ranges from interval analysis with inputs in "
                     f"{list(DEFAULT_INPUT_RANGE)} (give --calib X or --input-range LO,HI)")
    return g, in_ranges, notes + qa.notes


# ---- layout ----------------------------------------------------------------------------------

@dataclass
class Layout:
    perm: dict[int, tuple[int, ...]] = field(default_factory=dict)  # id(value) -> p: tflite = ir.transpose(p)
    fold: dict[int, np.ndarray] = field(default_factory=dict)  # id(Dense) -> weight row order

    def of(self, v: Value) -> tuple[int, ...]:
        return self.perm.get(id(v), tuple(range(v.type.rank)))

    def shape(self, v: Value) -> list[int]:
        return [1 if v.type.shape[i] is None else v.type.shape[i] for i in self.of(v)]


def _compatible(p, shape) -> bool:
    """p moves no axis of size > 1 past another: the row-major bytes are those of the IR tensor."""
    big = [i for i in p if shape[i] is None or shape[i] > 1]
    return big == sorted(big)


def plan_layout(graph: Graph) -> Layout:
    lay = Layout()
    perm = lay.perm

    def put(v: Value, p, node: Node) -> bool:
        p = tuple(p)
        if id(v) in perm:
            if perm[id(v)] != p:
                raise HwcError(f"layout conflict: {v.name} would be both {list(perm[id(v)])} and {list(p)} "
                               "(a TRANSPOSE op would be needed)", node=node.name, op=node.op)
            return False
        perm[id(v)] = p
        return True

    order = graph.toposort()
    for n in order:
        if n.op in SPATIAL:
            put(n.inputs[0], T.NHWC, n)
            put(n.output, T.NHWC, n)
        elif n.op == "Dense":
            put(n.inputs[0], (0, 1), n)
            put(n.output, (0, 1), n)
        elif n.op == "Softmax":
            r, ax = n.output.type.rank, n.attrs["axis"] % n.output.type.rank
            put(n.output, [i for i in range(r) if i != ax] + [ax], n)
    runtime = [v for v in graph.inputs] + [o for n in order for o in n.outputs]
    while True:
        changed = True
        while changed:
            changed = False
            for n in order:
                if n.op in TIED:
                    group = [v for v in n.inputs if v is not None and v.const is None] + [n.output]
                    known = [perm[id(v)] for v in group if id(v) in perm]
                    if known:
                        for v in group:
                            changed |= put(v, known[0], n)
                elif n.op == "Transpose":
                    t, x, y = list(n.attrs["perm"]), n.inputs[0], n.output
                    if id(x) in perm:
                        changed |= put(y, [t.index(j) for j in perm[id(x)]], n)
                    elif id(y) in perm:
                        changed |= put(x, [t[j] for j in perm[id(y)]], n)
        free = next((v for v in runtime if id(v) not in perm), None)
        if free is None:
            break
        perm[id(free)] = tuple(range(free.type.rank))
    for n in order:
        if n.op == "Reshape":
            x, y = n.inputs[0], n.output
            if not _compatible(perm[id(y)], y.type.shape):
                raise HwcError("this Reshape produces a channels-last tensor in another order; a TRANSPOSE op "
                               "would be needed", node=n.name, op=n.op)
            if _compatible(perm[id(x)], x.type.shape):
                continue
            users = [u.node for u in y.uses]
            px = perm[id(x)]
            if y.type.rank != 2 or px[0] != 0 or y in graph.outputs or not users or \
                    any(u.op != "Dense" or u.inputs[0] is not y for u in users):
                raise HwcError("a Reshape of a channels-last tensor that does not feed Dense layers would need a "
                               "TRANSPOSE op", node=n.name, op=n.op)
            inner = [d for d in x.type.shape[1:]]
            idx = np.arange(math.prod(inner)).reshape(inner).transpose([p - 1 for p in px[1:]]).reshape(-1)
            for u in users:
                lay.fold[id(u)] = idx
    return lay


# ---- the flatbuffer --------------------------------------------------------------------------

def _dtype(v: Value) -> str:
    t = v.type.elem
    if isinstance(t, AffineType):
        t = t.storage
    if isinstance(t, FloatType):
        return "float32"
    return {IntType(8): "int8", IntType(8, False): "uint8", IntType(32): "int32"}[t]


def _is_edge(graph: Graph, n: Node, float_io: bool) -> bool:
    """A boundary conversion the host performs (not written into the model)."""
    if n.op == "FromFloat" or n.op == "ToFloat":
        return not float_io
    if n.op == "Cast":
        return n.inputs[0] in graph.inputs or (n.output in graph.outputs and not T.is_int8(n.output))
    return False


def edge_in(graph: Graph, v: Value, float_io: bool) -> Node | None:
    """The host-side conversion node that graph input v feeds (possibly through a memory-order Transpose)."""
    for u in v.uses:
        n = u.node
        if n.op == "Transpose" and len(n.output.uses) == 1:
            n = n.output.uses[0].node
        if _is_edge(graph, n, float_io):
            return n
    return None


def edge_out(graph: Graph, v: Value, float_io: bool) -> Node | None:
    """The host-side conversion node that computes graph output v (possibly through a memory-order Transpose)."""
    n = v.producer
    if n is not None and n.op == "Transpose" and n.inputs[0].producer is not None:
        n = n.inputs[0].producer if _is_edge(graph, n.inputs[0].producer, float_io) else n
    return n if n is not None and _is_edge(graph, n, float_io) else None


def io_values(graph: Graph, float_io: bool) -> tuple[list[Value], list[Value]]:
    """The IR values that are the model file's inputs and outputs (after host-side edge conversions)."""
    ins = [e.output if (e := edge_in(graph, v, float_io)) is not None else v for v in graph.inputs]
    outs = [e.inputs[0] if (e := edge_out(graph, v, float_io)) is not None else v for v in graph.outputs]
    return ins, outs


# ops whose builtin kernels treat a SIMD prefix and a scalar tail of the flat tensor differently
ORDER_DEPENDENT = ("FromFloat", "ToFloat", "Mul")


def explicit_memory_order(graph: Graph, lay: Layout) -> bool:
    """Put ORDER_DEPENDENT nodes whose tensors are stored permuted between IR Transposes to and from the
    stored order, so that the simulator sees the elements in memory order. The Transposes emit nothing."""
    changed = False
    for n in [n for n in graph.toposort() if n.op in ORDER_DEPENDENT]:
        p = lay.of(n.output)
        if _compatible(p, n.output.type.shape):
            continue
        ins = [graph.add_node("Transpose", [v], {"perm": list(p)}, name=f"{n.name}_to_memory_order").output
               for v in n.inputs]
        t = n.output.type
        inner = graph.add_node(n.op, ins, dict(n.attrs), name=f"{n.name}_in_memory_order",
                               output_types=[t.with_shape([t.shape[i] for i in p])])
        back = graph.add_node("Transpose", [inner.output], {"perm": [int(i) for i in np.argsort(p)]},
                              name=f"{n.name}_from_memory_order", output_types=[t])
        name = n.output.name
        graph.replace_all_uses(n.output, back.output)
        graph.remove_node(n)
        graph.rename(back.output, name)
        changed = True
    if changed:
        graph.sort()
        graph.verify()
    return changed


class _Writer:
    def __init__(self, graph: Graph, lay: Layout, float_io: bool):
        from .tflite_flatbuffer import TfliteBuilder

        self.g, self.lay, self.float_io = graph, lay, float_io
        self.b = TfliteBuilder(description=f"hwc: {graph.name}")
        self.tensor: dict[int, int] = {}
        self.ops: list[OpInfo] = []
        self.op_outputs: list[list[int]] = []
        self.op_inputs: list[list[int]] = []
        self.delegated: list[bool] = []

    # tensors
    def t(self, v: Value) -> int:
        if id(v) not in self.tensor:
            q = v.type.elem if isinstance(v.type.elem, AffineType) else None
            self.tensor[id(v)] = self.b.add_tensor(
                v.name, self.lay.shape(v), _dtype(v),
                scale=list(q.scale) if q else None, zero_point=list(q.zero_point) if q else None)
        return self.tensor[id(v)]

    def alias(self, v: Value, of: Value) -> None:
        self.tensor[id(v)] = self.t(of)

    def const(self, name: str, data, dtype: str, scale=None, zp=None, qdim: int = 0) -> int:
        data = np.asarray(data)
        return self.b.add_tensor(name, list(data.shape), dtype, data=data, scale=scale, zero_point=zp,
                                 quantized_dimension=qdim)

    def op(self, node: Node, op: str, ins: list[int], outs: list[int], delegated: bool, params: int = 0,
           edge: bool = False, version: int | None = None, extra: dict | None = None, **kw) -> None:
        from .tflite_flatbuffer import op_version

        if version is None:
            version = op_version(op, num_inputs=len(ins))
        self.b.add_operator(op, ins, outs, version=version, **kw)
        self.ops.append(OpInfo(op, version, node.name, node.op, self._runtime(ins), self._runtime(outs), params,
                               kw.get("fused_activation"), edge, extra or {}))
        self.op_inputs.append(list(ins))
        self.op_outputs.append(list(outs))
        self.delegated.append(bool(delegated))

    def _runtime(self, ids: list[int]) -> list[tuple[tuple[int, ...], str]]:
        """(shape, dtype) of the non-constant tensors among `ids` (what the Edge TPU report checks)."""
        out = []
        for i in ids:
            t = self.b.tensor(i) if i >= 0 else None
            if t is not None and self.b._buffers[t.buffer].data is None:
                out.append((tuple(t.shape), _tname(t.type)))
        return out

    # the model
    def build(self) -> bytes:
        g = self.g
        for n in g.toposort():
            self.node(n)
        in_v, out_v = io_values(g, self.float_io)
        ins, outs = [self.t(v) for v in in_v], [self.t(v) for v in out_v]
        self.b.set_inputs(ins)
        self.b.set_outputs(outs)
        self.io = (ins, outs)
        return self.b.to_bytes()

    def node(self, n: Node) -> None:  # noqa: C901 - one branch per IR op
        g, lay = self.g, self.lay
        x = n.inputs[0] if n.inputs else None
        if _is_edge(g, n, self.float_io):
            return
        takes = T.xnnpack_takes(n) if n.op not in ("FromFloat", "ToFloat") else True
        if n.op == "Transpose":
            before_edge = x in g.inputs and any(_is_edge(g, u.node, self.float_io) for u in n.output.uses)
            after_edge = n.output in g.outputs and _is_edge(g, x.producer, self.float_io)
            if before_edge or after_edge:
                return  # a memory-order Transpose on the host side of a host-side conversion
        if n.op == "FromFloat":
            self.op(n, "QUANTIZE", [self.t(x)], [self.t(n.output)], True, edge=True)
        elif n.op == "ToFloat":
            self.op(n, "DEQUANTIZE", [self.t(x)], [self.t(n.output)], True, edge=True)
        elif n.op == "Cast":
            self.op(n, "QUANTIZE", [self.t(x)], [self.t(n.output)], takes, version=1)
        elif n.op == "Transpose":
            self.alias(n.output, x)
        elif n.op == "Reshape":
            if lay.shape(n.output) == lay.shape(x):
                self.alias(n.output, x)
            else:
                shape = lay.shape(n.output)
                st = self.const(f"{n.name}_shape", np.asarray(shape, np.int32), "int32")
                self.op(n, "RESHAPE", [self.t(x), st], [self.t(n.output)], True, new_shape=shape)
        elif n.op == "Dense":
            self.dense(n)
        elif n.op == "Conv":
            self.conv(n)
        elif n.op in ("MaxPool", "AveragePool"):
            a = n.attrs
            self.op(n, "MAX_POOL_2D" if n.op == "MaxPool" else "AVERAGE_POOL_2D", [self.t(x)], [self.t(n.output)],
                    takes, padding=T.window_padding(n), strides=tuple(a["strides"]), filter=tuple(a["kernel_shape"]))
        elif n.op == "GlobalAveragePool":
            axes = self.const(f"{n.name}_axes", np.asarray([1, 2], np.int32), "int32")
            self.op(n, "MEAN", [self.t(x), axes], [self.t(n.output)], takes, keep_dims=True)
        elif n.op in ("Add", "Mul"):
            from .tflite_flatbuffer import op_version

            ver = None
            if n.op == "Mul":
                ver = op_version("MUL", input_scales=[T.qparams(v)[0] for v in n.inputs],
                                 output_scale=T.qparams(n.output)[0])
            self.op(n, n.op.upper(), [self.t(v) for v in n.inputs], [self.t(n.output)], takes, version=ver)
        elif n.op == "Concat":
            axis = lay.of(n.output).index(n.attrs["axis"] % n.output.type.rank)
            self.op(n, "CONCATENATION", [self.t(v) for v in n.inputs], [self.t(n.output)], takes, axis=axis)
        elif n.op == "Pad":
            p, r = n.attrs["pads"], x.type.rank
            pads = np.asarray([[p[i], p[r + i]] for i in lay.of(x)], np.int32)
            pt = self.const(f"{n.name}_paddings", pads, "int32")
            self.op(n, "PAD", [self.t(x), pt], [self.t(n.output)], takes, extra={"batch_padding": bool(pads[0].any())})
        elif n.op == "Relu":
            self.op(n, "RELU", [self.t(x)], [self.t(n.output)], takes, version=2)
        elif n.op in ("Sigmoid", "Tanh", "Softmax"):
            name = {"Sigmoid": "LOGISTIC", "Tanh": "TANH", "Softmax": "SOFTMAX"}[n.op]
            self.op(n, name, [self.t(x)], [self.t(n.output)], takes, **({"beta": 1.0} if n.op == "Softmax" else {}))
        elif n.op == "Resize":
            hw = lay.shape(n.output)[1:3]
            st = self.const(f"{n.name}_size", np.asarray(hw, np.int32), "int32")
            self.op(n, "RESIZE_NEAREST_NEIGHBOR", [self.t(x), st], [self.t(n.output)], False, version=2)
        elif n.op in T.LUT_OPS:
            shape = lay.shape(n.output)
            i32 = self.b.add_tensor(f"{n.name}_index", shape, "int32")
            idx = self.b.add_tensor(f"{n.name}_index_128", shape, "int32")
            k = self.const(f"{n.name}_128", np.asarray([128], np.int32), "int32")
            q = n.output.type.elem
            table = self.const(f"{n.name}_table", T.lut_table(n), "int8", scale=list(q.scale), zp=list(q.zero_point))
            self.op(n, "CAST", [self.t(x)], [i32], False, version=3)
            self.op(n, "ADD", [i32, k], [idx], False, version=1)
            self.op(n, "GATHER", [table, idx], [self.t(n.output)], False, version=2, params=256)
        else:
            raise HwcError(f"no TFLite operator for {n.op}", node=n.name, op=n.op)

    def _bias(self, n: Node, w_scales) -> int:
        b = n.inputs[2]
        return self.const(f"{n.name}_bias", np.asarray(b.const, np.int32), "int32", scale=list(b.type.elem.scale),
                          zp=[0] * len(w_scales))

    def dense(self, n: Node) -> None:
        wt = n.inputs[1].type.elem
        w = np.asarray(n.inputs[1].const)
        if id(n) in self.lay.fold:
            w = w[self.lay.fold[id(n)]]
        wq = self.const(f"{n.name}_weights", w.T, "int8", scale=list(wt.scale), zp=list(wt.zero_point), qdim=0)
        ins = [self.t(n.inputs[0]), wq]
        if not any(wt.zero_point):  # XNNPACK fails to prepare (not: declines) weights with a zero point and a bias
            ins.append(self._bias(n, wt.scale))
        self.op(n, "FULLY_CONNECTED", ins, [self.t(n.output)], T.xnnpack_takes(n),
                params=w.size + 4 * w.shape[1], fused_activation=n.attrs["activation"])

    def conv(self, n: Node) -> None:
        a, x = n.attrs, n.inputs[0]
        wt = n.inputs[1].type.elem
        w = np.asarray(n.inputs[1].const)
        padding = T.window_padding(n)
        src = self.t(x)
        if padding is None:  # explicit pads: a PAD (with the input zero point) and a VALID convolution
            p = a["pads"]
            pads = np.asarray([[0, 0], [p[0], p[2]], [p[1], p[3]], [0, 0]], np.int32)
            shape = self.lay.shape(x)
            shape = [shape[0], shape[1] + p[0] + p[2], shape[2] + p[1] + p[3], shape[3]]
            s, z = T.qparams(x)
            padded = self.b.add_tensor(f"{n.name}_padded", shape, "int8", scale=[s], zero_point=[z])
            self.op(n, "PAD", [src, self.const(f"{n.name}_paddings", pads, "int32")], [padded], True)
            src, padding = padded, "VALID"
        dm = T.depthwise_multiplier(n)
        opts = dict(padding=padding, strides=tuple(a["strides"]), dilation=tuple(a["dilations"]),
                    fused_activation=a["activation"])
        if dm is None:
            wq = self.const(f"{n.name}_weights", w.transpose(0, 2, 3, 1), "int8", scale=list(wt.scale),
                            zp=list(wt.zero_point), qdim=0)
            op = "CONV_2D"
        else:
            wq = self.const(f"{n.name}_weights", w.transpose(1, 2, 3, 0), "int8", scale=list(wt.scale),
                            zp=list(wt.zero_point), qdim=3)
            op, opts["depth_multiplier"] = "DEPTHWISE_CONV_2D", dm
        self.op(n, op, [src, wq, self._bias(n, wt.scale)], [self.t(n.output)], T.xnnpack_takes(n),
                params=w.size + 4 * w.shape[0], **opts)


def _tname(t: int) -> str:
    from ai_edge_litert import schema_py_generated as S

    return {S.TensorType.INT8: "int8", S.TensorType.UINT8: "uint8", S.TensorType.INT32: "int32",
            S.TensorType.FLOAT32: "float32", S.TensorType.INT16: "int16", S.TensorType.INT64: "int64"}.get(t, str(t))


def write_model(graph: Graph, float_io: bool) -> tuple[bytes, _Writer, Layout]:
    """Plan the layout (making memory order explicit where the arithmetic depends on it) and write the model."""
    lay = plan_layout(graph)
    if explicit_memory_order(graph, lay):
        lay = plan_layout(graph)
    w = _Writer(graph, lay, float_io)
    return w.build(), w, lay


# ---- the backend -----------------------------------------------------------------------------

class TfliteBackend(Backend):
    name = "tflite"
    targets = ("tflite", "edgetpu")

    def compile(self, graph: Graph, options: CompileOptions, outdir: Path, source: str = "") -> CompileResult:
        from ..compiler.ir.serialize import save_graph

        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        target, float_io = options.target, options.tflite.float_io
        g, in_ranges, notes = lower(graph, options, source)
        agreement = reference_agreement(_optimized(graph), g, in_ranges, DEFAULT_MODE)
        notes += [agreement] if agreement else []
        model, writer, lay = write_model(g, float_io)
        g.metadata.pop("fixed", None)
        g.metadata["sim_mode"] = DEFAULT_MODE
        g.metadata["output_names"] = graph.metadata.get("output_names") or [v.name for v in g.outputs]
        g.metadata["tflite"] = {
            "float_io": float_io, "input_ranges": in_ranges,
            "input_perms": [list(lay.of(v)) for v in io_values(g, float_io)[0]],
            "output_perms": [list(lay.of(v)) for v in io_values(g, float_io)[1]],
            "wbits": options.quant.wbits, "abits": 8,
            "delegated": writer.delegated, "op_inputs": writer.op_inputs, "op_outputs": writer.op_outputs,
        }
        (outdir / "model.tflite").write_bytes(model)
        files = ["model.tflite"] + [p.name for p in save_graph(g, outdir)]
        report = render(writer.ops)
        (outdir / "edgetpu_report.txt").write_text(report)
        (outdir / "README.md").write_text(_readme(g, writer, lay, float_io, notes, target))
        files += ["edgetpu_report.txt", "README.md"]
        manifest = {"wbits": options.quant.wbits, "abits": 8, "float_io": float_io, "calib": options.calib.path,
                    "input_range": options.quant.input_range_text}
        from ..compiler.cost.tflite import tflite_figures
        from .edgetpu_report import analyse

        figs = tflite_figures(g, writer.ops, analyse(writer.ops)[0], target)
        files.append(write_manifest(outdir, target, manifest, files, figs.to_json()))
        summary = [f"compiled for --target {target}: int8 TFLite, {len(writer.ops)} operators, wbits "
                   f"{manifest['wbits']}, {'float32' if float_io else 'int8'} I/O"]
        summary += [f"  {o.op:<22} {o.node}" for o in writer.ops]
        summary += [line for line in report.splitlines() if line.startswith(("mapped", "first", "runs", "param"))]
        summary += [f"note: {x}" for x in notes]
        return CompileResult(files, summary)

    def verify(self, outdir: Path, manifest: dict[str, Any], inputs: list[np.ndarray] | None,
               options: VerifyOptions, seed: int = 0) -> VerifyReport:
        from ..compiler.ir.serialize import load_graph

        g = load_graph(outdir)
        if inputs is None:
            inputs = random_inputs(g, options.samples, seed=seed)
        return compare(g, (Path(outdir) / "model.tflite").read_bytes(), inputs, options.resolvers)


def _optimized(graph: Graph) -> Graph:
    from ..compiler.pipeline import optimize

    g = graph.clone()
    optimize(g)
    return g


# ---- verification ----------------------------------------------------------------------------

def random_inputs(g: Graph, n: int, seed: int = 0) -> list[np.ndarray]:
    """n inputs per graph input: uniform in the calibrated range (floats) or over the storage (integers)."""
    rng = np.random.default_rng(seed)
    ranges = g.metadata.get("tflite", {}).get("input_ranges", {})
    out = []
    for v in g.inputs:
        shape = tuple(n if d is None else d for d in v.type.shape)
        if v.type.shape[:1] != (None,):
            shape = (n,) + shape  # unbatched model: n separate runs
        t = v.type.elem
        if isinstance(t, FloatType):
            lo, hi = ranges.get(v.name, DEFAULT_INPUT_RANGE)
            out.append(rng.uniform(lo, hi, shape).astype(np.float32))
        else:
            s = t.storage if isinstance(t, AffineType) else t
            out.append(rng.integers(s.min, s.max + 1, shape).astype(s.numpy_dtype))
    return out


def _interpreter(model: bytes, mode: str):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    r = {"ref": OpResolverType.BUILTIN_REF, "xnnpack": OpResolverType.AUTO,
         "builtin": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}[mode]
    it = Interpreter(model_content=model, experimental_op_resolver_type=r)
    it.allocate_tensors()
    return it


def run_litert(model: bytes, feeds: list[np.ndarray], in_perms, out_perms, mode: str, batched,
               out_batched) -> list[np.ndarray]:
    """Invoke once per sample (the model has batch 1); arrays in and out in the IR layout."""
    it = _interpreter(model, mode)
    ins = [d["index"] for d in it.get_input_details()]
    outs = [d["index"] for d in it.get_output_details()]
    n = len(feeds[0])
    results: list[list[np.ndarray]] = [[] for _ in outs]
    for k in range(n):
        for i, x, p, b in zip(ins, feeds, in_perms, batched):
            s = x[k:k + 1] if b else x[k]
            it.set_tensor(i, np.ascontiguousarray(np.transpose(s, p)))
        it.invoke()
        for j, (o, p) in enumerate(zip(outs, out_perms)):
            results[j].append(np.transpose(it.get_tensor(o), np.argsort(p)))
    return [np.concatenate(r) if b else np.stack(r) for r, b in zip(results, out_batched)]


def delegation(model: bytes) -> set[int]:
    """Output tensor indices of the XNNPACK partitions LiteRT made."""
    it = _interpreter(model, "xnnpack")
    return {int(t) for d in it._get_ops_details() if d["op_name"] == "DELEGATE" for t in d["outputs"]}


def predicted_delegation(meta: dict, graph_inputs: list[int], graph_outputs: list[int]) -> set[int]:
    """Output tensors of the XNNPACK partitions, partitioned as TFLite does: alternately take, in execution
    order, every operator of one kind (delegated or not) whose inputs are ready, until none is left."""
    dele, ins, outs = meta["delegated"], meta["op_inputs"], meta["op_outputs"]
    produced = {t for o in outs for t in o}
    ready = {t for i in ins for t in i if t >= 0 and t not in produced} | set(graph_inputs)
    left = list(range(len(dele)))
    subsets: list[tuple[bool, list[int]]] = []
    kind = dele[0] if dele else False
    while left:
        subset, grew = [], True
        while grew:
            grew = False
            for k in list(left):
                if dele[k] == kind and all(t < 0 or t in ready for t in ins[k]):
                    subset.append(k)
                    left.remove(k)
                    ready.update(outs[k])
                    grew = True
        subsets.append((kind, subset))
        kind = not kind
    result = set()
    for kind, subset in subsets:
        if not kind:
            continue
        inside = set(subset)
        for k in subset:
            for t in outs[k]:
                if t in graph_outputs or any(t in ins[j] for j in range(len(ins)) if j not in inside):
                    result.add(t)
    return result


def compare(g: Graph, model: bytes, inputs: list[np.ndarray], modes: list[str]) -> VerifyReport:
    """LiteRT against the simulator, bit for bit, at the model file's own inputs and outputs."""
    from ..compiler.sim.run import simulate

    meta = g.metadata["tflite"]
    float_io = meta["float_io"]
    e_in = [edge_in(g, v, float_io) for v in g.inputs]
    e_out = [edge_out(g, v, float_io) for v in g.outputs]
    batched = [v.type.shape[:1] == (None,) for v in g.inputs]
    keep = {id(n) for n in e_in if n is not None} | {id(n.inputs[0].producer) for n in e_out if n is not None}
    n = len(inputs[0])
    compared = mismatches = 0
    first, details = "", []
    for mode in modes:
        if all(batched):
            outs, kept = simulate(g, inputs, mode=f"tflite-{mode}", keep=lambda node: id(node) in keep)
        else:  # unbatched graph: one run per sample
            runs = [simulate(g, [x[k] for x in inputs], mode=f"tflite-{mode}", keep=lambda node: id(node) in keep)
                    for k in range(n)]
            outs = [np.stack([r[0][j] for r in runs]) for j in range(len(g.outputs))]
            kept = {name: np.stack([r[1][name] for r in runs]) for name in runs[0][1]}
        feeds = [kept[e.output.name] if e is not None else x for e, x in zip(e_in, inputs)]
        expected = [kept[e.inputs[0].name] if e is not None else o for e, o in zip(e_out, outs)]
        got = run_litert(model, feeds, meta["input_perms"], meta["output_perms"], mode, batched,
                         [v.type.shape[:1] == (None,) for v in g.outputs])
        m_mode = 0
        for j, (a, e) in enumerate(zip(got, expected)):
            e = np.asarray(e).reshape(a.shape)
            ab = a.view(np.uint32) if a.dtype == np.float32 else a
            eb = e.astype(a.dtype).view(np.uint32) if a.dtype == np.float32 else e.astype(a.dtype)
            diff = np.flatnonzero(ab.reshape(-1) != eb.reshape(-1))
            compared += a.size
            m_mode += diff.size
            if diff.size and not first:
                k = int(diff[0])
                idx = np.unravel_index(k, a.shape)
                where = tuple(int(i) for i in idx[1:])
                first = (f"resolver {mode}, output {g.outputs[j].name}, sample {idx[0]}, index {where}: "
                         f"LiteRT {a.reshape(-1)[k]}, simulator {e.reshape(-1)[k]}")
        mismatches += m_mode
        line = f"tflite-{mode}: {sum(a.size for a in got):,} values from {n} inputs, {m_mode} differ"
        if m_mode and all(batched):
            bad = [x for x in layer_differences(g, model, [x[:50] for x in inputs], mode) if x[3]]
            if bad:
                line += f"; first differing layer: operator #{bad[0][0]} {bad[0][1]} -> {bad[0][2]}"
        if mode == "xnnpack":
            actual = delegation(model)
            predicted = predicted_delegation(meta, *_model_io(model))
            line += "; XNNPACK partitions as predicted" if actual == predicted else \
                f"; WARNING: XNNPACK partitions end at tensors {sorted(actual)}, predicted {sorted(predicted)}"
        details.append(line)
    return VerifyReport(compared, mismatches, n, first, details)


def layer_differences(g: Graph, model: bytes, inputs: list[np.ndarray], mode: str) -> list[tuple[int, str, str, int]]:
    """Every operator's output in LiteRT (all tensors preserved) against the simulator's value of the same name:
    [(operator index, operator, tensor name, differing values)] over all samples, in execution order."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from ..compiler.sim.run import simulate

    float_io = g.metadata["tflite"]["float_io"]
    lay = plan_layout(g)
    _, kept = simulate(g, inputs, mode=f"tflite-{mode}", keep=lambda node: True)
    kept.update({v.name: x for v, x in zip(g.inputs, inputs)})
    values = {v.name: v for v in g.values()}
    r = {"ref": OpResolverType.BUILTIN_REF, "xnnpack": OpResolverType.AUTO,
         "builtin": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}[mode]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "preserve_all_tensors is for debugging": it is
        it = Interpreter(model_content=model, experimental_op_resolver_type=r, experimental_preserve_all_tensors=True)
    it.allocate_tensors()
    names = {d["index"]: d["name"] for d in it.get_tensor_details()}
    ops = [d for d in it._get_ops_details() if d["op_name"] != "DELEGATE"]
    in_v, _ = io_values(g, float_io)
    counts: dict[tuple[int, int], int] = {}
    for k in range(len(inputs[0])):
        for d, v in zip(it.get_input_details(), in_v):
            it.set_tensor(d["index"], np.ascontiguousarray(np.transpose(kept[v.name][k:k + 1], lay.of(v))))
        it.invoke()
        for i, d in enumerate(ops):
            for t in d["outputs"]:
                v = values.get(names.get(int(t)))
                if v is None or v.name not in kept:
                    continue
                a = it.get_tensor(int(t))
                e = np.transpose(kept[v.name][k:k + 1], lay.of(v)).astype(a.dtype)
                if a.shape == e.shape:
                    counts[(i, int(t))] = counts.get((i, int(t)), 0) + int(np.count_nonzero(
                        a.view(np.uint32) != e.view(np.uint32) if a.dtype == np.float32 else a != e))
    return [(i, ops[i]["op_name"], names[t], c) for (i, t), c in sorted(counts.items())]


def _model_io(model: bytes) -> tuple[list[int], list[int]]:
    from ai_edge_litert import schema_py_generated as S

    sg = S.Model.GetRootAs(model, 0).Subgraphs(0)
    return [sg.Inputs(i) for i in range(sg.InputsLength())], [sg.Outputs(i) for i in range(sg.OutputsLength())]


# ---- README for the output directory ---------------------------------------------------------

def _readme(g: Graph, w: _Writer, lay: Layout, float_io: bool, notes: list[str], target: str) -> str:
    in_v, out_v = io_values(g, float_io)
    io = []
    for v, t in zip(g.inputs, in_v):
        io.append(f"- input `{v.name}` {list(v.type.shape)}: {_desc(t)} {lay.shape(t)} "
                  f"(the IR array transposed by {list(_host_perm(g, v, t, lay))})")
    names = g.metadata.get("output_names") or [v.name for v in g.outputs]
    for v, t, name in zip(g.outputs, out_v, names):
        io.append(f"- output `{name}` {list(v.type.shape)}: {_desc(t)} {lay.shape(t)} "
                  f"(back to the IR layout: transpose by {[int(i) for i in np.argsort(_host_perm(g, v, t, lay))]})")
    lines = [
        f"# {g.name} as full-integer TFLite", "",
        f"Written by `hwc compile --target {target}`. Files:", "",
        "- `model.tflite`: the int8 model (TFL3, schema version 3, batch 1, static shapes).",
        "- `model.json`, `weights.npz`: the typed IR; `hwc simulate` on this directory predicts LiteRT's output bit "
        f"for bit (mode `{DEFAULT_MODE}`, the interpreter's default path).",
        "- `edgetpu_report.txt`: which operators the Edge TPU compiler v16 would map, and what runs on the CPU.",
        "- `hwc.json`: the manifest (`hwc verify` reads it).", "",
        "## Inputs and outputs", "",
        *io, "",
        ("The model converts float32 in and out itself (QUANTIZE/DEQUANTIZE)." if float_io else
         "Inputs and outputs are int8: quantize on the host as real = scale * (q - zero_point) (scales and zero "
         "points are in the model), e.g. q = clip(round(x / scale) + zero_point, -128, 127)."),
        "", "## Verify", "",
        "`hwc verify DIR [--resolver ref|xnnpack|builtin]` runs LiteRT on random inputs and compares with the "
        "simulator bit for bit.", "",
        "## Operators", "",
        *[f"- {o.op} (v{o.version}) for {o.ir_op} `{o.node}`" for o in w.ops],
    ]
    if notes:
        lines += ["", "## Notes", "", *[f"- {x}" for x in notes]]
    return "\n".join(lines) + "\n"


def _host_perm(g: Graph, v: Value, t: Value, lay: Layout) -> tuple[int, ...]:
    """The permutation taking the graph's I/O array to the model file's tensor t (through a memory-order Transpose)."""
    p = list(lay.of(t))
    tr = next((u.node for u in v.uses if u.node.op == "Transpose"), None) if v in g.inputs else v.producer
    if t is not v and tr is not None and tr.op == "Transpose":
        perm = tr.attrs["perm"] if v in g.inputs else [int(i) for i in np.argsort(tr.attrs["perm"])]
        p = [perm[i] for i in p]
    return tuple(p)


def _desc(v: Value) -> str:
    t = v.type.elem
    if isinstance(t, AffineType):
        return f"{_dtype(v)} (scale {t.scale[0]:.9g}, zero point {t.zero_point[0]})"
    return _dtype(v)
