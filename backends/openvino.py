"""OpenVINO IR for the CPU (`--target openvino`) and the NCS2 / Myriad X (`--target ncs2`), and its check
in the OpenVINO runtime. The forms, their exactness conditions and the NCS2 flow: docs/OPENVINO.md.

compile: (openvino_lower.py) clone -> to_fixed with a QuantConfig OpenVINO executes predictably (activations round half to
even and saturate: RND_CONV, SAT; no wrapping accumulators; power-of-two scales) -> checks -> the model
(openvino_emit.py), built with backends/openvino_graph.py (opset API, never XML by hand) -> `model.xml`/`model.bin`, the typed
IR (`model.json`, `weights.npz`, metadata sim_mode "openvino" or "openvino-fp16"), `README.md`, `hwc.json`.

--target openvino: f32 tensors holding fixed-point values exactly; every cast of the IR that rounds or
saturates is a FakeQuantize (2^bits levels over the type's range); Dense/Conv weights are compressed
constants i4/i8 -> Convert -> Multiply(2^-f per channel). `verify` (and the compile call the README
gives) uses og.ISA_INDEPENDENT: f32, low-precision transformations off, so every Dense/Conv runs in f32 and
is exact on every x86 ISA because every partial sum is below 2^24 units (checked here). Should a user
leave LPT on (8- and 4-bit activations then run int8 kernels), the weights are limited so that those cannot
saturate on CPUs without VNNI: a layer whose input
is an 8- or 4-bit activation keeps 2·A·max|w| <= 32767 (A: largest u8 value the kernel sees), which for
weights we quantize means wbits <= 7 there (wbits 8 becomes [-64, 63]) and for weights the model carries
means f32 weights (no int8 for that layer). `hwc simulate`/`verify` use the "openvino" simulator mode
(compiler/sim/openvino_ops.py), bit for bit.

--target ncs2: the same graph in FP16 (weights f16 constants holding the exact quantized values),
casts as Clamp -> Multiply(2^f) -> Round(half_to_even) -> Multiply(2^-f), no FakeQuantize, static batch
1, only op versions of OPSET_2022_3. Checked against the "openvino-fp16" mode within a measured bound.

Options (compiler/options.py): the quantization (rounding/overflow are RND_CONV and SAT here, noted when
other; --accum-bits is refused: OpenVINO accumulators cannot wrap), pruning and calibration of
`CompileOptions`, as for --target sim; verify: random inputs drawn with `seed`.
"""


from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..compiler.errors import HwcError
from ..compiler.ir.graph import Graph
from ..compiler.options import CompileOptions, VerifyOptions
from ..compiler.sim.openvino_fp16 import UNIT_ROUNDOFF, unbound
from ..compiler.summary import quant_line
from .base import Backend, CompileResult, VerifyReport, uniform_inputs, write_manifest
from .openvino_emit import Emitter
from .openvino_lower import lower

MODE = {"openvino": "openvino", "ncs2": "openvino-fp16"}


# ---- the backend ------------------------------------------------------------------------------

STORED_BITS = {"i4": 4, "i8": 8, "u8": 8, "f16": 16, "f32": 32}


def openvino_figures(g: Graph, target: str, storage: dict[str, str]):
    """MACs, BOPs and bytes as the IR stores them: weights in `storage`'s element type (f16 for the NCS2
    form), biases and activations in f32 (f16 on the NCS2)."""
    from ..compiler.cost.ops import ops_figures

    fp16 = target == "ncs2"

    def weight_bits(n, v):
        if fp16:
            return 16
        return STORED_BITS.get(storage.get(n.name, "f32"), 32) if v is n.inputs[1] else 32

    return ops_figures(g, target, weight_bits, lambda v: 16 if fp16 else 32)


