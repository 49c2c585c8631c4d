"""Per-layer figures for `hwc inspect`: parameters, MACs (per sample) and the quantization found."""

from __future__ import annotations

import math

import numpy as np

from .ir.graph import Graph, Node, Value
from .passes.base import constant_source, is_static
from .ir.ops import QUANTIZER_OPS


def _const_source(v: Value | None) -> np.ndarray | None:
    """The constant array behind a value, through quantizers and layout ops (QONNX/QCDQ weights)."""
    c = constant_source(v)
    return None if c is None else c.const


def _per_sample(shape) -> int:
    return math.prod(1 if d is None else d for d in shape)


def macs(node: Node) -> int:
    """Multiply-accumulates per sample (batch dimension counted as 1)."""
    if node.op == "Dense":
        return _per_sample(node.output.type.shape) * node.inputs[1].type.shape[0]
    if node.op in ("Conv", "ConvInteger"):
        w = node.inputs[1].type.shape
        return _per_sample(node.output.type.shape) * math.prod(w[1:])
    if node.op in ("MatMul", "MatMulInteger"):
        return _per_sample(node.output.type.shape) * node.inputs[0].type.shape[-1]
    return 0


def params(node: Node) -> int:
    """Scalars in the constant operands (weights, biases) of compute nodes; 0 for quantizer parameters."""
    if node.op in QUANTIZER_OPS or node.op == "Requantize":
        return 0
    total = 0
    for v in node.inputs[1:]:
        c = _const_source(v)
        if c is not None:
            total += int(c.size)
    return total


def nonzero_params(node: Node) -> int:
    """Nonzero scalars among a compute node's constant operands (what remains after pruning)."""
    if node.op in QUANTIZER_OPS or node.op == "Requantize":
        return 0
    return sum(int(np.count_nonzero(c)) for c in (_const_source(v) for v in node.inputs[1:]) if c is not None)


def describe_quant(node: Node) -> str:
    """A short description of a quantizer node ('' for others)."""
    a = node.attrs
    if node.op == "Quant":
        scale = _const_source(node.inputs[1])
        kind = "bipolar" if a["bitwidth"] == 1 and a["signed"] else f"{'int' if a['signed'] else 'uint'}{a['bitwidth']}"
        return f"{kind}{' narrow' if a['narrow'] else ''} {_scale_text(scale)} {a['rounding_mode'].lower()}"
    if node.op == "BipolarQuant":
        return f"bipolar {_scale_text(_const_source(node.inputs[1]))}"
    if node.op == "Trunc":
        return f"trunc {a['in_bitwidth']}->{a['out_bitwidth']}b {a['rounding_mode'].lower()}"
    if node.op == "QuantizeLinear":
        return f"{a['to']} {_scale_text(_const_source(node.inputs[1]))}"
    if node.op == "DequantizeLinear":
        return f"from {node.inputs[0].type.elem} {_scale_text(_const_source(node.inputs[1]))}"
    if node.op == "Requantize":
        return f"requantize to {a['to']}"
    return ""


def _scale_text(scale) -> str:
    if scale is None:
        return "s=?"
    s = np.asarray(scale, np.float64).reshape(-1)
    if s.size > 1:
        pow2 = np.all(np.exp2(np.round(np.log2(s))) == s)
        return f"s=per-channel({s.size}{', pow2' if pow2 else ''})"
    v = float(s[0])
    e = math.log2(v) if v > 0 else None
    return f"s=2^{int(e)}" if e is not None and e == int(e) else f"s={v:.6g}"


def layer_table(graph: Graph) -> list[dict]:
    rows = []
    for n in graph.toposort():
        rows.append({
            "node": n.name,
            "op": n.op,
            "inputs": [list(v.type.shape) for v in n.inputs if v is not None and not is_static(graph, v)],
            "output": list(n.output.type.shape),
            "output_type": str(n.output.type.elem),
            "params": params(n),
            "nonzero": nonzero_params(n),
            "macs": macs(n),
            "quant": describe_quant(n),
        })
    return rows
