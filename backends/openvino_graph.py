"""Build, save and run OpenVINO models through the Python API (no hand-written XML).

A thin layer over ``openvino`` (2026.x; ``openvino.runtime`` no longer exists) that the
IR-level backend builds on. Every function returns an ``openvino.Node`` (or an
``openvino.Model``); arguments that are numpy arrays or Python numbers become Constants.

Op versions. Each builder uses the *oldest* op version that has the needed semantics, so
that a saved IR can also be read by OpenVINO 2022.3 LTS (the last release with the NCS2 /
Myriad plugin, whose IR reader knows opset1..opset8): Parameter, Constant, Convert,
FakeQuantize, MatMul, Convolution, GroupConvolution, Add, Subtract, Multiply, Relu, Clamp,
MaxPool, AvgPool, ReduceMean, Softmax, Sigmoid, Concat, Reshape, Transpose and Pad are
``opset1``; Interpolate is v4 (``opset4``, built with ``openvino.opset10.interpolate``,
which creates v4). See docs/openvino_arithmetic.md.

Low-bit weights. ``compressed_weights`` builds the "compressed weights" / dequantization
form that OpenVINO's low-precision transformations (LPT) recognise on the weight input of
MatMul / Convolution::

    Constant(i8|u8|i4|u4) -> Convert(f32) [-> Subtract(zero point)] -> Multiply(scale)

The zero point is an f32 Constant, or (``zp_as_int=True``) a Constant of the weight type
followed by a Convert, both forms LPT accepts.

Saving uses ``ov.save_model(model, path, compress_to_fp16=False)``: the default would
silently compress every f32 constant to f16. ``save(..., compress_to_fp16=True)`` gives
the FP16-weight IR (as for the NCS2).
"""

from __future__ import annotations

import os
from typing import Iterable, Mapping, Sequence

import numpy as np
import openvino as ov
from openvino import opset1 as _o1
from openvino import opset10 as _o10

__all__ = [
    "Node",
    "parameter",
    "constant",
    "convert",
    "fake_quantize",
    "compressed_weights",
    "matmul",
    "convolution",
    "group_convolution",
    "add",
    "subtract",
    "multiply",
    "relu",
    "clamp",
    "max_pool",
    "avg_pool",
    "reduce_mean",
    "softmax",
    "sigmoid",
    "concat",
    "reshape",
    "transpose",
    "pad",
    "interpolate_nearest",
    "model",
    "set_runtime_options",
    "ISA_INDEPENDENT",
    "save",
    "compile_model",
    "run",
    "runtime_layers",
]

Node = ov.Node

_INT4 = {"i4": ov.Type.i4, "u4": ov.Type.u4}
_TYPE_NAMES = {
    "f32": ov.Type.f32, "f16": ov.Type.f16, "bf16": ov.Type.bf16, "f64": ov.Type.f64,
    "i8": ov.Type.i8, "u8": ov.Type.u8, "i16": ov.Type.i16, "u16": ov.Type.u16,
    "i32": ov.Type.i32, "u32": ov.Type.u32, "i64": ov.Type.i64, "u64": ov.Type.u64,
    "boolean": ov.Type.boolean, "i4": ov.Type.i4, "u4": ov.Type.u4,
}


def _ov_type(t) -> ov.Type:
    if isinstance(t, ov.Type):
        return t
    if isinstance(t, str):
        return _TYPE_NAMES[t]
    return ov.Type(np.dtype(t))


def _node(x, dtype=np.float32):
    """A Node, or a Constant made from a number / array (numbers take `dtype`)."""
    if isinstance(x, (ov.Node, ov.Output)):
        return x
    a = np.asarray(x)
    if a.dtype.kind in "fiub" and not isinstance(x, np.ndarray):
        a = a.astype(dtype)
    return constant(a)


def _pair(v, n: int) -> list[int]:
    if isinstance(v, int):
        return [v] * n
    v = list(v)
    if len(v) == 1:
        return v * n
    return v


def _pads(pads, n: int) -> tuple[list[int], list[int]]:
    """pads: int, [p]*n (symmetric), or (begin_list, end_list)."""
    if isinstance(pads, int):
        return [pads] * n, [pads] * n
    pads = list(pads)
    if len(pads) == 2 and not isinstance(pads[0], int):
        return list(pads[0]), list(pads[1])
    if len(pads) == 2 * n:
        return pads[:n], pads[n:]
    return _pair(pads, n), _pair(pads, n)


# ----------------------------------------------------------------------------------------
# Leaves
# ----------------------------------------------------------------------------------------
def parameter(shape: Sequence[int], dtype=np.float32, name: str | None = None) -> Node:
    """A model input of static `shape`; `name` becomes the tensor name used by `run`."""
    p = _o1.parameter(list(shape), _ov_type(dtype), name=name)
    if name:
        p.output(0).get_tensor().set_names({name})
    return p


