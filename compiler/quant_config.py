"""What the user asks for: global bit widths and modes, and per-layer overrides from a YAML file.

A layer entry is found by node name first, then by op type (e.g. `Relu:` applies to every Relu).
Each entry may set `weight`, `output` and `accum` types (any of width, int_bits, signed, rounding,
overflow; what is left out is chosen by the compiler; or a type string `ap_fixed<W,I,Q,O>`) and
`per_channel`. hls4ml-style files (`Model:`, `LayerName:`, `LayerType:` with `Precision`) are read
too (`hls4ml_layers`).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import yaml

from .errors import HwcError
from .ir.graph import Graph
from .ir.ops import has_quantizers
from .ir.types import FixedType, Overflow, Rounding
from .options import Quantization

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
        # the ranges the user may ask for are checked once, in compiler/options.py
        Quantization(wbits=self.wbits, abits=self.abits, input_bits=self.input_bits, output_bits=self.output_bits,
                     ternary=self.ternary, accum_bits=self.accum_cap, input_range=self.input_range,
                     layers=self.layers)

    @classmethod
    def for_target(cls, q: Quantization, graph: Graph, target: str, **overrides) -> "QuantConfig":
        """The config a compile for `target` uses: the user's options, the target's activation width,
        and exact graph outputs for models that carry their own quantizers."""
        carried = has_quantizers(graph)
        kw = dict(wbits=q.wbits, abits=q.abits_for(target), input_bits=q.input_bits, output_bits=q.output_bits,
                  per_channel=q.per_channel, ternary=q.ternary, rounding=q.rounding, overflow=q.overflow,
                  accum_cap=q.accum_bits, input_range=q.input_range, layers=dict(q.layers), exact_outputs=carried,
                  float_output_functions=carried and target == "sim", ptq=q.ptq)
        return cls(**{**kw, **overrides})

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


_TYPE_RE = re.compile(r"^\s*(?:ap_|ac_)?(u?)(fixed|int)\s*<\s*([^>]*)>\s*$")


def parse_type(text: str) -> dict[str, Any]:
    """`ap_fixed<W,I[,Q[,O]]>`, `ap_ufixed<…>`, `fixed<W,I>` (hls4ml), `ap_int<W>`, `ap_uint<W>` as the
    fields of a type entry; Q and O are ap names (AP_RND_CONV, AP_SAT_SYM …). Raises ValueError."""
    m = _TYPE_RE.match(str(text))
    if not m:
        raise ValueError(f"not a fixed-point type: {text!r} (expected e.g. ap_fixed<8,3,AP_RND_CONV,AP_SAT>)")
    unsigned, kind = m.group(1) == "u", m.group(2)
    args = [a.strip() for a in m.group(3).split(",") if a.strip()]
    nums = 1 if kind == "int" else 2
    if len(args) < nums or len(args) > nums + 3 or not all(re.fullmatch(r"-?\d+", a) for a in args[:nums]):
        raise ValueError(f"not a fixed-point type: {text!r}")
    width = int(args[0])
    out: dict[str, Any] = {"width": width, "int_bits": width if kind == "int" else int(args[1]), "signed": not unsigned}
    modes = args[nums:]
    if len(modes) > 2:
        raise ValueError(f"{text!r}: the saturation-bits parameter is not supported")
    for value, key, enum in zip(modes, ("rounding", "overflow"), (Rounding, Overflow)):
        name = value.removeprefix("AP_").removeprefix("AC_")
        try:
            out[key] = enum(name).value
        except ValueError:
            raise ValueError(f"{text!r}: unknown {key} mode {value!r}") from None
    if width < 1:
        raise ValueError(f"{text!r}: width must be at least 1")
    return out


def _check_entry(name: str, entry: Any) -> None:
    if not isinstance(entry, dict) or set(entry) - _LAYER_KEYS:
        raise HwcError(f"config entry {name!r}: expected keys among {sorted(_LAYER_KEYS)}")
    for key in ("weight", "output", "accum"):
        if isinstance(entry.get(key), str):
            try:
                entry[key] = parse_type(entry[key])
            except ValueError as e:
                raise HwcError(f"config entry {name!r}.{key}: {e}") from None
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
        if "width" in spec and (not _is_int(spec["width"]) or spec["width"] < 1):
            raise HwcError(f"config entry {name!r}.{key}: width must be a positive integer")
        if "int_bits" in spec and not _is_int(spec["int_bits"]):
            raise HwcError(f"config entry {name!r}.{key}: int_bits must be an integer, got {spec['int_bits']!r}")
        if "signed" in spec and not isinstance(spec["signed"], bool):
            raise HwcError(f"config entry {name!r}.{key}: signed must be true or false, got {spec['signed']!r}")
    if "per_channel" in entry and not isinstance(entry["per_channel"], bool):
        raise HwcError(f"config entry {name!r}.per_channel must be true or false, got {entry['per_channel']!r}")
    prune = entry.get("prune", 0)
    if isinstance(prune, bool) or not (isinstance(prune, (int, float)) and 0 <= prune < 1):
        raise HwcError(f"config entry {name!r}.prune: a fraction in [0, 1)")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_layers(layers, path=None) -> None:
    """Every per-layer entry has known keys and values of the right type."""
    if not isinstance(layers, Mapping):
        raise HwcError("expected a mapping with a `layers:` key", path)
    try:
        for name, entry in layers.items():
            _check_entry(str(name), entry)
    except HwcError as e:
        raise e.at(path=path) from None


def type_to_dict(t: FixedType) -> dict[str, Any]:
    return {"width": t.width, "int_bits": t.int_bits, "signed": t.signed, "rounding": t.rounding.value,
            "overflow": t.overflow.value}


# hls4ml layer classes -> hwc IR ops; Precision keys -> entry keys (bias: hwc keeps biases exact at the
# accumulator's precision, so a bias type is read and not applied)
HLS4ML_TYPES = {"Dense": "Dense", "Conv1D": "Conv", "Conv2D": "Conv", "DepthwiseConv2D": "Conv", "Activation": "Relu",
                "ReLU": "Relu", "LeakyReLU": "LeakyRelu", "Softmax": "Softmax", "Pooling1D": "AveragePool",
                "Pooling2D": "AveragePool", "GlobalPooling2D": "GlobalAveragePool", "Merge": "Add", "Concatenate": "Concat",
                "BatchNormalization": "BatchNormalization"}
HLS4ML_KEYS = {"weight": "weight", "result": "output", "accum": "accum", "bias": None, "default": "all", "maximum": None}


def _hls4ml_precision(where: str, precision: Any) -> dict[str, Any]:
    """An hls4ml `Precision` (one type string for everything, or {weight, bias, result, accum}) as an entry."""
    specs = precision if isinstance(precision, dict) else {"default": precision}
    entry: dict[str, Any] = {}
    for key, text in specs.items():
        if key not in HLS4ML_KEYS:
            raise HwcError(f"{where}: Precision key {key!r} is not one of {sorted(HLS4ML_KEYS)}")
        if HLS4ML_KEYS[key] is None:
            continue
        try:
            t = parse_type(text)
        except ValueError as e:
            raise HwcError(f"{where}: {e}") from None
        for k in (("weight", "output", "accum") if key == "default" else (HLS4ML_KEYS[key],)):
            entry.setdefault(k, dict(t))
    if "accum" in entry:
        entry["accum"] = {"width": entry["accum"]["width"]}  # the accumulator keeps the products' fraction
    return entry


def hls4ml_layers(doc: dict) -> dict[str, dict[str, Any]]:
    """hls4ml's `Model` / `LayerType` / `LayerName` precisions as hwc layer entries: LayerName entries by
    node name (over the Model default), LayerType by op (hls4ml class names mapped), Model for every
    Dense/Conv/activation. ReuseFactor and Strategy are hwc's --reuse/--strategy options, not read here."""
    model = doc.get("Model") or {}
    default = _hls4ml_precision("Model", model["Precision"]) if isinstance(model, dict) and "Precision" in model else {}
    layers: dict[str, dict[str, Any]] = {}
    if default:
        for op in ("Dense", "Conv", "Relu", "LeakyRelu", "Clip", "AveragePool", "GlobalAveragePool", "Add", "Concat"):
            layers[op] = {k: dict(v) for k, v in default.items() if op in ("Dense", "Conv") or k == "output"}
    for cls, entry in (doc.get("LayerType") or {}).items():
        if cls not in HLS4ML_TYPES:
            raise HwcError(f"LayerType {cls!r}: not a layer class hwc maps (one of {', '.join(sorted(HLS4ML_TYPES))})")
        if isinstance(entry, dict) and "Precision" in entry:
            op = HLS4ML_TYPES[cls]
            layers[op] = {**layers.get(op, {}), **_hls4ml_precision(f"LayerType {cls}", entry["Precision"])}
    for name, entry in (doc.get("LayerName") or {}).items():
        if isinstance(entry, dict) and "Precision" in entry:
            layers[str(name)] = {**{k: dict(v) for k, v in default.items()},
                                 **_hls4ml_precision(f"LayerName {name}", entry["Precision"])}
    return layers


def load_layers(path) -> dict[str, dict[str, Any]]:
    """Read the `layers:` mapping of a config file (YAML; other top-level keys are for reading only),
    or the precisions of an hls4ml-style configuration (`Model`, `LayerName`, `LayerType`)."""
    try:
        with open(path) as f:
            doc = yaml.safe_load(f) or {}
    except OSError as e:
        raise HwcError(f"cannot read config: {e.strerror}", str(path)) from None
    except yaml.YAMLError as e:
        raise HwcError(f"not valid YAML: {str(e).splitlines()[0]}", str(path)) from None
    if isinstance(doc, dict) and {"Model", "LayerName", "LayerType"} & set(doc):
        try:
            layers = hls4ml_layers(doc)
        except HwcError as e:
            raise e.at(path=path) from None
    else:
        layers = doc.get("layers", {}) if isinstance(doc, dict) else None
    check_layers(layers, str(path))
    return {str(k): v for k, v in layers.items()}
