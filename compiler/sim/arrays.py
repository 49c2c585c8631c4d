"""Array helpers of the simulator modes: a node's output dtype, per-channel vectors broadcast along an axis."""

from __future__ import annotations

import numpy as np

from ..ir.graph import Node
from ..ir.types import numpy_dtype


def out_dtype(node: Node, i: int = 0) -> np.dtype:
    return numpy_dtype(node.outputs[i].type.elem)


def channel_shape(arr: np.ndarray, rank: int, axis: int = 1) -> np.ndarray:
    """A per-channel vector reshaped to broadcast along `axis` of a rank-`rank` tensor."""
    arr = np.asarray(arr)
    if arr.ndim == 0 or arr.size == 1:
        return arr.reshape(())
    return arr.reshape((-1,) + (1,) * (rank - 1 - axis))
