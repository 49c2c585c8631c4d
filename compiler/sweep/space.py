"""The design space: every `hwc compile` option can be swept, each point is a list of compile flags.

The sweep's parser takes each value option of `hwc compile` (read from `hwc compile`'s own parser, so
a new compile option is sweepable without a change here) as a LIST; `--layer NODE.KEY=LIST` adds per-layer overrides (KEY: wbits, abits, prune) written as a
`--config` file. A point's options are all compile options with their values (defaults included),
and its key is the SHA-256 of model hash, data hash, target, options and per-layer entries.
"""

from __future__ import annotations

import argparse
import copy
import functools
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Callable

from ..errors import HwcError
from .evaluate import Task
from .grid import Axis, parse_values

# options that are files the sweep ships itself (--calib data, --config contents), set per run, or that
# share a name with the sweep's own options (--val is the sweep's validation data)
NOT_SWEPT = {"help", "calib", "config", "model", "output", "force", "target", "val", "val_labels", "samples", "seed",
             "jobs", "ray", "verify", "synth", "tolerance", "report", "layer"}
LAYER_KEYS = {"wbits": int, "abits": int, "prune": float}


@dataclass(frozen=True)
class CompileOption:
    dest: str
    flag: str
    convert: Callable[[str], Any] | None  # None: a store_true flag
    choices: tuple | None
    default: Any
    help: str
    whole: bool = False  # the value itself has commas (--input-range LO,HI): one fixed value, not a list


def compile_options(compile_parser: argparse.ArgumentParser | None = None) -> list[CompileOption]:
    """The options of `hwc compile`'s own parser, except files and output (`NOT_SWEPT`)."""
    if compile_parser is None:
        return _cli_compile_options()
    out = []
    for a in compile_parser._actions:
        if a.dest in NOT_SWEPT or not a.option_strings:
            continue
        flag = max(a.option_strings, key=len)
        if isinstance(a, argparse._StoreTrueAction):
            out.append(CompileOption(a.dest, flag, None, None, False, a.help or ""))
        elif isinstance(a, argparse._StoreAction) and a.nargs is None:
            out.append(CompileOption(a.dest, flag, a.type or str, tuple(a.choices) if a.choices else None, a.default,
                                     a.help or "", "," in (a.metavar or "")))
    return out


@functools.lru_cache(maxsize=1)
def _cli_compile_options() -> list[CompileOption]:
    from ..cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return compile_options(sub.choices["compile"])


def add_space_options(p, compile_parser: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("design space (any `hwc compile` option; a value option takes a LIST: 2,3,4 or the "
                             "inclusive range LO:HI:STEP)")
    for o in compile_options(compile_parser):
        if o.convert is None:
            g.add_argument(o.flag, dest=o.dest, action="store_true", help=f"fixed for every point: {o.help}")
        else:
            g.add_argument(o.flag, dest=o.dest, metavar="VALUE" if o.whole else "LIST", default=None,
                           help=f"fixed for every point: {o.help}" if o.whole else o.help)
    g.add_argument("--layer", action="append", default=[], metavar="NODE.KEY=LIST",
                   help="per-layer override swept like the others (KEY: wbits, abits, prune; NODE: a node name or "
                        "op type as in `hwc config`), e.g. --layer conv1.wbits=2,4,8")
    g.add_argument("--config", metavar="YAML", help="per-layer types for every point (see `hwc config`); --layer "
                                                     "entries are applied on top")


def axes_and_fixed(args) -> tuple[list[Axis], dict[str, Any]]:
    """The swept axes (an option given more than one value) and every option's fixed value."""
    axes, fixed = [], {}
    for o in compile_options():
        given = getattr(args, o.dest)
        if o.convert is None:
            fixed[o.dest] = bool(given)
            continue
        if given is None:
            fixed[o.dest] = o.default
            continue
        values = (o.convert(given),) if o.whole else parse_values(given, o.flag, o.convert)
        if o.choices is not None:
            bad = [v for v in values if v not in o.choices]
            if bad:
                raise HwcError(f"{o.flag}: invalid choice {bad[0]!r} (choose from {', '.join(map(str, o.choices))})")
        if len(values) == 1:
            fixed[o.dest] = values[0]
        else:
            axes.append(Axis(o.dest, o.flag, values))
    for spec in args.layer:
        name, key, text = _layer_spec(spec)
        axes.append(Axis(f"layer {name}.{key}", f"--layer {name}.{key}", parse_values(text, f"--layer {spec}", LAYER_KEYS[key])))
    return axes, fixed


def _layer_spec(spec: str) -> tuple[str, str, str]:
    head, sep, text = spec.partition("=")
    name, dot, key = head.rpartition(".")
    if not sep or not dot or not name or key not in LAYER_KEYS:
        raise HwcError(f"--layer {spec!r}: expected NODE.KEY=LIST with KEY one of {', '.join(LAYER_KEYS)}")
    return name, key, text


def point_layers(point: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """Per-layer config entries of a point: the base `--config` entries with the point's --layer values."""
    layers = copy.deepcopy(base)
    for axis, value in point.items():
        if not axis.startswith("layer "):
            continue
        name, key = axis[len("layer "):].rsplit(".", 1)
        entry = layers.setdefault(name, {})
        if key == "prune":
            entry["prune"] = value
        else:
            entry.setdefault("weight" if key == "wbits" else "output", {})["width"] = value
    return layers


def point_options(point: dict[str, Any], fixed: dict[str, Any]) -> dict[str, Any]:
    """Every compile option's value at this point."""
    return {**fixed, **{k: v for k, v in point.items() if not k.startswith("layer ")}}


def compile_flags(options: dict[str, Any]) -> tuple[str, ...]:
    """The `hwc compile` flags that give these option values (options at their default are left out)."""
    flags = []
    for o in compile_options():
        v = options.get(o.dest, o.default)
        if o.convert is None:
            if v:
                flags.append(o.flag)
        elif v != o.default:
            flags.append(f"{o.flag}={v}")
    return tuple(flags)


def point_key(model_hash: str, data_hash: str, target: str, options: dict, layers: dict) -> str:
    doc = {"model": model_hash, "data": data_hash, "target": target, "options": options, "layers": layers}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def make_task(point, fixed, base_layers, model_hash, data_hash, target) -> tuple[Task, dict[str, Any]]:
    options = point_options(point, fixed)
    layers = point_layers(point, base_layers)
    key = point_key(model_hash, data_hash, target, options, layers)
    return Task(key, compile_flags(options), layers), options
