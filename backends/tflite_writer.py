"""The TFLite flatbuffer of the affine int8 IR (backends/tflite.py), one writer per IR op (`WRITERS`,
raising on an op without one), over backends/tflite_flatbuffer.py (the file format) and
backends/tflite_layout.py (where each value lives). Operator versions: backends/tflite_versions.py.
Each operator is recorded as an `OpInfo` for the Edge TPU report."""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..compiler.errors import HwcError
from ..compiler.ir.graph import Graph, Node, Value
from ..compiler.ir.types import AffineType, FloatType, IntType
from ..compiler.sim import tflite_ops as T
from .edgetpu_report import OpInfo
from .tflite_layout import Layout, _is_edge, explicit_memory_order, io_values, plan_layout
from .tflite_versions import op_version


def _dtype(v: Value) -> str:
    t = v.type.elem
    if isinstance(t, AffineType):
        t = t.storage
    if isinstance(t, FloatType):
        return "float32"
    return {IntType(8): "int8", IntType(8, False): "uint8", IntType(16): "int16", IntType(32): "int32",
            IntType(64): "int64"}[t]


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
        """Write operator `op`; its version from the one table (`op_version`) unless refined by the caller."""
        if version is None:
            x = node.inputs[0] if node.inputs else None
            version = op_version(op, num_inputs=len(ins), dtype=_dtype(x) if x is not None else "int8")
        self.b.add_operator(op, ins, outs, version=version, **kw)
        self.ops.append(OpInfo(op, version, node.name, node.op, self._runtime(ins), self._runtime(outs), params,
                               kw.get("fused_activation"), edge, extra or {}))
        self.op_inputs.append(list(ins))
        self.op_outputs.append(list(outs))
        int16 = any(dt == "int16" for _, dt in self._runtime(ins) + self._runtime(outs))  # XNNPACK takes no int16
        self.delegated.append(bool(delegated) and not int16)

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

    def node(self, n: Node) -> None:
        g = self.g
        x = n.inputs[0] if n.inputs else None
        if _is_edge(g, n, self.float_io):
            return
        if n.op == "Transpose":
            before_edge = x in g.inputs and any(_is_edge(g, u.node, self.float_io) for u in n.output.uses)
            after_edge = n.output in g.outputs and _is_edge(g, x.producer, self.float_io)
            if before_edge or after_edge:
                return  # a memory-order Transpose on the host side of a host-side conversion
        write = WRITERS.get(n.op)
        if write is None:
            raise HwcError(f"no TFLite operator for {n.op}", node=n.name, op=n.op)
        write(self, n, x, T.xnnpack_takes(n) if n.op not in ("FromFloat", "ToFloat") else True)

    # one writer per IR op: (node, its first input, whether XNNPACK takes it)
    def _from_float(self, n, x, takes):
        self.op(n, "QUANTIZE", [self.t(x)], [self.t(n.output)], True, edge=True)

    def _to_float(self, n, x, takes):
        self.op(n, "DEQUANTIZE", [self.t(x)], [self.t(n.output)], True, edge=n.output in self.g.outputs)

    def _cast(self, n, x, takes):
        self.op(n, "QUANTIZE", [self.t(x)], [self.t(n.output)], takes)

    def _transpose(self, n, x, takes):
        self.alias(n.output, x)

    def _reshape(self, n, x, takes):
        lay = self.lay
        if lay.shape(n.output) == lay.shape(x):
            self.alias(n.output, x)
        else:
            shape = lay.shape(n.output)
            st = self.const(f"{n.name}_shape", np.asarray(shape, np.int32), "int32")
            self.op(n, "RESHAPE", [self.t(x), st], [self.t(n.output)], True, new_shape=shape)

    def _pool(self, n, x, takes):
        a = n.attrs
        self.op(n, "MAX_POOL_2D" if n.op == "MaxPool" else "AVERAGE_POOL_2D", [self.t(x)], [self.t(n.output)],
                takes, padding=T.window_padding(n), strides=tuple(a["strides"]), filter=tuple(a["kernel_shape"]))

    def _mean(self, n, x, takes):
        axes = self.const(f"{n.name}_axes", np.asarray([1, 2], np.int32), "int32")
        self.op(n, "MEAN", [self.t(x), axes], [self.t(n.output)], takes, keep_dims=True)

    def _add_mul(self, n, x, takes):
        ver = None
        if n.op == "Mul":
            ver = op_version("MUL", input_scales=[T.qparams(v)[0] for v in n.inputs],
                             output_scale=T.qparams(n.output)[0])
        self.op(n, n.op.upper(), [self.t(v) for v in n.inputs], [self.t(n.output)], takes, version=ver)

    def _concat(self, n, x, takes):
        axis = self.lay.of(n.output).index(n.attrs["axis"] % n.output.type.rank)
        self.op(n, "CONCATENATION", [self.t(v) for v in n.inputs], [self.t(n.output)], takes, axis=axis)

    def _pad(self, n, x, takes):
        p, r = n.attrs["pads"], x.type.rank
        pads = np.asarray([[p[i], p[r + i]] for i in self.lay.of(x)], np.int32)
        pt = self.const(f"{n.name}_paddings", pads, "int32")
        self.op(n, "PAD", [self.t(x), pt], [self.t(n.output)], takes, extra={"batch_padding": bool(pads[0].any())})

    def _relu(self, n, x, takes):
        self.op(n, "RELU", [self.t(x)], [self.t(n.output)], takes)

    def _builtin_activation(self, n, x, takes):
        name = {"Sigmoid": "LOGISTIC", "Tanh": "TANH", "Softmax": "SOFTMAX"}[n.op]
        self.op(n, name, [self.t(x)], [self.t(n.output)], takes, **({"beta": 1.0} if n.op == "Softmax" else {}))

    def _resize(self, n, x, takes):
        hw = self.lay.shape(n.output)[1:3]
        st = self.const(f"{n.name}_size", np.asarray(hw, np.int32), "int32")
        self.op(n, "RESIZE_NEAREST_NEIGHBOR", [self.t(x), st], [self.t(n.output)], False)

    def _lut(self, n, x, takes):
        """A table activation: CAST to int32, ADD 128, GATHER from the 256-entry int8 table."""
        shape = self.lay.shape(n.output)
        i32 = self.b.add_tensor(f"{n.name}_index", shape, "int32")
        idx = self.b.add_tensor(f"{n.name}_index_128", shape, "int32")
        k = self.const(f"{n.name}_128", np.asarray([128], np.int32), "int32")
        q = n.output.type.elem
        table = self.const(f"{n.name}_table", T.lut_table(n), "int8", scale=list(q.scale), zp=list(q.zero_point))
        self.op(n, "CAST", [self.t(x)], [i32], False)
        self.op(n, "ADD", [i32, k], [idx], False, version=op_version("ADD", dtype="int32"))
        self.op(n, "GATHER", [table, idx], [self.t(n.output)], False, params=256)

    def _bias(self, n: Node, w_scales) -> int:
        b = n.inputs[2]
        dtype = _dtype(b)  # int32, or int64 in the 16x8 mode
        return self.const(f"{n.name}_bias", np.asarray(b.const, dtype), dtype, scale=list(b.type.elem.scale),
                          zp=[0] * len(w_scales))

    def _dense(self, n: Node, x=None, takes=None) -> None:
        wt = n.inputs[1].type.elem
        w = np.asarray(n.inputs[1].const)
        if id(n) in self.lay.fold:
            w = w[self.lay.fold[id(n)]]
        if isinstance(wt, FloatType):  # an exact float32 layer (ExactFloatOutput)
            ins = [self.t(n.inputs[0]), self.const(f"{n.name}_weights", w.T.astype(np.float32), "float32")]
            if n.input(2) is not None:
                ins.append(self.const(f"{n.name}_bias", np.asarray(n.inputs[2].const, np.float32), "float32"))
            self.op(n, "FULLY_CONNECTED", ins, [self.t(n.output)], True, params=4 * w.size + 4 * w.shape[1],
                    version=op_version("FULLY_CONNECTED", dtype="float32", num_inputs=len(ins)),
                    fused_activation=n.attrs["activation"])
            return
        wq = self.const(f"{n.name}_weights", w.T, "int8", scale=list(wt.scale), zp=list(wt.zero_point), qdim=0)
        ins = [self.t(n.inputs[0]), wq]
        if not any(wt.zero_point):  # XNNPACK fails to prepare (not: declines) weights with a zero point and a bias
            ins.append(self._bias(n, wt.scale))
        self.op(n, "FULLY_CONNECTED", ins, [self.t(n.output)], T.xnnpack_takes(n),
                params=w.size + _bias_bytes(n) * w.shape[1], fused_activation=n.attrs["activation"])

    def _conv(self, n: Node, x=None, takes=None) -> None:
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
            padded = self.b.add_tensor(f"{n.name}_padded", shape, _dtype(x), scale=[s], zero_point=[z])
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
                params=w.size + _bias_bytes(n) * w.shape[0], **opts)


#: IR op -> its writer (a `_Writer` method)
WRITERS: dict[str, Callable] = {
    "FromFloat": _Writer._from_float, "ToFloat": _Writer._to_float, "Cast": _Writer._cast,
    "Transpose": _Writer._transpose, "Reshape": _Writer._reshape, "Dense": _Writer._dense, "Conv": _Writer._conv,
    "MaxPool": _Writer._pool, "AveragePool": _Writer._pool, "GlobalAveragePool": _Writer._mean,
    "Add": _Writer._add_mul, "Mul": _Writer._add_mul, "Concat": _Writer._concat, "Pad": _Writer._pad,
    "Relu": _Writer._relu, **dict.fromkeys(("Sigmoid", "Tanh", "Softmax"), _Writer._builtin_activation),
    "Resize": _Writer._resize, **dict.fromkeys(T.LUT_OPS, _Writer._lut),
}


def _bias_bytes(n: Node) -> int:
    """Bytes per bias entry: int32, int64 in the 16x8 mode."""
    b = n.input(2)
    return 8 if b is not None and _dtype(b) == "int64" else 4


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
