"""Full-integer TFLite (int8) for LiteRT and the Edge TPU, and its bit-exact check.

compile: clone -> optimize -> value ranges (calibration or intervals) -> quantize-affine -> NHWC layout ->
`model.tflite` (+ the typed IR `model.json`/`weights.npz` that `hwc simulate DIR` runs in the TFLite mode,
`edgetpu_report.txt`, `README.md`, `hwc.json`).
verify: LiteRT (ai-edge-litert) on N inputs, per resolver, against the simulator in the matching mode,
bit for bit (int8 outputs; float32 with --float-io).

Options (compiler/options.py): wbits (2..8 here), abits (8 or unset), calibration and input range of
`CompileOptions.quant`/`.calib`, `CompileOptions.tflite.float_io` (QUANTIZE/DEQUANTIZE in the model
instead of int8 I/O), target (tflite | edgetpu); verify: the LiteRT resolvers of `VerifyOptions`,
random inputs drawn with `seed`.

Layout (backends/tflite_layout.py): the IR is NCHW; every IR value gets a permutation p with
tflite_tensor = ir_value.transpose(p) (NHWC around convolutions and pools); a model that would need a
TRANSPOSE op is refused. The flatbuffer: backends/tflite_writer.py (one writer per IR op).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..compiler.errors import HwcError
from ..compiler.ir.graph import Graph, Value
from ..compiler.ir.types import AffineType, FloatType
from ..compiler.options import CompileOptions, VerifyOptions
from ..compiler.ranges import DEFAULT_INPUT_RANGE
from .base import Backend, CompileResult, VerifyReport, uniform_inputs, write_manifest
from .edgetpu_report import render
from .tflite_agreement import reference_agreement
from .tflite_layout import Layout, edge_in, edge_out, io_values, plan_layout
from .tflite_writer import _dtype, _Writer, write_model

DEFAULT_MODE = "tflite-xnnpack"  # what Interpreter(model_path) runs by default


# ---- lowering --------------------------------------------------------------------------------

def lower(graph: Graph, options: CompileOptions, source: str = "") -> tuple[Graph, dict, list[str]]:
    """The affine int8 IR of `graph` (a clone): returns (graph, input ranges, notes)."""
    from ..compiler.passes.exact_float_output import ExactFloatOutput
    from ..compiler.passes.quantize_affine import QuantizeAffine
    from ..compiler.passes.widen_activations import WidenActivations
    from ..compiler.pipeline import optimize
    from ..compiler.ranges import calibrate, intervals

    from ..compiler.passes.global_max_pool_to_max_pool import GlobalMaxPoolToMaxPool

    g = graph.clone()
    optimize(g)
    GlobalMaxPoolToMaxPool().run(g)  # TFLite has MAX_POOL_2D, no global max pool
    notes: list[str] = []
    input_range = options.quant.input_range
    calib = options.calib.inputs(g, source)
    floats = [v for v in g.inputs if isinstance(v.type.elem, FloatType)]
    if calib is not None:
        ranges = calibrate(g, calib)
    elif floats:
        ranges = intervals(g, input_range or DEFAULT_INPUT_RANGE)
    else:
        ranges = {}
    if input_range is not None:
        for v in floats:
            ranges[v.name] = input_range
    in_ranges = {v.name: [float(x) for x in ranges[v.name]] for v in floats if v.name in ranges}
    abits = options.quant.abits_for(options.target)
    if abits not in (8, 16):
        raise HwcError(f"--abits {abits}: TFLite activations are 8 bits, or 16 in its 16x8 mode; use --abits 8 or 16")
    if abits == 16 and (options.target != "tflite" or options.tflite.float_io):
        raise HwcError("--abits 16 (TFLite's 16x8 mode) is built for --target tflite with int16 I/O: the Edge TPU "
                       "computes int8 only; leave out --float-io")
    qa = QuantizeAffine(ranges, wbits=options.quant.wbits, abits=8 if abits == 16 else abits)
    qa.run(g)
    if abits == 16:  # TFLite's 16x8 mode: int16 activations over the same ranges, int8 weights, int64 biases
        if qa.carried:
            raise HwcError("--abits 16: the model carries its own activation quantizers (kept exactly in int8); "
                           "leave --abits out")
        WidenActivations().run(g)
    exact = ExactFloatOutput(lambda v: v in qa.carried)  # the model's unquantized float output, exactly
    if options.target == "tflite":  # the Edge TPU keeps every layer int8 (mapped), the note says by how much
        exact.run(g)
    g.verify()
    if calib is None and input_range is None and qa.ranged:
        notes.append(f"no --calib data: activation ranges from interval analysis with inputs in "
                     f"{list(DEFAULT_INPUT_RANGE)} (give --calib X or --input-range LO,HI)")
    notes += [f"{name}: the model leaves this layer's output unquantized; computed exactly in float32 (DEQUANTIZE, "
              "float FULLY_CONNECTED: power-of-two scales, every partial sum below 2^24 steps), on the CPU"
              for name in exact.rewritten]
    return g, in_ranges, notes + qa.notes


# ---- the backend -----------------------------------------------------------------------------

class TfliteBackend(Backend):
    name = "tflite"
    targets = ("tflite", "edgetpu")

    def compile(self, graph: Graph, options: CompileOptions, outdir: Path, source: str = "") -> CompileResult:
        from ..compiler.ir.serialize import save_graph

        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        target, float_io = options.target, options.tflite.float_io
        g, in_ranges, notes = lower(graph, options, source)
        agreement = reference_agreement(_optimized(graph), g, in_ranges, DEFAULT_MODE)
        notes += [agreement] if agreement else []
        model, writer, lay = write_model(g, float_io)
        g.metadata.pop("fixed", None)
        g.metadata["sim_mode"] = DEFAULT_MODE
        g.metadata["output_names"] = graph.metadata.get("output_names") or [v.name for v in g.outputs]
        g.metadata["tflite"] = {
            "float_io": float_io, "input_ranges": in_ranges,
            "input_perms": [list(lay.of(v)) for v in io_values(g, float_io)[0]],
            "output_perms": [list(lay.of(v)) for v in io_values(g, float_io)[1]],
            "wbits": options.quant.wbits, "abits": _abits(g),
            "delegated": writer.delegated, "op_inputs": writer.op_inputs, "op_outputs": writer.op_outputs,
        }
        (outdir / "model.tflite").write_bytes(model)
        files = ["model.tflite"] + [p.name for p in save_graph(g, outdir)]
        report = render(writer.ops)
        (outdir / "edgetpu_report.txt").write_text(report)
        (outdir / "README.md").write_text(_readme(g, writer, lay, float_io, notes, target))
        files += ["edgetpu_report.txt", "README.md"]
        manifest = {"wbits": options.quant.wbits, "abits": _abits(g), "float_io": float_io, "calib": options.calib.path,
                    "input_range": options.quant.input_range_text}
        from ..compiler.cost.tflite import tflite_figures
        from .edgetpu_report import analyse

        figs = tflite_figures(g, writer.ops, analyse(writer.ops)[0], target)
        files.append(write_manifest(outdir, target, manifest, files, figs.to_json()))
        summary = [f"compiled for --target {target}: {'16x8' if _abits(g) == 16 else 'int8'} TFLite, {len(writer.ops)} operators, wbits "
                   f"{manifest['wbits']}, {_io_kinds(g, float_io)}"]
        summary += [f"  {o.op:<22} {o.node}" for o in writer.ops]
        summary += [line for line in report.splitlines() if line.startswith(("mapped", "first", "runs", "param"))]
        summary += [f"note: {x}" for x in notes]
        return CompileResult(files, summary)

    def verify(self, outdir: Path, manifest: dict[str, Any], inputs: list[np.ndarray] | None,
               options: VerifyOptions, seed: int = 0) -> VerifyReport:
        from ..compiler.ir.serialize import load_graph

        g = load_graph(outdir)
        if inputs is None:
            inputs = random_inputs(g, options.samples, seed=seed)
        return compare(g, (Path(outdir) / "model.tflite").read_bytes(), inputs, options.resolvers)


def _optimized(graph: Graph) -> Graph:
    from ..compiler.pipeline import optimize

    g = graph.clone()
    optimize(g)
    return g


# ---- verification ----------------------------------------------------------------------------

def random_inputs(g: Graph, n: int, seed: int = 0) -> list[np.ndarray]:
    """n inputs per graph input: uniform in the calibrated range (floats) or over the storage (integers)."""
    return uniform_inputs(g, n, seed, g.metadata.get("tflite", {}).get("input_ranges", {}))


def _interpreter(model: bytes, mode: str):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    r = {"ref": OpResolverType.BUILTIN_REF, "xnnpack": OpResolverType.AUTO,
         "builtin": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}[mode]
    it = Interpreter(model_content=model, experimental_op_resolver_type=r)
    it.allocate_tensors()
    return it


def run_litert(model: bytes, feeds: list[np.ndarray], in_perms, out_perms, mode: str, batched,
               out_batched) -> list[np.ndarray]:
    """Invoke once per sample (the model has batch 1); arrays in and out in the IR layout."""
    it = _interpreter(model, mode)
    ins = [d["index"] for d in it.get_input_details()]
    outs = [d["index"] for d in it.get_output_details()]
    n = len(feeds[0])
    results: list[list[np.ndarray]] = [[] for _ in outs]
    for k in range(n):
        for i, x, p, b in zip(ins, feeds, in_perms, batched):
            s = x[k:k + 1] if b else x[k]
            it.set_tensor(i, np.ascontiguousarray(np.transpose(s, p)))
        it.invoke()
        for j, (o, p) in enumerate(zip(outs, out_perms)):
            results[j].append(np.transpose(it.get_tensor(o), np.argsort(p)))
    return [np.concatenate(r) if b else np.stack(r) for r, b in zip(results, out_batched)]


def delegation(model: bytes) -> set[int]:
    """Output tensor indices of the XNNPACK partitions LiteRT made."""
    it = _interpreter(model, "xnnpack")
    return {int(t) for d in it._get_ops_details() if d["op_name"] == "DELEGATE" for t in d["outputs"]}


def predicted_delegation(meta: dict, graph_inputs: list[int], graph_outputs: list[int]) -> set[int]:
    """Output tensors of the XNNPACK partitions, partitioned as TFLite does: alternately take, in execution
    order, every operator of one kind (delegated or not) whose inputs are ready, until none is left."""
    dele, ins, outs = meta["delegated"], meta["op_inputs"], meta["op_outputs"]
    produced = {t for o in outs for t in o}
    ready = {t for i in ins for t in i if t >= 0 and t not in produced} | set(graph_inputs)
    left = list(range(len(dele)))
    subsets: list[tuple[bool, list[int]]] = []
    kind = dele[0] if dele else False
    while left:
        subset, grew = [], True
        while grew:
            grew = False
            for k in list(left):
                if dele[k] == kind and all(t < 0 or t in ready for t in ins[k]):
                    subset.append(k)
                    left.remove(k)
                    ready.update(outs[k])
                    grew = True
        subsets.append((kind, subset))
        kind = not kind
    result = set()
    for kind, subset in subsets:
        if not kind:
            continue
        inside = set(subset)
        for k in subset:
            for t in outs[k]:
                if t in graph_outputs or any(t in ins[j] for j in range(len(ins)) if j not in inside):
                    result.add(t)
    return result


def compare(g: Graph, model: bytes, inputs: list[np.ndarray], modes: list[str]) -> VerifyReport:
    """LiteRT against the simulator, bit for bit, at the model file's own inputs and outputs."""
    from ..compiler.sim.run import simulate

    meta = g.metadata["tflite"]
    float_io = meta["float_io"]
    e_in = [edge_in(g, v, float_io) for v in g.inputs]
    e_out = [edge_out(g, v, float_io) for v in g.outputs]
    batched = [v.type.shape[:1] == (None,) for v in g.inputs]
    keep = {id(n) for n in e_in if n is not None} | {id(n.inputs[0].producer) for n in e_out if n is not None}
    n = len(inputs[0])
    compared = mismatches = 0
    first, details = "", []
    for mode in modes:
        if all(batched):
            outs, kept = simulate(g, inputs, mode=f"tflite-{mode}", keep=lambda node: id(node) in keep)
        else:  # unbatched graph: one run per sample
            runs = [simulate(g, [x[k] for x in inputs], mode=f"tflite-{mode}", keep=lambda node: id(node) in keep)
                    for k in range(n)]
            outs = [np.stack([r[0][j] for r in runs]) for j in range(len(g.outputs))]
            kept = {name: np.stack([r[1][name] for r in runs]) for name in runs[0][1]}
        feeds = [kept[e.output.name] if e is not None else x for e, x in zip(e_in, inputs)]
        expected = [kept[e.inputs[0].name] if e is not None else o for e, o in zip(e_out, outs)]
        got = run_litert(model, feeds, meta["input_perms"], meta["output_perms"], mode, batched,
                         [v.type.shape[:1] == (None,) for v in g.outputs])
        m_mode = 0
        for j, (a, e) in enumerate(zip(got, expected)):
            e = np.asarray(e).reshape(a.shape)
            ab = a.view(np.uint32) if a.dtype == np.float32 else a
            eb = e.astype(a.dtype).view(np.uint32) if a.dtype == np.float32 else e.astype(a.dtype)
            diff = np.flatnonzero(ab.reshape(-1) != eb.reshape(-1))
            compared += a.size
            m_mode += diff.size
            if diff.size and not first:
                k = int(diff[0])
                idx = np.unravel_index(k, a.shape)
                where = tuple(int(i) for i in idx[1:])
                first = (f"resolver {mode}, output {g.outputs[j].name}, sample {idx[0]}, index {where}: "
                         f"LiteRT {a.reshape(-1)[k]}, simulator {e.reshape(-1)[k]}")
        mismatches += m_mode
        line = f"tflite-{mode}: {sum(a.size for a in got):,} values from {n} inputs, {m_mode} differ"
        if m_mode and all(batched):
            bad = [x for x in layer_differences(g, model, [x[:50] for x in inputs], mode) if x[3]]
            if bad:
                line += f"; first differing layer: operator #{bad[0][0]} {bad[0][1]} -> {bad[0][2]}"
        if mode == "xnnpack":
            actual = delegation(model)
            predicted = predicted_delegation(meta, *_model_io(model))
            line += "; XNNPACK partitions as predicted" if actual == predicted else \
                f"; WARNING: XNNPACK partitions end at tensors {sorted(actual)}, predicted {sorted(predicted)}"
        details.append(line)
    return VerifyReport(compared, mismatches, n, first, details)


