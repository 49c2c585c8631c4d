"""How closely the TFLite model reproduces a model that carries its own quantizers (QONNX, QDQ):
both are simulated on the same random inputs in the input range — the reference by the float
simulator (its quantizers exactly as qonnx / onnxruntime compute them), the TFLite model by its
int8 simulator (LiteRT's default path, which `hwc verify` proves bit-exact) — and the compile summary
states the share of inputs whose outputs are all equal and the largest difference. The inputs are
fewer for larger models (about 2·10^8 multiply-accumulates in all), none above 2.5·10^7 per inference,
so that the check stays a small part of the compile time."""

from __future__ import annotations

import math

import numpy as np

from ..compiler.ir.graph import Graph
from ..compiler.ir.types import AffineType, FloatType
from ..compiler.sim.run import simulate

MAC_BUDGET = 2e8  # multiply-accumulates simulated per target for the note
MIN_INPUTS = 8

QUANTIZERS = frozenset({"Quant", "BipolarQuant", "Trunc", "QuantizeLinear", "DequantizeLinear", "QLinearConv",
                        "QLinearMatMul", "MatMulInteger", "ConvInteger"})


def _to_real(v, arr: np.ndarray) -> np.ndarray:
    t = v.type.elem
    if isinstance(t, AffineType):
        s, z = np.float64(t.scale[0]), np.float64(t.zero_point[0])
        return (arr.astype(np.float64) - z) * s
    return arr.astype(np.float64)


def _from_real(v, x: np.ndarray) -> np.ndarray:
    t = v.type.elem
    if isinstance(t, AffineType):
        s, z = np.float32(t.scale[0]), t.zero_point[0]
        q = np.rint(x.astype(np.float32) / s) + z
        return np.clip(q, t.storage.min, t.storage.max).astype(t.storage.numpy_dtype)
    return x


def reference_agreement(reference: Graph, tflite: Graph, ranges: dict, mode: str, n: int = 256,
                        seed: int = 0) -> str | None:
    """A one-line note for a model with its own quantizers (None for a float model, whose int8
    rounding is the compiler's own choice)."""
    if not any(node.op in QUANTIZERS for node in reference.nodes) or len(reference.inputs) != len(tflite.inputs):
        return None
    if any(not isinstance(v.type.elem, FloatType) for v in reference.inputs) or \
            any(isinstance(t.type.elem, AffineType) and len(t.type.elem.scale) != 1 for t in tflite.inputs + tflite.outputs):
        return None
    from ..compiler.analysis import layer_table

    macs = max(1, sum(int(r["macs"]) for r in layer_table(reference)))
    n = min(n, int(MAC_BUDGET // macs))
    if n < MIN_INPUTS:
        return (f"the model's own quantization: agreement with TFLite not measured at compile time ({macs:.3g} "
                "multiply-accumulates per inference)")
    rng = np.random.default_rng(seed)
    xs = []
    for v in reference.inputs:
        lo, hi = ranges.get(v.name, (-1.0, 1.0))
        xs.append(rng.uniform(lo, hi, (n,) + tuple(d for d in v.type.shape[1:])).astype(np.float32))
    ref = simulate(reference, xs)
    got = simulate(tflite, [_from_real(v, x) for v, x in zip(tflite.inputs, xs)], mode=mode)
    equal = np.ones(n, bool)
    worst = 0.0
    for r, o, v in zip(ref, got, tflite.outputs):
        d = np.abs(_to_real(v, o) - np.asarray(r, np.float64)).reshape(n, -1)
        equal &= d.max(axis=1) == 0
        worst = max(worst, float(d.max()))
    if equal.all():
        return f"the model's own quantization: TFLite reproduces its outputs exactly on {n} of {n} random inputs"
    return (f"the model's own quantization: TFLite reproduces its outputs exactly on {int(equal.sum())} of {n} random "
            f"inputs, largest difference {worst:.4g} ({why_not_exact(reference, tflite)})")


def _pow2(s: float) -> bool:
    return s > 0 and math.frexp(s)[0] == 0.5


def why_not_exact(reference: Graph, tflite: Graph) -> str:
    """The arithmetic reason TFLite's int8 form differs from the model's own quantizers."""
    reasons = []
    own = QUANTIZERS | {"Bipolar"}
    own_out = {v.name for v in reference.outputs if v.producer is not None and v.producer.op in own}
    own_in = {v.name for v in reference.inputs if v.uses and all(u.node.op in own for u in v.uses)}
    fed = [u.node.output for v in tflite.inputs if v.name not in own_in for u in v.uses if u.node.op == "FromFloat"]
    if fed:
        reasons.append("a float input the model leaves unquantized is quantized to 8 bits")
    held = [v.producer.inputs[0] for v in tflite.outputs if isinstance(v.type.elem, FloatType) and v.producer is not None
            and v.producer.op == "ToFloat" and v.name not in own_out]
    if held:
        reasons.append("a float output the model leaves unquantized is held in 8 bits")
    # the values TFLite quantizes for that output by their range (not the model's scales)
    ours = {id(v) for v in held + fed} | {id(v.producer.inputs[0]) for v in held
                                    if v.producer is not None and v.producer.op in ("Softmax", "Sigmoid", "Tanh")}
    scales = [s for v in tflite.values() if isinstance(v.type.elem, AffineType) and id(v) not in ours
              and v.type.elem.storage.bits <= 16 for s in v.type.elem.scale]  # biases: s_in·s_w, derived
    if not all(_pow2(s) for s in scales):
        reasons.append("scales that are not powers of two: TFLite's fixed-point multipliers round")
    return "; ".join(reasons) or "requantization ties: TFLite rounds them its own way"
