import numpy as np
import pytest

from affine_steps import dense_graph, run_before

from hwc.compiler.errors import HwcError
from hwc.compiler.passes.fold_batchnorm_into_scales import FoldBatchNormIntoScales


def _with_bn(act=None):
    g = dense_graph([[1.0, 2.0]], act=act)
    c = [g.constant(np.asarray(v, np.float32)) for v in ([2.0, 3.0], [0.5, -1.0], [1.0, 0.0], [3.0, 0.0])]
    bn = g.add_node("BatchNormalization", [g.outputs[0]] + c, {"epsilon": 1.0}, output_names=["z"])
    g.set_outputs([bn.output])
    return g


def test_batchnorm_after_a_layer_is_recorded_for_its_weights():
    """a = scale / sqrt(var + eps) = [1, 3], b = bias - a mean = [-0.5, -1]."""
    g = _with_bn()
    st, step = run_before(g, {"x": (-1.0, 1.0), "z": (-2.0, 7.0)}, FoldBatchNormIntoScales)
    d = g.nodes[0]
    assert step.run(g)
    g.verify()
    assert [n.op for n in g.nodes] == ["Dense"] and g.outputs == [d.output]
    a, b = st.bn_fold[d]
    np.testing.assert_array_equal(a, [1.0, 3.0])
    np.testing.assert_array_equal(b, [-0.5, -1.0])
    assert st.ranges[d.output] == (-2.0, 7.0)  # the BN's range is the layer's now
    assert not step.run(g)


def test_batchnorm_elsewhere_is_refused():
    g = _with_bn(act="Sigmoid")
    st, step = run_before(g, {"x": (-1.0, 1.0)}, FoldBatchNormIntoScales)
    with pytest.raises(HwcError, match=r"BatchNormalization must follow a Conv/Dense \(with constant statistics\)"):
        step.run(g)
