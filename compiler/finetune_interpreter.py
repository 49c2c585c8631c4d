"""The fine-tuning interpreter: an IR graph run with PyTorch ops, so gradients reach Dense/Conv weights.

`TORCH_OPS` maps each op it runs to `fn(it, node, inputs) -> tensor` (`it` the running Interpreter: its torch
modules and the layer's fake-quantized parameters); an op outside the table is refused naming the node. Every
value is passed through `act_quant` (the activations' fake quantization) as it is produced.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .errors import HwcError
from .ir.graph import Graph, Node


def torch_module():
    """PyTorch, or a one-line error saying how to install it (it is optional)."""
    try:
        import torch
    except ImportError:
        raise HwcError("fine-tuning needs PyTorch (pip install torch==2.13.0)") from None
    return torch


def _pool_pads(node: Node) -> list[int]:
    """ONNX pads (begins..., ends...) as torch's F.pad list (last axis first)."""
    nd = len(node.attrs["kernel_shape"])
    p = node.attrs["pads"]
    pads = []
    for i in reversed(range(nd)):
        pads += [p[i], p[nd + i]]
    return pads


def _dense(it, n, ins):
    w, b = it.layer_params(n)
    return ins[0] @ w + (b if b is not None else 0)


def _conv(it, n, ins):
    w, b = it.layer_params(n)
    a, nd = n.attrs, w.ndim - 2
    p = a["pads"]
    x = it.F.pad(ins[0], [q for i in reversed(range(nd)) for q in (p[i], p[nd + i])])
    conv = it.F.conv1d if nd == 1 else it.F.conv2d
    return conv(x, w, b, stride=a["strides"], dilation=a["dilations"], groups=a["group"])


def _max_pool(it, n, ins):
    a = n.attrs
    x = it.F.pad(ins[0], _pool_pads(n), value=-math.inf)
    pool = it.F.max_pool1d if len(a["kernel_shape"]) == 1 else it.F.max_pool2d
    return pool(x, a["kernel_shape"], a["strides"], dilation=a["dilations"], ceil_mode=a["ceil_mode"])


def _average_pool(it, n, ins):
    a = n.attrs
    if any(a["pads"]) or a["ceil_mode"]:
        raise HwcError(f"fine-tuning does not support {n.op} yet", node=n.name, op=n.op)
    pool = it.F.avg_pool1d if len(a["kernel_shape"]) == 1 else it.F.avg_pool2d
    return pool(ins[0], a["kernel_shape"], a["strides"])


def _batch_normalization(it, n, ins):
    s, b, m, v = ins[1:]
    shape = (1, -1) + (1,) * (ins[0].ndim - 2)
    return (ins[0] - m.reshape(shape)) / it.torch.sqrt(v.reshape(shape) + n.attrs["epsilon"]) * s.reshape(shape) \
        + b.reshape(shape)


def _spatial_axes(x) -> tuple[int, ...]:
    return tuple(range(2, x.ndim))


#: op -> fn(interpreter, node, inputs): the op in torch
TORCH_OPS: dict[str, Callable] = {
    "Dense": _dense,
    "Conv": _conv,
    "Relu": lambda it, n, ins: it.torch.relu(ins[0]),
    "LeakyRelu": lambda it, n, ins: it.F.leaky_relu(ins[0], n.attrs["alpha"]),
    "Clip": lambda it, n, ins: it.torch.clamp(ins[0], n.attrs["min"], n.attrs["max"]),
    "Sigmoid": lambda it, n, ins: it.torch.sigmoid(ins[0]),
    "Tanh": lambda it, n, ins: it.torch.tanh(ins[0]),
    "Softmax": lambda it, n, ins: it.torch.softmax(ins[0], n.attrs["axis"]),
    "MaxPool": _max_pool,
    "AveragePool": _average_pool,
    "GlobalAveragePool": lambda it, n, ins: ins[0].mean(dim=_spatial_axes(ins[0]), keepdim=True),
    "GlobalMaxPool": lambda it, n, ins: ins[0].amax(dim=_spatial_axes(ins[0]), keepdim=True),
    "Reshape": lambda it, n, ins: ins[0].reshape([ins[0].shape[0] if d is None else d for d in n.attrs["shape"]]),
    "Transpose": lambda it, n, ins: ins[0].permute(n.attrs["perm"]),
    "Add": lambda it, n, ins: it.torch.add(ins[0], ins[1]),
    "Sub": lambda it, n, ins: it.torch.sub(ins[0], ins[1]),
    "Mul": lambda it, n, ins: it.torch.mul(ins[0], ins[1]),
    "Div": lambda it, n, ins: it.torch.div(ins[0], ins[1]),
    "Concat": lambda it, n, ins: it.torch.cat(ins, dim=n.attrs["axis"]),
    "BatchNormalization": _batch_normalization,
    "Identity": lambda it, n, ins: ins[0],
    "Dropout": lambda it, n, ins: ins[0],
}


class Interpreter:
    """Runs an IR graph with torch ops; Dense/Conv weights come from `params` ("<node>.w", "<node>.b"),
    the weights through `fake_quant(node, w)`."""

    def __init__(self, graph: Graph, params: dict, fake_quant, act_quant=None):
        self.graph, self.params, self.fake_quant = graph, params, fake_quant
        self.act_quant = act_quant or (lambda name, y: y)
        self.torch = torch_module()
        self.F = self.torch.nn.functional

    def layer_params(self, n: Node):
        return self.fake_quant(n, self.params[n.name + ".w"]), self.params.get(n.name + ".b")

    def __call__(self, x):
        x_in = self.graph.inputs[0]
        env = {x_in: self.act_quant(x_in.name, x)}

        def val(v):
            if v is None:
                return None
            if v.const is not None:
                return self.torch.as_tensor(np.array(v.const, np.float32))
            return env[v]

        for n in self.graph.toposort():
            fn = TORCH_OPS.get(n.op)
            if fn is None:
                raise HwcError(f"fine-tuning does not support {n.op} yet", node=n.name, op=n.op)
            env[n.output] = self.act_quant(n.output.name, fn(self, n, [val(v) for v in n.inputs]))
        return env[self.graph.outputs[0]]
