"""PruneChannels: structured pruning of Dense neurons / Conv kernels, with everything they feed.

For each channel group (compiler/channel_groups.py: coupled sources, the tensors carrying the
channels, the layers reading them), the floor(fraction · C) least important logical channels are
removed everywhere at once: the sources' weight rows and biases, BatchNorm entries, depthwise
kernels, per-channel quantizer scales, the sinks' input channels (Flatten blocks and Concat offsets
included). The IR physically shrinks. Importance: `l1`/`l2` norm of the sources' kernels, mean
|activation| on calibration data, or `reconstruction` (greedy: the channels whose removal least
changes the sinks' outputs on calibration data). With `refit`, every sink is then refitted by least
squares to reproduce its unpruned output on the calibration data.
"""

from __future__ import annotations

import math

import numpy as np

from ..channel_groups import Group, Member, all_groups, find_group
from ..ir.graph import Graph, Node, Value
from ..ir.ops import infer_types
from ..ir.static import static_value
from ..ir.types import FixedType
from ..sim.float_ops import _windows
from ..sim.run import simulate
from .base import Pass

CRITERIA = ("l1", "l2", "activation", "reconstruction")


def _slice_params(graph: Graph, node: Node, axis: int, keep: np.ndarray) -> None:
    """Slice the constant parameters of an elementwise quantizer that vary along `axis` of its data."""
    rank = node.inputs[0].type.rank
    for i, x in enumerate(node.inputs[1:], start=1):
        if x is None or x.const is None or x.const.size <= 1:
            continue
        if node.op == "DequantizeLinear":
            if node.attrs["axis"] % rank == axis:
                graph.set_input(node, i, graph.constant(x.const[keep], x.name + "_p"))
            continue
        pad = rank - x.const.ndim  # numpy broadcasting aligns on the right
        if pad <= axis and x.const.shape[axis - pad] > 1:
            graph.set_input(node, i, graph.constant(np.take(x.const, keep, axis=axis - pad), x.name + "_p"))


def slice_static(graph: Graph, v: Value, axis: int, keep: np.ndarray) -> Value:
    """A static value with entries `keep` along `axis` only: constants are sliced, quantizer
    parameters that vary along the axis too, Transposes map the axis."""
    if v.const is not None:  # fixed-point mantissas keep their type
        return graph.constant(np.take(v.const, keep, axis=axis), v.name + "_p",
                              elem=v.type.elem if isinstance(v.type.elem, FixedType) else None)
    node = v.producer
    if node.op == "Transpose":
        graph.set_input(node, 0, slice_static(graph, node.inputs[0], list(node.attrs["perm"])[axis], keep))
    else:  # an elementwise quantizer chain (Quant, BipolarQuant, Clip, DequantizeLinear, Identity)
        graph.set_input(node, 0, slice_static(graph, node.inputs[0], axis, keep))
        _slice_params(graph, node, axis, keep)
    graph.retype(v, v.type.with_shape(infer_types(node)[0].shape))
    return v


def reinfer(graph: Graph) -> None:
    """Shapes after a slice: re-run shape inference in order; flatten Reshapes and Resize follow."""
    for node in graph.toposort():
        if node.op == "Reshape" and len(node.attrs["shape"]) == 2 and node.attrs["shape"][0] is None:
            node.attrs["shape"] = [None, math.prod(d for d in node.inputs[0].type.shape[1:])]
        if node.op == "Resize":
            s = list(node.attrs["shape"])
            s[1] = node.inputs[0].type.shape[1]
            node.attrs["shape"] = s
        for out, t in zip(node.outputs, infer_types(node)):
            if out.type.shape != t.shape:
                graph.retype(out, out.type.with_shape(t.shape))


def _indices(m: Member, logical: np.ndarray) -> np.ndarray:
    """Channel-axis indices of logical channels in a member tensor."""
    base = (m.offset + np.asarray(logical)) * m.block
    return (base[:, None] + np.arange(m.block)[None, :]).reshape(-1)


