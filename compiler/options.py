"""What a compile is asked for, typed and checked once, before the target is chosen.

`CompileOptions` is made of small frozen dataclasses: `Quantization`, `PruneOptions`, `Calibration`,
`HlsOptions`, `TfliteOptions`. Each checks its own fields when it is made, and `CompileOptions`
checks what spans two of them (e.g. `--refit` needs calibration data), the same way for every
target. `compiler/commands` builds one from the command line; any other caller (a sweep, a test)
builds one directly and passes it to `compile_model`. Backends read it and never the command line.

A checking failure is an `HwcError` (one line, exit code 2 in the CLI).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from .errors import HwcError
from .ir.types import Overflow, Rounding

WBITS = (1, 8)  # weights: 1 = binary ±2^k
FEATURE_BITS = (2, 32)  # activations, input and output ports
#: activation bits a target uses when --abits is not given (others: 16)
DEFAULT_ABITS = {"tflite": 8, "edgetpu": 8, "openvino": 8, "ncs2": 8}
PRUNE_MODES = ("weights", "neurons", "channels")
PRUNE_CRITERIA = ("l1", "l2", "activation", "reconstruction", "obs")  # obs: jointly with GPTQ (compiler/quantize)
PRUNE_SCOPES = ("layer", "global")
CALIB_CRITERIA = ("activation", "reconstruction", "obs")  # criteria that run the model on calibration data
PTQ_METHODS = ("rtn", "gptq", "adaround")  # compiler/quantize/ptq.py
MAX_DROP_TARGETS = ("sim", "xilinx", "intel")
HLS_IO = ("parallel", "stream")
HLS_STRATEGIES = ("latency", "resource")
RESOLVERS = ("ref", "xnnpack", "builtin")
RTL_IO = ("axis", "parallel")
RTL_MULT = ("adders", "shared", "dsp", "auto")
RTL_CONV = ("auto", "unrolled", "stream")


def _bits(name: str, value, lo: int, hi: int, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise HwcError(f"{name} must be {lo}..{hi}, got {value}")


def _choice(name: str, value, choices) -> None:
    if value not in choices:
        raise HwcError(f"{name} must be one of {', '.join(choices[:-1])} or {choices[-1]}, got {value!r}")


def range_text(r: tuple[float, float]) -> str:
    """LO,HI as the user would write it: integers without a fraction, other values exactly (repr)."""
    return ",".join(str(int(x)) if float(x).is_integer() else repr(float(x)) for x in r)


def parse_range(text: str) -> tuple[float, float]:
    """`--input-range LO,HI`: two finite numbers, LO < HI."""
    try:
        lo, hi = (float(x) for x in text.split(","))
    except ValueError:
        raise HwcError(f"--input-range must be LO,HI (two numbers), got {text!r}") from None
    return check_range((lo, hi), text)


def check_range(r, text=None) -> tuple[float, float]:
    lo, hi = (float(x) for x in r)
    shown = text if text is not None else range_text((lo, hi)) if all(map(math.isfinite, (lo, hi))) else f"{lo},{hi}"
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise HwcError(f"--input-range needs finite numbers, got {shown!r}")
    if not lo < hi:
        raise HwcError(f"--input-range needs LO < HI, got {shown!r}")
    return lo, hi


# ---- per-layer entries of a --config file (read by compiler/quant_config.py) --------------------

_TYPE_KEYS = {"width", "int_bits", "signed", "rounding", "overflow"}
_LAYER_KEYS = {"weight", "output", "accum", "per_channel", "prune"}


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


@dataclass(frozen=True)
class Quantization:
    """Bit widths and modes for float models (models with their own quantizers keep theirs)."""

    wbits: int = 8
    abits: int | None = None  # None: the target's natural width (DEFAULT_ABITS, else 16)
    input_bits: int | None = None  # None: max(abits, 8)
    output_bits: int = 16
    ternary: bool = False
    per_channel: bool = False
    rounding: Rounding = Rounding.RND
    overflow: Overflow = Overflow.SAT
    accum_bits: int | None = None  # cap on accumulator widths (they then wrap); None: never overflows
    input_range: tuple[float, float] | None = None  # declared input range for interval analysis
    config: str | None = None  # the per-layer YAML file the layers came from (messages, manifest)
    layers: Mapping[str, dict[str, Any]] = field(default_factory=dict)  # its checked `layers:` entries
    ptq: str | None = None  # weight quantization method; None: gptq with calibration data, rtn without

    def __post_init__(self):
        _bits("--wbits", self.wbits, *WBITS)
        if self.ptq is not None:
            _choice("--ptq", self.ptq, PTQ_METHODS)
        _bits("--abits", self.abits, *FEATURE_BITS, optional=True)
        _bits("--input-bits", self.input_bits, *FEATURE_BITS, optional=True)
        _bits("--output-bits", self.output_bits, *FEATURE_BITS)
        if self.ternary and self.wbits != 2:
            raise HwcError("--ternary needs --wbits 2")
        if self.accum_bits is not None and (isinstance(self.accum_bits, bool) or not isinstance(self.accum_bits, int)
                                            or self.accum_bits < 2):
            raise HwcError(f"--accum-bits must be at least 2, got {self.accum_bits}")
        object.__setattr__(self, "rounding", Rounding(self.rounding))
        object.__setattr__(self, "overflow", Overflow(self.overflow))
        if self.input_range is not None:
            object.__setattr__(self, "input_range", check_range(self.input_range))
        check_layers(self.layers, self.config)

    def abits_for(self, target: str) -> int:
        """The --abits the user gave, else the target's natural activation width."""
        return self.abits if self.abits is not None else DEFAULT_ABITS.get(target, 16)

    @property
    def input_range_text(self) -> str | None:
        return range_text(self.input_range) if self.input_range is not None else None


