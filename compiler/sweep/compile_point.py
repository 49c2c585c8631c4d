"""The one place a sweep point meets the compiler: `hwc compile`'s own parser turns the point's flags
into `CompileOptions` exactly as `hwc compile` does (`commands/common.compile_options`), and
`compile_model` — the function `hwc compile` calls — writes the output. In-process, never a subprocess
of the CLI, so the command line reported for a point is exactly what was evaluated.
"""

from __future__ import annotations

from pathlib import Path

from ..options import CompileOptions, VerifyOptions


def compile_options(target: str, flags: list[str]) -> CompileOptions:
    """What `hwc compile MODEL --target T FLAGS…` is asked for (checked as hwc compile checks it)."""
    from ..cli import build_parser
    from ..commands.common import compile_options as from_args

    return from_args(build_parser().parse_args(["compile", "MODEL", "--target", target, "-o", "DIR", *flags]))


def compile_to(model: Path, options: CompileOptions, outdir: Path) -> None:
    """Compile the ONNX file `model` as `options` ask into the new directory `outdir`."""
    from ..compile_model import compile_model

    compile_model(model, options, outdir)


def verify_dir(outdir: Path, target: str, samples: int):
    """`hwc verify DIR --samples N` on a compiled point: the target's executor against the simulator."""
    from hwc.backends import get_backend
    from hwc.backends.base import read_manifest

    return get_backend(target).verify(outdir, read_manifest(outdir), None, VerifyOptions(samples=samples))
