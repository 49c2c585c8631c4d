"""`compile_model(model, options, outdir)`: what `hwc compile` does, callable without the command line.

model (an ONNX path, or an imported `Graph`) → for `--target sim`: `to_fixed` and the typed IR
(model.json, weights.npz); for every other target: its backend (`hwc.backends`), which lowers its own
clone of the graph. The output directory is written atomically (compiler/outdir.py): complete or absent.
"""

from __future__ import annotations

from pathlib import Path

from .errors import HwcError
from .ir.graph import Graph
from .options import CompileOptions
from .outdir import atomic_dir


def load_onnx_model(path, bind=None, target: str | None = None) -> Graph:
    """An ONNX file imported and cleaned up (the float graph every command starts from). With `target`,
    a model too large to compile for it here is refused from its initializers' sizes before the
    conversion (compiler/memory.py)."""
    from .frontend.onnx_loader import convert_model, read_model
    from .pipeline import cleanup

    model = read_model(path)
    if target is not None:
        from .memory import check_model_memory

        check_model_memory(model, target, str(path))
    graph = convert_model(model, str(path), bind or {})
    cleanup(graph)
    return graph


def targets() -> list[str]:
    """Every --target this installation can compile for."""
    from hwc.backends import available

    return ["sim"] + available()


def compile_model(model: str | Path | Graph, options: CompileOptions, outdir, force: bool = False,
                  source: str | None = None):
    """Compile `model` as `options` ask and write `outdir` (replaced only with `force`).

    Returns the backend's `CompileResult` (files relative to outdir, summary lines). `source` names
    the model in messages and generated comments [the path, or the graph's name].
    """
    from hwc.backends.base import CompileResult

    if isinstance(model, Graph):
        graph, source = model, source or model.name
    else:
        graph, source = load_onnx_model(model, target=options.target), source or str(model)
        graph.metadata["source"] = str(model)  # as given: `hwc report` compares the compiled model with it
    from .memory import calib_samples, check_memory

    check_memory(graph, options.target, source, samples=calib_samples(options.calib))
    searched, search_lines = None, []
    if options.max_drop.points is not None:  # per-layer widths first; the compile then uses them
        from .quantize.mixed_precision import YAML_NAME, choose

        options, searched, search_lines = choose(graph, options, Path(outdir) / YAML_NAME)
    if options.target == "sim":
        from .compile import to_fixed
        from .ir.serialize import save_graph
        from .quant_config import QuantConfig

        config = QuantConfig.for_target(options.quant, graph, "sim")
        compiled = to_fixed(graph, config, options.calib.inputs(graph, source), pruning=options.prune,
                            labels=options.calib.labels)
        with atomic_dir(outdir, force=force) as tmp:
            written = [p.name for p in save_graph(compiled.graph, tmp)] + _write_search(searched, tmp)
        return CompileResult(written, search_lines + sim_summary(compiled, source))
    from hwc.backends import TARGETS, get_backend

    if options.target not in TARGETS:
        raise HwcError(f"unknown target {options.target!r} (one of: {', '.join(targets())})")
    backend = get_backend(options.target)
    with atomic_dir(outdir, force=force) as tmp:
        result = backend.compile(graph, options, Path(tmp), source=source)
        result.files += _write_search(searched, tmp)
    result.summary[:0] = search_lines
    return result


def _write_search(text: str | None, outdir) -> list[str]:
    """The --max-drop widths as a --config YAML in the output directory."""
    if text is None:
        return []
    from .quantize.mixed_precision import YAML_NAME

    (Path(outdir) / YAML_NAME).write_text(text)
    return [YAML_NAME]


def sim_summary(compiled, source: str) -> list[str]:
    from .summary import format_rows, layer_rows, pruning_line, quant_line

    lines = [f"compiled {source} for --target sim: {quant_line(compiled.graph.metadata.get('quant', {}))}"]
    if compiled.pruning:
        lines.append(pruning_line(compiled.pruning))
    lines.append(format_rows(layer_rows(compiled.graph)))
    from .cost.ops import ops_figures, ops_line

    lines.append(ops_line(ops_figures(compiled.graph, "sim")))
    return lines + [f"note: {note}" for note in compiled.notes]
