"""BOPs and parameter bits of a compiled graph: MACs after zero-skipping × weight bits × input bits."""

from __future__ import annotations

import numpy as np
from onnx import helper

from conftest import F, make_model, save

from hwc.compiler.compile_model import load_onnx_model
from hwc.compiler.compile import to_fixed
from hwc.compiler.quant_config import QuantConfig
from hwc.compiler.sweep.cost import cost_figures


def test_dense_bops_count_nonzero_weights(tmp_path):
    w = np.array([[0.5, -0.25, 0.0], [0.75, 0.5, -0.5], [0.25, 0.0, 0.125], [-1.0, 0.5, 0.25]], np.float32)
    node = helper.make_node("MatMul", ["x", "w"], ["y"], name="fc")
    path = save(make_model([node], [("x", F, [1, 4])], [("y", F, [1, 3])], [("w", w)]), tmp_path / "m.onnx")
    graph = to_fixed(load_onnx_model(path), QuantConfig(wbits=4, abits=6, input_bits=5, input_range=(-1, 1))).graph
    graph.verify()
    nonzero = 10  # two of the twelve weights are zero, and 4 bits keep the others nonzero
    assert cost_figures(graph) == {"bops": nonzero * 4 * 5, "param_bits": nonzero * 4, "macs": nonzero}


def test_target_figures_from_the_manifest(tmp_path):
    from hwc.compiler.sweep.cost import target_figures

    assert target_figures(tmp_path) == {}
    (tmp_path / "hwc.json").write_text('{"target": "xilinx", "figures": {"schema": "hwc-figures/1", "total": ['
                                       '{"name": "lut", "value": 1200, "unit": "LUT", "source": "estimated"}, '
                                       '{"name": "lut", "value": 1100, "unit": "LUT", "source": "measured"}, '
                                       '{"name": "latency", "value": 42, "unit": "cycles", "source": "estimated"}]}}')
    assert target_figures(tmp_path) == {"lut": 1200, "lut_measured": 1100, "latency": 42}
