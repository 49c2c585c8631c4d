"""The translation units of an HLS project: each layer becomes a function `layerK` (its kernel call and
constant arrays), inlined into the top function (HWC_INLINE, so synthesis sees the same top as one
file would give), and the layers are grouped into a few `firmware/layers/partN.cpp` files that g++
compiles in parallel and Vitis/Intel HLS link into one design.

Grouping: a layer's cost is one kernel instantiation plus its constant text (LAYER_CHARS characters
count as one more); the number of parts is the total over PART_COST, between 1 and MAX_PARTS (it
depends on the model only, never on the machine); layers go, largest first, to the cheapest part
(ties: the lowest part number). Output is deterministic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .hls_text import Layer

LAYER_CHARS = 100_000  # characters of constant arrays that cost g++ about one kernel instantiation
# cost units per translation unit. Measured after the raw-mantissa kernels (g++ -O1, CPU s): a part pays
# ~0.3 s for its first kernel's ap_types instantiations, each further Dense+ReLU ~0.15 s; the testbench
# ~0.5 s and the top ~0.1 s run beside it on the second core. So a small model's one part (digits MLP:
# 0.74 s) already ends with testbench + top, and the autoencoder's two parts (1.0 s each) beat one (1.8 s)
# and three (~0.75 s each plus the testbench on two cores).
PART_COST = 20.0
MAX_PARTS = 8


@dataclass
class Part:
    """One translation unit `firmware/layers/part{index}.cpp`."""

    index: int
    layers: list[Layer] = field(default_factory=list)
    cost: float = 0.0

    @property
    def path(self) -> str:
        return f"firmware/layers/part{self.index}.cpp"


def layer_cost(layer: Layer) -> float:
    return 1.0 + sum(map(len, layer.arrays)) / LAYER_CHARS


def group_layers(layers: list[Layer]) -> list[Part]:
    """Layers grouped into balanced parts (longest processing time first); each part's layers in order."""
    costs = {layer.index: layer_cost(layer) for layer in layers}
    n = max(1, min(MAX_PARTS, len(layers), math.ceil(sum(costs.values()) / PART_COST)))
    parts = [Part(i) for i in range(1, n + 1)]
    for layer in sorted(layers, key=lambda ly: (-costs[ly.index], ly.index)):
        part = min(parts, key=lambda p: (p.cost, p.index))
        part.layers.append(layer)
        part.cost += costs[layer.index]
    for p in parts:
        p.layers.sort(key=lambda ly: ly.index)
    return [p for p in parts if p.layers]


def wrap(layer: Layer, params: list[tuple[str, str]]) -> None:
    """Move the layer's kernel statements into `void layer{K}(params)` (params: (name, declaration),
    deduplicated by name; the statements use those names) and call it from the top function."""
    seen, decls, names = set(), [], []
    for name, decl in params:
        if name not in seen:
            seen.add(name)
            decls.append(decl)
            names.append(name)
    layer.body = layer.calls
    layer.signature = f"void layer{layer.index}({', '.join(decls)})"
    layer.calls = [f"layer{layer.index}({', '.join(names)});"]
