"""`hwc compile MODEL --target T -o DIR`: quantize and write what the target needs.

--target sim writes the typed IR (model.json, weights.npz) that `hwc simulate DIR` runs bit-accurately;
every other target is a backend (hwc.backends) that writes its files plus the typed IR and hwc.json.
"""

from __future__ import annotations

from pathlib import Path

from ..compile import to_fixed
from ..errors import HwcError
from ..ir.serialize import save_graph
from ..outdir import atomic_dir
from ..summary import format_rows, layer_rows
from .common import calibration, load_onnx_model, prune_options, quant_config


def targets() -> list[str]:
    from hwc.backends import available

    return ["sim"] + available()


def add_target_options(p) -> None:
    g = p.add_argument_group("HLS targets (xilinx, intel)")
    g.add_argument("--io", choices=["parallel", "stream"], default="parallel",
                   help="layer interfaces: arrays, or streams/FIFOs between layers (CNNs) [parallel]")
    g.add_argument("--strategy", choices=["latency", "resource"], default="latency",
                   help="fully unrolled, or time-multiplexed with weights in block RAM [latency]")
    g.add_argument("--reuse", type=int, default=1, help="with --strategy resource: multiplications per multiplier [1]")
    g.add_argument("--part", help="FPGA part (xilinx: e.g. xcu250-figd2104-2L-e; intel: e.g. Agilex7) [vendor default]")
    g.add_argument("--clock", type=float, default=5.0, help="clock period in ns [5]")
    g = p.add_argument_group("RTL target (verilog)")
    g.add_argument("--rtl-io", choices=["axis", "parallel"], default="axis",
                   help="top-level ports: AXI4-Stream, or parallel ports with valid and clock enable [axis]")
    g.add_argument("--rtl-stages", type=int, default=1, metavar="K",
                   help="register levels per layer: 1 its output, more also cut the adder trees of linear layers, 0 none (combinational) [1]")
    g.add_argument("--rtl-mult", choices=["auto", "adders", "dsp"], default="adders",
                   help="constant products as shifts and adds, as DSP multipliers, or DSPs for wide many-digit ones [adders]")
    g = p.add_argument_group("TFLite targets (tflite, edgetpu)")
    g.add_argument("--float-io", action="store_true", help="float inputs/outputs (QUANTIZE/DEQUANTIZE at the edges)")


def run(args) -> int:
    graph = load_onnx_model(args.model)
    if args.target == "sim":
        config = quant_config(args, graph, "sim")
        compiled = to_fixed(graph, config, calibration(args, graph), pruning=prune_options(args))
        with atomic_dir(args.output, force=args.force) as tmp:
            written = save_graph(compiled.graph, tmp)
        print_summary(args, compiled, [str(Path(args.output) / p.name) for p in written])
        return 0
    from hwc.backends import get_backend

    backend = get_backend(args.target)
    with atomic_dir(args.output, force=args.force) as tmp:
        result = backend.compile(graph, args, Path(tmp))
    for line in result.summary:
        print(line)
    print(f"wrote {args.output}: {files_text(result.files)}")
    return 0


def files_text(files: list[str]) -> str:
    """README.md, firmware/ (12 files), ...: the top level of what was written."""
    groups: dict[str, int] = {}
    for f in files:
        head = f.split("/", 1)[0] + ("/" if "/" in f else "")
        groups[head] = groups.get(head, 0) + 1
    return ", ".join(f"{k} ({n} file{'' if n == 1 else 's'})" if k.endswith("/") else k for k, n in sorted(groups.items()))


def print_summary(args, compiled, files) -> None:
    q = compiled.graph.metadata.get("quant", {})
    print(f"compiled {args.model} for --target {args.target}: wbits {q.get('wbits')}, abits {q.get('abits')}, "
          f"input {q.get('input_bits')} bits, outputs {q.get('output_bits')} bits, rounding {q.get('rounding')}, "
          f"overflow {q.get('overflow')}{', per-channel weights' if q.get('per_channel') else ''}")
    if compiled.pruning:
        print(pruning_line(compiled.pruning))
    print(format_rows(layer_rows(compiled.graph)))
    for note in compiled.notes:
        print(f"note: {note}")
    print("wrote " + ", ".join(files))


def pruning_line(p: dict) -> str:
    b, a = p["before"], p["after"]
    what = {"weights": "weights", "neurons": "Dense neurons", "channels": "Conv channels"}[p["mode"]]
    how = p["criterion"] + (", refit" if p["refit"] else "") + (f", fine-tuned {p['finetune']} epochs" if p.get("finetune") else "")
    return (f"pruned {100 * p['fraction']:.0f} % of the {what} ({how}): parameters {b['params']:,} -> {a['params']:,} "
            f"({a['nonzero']:,} nonzero), MACs per sample {b['macs']:,} -> {a['macs']:,} "
            f"({b['macs'] / max(a['macs'], 1):.2f}x fewer)")
