"""Quantization-aware distillation: fine-tune a graph with PyTorch toward the float model.

The student is the (pruned, quantized) graph, run op by op by the torch interpreter of the IR
(`finetune_interpreter.py`);
its trainable parameters are the weights and biases of Dense/Conv layers, and pruned (zero)
weights stay zero (masked gradients). The teacher is the unpruned float graph: the loss compares
the two graphs' outputs on the given inputs, so no labels are needed (classifiers: KL divergence of
the temperature-softened outputs; otherwise mean squared error); with labels, cross-entropy is
added. Weights are fake-quantized to their layer's grid (`grids`: the frozen power-of-two grid PTQ
chose; else `wbits` with the quantizer's own scale choice) and, with `act_types`, every value to
its FixedType with that type's exact rounding and saturation (the simulator's `from_float`), both
with straight-through gradients. With `grids`, the weights written back are the grid's mantissas,
exactly what training saw. PyTorch is optional: without it this raises a clear error.
"""

from __future__ import annotations

import numpy as np

from .finetune_interpreter import Interpreter, torch_module
from .ir.graph import Graph, Node
from .quantize.grid import as_matrix, from_matrix
from .sim.run import simulate


def _layer_grid(grids: dict, node: Node, wm: np.ndarray, rescale: bool):
    grid = grids.get(node.name)
    return grid.refitted(wm) if grid is not None and rescale else grid


def _grid_fake_quant(torch, grids: dict, rescale: bool = False):
    """w -> its nearest point on the layer's grid (quantize/grid.py), straight-through; with `rescale`
    the grid's scale follows the weights (least squared error), else it stays as PTQ chose it."""
    def fq(node, w):
        wm = as_matrix(w.detach().numpy().astype(np.float64), node.op)
        grid = _layer_grid(grids, node, wm, rescale)
        if grid is None:
            return w
        q = from_matrix(grid.values(grid.mantissas(wm)), node.op, tuple(w.shape))
        return w + (torch.as_tensor(q.astype(np.float32)) - w).detach()
    return fq


def _act_fake_quant(torch, types: dict):
    """y -> the value of its FixedType (from_float: the type's rounding and overflow), straight-through."""
    from .sim.fixed import from_float, to_float

    def aq(name, y):
        t = types.get(name)
        if t is None:
            return y
        q = to_float(from_float(y.detach().numpy(), t), t).astype(np.float32)
        return y + (torch.as_tensor(q) - y).detach()
    return aq


def _pow2_fake_quant(torch, bits: int | None):
    """w -> the value the quantizer will give it (weight_mantissas.quantize_weights: the same power-of-two
    scale choice, round half to even, saturate), with a straight-through gradient."""
    from .passes.weight_mantissas import quantize_weights

    def fq(node, w):
        if not bits:
            return w
        m, t, _ = quantize_weights(w.detach().numpy(), bits, None, False)
        q = torch.as_tensor((m * 2.0 ** -t.frac_bits).astype(np.float32))
        return w + (q - w).detach()
    return fq


