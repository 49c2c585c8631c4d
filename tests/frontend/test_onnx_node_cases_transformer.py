"""ONNX's own operator test cases (onnx.backend.test.case, generated with their reference outputs) for
LayerNormalization, Gather, Slice, Split and Erf through the front end and the float simulator: every
case matches (rtol/atol 1e-5), except the zero-size ones, refused in one line. LayerNormalization's
training outputs (Mean, InvStdDev) are dropped from the cases: the front end refuses a model that reads them."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

from hwc.compiler.errors import HwcError
from hwc.compiler.frontend.onnx_loader import convert_model
from hwc.compiler.sim.run import simulate

OPS = ("LayerNormalization", "Gather", "Slice", "Split", "Erf")
ZERO_SIZE = {"test_slice_start_out_of_bounds", "test_split_zero_size_splits_opset13", "test_split_zero_size_splits_opset18"}


def _cases():
    from onnx.backend.test.case import node

    with warnings.catch_warnings():  # generating the other ops' cases warns (casts to inf and NaN)
        warnings.simplefilter("ignore", RuntimeWarning)
        every = node.collect_testcases("")
    out = []
    for tc in every:
        ops = {n.op_type for n in tc.model.graph.node}
        if len(ops) == 1 and ops <= set(OPS) and "expanded" not in tc.name:
            out.append(tc)
    return out


CASES = _cases()


def test_the_cases_cover_every_op():
    assert {tc.model.graph.node[0].op_type for tc in CASES} == set(OPS) and len(CASES) >= 45


@pytest.mark.parametrize("tc", CASES, ids=[tc.name for tc in CASES])
def test_case(tc):
    model = copy.deepcopy(tc.model)
    ins, outs = tc.data_sets[0]
    if model.graph.node[0].op_type == "LayerNormalization":
        del model.graph.node[0].output[1:]
        del model.graph.output[1:]
        outs = outs[:1]
    bind = {vi.name: a for vi, a in zip(model.graph.input, ins)}
    if tc.name in ZERO_SIZE:
        with pytest.raises(HwcError, match="zero-size"):
            convert_model(model, tc.name, bind)
        return
    graph = convert_model(model, tc.name, bind)
    graph.verify()
    got = simulate(graph, [bind[v.name] for v in graph.inputs])
    assert len(got) == len(outs)
    for a, b in zip(got, outs):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
