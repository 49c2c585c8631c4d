import numpy as np

from affine_steps import dense_graph, run_before

from hwc.compiler.ir.types import AffineType, IntType
from hwc.compiler.passes.quantize_affine_biases import QuantizeAffineBiases


def test_bias_is_int32_at_input_times_weight_scale():
    g = dense_graph([[1.0, -0.5], [0.25, 2.0]], np.float32([0.3, -1e9]))
    st, step = run_before(g, {"x": (-1.0, 1.0), "h": (-4.0, 4.0)}, QuantizeAffineBiases)
    d = g.nodes[0]
    s_in = np.float64(np.float32(st.params[g.inputs[0]].scale))
    sb = s_in * np.asarray(d.inputs[1].type.elem.scale, np.float32).astype(np.float64)
    assert step.run(g)
    g.verify()
    b = d.inputs[2]
    assert b.type.elem == AffineType(IntType(32), tuple(sb), (0, 0), 0)
    np.testing.assert_array_equal(b.const, [np.rint(0.3 / sb[0]), -(2**31)])  # the second saturates int32
    assert st.notes == ["d: bias saturates int32"]
    assert not step.run(g)  # an int32 bias stays
