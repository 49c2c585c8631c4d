"""Post-training weight quantization of a float graph, layer by layer in topological order.

For each Dense/Conv with float weights W: X_f is its input in the float model, X_q its input in the
fixed-point model with every earlier layer already quantized (AssignTypes on a clone, run by the
bit-accurate simulator). With H = X_qᵀX_q / N, the weights are refitted to W* = (H + λI)⁻¹ X_qᵀX_f W / N
(the least-squares weights for quantized inputs; only with at least 8 rows of X per input), then
put on the grid by
- `rtn`: round to nearest (no calibration needed),
- `gptq`: second-order rounding with error feedback (gptq.py), optionally pruning by OBS saliency,
- `adaround`: learned rounding started from GPTQ's choice (adaround.py), kept for the output columns
  where its error is lower;
each minimising ||X_q (Ŵ - W*)||², which equals ||X_q Ŵ - X_f W||² up to a constant. The power-of-two
scale (per tensor or per column) is the candidate with the least of that error. Bias correction (gptq,
adaround) then adds mean(X_f W - X_q Ŵ) to the bias. Weights that are exactly 0 (pruned) stay 0. The weights are written as FixedType mantissa constants (with
`weight_shift` per channel), so AssignTypes keeps them and the result is an ordinary typed graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..ir.graph import Graph, Node
from ..ir.types import FixedType
from ..passes.assign_types import AssignTypes
from ..quant_config import QuantConfig
from ..sim.fixed import to_float
from ..sim.run import simulate
from .adaround import adaround
from .gptq import damped, gptq, inverse_cholesky
from .grid import Grid, as_matrix, candidate_fracs, from_matrix
from .layer_inputs import group_columns, input_matrices

METHODS = ("rtn", "gptq", "adaround")
MAX_ROWS = 1 << 16  # rows of a layer's input matrix (samples x output positions) used for its Hessian
REFIT_ROWS_PER_INPUT = 8  # fewer calibration rows per weight row: the refit fits noise (digits MLP: -0.8 points)
DEFAULT_METHOD = "gptq"  # closed form, a fraction of a second per layer; adaround costs ~1 s per layer


@dataclass
class LayerResult:
    node: str
    method: str
    error_rtn: float  # ||X_q Ŵ - X_f W||² / N with round to nearest on the same grid
    error: float  # the same with the chosen method
    grid: Grid | None = None  # where the weights are (fine-tuning keeps them on it)


def quantized_layers(graph: Graph) -> list[Node]:
    """Dense/Conv nodes whose weights are a float constant (not the model's own quantized weights)."""
    return [n for n in graph.toposort() if n.op in ("Dense", "Conv") and n.inputs[1].const is not None
            and not isinstance(n.inputs[1].type.elem, FixedType)]


def _layer_input(graph: Graph, node_name: str, calib, config: QuantConfig, ranges) -> np.ndarray:
    """The real values entering `node_name` in the fixed-point model of `graph` as it is now."""
    g = graph.clone()
    AssignTypes(config, ranges).run(g)
    node = next(n for n in g.nodes if n.name == node_name)
    v = node.inputs[0]
    _, kept = simulate(g, calib, mode="fixed", keep=lambda n: n is v.producer)
    return to_float(kept[v.name], v.type.elem)


def _float_inputs(graph: Graph, calib) -> dict[str, np.ndarray]:
    layers = quantized_layers(graph)
    wanted = {n.inputs[0].name for n in layers}
    _, kept = simulate(graph, calib, keep=lambda n: any(o.name in wanted for o in n.outputs))
    kept.update({v.name: np.asarray(x, np.float64) for v, x in zip(graph.inputs, calib)})
    return {n.name: np.asarray(kept[n.inputs[0].name], np.float64) for n in layers}


def _samples_within(node: Node, x: np.ndarray) -> int:
    """How many calibration samples give at most MAX_ROWS rows (im2col of a large Conv is big)."""
    rows_per_sample = int(np.prod(node.output.type.shape[2:])) if node.op == "Conv" else \
        int(np.prod(x.shape[1:-1], dtype=np.int64))
    return max(1, MAX_ROWS // max(rows_per_sample, 1))


def _round(method: str, w: np.ndarray, h: np.ndarray, grid: Grid, prune: float, u) -> np.ndarray:
    if method == "rtn":
        return grid.mantissas(w)
    q = gptq(w, h, grid, prune=prune, u=u)
    if method == "adaround":  # learned rounding from GPTQ's start, kept per column where it does better
        zero = (w == 0) | ((q == 0) if prune > 0 else False)
        a = adaround(w, damped(h)[0], grid, init=q, zero=zero)
        better = _column_errors(a, grid, w, h) < _column_errors(q, grid, w, h)
        q = np.where(better[None, :], a, q)
    return q


def _column_errors(q: np.ndarray, grid: Grid, w: np.ndarray, h: np.ndarray) -> np.ndarray:
    d = grid.values(q) - w
    return np.einsum("km,km->m", d, h @ d)  # dᵀHd per column, the product in BLAS


def quantize_layer(node: Node, w: np.ndarray, xq: list[np.ndarray], xf: list[np.ndarray], bits: int, ternary: bool,
                   per_channel: bool, method: str, frac: int | None = None, prune: float = 0.0, refit: bool = True):
    """(mantissas [K, M], Grid, bias delta [M] | None, LayerResult) for float weights w [K, M]."""
    m = w.shape[1]
    q_all = np.zeros(w.shape, np.int64)
    fr_all = np.zeros(m, np.int64)
    delta = np.zeros(m)
    err_rtn = err = 0.0
    for cols, a, b in zip(group_columns(node, m), xq, xf):
        n = max(len(a), 1)
        h = a.T @ a / n if len(a) else np.eye(len(wg))  # without data: the weights' own squared error
        c = a.T @ b / n
        wg = w[:, cols]
        refit_here = refit and method != "rtn" and len(a) >= REFIT_ROWS_PER_INPUT * len(wg)
        target = np.linalg.solve(damped(h)[0], c @ wg) if refit_here else wg
        target = np.where(wg == 0, 0.0, target)  # pruned weights stay pruned (GPTQ compensates them)
        cands = candidate_fracs(target, bits, ternary, per_channel) if frac is None else [np.full(wg.shape[1], frac)]
        best_q = best_e = best_f = rtn_e = None
        u = None if method == "rtn" else inverse_cholesky(damped(h)[0])  # one O(K³) factor for all grids
        for f in cands:
            grid = Grid(bits, ternary, f)
            q = _round(method, target, h, grid, prune, u)
            e = _column_errors(q, grid, target, h)
            if not per_channel:
                e = np.full_like(e, e.sum())
            if best_e is None:
                best_q, best_e, best_f = q, e, f.copy()
            else:
                better = e < best_e
                best_q[:, better], best_e[better], best_f[better] = q[:, better], e[better], f[better]
        grid = Grid(bits, ternary, best_f, per_channel)
        q_all[:, cols], fr_all[cols] = best_q, best_f
        out_f, out_q = b @ wg, a @ grid.values(best_q)
        delta[cols] = (out_f - out_q).mean(axis=0)
        err += float(np.sum((out_f - out_q - delta[cols]) ** 2) / n)
        out_r = a @ grid.values(grid.mantissas(wg))
        err_rtn += float(np.sum((out_f - out_r) ** 2) / n)
    grid = Grid(bits, ternary, fr_all, per_channel)
    return q_all, grid, delta, LayerResult(node.name, method, err_rtn, err, grid)


def ptq(graph: Graph, config: QuantConfig, calib: Sequence[np.ndarray] | None, ranges, method: str = DEFAULT_METHOD,
        prune: dict[str, float] | None = None) -> list[LayerResult]:
    """Quantize every float Dense/Conv weight of `graph` in place (see the module docstring).

    prune: {node name or op: fraction} of weights to prune jointly by OBS saliency (gptq, adaround)."""
    if method not in METHODS:
        raise ValueError(f"unknown PTQ method {method!r}")
    if calib is None and method != "rtn":
        raise ValueError(f"{method} needs calibration data")
    xf_all = _float_inputs(graph, calib) if calib is not None else {}
    results = []
    for node in quantized_layers(graph):
        layer = config.layer(node.name, node.op)
        spec = layer.get("weight") or {}
        bits = spec.get("width", config.wbits)
        frac = bits - spec["int_bits"] if "int_bits" in spec else None
        ternary = config.ternary and bits == 2
        per_channel = layer.get("per_channel", config.per_channel)
        w_const = node.inputs[1].const
        w = as_matrix(np.asarray(w_const, np.float64), node.op)
        if calib is None:
            xq = xf = [np.zeros((0, w.shape[0]))] * (node.attrs.get("group", 1) if node.op == "Conv" else 1)
        else:
            x_q, x_f = _layer_input(graph, node.name, calib, config, ranges), xf_all[node.name]
            keep = _samples_within(node, x_f)
            xq, xf = input_matrices(node, x_q[:keep]), input_matrices(node, x_f[:keep])
        fraction = (prune or {}).get(node.name, (prune or {}).get(node.op, 0.0))
        q, grid, delta, res = quantize_layer(node, w, xq, xf, bits, ternary, per_channel, method, frac, fraction)
        results.append(res)
        t, ws, mant = grid.fixed(q)
        graph.set_input(node, 1, graph.constant(from_matrix(mant, node.op, w_const.shape), node.inputs[1].name + "_q",
                                                elem=t))
        node.attrs["weight_shift"] = ws
        if method != "rtn" and calib is not None and np.any(delta):
            b = node.input(2)
            old = np.asarray(b.const, np.float64) if b is not None else np.zeros(len(delta))
            if b is None or not isinstance(b.type.elem, FixedType):
                graph.set_input(node, 2, graph.constant((old + delta).astype(np.float32),
                                                        (b.name if b is not None else node.name + "_bias") + "_bc"))
    return results
