"""`--target verilog`: synthesizable Verilog-2005 for any FPGA or ASIC flow, fully unrolled, verified
by RTL simulation (iverilog) against the bit-accurate simulator.

compile: clone → to_fixed (quantization, pruning) → one module per IR node (backends/rtl_layers.py)
over the kernel library in templates/rtl → rtl/ (top, core, layers, kernels), tb/, README.md, rtl.json
(latency, ports, per-layer adders), the typed IR and hwc.json. Identifiers are derived (`layerK`); ONNX
names appear only in sanitised comments. Output is deterministic.
Pipelining: each linear layer has `--rtl-stages` register levels (1: its output register; more cut its
adder trees; 0: combinational); paths that join are balanced with hwc_delay; latency = the longest path.
verify: iverilog on N inputs with random input gaps and output stalls, every output bit compared with
`simulate(mode="fixed")`, the latency measured on an unstalled sample and compared with rtl.json.
"""


from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..compiler.compile import to_fixed
from ..compiler.ir.graph import Graph
from ..compiler.ir.serialize import load_graph, save_graph
from ..compiler.options import CompileOptions, VerifyOptions
from ..compiler.quant_config import QuantConfig
from ..compiler.summary import format_rows, pruning_line, quant_line

from .base import Backend, CompileResult, VerifyReport, write_manifest
from .hls import rate
from .rtl_design import KERNELS, METADATA, TOP, RtlDesign, design_figures, template_env  # noqa: F401 (re-exported)
from .rtl_stream_design import stream_plan
from .rtl_stream_verify import stream_compile, stream_verify
from .rtl_testbench import compare, pack, parse_outputs, pick_simulator, simulate_rtl, simulated, unpack


class VerilogBackend(Backend):
    name = "verilog"
    targets = ("verilog",)

    def compile(self, graph: Graph, options: CompileOptions, outdir: Path, source: str = "") -> CompileResult:
        r = options.rtl
        stages, mult, io = r.stages, r.mult, r.io
        config = QuantConfig.for_target(options.quant, graph, "verilog")
        compiled = to_fixed(graph.clone(), config, options.calib.inputs(graph, source), pruning=options.prune)
        g = compiled.graph
        stream = stream_plan(g, stages, mult, io, r.conv)
        if stream is not None:
            return stream_compile(stream, compiled, outdir, source)
        design = RtlDesign(g, stages, mult, io)
        files = design.write(outdir, source)
        files += [p.name for p in save_graph(g, outdir)]
        manifest = {"top": TOP, "io": io, "stages": stages, "mult": mult, "latency": design.latency,
                    "sources": design.sources()}
        figs = design_figures(design)
        files.append(write_manifest(outdir, "verilog", manifest, files, figs.to_json()))
        summary = [f"compiled {source} for --target verilog (--rtl-io {io}, --rtl-stages {stages}, --rtl-mult {mult}): "
                   f"latency {design.latency} cycles, one sample per cycle",
                   f"types: {quant_line(g.metadata.get('quant', {}))}"]
        if compiled.pruning:
            summary.append(pruning_line(compiled.pruning))
        summary.append(format_rows(design.rows(), figs))
        summary.append(f"RTL: {sum(l.adders for _, _, l, _ in design.layers):,} adders in constant-coefficient sums, "
                       f"{sum(l.multipliers for _, _, l, _ in design.layers):,} DSP products; estimated "
                       f"{figs.value('lut'):,} LUTs, {figs.value('ff'):,} FFs (7-series; measured: hwc synth)")
        summary += [f"note: {n}" for n in compiled.notes]
        return CompileResult(sorted(files), summary)

    def verify(self, outdir: Path, manifest: dict, inputs, options: VerifyOptions, seed: int = 0) -> VerifyReport:
        outdir = Path(outdir).resolve()
        g = load_graph(outdir)
        meta = json.loads((outdir / METADATA).read_text())
        if meta.get("form") == "stream":
            return stream_verify(outdir, manifest, g, meta, inputs, options, seed)
        kept, expected, t_sim = simulated(g, inputs, options.samples, seed)
        n = len(expected)
        in_words = pack([np.asarray(kept[v.uses[0].node.output.name]) for v in g.inputs], meta["inputs"])
        simulator = pick_simulator(meta, n)
        lines, t_run = simulate_rtl(outdir, manifest, in_words, meta["in_width"], n, simulator, seed + 1)
        latency, words, lasts, problems = parse_outputs(lines)
        got = unpack(words, meta["outputs"])
        report = VerifyReport(compared=int(expected.size), mismatches=0, samples=n)
        if latency != meta["latency"]:
            problems.append(f"latency measured {latency} cycles, rtl.json says {meta['latency']}")
        if len(words) != n:
            problems.append(f"{len(words)} output beats for {n} inputs (loss or duplication)")
        if meta["io"] == "axis":
            want = [(i % 7 == 6) or (i == n - 1) for i in range(n)]
            if lasts[:n] != want[:len(lasts)]:
                problems.append("tlast did not travel with its beat")
        report.details.append(f"{simulator} {rate(n, t_run)} samples/s (with build), hwc simulator {rate(n, t_sim)} "
                              f"samples/s; latency {latency} cycles, random input gaps and output stalls")
        return compare(report, got, expected, problems)


