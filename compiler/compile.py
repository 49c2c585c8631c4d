"""From an ONNX file to the fixed-point graph every fixed-point target starts from."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .errors import HwcError
from .frontend.onnx_loader import load_onnx
from .ir.graph import Graph
from .passes.assign_types import AssignTypes, Decision, TypeWarning, input_port_type
from .passes.base import PassManager
from .passes.fold_constants import FoldConstants
from .passes.fuse_matmul_add import FuseMatMulAdd
from .passes.lower_quantizers import LowerQuantizers
from .passes.lower_scaled_layers import LowerScaledLayers
from .passes.remove_dead_nodes import RemoveDeadNodes
from .pipeline import optimize
from .options import PruneOptions
from .quant_config import QuantConfig
from .ranges import calibrate, intervals

DEFAULT_INPUT_RANGE = (-1.0, 1.0)


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
    from .analysis import layer_table
    from .passes.prune_channels import PruneChannels
    from .passes.prune_weights import PruneWeights

    per_layer = config.prune_fractions()
    if options.fraction <= 0 and not per_layer:
        return None

    def figures():
        rows = layer_table(graph)
        return {"params": sum(r["params"] for r in rows), "nonzero": sum(r["nonzero"] for r in rows),
                "macs": sum(r["macs"] for r in rows)}

    before = figures()
    teacher = graph.clone() if options.finetune else None
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
    if options.finetune:
        if calib is None:
            raise HwcError("--finetune needs --calib data (the inputs to fine-tune on)")
        from .finetune import finetune

        loss = finetune(graph, teacher, calib, options.finetune, config.wbits)
        notes.append(f"fine-tuned {options.finetune} epochs on {len(calib[0])} inputs (distillation loss {loss:.4g})")
    graph.verify()
    after = figures()
    return {"mode": options.mode, "fraction": options.fraction, "criterion": options.criterion, "refit": options.refit,
            "finetune": options.finetune, "before": before, "after": after}


def to_fixed(graph: Graph, config: QuantConfig, calib: list[np.ndarray] | None = None, verify: bool = True,
             pruning: PruneOptions | None = None) -> Compiled:
    """Quantize an imported (float or QONNX/QDQ) graph into the fixed-point form (pruned first if asked)."""
    notes: list[str] = []
    optimize(graph)
    pruned = prune(graph, pruning, config, calib, notes) if pruning is not None else None
    float_graph = graph.clone()
    ranges = LazyRanges(float_graph, config, calib, notes)
    def port_type(v):
        return input_port_type(config, *(config.input_range or ranges[v.name]))

    PassManager([LowerScaledLayers(input_type=port_type), LowerQuantizers(), FoldConstants(), FuseMatMulAdd(), RemoveDeadNodes()],
                verify=verify).run(graph)
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