@dataclass(frozen=True)
class PruneOptions:
    """Pruning before quantization (compiler/compile.py `prune`)."""

    fraction: float = 0.0
    mode: str = "weights"  # weights | neurons | channels
    criterion: str = "l1"
    refit: bool = False
    scope: str = "layer"  # weights only: layer | global
    finetune: int = 0  # epochs of quantization-aware distillation (PyTorch), with or without pruning

    def __post_init__(self):
        if not (isinstance(self.fraction, (int, float)) and 0.0 <= self.fraction < 1.0):
            raise HwcError(f"--prune must be in [0, 1), got {self.fraction}")
        _choice("--prune-mode", self.mode, PRUNE_MODES)
        _choice("--prune-criterion", self.criterion, PRUNE_CRITERIA)
        _choice("--prune-scope", self.scope, PRUNE_SCOPES)
        if isinstance(self.finetune, bool) or not isinstance(self.finetune, int) or self.finetune < 0:
            raise HwcError("--finetune takes a number of epochs >= 0")


@dataclass(frozen=True, eq=False)
class Calibration:
    """Calibration inputs for one-input models: `data` holds the samples along axis 0; `path` is
    what the user named (messages, manifest)."""

    path: str | None = None
    data: np.ndarray | None = None
    labels_path: str | None = None  # optional labels of the samples (fine-tuning)
    labels: np.ndarray | None = None

    def __post_init__(self):
        if self.labels is not None:
            if self.data is None:
                raise HwcError("--labels are the labels of --calib inputs: give --calib")
            if len(self.labels) != len(self.data):
                raise HwcError(f"--labels has {len(self.labels)} entries for {len(self.data)} --calib inputs",
                               self.labels_path)
        if self.data is None:
            return
        a = np.asarray(self.data)
        if a.dtype.kind in "fc" and not np.isfinite(a).all():
            raise HwcError("calibration data holds NaN or Inf", self.path)

    @classmethod
    def read(cls, spec: str | None, labels: str | None = None) -> "Calibration":
        """From `.npy`, `.pb` or `ARCHIVE.npz:KEY`; an empty spec gives no calibration."""
        from .data_io import read_data

        y = read_data(labels).reshape(-1) if labels else None
        if not spec:
            return cls(labels_path=labels, labels=y)
        return cls(spec, read_data(spec), labels, y)

    def inputs(self, graph, source=None) -> list[np.ndarray] | None:
        """The data checked against the graph's one input (shape, dtype), or None without data."""
        if self.data is None:
            return None
        if len(graph.inputs) != 1:
            raise HwcError("--calib takes one array; the model has several inputs", self.path)
        from .sim.inputs import check_inputs

        try:
            return check_inputs(graph, [self.data], what=[f"calibration data {self.path or ''}".rstrip()])
        except HwcError as e:
            raise e.at(path=source) from None


@dataclass(frozen=True)
class HlsOptions:
    """The HLS targets (xilinx, intel)."""

    io: str = "parallel"
    strategy: str = "latency"
    reuse: int | str = 1  # or "auto": per layer the smallest that fits `utilisation` % of the part (compiler/cost/fit.py)
    part: str | None = None  # None: the vendor's default part
    clock: float = 5.0  # ns
    utilisation: float = 80.0  # --reuse auto: % of each resource of the part the design may use

    def __post_init__(self):
        _choice("--io", self.io, HLS_IO)
        _choice("--strategy", self.strategy, HLS_STRATEGIES)
        if self.strategy == "latency" and self.reuse != 1:
            raise HwcError(f"--reuse {self.reuse} needs --strategy resource (latency is fully unrolled, reuse 1)")
        if self.reuse != "auto" and (isinstance(self.reuse, bool) or not isinstance(self.reuse, int) or self.reuse < 1):
            raise HwcError("--reuse must be at least 1 (or auto)")
        if not (isinstance(self.utilisation, (int, float)) and 0 < self.utilisation <= 100):
            raise HwcError(f"--utilisation must be a percentage in (0, 100], got {self.utilisation}")
        if not (isinstance(self.clock, (int, float)) and math.isfinite(self.clock) and self.clock > 0):
            raise HwcError("--clock must be a positive period in ns")


