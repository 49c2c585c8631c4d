"""What several subcommands share: loading a model (ONNX file or compiled directory), reading data,
and turning the command line into the typed options of compiler/options.py (checked once there)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ..data_io import read_data
from ..errors import HwcError
from ..ir.graph import Graph
from ..ir.types import Overflow, Rounding
from ..options import (PRUNE_CRITERIA, PRUNE_MODES, PRUNE_SCOPES, PTQ_METHODS, Calibration, CompileOptions, HlsOptions,
                       MaxDrop, PruneOptions, Quantization, RtlOptions, TfliteOptions, parse_range)
from ..quant_config import load_layers

class Parser(argparse.ArgumentParser):
    """argparse with a mistake reported as one line (`hwc: error: …`, exit 2) instead of the usage block."""

    def error(self, message):
        self.exit(2, f"hwc: error: {' '.join(message.split())}\n")


def is_compiled_dir(path) -> bool:
    """A directory given as a model is a compiled one (an ONNX model is a file); load_compiled checks it."""
    return Path(path).is_dir()


def load_compiled(path) -> Graph:
    from ..ir.serialize import load_graph

    try:
        return load_graph(path)
    except (OSError, ValueError, KeyError) as e:
        raise HwcError(f"not a readable compiled model ({e})", str(path)) from None


def onnx_input_names(path) -> list[str]:
    from ..frontend.onnx_loader import read_model

    m = read_model(path)
    inits = {i.name for i in m.graph.initializer}
    return [i.name for i in m.graph.input if i.name not in inits]


def gather_inputs(names: list[str], input_specs: list[str], where: str) -> dict[str, np.ndarray]:
    """Map input names to arrays: one spec per input in order, or a single .npz keyed by input name."""
    from ..data_io import read_npz

    if len(input_specs) == 1 and input_specs[0].endswith(".npz") and len(names) > 0:
        data = read_npz(input_specs[0])
        if all(n in data for n in names):
            return {n: data[n] for n in names}
        if len(names) == 1 and len(data) == 1:
            return {names[0]: next(iter(data.values()))}
        missing = next(n for n in names if n not in data)
        raise HwcError(f"has no array named {missing!r} (the model's inputs: {', '.join(names)}); "
                       f"pick one with {input_specs[0]}:KEY", input_specs[0])
    if len(input_specs) != len(names):
        raise HwcError(f"the model has {len(names)} input(s) ({', '.join(names)}), got {len(input_specs)} --input", where)
    return {n: read_data(p) for n, p in zip(names, input_specs)}


def add_quant_options(p) -> None:
    g = p.add_argument_group("quantization (float models; models with their own quantizers keep them)")
    g.add_argument("--wbits", type=int, default=8, help="weight bits, 1..8 (1 = binary ±2^k) [8]")
    g.add_argument("--abits", type=int, default=None,
                   help="activation (feature) bits, 2..32 [16 for sim and the HLS targets, 8 for tflite, edgetpu, "
                        "openvino, ncs2]; tflite takes 8 or 16 (its 16x8 mode)")
    g.add_argument("--input-bits", type=int, help="bits of the input port [max(abits, 8)]")
    g.add_argument("--output-bits", type=int, default=16, help="bits of the output port [16]")
    g.add_argument("--ternary", action="store_true", help="with --wbits 2: weights in {-1, 0, 1}·2^k")
    g.add_argument("--per-channel", action="store_true", help="a power-of-two weight scale per output channel")
    g.add_argument("--rounding", choices=[r.value for r in Rounding], default="RND", help="activation rounding [RND]")
    g.add_argument("--overflow", choices=[o.value for o in Overflow], default="SAT", help="activation overflow [SAT]")
    g.add_argument("--accum-bits", type=int, help="cap on accumulator widths (they then wrap) [no cap: never overflows]")
    g.add_argument("--calib", metavar="X", help="calibration inputs (.npy or ARCHIVE.npz:KEY) for activation ranges")
    g.add_argument("--input-range", metavar="LO,HI",
                   help="declared input range for interval analysis (without --calib); write --input-range=-1,1 "
                        "when LO is negative")
    g.add_argument("--config", metavar="YAML", help="per-layer types (see `hwc config`)")
    g.add_argument("--ptq", choices=PTQ_METHODS,
                   help="weight quantization: round to nearest, GPTQ (second order, error feedback) or AdaRound "
                        "(learned rounding, slower); gptq and adaround need --calib, add bias correction and "
                        "MSE-optimal activation ranges [gptq with --calib, rtn without]")


def add_max_drop_options(p) -> None:
    g = p.add_argument_group("mixed precision under an accuracy budget (sim, xilinx, intel)")
    g.add_argument("--max-drop", type=float, metavar="PTS",
                   help="choose per-layer weight and activation widths with the fewest bit operations whose "
                        "accuracy on --val is at most PTS points below the float model's; writes DIR/precision.yaml")
    g.add_argument("--val", metavar="X", help="validation inputs for --max-drop (keep them apart from your test data)")
    g.add_argument("--val-labels", metavar="Y",
                   help="labels of --val [without: top-1 agreement with the float model]")


def add_prune_options(p) -> None:
    g = p.add_argument_group("pruning (before quantization) and fine-tuning")
    g.add_argument("--prune", type=float, default=0.0, metavar="FRACTION",
                   help="fraction of weights (or neurons/channels) to remove, in [0, 1) [0]")
    g.add_argument("--prune-mode", choices=PRUNE_MODES, default="weights",
                   help="unstructured weights, Dense neurons, or Conv kernels with their feature maps [weights]")
    g.add_argument("--prune-criterion", choices=PRUNE_CRITERIA, default="l1",
                   help="importance: kernel norm, mean |activation| or least reconstruction error (both need --calib); "
                        "obs: weights by Optimal Brain Surgeon saliency, pruned jointly with GPTQ quantization "
                        "(--calib) [l1]")
    g.add_argument("--prune-scope", choices=PRUNE_SCOPES, default="layer",
                   help="weights mode: the fraction per layer, or one global magnitude threshold [layer]")
    g.add_argument("--finetune", type=int, default=0, metavar="EPOCHS",
                   help="quantization-aware distillation (PyTorch) from the float model on the --calib inputs, with or "
                        "without pruning: weights on their grid and activations fake-quantized to their exact types "
                        "[0: off]")
    g.add_argument("--labels", metavar="Y", help="with --finetune: labels of the --calib inputs (adds cross-entropy)")
    g.add_argument("--refit", action="store_true",
                   help="least-squares refit on --calib data: the next layers (neurons/channels) or the pruned layers' "
                        "remaining weights (weights)")


def quantization(args) -> Quantization:
    """The quantization options of `hwc compile` and `hwc config`, checked."""
    return Quantization(
        wbits=args.wbits, abits=args.abits, input_bits=args.input_bits, output_bits=args.output_bits,
        ternary=args.ternary, per_channel=args.per_channel, rounding=Rounding(args.rounding),
        overflow=Overflow(args.overflow), accum_bits=args.accum_bits,
        input_range=parse_range(args.input_range) if args.input_range else None,
        config=args.config, layers=load_layers(args.config) if args.config else {}, ptq=args.ptq)


def compile_options(args) -> CompileOptions:
    """`hwc compile`'s command line as CompileOptions: every option checked here, before the target
    is chosen, the same way for every target."""
    return CompileOptions(
        target=args.target, quant=quantization(args),
        prune=PruneOptions(args.prune, args.prune_mode, args.prune_criterion, args.refit, args.prune_scope, args.finetune),
        calib=Calibration.read(args.calib, args.labels),
        hls=HlsOptions(args.io, args.strategy, args.reuse, args.part, args.clock, args.utilisation),
        tflite=TfliteOptions(args.float_io), max_drop=MaxDrop.read(args.max_drop, args.val, args.val_labels),
        rtl=RtlOptions(args.rtl_io, args.rtl_stages, args.rtl_mult, args.rtl_conv))
