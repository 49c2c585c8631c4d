import numpy as np
import pytest

from affine_steps import dense_graph, run_before

from hwc.compiler.errors import HwcError
from hwc.compiler.passes.affine_params import Params, choose_params
from hwc.compiler.passes.assign_affine_params import AssignAffineParams, max_multiplier


def test_free_ops_choose_from_their_range_fixed_ops_have_theirs():
    g = dense_graph([[1.0, -0.5], [0.25, 2.0]], act="Sigmoid")
    st, step = run_before(g, {"x": (-1.0, 1.0), "h": (-3.0, 3.0), "y": (0.0, 1.0)}, AssignAffineParams)
    d, s = g.toposort()
    assert not step.run(g)  # parameters only: no Cast, no fused RELU
    assert st.params[g.inputs[0]] == choose_params(-1.0, 1.0)
    assert st.params[d.output] == choose_params(-3.0, 3.0)
    assert st.params[s.output] == Params(np.float32(1 / 256), -128)
    assert st.ranged == {g.inputs[0], d.output}


def test_output_scale_widens_below_multiplier_256():
    """s_in s_w / s_out = (2/255)(100/127) / (2e-3/255) ≈ 787: widened to s_out m / 255, a note says so."""
    g = dense_graph([[100.0]])
    st, step = run_before(g, {"x": (-1.0, 1.0), "h": (-1e-3, 1e-3)}, AssignAffineParams)
    step.run(g)
    d = g.nodes[0]
    p = st.params[d.output]
    assert 254.0 < max_multiplier(d, st.params, p) < 255.0
    assert st.notes == [f"d: output scale widened to {p.scale:.4g} (multiplier below 256)"]


def test_carried_output_that_needs_a_large_multiplier_is_refused():
    g = dense_graph([[100.0]])
    st, step = run_before(g, {"x": (-1.0, 1.0)}, AssignAffineParams)
    st.carried[g.nodes[0].output] = Params(1e-5, 0)
    with pytest.raises(HwcError, match=r"the requantization multiplier 617.6 is >= 256"):
        step.run(g)


def test_fixed_output_with_other_carried_parameters_gets_a_requantizing_cast():
    g = dense_graph([[1.0]], act="Sigmoid")
    st, step = run_before(g, {"x": (-1.0, 1.0), "h": (-1.0, 1.0), "y": (0.0, 1.0)}, AssignAffineParams)
    tr = next(n for n in g.nodes if n.op == "Sigmoid")
    st.carried[tr.output] = Params(0.25, -128)
    assert step.run(g)
    g.verify()
    cast = g.outputs[0].producer
    assert cast.op == "Cast" and cast.inputs == [tr.output] and st.params[cast.output] == Params(0.25, -128)
    assert st.params[tr.output] == Params(np.float32(1 / 256), -128)
