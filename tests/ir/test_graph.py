"""Graph IR invariants: use lists follow every mutation, verify() catches broken graphs."""

from __future__ import annotations

import numpy as np
import pytest

from hwc.compiler.ir.errors import IRError
from hwc.compiler.ir.graph import Graph, Use, stable_toposort
from hwc.compiler.ir.printer import format_graph
from hwc.compiler.ir.types import F32, TensorType


def small_graph():
    g = Graph("t")
    x = g.add_input("x", TensorType(F32, (None, 4)))
    w = g.constant(np.ones((4, 3), np.float32), "w")
    d = g.add_node("Dense", [x, w], name="fc")
    r = g.add_node("Relu", [d.output], name="act")
    g.set_outputs([r.output])
    return g, x, w, d, r


def test_uses_and_producers():
    g, x, w, d, r = small_graph()
    g.verify()
    assert d.output.producer is d and x.uses == [Use(d, 0)] and w.uses == [Use(d, 1)]
    assert d.output.uses == [Use(r, 0)]
    assert r.output.type == TensorType(F32, (None, 3))


def test_replace_all_uses_and_remove():
    g, x, w, d, r = small_graph()
    s = g.add_node("Sigmoid", [d.output], name="sig")
    g.replace_all_uses(r.output, s.output)
    assert g.outputs == [s.output]
    g.remove_node(r)
    g.verify()
    assert d.output.uses == [Use(s, 0)]
    with pytest.raises(IRError, match="still used"):
        g.remove_node(d)


def test_verify_catches_a_dangling_use():
    g, x, w, d, r = small_graph()
    d.output.uses.clear()  # corrupt on purpose, bypassing the Graph methods
    with pytest.raises(IRError, match="does not list this use"):
        g.verify()


def test_verify_catches_shape_mismatch():
    g, x, w, d, r = small_graph()
    r.output.type = TensorType(F32, (None, 5))
    with pytest.raises(IRError, match="inferred"):
        g.verify()


def test_cycle_is_reported_with_its_nodes():
    g, x, w, d, r = small_graph()
    g.set_input(d, 0, r.output)  # fc now reads act's output: a cycle
    with pytest.raises(IRError, match="cycle through"):
        g.toposort()


def test_unknown_attribute_and_missing_required():
    g = Graph()
    x = g.add_input("x", TensorType(F32, (None, 4)))
    with pytest.raises(IRError, match="unknown attributes"):
        g.add_node("Relu", [x], {"alpha": 1.0})
    with pytest.raises(IRError, match="missing attribute perm"):
        g.add_node("Transpose", [x])


def test_toposort_is_stable_and_clone_is_independent():
    g, x, w, d, r = small_graph()
    g.nodes.reverse()
    assert [n.name for n in g.toposort()] == ["fc", "act"]
    text = format_graph(g)
    c = g.clone()
    c.verify()
    assert format_graph(c) == text
    relu = next(n for n in c.nodes if n.op == "Relu")
    c.replace_all_uses(relu.output, relu.inputs[0])
    c.remove_node(relu)
    c.verify()
    assert [n.op for n in c.nodes] == ["Dense"]
    g.verify()
    assert format_graph(g) == text and g.outputs[0] is r.output  # the original is untouched


def test_printer_is_deterministic():
    a, *_ = small_graph()
    b, *_ = small_graph()
    assert format_graph(a) == format_graph(b)
    assert "= Dense(%x, @w:f32[4x3])" in format_graph(a)


def test_stable_toposort_matches_networkx_lexicographical_order():
    """The smallest ready index first, as networkx's lexicographical_topological_sort; None on a cycle."""
    import networkx as nx

    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(1, 30))
        edges = [(int(a), int(b)) for a, b in rng.integers(0, n, (2 * n, 2)) if a < b]
        perm = rng.permutation(n)  # relabel so that edges do not follow the index order
        edges = [(int(perm[a]), int(perm[b])) for a, b in edges]
        g = nx.DiGraph()
        g.add_nodes_from(range(n))
        g.add_edges_from(edges)
        assert stable_toposort(n, edges + edges[:3]) == list(nx.lexicographical_topological_sort(g))
    assert stable_toposort(3, [(0, 1), (1, 2), (2, 1)]) is None
