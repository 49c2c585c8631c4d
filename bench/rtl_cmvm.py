"""hwc's constant matrix-vector multiplication (CMVM) in --target verilog next to da4ml's published
microbenchmark: adders to multiply a vector by a random N x N matrix of 8-bit constants (integers 129..255,
as in Table 2 of the da4ml paper, Sun et al., ACM TRETS 2025, doi:10.1145/3777387; the figures are the
averages over 1,000 matrices printed by table2.ipynb in github.com/calad0i/da4ml-ae @ 94ccc836).

hwc's adders are what its RTL emitter reports (rtl.json). `--rtl-mult adders`: each product in
canonical signed digits, the odd multiple of each input built once and shared by the outputs that use
it, one balanced adder tree per output; its adder depth is the deepest odd multiple plus the output
tree. `--rtl-mult shared`: two-term sub-expressions shared across all outputs (backends/rtl_cse.py),
no shared term deeper than the deepest product's digits; its depth is the plan's bound (deepest term
plus a balanced tree over each output's terms). da4ml's `dc=0` column bounds the depth at the minimum. Usage: python bench/rtl_cmvm.py [--out FILE.md]."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from _cli import main

from hwc.backends.rtl_csd import csd
from hwc.backends.rtl_cse import digit_depth, share

# N -> (adders, steps) of da4ml without a delay constraint, and with dc=0 (minimum depth)
DA4ML = {2: ((8.6, 3.3), (9.1, 3.1)), 4: ((29.2, 6.0), (34.3, 4.1)), 6: ((59.0, 8.3), (73.3, 5.0)),
         8: ((98.1, 9.3), (124.9, 5.1)), 10: ((146.5, 10.8), (188.5, 6.0)), 12: ((203.5, 11.7), (263.5, 6.0)),
         14: ((269.3, 12.2), (349.7, 6.0)), 16: ((343.2, 12.9), (446.9, 6.0))}
TRIALS = 10


def _model(arr: np.ndarray, path: Path) -> None:
    n = arr.shape[0]
    w = numpy_helper.from_array((arr / 256).astype(np.float32), "W")  # k/256 is exact in fixed<9,1>
    g = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"])], "cmvm",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n])], [w])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def depth(arr: np.ndarray) -> int:
    """Adder depth of hwc's structure for x @ arr: the deepest shared odd multiple, then each output's
    balanced tree over its products."""
    odd = max(math.ceil(math.log2(len(csd(int(v) >> ((int(v) & -int(v)).bit_length() - 1))))) for v in arr.flat)
    return odd + math.ceil(math.log2(arr.shape[0]))


def hwc_adders(arr: np.ndarray, tmp: Path, mult: str) -> int:
    model, out, cfg = tmp / "cmvm.onnx", tmp / "out", tmp / "w9.yaml"
    _model(arr, model)
    cfg.write_text("layers: {Dense: {weight: {width: 9, int_bits: 1}}}\n")
    subprocess.run([sys.executable, "-m", "hwc.compiler.cli", "compile", str(model), "--target", "verilog",
                    "--config", str(cfg), "--input-bits", "8", "--abits", "16", "--rtl-mult", mult,
                    "-o", str(out), "--force"], check=True, capture_output=True, text=True)
    return sum(layer["adders"] for layer in json.loads((out / "rtl.json").read_text())["layers"])


def section() -> str:
    rng = np.random.default_rng(0)
    lines = ["### RTL constant matrix-vector products: hwc vs da4ml's published adder counts", "",
             f"Random N x N matrices of integers 129..255 (8-bit constants); hwc: mean over {TRIALS} matrices "
             "(seed 0) of the adders its RTL emitter reports (`hwc compile --target verilog --rtl-mult adders` "
             "and `--rtl-mult shared`) and their adder depth; da4ml: the means over 1,000 matrices published with the da4ml paper "
             "(Table 2; table2.ipynb in github.com/calad0i/da4ml-ae @ 94ccc836).", "",
             "| N | hwc adders | depth | hwc shared adders | depth | da4ml adders | depth | da4ml adders, dc=0 | depth "
             "| hwc / da4ml (dc=0) adders | hwc shared / da4ml (dc=0) |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for n, ((a, s), (a0, s0)) in DA4ML.items():
            mats = [np.floor(rng.random((n, n)) * 127) + 129 for _ in range(TRIALS)]
            ints = [m.astype(np.int64) for m in mats]
            adders = np.mean([hwc_adders(m, Path(tmp), "adders") for m in ints])
            d = np.mean([depth(m) for m in ints])
            shared = np.mean([hwc_adders(m, Path(tmp), "shared") for m in ints])
            ds = np.mean([share(m, digit_depth(m)).max_depth for m in ints])
            lines.append(f"| {n} | {adders:.1f} | {d:.1f} | {shared:.1f} | {ds:.1f} | {a} | {s} | {a0} | {s0} "
                         f"| {adders / a0:.2f} | {shared / a0:.2f} |")
    lines += ["", "da4ml's dc=0 solutions are no deeper than either hwc structure. `--rtl-mult shared` lands between "
              "da4ml's two published operating points: a few percent fewer adders than dc=0 at one or two more "
              "adder levels, more adders than the unconstrained search at several fewer levels. Adder counts, "
              "not LUTs: they are what both searches minimise (on the 3-bit digits MLP, 28 % fewer adders "
              "became 5 % fewer Yosys LUTs and 21 % fewer carry cells)."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main(__doc__, section))
