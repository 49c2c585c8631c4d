"""The `hwc` command line: inspect and simulate models (compile/verify arrive with the backends).

User mistakes are one line on stderr (`hwc: error: FILE: node 'N' (Op): reason`) with exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from .errors import HwcError


def _load_model(path, bind=None):
    from .frontend.onnx_loader import load_onnx
    from .pipeline import cleanup

    graph = load_onnx(path, bind=bind)
    cleanup(graph)
    return graph


def _onnx_input_names(path) -> list[str]:
    from .frontend.onnx_loader import read_model

    m = read_model(path)
    inits = {i.name for i in m.graph.initializer}
    return [i.name for i in m.graph.input if i.name not in inits]


def _gather_inputs(model_path, input_paths: list[str]) -> dict[str, np.ndarray]:
    """Map ONNX graph input names to arrays.

    One --input per model input, in order (.npy, .pb, or `archive.npz:key`), or a single .npz whose
    arrays are named after the model's inputs.
    """
    from .data_io import read_array, read_npz

    names = _onnx_input_names(model_path)
    if len(input_paths) == 1 and input_paths[0].endswith(".npz"):
        data = read_npz(input_paths[0])
        missing = [n for n in names if n not in data]
        if missing:
            raise HwcError(f"has no array named {missing[0]!r} (the model's inputs: {', '.join(names)}); "
                           f"pick one with {input_paths[0]}:KEY", input_paths[0])
        return {n: data[n] for n in names}
    if len(input_paths) != len(names):
        raise HwcError(f"the model has {len(names)} input(s) ({', '.join(names)}), got {len(input_paths)} --input", str(model_path))
    out = {}
    for n, p in zip(names, input_paths):
        if ".npz:" in p:
            archive, key = p.rsplit(":", 1)
            data = read_npz(archive)
            if key not in data:
                raise HwcError(f"has no array named {key!r} (it has: {', '.join(data)})", archive)
            out[n] = data[key]
        else:
            out[n] = read_array(p)
    return out


def cmd_inspect(args) -> int:
    from .analysis import layer_table
    from .ir.printer import format_graph

    graph = _load_model(args.model)
    if args.ir:
        sys.stdout.write(format_graph(graph))
        return 0
    rows = layer_table(graph)
    totals = {"params": sum(r["params"] for r in rows), "macs": sum(r["macs"] for r in rows), "nodes": len(rows)}
    if args.json:
        print(json.dumps({"model": str(args.model), "inputs": {v.name: str(v.type) for v in graph.inputs},
                          "outputs": {v.name: str(v.type) for v in graph.outputs}, "layers": rows, "total": totals}, indent=1))
        return 0
    print(f"{args.model}: {totals['nodes']} nodes, {totals['params']:,} parameters, {totals['macs']:,} MACs per sample")
    print("inputs:  " + ", ".join(f"{v.name} {v.type}" for v in graph.inputs))
    print("outputs: " + ", ".join(f"{v.name} {v.type}" for v in graph.outputs))
    header = ("node", "op", "input shape", "output", "params", "MACs", "quantization")
    table = [header] + [(r["node"], r["op"], " ".join("x".join("N" if d is None else str(d) for d in s) for s in r["inputs"]),
                         "x".join("N" if d is None else str(d) for d in r["output"]), f"{r['params']:,}", f"{r['macs']:,}", r["quant"])
                        for r in rows]
    table.append(("total", "", "", "", f"{totals['params']:,}", f"{totals['macs']:,}", ""))
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for k, row in enumerate(table):
        print("  ".join(c.ljust(w) if i in (0, 1, 2, 3, 6) else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip())
        if k == 0 or k == len(table) - 2:
            print("  ".join("-" * w for w in widths))
    return 0


def cmd_simulate(args) -> int:
    from .data_io import write_outputs
    from .sim.run import check_inputs, simulate

    feeds = _gather_inputs(args.model, args.input)
    graph = _load_model(args.model, bind=feeds)
    arrays = [feeds[v.name] for v in graph.inputs]
    try:
        check_inputs(graph, arrays, what=[f"input '{v.name}'" for v in graph.inputs])
    except HwcError as e:
        raise e.at(path=args.model) from None
    outputs = simulate(graph, arrays)
    names = graph.metadata.get("output_names", [v.name for v in graph.outputs])
    if args.labels:
        _print_accuracy(args.labels, outputs[0])
    if args.output:
        write_outputs(args.output, names, outputs)
        print(f"wrote {args.output}: " + ", ".join(f"{n} {o.dtype}{list(o.shape)}" for n, o in zip(names, outputs)))
        return 0
    for n, o in zip(names, outputs):
        line = f"{n}: {o.dtype}{list(o.shape)}"
        if o.size:
            line += f" min {o.min():.6g} max {o.max():.6g} mean {o.astype(np.float64).mean():.6g}"
        if o.ndim == 2 and o.shape[1] > 1 and np.issubdtype(o.dtype, np.floating):
            counts = np.bincount(o.argmax(axis=1), minlength=o.shape[1])
            line += f"; argmax counts {counts.tolist()}"
        print(line)
    return 0


def _load_labeled(spec: str) -> np.ndarray:
    from .data_io import read_array, read_npz

    if ".npz:" in spec:
        archive, key = spec.rsplit(":", 1)
        data = read_npz(archive)
        if key not in data:
            raise HwcError(f"has no array named {key!r} (it has: {', '.join(data)})", archive)
        return data[key]
    return read_array(spec)


def _print_accuracy(spec: str, logits: np.ndarray) -> None:
    labels = _load_labeled(spec).reshape(-1)
    if logits.ndim != 2 or len(labels) != logits.shape[0]:
        raise HwcError(f"{len(labels)} labels for outputs of shape {tuple(logits.shape)}", spec)
    correct = int((logits.argmax(axis=1) == labels).sum())
    print(f"top-1 accuracy: {correct}/{len(labels)} = {correct / len(labels):.4f}")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hwc", description="Compile trained neural networks (ONNX, QONNX, QDQ) into hardware.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("inspect", help="show the layers of a model: shapes, parameters, MACs, quantization")
    s.add_argument("model", help="an .onnx file")
    s.add_argument("--json", action="store_true", help="print per-layer figures and totals as JSON")
    s.add_argument("--ir", action="store_true", help="print the IR as text")
    s.set_defaults(func=cmd_inspect)

    s = sub.add_parser("simulate", help="run a model through hwc's IR and simulator")
    s.add_argument("model", help="an .onnx file")
    s.add_argument("--input", "-i", action="append", required=True, metavar="X",
                   help="one per model input, in the model's order: .npy, ONNX TensorProto .pb or ARCHIVE.npz:KEY; "
                        "or a single .npz with arrays named after the inputs")
    s.add_argument("-o", "--output", metavar="OUT", help="write outputs: .npy for one output, .npz for several")
    s.add_argument("--labels", metavar="Y", help="class labels (.npy or ARCHIVE.npz:KEY): print the top-1 accuracy of the first output")
    s.set_defaults(func=cmd_simulate)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except HwcError as e:
        print(f"hwc: error: {e.line()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hwc: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `hwc inspect m.onnx | head`: stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
