"""Shape rules shared by the op schemas: numpy broadcasting and sliding-window output lengths."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import IRError
from .types import TensorType

if TYPE_CHECKING:  # annotations only: graph.py imports this module
    from .graph import Node


def input_type(node: Node, i: int) -> TensorType:
    """The type of input i (an error naming the node when the input is missing)."""
    v = node.inputs[i]
    if v is None:
        raise IRError(f"{node.op} node {node.name}: input {i} is missing")
    return v.type


def broadcast_shapes(*shapes) -> tuple:
    """numpy broadcasting; a None (batch) dimension broadcasts with 1 and with None."""
    rank = max(len(s) for s in shapes)
    out = []
    for dims in zip(*[(1,) * (rank - len(s)) + tuple(s) for s in shapes]):
        if None in dims:
            if any(d not in (None, 1) for d in dims):
                raise IRError(f"cannot broadcast shapes {shapes}: batch dimension against a fixed size")
            out.append(None)
            continue
        big = {d for d in dims if d != 1}
        if len(big) > 1:
            raise IRError(f"cannot broadcast shapes {shapes}")
        out.append(big.pop() if big else 1)
    return tuple(out)


def pool_out(size: int, k: int, s: int, d: int, pb: int, pe: int, ceil_mode: bool = False) -> int:
    """Output length of a sliding window (ONNX/PyTorch rule, including ceil_mode's last-window check)."""
    span = size + pb + pe - d * (k - 1) - 1
    if span < 0:
        raise IRError(f"window {k} (dilation {d}) larger than padded input {size + pb + pe}")
    if not ceil_mode:
        return span // s + 1
    out = -(-span // s) + 1
    if (out - 1) * s >= size + pb:  # the last window would start in the end padding
        out -= 1
    return out


def same_type(node: Node) -> list[TensorType]:
    """Output type equal to input 0's."""
    return [input_type(node, 0)]


def broadcast_type(node: Node) -> list[TensorType]:
    """Input 0's element type in the broadcast shape of inputs 0 and 1."""
    a, b = input_type(node, 0), input_type(node, 1)
    return [TensorType(a.elem, broadcast_shapes(a.shape, b.shape))]


def spatial_out(node: Node, x: TensorType, kernel, strides, dilations, pads, ceil_mode=False):
    """Output spatial dimensions of a sliding window over the NC[D]HW input x."""
    nd = len(kernel)
    if x.rank != nd + 2:
        raise IRError(f"{node.op} node {node.name}: input rank {x.rank} does not match a {nd}-D kernel")
    return tuple(pool_out(x.shape[2 + i], kernel[i], strides[i], dilations[i], pads[i], pads[nd + i], ceil_mode)
                 for i in range(nd))