def remove_channels(graph: Graph, group: Group, removed: np.ndarray) -> None:
    """Shrink the IR: drop logical channels `removed` of `group` everywhere."""
    keep = np.setdiff1d(np.arange(group.size), removed)
    for src in group.sources:
        w = src.inputs[1]
        axis = 1 if src.op == "Dense" else 0
        graph.set_input(src, 1, slice_static(graph, w, axis, keep))
        if src.input(2) is not None:
            graph.set_input(src, 2, slice_static(graph, src.inputs[2], 0, keep))
        if src.attrs.get("weight_shift"):
            src.attrs["weight_shift"] = [src.attrs["weight_shift"][int(i)] for i in keep]
    members = {id(m.value): m for m in group.members}
    for node in group.passthrough:
        m = members[id(node.inputs[0])]
        idx = np.setdiff1d(np.arange(node.inputs[0].type.shape[1]), _indices(m, removed))
        if node.op == "BatchNormalization":
            for i in range(1, 5):
                graph.set_input(node, i, graph.constant(node.inputs[i].const[idx], node.inputs[i].name + "_p"))
        elif node.op == "Conv":  # depthwise: one kernel per channel
            graph.set_input(node, 1, slice_static(graph, node.inputs[1], 0, idx))
            if node.input(2) is not None:
                graph.set_input(node, 2, slice_static(graph, node.inputs[2], 0, idx))
            if node.attrs.get("weight_shift"):
                node.attrs["weight_shift"] = [node.attrs["weight_shift"][int(i)] for i in idx]
            node.attrs["group"] = len(idx)
        elif node.op == "Rescale":  # per-channel multiplier and offset
            for i in (1, 2):
                p = node.input(i)
                if p is not None and p.const is not None and p.const.size > 1:
                    graph.set_input(node, i, graph.constant(p.const[idx], p.name + "_p", elem=p.type.elem))
        elif node.op == "Quant":  # per-channel activation scale
            _slice_params(graph, node, 1, idx)
    for sink, m in group.sinks:
        n_in = sink.inputs[0].type.shape[1]
        idx = np.setdiff1d(np.arange(n_in), _indices(m, removed))
        axis = 0 if sink.op == "Dense" else 1
        graph.set_input(sink, 1, slice_static(graph, sink.inputs[1], axis, idx))
    reinfer(graph)


# ---- importance ------------------------------------------------------------------------------

def _kernel_norms(group: Group, p: int) -> np.ndarray:
    total = np.zeros(group.size)
    for src in group.sources:
        w = np.asarray(static_value(src.inputs[1]), np.float64)
        w = w.T if src.op == "Dense" else w.reshape(w.shape[0], -1)
        total += (np.abs(w) ** p).sum(axis=1) ** (1.0 / p)
    return total


def _activations(graph: Graph, group: Group, calib) -> tuple[np.ndarray, dict]:
    wanted = {m.value.name for m in group.members} | {s.inputs[0].name for s, _ in group.sinks} | \
             {s.output.name for s, _ in group.sinks}
    _, kept = simulate(graph, calib, keep=lambda n: any(o.name in wanted for o in n.outputs))
    for v, x in zip(graph.inputs, calib):
        kept[v.name] = x
    score = np.zeros(group.size)
    for m in group.members:
        a = kept.get(m.value.name)
        if a is None or m.block != 1 or m.value.producer is None or m.value.producer.op in ("Dense", "Conv"):
            continue
        sl = np.abs(a[:, m.offset:m.offset + group.size].astype(np.float64))
        score += sl.reshape(sl.shape[0], group.size, -1).mean(axis=(0, 2))
    if not score.any():  # no activation after the sources: their raw outputs
        for m in group.members[:1]:
            a = kept[m.value.name]
            score += np.abs(a.astype(np.float64)).reshape(a.shape[0], a.shape[1], -1).mean(axis=(0, 2))
    return score, kept


def _contributions(sink: Node, m: Member, x: np.ndarray, size: int) -> np.ndarray:
    """Per logical channel, its additive share of the sink's output: [size, n, ...]."""
    w = np.asarray(static_value(sink.inputs[1]), np.float64)
    x = x.astype(np.float64)
    out = []
    for l in range(size):
        idx = _indices(m, np.array([l]))
        if sink.op == "Dense":
            out.append(x[:, idx] @ w[idx, :])
        else:
            a = sink.attrs
            win = _windows(x[:, idx], w.shape[2:], a["strides"], a["dilations"], a["pads"], 0.0)
            out.append(np.einsum("nc...k,mck->nm...", win.reshape(win.shape[:2 + w.ndim - 2] + (-1,)),
                                 w[:, idx].reshape(w.shape[0], len(idx), -1)))
    return np.stack(out)


def _greedy_reconstruction(graph: Graph, group: Group, calib, k: int) -> np.ndarray:
    _, kept = _activations(graph, group, calib)
    contribs = [_contributions(s, m, kept[s.inputs[0].name], group.size) for s, m in group.sinks]
    removed: list[int] = []
    residual = [np.zeros_like(c[0]) for c in contribs]
    for _ in range(k):
        best, best_err = None, None
        for l in range(group.size):
            if l in removed:
                continue
            err = sum(float(((r + c[l]) ** 2).sum()) for r, c in zip(residual, contribs))
            if best_err is None or err < best_err:
                best, best_err = l, err
        removed.append(best)
        residual = [r + c[best] for r, c in zip(residual, contribs)]
    return np.array(sorted(removed))


def choose(graph: Graph, group: Group, k: int, criterion: str, calib) -> np.ndarray:
    if k <= 0:
        return np.zeros(0, np.int64)
    if criterion in ("l1", "l2"):
        score = _kernel_norms(group, 1 if criterion == "l1" else 2)
    elif criterion == "activation":
        score, _ = _activations(graph, group, calib)
    elif criterion == "reconstruction":
        return _greedy_reconstruction(graph, group, calib, k)
    else:
        raise ValueError(criterion)
    return np.sort(np.argsort(score, kind="stable")[:k])


