"""Malformed option combinations and models the TFLite backend cannot take: one-line HwcErrors (exit 2 in the CLI)."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

import ai_edge_litert  # noqa: F401 (the [test] extra installs it: missing = a broken install, not a skip)

from conftest import F, HW_EXAMPLES, make_model  # noqa: E402
from tflite_models import compile_model, save  # noqa: E402

from hwc.compiler.errors import HwcError  # noqa: E402
from hwc.compiler.ir.graph import Graph  # noqa: E402
from hwc.compiler.ir.types import F32, TensorType  # noqa: E402

MLP = HW_EXAMPLES / "digits_mlp/model.onnx"
CALIB = str(HW_EXAMPLES / "digits_data/calib.npz") + ":x"


def _one_line(e: pytest.ExceptionInfo) -> str:
    text = e.value.line()
    assert "\n" not in text
    return text


@pytest.mark.parametrize("abits", [4, 12])
def test_abits_other_than_8_or_16(abits, tmp_path):
    with pytest.raises(HwcError) as e:
        compile_model(MLP, tmp_path / "out", calib=CALIB, abits=abits)
    assert f"--abits {abits}: TFLite activations are 8 bits, or 16 in its 16x8 mode" in _one_line(e)
    assert not (tmp_path / "out" / "model.tflite").exists()


@pytest.mark.parametrize("target, float_io", [("edgetpu", False), ("tflite", True)])
def test_16x8_is_int16_io_on_the_cpu(target, float_io, tmp_path):
    with pytest.raises(HwcError) as e:
        compile_model(MLP, tmp_path / "out", target=target, calib=CALIB, abits=16, float_io=float_io)
    assert "--abits 16 (TFLite's 16x8 mode) is built for --target tflite with int16 I/O" in _one_line(e)
    assert not (tmp_path / "out" / "model.tflite").exists()


@pytest.mark.parametrize("wbits, reason", [(1, "--wbits 1: TFLite int8 weights take 2..8 bits"),
                                           (9, "--wbits must be 1..8, got 9")])
def test_wbits_out_of_range(wbits, reason, tmp_path):
    with pytest.raises(HwcError) as e:
        compile_model(MLP, tmp_path / "out", calib=CALIB, wbits=wbits)
    assert reason in _one_line(e)


def test_dynamic_non_batch_dimension_in_onnx(tmp_path):
    m = make_model([helper.make_node("Relu", ["x"], ["y"])], [("x", F, ["N", "C"])], [("y", F, ["N", "C"])])
    with pytest.raises(HwcError) as e:
        compile_model(save(m, tmp_path / "m.onnx"), tmp_path / "out")
    assert "dynamic dimension other than the batch" in _one_line(e)


def test_dynamic_non_batch_dimension_in_ir(tmp_path):
    """A graph built in code (not through the ONNX loader, which refuses it first) is refused by the pass."""
    g = Graph("g")
    x = g.add_input("x", TensorType(F32, (None, None)))
    w = g.constant(np.ones((4, 3), np.float32), "w")
    d = g.add_node("Dense", [x, w], output_types=[TensorType(F32, (None, 3))])
    g.set_outputs([d.output])
    with pytest.raises(HwcError) as e:
        compile_model(MLP, tmp_path / "out", graph=g, input_range="-1,1")
    assert "has a dynamic dimension other than the batch" in _one_line(e)


def test_unsupported_ops_are_listed(tmp_path):
    nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["h"]), helper.make_node("Div", ["h", "h"], ["d"]),
             helper.make_node("Gemm", ["d", "w2", "b"], ["y"])]
    inits = [("w", np.ones((4, 4), np.float32)), ("b", np.zeros(4, np.float32)), ("w2", np.ones((4, 4), np.float32))]
    m = make_model(nodes, [("x", F, ["N", 4])], [("y", F, ["N", 4])], inits)
    with pytest.raises(HwcError) as e:
        compile_model(save(m, tmp_path / "m.onnx"), tmp_path / "out", input_range="0.5,1")
    assert "no TFLite int8 form for Div (d)" in _one_line(e)


def test_layout_that_needs_a_transpose(tmp_path):
    """A channels-last tensor reshaped for something other than a Dense would need a TRANSPOSE op."""
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Reshape", ["c", "shape"], ["y"])]
    inits = [("w", np.ones((2, 1, 3, 3), np.float32)), ("shape", np.array([-1, 2, 16], np.int64))]
    m = make_model(nodes, [("x", F, ["N", 1, 4, 4])], [("y", F, ["N", 2, 16])], inits)
    with pytest.raises(HwcError) as e:
        compile_model(save(m, tmp_path / "m.onnx"), tmp_path / "out", input_range="-1,1")
    assert "would need a TRANSPOSE op" in _one_line(e)


def test_bad_resolver():
    from hwc.compiler.options import VerifyOptions

    with pytest.raises(HwcError) as e:
        VerifyOptions(10, resolver="gpu")
    assert "--resolver must be one of ref, xnnpack, builtin or all" in _one_line(e)
