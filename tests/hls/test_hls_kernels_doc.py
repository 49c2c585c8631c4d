"""docs/HLS_KERNELS.md stays true: its generated-code example compiles and computes the simulator's
values, for Xilinx as written and for Intel with the types respelled."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np

from hls_harness import CACHE, FLAGS, HLS_DIR, fx
from hwc.backends.cpp_build import ac_types_dir, ap_types_dir, build
from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import FloatType, TensorType
from hwc.compiler.sim.run import simulate

DOC = Path(__file__).resolve().parents[2] / "docs" / "HLS_KERNELS.md"

MAIN = r"""
#include <cstdio>
int main() {
  for (int a = -4; a < 4; a++) for (int b = -4; b < 4; b++) {
    input_t x[3] = {a * 0.96875, b * 0.5, (a + b) * 0.25}; layer1_t y[2];
    layer1(x, y);
    printf("%.17g %.17g\n", y[0].to_double(), y[1].to_double());
  }
  return 0;
}
"""

AC = {"ap_fixed<8,3>": "ac_fixed<8,3,true>", "ap_fixed<12,4,AP_RND,AP_SAT>": "ac_fixed<12,4,true,AC_RND,AC_SAT>",
      "ap_fixed<6,1,AP_RND_CONV,AP_SAT>": "ac_fixed<6,1,true,AC_RND_CONV,AC_SAT>", "ap_fixed<10,4>": "ac_fixed<10,4,true>",
      "ap_fixed<16,6>": "ac_fixed<16,6,true>", "HWC_XILINX": "HWC_INTEL"}


def _example() -> str:
    text = DOC.read_text()
    section = text[text.index("## Example"):]
    return re.search(r"```cpp\n(.*?)```", section, re.S).group(1)


def _reference(inputs: np.ndarray) -> np.ndarray:
    g = Graph("doc")
    x = g.add_input("x", TensorType(FloatType(64), (None, 3)))
    f = g.add_node("FromFloat", [x], output_types=[TensorType(fx(8, 3), (None, 3))])
    w = np.zeros((3, 2), np.int64)
    for i, o, m in [(0, 0, -32), (1, 0, 18), (1, 1, 31), (2, 1, -8)]:  # the example's weights in 2^-5 units
        w[i, o] = m
    wt, bt = fx(6, 1, q="RND_CONV", o="SAT"), fx(10, 4)
    d = g.add_node("Dense", [f.output, g.constant(w, "w", elem=wt), g.constant(np.array([16, -224]), "b", elem=bt)],
                   {"accum": fx(16, 6)})
    g.retype(d.output, d.output.type.with_elem(fx(12, 4, q="RND", o="SAT")))
    y = g.add_node("ToFloat", [d.output])
    g.set_outputs([y.output])
    return simulate(g, [inputs], mode="fixed")[0]


def test_doc_example_compiles_and_matches_simulator():
    src = _example()
    a, b = np.meshgrid(np.arange(-4, 4), np.arange(-4, 4), indexing="ij")
    inputs = np.stack([a.ravel() * 0.96875, b.ravel() * 0.5, (a + b).ravel() * 0.25], axis=1)
    expected = _reference(inputs)
    for vendor in ("ap", "ac"):
        text = src
        if vendor == "ac":
            for k, v in AC.items():
                text = text.replace(k, v)
        exe = build({"doc_example.cpp": text + MAIN}, include_dirs=[HLS_DIR, ap_types_dir() if vendor == "ap" else ac_types_dir()],
                    out_name=f"doc_example_{vendor}", cache_dir=CACHE, flags=FLAGS)
        out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
        got = np.array([[float(v) for v in line.split()] for line in out.splitlines()])
        np.testing.assert_array_equal(got, expected)
        print(f"doc example [{vendor}]: {got.size} values equal")
