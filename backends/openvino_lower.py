"""The typed IR an OpenVINO form computes (docs/OPENVINO.md): `lower` runs to_fixed with a QuantConfig
OpenVINO executes predictably (activations round half to even and saturate: RND_CONV, SAT; no wrapping
accumulators; power-of-two scales), limits the weights of layers whose int8 kernels could saturate on CPUs
without VNNI, and `check`s that every value and partial sum is exact in f32 (FP16 range for the NCS2)."""

from __future__ import annotations

import math

import numpy as np

from ..compiler.errors import HwcError, listing
from ..compiler.ir.graph import Graph, Node
from ..compiler.ir.types import FixedType, FloatType, Overflow, Rounding
from ..compiler.options import CompileOptions
from ..compiler.quant_config import QuantConfig
from ..compiler.sim import openvino_casts as ovc
from ..compiler.sim.openvino_ops import OPENVINO_OPS

SAT16 = 32767  # VPMADDUBSW saturates each pair sum to int16 on CPUs without VNNI
MAX_ROUNDS = 3  # weight limits depend on input types, which weights do not change: 2 rounds converge


def _config(options: CompileOptions, graph: Graph, layers: dict) -> QuantConfig:
    """The user's quantization with OpenVINO's modes and the per-layer weight limits in `layers`."""
    q = options.quant
    if q.accum_bits is not None:
        raise HwcError("--accum-bits: OpenVINO's accumulators cannot wrap (f32 or int32); leave it out")
    return QuantConfig.for_target(q, graph, options.target, rounding=Rounding.RND_CONV, overflow=Overflow.SAT,
                                  accum_cap=None, layers={**q.layers, **layers}, float_output_functions=False)


def _kernel_max_u8(t: FixedType) -> int | None:
    """Largest u8 value an int8 kernel multiplies for an input of type t, or None when LPT does not
    run int8 kernels (levels other than 256 and 16). Signed 8/4-bit inputs of a FullyConnected are
    shifted by +128 (s8s8 compensation); of a Convolution, mapped to u8 with zero point levels/2."""
    if t.width not in (4, 8):
        return None
    return (1 << t.width) - 1 if not t.signed else max((1 << t.width) - 1, (1 << (t.width - 1)) - 1 + 128)


def _weights_limit(node: Node) -> int | None:
    a = _kernel_max_u8(node.inputs[0].type.elem)
    return None if a is None else SAT16 // (2 * a)


def lower(graph: Graph, options: CompileOptions, source: str = "") -> tuple[Graph, list[str], dict[str, str]]:
    """The typed IR that the emitted model computes: (graph, notes, weight storage per Dense/Conv)."""
    from ..compiler.compile import to_fixed

    q = options.quant
    notes: list[str] = []
    if q.rounding not in (Rounding.RND, Rounding.RND_CONV) or q.overflow != Overflow.SAT:
        notes.append(f"--rounding {q.rounding.value} --overflow {q.overflow.value} ignored: "
                     "OpenVINO's FakeQuantize rounds half to even and saturates (RND_CONV, SAT)")
    calib = options.calib.inputs(graph, source)
    user_layers = {k for k, v in q.layers.items() if "weight" in v}

    restrict: dict[str, dict] = {}
    int8 = options.target == "openvino"  # the NCS2 form has no int8 kernels
    for _ in range(MAX_ROUNDS):  # a fixpoint: the layers whose weights must be limited
        compiled = to_fixed(graph.clone(), _config(options, graph, restrict), calib, pruning=options.prune,
                            labels=options.calib.labels)
        g = compiled.graph
        ours = {n.name for n in compiled.float_graph.nodes if n.op in ("Dense", "Conv", "Gemm", "MatMul")
                and len(n.inputs) > 1 and n.inputs[1].const is not None
                and isinstance(n.inputs[1].type.elem, FloatType)} - user_layers
        more = {}
        for n in (g.nodes if int8 else []):
            lim = _weights_limit(n) if n.op in ("Dense", "Conv") else None
            if lim is None or n.name in restrict or n.name not in ours:
                continue
            if int(np.abs(np.asarray(n.inputs[1].const, np.int64)).max(initial=0)) > lim:
                more[n.name] = {"weight": {"width": lim.bit_length()}}  # 2^(bits-1) <= lim
        if not more:
            break
        restrict.update(more)
    else:
        raise HwcError(f"the int8 weight limits did not settle in {MAX_ROUNDS} rounds: " + ", ".join(sorted(more)))
    for name, spec in sorted(restrict.items()):
        notes.append(f"{name}: weights {spec['weight']['width']} bits ([-{1 << (spec['weight']['width'] - 1)}, "
                     f"{(1 << (spec['weight']['width'] - 1)) - 1}]) so that the int8 kernels of CPUs without VNNI "
                     "cannot saturate")
    notes += compiled.notes
    storage = check(g, limbs=True) if int8 else {n.name: "f16" for n in g.nodes if n.op in ("Dense", "Conv")}
    if not int8:
        check(g)
        check_fp16_range(g)
    for n in g.nodes:
        if storage.get(n.name) == "f32" and n.op in ("Dense", "Conv"):
            notes.append(f"{n.name}: weights the model carries exceed ±{_weights_limit(n)}: stored as f32 (the layer "
                         "runs in f32, exact on every CPU)")
    return g, notes, storage


