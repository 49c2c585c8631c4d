"""One schema for cost figures, shared by `hwc compile`, `hwc inspect --json`, `hwc.json`, `hwc report`,
the sweep's results table and the bench: a figure is computed in one place and rendered in many.

A Figure is (name, value, unit, source): `name` is one of KINDS, `source` is "estimated" (a cost model
in compiler/cost, before synthesis) or "measured" (a synthesis report, e.g. `hwc synth`). A layer
carries a list of figures; both sources of the same name may sit side by side. JSON form:

    {"schema": "hwc-figures/1", "target": T, "part": P, "clock_ns": C,
     "layers": [{"node": N, "op": O, "figures": [{"name", "value", "unit", "source"}, ...]}, ...],
     "total": [{"name", "value", "unit", "source"}, ...],
     "device": {"part", "family", "capacity": {name: n}, "unit": {name: u}, "utilisation": {name: %}} | null,
     "notes": [str, ...]}
"""

from __future__ import annotations

from dataclasses import dataclass, field

SCHEMA = "hwc-figures/1"
ESTIMATED, MEASURED = "estimated", "measured"

# name -> (default unit, what it counts). Units that differ by vendor (block RAM) are set by the model.
KINDS = {
    "multipliers": ("multipliers", "multiplications in hardware after zero-skipping (shared by --reuse)"),
    "dsp": ("DSP", "multipliers mapped to DSP blocks"),
    "lut": ("LUT", "look-up tables: LUT-mapped multipliers, adder trees, LUT ROMs"),
    "ff": ("FF", "flip-flops: layer outputs, pipeline and accumulator registers"),
    "bram": ("BRAM18", "block RAM: weights (resource strategy), stream FIFOs, line buffers"),
    "latency": ("cycles", "clock cycles from the first input to the last output of one sample"),
    "latency_ns": ("ns", "latency at the clock period"),
    "ii": ("cycles", "initiation interval: cycles between two samples"),
    "macs": ("MAC", "multiply-accumulates per sample"),
    "bops": ("BOP", "bit operations per sample: MACs x weight bits x activation bits"),
    "weight_bytes": ("B", "weights and biases as stored by the target"),
    "activation_bytes": ("B", "layer outputs of one sample as stored by the target"),
    "param_bytes": ("B", "parameters of the operators the Edge TPU maps (on-chip cache 8 MiB)"),
    "ops_accel": ("ops", "operators on the accelerator"),
    "ops_cpu": ("ops", "operators falling back to the CPU"),
}
RESOURCES = ("lut", "ff", "dsp", "bram")  # what a part has capacity for


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str = ""
    source: str = ESTIMATED

    def __post_init__(self):
        if self.name not in KINDS:
            raise ValueError(f"unknown figure {self.name!r}")
        if self.source not in (ESTIMATED, MEASURED):
            raise ValueError(f"figure source must be {ESTIMATED!r} or {MEASURED!r}")
        if not self.unit:
            object.__setattr__(self, "unit", KINDS[self.name][0])

    def to_json(self) -> dict:
        v = self.value
        return {"name": self.name, "value": int(v) if float(v).is_integer() else round(float(v), 6), "unit": self.unit,
                "source": self.source}


def find(figures: list[Figure], name: str, source: str = ESTIMATED) -> Figure | None:
    return next((f for f in figures if f.name == name and f.source == source), None)


def value(figures: list[Figure], name: str, source: str = ESTIMATED, default=0):
    f = find(figures, name, source)
    return default if f is None else f.value


@dataclass
class LayerFigures:
    node: str
    op: str
    figures: list[Figure] = field(default_factory=list)

    def value(self, name: str, source: str = ESTIMATED, default=0):
        return value(self.figures, name, source, default)


@dataclass
class Figures:
    target: str
    layers: list[LayerFigures]
    total: list[Figure]
    part: str | None = None
    clock_ns: float | None = None
    device: dict | None = None  # compiler/cost/fit.py: capacity, units, utilisation of the part
    notes: list[str] = field(default_factory=list)

    def value(self, name: str, source: str = ESTIMATED, default=0):
        return value(self.total, name, source, default)

    def layer(self, node: str) -> LayerFigures | None:
        return next((l for l in self.layers if l.node == node), None)

    def add_measured(self, name: str, value: float, unit: str = "", node: str | None = None) -> None:
        """The hook for synthesis results (`hwc synth`): a measured figure next to the estimate."""
        target = self.total if node is None else self.layer(node).figures
        target[:] = [f for f in target if not (f.name == name and f.source == MEASURED)]
        est = find(target, name)
        target.append(Figure(name, value, unit or (est.unit if est else ""), MEASURED))

    def to_json(self) -> dict:
        return {"schema": SCHEMA, "target": self.target, "part": self.part, "clock_ns": self.clock_ns,
                "layers": [{"node": l.node, "op": l.op, "figures": [f.to_json() for f in l.figures]} for l in self.layers],
                "total": [f.to_json() for f in self.total], "device": self.device, "notes": list(self.notes)}

    @staticmethod
    def from_json(doc: dict) -> "Figures":
        if doc.get("schema") != SCHEMA:
            raise ValueError(f"not {SCHEMA} figures")

        def figs(items):
            return [Figure(d["name"], d["value"], d["unit"], d["source"]) for d in items]

        return Figures(doc["target"], [LayerFigures(l["node"], l["op"], figs(l["figures"])) for l in doc["layers"]],
                       figs(doc["total"]), doc.get("part"), doc.get("clock_ns"), doc.get("device"), list(doc.get("notes", [])))


def sum_layers(layers: list[LayerFigures], names, units: dict[str, str] | None = None) -> list[Figure]:
    """Totals that add up over layers (resources, MACs, bytes)."""
    units = units or {}
    out = []
    for n in names:
        vals = [f for l in layers for f in l.figures if f.name == n and f.source == ESTIMATED]
        if vals:
            out.append(Figure(n, sum(f.value for f in vals), units.get(n, vals[0].unit)))
    return out