@dataclass(frozen=True, eq=False)
class MaxDrop:
    """`--max-drop PTS --val X [--val-labels Y]`: per-layer widths under an accuracy budget
    (compiler/quantize/mixed_precision.py); `points` None: off."""

    points: float | None = None
    val_path: str | None = None
    val: np.ndarray | None = None
    labels_path: str | None = None
    labels: np.ndarray | None = None

    def __post_init__(self):
        if self.points is None:
            if self.val is not None or self.labels is not None:
                raise HwcError("--val and --val-labels are for --max-drop")
            return
        if not (isinstance(self.points, (int, float)) and math.isfinite(self.points) and self.points >= 0):
            raise HwcError(f"--max-drop must be >= 0 points, got {self.points}")
        if self.val is None:
            raise HwcError("--max-drop needs --val data (held-back inputs, not your test split)")
        if self.labels is not None and len(self.labels) != len(self.val):
            raise HwcError(f"--val-labels has {len(self.labels)} entries for {len(self.val)} --val inputs",
                           self.labels_path)

    @classmethod
    def read(cls, points: float | None, val: str | None, labels: str | None) -> "MaxDrop":
        from .data_io import read_data

        return cls(points, val, read_data(val) if val else None, labels,
                   read_data(labels).reshape(-1) if labels else None)


@dataclass(frozen=True)
class RtlOptions:
    """The RTL target (verilog): top-level ports, register levels per layer, constant products."""

    io: str = "axis"
    stages: int = 1  # 0: combinational; 1: a register per layer; more: also cut linear layers' adder trees
    mult: str = "adders"
    conv: str = "auto"  # Conv layers fed by the input: unrolled over the image, streamed a pixel per beat, or auto

    def __post_init__(self):
        _choice("--rtl-io", self.io, RTL_IO)
        _choice("--rtl-mult", self.mult, RTL_MULT)
        _choice("--rtl-conv", self.conv, RTL_CONV)
        if isinstance(self.stages, bool) or not isinstance(self.stages, int) or not 0 <= self.stages <= 16:
            raise HwcError(f"--rtl-stages must be 0..16, got {self.stages}")


@dataclass(frozen=True)
class TfliteOptions:
    """The TFLite targets (tflite, edgetpu)."""

    float_io: bool = False  # QUANTIZE/DEQUANTIZE in the model instead of int8 I/O


@dataclass(frozen=True, eq=False)
class CompileOptions:
    """Everything `hwc compile` is asked for; checked when made, identically for every target."""

    target: str = "sim"
    quant: Quantization = field(default_factory=Quantization)
    prune: PruneOptions = field(default_factory=PruneOptions)
    calib: Calibration = field(default_factory=Calibration)
    hls: HlsOptions = field(default_factory=HlsOptions)
    tflite: TfliteOptions = field(default_factory=TfliteOptions)
    max_drop: MaxDrop = field(default_factory=MaxDrop)
    rtl: RtlOptions = field(default_factory=RtlOptions)

    def __post_init__(self):
        p, has_calib = self.prune, self.calib.data is not None
        if p.refit and not has_calib:
            raise HwcError("--refit needs --calib data")
        if p.finetune and not has_calib:
            raise HwcError("--finetune needs --calib data (the inputs to fine-tune on)")
        if p.criterion in CALIB_CRITERIA and not has_calib:
            raise HwcError(f"--prune-criterion {p.criterion} needs --calib data")
        if self.quant.ptq is not None and self.target in ("tflite", "edgetpu"):
            raise HwcError(f"--ptq is for the fixed-point targets; --target {self.target} quantizes to int8 with "
                           "affine scales")
        if self.quant.ptq in ("gptq", "adaround") and not has_calib:
            raise HwcError(f"--ptq {self.quant.ptq} needs --calib data")
        if p.criterion == "obs":
            if p.mode != "weights":
                raise HwcError("--prune-criterion obs prunes weights: use it with --prune-mode weights")
            if p.refit:
                raise HwcError("--refit does not apply to --prune-criterion obs (OBS updates the remaining weights itself)")
            if self.quant.ptq == "rtn":
                raise HwcError("--prune-criterion obs prunes with GPTQ's update: use --ptq gptq or adaround")
        if self.calib.labels is not None and not p.finetune:
            raise HwcError("--labels is for --finetune")
        if self.max_drop.points is not None and self.target not in MAX_DROP_TARGETS:
            raise HwcError(f"--max-drop works for --target {', '.join(MAX_DROP_TARGETS)}, not {self.target}")


@dataclass(frozen=True)
class VerifyOptions:
    """`hwc verify`: how many random inputs, and (tflite targets) which LiteRT op resolvers."""

    samples: int = 1000
    resolver: str = "all"

    def __post_init__(self):
        if isinstance(self.samples, bool) or not isinstance(self.samples, int) or self.samples < 1:
            raise HwcError("--samples must be at least 1")
        _choice("--resolver", self.resolver, RESOLVERS + ("all",))

    @property
    def resolvers(self) -> list[str]:
        return list(RESOLVERS) if self.resolver == "all" else [self.resolver]
