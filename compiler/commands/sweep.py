"""`hwc sweep MODEL --target T [LISTS] --calib X --val X [--val-labels Y] -o SWEEP_DIR`: compile, score
and cost every point of a design space, in a local process pool or on Ray; `--report SWEEP_DIR`.

Every finished point is appended to SWEEP_DIR/results.sqlite; running the same command again skips
the points already there. At the end (and with --report) the Pareto fronts are printed and written
to SWEEP_DIR/report.html with the best point's `hwc compile` command line.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import tempfile
from importlib.metadata import version
from pathlib import Path

import numpy as np
import yaml

from ..errors import HwcError
from ..compile_model import load_onnx_model
from ..data_io import read_data
from .common import gather_inputs


def add_arguments(s, compile_parser) -> None:
    """The sweep's options; every option of `compile_parser` (hwc compile's) becomes a LIST option."""
    from ..sweep.space import add_space_options

    s.add_argument("model", nargs="?", help="an .onnx file (float, QONNX or QDQ)")
    targets = next(a for a in compile_parser._actions if a.dest == "target").choices
    s.add_argument("--target", choices=targets, default="sim", help="what each point compiles for [sim]")
    s.add_argument("-o", "--output", metavar="SWEEP_DIR", help="results (results.sqlite, report.html); reused to resume")
    s.add_argument("--report", metavar="SWEEP_DIR", help="only print the report of an existing sweep and write its HTML")
    s.add_argument("--calib", metavar="X", help="calibration inputs for every point (as `hwc compile --calib`)")
    s.add_argument("--val", action="append", metavar="X",
                   help="validation inputs (as `hwc simulate --input`), scored with the bit-accurate simulator")
    s.add_argument("--val-labels", metavar="Y", help="class labels of --val: top-1 accuracy (without: top-1 "
                                                     "agreement with the float model)")
    s.add_argument("--samples", type=int, metavar="N", help="N points drawn at random from the grid [the whole grid]")
    s.add_argument("--seed", type=int, default=0, help="random seed of --samples (the same seed resumes) [0]")
    s.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="local worker processes [all CPUs]")
    s.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="run the points as Ray tasks: on the cluster at ADDRESS (or RAY_ADDRESS), else on a local "
                        "instance (needs pip install 'hwc[ray]')")
    s.add_argument("--verify", type=int, nargs="?", const=100, default=0, metavar="N",
                   help="also run `hwc verify --samples N` on each point (HLS, tflite, openvino targets) [100]")
    s.add_argument("--synth", action="store_true", help="synthesise each point (needs the synthesis runner)")
    s.add_argument("--tolerance", type=float, default=0.01,
                   help="best point: the cheapest within this accuracy of the float model [0.01]")
    add_space_options(s, compile_parser)


def run(args) -> int:
    from ..sweep.store import ResultStore

    if args.report:
        store = ResultStore(args.report, create=False)
        write_report(store, Path(args.report), args.tolerance)
        return 0
    out = Path(check_args(args))
    shared, meta = prepare(args)
    tasks, infos = plan(args, meta, out)
    store = ResultStore(out)
    old = store.meta()
    if old and (old.get("model_hash"), old.get("data_hash")) != (meta["model_hash"], meta["data_hash"]):
        raise HwcError(f"holds a sweep of another model or other data ({old.get('model')}): use another SWEEP_DIR",
                       str(out))
    for k, v in meta.items():
        store.set_meta(k, v)
    done = store.done_keys()
    todo = [t for t in tasks if t.key not in done]
    counts = execute(args, shared, todo, infos, store, len(tasks) - len(todo))
    print(f"sweep {out}: {len(tasks)} points, {len(tasks) - len(todo)} already done, {counts['ok']} ok, "
          f"{counts['failed']} failed" + (f", {counts['lost']} lost (run again to retry them)" if counts["lost"] else ""))
    rows = write_report(store, out, args.tolerance)
    # exit 1 when points were lost (a rerun retries them) or when no point compiled at all
    return 1 if counts["lost"] or not any(r["status"] == "ok" for r in rows) else 0


def check_args(args) -> str:
    if args.model is None or args.output is None:
        raise HwcError("hwc sweep needs MODEL and -o SWEEP_DIR (or --report SWEEP_DIR)")
    if args.synth:
        raise HwcError("--synth needs the synthesis runner (backends/synth.py), which this build does not have")
    if args.verify and args.target == "sim":
        raise HwcError("--verify needs a target with an executor (xilinx, intel, tflite, edgetpu, openvino, ncs2)")
    if not args.val:
        raise HwcError("hwc sweep needs --val X: the validation inputs every point is scored on")
    if args.jobs < 1:
        raise HwcError("--jobs must be at least 1")
    if Path(args.output).exists() and not Path(args.output).is_dir():
        raise HwcError("exists and is not a directory", args.output)
    return args.output


def prepare(args):
    """The data every point shares, the float model's reference accuracy, and the sweep's metadata."""
    from ..commands.common import onnx_input_names
    from ..options import Calibration
    from ..sim.run import check_inputs, simulate
    from ..sweep.evaluate import Shared

    graph = load_onnx_model(args.model)
    model = Path(args.model).read_bytes()
    calib = Calibration.read(args.calib).inputs(graph, args.model)
    feeds = gather_inputs(onnx_input_names(args.model), args.val, args.model)
    try:
        val = check_inputs(graph, [feeds[v.name] for v in graph.inputs], what=[f"--val {v.name}" for v in graph.inputs])
    except HwcError as e:
        raise e.at(path=args.model) from None
    logits = np.asarray(simulate(graph, val, mode="float")[0])
    if logits.ndim != 2:
        raise HwcError(f"the first output has shape {tuple(logits.shape)}: the sweep scores top-1 of [samples, classes]",
                       args.model)
    predicted = logits.argmax(axis=1)
    if args.val_labels:
        labels = read_data(args.val_labels).reshape(-1).astype(np.int64)
        if len(labels) != len(predicted):
            raise HwcError(f"{len(labels)} labels for {len(predicted)} validation samples", args.val_labels)
        metric, reference = "top1", float((predicted == labels).mean())
    else:
        labels, metric, reference = predicted, "agreement", 1.0
    data = [calib[0] if calib else None, *val, labels]
    shared = Shared(model, args.target, calib[0] if calib else None, val, labels, args.verify)
    meta = {"model": args.model, "target": args.target, "calib": args.calib, "val": args.val,
            "val_labels": args.val_labels, "metric": metric, "float_accuracy": reference,
            "model_hash": hashlib.sha256(model).hexdigest(), "data_hash": data_hash(data)}
    return shared, meta


def data_hash(arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        if a is None:
            h.update(b"none")
            continue
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def plan(args, meta, out: Path):
    """The tasks of this sweep and, per key, the row fields known before evaluation."""
    from ..quant_config import load_layers
    from ..sweep.grid import grid, sample
    from ..sweep.space import axes_and_fixed, make_task

    axes, fixed = axes_and_fixed(args)
    points = sample(axes, args.samples, args.seed) if args.samples else grid(axes)
    base = load_layers(args.config) if args.config else {}
    tasks, infos = [], {}
    for point in points:
        task, options = make_task(point, fixed, base, meta["model_hash"], meta["data_hash"], args.target)
        config = out / "configs" / f"{task.key[:16]}.yaml" if task.layers else None
        command = ["hwc", "compile", args.model, "--target", args.target, *task.flags,
                   *(["--calib", args.calib] if args.calib else []), *(["--config", str(config)] if config else []),
                   "-o", f"{Path(args.model).stem}_{args.target}"]
        tasks.append(task)
        infos[task.key] = {"key": task.key, "model_hash": meta["model_hash"], "data_hash": meta["data_hash"],
                           "target": args.target, "point": point, "options": {**options, "layers": task.layers},
                           "command": shlex.join(command), "metric": meta["metric"], "hwc_version": version("hwc"),
                           "config": config}
    return tasks, infos


def execute(args, shared, todo, infos, store, skipped) -> dict[str, int]:
    from ..sweep.local_pool import run_local
    from ..sweep.progress import SweepProgress
    from ..sweep.ray_pool import run_ray

    for t in todo:
        config = infos[t.key]["config"]
        if config is not None and not config.exists():
            config.parent.mkdir(parents=True, exist_ok=True)
            config.write_text(yaml.safe_dump({"layers": t.layers}, sort_keys=True))
    if args.ray is not None:
        results = run_ray(shared, todo, args.ray or None)
    else:
        results = run_local(shared, todo, min(args.jobs, max(len(todo), 1)))
    with SweepProgress(len(todo), skipped) as progress:
        for key, row in results:
            if row is None:
                progress.advance("lost")
                continue
            info = {k: v for k, v in infos[key].items() if k != "config"}
            store.add({**info, **row})
            progress.advance(row["status"])
    return progress.counts


def write_report(store, out: Path, tolerance: float) -> list[dict]:
    from ..sweep.report import html_page, summary

    rows, meta = store.rows(), {**store.meta(), "tolerance": tolerance}
    lines, _ = summary(rows, meta)
    for line in lines:
        print(line)
    fd, tmp = tempfile.mkstemp(prefix=".report.", dir=out)  # two sweeps may write the report at once
    with os.fdopen(fd, "w") as f:
        f.write(html_page(rows, meta, lines))
    os.chmod(tmp, 0o644)
    os.replace(tmp, out / "report.html")
    print(f"wrote {out / 'report.html'}")
    return rows
