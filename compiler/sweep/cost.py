"""Cost figures of a compiled (typed) graph that need no target model: bit operations and parameter bits.

BOPs = Σ over Dense/Conv of (MACs after zero-skipping) × weight bits × input activation bits, where a
layer's MACs after zero-skipping are its MACs × nonzero weights / weights (exact: every weight of a
Dense or Conv is used the same number of times per sample). Parameter bits = Σ nonzero weights × weight
bits. Figures are a dict so that per-target estimates (LUTs, DSPs, latency) slot in beside them:
`target_figures` reads the totals a backend wrote into the output's `hwc.json` (schema hwc-figures/1).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..analysis import macs
from ..ir.graph import Graph
from ..ir.types import AffineType, FixedType, FloatType, IntType

COMPUTE_OPS = ("Dense", "Conv")


def bits_of(elem) -> int:
    """Storage bits of one element of a tensor type."""
    if isinstance(elem, FixedType):
        return elem.width
    if isinstance(elem, AffineType):
        return bits_of(elem.storage)
    if isinstance(elem, (IntType, FloatType)):
        return elem.bits
    raise TypeError(f"no bit width for {elem!r}")


def cost_figures(graph: Graph) -> dict[str, int]:
    bops = param_bits = total_macs = 0
    for n in graph.toposort():
        if n.op not in COMPUTE_OPS:
            continue
        w = n.inputs[1]
        nonzero = int(np.count_nonzero(w.const))
        layer_macs = macs(n) // int(w.const.size) * nonzero
        wbits = bits_of(w.type.elem)
        total_macs += layer_macs
        bops += layer_macs * wbits * bits_of(n.inputs[0].type.elem)
        param_bits += nonzero * wbits
    return {"bops": bops, "param_bits": param_bits, "macs": total_macs}


def target_figures(outdir: Path) -> dict[str, float]:
    """The total figures in `outdir/hwc.json` ("figures": {"total": [{"name", "value", "source"}, ...]}), by
    name; a measured figure as NAME_measured. Empty when the backend wrote none."""
    manifest = Path(outdir) / "hwc.json"
    if not manifest.exists():
        return {}
    total = (json.loads(manifest.read_text()).get("figures") or {}).get("total") or []
    return {f["name"] + ("_measured" if f.get("source") == "measured" else ""): f["value"] for f in total}
