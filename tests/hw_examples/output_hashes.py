"""Content hashes of what `hwc compile` writes for every shipped example and every target.

`tests/hw_examples/test_output_hashes.py` compiles the same cases and compares with the recorded
`output_hashes.json`, so a refactor that changes any output byte fails. A change that alters the
outputs on purpose re-records them with one command, from the repository root, with the package
installed:

    .venv/bin/python tests/hw_examples/output_hashes.py

All cases compile in one fresh Python process, in-process (`hwc.compiler.cli.main`), from the
repository root with relative paths, as the example READMEs do. Before hashing, machine-specific
text (the absolute path of the ac_types headers in the Intel Makefile) becomes a placeholder, and
the names OpenVINO gives unnamed nodes (`Constant_123`: a process-wide counter, so they depend on
what the process built before) are renumbered in order of appearance.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RECORD = Path(__file__).with_name("output_hashes.json")
TARGETS = ("sim", "xilinx", "intel", "tflite", "edgetpu", "openvino", "ncs2")
MLP_CALIB = "hw_examples/digits_data/calib.npz:x"
CNN_CALIB = "hw_examples/digits_data/calib_img.npz:x"
# name -> (model, options): the example READMEs' commands, plus variants that reach the other options
CASES = {
    "digits_mlp": ("hw_examples/digits_mlp/model.onnx", ["--wbits", "4", "--calib", MLP_CALIB]),
    "digits_mlp_range": ("hw_examples/digits_mlp/model.onnx", ["--input-range=0,1", "--output-bits", "12"]),
    "digits_mlp_prune": ("hw_examples/digits_mlp/model.onnx",
                         ["--prune", "0.5", "--prune-mode", "neurons", "--calib", MLP_CALIB]),
    "digits_mlp_modes": ("hw_examples/digits_mlp/model.onnx",
                         ["--per-channel", "--abits", "8", "--rounding", "RND_CONV", "--calib", MLP_CALIB]),
    "digits_mlp_binary": ("hw_examples/digits_mlp_binary/model_qonnx.onnx", ["--calib", MLP_CALIB]),
    "digits_mlp_w4a4_qonnx": ("hw_examples/digits_mlp_w4a4/model_qonnx.onnx", ["--calib", MLP_CALIB]),
    "digits_mlp_w4a4_qcdq": ("hw_examples/digits_mlp_w4a4/model_qcdq.onnx", ["--calib", MLP_CALIB]),
    "digits_cnn": ("hw_examples/digits_cnn/model.onnx", ["--wbits", "4", "--calib", CNN_CALIB]),
    "digits_cnn_config": ("hw_examples/digits_cnn/model.onnx",
                          ["--config", "hw_examples/digits_cnn/prune_w4.yaml", "--calib", CNN_CALIB]),
    "digits_cnn_w4a4_qonnx": ("hw_examples/digits_cnn_w4a4/model_qonnx.onnx", ["--calib", CNN_CALIB]),
    "digits_cnn_w4a4_qcdq": ("hw_examples/digits_cnn_w4a4/model_qcdq.onnx", ["--calib", CNN_CALIB]),
    "jet_mlp": ("hw_examples/jet_mlp/model.onnx", ["--wbits", "4", "--calib", "hw_examples/jet_mlp/calib.npz:x"]),
    "tiny_transformer": ("hw_examples/tiny_transformer/model.onnx", ["--wbits", "8", "--abits", "16", "--calib", CNN_CALIB]),
}
# cases that some targets refuse (docs/SUPPORT.md): only the targets that compile them
CASE_TARGETS = {"tiny_transformer": ("sim", "xilinx", "intel")}


def targets_of(case: str) -> tuple[str, ...]:
    return CASE_TARGETS.get(case, TARGETS)
# options only the HLS targets take: added for those, so the other targets see the plain case
HLS_EXTRA = {"digits_mlp_range": ["--strategy", "resource", "--reuse", "4"], "digits_cnn": ["--io", "stream"]}
TFLITE_EXTRA = {"digits_mlp_range": ["--float-io"]}


def case_args(case: str, target: str, outdir: str) -> list[str]:
    model, opts = CASES[case]
    extra = HLS_EXTRA.get(case, []) if target in ("xilinx", "intel") else \
        TFLITE_EXTRA.get(case, []) if target in ("tflite", "edgetpu") else []
    return ["compile", model, "--target", target, *opts, *extra, "-o", outdir]


def _machine_paths() -> dict[str, str]:
    from hwc.backends.cpp_build import ac_types_dir

    return {str(ac_types_dir()): "<AC_TYPES>"}


def _renumber_auto_names(xml: bytes) -> bytes:
    """`name="Constant_123"` -> `name="Constant_#0"`, numbered in order of first appearance."""
    seen: dict[bytes, int] = {}

    def sub(m):
        key = m.group(0)
        return b'name="%s_#%d"' % (m.group(1), seen.setdefault(key, len(seen)))

    return re.sub(rb'name="([A-Za-z]+)_(\d+)"', sub, xml)


def hash_dir(d: Path) -> dict[str, str]:
    subs = _machine_paths()
    out = {}
    for f in sorted(p for p in d.rglob("*") if p.is_file()):
        data = f.read_bytes()
        for k, v in subs.items():
            data = data.replace(k.encode(), v.encode())
        if f.suffix == ".xml":
            data = _renumber_auto_names(data)
        out[f.relative_to(d).as_posix()] = hashlib.sha256(data).hexdigest()[:16]
    return out


def compile_case(case: str, target: str) -> dict[str, str]:
    """Compile one case in-process from the repository root; the hashes of every file written."""
    from hwc.compiler.cli import main

    here = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="hwc-hash-") as tmp:
        out = str(Path(tmp) / "out")
        os.chdir(ROOT)
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
                rc = main(case_args(case, target, out))
        finally:
            os.chdir(here)
        if rc != 0:
            raise RuntimeError(f"{case} {target}: exit {rc}: {err.getvalue().strip()}")
        return hash_dir(Path(out))


def record() -> dict:
    """{case: {target: {file: hash}}}, every case compiled in one fresh process."""
    run = subprocess.run([sys.executable, __file__, "--print"], capture_output=True, text=True, timeout=900)
    if run.returncode != 0:
        raise RuntimeError(run.stderr.strip()[-2000:])
    return json.loads(run.stdout)


if __name__ == "__main__":
    if sys.argv[1:] == ["--print"]:
        print(json.dumps({case: {t: compile_case(case, t) for t in targets_of(case)} for case in CASES}))
        sys.exit(0)
    doc = record()
    RECORD.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    print(f"wrote {RECORD.relative_to(ROOT)}: {len(doc)} cases, {sum(len(v) for v in doc.values())} case x target outputs", file=sys.stderr)
