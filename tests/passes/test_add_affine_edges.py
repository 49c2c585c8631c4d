from affine_steps import dense_graph, run_before

from hwc.compiler.ir.types import FloatType, IntType
from hwc.compiler.passes.add_affine_edges import AddAffineEdges


def test_float_edges_get_from_float_and_to_float_and_keep_the_output_name():
    g = dense_graph([[1.0, -0.5], [0.25, 2.0]])
    st, step = run_before(g, {"x": (-1.0, 1.0), "h": (0.0, 2.55)}, AddAffineEdges)
    x, p_x = g.inputs[0], st.params[g.inputs[0]]
    d = next(n for n in g.nodes if n.op == "Dense")
    assert step.run(g)
    g.verify()
    assert [n.op for n in g.toposort()] == ["FromFloat", "Dense", "ToFloat"]
    q = d.inputs[0]
    assert q.producer.op == "FromFloat" and q.producer.inputs == [x] and q.name == "x_q"
    assert q.type.elem == IntType(8) and st.params[q] == p_x and x not in st.params
    assert g.outputs[0].name == "h" and d.output.name == "h_q"
    assert g.outputs[0].producer.op == "ToFloat" and g.outputs[0].type.elem == FloatType(32)
