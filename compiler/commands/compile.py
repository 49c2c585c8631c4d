"""`hwc compile MODEL --target T -o DIR`: the command line of `compile_model` (compiler/compile_model.py).

--target sim writes the typed IR (model.json, weights.npz) that `hwc simulate DIR` runs bit-accurately;
every other target is a backend (hwc.backends) that writes its files plus the typed IR and hwc.json.
"""

from __future__ import annotations

from pathlib import Path

from ..compile_model import compile_model, targets
from ..options import HLS_IO, HLS_STRATEGIES, RTL_CONV, RTL_IO, RTL_MULT
from .common import Parser, add_max_drop_options, add_prune_options, add_quant_options, compile_options


def add_arguments(s) -> None:
    """Every argument of `hwc compile` (the CLI's subcommand and `parser()` share them)."""
    s.add_argument("model", help="an .onnx file (float, QONNX or QDQ)")
    s.add_argument("--target", choices=targets(), default="sim", help="what to produce [sim]")
    s.add_argument("-o", "--output", required=True, metavar="DIR", help="output directory (written atomically)")
    s.add_argument("--force", action="store_true", help="replace an existing output directory")
    add_quant_options(s)
    add_max_drop_options(s)
    add_prune_options(s)
    add_target_options(s)


def parser() -> Parser:
    """`hwc compile`'s parser on its own (a sweep reads its options and parses a point's flags with it)."""
    p = Parser(prog="hwc compile", description="quantize a model and write it for a target")
    add_arguments(p)
    return p


def add_target_options(p) -> None:
    g = p.add_argument_group("HLS targets (xilinx, intel)")
    g.add_argument("--io", choices=HLS_IO, default="parallel",
                   help="layer interfaces: arrays, or streams/FIFOs between layers (CNNs) [parallel]")
    g.add_argument("--strategy", choices=HLS_STRATEGIES, default="latency",
                   help="fully unrolled, or time-multiplexed with weights in block RAM [latency]")
    g.add_argument("--reuse", type=reuse_arg, default=1,
                   help="with --strategy resource: multiplications per multiplier, or 'auto': per layer the smallest "
                        "that fits --utilisation of --part [1]")
    g.add_argument("--utilisation", type=float, default=80.0, metavar="PCT",
                   help="with --reuse auto: the share of each resource of --part the design may use [80]")
    g.add_argument("--part", help="FPGA part (xilinx: e.g. xcu250-figd2104-2L-e; intel: e.g. Agilex7) [vendor default]")
    g.add_argument("--clock", type=float, default=5.0, help="clock period in ns [5]")
    g = p.add_argument_group("RTL target (verilog)")
    g.add_argument("--rtl-io", choices=RTL_IO, default="axis",
                   help="top-level ports: AXI4-Stream, or parallel ports with valid and clock enable [axis]")
    g.add_argument("--rtl-stages", type=int, default=1, metavar="K",
                   help="register levels per layer: 1 its output, more also cut the adder trees of linear layers, 0 none (combinational) [1]")
    g.add_argument("--rtl-mult", choices=RTL_MULT, default="adders",
                   help="constant products as shifts and adds (each input's odd multiples shared), shifts and adds with "
                        "sub-expressions shared across outputs (two-term CSE: fewer adders, slower to generate), "
                        "as DSP multipliers, or DSPs for wide many-digit ones [adders]")
    g.add_argument("--rtl-conv", choices=RTL_CONV, default="auto",
                   help="Conv layers at the input: unrolled over the whole image (one sample per beat), or stream: one "
                        "pixel (all channels) per beat in raster order through line buffers; auto streams when the "
                        "unrolled form would be too large [auto]")
    g = p.add_argument_group("TFLite targets (tflite, edgetpu)")
    g.add_argument("--float-io", action="store_true", help="float inputs/outputs (QUANTIZE/DEQUANTIZE at the edges)")


def reuse_arg(text: str):
    import argparse

    if text == "auto":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'auto', got {text!r}") from None


def run(args) -> int:
    options = compile_options(args)
    result = compile_model(args.model, options, args.output, force=args.force)
    for line in result.summary:
        print(line)
    if options.target == "sim":
        print("wrote " + ", ".join(str(Path(args.output) / f) for f in result.files))
    else:
        print(f"wrote {args.output}: {files_text(result.files)}")
    return 0


def files_text(files: list[str]) -> str:
    """README.md, firmware/ (12 files), ...: the top level of what was written."""
    groups: dict[str, int] = {}
    for f in files:
        head = f.split("/", 1)[0] + ("/" if "/" in f else "")
        groups[head] = groups.get(head, 0) + 1
    return ", ".join(f"{k} ({n} file{'' if n == 1 else 's'})" if k.endswith("/") else k for k, n in sorted(groups.items()))
