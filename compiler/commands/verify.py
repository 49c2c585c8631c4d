"""`hwc verify DIR [--samples N] [--input X]`: run the target's own executor (g++ C simulation,
LiteRT, OpenVINO) on the compiled output and compare with hwc's simulator, bit for bit.
Exit 0 only when every compared value is equal; 1 when any differs."""

from __future__ import annotations

from pathlib import Path

from ..data_io import read_data
from ..errors import HwcError
from ..options import VerifyOptions


def run(args) -> int:
    from hwc.backends import TARGETS, get_backend
    from hwc.backends.base import read_manifest

    d = Path(args.dir)
    if not (d / "hwc.json").exists():
        raise HwcError("has no hwc.json: not a directory written by `hwc compile --target …`", str(d))
    try:
        manifest = read_manifest(d)
    except (OSError, ValueError) as e:
        raise HwcError(f"unreadable hwc.json ({e})", str(d)) from None
    if not isinstance(manifest, dict):
        raise HwcError("hwc.json is not a JSON object", str(d))
    target = manifest.get("target")
    if target not in TARGETS:
        raise HwcError(f"unknown target {target!r} in hwc.json", str(d))
    options = VerifyOptions(args.samples, args.resolver)
    inputs = [read_data(x) for x in args.input] if args.input else None
    if inputs is not None:
        from ..ir.serialize import load_graph
        from ..sim.run import check_inputs

        try:
            check_inputs(load_graph(d), inputs, what=[f"--input {x}" for x in args.input])
        except HwcError as e:
            raise e.at(path=str(d)) from None
    report = get_backend(target).verify(d, manifest, inputs, options)
    for line in report.details:
        print(line)
    print(f"verify {d} ({target}): {report.samples} samples, {report.compared} values compared, "
          f"{report.mismatches} mismatches{' — bit-exact' if report.ok else ''}")
    if report.mismatches:
        print(f"first difference: {report.first_difference}")
    return 0 if report.ok else 1
