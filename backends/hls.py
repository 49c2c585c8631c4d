"""HLS C++ projects (Xilinx Vitis HLS, Intel HLS Compiler) over hwc's kernel library, and their
verification by g++ C simulation against the bit-accurate simulator.

compile: clone → to_fixed (quantization, pruning) → one layer per IR node (backends/hls_layers.py) →
jinja2 templates (templates/project, templates/<vendor>) → firmware/, tb/, tb_data/, the vendor's
build files, README.md, the typed IR and hwc.json. Identifiers are derived (`layerK`, `configK`); ONNX
names appear only in sanitised comments. Output is deterministic.
verify: the testbench compiled with g++ (cached by content hash) on N inputs, compared bit for bit with
`simulate(mode="fixed")`; on a mismatch a traced build names the first differing layer.
"""
from __future__ import annotations

import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from ..compiler.compile import to_fixed
from ..compiler.cost.fit import auto_reuse, device_fit, utilisation_line
from ..compiler.cost.hls import HlsCost
from ..compiler.errors import HwcError
from ..compiler.ir.graph import Graph
from ..compiler.ir.serialize import load_graph, save_graph
from ..compiler.options import CompileOptions, VerifyOptions
from ..compiler.progress import status
from ..compiler.quant_config import QuantConfig
from ..compiler.summary import format_rows, layer_rows, pruning_line, quant_line

from .base import Backend, CompileResult, VerifyReport, write_manifest
from .hls_vendor import Vendor
from .hls_data import random_inputs, read_rows, reference, tb_inputs, write_rows
from .hls_project import KERNEL_HEADERS, TOP, Project, comment, emitted_nodes

# g++ flags of the C simulation: -DNDEBUG (ap_private asserts on casts that drop more bits than the
# source has) and GCC 12's access warnings off (quadratic in the size of large constant initialisers).
# The standard headers the testbench includes (templates/project/test.cpp.j2), precompiled with the rest.
TB_STD_HEADERS = ("cstdio", "cstdlib", "fstream", "sstream", "string", "vector")
CSIM_FLAGS = ("-std=c++14", "-O1", "-DNDEBUG", "-DHWC_TB_MANTISSAS", "-Wno-free-nonheap-object", "-Wno-mismatched-dealloc",
              "-Wno-mismatched-new-delete")


