"""`hwc config MODEL [options] > hwc.yaml`: the per-layer types the compiler would choose, as a
starting file for `hwc compile --config`."""

from __future__ import annotations

from ..compile_model import load_onnx_model
from ..ir.types import FixedType
from ..memory import calib_samples, check_memory
from ..options import Calibration
from ..quant_config import QuantConfig, type_to_dict
from .common import quantization


def run(args) -> int:
    import yaml  # imported when the command runs, so `hwc --help` starts fast

    from ..compile import to_fixed

    quant, calib = quantization(args), Calibration.read(args.calib)
    graph = load_onnx_model(args.model, target="sim")
    check_memory(graph, "sim", args.model, samples=calib_samples(calib))
    config = QuantConfig.for_target(quant, graph, "sim")
    compiled = to_fixed(graph, config, calib.inputs(graph, args.model))
    layers = {}
    for n in compiled.graph.toposort():
        if n.op in ("FromFloat", "ToFloat") or not isinstance(n.output.type.elem, FixedType):
            continue
        entry = {"output": type_to_dict(n.output.type.elem)}
        if n.op in ("Dense", "Conv"):
            entry["weight"] = {k: v for k, v in type_to_dict(n.inputs[1].type.elem).items() if k in ("width", "int_bits")}
            entry["accum"] = {"width": n.attrs["accum"].width}
            entry["per_channel"] = bool(n.attrs.get("weight_shift")) or config.per_channel
        layers[n.name] = entry
    doc = {"model": str(args.model),
           "defaults": {"wbits": config.wbits, "abits": config.abits, "rounding": config.rounding.value,
                        "overflow": config.overflow.value, "per_channel": config.per_channel},
           "layers": layers}
    print("# hwc per-layer types: edit and pass with `hwc compile --config`. Entries are looked up by node\n"
          "# name, then by op type; keys left out are chosen by the compiler.")
    print(yaml.safe_dump(doc, sort_keys=False), end="")
    return 0
