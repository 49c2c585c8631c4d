"""A point's `hwc compile` flags parse back, through hwc compile's own parser, to exactly its options."""

from __future__ import annotations

from hwc.compiler.cli import build_parser
from hwc.compiler.sweep.compile_point import compile_options
from hwc.compiler.sweep.grid import grid
from hwc.compiler.sweep.space import axes_and_fixed, compile_flags, point_layers, point_options


def test_flags_round_trip_through_the_compile_parser():
    args = build_parser().parse_args(["sweep", "m.onnx", "--target", "xilinx", "--wbits", "2,4", "--abits", "6",
                                      "--prune", "0:0.5:0.25", "--io", "parallel,stream", "--input-range=-1,1",
                                      "--per-channel", "--layer", "fc1.prune=0.1,0.2", "-o", "s"])
    axes, fixed = axes_and_fixed(args)
    assert [a.name for a in axes] == ["wbits", "prune", "io", "layer fc1.prune"]
    points = grid(axes)
    assert len(points) == 2 * 3 * 2 * 2
    for point in points:
        options = point_options(point, fixed)
        flags = list(compile_flags(options))
        ns = build_parser().parse_args(["compile", "m.onnx", "--target", "xilinx", "-o", "out", *flags])
        assert {k: getattr(ns, k) for k in options} == options
        assert ns.abits == 6 and ns.input_range == "-1,1" and ns.per_channel is True
        typed = compile_options("xilinx", flags)  # what hwc compile makes of them
        assert (typed.quant.wbits, typed.prune.fraction, typed.hls.io) == (point["wbits"], point["prune"], point["io"])
        assert point_layers(point, {"fc1": {"per_channel": True}}) == {
            "fc1": {"per_channel": True, "prune": point["layer fc1.prune"]}}
