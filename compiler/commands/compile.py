"""`hwc compile MODEL --target T -o DIR`: quantize and write what the target needs.

--target sim writes the typed IR (model.json, weights.npz) that `hwc simulate DIR` runs bit-accurately.
"""

from __future__ import annotations

from ..compile import to_fixed
from ..ir.serialize import save_graph
from ..outdir import atomic_dir
from ..summary import format_rows, layer_rows
from .common import calibration, load_onnx_model, quant_config

TARGETS = ("sim",)


def run(args) -> int:
    graph = load_onnx_model(args.model)
    config = quant_config(args, graph, args.target)
    compiled = to_fixed(graph, config, calibration(args, graph))
    with atomic_dir(args.output, force=args.force) as tmp:
        written = save_graph(compiled.graph, tmp)
    print_summary(args, compiled, [args.output + "/" + p.name for p in written])
    return 0


def print_summary(args, compiled, files) -> None:
    q = compiled.graph.metadata.get("quant", {})
    print(f"compiled {args.model} for --target {args.target}: wbits {q.get('wbits')}, abits {q.get('abits')}, "
          f"input {q.get('input_bits')} bits, outputs {q.get('output_bits')} bits, rounding {q.get('rounding')}, "
          f"overflow {q.get('overflow')}{', per-channel weights' if q.get('per_channel') else ''}")
    print(format_rows(layer_rows(compiled.graph)))
    for note in compiled.notes:
        print(f"note: {note}")
    print("wrote " + ", ".join(files))
