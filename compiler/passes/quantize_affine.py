"""QuantizeAffine: a float IR (after `optimize`) becomes the TFLite int8 form, every value typed AffineType.

Real value = scale * (q - zero_point) (TFLite int8 spec):
- weights int8 symmetric, zero point 0, one scale per output channel (Conv axis 0 of OIHW, Dense axis 1
  of [K, M]): s_c = max|W_c| / (2^(wbits-1) - 1), q = round_half_even(W / s_c); bias int32 at s_in * s_w[c];
- activations int8 per tensor from the value's range (calibration or intervals), widened to hold 0 and
  nudged as TFLite does: s = (max - min) / 255, z = round(-128 - min / s);
- MaxPool, AveragePool, Reshape, Transpose, Pad, Resize, Relu and Concat keep their input's parameters
  (Concat: one common output; an input that cannot adopt it gets an explicit requantizing Cast);
  Sigmoid and Softmax give 1/256 with zero point -128, Tanh 1/128 with 0;
- Relu / Clip(0, 6) / Clip(-1, 1) after a Dense/Conv become its `activation` (RELU, RELU6, RELU_N1_TO_1);
- the model's own quantizers (QONNX Quant, QDQ/QCDQ, QLinearConv/QLinearMatMul) keep their scales and
  zero points (an unsigned b-bit code q maps to q + 127 - qmax, so its clamp stays exact);
- graph inputs get a FromFloat, float outputs a ToFloat; uint8 I/O a zero-point-shifting Cast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import HwcError
from ..ir.graph import Graph, Node, Value
from ..ir.static import is_static, static_f64
from ..ir.types import AffineType, FloatType, IntType
from ..sim.float_ops import batchnorm_affine, qonnx_int_range, resize_indices
from ..sim.tflite_ops import LUT_OPS, depthwise_multiplier, tflite_resize_indices, window_padding
from .assign_types import DYNAMIC_QUANT_REFUSAL
from .base import Pass
from .remove_dead_nodes import RemoveDeadNodes

I8 = IntType(8)
U8 = IntType(8, False)
I32 = IntType(32)
F32_ELEM = FloatType(32)

# ops whose output keeps the input's quantization
PASS_THROUGH = ("MaxPool", "AveragePool", "Reshape", "Transpose", "Pad", "Resize", "Relu")
# ops that requantize into any output parameters
FREE = ("Dense", "Conv", "Add", "Mul", "GlobalAveragePool", "Cast") + LUT_OPS
FIXED_OUT = {"Sigmoid": (1.0 / 256, -128), "Softmax": (1.0 / 256, -128), "Tanh": (1.0 / 128, 0)}
SUPPORTED = set(PASS_THROUGH) | set(FREE) | set(FIXED_OUT) | {"Concat", "BatchNormalization"}
ACTIVATIONS = {None: (-math.inf, math.inf), "RELU": (0.0, math.inf), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}


def f32(x) -> float:
    return float(np.float32(x))


@dataclass(frozen=True)
class Params:
    """Per-tensor int8 parameters; [lo, hi] are the codes a carried quantizer allows (its clamp)."""

    scale: float
    zp: int
    lo: int = -128
    hi: int = 127

    def elem(self, storage: IntType = I8) -> AffineType:
        shift = 128 if storage == U8 else 0
        return AffineType(storage, (self.scale,), (self.zp + shift,), None)

    def same(self, other: "Params") -> bool:
        return self.scale == other.scale and self.zp == other.zp


def choose_params(lo: float, hi: float) -> Params:
    """TFLite's nudged asymmetric int8 parameters for the real range [lo, hi] (0 always included)."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise HwcError(f"value range [{lo}, {hi}] is not finite")
    if hi - lo < 1e-30:
        hi = lo + 1.0
    scale = f32((hi - lo) / 255.0)
    zp_lo, zp_hi = -128 - lo / scale, 127 - hi / scale
    zp = zp_lo if 128 + abs(lo / scale) < 127 + abs(hi / scale) else zp_hi
    return Params(scale, int(np.clip(np.round(zp), -128, 127)))


def carried_params(scale: float, zero_point: int, qmin: int, qmax: int, where: Node) -> Params:
    """A model's own b-bit quantizer (codes [qmin, qmax], zero point z in that storage) as int8:
    q8 = q + 127 - qmax, so the upper clamp is int8's and the lower one int8's or a RELU's."""
    if qmax - qmin > 255:
        raise HwcError(f"a {qmax - qmin + 1}-level quantizer does not fit int8 (TFLite is 8-bit)",
                       node=where.name, op=where.op)
    if not scale > 0:
        raise HwcError("quantizer scale must be positive", node=where.name, op=where.op)
    d = 127 - qmax
    return Params(f32(scale), int(zero_point) + d, qmin + d, qmax + d)


