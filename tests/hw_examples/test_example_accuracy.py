"""Each shipped example's accuracy (hw_examples/accuracy.json, quoted in its README) is reproduced by
hwc's simulator on the shipped ONNX file and the shipped test split: the same number of correct
predictions, exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import HW_EXAMPLES
from hwc.compiler.frontend.onnx_loader import load_onnx
from hwc.compiler.pipeline import cleanup
from hwc.compiler.sim.run import simulate

ENTRIES = json.loads((HW_EXAMPLES / "accuracy.json").read_text())


@pytest.mark.parametrize("model", sorted(ENTRIES))
def test_shipped_accuracy_is_reproduced(model):
    entry = ENTRIES[model]
    data = np.load(HW_EXAMPLES / entry["test_data"])
    graph = load_onnx(HW_EXAMPLES / model)
    cleanup(graph)
    logits = simulate(graph, [data["x_test"]])[0]
    correct = int((logits.argmax(axis=1) == data["y_test"]).sum())
    n = len(data["y_test"])
    print(f"{model}: {correct}/{n} = {correct / n:.4f} (README: {entry['accuracy']:.4f}, {entry['measured_with']})")
    assert correct == round(entry["accuracy"] * n)


def test_readme_quotes_the_accuracies():
    readme = (HW_EXAMPLES / "README.md").read_text()
    for model, entry in ENTRIES.items():
        assert f"{entry['accuracy']:.4f}" in readme, model
