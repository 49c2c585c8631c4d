"""Layers as functions in firmware/layers/partN.cpp (backends/hls_units.py): the grouping is
deterministic and balanced, every part is listed in the vendor's build files and the manifest, each
layer function is defined once, declared in hwc_layers.h and called once from the top function, and
a project of several parts verifies bit-exact on both vendors and both interfaces."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from conftest import F, hwc, make_model, save
from hwc.backends import hls_units
from hwc.backends.hls_text import Layer
from hwc.backends.hls_units import MAX_PARTS, group_layers, layer_cost
from hwc.compiler.cli import main
from onnx import helper


def _layers(chars: list[int]) -> list[Layer]:
    return [Layer(k, None, arrays=["x" * n]) for k, n in enumerate(chars, start=1)]


def test_grouping_is_longest_first_onto_the_cheapest_part():
    layers = _layers([2_000_000, 0, 0, 500_000, 1_500_000, 0])
    assert [layer_cost(ly) for ly in layers] == [21.0, 1.0, 1.0, 6.0, 16.0, 1.0]
    parts = group_layers(layers)  # 46 units over 20 a part: 3 parts
    assert [[ly.index for ly in p.layers] for p in parts] == [[1], [5], [2, 3, 4, 6]]
    assert [p.path for p in parts] == [f"firmware/layers/part{i}.cpp" for i in (1, 2, 3)]
    assert [p.cost for p in parts] == [21.0, 16.0, 9.0]


def test_a_small_model_is_one_part_and_a_huge_one_at_most_max_parts():
    assert [[ly.index for ly in p.layers] for p in group_layers(_layers([1000] * 7))] == [list(range(1, 8))]
    parts = group_layers(_layers([3_000_000] * 40))
    assert len(parts) == MAX_PARTS and sorted(len(p.layers) for p in parts) == [5] * MAX_PARTS


def _residual_mlp(path):
    """x → Dense → ReLU = y; y + Dense(y) + a constant vector: a value read by two layers, a layer
    reading two values and one constant operand."""
    rng = np.random.default_rng(3)
    w1, w2 = rng.uniform(-1, 1, (12, 16)).astype(np.float32), rng.uniform(-1, 1, (16, 16)).astype(np.float32)
    b1, c = rng.uniform(-1, 1, 16).astype(np.float32), rng.uniform(-1, 1, 16).astype(np.float32)
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"]), helper.make_node("Relu", ["h"], ["y"]),
             helper.make_node("MatMul", ["y", "w2"], ["t"]), helper.make_node("Add", ["y", "t"], ["s"]),
             helper.make_node("Add", ["s", "c"], ["out"])]
    return save(make_model(nodes, [("x", F, ["N", 12])], [("out", F, ["N", 16])],
                           [("w1", w1), ("b1", b1), ("w2", w2), ("c", c)]), path)


@pytest.mark.parametrize("target,io", [("xilinx", "parallel"), ("intel", "stream")])
def test_a_project_of_several_parts_is_consistent_and_bit_exact(tmp_path, monkeypatch, target, io):
    model, out = _residual_mlp(tmp_path / "m.onnx"), tmp_path / "prj"
    monkeypatch.setattr(hls_units, "PART_COST", 1.5)  # about one layer a part
    assert main(["compile", str(model), "--target", target, "--io", io, "--input-range=-2,2", "-o", str(out)]) == 0
    manifest = json.loads((out / "hwc.json").read_text())
    parts = sorted(f for f in manifest["files"] if f.startswith("firmware/layers/"))
    assert len(parts) >= 3 and parts == sorted(str(p.relative_to(out)) for p in (out / "firmware" / "layers").iterdir())
    build = (out / ("build_prj.tcl" if target == "xilinx" else "Makefile")).read_text()
    assert all(p in build for p in parts)
    top = (out / "firmware" / "hwc_model.cpp").read_text()
    declared = re.findall(r"^void (layer\d+)\(", (out / "firmware" / "hwc_layers.h").read_text(), flags=re.M)
    defined = [f for p in parts for f in re.findall(r"^void (layer\d+)\(.*\{$", (out / p).read_text(), flags=re.M)]
    called = re.findall(r"^    (layer\d+)\(", top, flags=re.M)
    assert len(declared) >= 4 and sorted(defined) == sorted(declared) and sorted(called) == sorted(declared)
    res = hwc("verify", out, "--samples", "300")
    m = re.search(r"(\d+) samples, (\d+) values compared, (\d+) mismatches", res.stdout)
    assert m and res.returncode == 0, res.stdout + res.stderr
    assert (int(m.group(1)), int(m.group(3))) == (300, 0)


def test_the_trace_build_names_a_corrupted_layer_in_its_part(tmp_path, monkeypatch):
    """hwc verify's -DHWC_TRACE rebuild reads every layer's output in the top function: a weight flipped
    in layer 3's part is reported as the first differing layer."""
    model, out = _residual_mlp(tmp_path / "m.onnx"), tmp_path / "prj"
    monkeypatch.setattr(hls_units, "PART_COST", 1.5)
    assert main(["compile", str(model), "--target", "xilinx", "--input-range=-2,2", "-o", str(out)]) == 0
    (part,) = [p for p in (out / "firmware" / "layers").glob("*.cpp") if "config3::weight[" in p.read_text()]
    text = part.read_text()
    first = re.search(r"config3::weight\[\d+\] = \{\n\s*(-?\d+)", text)
    flipped = str(-int(first.group(1)) or 1)
    part.write_text(text[:first.start(1)] + flipped + text[first.end(1):])
    res = hwc("verify", out, "--samples", "50")
    assert res.returncode == 1 and "first differing layer: layer 3 (Dense 't')" in res.stdout, res.stdout + res.stderr
