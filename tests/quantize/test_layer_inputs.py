"""im2col: the input matrices times the weight matrix are the layer's output (float simulator)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, TensorType
from hwc.compiler.quantize.grid import as_matrix
from hwc.compiler.quantize.layer_inputs import group_columns, input_matrices
from hwc.compiler.sim.run import simulate


@pytest.mark.parametrize("group,strides,dilations,pads", [(1, [1, 1], [1, 1], [1, 1, 1, 1]),
                                                          (2, [2, 1], [1, 2], [0, 1, 2, 0]),
                                                          (4, [1, 2], [2, 1], [1, 0, 0, 1])])
def test_conv_as_matrices(group, strides, dilations, pads):
    rng = np.random.default_rng(0)
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 4, 7, 6)))
    w = rng.normal(size=(8, 4 // group, 3, 2)).astype(np.float32)
    n = g.add_node("Conv", [x, g.constant(w, "w")], {"strides": strides, "dilations": dilations, "pads": pads,
                                                      "group": group})
    g.set_outputs([n.output])
    g.verify()
    data = rng.normal(size=(3, 4, 7, 6)).astype(np.float32)
    y = simulate(g, [data])[0]  # [N, O, H, W]
    wm = as_matrix(w.astype(np.float64), "Conv")
    for cols, xm in zip(group_columns(n, 8), input_matrices(n, data.astype(np.float64))):
        out = xm @ wm[:, cols]  # [N·L, O_g]
        want = np.moveaxis(y[:, cols], 1, -1).reshape(-1, cols.stop - cols.start)
        assert_allclose(out, want, rtol=1e-5, atol=1e-5)
