"""MSE-optimal activation ranges: for every value that is rounded to `abits`, the power-of-two range
(the one min/max calibration gives, or 1-3 octaves narrower, saturating the largest values) whose
type quantizes the calibration values with the least squared error (the type's own rounding and
overflow). The result is a ranges dict that makes AssignTypes choose that type."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..ir.graph import Graph
from ..ir.types import FixedType
from ..passes.fixed_type_rules import type_for_range
from ..quant_config import QuantConfig
from ..sim.fixed import from_float, to_float
from ..sim.run import simulate


def search_ranges(graph: Graph, calib: Sequence[np.ndarray], ranges: dict, config: QuantConfig,
                  octaves: int = 3) -> dict[str, tuple[float, float]]:
    """`ranges` with each searched value's range narrowed to its best type's range."""
    out = dict(ranges)
    outputs = {v.name for v in graph.outputs}
    _, kept = simulate(graph, calib, keep=lambda n: True)
    if config.input_range is None:
        kept.update({v.name: x for v, x in zip(graph.inputs, calib)})
    nodes = {o.name: n for n in graph.nodes for o in n.outputs}
    for name, x in kept.items():
        if name in outputs or name not in ranges or not np.issubdtype(np.asarray(x).dtype, np.floating):
            continue
        lo, hi = ranges[name]
        n = nodes.get(name)
        spec = config.layer(n.name, n.op).get("output") or {} if n is not None else {}
        if "int_bits" in spec:
            continue
        bits = spec.get("width", config.abits if n is not None else config.in_bits)
        base = type_for_range(lo, hi, bits, config.rounding, config.overflow)
        x = np.asarray(x, np.float64).ravel()
        best = None
        for d in range(octaves + 1):
            t = FixedType(base.width, base.int_bits - d, base.signed, base.rounding, base.overflow)
            err = float(np.sum((to_float(from_float(x, t), t) - x) ** 2))
            if best is None or err < best[0] * (1 - 1e-9):
                best = (err, t)
        t = best[1]
        if t.int_bits != base.int_bits:
            out[name] = (max(lo, -t.max) if lo < 0 else lo, min(hi, t.max))
    return out
