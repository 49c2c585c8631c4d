"""From an ONNX file to the fixed-point graph every fixed-point target starts from."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .errors import HwcError
from .frontend.onnx_loader import load_onnx
from .ir.graph import Graph
from .ir.types import FixedType
from .passes.assign_types import AssignTypes, Decision
from .passes.fixed_type_rules import TypeWarning, input_port_type
from .passes.base import PassManager
from .passes.fold_constants import FoldConstants
from .passes.fuse_matmul_add import FuseMatMulAdd
from .passes.lower_quantizers import LowerQuantizers
from .passes.lower_scaled_layers import LowerScaledLayers
from .passes.remove_dead_nodes import RemoveDeadNodes
from .pipeline import optimize
from .options import PruneOptions
from .quant_config import QuantConfig
from .quantize.act_ranges import search_ranges
from .quantize.ptq import DEFAULT_METHOD as DEFAULT_PTQ, ptq as run_ptq
from .ranges import DEFAULT_INPUT_RANGE, calibrate, intervals


@dataclass
class Compiled:
    graph: Graph
    float_graph: Graph
    decisions: list[Decision]
    notes: list[str] = field(default_factory=list)
    pruning: dict | None = None  # before/after figures when pruned


class LazyRanges(dict):
    """Value ranges, computed on the first lookup (models that carry all their types never need them)."""

    def __init__(self, float_graph: Graph, config: QuantConfig, calib, notes: list[str]):
        super().__init__()
        self._args = (float_graph, config, calib, notes)
        self._done = False

    def _fill(self):
        if not self._done:
            self._done = True
            self.update(value_ranges(*self._args))

    def __missing__(self, key):
        self._fill()
        if key in self:
            return dict.__getitem__(self, key)
        raise KeyError(key)

    def __contains__(self, key):
        self._fill()
        return dict.__contains__(self, key)

    def get(self, key, default=None):
        self._fill()
        return dict.get(self, key, default)


def value_ranges(float_graph: Graph, config: QuantConfig, calib: list[np.ndarray] | None, notes: list[str]):
    if calib is not None:
        ranges = calibrate(float_graph, calib)
        if config.input_range is not None:
            for v in float_graph.inputs:
                ranges[v.name] = config.input_range
        return ranges
    if config.input_range is None:
        notes.append(f"no --calib data: value ranges from interval analysis with inputs in {list(DEFAULT_INPUT_RANGE)} "
                     "(give --input-range LO,HI or --calib X.npy)")
    return intervals(float_graph, config.input_range or DEFAULT_INPUT_RANGE)


def prune(graph: Graph, options: PruneOptions, config: QuantConfig, calib, notes: list[str]) -> dict | None:
    """Apply the requested pruning to the optimized float graph; returns before/after figures."""
    from .passes.prune_channels import PruneChannels
    from .passes.prune_weights import PruneWeights

    per_layer = config.prune_fractions()
    if options.fraction <= 0 and not per_layer:
        return None

    before = weight_figures(graph)
    if options.criterion == "obs":  # pruned jointly with quantization, by GPTQ's machinery (to_fixed)
        if options.mode != "weights":
            raise HwcError("--prune-criterion obs prunes weights: use it with --prune-mode weights")
        if calib is None:
            raise HwcError("--prune-criterion obs needs --calib data")
        if options.refit:
            raise HwcError("--refit does not apply to --prune-criterion obs (OBS updates the remaining weights itself)")
        obs = {"Dense": options.fraction, "Conv": options.fraction, **per_layer}
        return {"mode": options.mode, "fraction": options.fraction, "criterion": "obs", "refit": False,
                "finetune": options.finetune, "before": before, "after": None, "obs": obs}
    if options.refit and calib is None:
        raise HwcError("--refit needs --calib data")
    if options.mode == "weights":
        PruneWeights(options.fraction, options.scope, per_layer, calib, options.refit).run(graph)
    else:
        if calib is None and (options.criterion in ("activation", "reconstruction") or options.refit):
            raise HwcError(f"--prune-criterion {options.criterion}{' with --refit' if options.refit else ''} needs --calib data")
        ops = ("Conv",) if options.mode == "channels" else ("Dense",)
        p = PruneChannels(options.fraction, ops, options.criterion, calib, options.refit, per_layer)
        p.run(graph)
        notes += [f"{name}: cannot prune ({why})" for name, _, _, why in p.report if why]
    graph.verify()
    after = weight_figures(graph)
    return {"mode": options.mode, "fraction": options.fraction, "criterion": options.criterion, "refit": options.refit,
            "finetune": options.finetune, "before": before, "after": after}


def to_fixed(graph: Graph, config: QuantConfig, calib: list[np.ndarray] | None = None, verify: bool = True,
             pruning: PruneOptions | None = None, labels: np.ndarray | None = None) -> Compiled:
    """Quantize an imported (float or QONNX/QDQ) graph into the fixed-point form (pruned first if asked).

    config.ptq is the weight quantization method (compiler/quantize/ptq.py); None = gptq with
    calibration data, round to nearest without."""
    notes: list[str] = []
    optimize(graph)
    finetune = pruning.finetune if pruning is not None else 0
    teacher = graph.clone() if finetune else None
    pruned = prune(graph, pruning, config, calib, notes) if pruning is not None else None
    float_graph = graph.clone()
    ranges = LazyRanges(float_graph, config, calib, notes)
    def port_type(v):
        return input_port_type(config, *(config.input_range or ranges[v.name]))

    PassManager([LowerScaledLayers(input_type=port_type), LowerQuantizers(), FoldConstants(), FuseMatMulAdd(), RemoveDeadNodes()],
                verify=verify).run(graph)
    method = config.ptq or (DEFAULT_PTQ if calib is not None else "rtn")
    obs = pruned.pop("obs", None) if pruned else None
    if obs is not None and method == "rtn":
        raise HwcError("--prune-criterion obs prunes with GPTQ's update: use --ptq gptq or adaround")
    if calib is None and method != "rtn":
        raise HwcError(f"--ptq {method} needs --calib data")
    if calib is None and finetune:
        raise HwcError("--finetune needs --calib data (the inputs to fine-tune on)")
    if method != "rtn" or finetune:
        # distillation makes the pruned model's values look like the unpruned teacher's: their types come from it
        range_graph = teacher if finetune and pruned else float_graph
        ranges = value_ranges(range_graph, config, calib, notes)
        if method != "rtn":
            ranges = search_ranges(range_graph, calib, ranges, config)
        layers = run_ptq(graph, config, calib, ranges, method, prune=obs)
        if obs is not None:
            pruned["after"] = weight_figures(graph)
        if method != "rtn":
            notes.append(f"weights quantized by {method} on {len(calib[0])} calibration inputs, with bias correction "
                         "and MSE-optimal activation ranges")
        if finetune:
            notes.append(distill(graph, teacher, float_graph, config, calib, ranges, layers, finetune, labels,
                                 rescale=pruned is not None))
    assign = AssignTypes(config, ranges)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TypeWarning)
        assign.run(graph)
    notes += [str(w.message) for w in caught if issubclass(w.category, TypeWarning)]
    if calib is not None:
        notes += saturation_notes(assign.chosen, ranges)
    if verify:
        graph.verify()
    if pruned is not None:
        graph.metadata["pruning"] = pruned
    return Compiled(graph, float_graph, assign.decisions, notes, pruned)


def weight_figures(graph: Graph) -> dict:
    """Parameters, nonzero parameters and MACs per sample of the Dense/Conv layers."""
    from .analysis import layer_table

    rows = layer_table(graph)
    return {"params": sum(r["params"] for r in rows), "nonzero": sum(r["nonzero"] for r in rows),
            "macs": sum(r["macs"] for r in rows)}


def distill(graph: Graph, teacher: Graph, float_graph: Graph, config: QuantConfig, calib, ranges, layers,
            epochs: int, labels=None, rescale: bool = False) -> str:
    """Quantization-aware distillation (compiler/finetune.py) of the PTQ result: weights on their grids
    (frozen as PTQ chose them; with `rescale`, after pruning, the scale follows the weights), every
    value fake-quantized to the type AssignTypes gives it with these ranges."""
    from .finetune import finetune

    probe = graph.clone()
    AssignTypes(config, ranges).run(probe)
    types = {v.name: v.type.elem for n in probe.nodes for v in n.outputs if isinstance(v.type.elem, FixedType)}
    for n in probe.nodes:
        if n.op == "FromFloat":
            types[n.inputs[0].name] = n.output.type.elem
    floats = {n.name: n for n in float_graph.nodes}
    grids = {r.node: r.grid for r in layers}
    zero = {name: np.asarray(floats[name].inputs[1].const) == 0 for name in grids}
    # after pruning the model has more to recover: a larger step, and weight scales that follow the weights
    loss = finetune(graph, teacher, calib, epochs, grids=grids, act_types=types, masks=zero, labels=labels,
                    rescale=rescale, lr=1e-2 if rescale else 3e-3)
    return (f"fine-tuned {epochs} epochs on {len(calib[0])} inputs{' with labels' if labels is not None else ''}, "
            f"weights and activations fake-quantized (distillation loss {loss:.4g})")


def saturation_notes(chosen: dict, ranges) -> list[str]:
    """Values whose calibration range exceeds the type the compiler (or a config entry) chose."""
    out = []
    for name, t in chosen.items():
        if name in ranges:
            lo, hi = ranges[name]
            if lo < t.min or hi > t.max:
                out.append(f"calibration saw {name} in [{lo:.4g}, {hi:.4g}], outside {t} [{t.min:.4g}, {t.max:.4g}]: it saturates")
    return out


def compile_file(path, config: QuantConfig, calib=None) -> Compiled:
    return to_fixed(load_onnx(path), config, calib)
