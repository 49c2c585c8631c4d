import numpy as np

from affine_steps import dense_graph, run_before

from hwc.compiler.ir.types import AffineType, FloatType, IntType
from hwc.compiler.passes.affine_params import U8, Params
from hwc.compiler.passes.apply_affine_types import ApplyAffineTypes


def test_values_take_their_chosen_parameters_as_affine_types():
    g = dense_graph([[1.0, -0.5], [0.25, 2.0]])
    st, step = run_before(g, {"x": (-1.0, 1.0), "h": (0.0, 2.55)}, ApplyAffineTypes)
    d = next(n for n in g.nodes if n.op == "Dense")
    assert isinstance(d.output.type.elem, FloatType)  # the steps before chose parameters but kept float types
    assert step.run(g)
    g.verify()
    assert d.output.type.elem == AffineType(IntType(8), (np.float32(0.01),), (-128,), None)
    assert d.inputs[0].type.elem == st.params[d.inputs[0]].elem()
    assert isinstance(g.inputs[0].type.elem, FloatType) and isinstance(g.outputs[0].type.elem, FloatType)
    assert not step.run(g)  # typed already: no change


def test_uint8_storage_shifts_the_zero_point():
    g = dense_graph([[1.0]])
    st, step = run_before(g, {"x": (-1.0, 1.0), "h": (-1.0, 1.0)}, ApplyAffineTypes)
    d = next(n for n in g.nodes if n.op == "Dense")
    st.params[d.output], st.in_storage[d.output] = Params(0.5, -100), U8
    step.run(g)
    assert d.output.type.elem == AffineType(U8, (0.5,), (28,), None)