def layer_differences(g: Graph, model: bytes, inputs: list[np.ndarray], mode: str) -> list[tuple[int, str, str, int]]:
    """Every operator's output in LiteRT (all tensors preserved) against the simulator's value of the same name:
    [(operator index, operator, tensor name, differing values)] over all samples, in execution order."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from ..compiler.sim.run import simulate

    float_io = g.metadata["tflite"]["float_io"]
    lay = plan_layout(g)
    _, kept = simulate(g, inputs, mode=f"tflite-{mode}", keep=lambda node: True)
    kept.update({v.name: x for v, x in zip(g.inputs, inputs)})
    values = {v.name: v for v in g.values()}
    r = {"ref": OpResolverType.BUILTIN_REF, "xnnpack": OpResolverType.AUTO,
         "builtin": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}[mode]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "preserve_all_tensors is for debugging": it is
        it = Interpreter(model_content=model, experimental_op_resolver_type=r, experimental_preserve_all_tensors=True)
    it.allocate_tensors()
    names = {d["index"]: d["name"] for d in it.get_tensor_details()}
    ops = [d for d in it._get_ops_details() if d["op_name"] != "DELEGATE"]
    in_v, _ = io_values(g, float_io)
    counts: dict[tuple[int, int], int] = {}
    for k in range(len(inputs[0])):
        for d, v in zip(it.get_input_details(), in_v):
            it.set_tensor(d["index"], np.ascontiguousarray(np.transpose(kept[v.name][k:k + 1], lay.of(v))))
        it.invoke()
        for i, d in enumerate(ops):
            for t in d["outputs"]:
                v = values.get(names.get(int(t)))
                if v is None or v.name not in kept:
                    continue
                a = it.get_tensor(int(t))
                e = np.transpose(kept[v.name][k:k + 1], lay.of(v)).astype(a.dtype)
                if a.shape == e.shape:
                    counts[(i, int(t))] = counts.get((i, int(t)), 0) + int(np.count_nonzero(
                        a.view(np.uint32) != e.view(np.uint32) if a.dtype == np.float32 else a != e))
    return [(i, ops[i]["op_name"], names[t], c) for (i, t), c in sorted(counts.items())]


def _model_io(model: bytes) -> tuple[list[int], list[int]]:
    from ai_edge_litert import schema_py_generated as S

    sg = S.Model.GetRootAs(model, 0).Subgraphs(0)
    return [sg.Inputs(i) for i in range(sg.InputsLength())], [sg.Outputs(i) for i in range(sg.OutputsLength())]


# ---- README for the output directory ---------------------------------------------------------

def _readme(g: Graph, w: _Writer, lay: Layout, float_io: bool, notes: list[str], target: str) -> str:
    in_v, out_v = io_values(g, float_io)
    io = []
    for v, t in zip(g.inputs, in_v):
        io.append(f"- input `{v.name}` {list(v.type.shape)}: {_desc(t)} {lay.shape(t)} "
                  f"(the IR array transposed by {list(_host_perm(g, v, t, lay))})")
    names = g.metadata.get("output_names") or [v.name for v in g.outputs]
    for v, t, name in zip(g.outputs, out_v, names):
        io.append(f"- output `{name}` {list(v.type.shape)}: {_desc(t)} {lay.shape(t)} "
                  f"(back to the IR layout: transpose by {[int(i) for i in np.argsort(_host_perm(g, v, t, lay))]})")
    lines = [
        f"# {g.name} as full-integer TFLite", "",
        f"Written by `hwc compile --target {target}`. Files:", "",
        "- `model.tflite`: the int8 model (TFL3, schema version 3, batch 1, static shapes).",
        "- `model.json`, `weights.npz`: the typed IR; `hwc simulate` on this directory predicts LiteRT's output bit "
        f"for bit (mode `{DEFAULT_MODE}`, the interpreter's default path).",
        "- `edgetpu_report.txt`: which operators the Edge TPU compiler v16 would map, and what runs on the CPU.",
        "- `hwc.json`: the manifest (`hwc verify` reads it).", "",
        "## Inputs and outputs", "",
        *io, "",
        ("The model converts float32 in and out itself (QUANTIZE/DEQUANTIZE)." if float_io else
         "Inputs and outputs are int8: quantize on the host as real = scale * (q - zero_point) (scales and zero "
         "points are in the model), e.g. q = clip(round(x / scale) + zero_point, -128, 127)."
         + (" A float32 output is the model's own unquantized output, computed exactly by a float32 layer (Notes)."
            if any(_dtype(t) == "float32" for t in out_v) else "")),
        "", "## Verify", "",
        "`hwc verify DIR [--resolver ref|xnnpack|builtin]` runs LiteRT on random inputs and compares with the "
        "simulator bit for bit.", "",
        "## Operators", "",
        *[f"- {o.op} (v{o.version}) for {o.ir_op} `{o.node}`" for o in w.ops],
    ]
    if notes:
        lines += ["", "## Notes", "", *[f"- {x}" for x in notes]]
    return "\n".join(lines) + "\n"


def _abits(g: Graph) -> int:
    """16 for the 16x8 mode (int16 activations), else 8."""
    return 16 if any(isinstance(v.type.elem, AffineType) and v.type.elem.storage.bits == 16 for v in g.values()) else 8


def _io_kinds(g: Graph, float_io: bool) -> str:
    """"int8 I/O", or e.g. "int8 input, float32 output" (an exact float output layer)."""
    ins, outs = io_values(g, float_io)
    i, o = ("/".join(sorted({_dtype(v) for v in vs})) for vs in (ins, outs))
    return f"{i} I/O" if i == o else f"{i} input, {o} output"


def _host_perm(g: Graph, v: Value, t: Value, lay: Layout) -> tuple[int, ...]:
    """The permutation taking the graph's I/O array to the model file's tensor t (through a memory-order Transpose)."""
    p = list(lay.of(t))
    tr = next((u.node for u in v.uses if u.node.op == "Transpose"), None) if v in g.inputs else v.producer
    if t is not v and tr is not None and tr.op == "Transpose":
        perm = tr.attrs["perm"] if v in g.inputs else [int(i) for i in np.argsort(tr.attrs["perm"])]
        p = [perm[i] for i in p]
    return tuple(p)


def _desc(v: Value) -> str:
    t = v.type.elem
    if isinstance(t, AffineType):
        return f"{_dtype(v)} (scale {t.scale[0]:.9g}, zero point {t.zero_point[0]})"
    return _dtype(v)