# ---- refit -----------------------------------------------------------------------------------

def refit(graph: Graph, original: Graph, sinks: list[Node], calib, masked: bool = False) -> None:
    """Least squares: each layer's new weights (and bias) reproduce its unpruned output on the
    calibration data; with `masked`, only the nonzero weights are free (per output unit)."""
    names = {s.name for s in sinks}
    _, now = simulate(graph, calib, keep=lambda n: any(u.node.name in names for o in n.outputs for u in o.uses))
    _, before = simulate(original, calib, keep=lambda n: n.name in names)
    for v, x in zip(graph.inputs, calib):
        now[v.name] = x
    for s in sinks:
        w = s.inputs[1]
        if w.const is None or (s.input(2) is not None and s.inputs[2].const is None):
            continue  # quantized weights keep their quantizer's grid: not refitted
        x = now[s.inputs[0].name].astype(np.float64)
        y = before[s.output.name].astype(np.float64)
        if s.op == "Dense":
            a = x.reshape(-1, x.shape[-1])
            t = y.reshape(-1, y.shape[-1])
            w_rows = w.const.astype(np.float64)  # [K, M]
        else:
            at = s.attrs
            if at["group"] != 1:
                continue
            win = _windows(x, w.const.shape[2:], at["strides"], at["dilations"], at["pads"], 0.0)
            nd = w.const.ndim - 2
            a = np.moveaxis(win, 1, 1 + nd).reshape(-1, math.prod(w.const.shape[1:]))
            t = np.moveaxis(y, 1, -1).reshape(-1, y.shape[1])
            w_rows = w.const.reshape(w.const.shape[0], -1).T.astype(np.float64)  # [C*K, M]
        new_w = np.zeros_like(w_rows)
        new_b = np.zeros(t.shape[1])
        for j in range(t.shape[1]):
            cols = np.flatnonzero(w_rows[:, j]) if masked else np.arange(a.shape[1])
            a1 = np.concatenate([a[:, cols], np.ones((a.shape[0], 1))], axis=1)
            gram = a1.T @ a1
            ridge = 1e-6 * np.trace(gram) / gram.shape[0]
            sol = np.linalg.solve(gram + ridge * np.eye(gram.shape[0]), a1.T @ t[:, j])
            new_w[cols, j], new_b[j] = sol[:-1], sol[-1]
        dt = w.const.dtype
        shaped = new_w if s.op == "Dense" else new_w.T.reshape(w.const.shape)
        graph.set_input(s, 1, graph.constant(shaped.astype(dt), w.name + "_refit"))
        graph.set_input(s, 2, graph.constant(new_b.astype(dt), f"{s.name}_bias_refit"))


class PruneChannels(Pass):
    name = "prune-channels"

    def __init__(self, fraction: float, ops=("Conv",), criterion: str = "l1", calib=None, do_refit: bool = False,
                 layers: dict[str, float] | None = None):
        if not 0.0 <= fraction < 1.0:
            raise ValueError("fraction must be in [0, 1)")
        if criterion not in CRITERIA:
            raise ValueError(f"criterion must be one of {CRITERIA}")
        if criterion in ("activation", "reconstruction") or do_refit:
            if calib is None:
                raise ValueError(f"criterion {criterion}{' and refit' if do_refit else ''} need calibration data")
        self.fraction, self.ops, self.criterion, self.calib, self.do_refit = fraction, tuple(ops), criterion, calib, do_refit
        self.layers = layers or {}
        self.report: list[tuple[str, int, int, str]] = []  # (group, channels before, after, why frozen)

    def run(self, graph: Graph) -> bool:
        if graph.metadata.get("pruned_channels"):
            return False
        original = graph.clone() if self.do_refit else None
        changed = False
        names = [g.sources[0].name for g in all_groups(graph, self.ops) if g.sources]
        for name in names:
            src = next((n for n in graph.nodes if n.name == name), None)
            if src is None:
                continue
            group = find_group(graph, src)
            frac = self.layers.get(src.name, self.layers.get(src.op, self.fraction))
            if group.frozen:
                self.report.append((group.name or name, group.size, group.size, group.frozen))
                continue
            k = min(int(math.floor(frac * group.size)), group.size - 1)
            removed = choose(graph, group, k, self.criterion, self.calib)
            if len(removed):
                sinks = [s for s, _ in group.sinks]
                remove_channels(graph, group, removed)
                if self.do_refit:
                    refit(graph, original, sinks, self.calib)
                changed = True
            self.report.append((group.name, group.size, group.size - len(removed), ""))
        graph.metadata["pruned_channels"] = True
        return changed
