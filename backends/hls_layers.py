"""One emitter per IR op: the config struct, the constant arrays and the kernel call of a layer,
following docs/HLS_KERNELS.md. Emitters only read the IR; every number they write is an exact value
of the node's types (double literals of m·2^-f), every identifier is derived (`layerK`, `configK`).
The `_<Op>` methods live in one class per op family; `Emitter` combines them and dispatches.
"""

from __future__ import annotations

from ..compiler.errors import HwcError
from ..compiler.ir.graph import Node

from .hls_emit_activations import ActivationEmitters
from .hls_emit_dense import DenseEmitters
from .hls_emit_movement import MovementEmitters
from .hls_emit_transformer import TransformerEmitters
from .hls_text import Layer, array_def, fixed_values, literal, mantissa_ctype, per_sample, size, stream_shape

__all__ = ["Emitter", "Layer", "array_def", "fixed_values", "literal", "mantissa_ctype", "per_sample", "size",
           "stream_shape"]


class Emitter(DenseEmitters, ActivationEmitters, MovementEmitters, TransformerEmitters):
    """Builds Layer objects: `emit` calls the `_<Op>` method of the node's op."""

    def emit(self, index: int, node: Node, args: list[str], out: str) -> Layer:
        fn = getattr(self, f"_{node.op}", None)
        if fn is None:
            raise HwcError(f"the HLS backends have no kernel for {node.op}", node=node.name, op=node.op)
        layer = Layer(index, node)
        fn(layer, node, args, out)
        return layer
