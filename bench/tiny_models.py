"""MLPerf Tiny reference shapes (and plain MLP/CNN size ladders) as float ONNX models with random weights,
built in code with onnx.helper, for speed benchmarks where the weights' values do not matter.

- `autoencoder()`: the anomaly-detection FC autoencoder, 640→128→128→128→128→8→128→128→128→128→640 (ReLU).
- `ds_cnn()`: keyword spotting, input 1×49×10, conv 64 (10×4, stride 2) then 4 depthwise-separable
  blocks (3×3 depthwise + 1×1 pointwise, 64 channels), global average pool, dense 12.
- `resnet8()`: CIFAR-10 input 3×32×32, conv 16, three residual stages (16, 32, 64 channels; stride 2
  with a 1×1 shortcut in stages 2 and 3), global average pool, dense 10.
- `mlp(params)`, `cnn(params)`: an MLP / a CNN with about `params` parameters, for size scaling.
BatchNorm is left out: hwc folds it into the convolutions, so it does not change the simulated graph.
"""

from __future__ import annotations

import math

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class _Builder:
    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits = [], []
        self.k = 0

    def name(self, p: str) -> str:
        self.k += 1
        return f"{p}{self.k}"

    def const(self, a: np.ndarray) -> str:
        n = self.name("w")
        self.inits.append(numpy_helper.from_array(a.astype(np.float32), n))
        return n

    def node(self, op: str, inputs: list[str], **attrs) -> str:
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def dense(self, x: str, k: int, m: int, relu=True) -> str:
        w = self.rng.normal(0, 1 / math.sqrt(k), (k, m))
        y = self.node("Gemm", [x, self.const(w), self.const(self.rng.normal(0, 0.1, m))])
        return self.node("Relu", [y]) if relu else y

    def conv(self, x: str, c: int, m: int, k, stride=1, group=1, relu=True) -> str:
        kh, kw = (k, k) if isinstance(k, int) else k
        w = self.rng.normal(0, 1 / math.sqrt(c // group * kh * kw), (m, c // group, kh, kw))
        pads = [(kh - 1) // 2, (kw - 1) // 2, kh // 2, kw // 2]
        y = self.node("Conv", [x, self.const(w), self.const(self.rng.normal(0, 0.1, m))],
                      kernel_shape=[kh, kw], strides=[stride, stride], pads=pads, group=group)
        return self.node("Relu", [y]) if relu else y

    def model(self, x_shape, y: str, name: str) -> onnx.ModelProto:
        g = helper.make_graph(self.nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *x_shape])],
                              [helper.make_tensor_value_info(y, TensorProto.FLOAT, None)], self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 8
        return m


def autoencoder() -> onnx.ModelProto:
    b = _Builder(1)
    sizes = [640, 128, 128, 128, 128, 8, 128, 128, 128, 128, 640]
    x = "x"
    for i, (k, m) in enumerate(zip(sizes, sizes[1:])):
        x = b.dense(x, k, m, relu=i < len(sizes) - 2)
    return b.model([640], x, "autoencoder")


def ds_cnn() -> onnx.ModelProto:
    b = _Builder(2)
    x = b.conv("x", 1, 64, (10, 4), stride=2)
    for _ in range(4):
        x = b.conv(x, 64, 64, 3, group=64)
        x = b.conv(x, 64, 64, 1)
    x = b.node("Flatten", [b.node("GlobalAveragePool", [x])])
    return b.model([1, 49, 10], b.dense(x, 64, 12, relu=False), "ds_cnn")


def resnet8() -> onnx.ModelProto:
    b = _Builder(3)
    x = b.conv("x", 3, 16, 3)
    c = 16
    for m, s in ((16, 1), (32, 2), (64, 2)):
        y = b.conv(b.conv(x, c, m, 3, stride=s), m, m, 3, relu=False)
        short = x if s == 1 and c == m else b.conv(x, c, m, 1, stride=s, relu=False)
        x, c = b.node("Relu", [b.node("Add", [y, short])]), m
    x = b.node("Flatten", [b.node("GlobalAveragePool", [x])])
    return b.model([3, 32, 32], b.dense(x, 64, 10, relu=False), "resnet8")


def mlp(params: int) -> onnx.ModelProto:
    """in 64 → h → h → h → 10 with h chosen so the parameter count is about `params`."""
    h = max(8, int((-(64 + 10 + 3) + math.sqrt((64 + 13) ** 2 + 8 * params)) / 4))
    b = _Builder(4)
    x = "x"
    for k, m in ((64, h), (h, h), (h, h)):
        x = b.dense(x, k, m)
    return b.model([64], b.dense(x, h, 10, relu=False), f"mlp{params}")


def cnn(params: int) -> onnx.ModelProto:
    """3×16×16 input, three 3×3 convs of c channels (stride 1, 2, 2), global pool, dense 10; c sets the size."""
    c = max(4, int(math.sqrt(params / 18)))
    b = _Builder(5)
    x = b.conv("x", 3, c, 3)
    x = b.conv(x, c, c, 3, stride=2)
    x = b.conv(x, c, c, 3, stride=2)
    x = b.node("Flatten", [b.node("GlobalAveragePool", [x])])
    return b.model([3, 16, 16], b.dense(x, c, 10, relu=False), f"cnn{params}")


def param_count(m: onnx.ModelProto) -> int:
    return sum(math.prod(t.dims) for t in m.graph.initializer)


def input_shape(m: onnx.ModelProto) -> tuple[int, ...]:
    return tuple(d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim[1:])
