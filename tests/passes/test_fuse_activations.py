import pytest

from affine_steps import dense_graph, run_before

from hwc.compiler.passes.affine_params import Params
from hwc.compiler.passes.fuse_activations import FuseActivations

RANGES = {"x": (-1.0, 1.0), "h": (-9.0, 9.0), "y": (0.0, 5.0)}


@pytest.mark.parametrize("act, attrs, kind, out_range", [
    ("Relu", {}, "RELU", (0.0, 5.0)),
    ("Clip", {"min": 0.0, "max": 6.0}, "RELU6", (0.0, 5.0)),
    ("Clip", {"min": -1.0, "max": 1.0}, "RELU_N1_TO_1", (0.0, 5.0)),
    ("Clip", {"min": 0.0, "max": None}, "RELU", (0.0, 5.0)),
    ("Clip", {"min": 0.0, "max": 4.0}, "RELU", (0.0, 4.0)),  # Clip(0, c): RELU with the range [0, c]
])
def test_activation_becomes_the_layers_fused_activation(act, attrs, kind, out_range):
    g = dense_graph([[1.0]], act=act, **attrs)
    st, step = run_before(g, RANGES, FuseActivations)
    assert step.run(g)
    g.verify()
    d = g.nodes[0]
    assert [n.op for n in g.nodes] == ["Dense"] and g.outputs == [d.output]
    assert d.attrs["activation"] == kind and st.ranges[d.output] == out_range
    assert st.notes == (["a: Clip(0, 4) is RELU with the output range [0, 4] (int8 saturation clips at the top, "
                         "to within one step)"] if attrs.get("max") == 4.0 else [])
    assert not step.run(g)


def test_other_clips_and_carried_layers_stay():
    g = dense_graph([[1.0]], act="Clip", min=-2.0, max=2.0)
    st, step = run_before(g, RANGES, FuseActivations)
    assert not step.run(g)
    g = dense_graph([[1.0]], act="Relu")
    st, step = run_before(g, RANGES, FuseActivations)
    st.carried[g.nodes[0].output] = Params(0.5, 0)  # the model quantizes before its Relu
    assert not step.run(g)
    assert [n.op for n in g.nodes] == ["Dense", "Relu"]


def test_carried_activation_parameters_move_to_the_layer():
    g = dense_graph([[1.0]], act="Relu")
    st, step = run_before(g, RANGES, FuseActivations)
    st.carried[g.outputs[0]] = Params(0.25, -128)
    assert step.run(g)
    assert st.carried == {g.nodes[0].output: Params(0.25, -128)}
