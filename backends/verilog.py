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
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from ..compiler.compile import to_fixed
from ..compiler.ir.graph import Graph
from ..compiler.ir.serialize import load_graph, save_graph
from ..compiler.options import CompileOptions, VerifyOptions
from ..compiler.quant_config import QuantConfig
from ..compiler.sim.run import simulate
from ..compiler.summary import format_rows, pruning_line, quant_line

from .base import Backend, CompileResult, VerifyReport, write_manifest
from .hls import rate
from .hls_data import random_inputs
from .rtl_design import KERNELS, METADATA, TOP, RtlDesign, design_figures, template_env  # noqa: F401 (re-exported)
from .rtl_stream_design import stream_plan
from .rtl_stream_verify import stream_compile, stream_verify
from .rtl_testbench import pack, parse_outputs, pick_simulator, run_testbench, unpack


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
        xs = inputs if inputs is not None else random_inputs(g, options.samples, seed)
        from ..compiler.sim.inputs import check_inputs

        xs = check_inputs(g, xs, what=[f"--input {i}" for i in range(len(g.inputs))])
        n = len(xs[0])
        t0 = time.perf_counter()
        _, kept = simulate(g, xs, mode="fixed", keep=lambda node: True)
        t_sim = time.perf_counter() - t0
        in_words = pack([np.asarray(kept[v.uses[0].node.output.name]) for v in g.inputs], meta["inputs"])
        expected = np.concatenate([np.asarray(kept[v.producer.inputs[0].name], dtype=object).reshape(n, -1)
                                   for v in g.outputs], axis=1)
        work = Path(tempfile.mkdtemp(prefix="hwc-verify-rtl-"))
        try:
            digits = -(-meta["in_width"] // 4)
            (work / "inputs.hex").write_text("".join(f"{w:0{digits}x}\n" for w in in_words))
            t0 = time.perf_counter()
            simulator = pick_simulator(meta, n)
            lines = run_testbench(outdir, manifest, work, n, simulator, seed=seed + 1)
            t_run = time.perf_counter() - t0
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
            m = min(len(got), n)
            diff = got[:m] != expected[:m]
            report.mismatches = int(diff.sum()) + abs(n - len(words)) * expected.shape[1] + (len(problems) > 0)
            report.details.append(f"{simulator} {rate(n, t_run)} samples/s (with build), hwc simulator {rate(n, t_sim)} "
                                  f"samples/s; latency {latency} cycles, random input gaps and output stalls")
            report.details += [f"problem: {p}" for p in problems]
            if diff.any():
                s, i = map(int, np.argwhere(diff)[0])
                report.first_difference = f"sample {s}, output element {i}: RTL mantissa {got[s, i]}, simulator {expected[s, i]}"
            elif problems:
                report.first_difference = problems[0]
            return report
        finally:
            shutil.rmtree(work, ignore_errors=True)


