"""The one place a sweep point meets the compiler: `hwc compile`'s own argument parser and the same
steps `hwc compile` runs (`compiler/commands/compile.py`), in-process and without printing.

A point is a list of `hwc compile` flags, so the command line reported for the best point is exactly
what was evaluated. When the typed `CompileOptions` lands, only this module changes.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def compile_args(model: str, target: str, outdir: str, flags: list[str]) -> argparse.Namespace:
    """What `hwc compile MODEL --target T -o DIR FLAGS…` parses to."""
    from ..cli import build_parser

    return build_parser().parse_args(["compile", str(model), "--target", target, "-o", str(outdir), *flags])


def compile_to(args: argparse.Namespace, outdir: Path) -> None:
    """Compile `args.model` for `args.target` into the (new, empty) directory `outdir`."""
    from ..commands.common import calibration, load_onnx_model, prune_options, quant_config
    from ..compile import to_fixed
    from ..ir.serialize import save_graph

    graph = load_onnx_model(args.model)
    if args.target == "sim":
        compiled = to_fixed(graph, quant_config(args, graph, "sim"), calibration(args, graph), pruning=prune_options(args))
        save_graph(compiled.graph, outdir)
        return
    from hwc.backends import get_backend

    get_backend(args.target).compile(graph, args, outdir)


def verify_dir(outdir: Path, target: str, samples: int):
    """`hwc verify DIR --samples N` on a compiled point: the target's executor against the simulator."""
    from hwc.backends import get_backend
    from hwc.backends.base import read_manifest

    args = argparse.Namespace(dir=str(outdir), samples=samples, input=None, resolver="all")
    return get_backend(target).verify(outdir, read_manifest(outdir), None, samples, args)
