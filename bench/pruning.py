"""Channel pruning of the digits CNN: 25/50/75 % of the Conv kernels for each criterion, with and
without the least-squares refit. Test accuracy (float and at 4-bit weights / 8-bit activations),
parameters, MACs and weight storage. Usage: python bench/pruning.py [--out FILE.md]."""

from __future__ import annotations

import sys
from pathlib import Path

from _cli import main

import numpy as np

from hwc.compiler.analysis import layer_table
from hwc.compiler.compile import to_fixed
from hwc.compiler.frontend.onnx_loader import load_onnx
from hwc.compiler.passes.prune_channels import CRITERIA, PruneChannels
from hwc.compiler.pipeline import optimize
from hwc.compiler.quant_config import QuantConfig
from hwc.compiler.sim.run import simulate
from hwc.compiler.summary import layer_rows

EX = Path(__file__).resolve().parents[1] / "hw_examples"
MODEL = EX / "digits_cnn" / "model.onnx"


def row(fraction, criterion, refit, test, calib):
    g = load_onnx(MODEL)
    optimize(g)
    if fraction:
        PruneChannels(fraction, ("Conv",), criterion, calib, refit).run(g)
    rows = layer_table(g)
    params, macs = sum(r["params"] for r in rows), sum(r["macs"] for r in rows)
    weights = sum(int(n.inputs[1].const.size) for n in g.nodes if n.op in ("Dense", "Conv"))
    acc_f = (simulate(g, [test["x_test"]])[0].argmax(1) == test["y_test"]).mean()
    fixed = to_fixed(g, QuantConfig(wbits=4, abits=8), calib).graph
    acc_q = (simulate(fixed, [test["x_test"]], mode="fixed")[0].argmax(1) == test["y_test"]).mean()
    wbits = sum(r["weight_bits"] for r in layer_rows(fixed))
    return params, macs, 32 * weights, wbits, 100 * acc_f, 100 * acc_q


def table() -> str:
    test = np.load(EX / "digits_data" / "test_img.npz")
    calib = [np.load(EX / "digits_data" / "calib_img.npz")["x"]]
    lines = ["| channels pruned | criterion | refit | parameters | MACs | weight bits float32 | weight bits w4 | "
             "accuracy float (%) | accuracy w4a8 (%) |", "|---|---|---|---|---|---|---|---|---|"]
    base = row(0.0, "l1", False, test, calib)
    lines.append("| 0 % | – | – | {:,} | {:,} | {:,} | {:,} | {:.2f} | {:.2f} |".format(*base))
    for fraction in (0.25, 0.5, 0.75):
        for criterion in CRITERIA:
            for refit in (False, True):
                r = row(fraction, criterion, refit, test, calib)
                lines.append(f"| {100 * fraction:.0f} % | {criterion} | {'yes' if refit else 'no'} | "
                             "{:,} | {:,} | {:,} | {:,} | {:.2f} | {:.2f} |".format(*r))
    return "\n".join(lines)


def section() -> str:
    return ("### Channel pruning of the digits CNN (calibration and refit on 200 training samples, "
            "360 test samples)\n\n" + table() + "\n")


if __name__ == "__main__":
    sys.exit(main(__doc__, section))
