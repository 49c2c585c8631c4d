"""`hwc report DIR [-o report.html] [--input X --labels Y]`: one self-contained HTML page of a compiled
model: layer graph, precision, weight histograms, resources, latency, device fit and, with data,
accuracy and per-layer error against the float model."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import HwcError
from ..data_io import read_data
from .common import gather_inputs, is_compiled_dir, load_compiled


def run(args) -> int:
    from ..report.html import render
    from .inspect import inspect_doc

    if not is_compiled_dir(args.dir):
        raise HwcError("not a directory written by `hwc compile`", str(args.dir))
    graph = load_compiled(args.dir)
    doc, _ = inspect_doc(args.dir, graph, True)
    manifest_path = Path(args.dir) / "hwc.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else None
    data = None
    if args.input:
        from ..report.data import compare
        from ..sim.run import check_inputs

        feeds = gather_inputs([v.name for v in graph.inputs], args.input, str(args.dir))
        xs = check_inputs(graph, [feeds[v.name] for v in graph.inputs], what=[f"input '{v.name}'" for v in graph.inputs])
        labels = read_data(args.labels).reshape(-1) if args.labels else None
        if labels is not None and len(labels) != len(xs[0]):
            raise HwcError(f"{len(labels)} labels for {len(xs[0])} input samples", args.labels)
        data = compare(graph, xs, labels)
    elif args.labels:
        raise HwcError("--labels needs --input data")
    out = Path(args.output or Path(args.dir) / "report.html")
    if not out.parent.exists():
        raise HwcError("parent directory does not exist", str(out))
    tmp = out.with_name(out.name + ".tmp")
    from ..report.data import float_weights

    tmp.write_text(render(doc, graph, manifest, data, float_weights(graph)))
    tmp.replace(out)  # never a half-written page
    print(f"wrote {out}")
    return 0
