"""One sweep point, evaluated where it runs (a pool process or a Ray worker, no shared file system):
materialise the shipped model and data in a temporary directory, compile with the same function as
`hwc compile`, run the compiled model through the bit-accurate simulator on the validation data,
compute the cost figures, optionally `hwc verify`, and return the result row.

Accuracy is top-1 against the labels, or (without labels) the fraction of samples whose top-1 class
agrees with the float model's.
"""

from __future__ import annotations

import platform
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..errors import HwcError


@dataclass
class Shared:
    """What every point of a sweep needs; shipped once per worker (pool initializer, Ray object store)."""

    model: bytes
    target: str
    calib: np.ndarray | None
    val: list[np.ndarray]
    labels: np.ndarray | None  # class labels, or the float model's top-1 classes when there are none
    verify_samples: int  # 0: no verification
    synth: str | None = None  # a `hwc synth` family, or None


@dataclass(frozen=True)
class Task:
    key: str
    flags: tuple[str, ...]  # hwc compile flags of this point, without the model, data and config files
    layers: dict[str, Any]  # per-layer config entries (`--config`), {} for none


def evaluate(shared: Shared, task: Task) -> dict[str, Any]:
    """The result fields of one point: status, accuracy, cost, verification, durations."""
    started = time.perf_counter()
    durations: dict[str, float] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="hwc-sweep-") as tmp:
            outdir = Path(tmp) / "out"
            model, options = _materialise(shared, task, Path(tmp))
            from .compile_point import compile_to

            compile_to(model, options, outdir)
            durations["compile"] = time.perf_counter() - started
            t = time.perf_counter()
            correct, total, graph = _score(shared, outdir)
            durations["simulate"] = time.perf_counter() - t
            from .cost import cost_figures, target_figures

            # the target's cost model (hwc.json) wins where it has a figure: it knows whether zeros are skipped
            cost = {**cost_figures(graph), **target_figures(outdir)}
            row = {"status": "ok", "error": "", "accuracy": correct / total, "correct": correct, "total": total,
                   "cost": cost, "verify": None}
            if shared.verify_samples:
                t = time.perf_counter()
                row["verify"] = _verify(outdir, shared)
                durations["verify"] = time.perf_counter() - t
            if shared.synth:
                t = time.perf_counter()
                row["cost"].update(_synth(outdir, shared.synth))
                durations["synth"] = time.perf_counter() - t
    except HwcError as e:
        row = _failed(e.line())
    except Exception as e:  # a compiler bug on one point must not stop the sweep; the row keeps it
        row = _failed(f"{type(e).__name__}: {e} [{traceback.extract_tb(e.__traceback__)[-1].name}]")
    durations["total"] = time.perf_counter() - started
    row["durations"] = durations
    row["worker"] = platform.node()
    return row


def _failed(error: str) -> dict[str, Any]:
    return {"status": "failed", "error": error, "accuracy": None, "correct": None, "total": None, "cost": {},
            "verify": None}


def _materialise(shared: Shared, task: Task, tmp: Path):
    """The model and the point's files (calibration data, per-layer config) in `tmp`, and its options."""
    from .compile_point import compile_options

    model = tmp / "model.onnx"
    model.write_bytes(shared.model)
    flags = list(task.flags)
    if shared.calib is not None:
        np.save(tmp / "calib.npy", shared.calib)
        flags += ["--calib", str(tmp / "calib.npy")]
    if task.layers:
        (tmp / "layers.yaml").write_text(yaml.safe_dump({"layers": task.layers}, sort_keys=True))
        flags += ["--config", str(tmp / "layers.yaml")]
    return model, compile_options(shared.target, flags)


def _score(shared: Shared, outdir: Path):
    from ..commands.common import load_compiled
    from ..sim.run import simulate

    graph = load_compiled(outdir)
    mode = graph.metadata.get("sim_mode") or ("fixed" if graph.metadata.get("fixed") else "float")
    logits = simulate(graph, shared.val, mode=mode)[0]
    if logits.ndim != 2 or logits.shape[0] != len(shared.labels):
        raise HwcError(f"the first output has shape {tuple(logits.shape)}: the sweep scores top-1 of a "
                       f"[samples, classes] output against {len(shared.labels)} labels")
    correct = int((np.asarray(logits).argmax(axis=1) == shared.labels).sum())
    return correct, len(shared.labels), graph


# `hwc synth` totals -> the sweep's cost names (pareto.COSTS), each measured
SYNTH_FIGURES = {"luts": "lut", "ffs": "ff", "dsps": "dsp", "brams": "bram", "carry": "carry", "cells": "cells",
                 "nand2_eq": "nand2_eq"}


def _synth(outdir: Path, family: str) -> dict[str, float]:
    """Yosys's totals for the compiled RTL, as NAME_measured cost figures (the same run as `hwc synth`)."""
    from hwc.backends.base import read_manifest
    from hwc.backends.synth import synthesize

    total = synthesize(outdir, read_manifest(outdir), family, place=False)["total"]  # cells only: no nextpnr
    return {f"{SYNTH_FIGURES[k]}_measured": v for k, v in total.items() if k in SYNTH_FIGURES}


def _verify(outdir: Path, shared: Shared) -> dict[str, Any]:
    from .compile_point import verify_dir

    report = verify_dir(outdir, shared.target, shared.verify_samples)
    return {"samples": report.samples, "compared": report.compared, "mismatches": report.mismatches,
            "ok": report.ok}