def check(g: Graph, limbs: bool = False) -> dict[str, str]:
    """Raise when OpenVINO could not compute the graph exactly; returns the weight storage of each
    Dense/Conv ("i4", "i8" or "f32"). limbs: a Dense/Conv whose f32 sums reach 2^24 may run on two limbs of
    its input (`openvino_casts.Limbs`, the f32 form only)."""
    problems: list[str] = []
    storage: dict[str, str] = {}
    supported = set(OPENVINO_OPS)
    for n in g.toposort():
        if n.op not in supported:
            problems.append(f"{n.name}: no OpenVINO form for {n.op}")
            continue
        for v in n.outputs:
            t = v.type.elem
            wide_ok = limbs and (lim := ovc.limb_split(n)) is not None and lim.relu is not None
            if isinstance(t, FixedType) and t.width > 24 + t.signed and not wide_ok:  # |m| <= 2^24
                problems.append(f"{n.name}: {v.name} is {t} ({t.width} bits): more than f32 holds exactly")
            if isinstance(t, FloatType) and n.op != "ToFloat":
                problems.append(f"{n.name}: float ({t}) value {v.name}: the OpenVINO form is fixed point throughout")
        try:
            ovc.plan(n)
            if n.op == "Concat":
                ovc.concat_quantizers(n)
        except HwcError as e:
            problems.append(f"{n.name}: {e.reason}")
        b = ovc.f32_bound(n)
        if b is not None:
            bound, f = b
            if bound >= ovc.F32_EXACT and not (limbs and ovc.limb_split(n) is not None):
                problems.append(f"{n.name}: f32 partial sums up to {bound} units of 2^-{f} (2^{math.log2(bound):.1f}) "
                                "reach 2^24, where f32 kernels round: use fewer --abits/--wbits/--input-bits")
            w = np.asarray(n.inputs[1].const, np.int64)
            mx = int(np.abs(w).max(initial=0))
            lim = _weights_limit(n)
            if lim is not None and mx > lim:
                storage[n.name] = "f32"
            else:
                storage[n.name] = "i4" if (w.min(initial=0) >= -8 and w.max(initial=0) <= 7) else "i8"
            if w.min(initial=0) < -128 or w.max(initial=0) > 127:
                storage[n.name] = "f32"
        if n.op == "HardSigmoid" and ovc.hard_sigmoid_bound(n) >= ovc.F32_EXACT:
            problems.append(f"{n.name}: x·alpha + beta needs more than 24 bits")
        if n.op in ("Add", "Sub"):
            lo, hi, _ = ovc._add_range(n)
            if max(-lo, hi) > ovc.F32_EXACT:
                problems.append(f"{n.name}: the sum needs more than 24 bits")
        if n.op in ("AveragePool", "GlobalAveragePool"):
            t = n.inputs[0].type.elem
            k = math.prod(n.attrs["kernel_shape"]) if n.op == "AveragePool" else math.prod(n.inputs[0].type.shape[2:])
            if max(abs(t.min_mantissa), t.max_mantissa) * k > ovc.F32_EXACT:
                problems.append(f"{n.name}: window sums of {k} values of {t} need more than 24 bits")
        if n.op == "Softmax":
            et = n.attrs["exp_type"]
            k = n.inputs[0].type.shape[n.attrs["axis"]]
            if k * et.max_mantissa >= ovc.F32_EXACT:
                problems.append(f"{n.name}: the sum of {k} exponentials needs more than 24 bits")
    if problems:
        raise HwcError("cannot be computed exactly by OpenVINO, " + listing(problems))
    return storage


FP16_MAX = 65504.0


def check_fp16_range(g: Graph) -> None:
    """Raise when a value (or an accumulator) of the graph can leave FP16's range (the NCS2 form holds the
    real values; models whose layers compute on integers, e.g. QONNX with non-power-of-two scales folded
    into a Rescale, reach 2^20 and more)."""
    problems = []
    for n in g.toposort():
        types = [v.type.elem for v in n.outputs] + ([n.attrs["accum"]] if n.attrs.get("accum") is not None else [])
        for t in types:
            if isinstance(t, FixedType) and max(abs(t.min), abs(t.max)) > FP16_MAX:
                problems.append(f"{n.name}: {t} reaches {max(abs(t.min), abs(t.max)):.6g}, beyond FP16's 65504")
                break
    if problems:
        raise HwcError("the FP16 (NCS2) form would overflow, " + listing(problems))