def _pack_int4(values: np.ndarray, signed: bool) -> np.ndarray:
    """Pack int values into bytes, element 0 in the low nibble (OpenVINO's layout)."""
    v = np.asarray(values).astype(np.int64).ravel()
    lo, hi = (-8, 7) if signed else (0, 15)
    if v.size and (v.min() < lo or v.max() > hi):
        raise ValueError(f"4-bit values out of range [{lo}, {hi}]")
    nib = (v & 0xF).astype(np.uint8)
    if nib.size % 2:
        nib = np.concatenate([nib, np.zeros(1, np.uint8)])
    return (nib[0::2] | (nib[1::2] << 4)).astype(np.uint8)


def constant(value, dtype=None, name: str | None = None) -> Node:
    """A Constant holding `value` exactly.

    `dtype` may be a numpy dtype, an ``ov.Type`` or a name ("f32", "f16", "i8", "u8", "i4",
    "u4", ...). Without it the array's own dtype is kept (Python floats become f32, ints
    i64). For "i4" / "u4" the values are range-checked and packed two per byte.
    """
    if dtype is not None and _ov_type(dtype) in (ov.Type.i4, ov.Type.u4):
        t = _ov_type(dtype)
        a = np.asarray(value)
        tensor = ov.Tensor(t, ov.Shape(list(a.shape)))
        packed = _pack_int4(a, signed=(t == ov.Type.i4))
        tensor.data.reshape(-1)[...] = packed.view(tensor.data.dtype)
        c = ov.op.Constant(tensor)
    else:
        a = np.asarray(value)
        if dtype is not None:
            t = _ov_type(dtype)
            a = a.astype(t.to_dtype())
        elif a.dtype == np.float64 and not isinstance(value, np.ndarray):
            a = a.astype(np.float32)
        c = ov.op.Constant(np.array(a, order="C", copy=True))  # keeps 0-d scalars 0-d
    if name:
        c.set_friendly_name(name)
    return c


def convert(x, dtype, name: str | None = None) -> Node:
    """Convert (opset1) to `dtype`."""
    return _o1.convert(_node(x), _ov_type(dtype), name=name)


# ----------------------------------------------------------------------------------------
# Quantization
# ----------------------------------------------------------------------------------------
def fake_quantize(x, il, ih, ol, oh, levels: int, name: str | None = None) -> Node:
    """FakeQuantize (opset1). il/ih/ol/oh: numbers or arrays broadcastable to x (f32)."""
    f = lambda v: _node(np.asarray(v, dtype=np.float32))  # noqa: E731
    return _o1.fake_quantize(_node(x), f(il), f(ih), f(ol), f(oh), int(levels), name=name)


def compressed_weights(q, scale, zero_point=None, dtype="i8", zp_as_int: bool = False,
                       out_type="f32", name: str | None = None) -> Node:
    """Low-bit weights in the form LPT recognises: w = (f32(q) - zero_point) * scale.

    q: integer array in the range of `dtype` ("i8", "u8", "i4", "u4"); scale / zero_point
    broadcastable to q (per-output-channel: shape [O, 1, ...]). zero_point None -> no
    Subtract. ``zp_as_int`` stores the zero point as `dtype` with a Convert.
    """
    c = constant(q, dtype=dtype, name=name)
    w = _o1.convert(c, _ov_type(out_type))
    if zero_point is not None:
        if zp_as_int:
            zp = _o1.convert(constant(np.asarray(zero_point), dtype=dtype), _ov_type(out_type))
        else:
            zp = constant(np.asarray(zero_point, dtype=_ov_type(out_type).to_dtype()))
        w = _o1.subtract(w, zp)
    return _o1.multiply(w, constant(np.asarray(scale, dtype=_ov_type(out_type).to_dtype())))


# ----------------------------------------------------------------------------------------
# Compute
# ----------------------------------------------------------------------------------------
def matmul(a, b, transpose_a: bool = False, transpose_b: bool = False, name=None) -> Node:
    """MatMul (opset1): a @ b with numpy broadcasting of batch dimensions."""
    return _o1.matmul(_node(a), _node(b), transpose_a, transpose_b, name=name)


def convolution(x, w, strides=1, pads=0, dilations=1, auto_pad: str = "explicit",
                name=None) -> Node:
    """Convolution (opset1), NCHW data, OIHW weights (cross-correlation, like ONNX Conv)."""
    wn = _node(w)
    n = len(wn.get_output_partial_shape(0)) - 2
    pb, pe = _pads(pads, n)
    return _o1.convolution(_node(x), wn, _pair(strides, n), pb, pe, _pair(dilations, n),
                           auto_pad, name=name)


