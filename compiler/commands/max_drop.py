"""`hwc compile … --max-drop PTS --val X [--val-labels Y]`: choose per-layer widths under an accuracy
budget (compiler/quantize/mixed_precision.py), print them, and write them as DIR/precision.yaml; the
compile itself then reads that file as its `--config`, so the file reproduces the model."""

from __future__ import annotations

from pathlib import Path

import yaml

from ..errors import HwcError
from ..ir.graph import Graph
from .common import calibration, prune_options, quant_config, read_data

TARGETS = ("sim", "xilinx", "intel")
YAML_NAME = "precision.yaml"


def choose(args, graph: Graph, outdir: Path) -> None:
    """Run the search, print its result, write outdir/precision.yaml and point args.config at it."""
    from ..compile import to_fixed
    from ..pipeline import optimize
    from ..quantize.mixed_precision import search
    from ..sim.run import check_inputs

    if args.target not in TARGETS:
        raise HwcError(f"--max-drop works for --target {', '.join(TARGETS)}, not {args.target}")
    if not args.val:
        raise HwcError("--max-drop needs --val data (held-back inputs, not your test split)")
    if args.max_drop < 0:
        raise HwcError(f"--max-drop must be >= 0 points, got {args.max_drop}")
    val = check_inputs(graph, [read_data(args.val)], what=[f"validation data {args.val}"])
    labels = read_data(args.val_labels) if args.val_labels else None
    if labels is not None and len(labels) != len(val[0]):
        raise HwcError(f"--val-labels has {len(labels)} entries for {len(val[0])} --val inputs", args.val_labels)
    config = quant_config(args, graph, "sim")
    calib, pruning = calibration(args, graph), prune_options(args)
    float_graph = graph.clone()
    optimize(float_graph)
    result = search(lambda c: to_fixed(graph.clone(), c, calib, pruning=pruning).graph, float_graph, config, val,
                    labels, args.max_drop)
    what = "accuracy" if labels is not None else "top-1 agreement with float"
    print(f"--max-drop {args.max_drop}: {what} {result.metric:.2f} % (float {result.float_metric:.2f} %), "
          f"{result.bitops:,} bit operations = {100 * result.bitops / result.bitops_w8a8:.1f} % of uniform w8a8 "
          f"({result.evaluations} configurations simulated)")
    for k in result.knobs:
        print(f"  {k.node}: {k.kind} {result.widths[k]} bits")
    path = outdir / YAML_NAME
    doc = {"layers": result.config.layers}
    path.write_text(f"# chosen by hwc compile --max-drop {args.max_drop} on {args.val}: {what} {result.metric:.2f} %, "
                    f"float {result.float_metric:.2f} %\n# pass back with --config (same --calib and options) for the "
                    "same model\n" + yaml.safe_dump(doc, sort_keys=False))
    args.config = str(path)