def _scalar(v: Value | None, node: Node, what: str, default=0.0) -> float:
    if v is None:
        return default
    if v.const is None:
        raise HwcError(f"the {what} must be a constant", node=node.name, op=node.op)
    a = np.asarray(v.const).reshape(-1)
    if a.size != 1 and not np.all(a == a[0]):
        raise HwcError(f"per-channel activation {what}s are not supported by TFLite", node=node.name, op=node.op)
    return float(a[0])


class QuantizeAffine(Pass):
    name = "quantize-affine"

    def __init__(self, ranges: dict[str, tuple[float, float]], wbits: int = 8, abits: int | None = 8):
        if abits is not None and abits != 8:
            raise HwcError(f"--abits {abits}: TFLite int8 activations are 8 bits (the 16x8 mode is not built); "
                           "use --abits 8")
        if not 2 <= wbits <= 8:
            raise HwcError(f"--wbits {wbits}: TFLite int8 weights take 2..8 bits")
        self.ranges = ranges
        self.wbits = wbits
        self.notes: list[str] = []
        self.ranged: set[str] = set()  # values whose parameters came from a range (not from the model)

    # ---- driver ------------------------------------------------------------------------------
    def run(self, graph: Graph) -> bool:
        self.carried: dict[int, Params] = {}  # id(value) -> the model's own parameters
        self.range_of: dict[int, tuple[float, float]] = {}  # id(value) -> range override
        self.out_storage: dict[int, IntType] = {}  # graph outputs delivered as uint8
        self.in_storage: dict[int, IntType] = {}
        self.float_outputs = [isinstance(v.type.elem, FloatType) for v in graph.outputs]
        self.output_names = [v.name for v in graph.outputs]
        _check_shapes(graph)
        self._lower_qlinear(graph)
        self._take_quantizers(graph)
        self._fold_batchnorm(graph)
        self._fuse_activations(graph)
        self._check_supported(graph)
        self._quantize_weights(graph)
        RemoveDeadNodes().run(graph)
        params = self._assign(graph)
        self._quantize_biases(graph, params)
        self._edges(graph, params)
        for v in graph.values():
            if id(v) in params and v.const is None:
                graph.retype(v, v.type.with_elem(params[id(v)].elem(self.in_storage.get(id(v), I8))))
        self._drop_identity_relus(graph)
        RemoveDeadNodes().run(graph)
        graph.sort()
        return True

    # ---- the model's own quantization --------------------------------------------------------
    def _carry(self, graph: Graph, v: Value, p: Params, node: Node) -> Value:
        """Record parameters on v; a value quantized twice differently gets a requantizing Cast."""
        old = self.carried.get(id(v))
        if old is None or old.same(p):
            self.carried[id(v)] = p
            return v
        c = graph.add_node("Cast", [v], {"to": p.elem()}, name=f"{node.name}_requant")
        self.carried[id(c.output)] = p
        return c.output

    def _bypass(self, graph: Graph, q: Node, target: Value, *dead: Node | None) -> None:
        graph.replace_all_uses(q.output, target)
        for n in (q,) + dead:
            if n is not None and n in graph.nodes and not n.output.uses and n.output not in graph.outputs:
                graph.remove_node(n)

    def _take_quantizers(self, graph: Graph) -> None:
        for node in list(graph.toposort()):
            if node not in graph.nodes or is_static(graph, node.output):
                continue
            if node.op == "Quant":
                a = node.attrs
                if a["bitwidth"] == 1 and a["signed"]:
                    raise HwcError("bipolar activations have no TFLite int8 form", node=node.name, op=node.op)
                qmin, qmax = qonnx_int_range(a["bitwidth"], a["signed"], a["narrow"])
                s = _scalar(node.inputs[1], node, "scale")
                z = _scalar(node.inputs[2], node, "zero point")
                if z != int(z):
                    raise HwcError("a non-integer zero point has no TFLite form", node=node.name, op=node.op)
                p = carried_params(s, int(z), qmin, qmax, node)
                self._bypass(graph, node, self._carry(graph, node.inputs[0], p, node))
            elif node.op == "DequantizeLinear":
                self._dequantize(graph, node)
            elif node.op == "QuantizeLinear" and not node.output.uses:
                if node.output not in graph.outputs:
                    raise HwcError("a QuantizeLinear without its DequantizeLinear is only supported at a graph output",
                                   node=node.name, op=node.op)
                t = node.output.type.elem
                p = self._qdq_params(node, t, t.min, t.max)
                target = self._carry(graph, node.inputs[0], p, node)
                self.out_storage[id(target)] = t
                self._bypass(graph, node, target)
            elif node.op == "DynamicQuantizeLinear":
                raise HwcError(DYNAMIC_QUANT_REFUSAL, node=node.name, op=node.op)
            elif node.op in ("BipolarQuant", "Trunc", "Requantize", "ConvInteger", "MatMulInteger"):
                raise HwcError(f"{node.op} on a run-time value has no TFLite int8 form here",
                               node=node.name, op=node.op)

    def _qdq_params(self, node: Node, storage, lo: int, hi: int) -> Params:
        if not isinstance(storage, IntType) or storage.bits > 8:
            raise HwcError(f"{storage} quantization does not fit TFLite int8", node=node.name, op=node.op)
        return carried_params(_scalar(node.inputs[1], node, "scale"), int(_scalar(node.input(2), node, "zero point")),
                              lo, hi, node)

    def _dequantize(self, graph: Graph, dq: Node) -> None:
        src, clip = dq.inputs[0], None
        storage = src.type.elem
        lo, hi = storage.min, storage.max
        if src.producer is not None and src.producer.op == "Clip":
            clip = src.producer
            if clip.attrs["min"] is not None:
                lo = max(lo, math.ceil(clip.attrs["min"]))
            if clip.attrs["max"] is not None:
                hi = min(hi, math.floor(clip.attrs["max"]))
            src = clip.inputs[0]
        p = self._qdq_params(dq, storage, lo, hi)
        q = src.producer
        if q is not None and q.op == "QuantizeLinear":
            if _scalar(q.inputs[1], q, "scale") != _scalar(dq.inputs[1], dq, "scale") or \
                    _scalar(q.input(2), q, "zero point") != _scalar(dq.input(2), dq, "zero point"):
                raise HwcError("QuantizeLinear and DequantizeLinear parameters differ", node=dq.name, op=dq.op)
            self._bypass(graph, dq, self._carry(graph, q.inputs[0], p, dq), clip, q)
        elif src in graph.inputs and isinstance(storage, IntType):
            self.in_storage[id(src)] = storage
            self._bypass(graph, dq, self._carry(graph, src, p, dq), clip)
        else:
            raise HwcError("DequantizeLinear of a run-time integer needs its QuantizeLinear", node=dq.name, op=dq.op)

    # ---- QLinearConv / QLinearMatMul ---------------------------------------------------------
    def _lower_qlinear(self, graph: Graph) -> None:
        """ConvInteger/MatMulInteger (+ int32 bias) + Requantize(M, z_y) → Conv/Dense with s_in = s_out = 1 and
        s_w[c] = M[c]: the kernel's multiplier s_in s_w / s_out is then exactly the model's M."""
        for rq in [n for n in graph.toposort() if n.op == "Requantize"]:
            acc, bias = rq.inputs[0], None
            p = acc.producer
            if p is not None and p.op == "Add":
                c = [v for v in p.inputs if v.const is not None]
                if len(c) != 1:
                    raise HwcError("the accumulator of a QLinear op must take a constant bias", node=p.name, op=p.op)
                bias = np.asarray(c[0].const, np.int64).reshape(-1)
                p = next(v for v in p.inputs if v.const is None).producer
            if p is None or p.op not in ("ConvInteger", "MatMulInteger"):
                raise HwcError("Requantize of something other than ConvInteger/MatMulInteger has no TFLite form",
                               node=rq.name, op=rq.op)
            x, w, xz, wz = (p.input(i) for i in range(4))
            if not is_static(graph, w):
                raise HwcError("QLinear weights must be constant", node=p.name, op=p.op)
            conv = p.op == "ConvInteger"
            wv = np.asarray(static_f64(w)).astype(np.int64)
            axis = 0 if conv else 1
            n_out = wv.shape[axis]
            wzv = np.broadcast_to(np.asarray(static_f64(wz) if wz is not None else 0, np.int64).reshape(-1),
                                  (n_out,))
            mult = np.broadcast_to(np.asarray(rq.inputs[1].const, np.float64).reshape(-1), (n_out,))
            shape = [1] * wv.ndim
            shape[axis] = n_out
            vals = wv - wzv.reshape(shape)
            q, scales, zps = self._integer_weights(vals, wv, wzv, mult, axis, conv, w.type.elem, p)
            if any(zps) and bias is not None and np.any(bias):
                raise HwcError("integer weights that need a zero point cannot take a bias in LiteRT (XNNPACK fails "
                               "to prepare FULLY_CONNECTED with both)", node=p.name, op=p.op)
            x_storage = x.type.elem
            xp = Params(1.0, int(_scalar(xz, p, "zero point")) - (128 if x_storage == U8 else 0))
            x = self._carry(graph, x, xp, p)
            if x in graph.inputs:
                self.in_storage[id(x)] = x_storage
            to = rq.attrs["to"]
            yp = Params(1.0, int(_scalar(rq.input(2), rq, "zero point")) - (128 if to == U8 else 0))
            wconst = graph.constant(q.astype(np.int8), f"{p.name}_w",
                                    elem=AffineType(I8, tuple(scales), tuple(zps), axis))
            # the codes were divided by g (scale M g): the accumulator shrinks by g, and so must the bias
            gain = np.broadcast_to(np.asarray(scales), (n_out,)) / np.asarray([f32(m) for m in mult])
            b = np.zeros(n_out, np.int64) if bias is None else np.broadcast_to(bias, (n_out,))
            bq = np.round(b / gain).astype(np.int64)
            if np.any(np.abs(bq * gain - b) > 1e-6 * np.maximum(np.abs(b), 1)):
                self.notes.append(f"{p.name}: the int32 bias is rounded after rescaling the weights")
            bconst = graph.constant(bq.astype(np.int32), f"{p.name}_b",
                                    elem=AffineType(I32, tuple(float(s) for s in np.broadcast_to(scales, (n_out,))),
                                                    (0,) * n_out, 0))
            attrs = {k: p.attrs[k] for k in ("strides", "pads", "dilations", "group")} if conv else {}
            node = graph.add_node("Conv" if conv else "Dense", [x, wconst, bconst], attrs, name=p.name,
                                  output_types=[rq.output.type.with_elem(F32_ELEM)])
            self.carried[id(node.output)] = yp
            if rq.output in graph.outputs and to == U8:
                self.out_storage[id(node.output)] = U8
            self._bypass(graph, rq, node.output, acc.producer if acc.producer is not p else None, p)

    def _integer_weights(self, vals, raw, wz, mult, axis, conv, storage, node):
        """int8 codes and scales for integer weights (w - w_zp) with multiplier M per channel: the codes
        themselves when they fit [-127, 127], else divided by their gcd (scale M * g); a Dense whose
        codes fit neither keeps its zero point (LiteRT's FULLY_CONNECTED honours it, per tensor)."""
        q = np.empty_like(vals)
        scales, zps = [], []
        for c in range(vals.shape[axis]):
            v = np.take(vals, c, axis=axis)
            g = 1
            if np.abs(v).max(initial=0) > 127:
                g = int(np.gcd.reduce(np.abs(v).reshape(-1))) or 1
            if np.abs(v // g).max(initial=0) > 127:
                break
            idx = [slice(None)] * vals.ndim
            idx[axis] = c
            q[tuple(idx)] = v // g
            scales.append(f32(mult[c] * g))
            zps.append(0)
        else:
            return q, scales, zps
        if conv or len(set(wz.tolist())) != 1 or len(set(np.asarray(mult).tolist())) != 1:
            raise HwcError("integer weights span more than 255 codes after removing the zero point; TFLite "
                           "int8 weights must be symmetric here", node=node.name, op=node.op)
        shift = 128 if storage == U8 else 0
        return raw - shift, [f32(mult[0])], [int(wz[0]) - shift]  # per tensor: XNNPACK then declines the node

    # ---- BatchNorm after a quantized Conv/Dense: folded into the per-channel scales -----------
    def _fold_batchnorm(self, graph: Graph) -> None:
        self.bn_fold: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for bn in [n for n in graph.toposort() if n.op == "BatchNormalization"]:
            prev = bn.inputs[0].producer
            if prev is None or prev.op not in ("Conv", "Dense") or graph.single_consumer(prev.output) is not bn \
                    or id(prev.output) in self.carried or any(v.const is None for v in bn.inputs[1:]):
                raise HwcError("BatchNormalization must follow a Conv/Dense (with constant statistics)",
                               node=bn.name, op=bn.op)
            a, b = batchnorm_affine(*[v.const for v in bn.inputs[1:]], bn.attrs["epsilon"], np.float64)
            self.bn_fold[id(prev)] = (np.asarray(a, np.float64), np.asarray(b, np.float64))
            p = self.carried.pop(id(bn.output), None)
            graph.replace_all_uses(bn.output, prev.output)
            graph.remove_node(bn)
            if p is not None:
                self.carried[id(prev.output)] = p
            if bn.output.name in self.ranges:
                self.range_of[id(prev.output)] = self.ranges[bn.output.name]

    # ---- fused activations -------------------------------------------------------------------
    def _fuse_activations(self, graph: Graph) -> None:
        for act in [n for n in graph.toposort() if n.op in ("Relu", "Clip")]:
            prev = act.inputs[0].producer
            if prev is None or prev.op not in ("Dense", "Conv") or prev.attrs.get("activation") is not None \
                    or graph.single_consumer(prev.output) is not act or id(prev.output) in self.carried:
                continue
            if act.op == "Relu":
                kind, forced = "RELU", None
            else:
                lo, hi = act.attrs["min"], act.attrs["max"]
                kind = {(0.0, 6.0): "RELU6", (-1.0, 1.0): "RELU_N1_TO_1", (0.0, None): "RELU"}.get(
                    (None if lo is None else float(lo), None if hi is None else float(hi)))
                forced = None
                if kind is None and lo is not None and float(lo) == 0.0:
                    kind, forced = "RELU", (0.0, float(hi))
                    self.notes.append(f"{act.name}: Clip(0, {hi:g}) is RELU with the output range [0, {hi:g}] "
                                      "(int8 saturation clips at the top, to within one step)")
                if kind is None:
                    continue
            prev.attrs["activation"] = kind
            p = self.carried.pop(id(act.output), None)
            if p is None:  # the fused output takes the activation's range
                self.range_of[id(prev.output)] = forced or self.range_of.get(id(act.output)) or self._range(act.output)
            graph.replace_all_uses(act.output, prev.output)
            graph.remove_node(act)
            if p is not None:
                self.carried[id(prev.output)] = p

    # ---- checks ------------------------------------------------------------------------------
    def _check_supported(self, graph: Graph) -> None:
        bad = [n for n in graph.toposort() if n.op not in SUPPORTED and not is_static(graph, n.output)]
        if bad:
            raise HwcError("no TFLite int8 form for " + ", ".join(f"{n.op} ({n.name})" for n in bad))
        for n in graph.toposort():
            if is_static(graph, n.output):
                continue
            why = _unsupported_form(graph, n)
            if why:
                raise HwcError(why, node=n.name, op=n.op)

    # ---- weights -----------------------------------------------------------------------------
    def _quantize_weights(self, graph: Graph) -> None:
        qmax = (1 << (self.wbits - 1)) - 1
        for n in [n for n in graph.toposort() if n.op in ("Dense", "Conv")]:
            w = n.inputs[1]
            if isinstance(w.type.elem, AffineType):
                continue  # from a QLinear op
            axis = 0 if n.op == "Conv" else 1
            wv = np.asarray(static_f64(w), np.float64)
            bias = static_f64(n.input(2)) if n.input(2) is not None else np.zeros(wv.shape[axis])
            a, shift = self.bn_fold.get(id(n), (None, None))
            q, scales = self._carried_weights(graph, w, wv, axis)
            shape = [1] * wv.ndim
            shape[axis] = -1
            if a is not None:
                bias = bias * a + shift
                if q is not None:
                    q = q * np.sign(a).reshape(shape).astype(np.int64)
                    scales = [f32(s * abs(x)) for s, x in zip(scales, a)]
                wv = wv * a.reshape(shape)
            if q is None:
                scales = _weight_scales(np.moveaxis(wv, axis, 0).reshape(wv.shape[axis], -1), qmax)
                q = np.clip(np.rint(wv / np.asarray(scales).reshape(shape)), -qmax, qmax).astype(np.int64)
            elem = AffineType(I8, tuple(scales), (0,) * len(scales), axis)
            graph.set_input(n, 1, graph.constant(q.astype(np.int8), f"{n.name}_w", elem=elem))
            graph.set_input(n, 2, graph.constant(np.asarray(bias, np.float64), f"{n.name}_bias_f"))

    def _carried_weights(self, graph: Graph, w: Value, wv: np.ndarray, axis: int):
        """(codes, per-channel scales) when the weight comes from the model's own quantizer, else (None, None)."""
        v, ax = w, axis
        while v.producer is not None and v.producer.op == "Transpose":
            ax = v.producer.attrs["perm"][ax]
            v = v.producer.inputs[0]
        q = v.producer
        if q is None or q.op not in ("Quant", "BipolarQuant", "DequantizeLinear"):
            return None, None
        if q.inputs[1].const is None:
            return None, None
        s = np.asarray(q.inputs[1].const, np.float64)
        rank = q.output.type.rank
        if s.size == 1:
            s = np.full(wv.shape[axis], float(s.reshape(-1)[0]))
        elif q.op == "DequantizeLinear":
            if q.attrs["axis"] % rank != ax:
                return None, None
            s = s.reshape(-1)
        else:  # QONNX: the scale broadcasts against the quantizer's output
            full = s.reshape((1,) * (rank - s.ndim) + s.shape)
            if [i for i, d in enumerate(full.shape) if d > 1] != [ax]:
                return None, None
            s = full.reshape(-1)
        shape = [1] * wv.ndim
        shape[axis] = -1
        s32 = np.asarray([f32(x) for x in s])
        codes = wv / s32.reshape(shape)
        q_int = np.rint(codes)
        if np.abs(codes - q_int).max(initial=0) > 1e-3 or np.abs(q_int).max(initial=0) > 127:
            self.notes.append(f"{q.name}: weights are not integer multiples of their scale within int8; "
                              "quantized anew from their values")
            return None, None
        return q_int.astype(np.int64), [float(x) for x in s32]

    # ---- activation parameters ---------------------------------------------------------------
    def _range(self, v: Value) -> tuple[float, float]:
        self.ranged.add(v.name)
        if id(v) in self.range_of:
            return self.range_of[id(v)]
        if v.name not in self.ranges:
            raise HwcError(f"no value range for {v.name} (give --calib data or --input-range)")
        return self.ranges[v.name]

    def _target(self, graph: Graph, v: Value) -> Params:
        """Parameters a value would choose for itself: its carried ones, else from its range (a value whose
        only consumer is a Relu takes the Relu's range: it then holds no negative codes)."""
        if id(v) in self.carried:
            return self.carried[id(v)]
        user = graph.single_consumer(v)
        if user is not None and user.op == "Relu" and id(user.output) not in self.carried:
            return choose_params(*self._range(user.output))
        if user is not None and user.op == "Relu":
            return self.carried[id(user.output)]
        return choose_params(*self._range(v))

    def _requant_after(self, graph: Graph, v: Value, p: Params, P: dict) -> None:
        c = graph.add_node("Cast", [v], {"to": p.elem()}, name=f"{v.name}_requant",
                           output_types=[v.type])
        graph.replace_all_uses(v, c.output, skip=c)
        P[id(c.output)] = p

    def _assign(self, graph: Graph) -> dict[int, Params]:
        P: dict[int, Params] = {}
        for v in graph.inputs:
            if isinstance(v.type.elem, FloatType) or id(v) in self.carried:
                P[id(v)] = self._target(graph, v)
            else:
                raise HwcError(f"graph input {v.name} ({v.type.elem}) has no quantization parameters")
        for n in graph.toposort():
            if n.op == "Cast" and id(n.output) in P:
                continue
            out = n.output
            carried = self.carried.get(id(out))
            if n.op in FREE:
                p = self._target(graph, out)
                if n.op in ("Dense", "Conv"):
                    p = self._fit_multiplier(graph, n, P, p, carried is not None)
                    if carried is not None and carried.lo > -128 and carried.lo == carried.zp:
                        n.attrs["activation"] = n.attrs["activation"] or "RELU"  # the quantizer's clamp at 0
                if carried is not None and carried.lo > -128 and carried.lo != carried.zp:
                    self.notes.append(f"{n.name}: the model's quantizer clamps below at code {carried.lo}; "
                                      "int8 keeps the codes below (no TFLite clamp there)")
                P[id(out)] = p
            elif n.op in PASS_THROUGH:
                P[id(out)] = P[id(n.inputs[0])]
                if carried is not None and not carried.same(P[id(out)]):
                    self._requant_after(graph, out, carried, P)
            elif n.op in FIXED_OUT:
                s, z = FIXED_OUT[n.op]
                P[id(out)] = Params(f32(s), z)
                if carried is not None and not carried.same(P[id(out)]):
                    self._requant_after(graph, out, carried, P)
            elif n.op == "Concat":
                self._concat(graph, n, P)
            else:
                raise HwcError(f"internal: no parameter rule for {n.op}", node=n.name, op=n.op)
        return P

    def _fit_multiplier(self, graph: Graph, n: Node, P: dict, p: Params, carried: bool) -> Params:
        """XNNPACK (the default interpreter path) refuses s_in s_w / s_out >= 256: widen the output scale, or
        for the model's own output scale, refine the weights' (`_finer_weights`)."""
        if _multiplier_ok(n, P, p):
            return p
        m = _max_multiplier(n, P, p)
        if carried and _finer_weights(graph, n, m):
            self.notes.append(f"{n.name}: weight codes scaled up by a power of two, their scales down (the "
                              f"requantization multiplier {m:.4g} brought below 256; the same products)")
            return p
        if carried:
            raise HwcError(f"the requantization multiplier {m:.4g} is >= 256, which LiteRT's XNNPACK path refuses",
                           node=n.name, op=n.op)
        scale = f32(p.scale * m / 255.0 * (1 + 2**-20))
        self.notes.append(f"{n.name}: output scale widened to {scale:.4g} (multiplier below 256)")
        return Params(scale, p.zp)

    def _concat(self, graph: Graph, n: Node, P: dict) -> None:
        out = n.output
        common = self.carried.get(id(out)) or choose_params(*self._range(out))
        P[id(out)] = common
        for i, v in enumerate(list(n.inputs)):
            if P[id(v)].same(common):
                continue
            prod = v.producer
            adopt = prod is not None and prod.op in FREE and prod.op != "Cast" and graph.single_consumer(v) is n \
                and id(v) not in self.carried and (prod.op not in ("Dense", "Conv") or _multiplier_ok(prod, P, common))
            if adopt:  # the producer requantizes anyway: straight into the common parameters
                P[id(v)] = common
                continue
            c = graph.add_node("Cast", [v], {"to": common.elem()}, name=f"{n.name}_in{i}_requant",
                               output_types=[v.type])
            graph.set_input(n, i, c.output)
            P[id(c.output)] = common

    # ---- biases ------------------------------------------------------------------------------
    def _quantize_biases(self, graph: Graph, P: dict) -> None:
        for n in [n for n in graph.nodes if n.op in ("Dense", "Conv")]:
            b = n.input(2)
            if b is not None and isinstance(b.type.elem, AffineType):
                continue
            s_in = np.float64(np.float32(P[id(n.inputs[0])].scale))
            sw = np.asarray(n.inputs[1].type.elem.scale, np.float32).astype(np.float64)
            sb = s_in * sw
            q = np.rint(np.asarray(b.const, np.float64) / sb)
            if np.abs(q).max(initial=0) > 2**31 - 1:
                self.notes.append(f"{n.name}: bias saturates int32")
            q = np.clip(q, -(2**31), 2**31 - 1).astype(np.int32)
            graph.set_input(n, 2, graph.constant(q, f"{n.name}_b", elem=AffineType(I32, tuple(float(x) for x in sb),
                                                                                  (0,) * len(sb), 0)))

    # ---- edges -------------------------------------------------------------------------------
    def _edges(self, graph: Graph, P: dict) -> None:
        for v in list(graph.inputs):
            p = P[id(v)]
            if isinstance(v.type.elem, FloatType):
                node = graph.add_node("FromFloat", [v], name=f"{v.name}_quantize", output_names=[f"{v.name}_q"],
                                      output_types=[v.type.with_elem(I8)], index=0)
                graph.replace_all_uses(v, node.output, skip=node)
                P[id(node.output)] = p
                del P[id(v)]
            elif self.in_storage.get(id(v)) == U8:
                graph.retype(v, v.type.with_elem(p.elem(U8)))
                del P[id(v)]
                node = graph.add_node("Cast", [v], {"to": p.elem()}, name=f"{v.name}_to_int8",
                                      output_names=[f"{v.name}_i8"], output_types=[v.type.with_elem(I8)], index=0)
                graph.replace_all_uses(v, node.output, skip=node)
                P[id(node.output)] = p
        outs = []
        for v, was_float, name in zip(graph.outputs, self.float_outputs, self.output_names):
            if v.producer is None:
                raise HwcError(f"graph output {v.name} is not computed by the model")
            if was_float or self.out_storage.get(id(v)) == U8:
                graph.rename(v, name + "_q")
            if was_float:
                node = graph.add_node("ToFloat", [v], name=f"{name}_dequantize", output_names=[name],
                                      output_types=[v.type.with_elem(FloatType(32))])
            elif self.out_storage.get(id(v)) == U8:
                node = graph.add_node("Cast", [v], {"to": P[id(v)].elem(U8)}, name=f"{name}_to_uint8",
                                      output_names=[name], output_types=[v.type.with_elem(P[id(v)].elem(U8))])
            else:
                outs.append(v)
                continue
            outs.append(node.output)
        graph.set_outputs(outs)

    def _drop_identity_relus(self, graph: Graph) -> None:
        """A Relu on int8 codes whose zero point is -128 holds no negative value: it is the identity."""
        for n in [n for n in graph.nodes if n.op == "Relu"]:
            t = n.inputs[0].type.elem
            if t.zero_point[0] == -128 and n.output not in graph.outputs:
                graph.replace_all_uses(n.output, n.inputs[0])
                graph.remove_node(n)


F32_ELEM = FloatType(32)


def _weight_scales(w: np.ndarray, qmax: int) -> list[float]:
    """Per row of w [C, K]: s = max|w| / qmax for 8 bits; below, the s = f max|w| / qmax (f in [0.2, 1]) with the
    least squared error of s * clip(round(w / s), -qmax, qmax) (a compile-time choice; 8-bit clipping never helps)."""
    amax = np.abs(w).max(axis=1)
    f = np.linspace(0.2, 1.0, 33) if qmax < 127 else np.ones(1)
    s = np.maximum(amax, 1e-30)[:, None] * f[None, :] / qmax  # [C, F]
    err = np.empty(s.shape)
    for j in range(len(f)):  # one candidate at a time: temporaries of w's size, not 33 times it
        sj = s[:, j:j + 1]
        q = np.clip(np.rint(w / sj), -qmax, qmax)
        err[:, j] = ((q * sj - w) ** 2).sum(axis=1)
    best = s[np.arange(len(s)), err.argmin(axis=1)]
    # an all-zero channel takes the smallest other scale: any scale is exact for it, and a large one would
    # push the requantization multiplier s_in s_w / s_out towards XNNPACK's limit of 256
    spare = f32(best[amax > 0].min()) if (amax > 0).any() else 1.0
    return [f32(b) if m > 0 else spare for b, m in zip(best, amax)]


def _max_multiplier(n: Node, P: dict, p: Params) -> float:
    s_in = np.float32(P[id(n.inputs[0])].scale)
    return float(max(s_in * np.float32(s) / np.float32(p.scale) for s in n.inputs[1].type.elem.scale))


def _finer_weights(graph: Graph, n: Node, m: float) -> bool:
    """Bring the multiplier s_in·s_w/s_out = m below 255 with weight codes ·2^e at scales ·2^-e, when the
    codes stay within ±127: the same real weights and products, the multiplier's mantissa unchanged."""
    w = n.inputs[1]
    t, q = w.type.elem, np.asarray(w.const, np.int64)
    e = math.ceil(math.log2(m / 255.0))
    e += m / 2.0 ** e >= 255.0
    if any(t.zero_point) or (np.abs(q).max(initial=0) << e) > 127:
        return False
    elem = AffineType(t.storage, tuple(f32(s * 2.0 ** -e) for s in t.scale), t.zero_point, t.axis)
    graph.set_input(n, 1, graph.constant((q << e).astype(np.int8), f"{n.name}_w", elem=elem))
    return True


def _multiplier_ok(n: Node, P: dict, p: Params) -> bool:
    return _max_multiplier(n, P, p) < 255.0


def _check_shapes(graph: Graph) -> None:
    for v in graph.values():
        if v.const is None and None in v.type.shape[1:]:
            raise HwcError(f"value {v.name} has a dynamic dimension other than the batch {list(v.type.shape)}; "
                           "TFLite models here have static shapes")


def _unsupported_form(graph: Graph, n: Node) -> str | None:
    """Why a supported op cannot take this particular form in TFLite int8 (None when it can)."""
    op, a = n.op, n.attrs
    x = n.inputs[0].type
    if op in ("Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "Resize") and x.rank != 4:
        return f"only 2-D (NCHW, rank 4) {op} maps to TFLite, got rank {x.rank}"
    if op == "Dense" and x.rank != 2:
        return f"FULLY_CONNECTED takes a rank-2 input here, got {x}"
    if op == "Conv" and a["group"] != 1 and depthwise_multiplier(n) is None:
        return f"grouped convolution (group {a['group']}) is neither CONV_2D nor DEPTHWISE_CONV_2D"
    if op in ("Dense", "Conv") and not is_static(graph, n.inputs[1]):
        return "weights must be constant"
    if op in ("MaxPool", "AveragePool"):
        if window_padding(n) is None:
            return f"pads {a['pads']} (ceil_mode {a['ceil_mode']}) are neither TFLite SAME nor VALID padding"
        if op == "MaxPool" and any(d != 1 for d in a["dilations"]):
            return "dilated max pooling has no TFLite form"
        if op == "AveragePool" and a["count_include_pad"] and any(a["pads"]):
            return "count_include_pad averages over padding; TFLite averages the in-bounds taps"
    if op == "Pad" and (a["mode"] != "constant" or a["value"] != 0.0):
        return f"only zero constant padding maps to TFLite PAD (mode {a['mode']}, value {a['value']})"
    if op == "Resize":
        for ax in range(x.rank):
            out, size = n.output.type.shape[ax], x.shape[ax]
            if out is None or out == size:
                continue
            onnx_idx = resize_indices(size, out, a["scales"][ax], a["coordinate_transformation_mode"],
                                      a["nearest_mode"])
            if ax < 2 or not np.array_equal(onnx_idx, tflite_resize_indices(size, out)):
                return "this nearest-neighbour resize does not pick the same pixels as TFLite RESIZE_NEAREST_NEIGHBOR"
    if op in ("Add", "Mul") and (any(v.const is not None for v in n.inputs)
                                 or n.inputs[0].type.shape != n.inputs[1].type.shape):
        return f"{op} of two run-time tensors of one shape maps to TFLite; constants and broadcasting are not supported"
    if op == "Concat" and a["axis"] % x.rank == 0:
        return "concatenation along the batch axis"
    return None