class OpenvinoBackend(Backend):
    name = "openvino"
    targets = ("openvino", "ncs2")

    def compile(self, graph: Graph, options: CompileOptions, outdir: Path, source: str = "") -> CompileResult:
        from . import openvino_graph as og
        from ..compiler.ir.serialize import save_graph

        target = options.target
        if target not in self.targets:
            raise HwcError(f"the OpenVINO backend has no target {target!r}")
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        g, notes, storage = lower(graph, options, source)
        fp16 = target == "ncs2"
        em = Emitter(g, storage, fp16=fp16)
        m = em.build()
        og.save(m, outdir / "model.xml", compress_to_fp16=fp16)
        g.metadata["sim_mode"] = MODE[target]
        g.metadata["output_names"] = [v.name for v in g.outputs]
        g.metadata["openvino"] = {"target": target, "input_ranges": input_ranges(g), "weights": storage}
        files = ["model.xml", "model.bin"] + [p.name for p in save_graph(g, outdir)]
        (outdir / "README.md").write_text(readme(g, em, notes, target))
        files.append("README.md")
        u = options.quant
        manifest = {"wbits": u.wbits, "abits": u.abits, "input_bits": u.input_bits, "output_bits": u.output_bits,
                    "per_channel": u.per_channel, "calib": options.calib.path, "input_range": u.input_range_text,
                    "config": u.config}
        figs = openvino_figures(g, target, storage)
        files.append(write_manifest(outdir, target, manifest, files, figs.to_json()))
        q = g.metadata.get("quant", {})
        kinds = sorted(set(storage.values()))
        summary = [f"compiled for --target {target}: {'FP16 IR for the Myriad X' if fp16 else 'OpenVINO IR, f32 + FakeQuantize'}"
                   f", {quant_line(q, modes=False)}, "
                   f"weights {'/'.join(kinds) if not fp16 else 'f16'}, simulator mode {MODE[target]}"]
        summary += [f"  {line}" for line in em.layers]
        from ..compiler.cost.ops import ops_line

        summary.append(ops_line(figs))
        summary += [f"note: {x}" for x in notes]
        return CompileResult(files, summary)

    def verify(self, outdir: Path, manifest: dict[str, Any], inputs: list[np.ndarray] | None,
               options: VerifyOptions, seed: int = 0) -> VerifyReport:
        from ..compiler.ir.serialize import load_graph

        g = load_graph(outdir)
        if inputs is None:
            inputs = random_inputs(g, options.samples, seed=seed)
        return compare(g, Path(outdir) / "model.xml", inputs, g.metadata.get("sim_mode", "openvino"))


# ---- verification -----------------------------------------------------------------------------

def input_ranges(g: Graph) -> dict[str, list[float]]:
    """The real range of each input: its FromFloat type's range (what calibration or --input-range chose)."""
    out = {}
    for v in g.inputs:
        fr = next((u.node for u in v.uses if u.node.op == "FromFloat"), None)
        if fr is not None:
            t = fr.output.type.elem
            s = fr.attrs.get("scale") or 1.0
            out[v.name] = [t.min * s, t.max * s]
    return out


def random_inputs(g: Graph, n: int, seed: int = 0) -> list[np.ndarray]:
    """n float32 inputs per graph input, uniform over its range (slightly beyond, to exercise saturation)."""
    return uniform_inputs(g, n, seed, g.metadata.get("openvino", {}).get("input_ranges", {}), pad=0.05)


def run_openvino(xml: Path, inputs: list[np.ndarray], precision: str = "f32", batch: int | None = None,
                 static_batch: bool = False) -> tuple[list[np.ndarray], Any]:
    """Outputs of the model on the CPU, in chunks of `batch` samples (one at a time for a static batch)."""
    from . import openvino_graph as og

    cm = og.compile_model(xml, None, {**og.ISA_INDEPENDENT, "INFERENCE_PRECISION_HINT": precision})
    req = cm.create_infer_request()
    n = len(inputs[0])
    step = 1 if static_batch else (batch or n)
    outs: list[list[np.ndarray]] = [[] for _ in cm.outputs]
    for b0 in range(0, n, step):
        req.infer({i: np.ascontiguousarray(x[b0:b0 + step]) for i, x in enumerate(inputs)})
        for j in range(len(cm.outputs)):
            outs[j].append(np.array(req.get_output_tensor(j).data, copy=True))
    return [np.concatenate(o) for o in outs], cm


