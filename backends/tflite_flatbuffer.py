"""A small TFLite flatbuffer writer, independent of the IR.

`TfliteBuilder` collects tensors, operators and the graph's inputs/outputs, then
serialises a `.tflite` model with the flatbuffers object API that ai-edge-litert ships
(`ai_edge_litert.schema_py_generated`: ModelT, SubGraphT, TensorT, OperatorT …).

What it guarantees, because the Edge TPU compiler v16 reads files this way:

- file identifier ``TFL3``, ``Model.version == 3``;
- ``buffers[0]`` is the empty sentinel buffer; every non-constant tensor gets its own
  empty buffer; constant tensors get a buffer whose data starts on a 16-byte boundary
  of the file (the schema says ``force_align: 16`` but the Python generated code
  packs with alignment 1, so `_AlignedBufferT` packs the vector itself);
- every operator code has both ``builtin_code`` and ``deprecated_builtin_code``
  (``min(code, 127)``) set, and a conservative version from `OP_VERSIONS` (the
  version the TF converter gives the int8 form of the op, backends/tflite_versions.py);
- shapes are static (the caller gives them; batch 1 is the usual choice).

Example::

    b = TfliteBuilder()
    x = b.add_tensor("x", [1, 8], "int8", scale=[0.1], zero_point=[3])
    w = b.add_tensor("w", [4, 8], "int8", data=w_q, scale=[0.02] * 4, zero_point=[0] * 4)
    bias = b.add_tensor("b", [4], "int32", data=b_q, scale=[0.002] * 4, zero_point=[0] * 4)
    y = b.add_tensor("y", [1, 4], "int8", scale=[0.05], zero_point=[-2])
    b.add_operator("FULLY_CONNECTED", [x, w, bias], [y], fused_activation="RELU")
    b.set_inputs([x]); b.set_outputs([y])
    open("m.tflite", "wb").write(b.to_bytes())
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as S

from .tflite_versions import OP_VERSIONS, op_version

__all__ = [
    "OP_VERSIONS",
    "TfliteBuilder",
    "builtin_code",
    "op_version",
    "check_buffer_alignment",
]

_DTYPES: dict[str, tuple[int, Any]] = {
    "int8": (S.TensorType.INT8, np.int8),
    "uint8": (S.TensorType.UINT8, np.uint8),
    "int16": (S.TensorType.INT16, np.int16),
    "int32": (S.TensorType.INT32, np.int32),
    "int64": (S.TensorType.INT64, np.int64),
    "float32": (S.TensorType.FLOAT32, np.float32),
}

_ACTIVATIONS = {
    None: S.ActivationFunctionType.NONE,
    "NONE": S.ActivationFunctionType.NONE,
    "RELU": S.ActivationFunctionType.RELU,
    "RELU_N1_TO_1": S.ActivationFunctionType.RELU_N1_TO_1,
    "RELU6": S.ActivationFunctionType.RELU6,
}

_PADDING = {"SAME": S.Padding.SAME, "VALID": S.Padding.VALID}

BUFFER_ALIGNMENT = 16


def builtin_code(op: str | int) -> int:
    """Return the BuiltinOperator enum value for an op name ("CONV_2D") or pass an int through."""
    if isinstance(op, (int, np.integer)):
        return int(op)
    try:
        return int(getattr(S.BuiltinOperator, op))
    except AttributeError:
        raise ValueError(f"unknown TFLite builtin operator {op!r}") from None


class _AlignedBufferT(S.BufferT):
    """A BufferT whose data vector is packed with 16-byte alignment (schema `force_align: 16`)."""

    def Pack(self, builder: flatbuffers.Builder) -> int:
        """Pack the buffer table, writing the data bytes at a 16-byte aligned position."""
        data_off = None
        if self.data is not None:
            payload = bytes(self.data)
            builder.StartVector(1, len(payload), BUFFER_ALIGNMENT)
            builder.head = builder.head - len(payload)
            builder.Bytes[builder.head: builder.head + len(payload)] = payload
            data_off = builder.EndVector()
        S.BufferStart(builder)
        if data_off is not None:
            S.BufferAddData(builder, data_off)
        return S.BufferEnd(builder)


def _make_options(op: str, kw: dict[str, Any]) -> tuple[int, Any]:
    """Translate keyword options for `op` into (BuiltinOptions type, options object)."""
    act = _ACTIVATIONS[kw.pop("fused_activation", None)]
    BO = S.BuiltinOptions
    if op == "FULLY_CONNECTED":
        o = S.FullyConnectedOptionsT()
        o.fusedActivationFunction = act
        o.keepNumDims = bool(kw.pop("keep_num_dims", False))
        return BO.FullyConnectedOptions, o
    if op in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        o = S.Conv2DOptionsT() if op == "CONV_2D" else S.DepthwiseConv2DOptionsT()
        o.padding = _PADDING[kw.pop("padding", "VALID")]
        o.strideH, o.strideW = kw.pop("strides", (1, 1))
        o.dilationHFactor, o.dilationWFactor = kw.pop("dilation", (1, 1))
        o.fusedActivationFunction = act
        if op == "DEPTHWISE_CONV_2D":
            o.depthMultiplier = int(kw.pop("depth_multiplier", 1))
            return BO.DepthwiseConv2DOptions, o
        return BO.Conv2DOptions, o
    if op in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        o = S.Pool2DOptionsT()
        o.padding = _PADDING[kw.pop("padding", "VALID")]
        o.strideH, o.strideW = kw.pop("strides", (1, 1))
        o.filterHeight, o.filterWidth = kw.pop("filter", (1, 1))
        o.fusedActivationFunction = act
        return BO.Pool2DOptions, o
    if op == "ADD":
        o = S.AddOptionsT()
        o.fusedActivationFunction = act
        return BO.AddOptions, o
    if op == "MUL":
        o = S.MulOptionsT()
        o.fusedActivationFunction = act
        return BO.MulOptions, o
    if op == "CONCATENATION":
        o = S.ConcatenationOptionsT()
        o.axis = int(kw.pop("axis"))
        o.fusedActivationFunction = act
        return BO.ConcatenationOptions, o
    if op == "RESHAPE":
        o = S.ReshapeOptionsT()
        o.newShape = [int(d) for d in kw.pop("new_shape")]
        return BO.ReshapeOptions, o
    if op == "SOFTMAX":
        o = S.SoftmaxOptionsT()
        o.beta = float(kw.pop("beta", 1.0))
        return BO.SoftmaxOptions, o
    if op == "PAD":
        return BO.PadOptions, S.PadOptionsT()
    if op in ("MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD"):
        o = S.ReducerOptionsT()
        o.keepDims = bool(kw.pop("keep_dims", True))
        return BO.ReducerOptions, o
    if op == "QUANTIZE":
        return BO.QuantizeOptions, S.QuantizeOptionsT()
    if op == "DEQUANTIZE":
        return BO.DequantizeOptions, S.DequantizeOptionsT()
    return BO.NONE, None


class TfliteBuilder:
    """Collects tensors and operators of one subgraph and writes a TFLite flatbuffer."""

    def __init__(self, description: str = "hwc") -> None:
        """Start an empty model; `description` goes into Model.description."""
        self.description = description
        self._buffers: list[S.BufferT] = [S.BufferT()]  # buffers[0]: the empty sentinel
        self._tensors: list[S.TensorT] = []
        self._operators: list[S.OperatorT] = []
        self._opcodes: list[S.OperatorCodeT] = []
        self._opcode_index: dict[tuple[int, int], int] = {}
        self._inputs: list[int] = []
        self._outputs: list[int] = []

    # -- tensors ---------------------------------------------------------------------------
    def add_tensor(self, name: str, shape: Sequence[int], dtype: str, data: np.ndarray | None = None,
                   scale: Sequence[float] | float | None = None,
                   zero_point: Sequence[int] | int | None = None,
                   quantized_dimension: int = 0) -> int:
        """Add a tensor and return its index.

        `dtype` is "int8", "uint8", "int16", "int32", "int64" or "float32". `data` (optional)
        makes it a constant: it is cast to the dtype, checked against `shape` and stored
        little-endian in row-major order in its own 16-byte aligned buffer. Non-constant
        tensors get their own empty buffer. `scale`/`zero_point` (scalars or lists, one entry
        per channel for per-channel quantization along `quantized_dimension`) attach
        QuantizationParameters; with neither the tensor is unquantized.
        """
        if dtype not in _DTYPES:
            raise ValueError(f"unsupported tensor type {dtype!r}")
        ttype, np_dtype = _DTYPES[dtype]
        shape = [int(d) for d in shape]
        buf = _AlignedBufferT()
        if data is not None:
            arr = np.asarray(data)
            if arr.size != int(np.prod(shape, dtype=np.int64)):
                raise ValueError(f"tensor {name!r}: data has {arr.size} elements, shape {shape}")
            if np.issubdtype(np.dtype(np_dtype), np.integer) and arr.size:
                info = np.iinfo(np_dtype)
                if arr.min() < info.min or arr.max() > info.max:
                    raise ValueError(f"tensor {name!r}: data out of range for {dtype}")
            buf.data = np.ascontiguousarray(arr.astype(np_dtype).reshape(-1)).astype(
                np.dtype(np_dtype).newbyteorder("<")).tobytes()
        self._buffers.append(buf)
        t = S.TensorT()
        t.name = name
        t.shape = shape
        t.type = ttype
        t.buffer = len(self._buffers) - 1
        if scale is not None or zero_point is not None:
            sc = [float(s) for s in np.atleast_1d(np.asarray(scale if scale is not None else 0.0, np.float64))]
            zp = [int(z) for z in np.atleast_1d(np.asarray(zero_point if zero_point is not None else 0))]
            if len(zp) == 1 and len(sc) > 1:
                zp = zp * len(sc)
            if len(sc) != len(zp):
                raise ValueError(f"tensor {name!r}: {len(sc)} scales but {len(zp)} zero points")
            q = S.QuantizationParametersT()
            q.scale = sc
            q.zeroPoint = zp
            q.quantizedDimension = int(quantized_dimension)
            t.quantization = q
        self._tensors.append(t)
        return len(self._tensors) - 1

    def tensor(self, index: int) -> S.TensorT:
        """Return the TensorT object at `index` (to inspect or adjust it before `to_bytes`)."""
        return self._tensors[index]

    # -- operators -------------------------------------------------------------------------
    def _opcode(self, code: int, version: int) -> int:
        key = (code, version)
        if key not in self._opcode_index:
            oc = S.OperatorCodeT()
            oc.builtinCode = code
            oc.deprecatedBuiltinCode = min(code, S.BuiltinOperator.PLACEHOLDER_FOR_GREATER_OP_CODES)
            oc.version = version
            self._opcodes.append(oc)
            self._opcode_index[key] = len(self._opcodes) - 1
        return self._opcode_index[key]

    def add_operator(self, op: str, inputs: Sequence[int], outputs: Sequence[int], *,
                     options: Any = None, version: int | None = None, **kw: Any) -> int:
        """Add a builtin operator and return its index in the subgraph.

        `op` is a BuiltinOperator name. `inputs`/`outputs` are tensor indices (-1 for an
        omitted optional input). Options come either as a ready `...OptionsT` object in
        `options` or as keywords:

        - FULLY_CONNECTED: fused_activation ("NONE"/"RELU"/"RELU6"/"RELU_N1_TO_1"), keep_num_dims
        - CONV_2D: padding ("SAME"/"VALID"), strides (h, w), dilation (h, w), fused_activation
        - DEPTHWISE_CONV_2D: as CONV_2D plus depth_multiplier
        - AVERAGE_POOL_2D / MAX_POOL_2D: padding, strides (h, w), filter (h, w), fused_activation
        - ADD / MUL: fused_activation
        - CONCATENATION: axis, fused_activation
        - RESHAPE: new_shape
        - SOFTMAX: beta
        - MEAN (ReducerOptions): keep_dims
        - PAD, QUANTIZE, DEQUANTIZE: none

        `version` overrides the op version (default `op_version(op)`, see `OP_VERSIONS`).
        """
        code = builtin_code(op)
        name = op if isinstance(op, str) else None
        if options is None:
            opt_type, options = _make_options(name or "", dict(kw)) if name else (S.BuiltinOptions.NONE, None)
            unknown = set(kw) - {"fused_activation", "keep_num_dims", "padding", "strides", "dilation",
                                 "depth_multiplier", "filter", "axis", "new_shape", "beta", "keep_dims"}
            if unknown:
                raise ValueError(f"{op}: unknown options {sorted(unknown)}")
        else:
            opt_type = getattr(S.BuiltinOptions, type(options).__name__[:-1])
        if version is None:
            version = op_version(name, num_inputs=len(inputs)) if name else 1
        o = S.OperatorT()
        o.opcodeIndex = self._opcode(code, version)
        o.inputs = [int(i) for i in inputs]
        o.outputs = [int(i) for i in outputs]
        o.builtinOptionsType = opt_type
        o.builtinOptions = options
        self._operators.append(o)
        return len(self._operators) - 1

    # -- graph -----------------------------------------------------------------------------
    def set_inputs(self, inputs: Iterable[int]) -> None:
        """Set the subgraph's input tensor indices."""
        self._inputs = [int(i) for i in inputs]

    def set_outputs(self, outputs: Iterable[int]) -> None:
        """Set the subgraph's output tensor indices."""
        self._outputs = [int(i) for i in outputs]

    def to_bytes(self) -> bytes:
        """Serialise the model (identifier TFL3, version 3) and return the flatbuffer bytes."""
        sg = S.SubGraphT()
        sg.tensors = self._tensors
        sg.inputs = self._inputs
        sg.outputs = self._outputs
        sg.operators = self._operators
        sg.name = "main"
        m = S.ModelT()
        m.version = 3
        m.operatorCodes = self._opcodes
        m.subgraphs = [sg]
        m.description = self.description
        m.buffers = self._buffers
        fb = flatbuffers.Builder(1024)
        fb.Finish(m.Pack(fb), file_identifier=b"TFL3")
        out = bytes(fb.Output())
        check_buffer_alignment(out)
        return out


def check_buffer_alignment(model_bytes: bytes, alignment: int = BUFFER_ALIGNMENT) -> None:
    """Raise AssertionError unless every non-empty buffer's data starts `alignment`-aligned in the file."""
    model = S.Model.GetRootAs(model_bytes, 0)
    for i in range(model.BuffersLength()):
        b = model.Buffers(i)
        if b.DataLength() == 0:
            continue
        # Tables give the vector's element 0 position through the vtable.
        off = b._tab.Offset(4)
        start = b._tab.Vector(off)
        if start % alignment:
            raise AssertionError(f"buffer {i} data at byte {start} is not {alignment}-aligned")
