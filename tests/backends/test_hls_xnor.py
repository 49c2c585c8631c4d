"""XNOR-popcount Dense and Conv (templates/hls/hwc_xnor.h): layers whose inputs are bipolar (±1 from a
Bipolar activation) and whose weights are binary use it automatically; with 40 and 36 inputs (two sign
words, the last partly used), and Convs of 36 and 72 window values, the C simulation equals the simulator
bit for bit, for xilinx and intel. The first layer (8-bit inputs) and a padded Conv (padding is 0, not
±1) keep the ordinary kernels."""

from __future__ import annotations

import re

import numpy as np
import pytest
from onnx import helper

from conftest import F, make_model, save
from test_hls_verify import assert_exact, compile_and_verify

DOM = "qonnx.custom_op.general"


def binarised_mlp(sizes):
    """8-bit input, then binary weights (±2^-3; a BipolarQuant per layer) with bipolar activations between."""
    rng = np.random.default_rng(23)
    nodes = [helper.make_node("Quant", ["x", "s_in", "zero", "bits8"], ["xq"], domain=DOM, signed=1, narrow=0,
                              rounding_mode="ROUND")]
    inits = [("s_in", np.float32(2.0 ** -4)), ("zero", np.float32(0)), ("bits8", np.float32(8)),
             ("s_w", np.float32(0.125)), ("one", np.float32(1))]
    h = "xq"
    for i, (k, m) in enumerate(zip(sizes, sizes[1:])):
        w = rng.standard_normal((k, m)).astype(np.float32)
        inits += [(f"w{i}", w), (f"b{i}", (rng.standard_normal(m) * 0.5).astype(np.float32))]
        nodes += [helper.make_node("BipolarQuant", [f"w{i}", "s_w"], [f"wq{i}"], domain=DOM),
                  helper.make_node("MatMul", [h, f"wq{i}"], [f"mm{i}"]), helper.make_node("Add", [f"mm{i}", f"b{i}"], [f"d{i}"])]
        h = f"d{i}"
        if i < len(sizes) - 2:
            nodes.append(helper.make_node("BipolarQuant", [h, "one"], [f"a{i}"], domain=DOM))
            h = f"a{i}"
    nodes.append(helper.make_node("Identity", [h], ["y"]))
    return make_model(nodes, [("x", F, [1, sizes[0]])], [("y", F, [1, sizes[-1]])], inits, extra_opsets=[(DOM, 1)])


def _kernels(out, family="dense"):
    """The kernels of `family` the layer functions (firmware/layers/part*.cpp) call, in layer order."""
    code = "".join(p.read_text() for p in (out / "firmware" / "layers").glob("*.cpp"))
    calls = re.findall(rf"^void layer(\d+)\(.*\{{\n    HWC_INLINE\n    hwc::({family}\w*)<", code, flags=re.M)
    return [k for _, k in sorted(calls, key=lambda c: int(c[0]))]


@pytest.mark.parametrize("target", ["xilinx", "intel"])
def test_bipolar_layers_use_xnor_popcount_bit_exact(tmp_path, target):
    path = save(binarised_mlp([16, 40, 36, 4]), tmp_path / "bnn.onnx")
    out = tmp_path / "prj"
    assert_exact(compile_and_verify(path, out, "--target", target, "--input-range=-8,8", samples=300), samples=300)
    assert _kernels(out) == ["dense", "dense_xnor", "dense_xnor"]



def binarised_cnn():
    """8-bit [1, 4, 8, 8] input; Conv 4->4 3x3 pad 1 (8-bit inputs); Bipolar; Conv 4->8 3x3 no pad; Bipolar;
    Conv 8->6 3x3 pad 1 (bipolar inputs but padded); Bipolar; Conv 6->8 1x3 no pad; binary weights ±2^-3."""
    rng = np.random.default_rng(29)
    nodes = [helper.make_node("Quant", ["x", "s_in", "zero", "bits8"], ["xq"], domain=DOM, signed=1, narrow=0,
                              rounding_mode="ROUND")]
    inits = [("s_in", np.float32(2.0 ** -4)), ("zero", np.float32(0)), ("bits8", np.float32(8)),
             ("s_w", np.float32(0.125)), ("one", np.float32(1))]
    h = "xq"
    layers = [(4, 4, (3, 3), 1), (4, 8, (3, 3), 0), (8, 6, (3, 3), 1), (6, 8, (1, 3), 0)]
    for i, (c, m, ks, pad) in enumerate(layers):
        inits += [(f"w{i}", rng.standard_normal((m, c, *ks)).astype(np.float32)),
                  (f"b{i}", (rng.standard_normal(m) * 0.5).astype(np.float32))]
        nodes += [helper.make_node("BipolarQuant", [f"w{i}", "s_w"], [f"wq{i}"], domain=DOM),
                  helper.make_node("Conv", [h, f"wq{i}", f"b{i}"], [f"c{i}"], pads=[pad] * 4)]
        h = f"c{i}"
        if i < len(layers) - 1:
            nodes.append(helper.make_node("BipolarQuant", [h, "one"], [f"a{i}"], domain=DOM))
            h = f"a{i}"
    nodes.append(helper.make_node("Identity", [h], ["y"]))
    return make_model(nodes, [("x", F, [1, 4, 8, 8])], [("y", F, [1, 8, 6, 4])], inits, extra_opsets=[(DOM, 1)])


def test_bipolar_convs_use_xnor_popcount_bit_exact(tmp_path):
    path = save(binarised_cnn(), tmp_path / "bcnn.onnx")
    out = tmp_path / "prj"
    assert_exact(compile_and_verify(path, out, "--target", "xilinx", "--input-range=-8,8", samples=200), samples=200)
    assert _kernels(out, "conv2d") == ["conv2d", "conv2d_xnor", "conv2d", "conv2d_xnor"]