def fp16_precision(flags: set[str] | None = None, max_isa: str | None = None) -> str:
    """The CPU precision `verify` runs an NCS2 (FP16) IR in: "f16" where the CPU computes f16 natively
    (AVX512-FP16, or AVX-VNNI-INT8 with AVX-NE-CONVERT) and oneDNN is not capped below it, else "f32".
    Never the bf16 that the f16 hint gives on other AVX-512 CPUs: its rounding (native or emulated)
    depends on the instruction set. flags: /proc/cpuinfo flags; max_isa: oneDNN's ONEDNN_MAX_CPU_ISA cap."""
    import os

    from ..compiler.sim.openvino_arith import cpu_flags

    flags = cpu_flags() if flags is None else flags
    if max_isa is None:
        max_isa = os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA") or "ALL"
    native = "avx512_fp16" in flags or {"avx_vnni_int8", "avx_ne_convert"} <= flags
    uncapped = max_isa.upper() == "ALL" or "FP16" in max_isa.upper() or "AVX10" in max_isa.upper()
    return "f16" if native and uncapped else "f32"


def chunk_size(g: Graph) -> int:
    """Samples per inference so that one chunk's largest activation stays near 64 MB."""
    biggest = max((math.prod(d for d in v.type.shape if d is not None) for n in g.nodes for v in n.outputs), default=1)
    return max(1, min(1000, (1 << 24) // max(1, biggest)))


def compare(g: Graph, xml: Path, inputs: list[np.ndarray], mode: str) -> VerifyReport:
    """OpenVINO CPU against the simulator: bit for bit (mode "openvino"), or within the bound stored
    in the metadata for "openvino-fp16" (|difference| <= bound·(1 + |simulated|))."""
    from ..compiler.sim.run import simulate

    fp16 = mode == "openvino-fp16"
    step = chunk_size(g)
    got, cm = run_openvino(xml, inputs, fp16_precision() if fp16 else "f32", batch=step, static_batch=fp16)
    prec = cm.get_property("INFERENCE_PRECISION_HINT").to_string()
    n = len(inputs[0])
    sims: list[list[np.ndarray]] = [[] for _ in g.outputs]
    errs: list[list[np.ndarray]] = [[] for _ in g.outputs]
    for b0 in range(0, n, step):
        chunk = [x[b0:b0 + step] for x in inputs]
        outs, bounds = (unbound(simulate(g, chunk, mode=f"openvino-fp16-bound-{prec if prec in UNIT_ROUNDOFF else 'bf16'}"))
                        if fp16 else (simulate(g, chunk, mode=mode), None))
        for j, o in enumerate(outs):
            sims[j].append(np.asarray(o))
            if fp16:
                errs[j].append(np.asarray(bounds[j]))
    expected = [np.concatenate(s) for s in sims]
    compared = mismatches = 0
    first, details = "", []
    for j, (a, e) in enumerate(zip(got, expected)):
        e = e.reshape(a.shape)
        if fp16:
            bound = np.concatenate(errs[j]).reshape(a.shape)
            diff = np.abs(a.astype(np.float64) - e.astype(np.float64))
            bad = np.flatnonzero(diff.reshape(-1) > bound.reshape(-1))
            details.append(f"output {g.outputs[j].name}: {int((diff > 0).sum())} of {a.size} values differ from the "
                           f"simulator, max |OpenVINO {prec} - simulator| = {diff.max():.4g}; propagated bound: "
                           f"{int((bound > 0).sum())} values could differ, max {bound.max():.4g}")
        else:
            bad = np.flatnonzero(a.astype(np.float32).view(np.uint32).reshape(-1)
                                 != e.astype(np.float32).view(np.uint32).reshape(-1))
        compared += a.size
        mismatches += bad.size
        if bad.size and not first:
            k = int(bad[0])
            idx = np.unravel_index(k, a.shape)
            first = (f"output {g.outputs[j].name}, sample {idx[0]}, index {tuple(int(i) for i in idx[1:])}: "
                     f"OpenVINO {a.reshape(-1)[k]!r}, simulator {e.reshape(-1)[k]!r}")
    details.append(f"{mode}: {compared:,} values from {n} inputs, {mismatches} differ (CPU, inference precision {prec})")
    from .openvino_graph import runtime_layers

    kern = sorted({f"{l['layerType']} {l['runtimePrecision']} {l['primitiveType']}" for l in runtime_layers(cm)
                   if l["layerType"] in ("FullyConnected", "Convolution", "MatMul", "Deconvolution")})
    if kern:
        details.append("kernels: " + "; ".join(kern))
    return VerifyReport(compared, mismatches, n, first, details)


# ---- README for the output directory ----------------------------------------------------------

def readme(g: Graph, em: Emitter, notes: list[str], target: str) -> str:
    q = g.metadata.get("quant", {})
    ins = [f"- `{v.name}` {['N' if d is None else d for d in v.type.shape]} float32" for v in g.inputs]
    outs = [f"- `{v.name}` {['N' if d is None else d for d in v.type.shape]} float32" for v in g.outputs]
    lines = [f"# {g.name} as OpenVINO IR ({target})", "",
             f"Written by `hwc compile --target {target}` ({quant_line(q, modes=False)}). Files:", "",
             "- `model.xml`, `model.bin`: the OpenVINO IR (written by `ov.save_model` through the opset API).",
             f"- `model.json`, `weights.npz`: the typed IR; `hwc simulate` on this directory runs the "
             f"`{MODE[target]}` simulator mode.",
             "- `hwc.json`: the manifest (`hwc verify` reads it).", "",
             "## Inputs and outputs", "", *ins, *outs, ""]
    if target == "openvino":
        lines += [
            "## Running it", "",
            "```python",
            "import openvino as ov",
            "core = ov.Core()",
            "cm = core.compile_model(\"model.xml\", \"CPU\", {\"INFERENCE_PRECISION_HINT\": \"f32\", \"LP_TRANSFORMS_MODE\": \"NO\"})",
            "y = cm(x)[0]",
            "```", "",
            "Compile with `INFERENCE_PRECISION_HINT` f32 (the CPU plugin's default is bf16 or f16 on CPUs that "
            "have them) and `LP_TRANSFORMS_MODE` NO (else 8- and 4-bit FakeQuantizes before a Dense/Conv select "
            "u8/i8 kernels whose arithmetic depends on the instruction set); the model cannot store these. "
            "`DYNAMIC_QUANTIZATION_GROUP_SIZE` 0 is stored in the model (rt_info runtime_options).", "",
            "With these, the output equals the `openvino` simulator mode bit for bit on any x86 CPU (SSE4.1, "
            "AVX2, AVX-512, VNNI, bf16): fixed-point values are f32 numbers of at most 24 significant bits, every "
            "Dense/Conv partial sum is below 2^24 units, so f32 sums are exact in any order, and casts that round "
            "are FakeQuantizes (2^bits levels, round half to even, saturate) (hwc's docs/OPENVINO.md).", ""]
    else:
        lines += [
            "## Making the NCS2 blob", "",
            "The Myriad X plugin last shipped in OpenVINO **2022.3 LTS** (the `openvino` PyPI wheel of that "
            "version has no MYRIAD plugin: use the 2022.3 archive/installer for your OS). With it:", "",
            "```",
            "source /opt/intel/openvino_2022/setupvars.sh",
            "compile_tool -m model.xml -d MYRIAD -ip FP32 -op FP32 -o model.blob",
            "```", "",
            "and run the blob with `benchmark_app -m model.blob -d MYRIAD` or "
            "`core.import_model(open('model.blob','rb'), 'MYRIAD')` (2022.3). The IR is FP16 (constants f16), "
            "batch 1, and uses only op versions the 2022.3 reader accepts and the Myriad front end maps "
            "(no FakeQuantize: casts are Clamp, Multiply, Round half to even, Multiply).", "",
            "Here (no NCS2) `hwc verify` runs the IR on the CPU in f16 where the CPU has native f16 (else f32, "
            "never bf16, whose rounding depends on the instruction set) and compares "
            "it with the `openvino-fp16` simulator mode (each op exact on f16 inputs, rounded once to f16; "
            "activations fused into the layer before them stay f32) within a bound propagated through the "
            "graph from the unit roundoff of the precision the CPU really used "
            "(the `openvino-fp16-bound-<precision>` simulator modes). The NCS2 accumulates in its own order, so its outputs can "
            "differ from the simulator within the same kind of bound (an activation one step off where a sum "
            "lies near a rounding tie, propagated).", ""]
    lines += ["## Layers", "", *[f"- {x}" for x in em.layers]]
    if notes:
        lines += ["", "## Notes", "", *[f"- {x}" for x in notes]]
    return "\n".join(lines) + "\n"
