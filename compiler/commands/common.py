"""What several subcommands share: loading a model (ONNX file or compiled directory), reading data,
and turning the quantization options into a QuantConfig."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import HwcError
from ..ir.graph import Graph
from ..ir.types import Overflow, Rounding
from ..quant_config import QuantConfig, load_layers

QUANTIZER_OPS = {"Quant", "BipolarQuant", "Trunc", "QuantizeLinear", "DequantizeLinear"}


def is_compiled_dir(path) -> bool:
    p = Path(path)
    return p.is_dir() and (p / "model.json").exists()


def load_compiled(path) -> Graph:
    from ..ir.serialize import load_graph

    try:
        return load_graph(path)
    except (OSError, ValueError, KeyError) as e:
        raise HwcError(f"not a readable compiled model ({e})", str(path)) from None


def load_onnx_model(path, bind=None) -> Graph:
    from ..frontend.onnx_loader import load_onnx
    from ..pipeline import cleanup

    graph = load_onnx(path, bind=bind)
    cleanup(graph)
    return graph


def onnx_input_names(path) -> list[str]:
    from ..frontend.onnx_loader import read_model

    m = read_model(path)
    inits = {i.name for i in m.graph.initializer}
    return [i.name for i in m.graph.input if i.name not in inits]


def read_data(spec: str) -> np.ndarray:
    """An array from `.npy`, `.pb` or `ARCHIVE.npz:KEY` (a lone-array .npz needs no key)."""
    from ..data_io import read_array, read_npz

    if ".npz:" in spec:
        archive, key = spec.rsplit(":", 1)
        data = read_npz(archive)
        if key not in data:
            raise HwcError(f"has no array named {key!r} (it has: {', '.join(data)})", archive)
        return data[key]
    if spec.endswith(".npz"):
        data = read_npz(spec)
        if len(data) != 1:
            raise HwcError(f"holds {len(data)} arrays ({', '.join(data)}): pick one with {spec}:KEY", spec)
        return next(iter(data.values()))
    return read_array(spec)


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


def has_quantizers(graph: Graph) -> bool:
    return any(n.op in QUANTIZER_OPS for n in graph.nodes)


def _range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(x) for x in text.split(","))
    except ValueError:
        raise HwcError(f"--input-range must be LO,HI (two numbers), got {text!r}") from None
    if not lo < hi:
        raise HwcError(f"--input-range needs LO < HI, got {text!r}")
    return lo, hi


def add_quant_options(p) -> None:
    g = p.add_argument_group("quantization (float models; models with their own quantizers keep them)")
    g.add_argument("--wbits", type=int, default=8, help="weight bits, 1..8 (1 = binary ±2^k) [8]")
    g.add_argument("--abits", type=int, default=None,
                   help="activation (feature) bits, 2..32 [16 for sim and the HLS targets, 8 for tflite, edgetpu, "
                        "openvino, ncs2]")
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
    g.add_argument("--ptq", choices=["rtn", "gptq", "adaround"],
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
    g.add_argument("--prune-mode", choices=["weights", "neurons", "channels"], default="weights",
                   help="unstructured weights, Dense neurons, or Conv kernels with their feature maps [weights]")
    g.add_argument("--prune-criterion", choices=["l1", "l2", "activation", "reconstruction", "obs"], default="l1",
                   help="importance: kernel norm, mean |activation| or least reconstruction error (both need --calib); "
                        "obs: weights by Optimal Brain Surgeon saliency, pruned jointly with GPTQ quantization "
                        "(--calib) [l1]")
    g.add_argument("--prune-scope", choices=["layer", "global"], default="layer",
                   help="weights mode: the fraction per layer, or one global magnitude threshold [layer]")
    g.add_argument("--finetune", type=int, default=0, metavar="EPOCHS",
                   help="quantization-aware distillation (PyTorch) from the float model on the --calib inputs, with or "
                        "without pruning: weights on their grid and activations fake-quantized to their exact types "
                        "[0: off]")
    g.add_argument("--labels", metavar="Y", help="with --finetune: labels of the --calib inputs (adds cross-entropy)")
    g.add_argument("--refit", action="store_true",
                   help="least-squares refit on --calib data: the next layers (neurons/channels) or the pruned layers' "
                        "remaining weights (weights)")


def prune_options(args):
    from ..compile import PruneOptions

    if not 0.0 <= args.prune < 1.0:
        raise HwcError(f"--prune must be in [0, 1), got {args.prune}")
    if args.finetune < 0:
        raise HwcError("--finetune takes a number of epochs >= 0")
    labels = None
    if getattr(args, "labels", None):
        if not args.finetune:
            raise HwcError("--labels is for --finetune")
        labels = read_data(args.labels)
    return PruneOptions(args.prune, args.prune_mode, args.prune_criterion, args.refit, args.prune_scope, args.finetune,
                        labels)


DEFAULT_ABITS = {"tflite": 8, "edgetpu": 8, "openvino": 8, "ncs2": 8}


def abits(args, target: str) -> int:
    """The --abits the user gave, else the target's natural activation width."""
    return args.abits if getattr(args, "abits", None) is not None else DEFAULT_ABITS.get(target, 16)


def quant_config(args, graph: Graph, target: str) -> QuantConfig:
    carried = has_quantizers(graph)
    return QuantConfig(
        wbits=args.wbits, abits=abits(args, target), input_bits=args.input_bits, output_bits=args.output_bits,
        per_channel=args.per_channel, ternary=args.ternary, rounding=Rounding(args.rounding),
        overflow=Overflow(args.overflow), accum_cap=args.accum_bits,
        input_range=_range(args.input_range) if args.input_range else None,
        layers=load_layers(args.config) if args.config else {},
        exact_outputs=carried, float_output_functions=carried and target == "sim", ptq=getattr(args, "ptq", None))


def calibration(args, graph: Graph) -> list[np.ndarray] | None:
    if not args.calib:
        return None
    x = read_data(args.calib)
    if len(graph.inputs) != 1:
        raise HwcError("--calib takes one array; the model has several inputs", args.calib)
    from ..sim.run import check_inputs

    try:
        return check_inputs(graph, [x], what=[f"calibration data {args.calib}"])
    except HwcError as e:
        raise e.at(path=args.model) from None
