"""How closely the TFLite model reproduces a model that carries its own quantizers (QONNX, QDQ):
both are simulated on the same random inputs in the input range — the reference by the float
simulator (its quantizers exactly as qonnx / onnxruntime compute them), the TFLite model by its
int8 simulator (LiteRT's default path, which `hwc verify` proves bit-exact) — and the compile summary
states the share of inputs whose outputs are all equal and the largest difference."""

from __future__ import annotations

import numpy as np

from ..compiler.ir.graph import Graph
from ..compiler.ir.types import AffineType, FloatType
from ..compiler.sim.run import simulate

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
            f"inputs, largest difference {worst:.4g} (TFLite requantizes every layer in int8 with its own rounding: "
            "ties away from zero, 8-bit ranges)")