def finetune(graph: Graph, teacher: Graph, data: list[np.ndarray], epochs: int, wbits: int | None = None,
             lr: float = 3e-3, batch: int = 64, seed: int = 0, temperature: float | None = 4.0,
             grids: dict | None = None, act_types: dict | None = None, masks: dict | None = None,
             labels: np.ndarray | None = None, rescale: bool = False) -> float:
    """Fine-tune `graph` in place toward `teacher` on `data`; returns the final distillation loss.

    grids: {node name: Grid} of layers whose weights are FixedType mantissas on that grid (PTQ's
    output); act_types: {value name: FixedType}; masks: {node name: bool array of weights that
    stay 0} (default: the weights that are 0 now, when no grids are given). The weights kept are
    those of the epoch (or the start) with the least loss over all of `data`."""
    torch = torch_module()
    torch.manual_seed(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: the same result on every run and machine
    try:
        return _train(torch, graph, teacher, data, epochs, wbits, lr, batch, seed, temperature, grids or {},
                      act_types, masks, labels, rescale)
    finally:
        torch.set_num_threads(threads)


def _weight_values(node: Node, grid) -> np.ndarray:
    """The real weights of a layer (a grid's mantissas with their per-column scale, or floats)."""
    w = np.asarray(node.inputs[1].const)
    if grid is None:
        return w.astype(np.float32)
    return from_matrix(grid.values(as_matrix(w.astype(np.int64), node.op)), node.op, w.shape).astype(np.float32)


def _train(torch, graph, teacher, data, epochs, wbits, lr, batch, seed, temperature, grids, act_types, zero_masks,
           labels, rescale) -> float:
    target = torch.as_tensor(np.asarray(simulate(teacher, data)[0], np.float32))
    x_all = torch.as_tensor(np.asarray(data[0], np.float32))
    y_all = torch.as_tensor(np.asarray(labels, np.int64)) if labels is not None else None
    params, masks = {}, {}
    for n in graph.nodes:
        if n.op in ("Dense", "Conv") and n.inputs[1].const is not None:
            w = torch.nn.Parameter(torch.as_tensor(_weight_values(n, grids.get(n.name))))
            params[n.name + ".w"] = w
            if zero_masks is not None:
                masks[n.name + ".w"] = torch.as_tensor((~zero_masks[n.name]).astype(np.float32))
            elif not grids:
                masks[n.name + ".w"] = (w.detach() != 0).float()
            if n.input(2) is not None and n.inputs[2].const is not None:
                params[n.name + ".b"] = torch.nn.Parameter(torch.as_tensor(np.array(n.inputs[2].const, np.float32)))
    fq = _grid_fake_quant(torch, grids, rescale) if grids else _pow2_fake_quant(torch, wbits)
    model = Interpreter(graph, params, fq, _act_fake_quant(torch, act_types) if act_types else None)
    opt = torch.optim.Adam(list(params.values()), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(1, epochs))
    gen = torch.Generator().manual_seed(seed)
    from .progress import track

    def objective(out, idx):
        if temperature:  # distillation on softened class probabilities (Hinton et al.)
            loss = torch.nn.functional.kl_div(torch.log_softmax(out / temperature, dim=1),
                                              torch.softmax(target[idx] / temperature, dim=1),
                                              reduction="batchmean") * temperature ** 2
        else:
            loss = torch.mean((out - target[idx]) ** 2)
        if y_all is not None:
            loss = loss + torch.nn.functional.cross_entropy(out, y_all[idx])
        return loss

    def whole_loss() -> float:
        with torch.no_grad():
            total = 0.0
            for start in range(0, len(x_all), 512):
                idx = torch.arange(start, min(start + 512, len(x_all)))
                total += float(objective(model(x_all[idx]), idx)) * len(idx)
            return total / len(x_all)

    best = (whole_loss(), {k: p.detach().clone() for k, p in params.items()})  # the start counts too
    for _ in track(range(epochs), epochs, "fine-tuning", min_total=2):
        order = torch.randperm(len(x_all), generator=gen)
        for start in range(0, len(x_all), batch):
            idx = order[start:start + batch]
            loss = objective(model(x_all[idx]), idx)
            opt.zero_grad()
            loss.backward()
            for k, m in masks.items():
                params[k].grad *= m
            opt.step()
            with torch.no_grad():
                for k, m in masks.items():
                    params[k].mul_(m)
        sched.step()
        loss_value = whole_loss()
        if loss_value < best[0]:
            best = (loss_value, {k: p.detach().clone() for k, p in params.items()})
    with torch.no_grad():  # the epoch with the least loss on all the inputs
        for k, p in params.items():
            p.copy_(best[1][k])
    loss_value = best[0]
    for n in graph.nodes:
        if n.name + ".w" in params:
            w = params[n.name + ".w"].detach().numpy()
            grid = _layer_grid(grids, n, as_matrix(w.astype(np.float64), n.op), rescale)
            if grid is None:
                graph.set_input(n, 1, graph.constant(w, n.inputs[1].name + "_ft"))
            else:
                _write_on_grid(graph, n, w, grid)
            if n.name + ".b" in params:
                graph.set_input(n, 2, graph.constant(params[n.name + ".b"].detach().numpy(), n.inputs[2].name + "_ft"))
    return loss_value


def _write_on_grid(graph: Graph, node: Node, w: np.ndarray, grid) -> None:
    """The trained weights as the grid's mantissas: exactly the values the last forward pass used."""
    t, ws, m = grid.fixed(grid.mantissas(as_matrix(w.astype(np.float64), node.op)))
    graph.set_input(node, 1, graph.constant(from_matrix(m, node.op, w.shape), node.inputs[1].name + "_ft", elem=t))
    node.attrs["weight_shift"] = ws
