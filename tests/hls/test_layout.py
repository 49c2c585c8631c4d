"""hwc::concat_slice / copy / gather (templates/hls/hwc_layout.h) bit-exact against fixed_ops Concat
(each input cast to the output type), Reshape (with a cast), Transpose, Pad (constant, edge, reflect)
and Resize (nearest): the index maps are computed here as the generator would, by running the
simulator's own op on a tensor of positions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hls_harness import VENDORS, Case, Config, fx, mantissas, one_node_graph, run_cases, values
from hwc.compiler.sim import float_ops

N = 1000


def concat_case(name, seed, parts, axis, out_t, n=N) -> Case:
    """parts: [(shape without batch, FixedType)]; axis counts the batch axis (ONNX)."""
    rng = np.random.default_rng(seed)
    graph = one_node_graph("Concat", parts, [], {"axis": axis}, out_t)
    out_shape = graph.outputs[0].type.shape[1:]
    ax = axis % (len(out_shape) + 1) - 1  # axis within one sample
    outer, inner = math.prod(out_shape[:ax]), math.prod(out_shape[ax + 1:])
    cfgs, calls, offset = [], [], 0
    for k, (shape, _) in enumerate(parts):
        cfg = Config(f"config{k}").ints(n_outer=outer, n_inner=inner, axis_in=shape[ax], axis_out=out_shape[ax],
                                        offset=offset)
        offset += shape[ax]
        cfgs.append(cfg)
        calls.append(f"hwc::concat_slice<in{k}_t, out_t, config{k}>(x{k}, y);")
    inputs = [values(mantissas(t, s, n, rng), t) for s, t in parts]
    return Case(name, graph, inputs, [t for _, t in parts], out_t, math.prod(out_shape), lambda v: "", "\n".join(calls),
                configs=cfgs, note=f"{len(parts)} inputs, axis {axis}")


def gather_case(name, seed, op, shape, x_t, out_t, attrs, index_fn, pad_value=0.0, kernel="gather", n=N) -> Case:
    """index_fn(node, positions [1, *shape]) -> source position of every output element (-1: pad value)."""
    rng = np.random.default_rng(seed)
    graph = one_node_graph(op, [(shape, x_t)], [], attrs, out_t)
    pos = np.arange(math.prod(shape), dtype=np.int64).reshape((1,) + tuple(shape))
    index = np.asarray(index_fn(graph.nodes[1], pos)).ravel()
    cfg = Config("config").ints(n_in=math.prod(shape), n_out=index.size).double(pad_value=pad_value)
    cfg.index_array("index", index, "int")
    x = values(mantissas(x_t, shape, n, rng), x_t)
    return Case(name, graph, [x], [x_t], out_t, index.size, lambda v: "", f"hwc::{kernel}<in0_t, out_t, config>(x0, y);",
                configs=[cfg], note=f"{op} {attrs}")


def _pad_index(node, pos):
    a = node.attrs
    r = pos.ndim
    width = [(a["pads"][i], a["pads"][r + i]) for i in range(r)]
    if a["mode"] == "constant":
        return np.pad(pos, width, mode="constant", constant_values=-1)
    return np.pad(pos, width, mode=a["mode"])


X = fx(8, 3)
PADS = [0, 1, 0, 2, 0, 0, 2, 1]  # begins (N, C, H, W), ends

CASES = [
    concat_case("concat3_axis1", 1, [((2, 3), X), ((1, 3), fx(6, 1, False)), ((4, 3), fx(10, 5))], 1,
                fx(8, 3, q="RND", o="SAT")),
    concat_case("concat2_last_axis", 2, [((2, 2, 3), fx(9, 2)), ((2, 2, 1), fx(7, 4))], -1, fx(10, 3, q="RND_CONV", o="SAT")),
    gather_case("pad_constant", 3, "Pad", (2, 3, 4), X, X, {"pads": PADS, "mode": "constant", "value": 0.625},
                _pad_index, pad_value=0.625),
    gather_case("pad_edge", 4, "Pad", (2, 3, 4), X, X, {"pads": PADS, "mode": "edge"}, _pad_index),
    gather_case("pad_reflect_cast", 5, "Pad", (2, 3, 4), X, fx(6, 2, q="RND", o="SAT"), {"pads": PADS, "mode": "reflect"},
                _pad_index),
    gather_case("transpose", 6, "Transpose", (2, 3, 4), X, X, {"perm": [0, 2, 3, 1]},
                lambda node, pos: np.transpose(pos, node.attrs["perm"])),
    gather_case("transpose_cast", 7, "Transpose", (3, 5), fx(12, 4), fx(8, 3, q="RND_CONV", o="SAT"), {"perm": [0, 2, 1]},
                lambda node, pos: np.transpose(pos, node.attrs["perm"])),
    gather_case("resize_nearest_x2", 8, "Resize", (2, 3, 4), X, X,
                {"scales": [1.0, 1.0, 2.0, 2.0], "shape": [None, 2, 6, 8], "coordinate_transformation_mode": "asymmetric",
                 "nearest_mode": "floor"}, float_ops.resize),
    gather_case("resize_half_pixel", 9, "Resize", (2, 3, 4), X, X,
                {"scales": [1.0, 1.0, 4 / 3, 1.5], "shape": [None, 2, 4, 6]}, float_ops.resize),
    gather_case("reshape_cast", 10, "Reshape", (2, 3, 4), X, fx(5, 1, q="RND_INF", o="SAT_SYM"), {"shape": [None, 6, 4]},
                lambda node, pos: pos, kernel="copy"),
]


@pytest.fixture(scope="module")
def results():
    return run_cases("layout", CASES, ["hwc_layout.h"])


@pytest.mark.parametrize("vendor", VENDORS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_layout(results, case, vendor):
    assert results.check(case, vendor) >= 1000
