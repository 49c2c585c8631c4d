"""Shared fixtures: the third-party corpus, small ONNX models built in code, and running the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
HW_EXAMPLES = ROOT / "hw_examples"


def corpus_dir(sub: str = "") -> Path:
    d = CORPUS / sub
    if not d.exists():
        pytest.skip(f"corpus folder {d} is absent (see ../shared/corpus/PROVENANCE.md)")
    return d


def make_model(nodes, inputs, outputs, initializers=(), opset=13, extra_opsets=(), name="g") -> onnx.ModelProto:
    """An ONNX model from helper-made nodes; inputs/outputs are (name, elem_type, shape) tuples."""
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
        [helper.make_tensor_value_info(n, t, s) for n, t, s in outputs],
        [numpy_helper.from_array(np.asarray(a), n) for n, a in initializers])
    opsets = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v) for d, v in extra_opsets]
    m = helper.make_model(graph, opset_imports=opsets)
    m.ir_version = min(m.ir_version, 10)
    return m


def save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.save(model, str(path))
    return path


def hwc(*args, cwd=None) -> subprocess.CompletedProcess:
    """Run the installed `hwc` console script."""
    exe = Path(sys.executable).parent / "hwc"
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600)


F = TensorProto.FLOAT


def compile_options(target: str = "sim", calib=None, input_range=None, config=None, float_io=False, **quant):
    """CompileOptions from flat keywords as on the command line (calib "ARCHIVE.npz:KEY", input_range
    "LO,HI", config a YAML path; the rest are `Quantization` fields)."""
    from hwc.compiler.options import Calibration, CompileOptions, Quantization, TfliteOptions, parse_range
    from hwc.compiler.quant_config import load_layers

    q = Quantization(input_range=parse_range(input_range) if input_range else None, config=config,
                     layers=load_layers(config) if config else {}, **quant)
    return CompileOptions(target=target, quant=q, calib=Calibration.read(str(calib) if calib else None),
                          tflite=TfliteOptions(float_io))


def print_uncaptured(request, text: str) -> None:
    """Print a summary (counts of compared values) even when pytest captures output."""
    capman = request.config.pluginmanager.get_plugin("capturemanager")
    if capman is not None:
        with capman.global_and_fixture_disabled():
            print(text)
    else:
        print(text)


def pytest_addoption(parser):
    """Options of the fuzz suite (tests/fuzz): `make fuzz` passes them; `make test` runs its fixed slice."""
    g = parser.getgroup("hwc fuzz")
    g.addoption("--fuzz-cases", type=int, default=None, help="cases per mutation family [the make-test slice]")
    g.addoption("--fuzz-budget", type=float, default=None, help="seconds per family; later cases are skipped")
    g.addoption("--fuzz-summary", default=None, help="write the outcome classes per family to this file")
    g.addoption("--fuzz-seed", type=int, default=0, help="seed of the case generator [0]")


@pytest.fixture
def figures_of(tmp_path, capsys):
    """figures_of(model, target, *options) -> (Figures, stdout of hwc compile): compile in-process and read the
    cost figures written into hwc.json (tests/cost)."""
    import json

    from hwc.compiler.cli import main
    from hwc.compiler.cost.figures import Figures

    count = [0]

    def run(model, target, *options):
        count[0] += 1
        out = tmp_path / f"out{count[0]}"
        run.last = out
        capsys.readouterr()
        assert main(["compile", str(model), "--target", target, "-o", str(out), *options]) == 0
        text = capsys.readouterr().out
        if target == "sim":
            from hwc.compiler.commands.inspect import compiled_figures
            from hwc.compiler.ir.serialize import load_graph

            return compiled_figures(out, load_graph(out)), text
        return Figures.from_json(json.loads((out / "hwc.json").read_text())["figures"]), text

    return run
