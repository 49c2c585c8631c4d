"""From an ONNX file to the fixed-point graph every fixed-point target starts from."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .errors import HwcError
from .frontend.onnx_loader import load_onnx
from .ir.graph import Graph
from .passes.assign_types import AssignTypes, Decision, TypeWarning
from .passes.base import PassManager
from .passes.fold_constants import FoldConstants
from .passes.fuse_matmul_add import FuseMatMulAdd
from .passes.lower_quantizers import LowerQuantizers
from .passes.lower_scaled_layers import LowerScaledLayers
from .passes.remove_dead_nodes import RemoveDeadNodes
from .pipeline import optimize
from .quant_config import QuantConfig
from .ranges import calibrate, intervals

DEFAULT_INPUT_RANGE = (-1.0, 1.0)


@dataclass
class Compiled:
    graph: Graph
    float_graph: Graph
    decisions: list[Decision]
    notes: list[str] = field(default_factory=list)


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


def to_fixed(graph: Graph, config: QuantConfig, calib: list[np.ndarray] | None = None, verify: bool = True) -> Compiled:
    """Quantize an imported (float or QONNX/QDQ) graph into the fixed-point form."""
    notes: list[str] = []
    optimize(graph)
    float_graph = graph.clone()
    ranges = LazyRanges(float_graph, config, calib, notes)
    PassManager([LowerScaledLayers(), LowerQuantizers(), FoldConstants(), FuseMatMulAdd(), RemoveDeadNodes()],
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
    return Compiled(graph, float_graph, assign.decisions, notes)


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
