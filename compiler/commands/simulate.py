"""`hwc simulate MODEL|DIR --input X …`: run hwc's simulator (float for ONNX, bit-accurate for compiled)."""

from __future__ import annotations

import numpy as np

from ..compile_model import load_onnx_model
from ..data_io import read_data, write_outputs
from ..errors import HwcError
from ..outdir import writable_parent
from ..sim.run import check_inputs, simulate
from .common import gather_inputs, is_compiled_dir, load_compiled, onnx_input_names


def run(args) -> int:
    if args.output is not None:  # refuse a place that cannot take the file before simulating
        writable_parent(args.output)
    if is_compiled_dir(args.model):
        graph = load_compiled(args.model)
        feeds = gather_inputs([v.name for v in graph.inputs], args.input, str(args.model))
        mode = graph.metadata.get("sim_mode") or ("fixed" if graph.metadata.get("fixed") else "float")
    else:
        feeds = gather_inputs(onnx_input_names(args.model), args.input, str(args.model))
        graph = load_onnx_model(args.model, bind=feeds)
        mode = "float"
    arrays = [feeds[v.name] for v in graph.inputs]
    try:
        check_inputs(graph, arrays, what=[f"input '{v.name}'" for v in graph.inputs])
    except HwcError as e:
        raise e.at(path=args.model) from None
    outputs = simulate(graph, arrays, mode=mode)
    names = graph.metadata.get("output_names") or [v.name for v in graph.outputs]
    if args.labels:
        print_accuracy(args.labels, outputs[0])
    if args.output is not None:
        write_outputs(args.output, names, outputs)
        print(f"wrote {args.output}: " + ", ".join(f"{n} {o.dtype}{list(o.shape)}" for n, o in zip(names, outputs)))
        return 0
    for n, o in zip(names, outputs):
        line = f"{n}: {o.dtype}{list(o.shape)}"
        if o.size:
            line += f" min {o.min():.6g} max {o.max():.6g} mean {o.astype(np.float64).mean():.6g}"
        if o.ndim == 2 and o.shape[1] > 1 and np.issubdtype(o.dtype, np.floating):
            line += f"; argmax counts {np.bincount(o.argmax(axis=1), minlength=o.shape[1]).tolist()}"
        print(line)
    return 0


def accuracy(labels: np.ndarray, logits: np.ndarray) -> tuple[int, int]:
    labels = labels.reshape(-1)
    if logits.ndim != 2 or len(labels) != logits.shape[0]:
        raise HwcError(f"{len(labels)} labels for outputs of shape {tuple(logits.shape)}")
    return int((logits.argmax(axis=1) == labels).sum()), len(labels)


def print_accuracy(spec: str, logits: np.ndarray) -> None:
    try:
        correct, n = accuracy(read_data(spec), logits)
    except HwcError as e:
        raise e.at(path=spec) from None
    print(f"top-1 accuracy: {correct}/{n} = {correct / n:.4f}")
