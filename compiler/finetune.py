"""Optional recovery after pruning: fine-tune the float graph with PyTorch by distillation.

The student is the pruned graph, run op by op by a small torch interpreter of the IR; its
trainable parameters are the float weights and biases of Dense/Conv layers, and pruned (zero)
weights stay zero (masked gradients). The teacher is the unpruned graph: the loss compares the two
graphs' outputs on the given (unlabelled) inputs, so no labels are needed (classifiers: KL divergence of the temperature-softened outputs; otherwise mean squared
error). With `wbits`, weights are fake-quantized during training to the power-of-two grid the
quantizer will use (straight-through estimator), so the fine-tuned weights survive quantization.
PyTorch is optional: without it this raises a clear error.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import HwcError
from .ir.graph import Graph, Node
from .sim.run import simulate


def _torch():
    try:
        import torch
    except ImportError:
        raise HwcError("fine-tuning needs PyTorch (pip install torch==2.13.0)") from None
    return torch


def _pool_pads(node: Node):
    nd = len(node.attrs["kernel_shape"])
    p = node.attrs["pads"]
    pads = []
    for i in reversed(range(nd)):
        pads += [p[i], p[nd + i]]
    return pads


class _Interpreter:
    """Runs an IR graph with torch ops; Dense/Conv weights come from `params`."""

    def __init__(self, graph: Graph, params: dict, fake_quant):
        self.graph, self.params, self.fake_quant = graph, params, fake_quant

    def __call__(self, x):
        torch = _torch()
        F = torch.nn.functional
        env = {id(self.graph.inputs[0]): x}

        def val(v):
            if v is None:
                return None
            if v.const is not None:
                return torch.as_tensor(np.asarray(v.const, np.float32))
            return env[id(v)]

        for n in self.graph.toposort():
            a = n.attrs
            ins = [val(v) for v in n.inputs]
            if n.op in ("Dense", "Conv"):
                w = self.fake_quant(n, self.params[n.name + ".w"])
                b = self.params.get(n.name + ".b")
                if n.op == "Dense":
                    y = ins[0] @ w + (b if b is not None else 0)
                else:
                    nd = w.ndim - 2
                    p = a["pads"]
                    x = F.pad(ins[0], [q for i in reversed(range(nd)) for q in (p[i], p[nd + i])])
                    conv = F.conv1d if nd == 1 else F.conv2d
                    y = conv(x, w, b, stride=a["strides"], dilation=a["dilations"], groups=a["group"])
            elif n.op == "Relu":
                y = torch.relu(ins[0])
            elif n.op == "LeakyRelu":
                y = F.leaky_relu(ins[0], a["alpha"])
            elif n.op == "Clip":
                y = torch.clamp(ins[0], a["min"], a["max"])
            elif n.op == "Sigmoid":
                y = torch.sigmoid(ins[0])
            elif n.op == "Tanh":
                y = torch.tanh(ins[0])
            elif n.op == "Softmax":
                y = torch.softmax(ins[0], a["axis"])
            elif n.op == "MaxPool":
                nd = len(a["kernel_shape"])
                x = F.pad(ins[0], _pool_pads(n), value=-math.inf)
                pool = F.max_pool1d if nd == 1 else F.max_pool2d
                y = pool(x, a["kernel_shape"], a["strides"], dilation=a["dilations"], ceil_mode=a["ceil_mode"])
            elif n.op == "AveragePool" and not any(a["pads"]) and not a["ceil_mode"]:
                pool = F.avg_pool1d if len(a["kernel_shape"]) == 1 else F.avg_pool2d
                y = pool(ins[0], a["kernel_shape"], a["strides"])
            elif n.op == "GlobalAveragePool":
                y = ins[0].mean(dim=tuple(range(2, ins[0].ndim)), keepdim=True)
            elif n.op == "GlobalMaxPool":
                y = ins[0].amax(dim=tuple(range(2, ins[0].ndim)), keepdim=True)
            elif n.op == "Reshape":
                y = ins[0].reshape([ins[0].shape[0] if d is None else d for d in a["shape"]])
            elif n.op == "Transpose":
                y = ins[0].permute(a["perm"])
            elif n.op in ("Add", "Sub", "Mul", "Div"):
                y = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div}[n.op](ins[0], ins[1])
            elif n.op == "Concat":
                y = torch.cat(ins, dim=a["axis"])
            elif n.op == "BatchNormalization":
                s, b, m, v = ins[1:]
                shape = (1, -1) + (1,) * (ins[0].ndim - 2)
                y = (ins[0] - m.reshape(shape)) / torch.sqrt(v.reshape(shape) + a["epsilon"]) * s.reshape(shape) + b.reshape(shape)
            elif n.op in ("Identity", "Dropout"):
                y = ins[0]
            else:
                raise HwcError(f"fine-tuning does not support {n.op} yet", node=n.name, op=n.op)
            env[id(n.output)] = y
        return env[id(self.graph.outputs[0])]


def _pow2_fake_quant(torch, bits: int | None):
    """w -> the value the quantizer will give it (assign_types.quantize_weights: the same power-of-two
    scale choice, round half to even, saturate), with a straight-through gradient."""
    from .passes.assign_types import quantize_weights

    def fq(node, w):
        if not bits:
            return w
        m, t, _ = quantize_weights(w.detach().numpy(), bits, None, False)
        q = torch.as_tensor((m * 2.0 ** -t.frac_bits).astype(np.float32))
        return w + (q - w).detach()
    return fq


def finetune(graph: Graph, teacher: Graph, data: list[np.ndarray], epochs: int, wbits: int | None = None,
             lr: float = 1e-2, batch: int = 64, seed: int = 0, temperature: float | None = 4.0) -> float:
    """Fine-tune `graph` in place toward `teacher` on `data`; returns the final distillation loss."""
    torch = _torch()
    torch.manual_seed(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: the same result on every run and machine
    try:
        return _train(torch, graph, teacher, data, epochs, wbits, lr, batch, seed, temperature)
    finally:
        torch.set_num_threads(threads)


def _train(torch, graph, teacher, data, epochs, wbits, lr, batch, seed, temperature) -> float:
    target = torch.as_tensor(np.asarray(simulate(teacher, data)[0], np.float32))
    x_all = torch.as_tensor(np.asarray(data[0], np.float32))
    params, masks = {}, {}
    for n in graph.nodes:
        if n.op in ("Dense", "Conv") and n.inputs[1].const is not None:
            w = torch.nn.Parameter(torch.as_tensor(np.array(n.inputs[1].const, np.float32)))
            params[n.name + ".w"] = w
            masks[n.name + ".w"] = (w.detach() != 0).float()
            if n.input(2) is not None and n.inputs[2].const is not None:
                params[n.name + ".b"] = torch.nn.Parameter(torch.as_tensor(np.array(n.inputs[2].const, np.float32)))
    model = _Interpreter(graph, params, _pow2_fake_quant(torch, wbits))
    opt = torch.optim.Adam(list(params.values()), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(1, epochs))
    gen = torch.Generator().manual_seed(seed)
    loss_value = float("nan")
    from .progress import track

    for _ in track(range(epochs), epochs, "fine-tuning", min_total=2):
        order = torch.randperm(len(x_all), generator=gen)
        for start in range(0, len(x_all), batch):
            idx = order[start:start + batch]
            out = model(x_all[idx])
            if temperature:  # distillation on softened class probabilities (Hinton et al.)
                loss = torch.nn.functional.kl_div(torch.log_softmax(out / temperature, dim=1),
                                                  torch.softmax(target[idx] / temperature, dim=1),
                                                  reduction="batchmean") * temperature ** 2
            else:
                loss = torch.mean((out - target[idx]) ** 2)
            opt.zero_grad()
            loss.backward()
            for k, m in masks.items():
                params[k].grad *= m
            opt.step()
            with torch.no_grad():
                for k, m in masks.items():
                    params[k].mul_(m)
            loss_value = float(loss.detach())
        sched.step()
    for n in graph.nodes:
        if n.name + ".w" in params:
            graph.set_input(n, 1, graph.constant(params[n.name + ".w"].detach().numpy(), n.inputs[1].name + "_ft"))
            if n.name + ".b" in params:
                graph.set_input(n, 2, graph.constant(params[n.name + ".b"].detach().numpy(), n.inputs[2].name + "_ft"))
    return loss_value