def group_convolution(x, w, groups: int | None = None, strides=1, pads=0, dilations=1,
                      auto_pad: str = "explicit", name=None) -> Node:
    """GroupConvolution (opset1). w: [G, O/G, I/G, kh, kw] node/array, or an OIHW numpy
    array with `groups` (reshaped here; depthwise: groups = channels)."""
    if groups is not None and isinstance(w, np.ndarray) and w.ndim >= 3:
        w = w.reshape((groups, w.shape[0] // groups) + w.shape[1:])
    elif groups is not None:
        wn = _node(w)
        shp = list(wn.get_output_partial_shape(0).to_shape())
        w = _o1.reshape(wn, constant(np.array([groups, shp[0] // groups] + shp[1:], np.int64)),
                        False)
    wn = _node(w)
    n = len(wn.get_output_partial_shape(0)) - 3
    pb, pe = _pads(pads, n)
    return _o1.group_convolution(_node(x), wn, _pair(strides, n), pb, pe, _pair(dilations, n),
                                 auto_pad, name=name)


def add(a, b, name=None) -> Node:
    return _o1.add(_node(a), _node(b), name=name)


def subtract(a, b, name=None) -> Node:
    return _o1.subtract(_node(a), _node(b), name=name)


def multiply(a, b, name=None) -> Node:
    return _o1.multiply(_node(a), _node(b), name=name)


def relu(x, name=None) -> Node:
    return _o1.relu(_node(x), name=name)


def clamp(x, lo: float, hi: float, name=None) -> Node:
    return _o1.clamp(_node(x), float(lo), float(hi), name=name)


def sigmoid(x, name=None) -> Node:
    return _o1.sigmoid(_node(x), name=name)


def max_pool(x, kernel, strides=None, pads=0, rounding_type: str = "floor", name=None) -> Node:
    """MaxPool (opset1); padded positions never win."""
    xn = _node(x)
    n = len(xn.get_output_partial_shape(0)) - 2
    k = _pair(kernel, n)
    pb, pe = _pads(pads, n)
    return _o1.max_pool(xn, _pair(strides if strides is not None else k, n), pb, pe, k,
                        rounding_type, name=name)


def avg_pool(x, kernel, strides=None, pads=0, exclude_pad: bool = True,
             rounding_type: str = "floor", name=None) -> Node:
    """AvgPool (opset1); exclude_pad=True divides by the in-bounds tap count."""
    xn = _node(x)
    n = len(xn.get_output_partial_shape(0)) - 2
    k = _pair(kernel, n)
    pb, pe = _pads(pads, n)
    return _o1.avg_pool(xn, _pair(strides if strides is not None else k, n), pb, pe, k,
                        exclude_pad, rounding_type, name=name)


def reduce_mean(x, axes: Iterable[int], keep_dims: bool = True, name=None) -> Node:
    return _o1.reduce_mean(_node(x), constant(np.array(list(axes), np.int64)), keep_dims,
                           name=name)


def softmax(x, axis: int = -1, name=None) -> Node:
    """Softmax (opset1, which needs a non-negative axis: a negative one is normalised)."""
    xn = _node(x)
    if axis < 0:
        axis += len(xn.get_output_partial_shape(0))
    return _o1.softmax(xn, axis, name=name)


def concat(xs: Sequence, axis: int, name=None) -> Node:
    return _o1.concat([_node(v) for v in xs], axis, name=name)


def reshape(x, shape: Sequence[int], special_zero: bool = False, name=None) -> Node:
    return _o1.reshape(_node(x), constant(np.array(list(shape), np.int64)), special_zero,
                       name=name)


def transpose(x, perm: Sequence[int], name=None) -> Node:
    return _o1.transpose(_node(x), constant(np.array(list(perm), np.int64)), name=name)


def pad(x, pads_begin: Sequence[int], pads_end: Sequence[int], value: float = 0.0,
        mode: str = "constant", name=None) -> Node:
    """Pad (opset1) over every axis; non-negative pads; constant `value` (f32)."""
    xn = _node(x)
    et = xn.get_output_element_type(0)
    v = constant(np.array(value, dtype=et.to_dtype())) if mode == "constant" else None
    return _o1.pad(xn, constant(np.array(list(pads_begin), np.int64)),
                   constant(np.array(list(pads_end), np.int64)), mode, v, name=name)


def interpolate_nearest(x, sizes: Sequence[int], axes: Sequence[int] = (2, 3),
                        coordinate_transformation_mode: str = "asymmetric",
                        nearest_mode: str = "floor", name=None) -> Node:
    """Interpolate v4, mode nearest, output `sizes` on `axes` (default: ONNX Resize
    nearest with asymmetric coordinates and floor, i.e. integer-factor repetition)."""
    xn = _node(x)
    shp = xn.get_output_partial_shape(0).to_shape()
    scales = np.array([s / shp[a] for s, a in zip(sizes, axes)], np.float32)
    return _o10.interpolate(xn, constant(np.array(list(sizes), np.int64)), constant(scales),
                            "nearest", "sizes",
                            coordinate_transformation_mode=coordinate_transformation_mode,
                            nearest_mode=nearest_mode,
                            axes=constant(np.array(list(axes), np.int64)), name=name)


# ----------------------------------------------------------------------------------------
# Models: build, save, compile, run
# ----------------------------------------------------------------------------------------
def model(outputs, params: Sequence[Node], name: str = "hwc") -> ov.Model:
    """An ov.Model from output node(s) and the Parameter list (in input order)."""
    if isinstance(outputs, (ov.Node, ov.Output)):
        outputs = [outputs]
    outs = [o.output(0) if isinstance(o, ov.Node) else o for o in outputs]
    return ov.Model(outs, list(params), name)


def set_runtime_options(m: ov.Model, options: Mapping[str, object]) -> ov.Model:
    """Store CPU-plugin properties in the IR (rt_info ``runtime_options``), applied when the
    model is compiled without an explicit value. The CPU plugin (2026.4) honours e.g.
    DYNAMIC_QUANTIZATION_GROUP_SIZE=0 from here, but *not* INFERENCE_PRECISION_HINT or
    EXECUTION_MODE_HINT: those must be passed to compile_model."""
    for k, v in options.items():
        m.set_rt_info(str(v), ["runtime_options", k])
    return m


def save(m: ov.Model, path: str | os.PathLike, compress_to_fp16: bool = False) -> str:
    """Write `path` (.xml) and its .bin; f32 weights stay f32 unless asked."""
    path = os.fspath(path)
    ov.save_model(m, path, compress_to_fp16=compress_to_fp16)
    return path


#: compile_model properties under which the CPU plugin's arithmetic does not depend on the instruction set:
#: f32 inference (no bf16/f16 on CPUs that have them), the low-precision transformations off (no u8/i8
#: kernels, whose saturation and zero-point handling differ between SSE4.1, AVX2, AVX-512 and VNNI:
#: LP_TRANSFORMS_MODE, a CPU-plugin property compile_model accepts, not stored by rt_info), and no dynamic
#: quantization of FullyConnected activations. Integer-valued f32 sums below 2^24 are then exact in any
#: order, so every kernel (jit_sse42, jit_avx2, brgconv_avx512 ...) gives the same bits.
ISA_INDEPENDENT = {"INFERENCE_PRECISION_HINT": "f32", "LP_TRANSFORMS_MODE": "NO", "DYNAMIC_QUANTIZATION_GROUP_SIZE": 0}

_CORE: ov.Core | None = None


def _core() -> ov.Core:
    global _CORE
    if _CORE is None:
        _CORE = ov.Core()
    return _CORE


def compile_model(m, precision: str | None = None, config: Mapping | None = None,
                  device: str = "CPU") -> ov.CompiledModel:
    """Compile an ov.Model or an .xml path. precision: None (plugin default, which is bf16
    or f16 on CPUs that have them!), "f32", "f16" or "bf16" -> INFERENCE_PRECISION_HINT."""
    cfg = dict(config or {})
    if precision is not None:
        cfg["INFERENCE_PRECISION_HINT"] = precision
    core = _core()
    if isinstance(m, (str, os.PathLike)):
        m = core.read_model(os.fspath(m))
    return core.compile_model(m, device, cfg)


def run(xml_path, inputs, precision: str | None = None, config: Mapping | None = None
        ) -> list[np.ndarray]:
    """Compile `xml_path` (or an ov.Model) on CPU and infer once.

    inputs: a list in parameter order, or a dict by input name. Returns the outputs (copies)
    in model order."""
    cm = compile_model(xml_path, precision, config)
    if isinstance(inputs, Mapping):
        feed = {k: np.ascontiguousarray(v) for k, v in inputs.items()}
    else:
        feed = {i: np.ascontiguousarray(v) for i, v in enumerate(inputs)}
    req = cm.create_infer_request()
    req.infer(feed)
    return [np.array(req.get_output_tensor(i).data, copy=True) for i in range(len(cm.outputs))]


def runtime_layers(cm: ov.CompiledModel) -> list[dict]:
    """The executed graph: one dict per runtime node with its name, layerType,
    runtimePrecision, primitiveType (e.g. "brgemm_avx512_amx_I8", "jit_avx2_FP32") and
    outputPrecisions."""
    out = []
    for op in cm.get_runtime_model().get_ordered_ops():
        rt = op.get_rt_info()
        d = {"name": op.get_friendly_name()}
        for k in ("layerType", "runtimePrecision", "primitiveType", "outputPrecisions"):
            d[k] = rt[k].astype(str) if k in rt else ""
        out.append(d)
    return out