class HlsBackend(Backend):
    vendor: Vendor

    # ---- compile ------------------------------------------------------------------------------
    def compile(self, graph: Graph, options: CompileOptions, outdir: Path, source: str = "") -> CompileResult:
        target, h = self.vendor.name, options.hls
        config = QuantConfig.for_target(options.quant, graph, target)
        compiled = to_fixed(graph.clone(), config, options.calib.inputs(graph, source), pruning=options.prune,
                            labels=options.calib.labels)
        g = compiled.graph
        part = h.part or self.vendor.default_part
        layer_reuse, auto_line = {}, None
        if h.reuse == "auto":
            layer_reuse = auto_reuse(Project(g, self.vendor, h.io, h.strategy, 1), part, h.clock, h.utilisation)
            auto_line = (f"--reuse auto (fit {h.utilisation:g} % of {part}): " +
                         ", ".join(f"{name} {r}" for name, r in layer_reuse.items()))
        project = Project(g, self.vendor, h.io, h.strategy, 1 if h.reuse == "auto" else h.reuse, layer_reuse)
        figs = HlsCost(project, part, h.clock).figures(target)
        fit_warnings = device_fit(figs, part)
        files = project.write(outdir, part, h.clock, source, target, figs)
        files += [p.name for p in save_graph(g, outdir)]
        manifest = {"io": h.io, "strategy": h.strategy, "reuse": h.reuse, "part": part, "clock": h.clock, "top": TOP}
        if layer_reuse:
            manifest["layer_reuse"] = layer_reuse
        files.append(write_manifest(outdir, target, manifest, files, figs.to_json()))
        summary = [f"compiled {source} for --target {target} (--io {h.io}, --strategy {h.strategy}"
                   f"{f', --reuse {h.reuse}' if h.strategy == 'resource' else ''}, part {part}, clock {h.clock} ns)"]
        summary.append(f"types: {quant_line(g.metadata.get('quant', {}))}")
        if compiled.pruning:
            summary.append(pruning_line(compiled.pruning))
        if auto_line:
            summary.append(auto_line)
        summary.append(format_rows(layer_rows(g), figs))
        summary.append(f"estimated latency {figs.value('latency'):,} cycles = {figs.value('latency_ns'):,.1f} ns at "
                       f"{h.clock} ns, II {figs.value('ii'):,} cycles (before synthesis: docs/COST.md)")
        if figs.device:
            summary.append(utilisation_line(figs))
        summary += [f"warning: {w}" for w in fit_warnings]
        summary += [f"note: {n}" for n in compiled.notes]
        return CompileResult(sorted(files), summary)

    # ---- verify -------------------------------------------------------------------------------
    def verify(self, outdir: Path, manifest: dict, inputs, options: VerifyOptions, seed: int = 0) -> VerifyReport:
        outdir = Path(outdir).resolve()  # g++ runs elsewhere: include paths must be absolute
        g = load_graph(outdir)
        xs = inputs if inputs is not None else random_inputs(g, options.samples, seed)
        from ..compiler.sim.inputs import check_inputs

        xs = check_inputs(g, xs, what=[f"--input {i}" for i in range(len(g.inputs))])
        n = len(xs[0])
        t0 = time.perf_counter()
        expected, kept = reference(g, xs)
        t_sim = time.perf_counter() - t0
        work = Path(tempfile.mkdtemp(prefix="hwc-verify-"))
        try:
            write_rows(work / "inputs.dat", tb_inputs(g, xs, kept))
            write_rows(work / "expected.dat", expected)
            t0 = time.perf_counter()
            with status("building the testbench with g++"):
                exe = self._build(outdir, manifest, trace=False)
            t_build = time.perf_counter() - t0
            t0 = time.perf_counter()
            with status(f"C simulation of {n} samples"):
                run = subprocess.run([str(exe), str(work / "inputs.dat"), str(work / "expected.dat"), str(work / "outputs.dat")],
                                     capture_output=True, text=True, cwd=work, timeout=3600, preexec_fn=_big_stack)
            t_run = time.perf_counter() - t0
            if run.returncode not in (0, 1):
                raise HwcError(f"the C simulation failed ({run.returncode}): {run.stderr.strip()[:300]}", str(outdir))
            got = read_rows(work / "outputs.dat", expected.shape[1])
            diff = got != expected
            report = VerifyReport(compared=int(expected.size), mismatches=int(diff.sum()), samples=n)
            report.details.append(f"g++ build {t_build:.1f} s (cached when unchanged), C simulation {rate(n, t_run)} "
                                  f"samples/s, hwc simulator {rate(n, t_sim)} samples/s")
            if report.mismatches:
                s, i = map(int, np.argwhere(diff)[0])
                report.first_difference = f"sample {s}, output index {i}: C simulation {got[s, i]!r}, simulator {expected[s, i]!r}"
                report.first_difference += self._first_layer(outdir, manifest, g, xs, kept, s, work)
            return report
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _build(self, outdir: Path, manifest: dict, trace: bool, cache_dir=None, pch_cache=None, flags=CSIM_FLAGS) -> Path:
        from .cpp_build import CompileError, build

        top = manifest["options"].get("top", TOP)
        fw = Path(outdir).resolve() / "firmware"
        # the layers' translation units (firmware/layers/part*.cpp), as the manifest lists them
        parts = [f for f in manifest.get("files", []) if f.startswith("firmware/layers/") and f.endswith(".cpp")]
        sources = {f"{top}.cpp": (fw / f"{top}.cpp").read_text(), f"{top}_test.cpp": (outdir / "tb" / f"{top}_test.cpp").read_text(),
                   **{Path(f).name: (Path(outdir) / f).read_text() for f in parts}}
        flags = tuple(flags) + (("-DHWC_TRACE",) if trace else ())
        try:
            return build(sources, include_dirs=[fw, fw / "hwc", self.vendor.header_dir()], out_name=f"{top}_test",
                         flags=flags, cache_dir=cache_dir, pch=self._pch(fw / "hwc"), pch_cache=pch_cache)
        except CompileError as e:
            raise HwcError(f"g++ could not build the testbench: {e.stderr.strip().splitlines()[0] if e.stderr.strip() else e}",
                           str(outdir)) from None

    def _pch(self, kernel_dir: Path):
        """The precompiled header of a C simulation: the vendor's number headers, the kernel headers every
        project holds (KERNEL_HEADERS, read from the project's copies: the same texts in every model of one
        hwc version, so one .gch serves them all; a model's extra headers are parsed with its sources),
        and the standard headers of the testbench."""
        from .cpp_build import Pch

        names = [h for h in KERNEL_HEADERS if (kernel_dir / h).is_file()]
        d = self.vendor.define
        prelude = f"#ifndef {d}\n#define {d}\n#endif\n" + "".join(f"#include <{h}>\n" for h in TB_STD_HEADERS)
        return Pch(tuple((f"hwc/{h}", (kernel_dir / h).read_text()) for h in names), prelude, (self.vendor.header_dir(),))

    def _first_layer(self, outdir, manifest, g: Graph, xs, kept, sample: int, work: Path) -> str:
        """Rebuild with -DHWC_TRACE, run the one failing sample, and compare layer by layer."""
        if manifest["options"].get("io") != "parallel":
            return ""
        exe = self._build(outdir, manifest, trace=True)
        write_rows(work / "one_in.dat", tb_inputs(g, xs, kept)[sample:sample + 1])
        (work / "trace").mkdir(exist_ok=True)
        subprocess.run([str(exe), str(work / "one_in.dat"), str(work / "expected.dat")], capture_output=True, cwd=work,
                       timeout=600, preexec_fn=_big_stack)
        for k, node in enumerate(emitted_nodes(g), start=1):
            path = work / "trace" / f"layer{k}.dat"
            if not path.exists():
                continue
            vals = np.array(path.read_text().split(), dtype=np.float64)
            t = node.output.type.elem
            ref = (np.asarray(kept[node.output.name][sample], dtype=np.float64) * 2.0 ** -t.frac_bits).reshape(-1)
            bad = np.flatnonzero(vals != ref)
            if bad.size:
                i = int(bad[0])
                return f"; first differing layer: layer {k} ({node.op} '{comment(node.name)}') index {i}: C {vals[i]!r}, simulator {ref[i]!r}"
        return ""


def rate(n: int, seconds: float) -> str:
    r = n / max(seconds, 1e-9)
    return f"{r:,.0f}" if r >= 10 else f"{r:.2g}"


def _big_stack() -> None:
    """The top function keeps every layer's output on the stack, as HLS tools want it: a large CNN
    needs more than the usual 8 MiB when it runs as a C program (`ulimit -s unlimited` by hand)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
    resource.setrlimit(resource.RLIMIT_STACK, (hard, hard))
