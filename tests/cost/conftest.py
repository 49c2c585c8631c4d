"""Compile in-process and read the figures written into hwc.json."""

import json

import pytest

from hwc.compiler.cli import main
from hwc.compiler.cost.figures import Figures


@pytest.fixture
def figures_of(tmp_path, capsys):
    """figures_of(model, target, *options) -> (Figures, stdout of hwc compile)."""
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
