"""Cost of a model as a processor runs it (openvino, ncs2, sim), per layer from the typed IR:
- macs: multiply-accumulates per sample (compiler/analysis.py), zero weights included (a CPU/VPU
  does not skip them);
- bops: bit operations, MACs x weight bits x input bits (the measure of Baskin et al., "UNIQ", 2021);
- weight_bytes: constants as the target stores them (`weight_bits`), activation_bytes: the layer's
  output for one sample at `act_bits` per value.
All figures are "estimated" (counted, not timed).
"""

from __future__ import annotations

import math

from hwc.compiler.analysis import macs
from hwc.compiler.ir.graph import Graph
from hwc.compiler.ir.types import FixedType

from .figures import Figure, Figures, LayerFigures, sum_layers

SKIP = ("FromFloat", "ToFloat")


def width(t) -> int:
    return t.width if isinstance(t, FixedType) else 32


def _per_sample(v) -> int:
    s = v.type.shape
    return math.prod(1 if d is None else d for d in (s[1:] if s and s[0] is None else s))


def ops_figures(g: Graph, target: str, weight_bits=None, act_bits=None) -> Figures:
    """weight_bits(node, value) and act_bits(value) give stored bits per scalar (default: the IR type's width)."""
    weight_bits = weight_bits or (lambda n, v: width(v.type.elem))
    act_bits = act_bits or (lambda v: width(v.type.elem))
    layers = []
    for n in g.toposort():
        if n.op in SKIP:
            continue
        m = macs(n)
        figs = [Figure("macs", m)]
        if m:
            x, w = n.inputs[0], n.inputs[1]
            figs.append(Figure("bops", m * width(w.type.elem) * width(x.type.elem)))
        consts = [v for v in n.inputs[1:] if v is not None and v.const is not None]
        wb = sum(v.const.size * weight_bits(n, v) for v in consts)
        figs += [Figure("weight_bytes", math.ceil(wb / 8)), Figure("activation_bytes", math.ceil(_per_sample(n.output) * act_bits(n.output) / 8))]
        layers.append(LayerFigures(n.name, n.op, figs))
    total = sum_layers(layers, ("macs", "bops", "weight_bytes", "activation_bytes"))
    return Figures(target, layers, total)


def ops_line(figs: Figures) -> str:
    return (f"estimated per sample: {figs.value('macs'):,} MACs, {figs.value('bops'):,} bit operations, "
            f"weights {figs.value('weight_bytes'):,} B, activations {figs.value('activation_bytes'):,} B")
