"""Which operators of a TFLite model the Edge TPU compiler (v16) would map, and what falls back to the CPU.

A prediction from Coral's published rules (coral.ai/docs/edgetpu/models-intro, "Supported operations";
the compiler itself is a closed binary this machine cannot reach):
- every tensor int8/uint8, static shapes, parameters constant;
- a tensor of rank > 3 may have a size > 1 only in its 3 innermost dimensions;
- only the operators of `SUPPORTED` (with their listed limits) map; the compiler delegates ONE
  contiguous segment: the first operator it cannot map and everything after it run on the CPU.
  A leading float->int8 QUANTIZE and trailing DEQUANTIZEs (--float-io) run on the CPU at the edges
  without splitting the segment;
- parameters (weights, biases) are cached in 8 MiB of on-chip memory; beyond that they stream from
  the host on every inference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..compiler.cost.tflite import PARAMETER_CACHE  # noqa: E402  (one definition, shared with the cost model)
from .tflite_versions import EDGETPU_MAX_VERSIONS

# TFLite operator -> the limitation Coral documents for it ("" when none). Transcribed from the
# supported-operations table of coral.ai/docs/edgetpu/models-intro (compiler v16, runtime v13+).
SUPPORTED = {
    "ADD": "", "AVERAGE_POOL_2D": "no fused activation function",
    "CONCATENATION": "no fused activation function; a constant input must be all zeros (2 inputs)",
    "CONV_2D": "", "DEPTHWISE_CONV_2D": "", "EXPAND_DIMS": "",
    "FULLY_CONNECTED": "only the default weights format; the output tensor is one-dimensional",
    "L2_NORMALIZATION": "", "LOGISTIC": "", "LSTM": "unidirectional only", "MAXIMUM": "",
    "MAX_POOL_2D": "no fused activation function", "MEAN": "no reduction in the batch dimension; x/y (or z) only",
    "MINIMUM": "", "MUL": "", "PACK": "not in the batch dimension", "PAD": "no padding in the batch dimension",
    "PRELU": "alpha one-dimensional", "QUANTIZE": "", "REDUCE_MAX": "not the batch dimension",
    "REDUCE_MIN": "not the batch dimension", "RELU": "", "RELU6": "", "RELU_N1_TO_1": "",
    "RESHAPE": "certain reshapes of large tensors may not be mapped",
    "RESIZE_BILINEAR": "3-D input/output; may stay on the CPU to avoid loss of precision",
    "RESIZE_NEAREST_NEIGHBOR": "3-D input/output; may stay on the CPU to avoid loss of precision",
    "RSQRT": "", "SLICE": "", "SOFTMAX": "1-D input of at most 16,000 elements", "SPACE_TO_DEPTH": "",
    "SPLIT": "not the batch dimension", "SQUEEZE": "", "STRIDED_SLICE": "", "SUB": "", "SUM": "",
    "SQUARED_DIFFERENCE": "", "TANH": "", "TRANSPOSE": "", "TRANSPOSE_CONV": "",
}
_NO_FUSED = ("AVERAGE_POOL_2D", "MAX_POOL_2D", "CONCATENATION")


@dataclass
class OpInfo:
    """One TFLite operator as the writer emitted it."""

    op: str
    version: int
    node: str  # the IR node it implements
    ir_op: str
    inputs: list[tuple[tuple[int, ...], str]]  # (shape, dtype) of run-time inputs
    outputs: list[tuple[tuple[int, ...], str]]
    param_bytes: int = 0
    fused_activation: str | None = None
    edge: bool = False  # a float<->int8 conversion at the model's boundary
    extra: dict = field(default_factory=dict)


def op_problem(o: OpInfo) -> str | None:
    """Why the Edge TPU compiler would not map this operator (None: it maps)."""
    if o.op not in SUPPORTED:
        return f"{o.op} is not an Edge TPU operation"
    if o.version > EDGETPU_MAX_VERSIONS.get(o.op, 1):
        return f"operator version {o.version} is newer than the compiler reads"
    for shape, dtype in o.inputs + o.outputs:
        if dtype not in ("int8", "uint8"):
            return f"a {dtype} tensor (the Edge TPU computes int8/uint8 only)"
        if len(shape) > 3 and any(d > 1 for d in shape[:-3]):
            return f"tensor {list(shape)}: only the 3 innermost dimensions may exceed 1"
    if o.op in _NO_FUSED and o.fused_activation not in (None, "NONE"):
        return f"{o.op} with a fused activation"
    if o.op == "SOFTMAX":
        shape = o.inputs[0][0]
        if sum(d > 1 for d in shape) > 1 or max(shape, default=1) > 16000:
            return "SOFTMAX needs a 1-D input of at most 16,000 elements"
    if o.op == "FULLY_CONNECTED" and sum(d > 1 for d in o.outputs[0][0]) > 1:
        return "FULLY_CONNECTED output must be one-dimensional (batch 1)"
    if o.op == "PAD" and o.extra.get("batch_padding"):
        return "PAD in the batch dimension"
    return None


def analyse(ops: list[OpInfo]) -> tuple[list[str], int | None]:
    """Per operator its status, and the index of the first operator that runs on the CPU (None: all map)."""
    status, first_cpu = [], None
    lead = 0
    while lead < len(ops) and ops[lead].edge and ops[lead].op == "QUANTIZE":
        lead += 1
    tail = len(ops)
    while tail > lead and ops[tail - 1].edge and ops[tail - 1].op == "DEQUANTIZE":
        tail -= 1
    for i, o in enumerate(ops):
        if i < lead or i >= tail:
            status.append("CPU (float<->int8 conversion at the model's edge)")
            continue
        if first_cpu is not None:
            status.append("CPU (after the first unmapped operator)")
            continue
        why = op_problem(o)
        if why:
            first_cpu = i
            status.append(f"CPU: {why}")
        else:
            status.append("Edge TPU")
    return status, first_cpu


def render(ops: list[OpInfo], model_file: str = "model.tflite") -> str:
    """The text of edgetpu_report.txt."""
    status, first = analyse(ops)
    lines = [f"Edge TPU compiler v16: predicted mapping of {model_file} (hwc's rules; the compiler was not run)", ""]
    w_op = max([len(o.op) for o in ops] + [8])
    w_node = max([len(f"{o.node} ({o.ir_op})") for o in ops] + [7])
    lines.append(f"{'#':>3}  {'operator':<{w_op}}  ver  {'IR node':<{w_node}}  where")
    for i, (o, s) in enumerate(zip(ops, status)):
        lines.append(f"{i:>3}  {o.op:<{w_op}}  {o.version:>3}  {o.node + ' (' + o.ir_op + ')':<{w_node}}  {s}")
    lines.append("")
    mapped = [o for o, s in zip(ops, status) if s == "Edge TPU"]
    lines.append(f"mapped to the Edge TPU: {len(mapped)} of {len(ops)} operators")
    if first is None:
        lines.append("runs on the CPU: " + ("nothing" if all(s == "Edge TPU" for s in status) else
                                            "only the float<->int8 conversions at the edges"))
    else:
        o = ops[first]
        cpu_nodes = []
        for x in ops[first:]:
            if x.edge:
                continue
            name = f"{x.ir_op} ({x.node})"
            if name not in cpu_nodes:
                cpu_nodes.append(name)
        lines.append(f"first operator the Edge TPU cannot map: #{first} {o.op} for {o.ir_op} node '{o.node}' "
                     f"({op_problem(o)})")
        lines.append("runs on the CPU from there on: " + ", ".join(cpu_nodes))
    params = sum(o.param_bytes for o in mapped)
    fits = "fits" if params <= PARAMETER_CACHE else "exceeds it: the rest streams from host memory on every inference"
    lines.append(f"parameters of the mapped operators: {params:,} bytes of the 8 MiB on-chip cache ({fits})")
    lines.append("all tensors have static shapes (batch 1)")
    return "\n".join(lines) + "\n"
