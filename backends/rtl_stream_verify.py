"""compile and verify of the streaming form (rtl_stream_design.py): the output directory, the compile
summary with the cost model's estimate, and `hwc verify`: every frame sent as pixel beats through the
stream testbench (frame 0 alone, frames 1-2 back to back, the rest with random input gaps and output
stalls), every output bit compared with `simulate(mode="fixed")`, tlast on each frame's last beat.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..compiler.cost.rtl import rtl_figures
from ..compiler.ir.serialize import save_graph
from ..compiler.summary import format_rows, layer_rows, pruning_line, quant_line

from .base import CompileResult, VerifyReport, write_manifest
from .hls import rate
from .rtl_design import TOP
from .rtl_stream_design import RtlStreamDesign, pixel_frames, pixel_words
from .rtl_testbench import compare, parse_outputs, pick_simulator, simulate_rtl, simulated, unpack


def stream_figures(design: RtlStreamDesign):
    """The cost model's estimate: the streamed layers' modules (control, line buffers, window and the
    arithmetic) and the unrolled layers after them."""
    mults = {r["node"]: r["multipliers"] for r in layer_rows(design.g)}  # nonzero weights: products per window
    layers = [(n.name, n.op, l.lines, mults.get(n.name, 0), l.latency, (l.buffer_depth, l.buffer_width), l.state_bits)
              for _, n, l in design.layers]
    core = []
    if design.tail:
        layers += [(n.name, n.op, l.lines, mults.get(n.name, 0), l.latency) for _, n, l, _ in design.tail.layers]
        core = design.tail.core
    return rtl_figures(layers, core + design.top_lines, None, ii=design.cycles_per_frame)


def stream_compile(design: RtlStreamDesign, compiled, outdir: Path, source: str) -> CompileResult:
    g = design.g
    files = design.write(outdir, source)
    files += [p.name for p in save_graph(g, outdir)]
    manifest = {"top": TOP, "io": "axis", "stages": design.stages, "mult": design.mult, "conv": "stream",
                "latency": design.latency, "cycles_per_frame": design.cycles_per_frame,
                "sources": design.sources()}
    figs = stream_figures(design)
    files.append(write_manifest(outdir, "verilog", manifest, files, figs.to_json()))
    lb = sum(l.buffer_bits for _, _, l in design.layers)
    summary = [f"compiled {source} for --target verilog (--rtl-conv stream, --rtl-stages {design.stages}, --rtl-mult "
               f"{design.mult}): {len(design.layers)} streamed layers, one pixel ({design.in_channels} channels) per "
               f"input beat, {design.cycles_per_frame} cycles per frame back to back, latency {design.latency} cycles, "
               f"{lb:,} line-buffer bits",
               f"types: {quant_line(g.metadata.get('quant', {}))}"]
    if compiled.pruning:
        summary.append(pruning_line(compiled.pruning))
    summary.append(format_rows(layer_rows(g), figs))
    summary.append(f"RTL: {sum(l.body.adders for _, _, l in design.layers):,} adders in the streamed layers; estimated "
                   f"{figs.value('lut'):,} LUTs, {figs.value('ff'):,} FFs (7-series; measured: hwc synth)")
    summary += [f"note: {n}" for n in compiled.notes]
    return CompileResult(sorted(files), summary)


def stream_verify(outdir: Path, manifest: dict, g, meta: dict, inputs, options, seed: int) -> VerifyReport:
    kept, expected, t_sim = simulated(g, inputs, options.samples, seed)
    n = len(expected)
    words = pixel_words(np.asarray(kept[g.inputs[0].uses[0].node.output.name]), meta["inputs"][0])
    simulator = pick_simulator(meta, n * meta["cycles_per_frame"] // 16)
    lines, t_run = simulate_rtl(outdir, manifest, words, meta["in_width"], n, simulator, seed + 1)
    period = [int(x.split()[1]) for x in lines if x.startswith("period ")]
    latency, beats, lasts, problems = parse_outputs([x for x in lines if not x.startswith("period ")])
    per = meta["out_beats_per_frame"]
    got = unpack(beats, meta["outputs"]) if per == 1 else pixel_frames(beats, meta["outputs"][0], per)
    report = VerifyReport(compared=int(expected.size), mismatches=0, samples=n)
    if len(beats) != n * per:
        problems.append(f"{len(beats)} output beats for {n} frames of {per} (loss or duplication)")
    if lasts != [i % per == per - 1 for i in range(len(lasts))]:
        problems.append("tlast is not on each frame's last output beat")
    if latency != meta["latency"]:
        problems.append(f"latency measured {latency} cycles, rtl.json says {meta['latency']}")
    if period and period[0] != meta["cycles_per_frame"]:
        problems.append(f"{period[0]} cycles per back-to-back frame, rtl.json says {meta['cycles_per_frame']}")
    report.details.append(
        f"{simulator} {rate(n, t_run)} frames/s (with build), hwc simulator {rate(n, t_sim)} frames/s; "
        f"{meta['in_beats_per_frame']} input beats and {per} output beats per frame; latency {latency} cycles "
        f"(first input beat to last output beat of a frame), "
        + (f"{period[0]} cycles per frame back to back" if period else "cycles per frame not measured (< 3 frames)")
        + "; random input gaps and output stalls")
    return compare(report, got, expected, problems, what="frame")
