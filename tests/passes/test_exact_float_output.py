"""ExactFloatOutput: an int8 Dense whose float output the model leaves unquantized becomes DEQUANTIZE + a float32
Dense, only where f32 computes it exactly (power-of-two scales, partial sums below 2^24 steps), only after an
input the model quantized itself, and only when its output parameters are not the model's own. Graphs are
built in code; the rewritten graph verifies, and its TFLite simulation equals the exact integer result."""

from __future__ import annotations

import numpy as np
import pytest

from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import AffineType, FloatType, IntType, TensorType
from hwc.compiler.passes.exact_float_output import ExactFloatOutput, exact_in_f32
from hwc.compiler.sim.run import simulate

I8, I32, F32 = IntType(8), IntType(32), FloatType(32)


def affine_dense(k=6, m=3, s_x=2.0 ** -2, z_x=112, s_w=2.0 ** -3, w=None, flatten=False, seed=0):
    """x (int8 codes, [N, k] or [N, 1, k] flattened) -> Dense int8 (weights s_w per channel, bias at s_x·s_w,
    output at a calibrated scale) -> ToFloat -> output."""
    rng = np.random.default_rng(seed)
    g = Graph("t")
    xt = AffineType(I8, (s_x,), (z_x,), None)
    x = g.add_input("x", TensorType(xt, (None, 1, k) if flatten else (None, k)))
    src = g.add_node("Reshape", [x], {"shape": [None, k]}, output_types=[TensorType(xt, (None, k))]).output \
        if flatten else x
    w = rng.integers(-7, 8, (k, m)) if w is None else w
    sw = tuple(float(s_w) for _ in range(m))
    wv = g.constant(np.asarray(w, np.int8), "w", elem=AffineType(I8, sw, (0,) * m, 1))
    bv = g.constant(rng.integers(-500, 500, m).astype(np.int32), "b",
                    elem=AffineType(I32, tuple(s_x * s for s in sw), (0,) * m, 0))
    d = g.add_node("Dense", [src, wv, bv], {"accum": None, "activation": None, "weight_shift": None},
                   output_types=[TensorType(AffineType(I8, (0.21,), (3,), None), (None, m))])
    f = g.add_node("ToFloat", [d.output], {"axis": 1, "offset": None, "scale": None},
                   output_types=[TensorType(F32, (None, m))])
    g.set_outputs([f.output])
    g.verify()
    return g, x, d


def exact(x, d, codes):
    """(q - z)·s_x @ w·s_w + b·s_b in integers, scaled once: the reference's value."""
    xt, (w, b) = x.type.elem, (d.inputs[1], d.inputs[2])
    acc = (codes.reshape(len(codes), -1).astype(np.int64) - xt.zero_point[0]) @ np.asarray(w.const, np.int64) \
        + np.asarray(b.const, np.int64)
    return (acc * (xt.scale[0] * w.type.elem.scale[0])).astype(np.float32)


@pytest.mark.parametrize("flatten", [False, True])
def test_the_rewritten_layer_is_float_and_exact(flatten):
    g, x, d = affine_dense(flatten=flatten)
    codes = np.random.default_rng(1).integers(112, 128, (200,) + x.type.shape[1:]).astype(np.int8)
    expected = exact(x, d, codes)
    p = ExactFloatOutput(lambda v: v is x)
    assert p.run(g) is True and p.rewritten == [d.name]
    g.verify()
    ops = [n.op for n in g.toposort()]
    assert ops == (["ToFloat", "Reshape", "Dense"] if flatten else ["ToFloat", "Dense"])
    dense = g.outputs[0].producer
    assert dense.op == "Dense" and all(isinstance(v.type.elem, FloatType) for v in dense.inputs)
    for mode in ("tflite-ref", "tflite-xnnpack", "tflite-builtin"):
        np.testing.assert_array_equal(simulate(g, [codes], mode=mode)[0], expected)
    assert p.run(g) is False  # nothing left to rewrite


def test_not_a_power_of_two_scale_stays_int8():
    g, x, _ = affine_dense(s_w=0.1)
    assert ExactFloatOutput(lambda v: v is x).run(g) is False


def test_sums_reaching_2_to_the_24_steps_stay_int8():
    k = 530  # 255 codes · 127 · 530 > 2^24
    g, x, d = affine_dense(k=k, z_x=-128, w=np.full((k, 3), 127))
    assert not exact_in_f32(d)
    assert ExactFloatOutput(lambda v: v is x).run(g) is False
    g, x, d = affine_dense(k=500, z_x=-128, w=np.full((500, 3), 127))  # 255·127·500 + 500 < 2^24
    assert exact_in_f32(d)


def test_only_after_the_models_own_quantizer_and_not_over_its_own_output():
    g, x, d = affine_dense()
    assert ExactFloatOutput(lambda v: False).run(g) is False  # a float model: int8 output is ours to choose
    assert ExactFloatOutput(lambda v: v is x or v is d.output).run(g) is False  # the model quantizes the output
