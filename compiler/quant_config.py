"""What the user asks for: global bit widths and modes, and per-layer overrides from a YAML file.

A layer entry is found by node name first, then by op type (e.g. `Relu:` applies to every Relu).
Each entry may set `weight`, `output` and `accum` types (any of width, int_bits, signed, rounding,
overflow; what is left out is chosen by the compiler) and `per_channel`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import HwcError
from .ir.types import FixedType, Overflow, Rounding

_TYPE_KEYS = {"width", "int_bits", "signed", "rounding", "overflow"}
_LAYER_KEYS = {"weight", "output", "accum", "per_channel", "prune"}


@dataclass
class QuantConfig:
    wbits: int = 8
    abits: int = 16
    input_bits: int | None = None  # default: max(abits, 8)
    output_bits: int = 16  # graph outputs (logits, probabilities)
    per_channel: bool = False
    ternary: bool = False
    rounding: Rounding = Rounding.RND
    overflow: Overflow = Overflow.SAT
    accum_cap: int | None = None
    input_range: tuple[float, float] | None = None
    table_bits: int = 10
    param_bits: int = 16  # BatchNorm scales, LeakyRelu alpha, rescale multipliers
    recip_bits: int = 16  # average pooling reciprocals
    float_output_functions: bool = False  # keep a final Softmax/Sigmoid/Tanh in float (target sim)
    exact_outputs: bool = False  # graph outputs of Dense/Conv keep the exact accumulator (models with their own quantizers)
    layers: dict[str, dict[str, Any]] = field(default_factory=dict)
    ptq: str | None = None  # rtn | gptq | adaround (compiler/quantize/ptq.py); None: gptq with calibration data

    def __post_init__(self):
        if not 1 <= self.wbits <= 8:
            raise HwcError(f"--wbits must be 1..8, got {self.wbits}")
        if not 2 <= self.abits <= 32:
            raise HwcError(f"--abits must be 2..32, got {self.abits}")
        if self.ternary and self.wbits != 2:
            raise HwcError("--ternary needs --wbits 2")
        if self.ptq not in (None, "rtn", "gptq", "adaround"):
            raise HwcError(f"--ptq must be rtn, gptq or adaround, got {self.ptq!r}")
        if self.accum_cap is not None and self.accum_cap < 2:
            raise HwcError("--accum-bits must be at least 2")
        for name, entry in self.layers.items():
            _check_entry(name, entry)

    @property
    def in_bits(self) -> int:
        return self.input_bits if self.input_bits is not None else max(self.abits, 8)

    def prune_fractions(self) -> dict[str, float]:
        """Per-layer pruning fractions from the config file (by node name or op type)."""
        return {k: float(v["prune"]) for k, v in self.layers.items() if "prune" in v}

    def layer(self, node_name: str, op: str) -> dict[str, Any]:
        """The per-layer entry for a node: by name, else by op type, else empty."""
        return self.layers.get(node_name) or self.layers.get(op) or {}

    def override(self, chosen: FixedType, spec: dict | None) -> FixedType:
        """`chosen` with the fields a config entry sets."""
        if not spec:
            return chosen
        kw = {f.name: getattr(chosen, f.name) for f in dataclasses.fields(FixedType)}
        for k, v in spec.items():
            kw[k] = Rounding(v) if k == "rounding" else Overflow(v) if k == "overflow" else v
        return FixedType(**kw)


def _check_entry(name: str, entry: Any) -> None:
    if not isinstance(entry, dict) or set(entry) - _LAYER_KEYS:
        raise HwcError(f"config entry {name!r}: expected keys among {sorted(_LAYER_KEYS)}")
    for key in ("weight", "output", "accum"):
        spec = entry.get(key)
        if spec is None:
            continue
        if not isinstance(spec, dict) or set(spec) - _TYPE_KEYS:
            raise HwcError(f"config entry {name!r}.{key}: expected keys among {sorted(_TYPE_KEYS)}")
        try:
            if "rounding" in spec:
                Rounding(spec["rounding"])
            if "overflow" in spec:
                Overflow(spec["overflow"])
        except ValueError as e:
            raise HwcError(f"config entry {name!r}.{key}: {e}") from None
        if "width" in spec and (not isinstance(spec["width"], int) or spec["width"] < 1):
            raise HwcError(f"config entry {name!r}.{key}: width must be a positive integer")
    if "prune" in entry and not (isinstance(entry["prune"], (int, float)) and 0 <= entry["prune"] < 1):
        raise HwcError(f"config entry {name!r}.prune: a fraction in [0, 1)")


def type_to_dict(t: FixedType) -> dict[str, Any]:
    return {"width": t.width, "int_bits": t.int_bits, "signed": t.signed, "rounding": t.rounding.value,
            "overflow": t.overflow.value}


def load_layers(path) -> dict[str, dict[str, Any]]:
    """Read the `layers:` mapping of a config file (YAML; other top-level keys are for reading only)."""
    try:
        with open(path) as f:
            doc = yaml.safe_load(f) or {}
    except OSError as e:
        raise HwcError(f"cannot read config: {e.strerror}", str(path)) from None
    except yaml.YAMLError as e:
        raise HwcError(f"not valid YAML: {str(e).splitlines()[0]}", str(path)) from None
    layers = doc.get("layers", {}) if isinstance(doc, dict) else None
    if not isinstance(layers, dict):
        raise HwcError("expected a mapping with a `layers:` key", str(path))
    try:
        for name, entry in layers.items():
            _check_entry(str(name), entry)
    except HwcError as e:
        raise e.at(path=path) from None
    return {str(k): v for k, v in layers.items()}
