"""Accumulators never wrap: for every Dense/Conv of compiled models, inputs at the ends of the input
type's range chosen to maximise and to minimise each output's sum stay inside the accumulator type
(exact integer sums, computed independently here), and random all-extreme inputs through the whole
network do too. A capped accumulator is reported, and wraps exactly like the hardware (modulo)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import HW_EXAMPLES
from hwc.compiler.compile import compile_file
from hwc.compiler.ir.types import FixedType
from hwc.compiler.quant_config import QuantConfig
from hwc.compiler.sim.float_ops import _windows
from hwc.compiler.sim.run import simulate

MODELS = [("digits_mlp/model.onnx", "digits_data/calib.npz"), ("digits_cnn/model.onnx", "digits_data/calib_img.npz"),
          ("jet_mlp/model.onnx", "jet_mlp/calib.npz")]


def compiled(model, calib, **kw):
    x = np.load(HW_EXAMPLES / calib)["x"]
    return compile_file(HW_EXAMPLES / model, QuantConfig(**kw), [x])


def exact_acc(node, x_m):
    """Σ x·w (+ bias) with Python ints, at the product fraction, after per-channel shifts."""
    w = node.inputs[1].const.astype(object)
    ws = node.attrs.get("weight_shift")
    if node.op == "Dense":
        acc = x_m.astype(object) @ w
        if ws:
            acc = acc * np.array([1 << s for s in ws], dtype=object)
    else:
        a = node.attrs
        win = _windows(x_m.astype(object), w.shape[2:], a["strides"], a["dilations"], a["pads"], 0)
        acc = np.einsum("nc...k,mck->nm...", win.reshape(win.shape[:-2] + (-1,)) if w.ndim == 4 else win,
                        w.reshape(w.shape[0], w.shape[1], -1) if w.ndim == 4 else w, optimize=False)
        if ws:
            acc = acc * np.array([1 << s for s in ws], dtype=object).reshape((-1,) + (1,) * (acc.ndim - 2))
    b = node.input(2)
    if b is not None:
        f_acc = node.inputs[0].type.elem.frac_bits + node.inputs[1].type.elem.frac_bits
        bm = b.const.astype(object) * (1 << (f_acc - b.type.elem.frac_bits))
        acc = acc + (bm if node.op == "Dense" else bm.reshape((-1,) + (1,) * (acc.ndim - 2)))
    return acc


def worst_case_inputs(node):
    """Per output channel and sign, an input that drives one output's sum to its extreme: every tap
    at the range end matching its weight's sign (for Conv: the window of an interior output pixel)."""
    t: FixedType = node.inputs[0].type.elem
    lo, hi = t.min_mantissa, t.max_mantissa
    w = node.inputs[1].const
    shape = tuple(node.inputs[0].type.shape[1:])
    xs = []
    for sign in (1, -1):
        if node.op == "Dense":
            for j in range(w.shape[1]):
                xs.append(np.where(sign * w[:, j] > 0, hi, lo))
            continue
        a = node.attrs
        nd = w.ndim - 2
        out_spatial = node.output.type.shape[2:]
        centre = [o // 2 for o in out_spatial]
        for m in range(w.shape[0]):
            x = np.full(shape, lo if sign > 0 else hi, np.int64)
            g = m // (w.shape[0] // a["group"])
            for c in range(w.shape[1]):
                for k in np.ndindex(*w.shape[2:]):
                    pos = [centre[i] * a["strides"][i] - a["pads"][i] + k[i] * a["dilations"][i] for i in range(nd)]
                    if all(0 <= p < shape[1 + i] for i, p in enumerate(pos)):
                        x[(g * w.shape[1] + c, *pos)] = hi if sign * w[(m, c, *k)] > 0 else lo
            xs.append(x)
    return np.stack(xs).astype(np.int64)


def test_worst_case_detects_a_too_narrow_accumulator():
    """The check above can fail: with a 12-bit cap the worst-case sums leave the accumulator."""
    c = compiled("digits_mlp/model.onnx", "digits_data/calib.npz", wbits=8, abits=16, accum_cap=12)
    node = next(n for n in c.graph.nodes if n.op == "Dense")
    acc_t = node.attrs["accum"]
    acc = exact_acc(node, worst_case_inputs(node))
    assert int(acc.max()) > acc_t.max_mantissa or int(acc.min()) < acc_t.min_mantissa


@pytest.mark.parametrize("model,calib", MODELS)
@pytest.mark.parametrize("wbits,abits", [(8, 16), (4, 8), (2, 4)])
def test_layer_worst_case_fits_accumulator(model, calib, wbits, abits):
    c = compiled(model, calib, wbits=wbits, abits=abits)
    checked = 0
    for node in c.graph.nodes:
        if node.op not in ("Dense", "Conv"):
            continue
        acc_t: FixedType = node.attrs["accum"]
        acc = exact_acc(node, worst_case_inputs(node))
        assert int(acc.min()) >= acc_t.min_mantissa and int(acc.max()) <= acc_t.max_mantissa, (node.name, acc_t)
        checked += acc.size
    print(f"{model} w{wbits}a{abits}: {checked} worst-case sums inside their accumulators")


@pytest.mark.parametrize("model,calib", MODELS)
def test_extreme_inputs_through_the_network(model, calib):
    c = compiled(model, calib, wbits=4, abits=8)
    t = c.graph.nodes[0].output.type.elem
    rng = np.random.default_rng(0)
    shape = (300,) + tuple(c.graph.inputs[0].type.shape[1:])
    x = np.where(rng.random(shape) < 0.5, t.min, t.max).astype(np.float32)
    _, kept = simulate(c.graph, [x], mode="fixed", keep=lambda n: True)
    for node in c.graph.nodes:
        if node.op in ("Dense", "Conv"):
            acc = exact_acc(node, kept[node.inputs[0].name])
            a = node.attrs["accum"]
            assert a.min_mantissa <= int(acc.min()) and int(acc.max()) <= a.max_mantissa, node.name


def test_capped_accumulator_wraps_and_is_reported():
    c = compiled("digits_mlp/model.onnx", "digits_data/calib.npz", wbits=8, abits=16, accum_cap=12)
    assert any("capped at 12 bits" in n for n in c.notes)
    node = next(n for n in c.graph.nodes if n.op == "Dense")
    assert node.attrs["accum"].width == 12
    x = np.load(HW_EXAMPLES / "digits_data/test.npz")["x_test"]
    _, kept = simulate(c.graph, [x], mode="fixed", keep=lambda n: True)
    acc = exact_acc(node, kept[node.inputs[0].name])
    wrapped = ((acc.astype(np.int64) + 2 ** 11) % 2 ** 12) - 2 ** 11
    f = node.attrs["accum"].frac_bits
    from hwc.compiler.sim.fixed import cast
    np.testing.assert_array_equal(kept[node.output.name], cast(wrapped, f, node.output.type.elem))
