"""The IR's ops: every op's schema (inputs, typed attributes with defaults, output type inference).

Every IR op has exactly one schema, registered by its family's module (dense algebra, elementwise,
pooling and data movement, quantizers and the fixed-point boundary); importing this module registers
them all. The front end normalises ONNX (all opset versions) into these ops with explicit attributes,
so passes, the simulator and the backends never look at opsets. Shapes use `None` for the batch
dimension; broadcasting treats `None` like any size that matches.
"""

from __future__ import annotations

from . import ops_algebra, ops_elementwise, ops_movement, ops_quant, ops_transformer  # noqa: F401  (each registers its schemas)
from .ops_quant import QUANTIZER_OPS, has_quantizers
from .schema import REQUIRED, SCHEMAS, OpSchema, check_node, fill_defaults, infer_types
from .shapes import broadcast_shapes, pool_out

__all__ = ["QUANTIZER_OPS", "REQUIRED", "SCHEMAS", "OpSchema", "broadcast_shapes", "check_node", "fill_defaults",
           "has_quantizers", "infer_types", "pool_out"]
