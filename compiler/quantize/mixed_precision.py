"""Mixed precision under an accuracy budget: per-layer weight widths and per-activation widths that
minimise bit operations, Σ MACs · weight bits · input bits over Dense/Conv, while the compiled model
stays within `max_drop` points of the float model on validation data (top-1 accuracy with labels,
top-1 agreement with the float model without).

Every figure comes from the bit-accurate simulator: the sensitivity of each knob (one layer's
weight width or one activation's width) lowered alone, then a greedy search that lowers, one step
at a time, the knob with the most bit operations saved per point of measured sensitivity, keeping a
step only if the whole configuration, compiled and simulated, is still within the budget (HAWQ /
NNCF accuracy-control style). The result is a set of `--config` layer entries (widths only), which
reproduce the same model when passed back with the same options.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ..analysis import macs
from ..ir.graph import Graph
from ..ir.types import FixedType
from ..quant_config import QuantConfig
from ..sim.run import simulate

WEIGHT_LEVELS = (8, 6, 4, 3, 2)
ACT_LEVELS = (8, 6, 4)
ROUNDED_OPS = frozenset({"Relu", "LeakyRelu", "Clip", "AveragePool", "GlobalAveragePool", "Add", "Sub", "Concat"})


@dataclass(frozen=True)
class Knob:
    node: str
    kind: str  # "weight" | "output"
    levels: tuple[int, ...]


@dataclass
class Search:
    knobs: list[Knob]
    widths: dict[Knob, int]
    float_metric: float
    metric: float
    bitops: int
    bitops_w8a8: int
    evaluations: int
    log: list[str] = field(default_factory=list)

    config: QuantConfig | None = None  # the base configuration with the chosen widths in its layers


def bit_operations(graph: Graph) -> int:
    """Σ MACs · weight bits · input bits over the Dense/Conv of a fixed-point graph (binary and
    ternary weights count 1 and 2 bits)."""
    total = 0
    for n in graph.nodes:
        if n.op in ("Dense", "Conv") and isinstance(n.inputs[1].type.elem, FixedType):
            wt, xt = n.inputs[1].type.elem, n.inputs[0].type.elem
            m = np.asarray(n.inputs[1].const)
            wbits = 1 if wt.width == 2 and m.size and set(np.unique(m)) <= {-1, 1} else wt.width
            total += macs(n) * wbits * xt.width
    return total


def search(compile_fn: Callable[[QuantConfig], Graph], float_graph: Graph, config: QuantConfig,
           val: Sequence[np.ndarray], labels: np.ndarray | None, max_drop: float) -> Search:
    """compile_fn(config) -> the fixed-point graph; float_graph: the optimized float model."""
    ref = simulate(float_graph, list(val))[0].argmax(1)
    truth = ref if labels is None else np.asarray(labels).reshape(-1)
    float_metric = 100.0 * float((ref == truth).mean())
    evaluations = 0

    def config_for(widths: dict[Knob, int]) -> QuantConfig:
        layers = {k: dict(v) for k, v in config.layers.items()}
        for k, w in widths.items():
            layers.setdefault(k.node, {})
            layers[k.node] = {**layers[k.node], k.kind: {**layers[k.node].get(k.kind, {}), "width": w}}
        return dataclasses.replace(config, layers=layers)

    def evaluate(widths):
        nonlocal evaluations
        evaluations += 1
        g = compile_fn(config_for(widths))
        y = simulate(g, list(val), mode="fixed")[0].argmax(1)
        return 100.0 * float((y == truth).mean()), bit_operations(g)

    probe = compile_fn(dataclasses.replace(config, wbits=8, abits=8))
    knobs = [Knob(n.name, "weight", WEIGHT_LEVELS) for n in probe.toposort() if n.op in ("Dense", "Conv")
             and n.name in {m.name for m in float_graph.nodes}]
    outputs = set(id(v) for v in probe.outputs)
    for n in probe.toposort():
        t = n.output.type.elem if n.outputs else None
        if (n.op in ROUNDED_OPS or n.op in ("Dense", "Conv")) and isinstance(t, FixedType) and t.width == 8 \
                and id(n.output) not in outputs and all(u.node.op != "ToFloat" for u in n.output.uses):
            knobs.append(Knob(n.name, "output", ACT_LEVELS))
    widths = {k: k.levels[0] for k in knobs}
    metric, bitops = evaluate(widths)
    bitops_w8a8 = bit_operations(probe)
    log = [f"w8a8: {metric:.2f} (float {float_metric:.2f}), {bitops:,} bit operations"]
    if float_metric - metric > max_drop:
        log.append("uniform w8a8 is already outside the budget: kept")
        return Search(knobs, widths, float_metric, metric, bitops, bitops_w8a8, evaluations, log, config_for(widths))
    sens: dict[tuple[Knob, int], float] = {}
    saved: dict[tuple[Knob, int], int] = {}
    for k in knobs:
        for lvl in k.levels[1:]:
            m, b = evaluate({**widths, k: lvl})
            sens[(k, lvl)] = max(metric - m, 0.0)
            saved[(k, lvl)] = bitops - b
    rejected: set[tuple[Knob, int]] = set()
    while True:
        steps = []
        for k in knobs:
            i = k.levels.index(widths[k])
            if i + 1 < len(k.levels) and (k, k.levels[i + 1]) not in rejected:
                lvl = k.levels[i + 1]
                gain = saved[(k, lvl)] - (saved[(k, k.levels[i])] if i > 0 else 0)
                steps.append((gain / (sens[(k, lvl)] + 0.05), gain, k, lvl))
        steps = [s for s in steps if s[1] > 0]
        if not steps:
            break
        _, _, k, lvl = max(steps, key=lambda s: (s[0], s[1], s[2].node, s[2].kind))
        m, b = evaluate({**widths, k: lvl})
        if float_metric - m <= max_drop:
            widths[k], metric, bitops = lvl, m, b
            log.append(f"{k.node} {k.kind} -> {lvl} bits: {m:.2f}, {b:,} bit operations")
        else:
            rejected.add((k, lvl))
    return Search(knobs, widths, float_metric, metric, bitops, bitops_w8a8, evaluations, log, config_for(widths))


YAML_NAME = "precision.yaml"


def choose(graph: Graph, options, yaml_path) -> tuple[object, str, list[str]]:
    """`--max-drop`: search for `options` (CompileOptions) on the imported graph; returns the options
    with the chosen widths as their per-layer config, the YAML text of those layers (written to
    `yaml_path` by the caller), and the summary lines."""
    import yaml

    from ..compile import to_fixed
    from ..options import MaxDrop
    from ..pipeline import optimize
    from ..sim.run import check_inputs

    md = options.max_drop
    calib = options.calib.inputs(graph)
    val = check_inputs(graph, [md.val], what=[f"validation data {md.val_path}"])
    config = QuantConfig.for_target(options.quant, graph, options.target)
    float_graph = graph.clone()
    optimize(float_graph)
    result = search(lambda c: to_fixed(graph.clone(), c, calib, pruning=options.prune, labels=options.calib.labels).graph,
                    float_graph, config, val, md.labels, md.points)
    what = "accuracy" if md.labels is not None else "top-1 agreement with float"
    lines = [f"--max-drop {md.points}: {what} {result.metric:.2f} % on {md.val_path} (float {result.float_metric:.2f} %), "
             f"{result.bitops:,} bit operations = {100 * result.bitops / result.bitops_w8a8:.1f} % of uniform w8a8 "
             f"({result.evaluations} configurations simulated); widths written to {yaml_path}"]
    lines += [f"  {k.node}: {k.kind} {result.widths[k]} bits" for k in result.knobs]
    layers = {k: v for k, v in result.config.layers.items()}
    text = (f"# chosen by hwc compile --max-drop {md.points} on {md.val_path}: {what} {result.metric:.2f} %, float "
            f"{result.float_metric:.2f} %\n# pass back with --config (and the same --calib and options) for the same "
            "model\n" + yaml.safe_dump({"layers": layers}, sort_keys=False))
    quant = dataclasses.replace(options.quant, layers=layers, config=str(yaml_path))
    return dataclasses.replace(options, quant=quant, max_drop=MaxDrop()), text, lines
