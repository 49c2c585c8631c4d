"""PruneChannels: coupled channels (residual Add, Concat offsets, Flatten blocks) shrink together,
and the pruned graph computes exactly what the unpruned one computes with those channels zeroed."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import HW_EXAMPLES
from hwc.compiler.analysis import layer_table
from hwc.compiler.channel_groups import all_groups, find_group
from hwc.compiler.compile import to_fixed
from hwc.compiler.frontend.onnx_loader import load_onnx
from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import F32, TensorType
from hwc.compiler.passes.prune_channels import CRITERIA, PruneChannels, remove_channels
from hwc.compiler.pipeline import optimize
from hwc.compiler.quant_config import QuantConfig
from hwc.compiler.sim.run import simulate

RNG = np.random.default_rng(4)
CONV = {"strides": [1, 1], "pads": [1, 1, 1, 1], "dilations": [1, 1]}


def residual_concat_graph() -> Graph:
    """x -> A -> relu --+--> B -> relu --> Add -> C -> relu --> Concat(Add, C) -> D -> GAP -> Flatten -> Dense
                        +---------------------^   (A and B are coupled by the Add)"""
    g = Graph("res")
    x = g.add_input("x", TensorType(F32, (None, 3, 8, 8)))

    def conv(inp, cin, cout, name):
        w = g.constant((RNG.standard_normal((cout, cin, 3, 3)) * 0.4).astype(np.float32), name + "_w")
        b = g.constant((RNG.standard_normal(cout) * 0.1).astype(np.float32), name + "_b")
        return g.add_node("Relu", [g.add_node("Conv", [inp, w, b], CONV, name=name).output], name=name + "_relu").output

    a = conv(x, 3, 8, "A")
    b = conv(a, 8, 8, "B")
    s = g.add_node("Add", [a, b], name="residual").output
    c = conv(s, 8, 6, "C")
    cat = g.add_node("Concat", [s, c], {"axis": 1}, name="cat").output
    d = conv(cat, 14, 4, "D")
    p = g.add_node("GlobalAveragePool", [d], name="gap").output
    f = g.add_node("Reshape", [p], {"shape": [None, 4]}, name="flatten").output
    w = g.constant(RNG.standard_normal((4, 3)).astype(np.float32), "fc_w")
    y = g.add_node("Dense", [f, w], name="fc").output
    g.set_outputs([y])
    g.verify()
    return g


def test_groups_of_the_residual_concat_graph():
    g = residual_concat_graph()
    groups = {gr.name: gr for gr in all_groups(g)}
    assert set(groups) == {"A+B", "C", "D", "fc"}
    ab = groups["A+B"]
    assert {n.name for n, _ in ab.sinks} == {"B", "C", "D"} and not ab.frozen
    assert {(n.name, m.offset) for n, m in groups["C"].sinks} == {("D", 8)}
    assert {n.name for n, _ in groups["D"].sinks} == {"fc"}
    assert "graph output" in groups["fc"].frozen


def test_pruned_equals_zeroed_exactly():
    """Compile to fixed point once; then (a) zero the chosen channels' kernels and biases, (b) remove
    them from the IR. Both simulate bit for bit the same: integer sums without the zero terms."""
    g = residual_concat_graph()
    calib = [RNG.uniform(-1, 1, (64, 3, 8, 8)).astype(np.float32)]
    fixed = to_fixed(g, QuantConfig(wbits=6, abits=10), calib).graph
    removed = {"A": np.array([1, 4, 6]), "C": np.array([0, 5]), "D": np.array([2])}
    zeroed, pruned = fixed.clone(), fixed.clone()
    for src, chans in removed.items():
        for n in zeroed.nodes:
            if n.name in (src, "B") if src == "A" else n.name == src:
                w, b = n.inputs[1], n.inputs[2]
                w2, b2 = w.const.copy(), b.const.copy()
                w2[chans], b2[chans] = 0, 0
                zeroed.set_input(n, 1, zeroed.constant(w2, w.name + "_z", elem=w.type.elem))
                zeroed.set_input(n, 2, zeroed.constant(b2, b.name + "_z", elem=b.type.elem))
        group = find_group(pruned, next(n for n in pruned.nodes if n.name == src))
        assert not group.frozen
        remove_channels(pruned, group, chans)
        pruned.verify()
    shapes = {n.name: n.output.type.shape for n in pruned.nodes if n.op == "Conv"}
    assert shapes == {"A": (None, 5, 8, 8), "B": (None, 5, 8, 8), "C": (None, 4, 8, 8), "D": (None, 3, 8, 8)}
    x = RNG.uniform(-1, 1, (200, 3, 8, 8)).astype(np.float32)
    np.testing.assert_array_equal(simulate(pruned, [x], mode="fixed")[0], simulate(zeroed, [x], mode="fixed")[0])


@pytest.mark.parametrize("criterion", CRITERIA)
@pytest.mark.parametrize("refit", [False, True])
def test_digits_cnn_half_the_channels_halves_the_macs(criterion, refit):
    d = np.load(HW_EXAMPLES / "digits_data" / "test_img.npz")
    cal = [np.load(HW_EXAMPLES / "digits_data" / "calib_img.npz")["x"]]
    g = load_onnx(HW_EXAMPLES / "digits_cnn" / "model.onnx")
    optimize(g)
    macs = sum(r["macs"] for r in layer_table(g))
    p = PruneChannels(0.5, ("Conv",), criterion, cal, refit)
    assert p.run(g)
    g.verify()
    after = sum(r["macs"] for r in layer_table(g))
    acc = (simulate(g, [d["x_test"]])[0].argmax(1) == d["y_test"]).mean()
    print(f"digits CNN, 50 % channels, {criterion}{' + refit' if refit else ''}: MACs {macs} -> {after}, accuracy {acc:.4f}")
    assert macs / after >= 2.0
    assert [r[1:3] for r in p.report] == [(8, 4), (16, 8)]
