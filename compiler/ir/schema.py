"""The op schema: inputs, typed attributes with defaults, output type inference, and the node check.

`op_schema` registers one IR op; the op families (`ops_algebra`, `ops_elementwise`, `ops_movement`,
`ops_quant`) register theirs when `compiler/ir/ops.py` imports them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from .errors import IRError
from .types import AffineType, FixedType, FloatType, IntType, TensorType

if TYPE_CHECKING:  # annotations only: graph.py imports this module
    from .graph import Node

# attribute kinds: a validator per kind
_KINDS: dict[str, Callable[[Any], bool]] = {
    "int": lambda a: isinstance(a, int) and not isinstance(a, bool),
    "float": lambda a: isinstance(a, (int, float)) and not isinstance(a, bool),
    "bool": lambda a: isinstance(a, bool),
    "str": lambda a: isinstance(a, str),
    "str?": lambda a: a is None or isinstance(a, str),  # [tflite] optional string (fused activation)
    "ints": lambda a: isinstance(a, (list, tuple)) and all(isinstance(x, int) for x in a),
    "floats": lambda a: isinstance(a, (list, tuple)) and all(isinstance(x, (int, float)) for x in a),
    "shape": lambda a: isinstance(a, (list, tuple)) and all(x is None or isinstance(x, int) for x in a),
    "float?": lambda a: a is None or (isinstance(a, (int, float)) and not isinstance(a, bool)),
    "int?": lambda a: a is None or isinstance(a, int),
    # [tflite] AffineType: a Cast between affine types is a requantization
    "elem": lambda a: isinstance(a, (FloatType, IntType, FixedType, AffineType)),
    "fixed?": lambda a: a is None or isinstance(a, FixedType),
    "ints?": lambda a: a is None or isinstance(a, (list, tuple)) and all(isinstance(x, int) for x in a),
    "floats?": lambda a: a is None or isinstance(a, (list, tuple)) and all(isinstance(x, (int, float)) for x in a),
    "any": lambda a: True,
}

REQUIRED = object()


@dataclass
class OpSchema:
    name: str
    inputs: tuple[str, ...]  # a trailing '?' marks an optional input, a trailing '*' a variadic one
    attrs: dict[str, tuple[str, Any]] = field(default_factory=dict)  # name -> (kind, default or REQUIRED)
    infer: Callable[[Node], list[TensorType]] | None = None
    doc: str = ""

    @property
    def min_inputs(self) -> int:
        return sum(1 for i in self.inputs if not i.endswith(("?", "*")))

    @property
    def max_inputs(self) -> float:
        return math.inf if any(i.endswith("*") for i in self.inputs) else len(self.inputs)


SCHEMAS: dict[str, OpSchema] = {}


def op_schema(name, inputs, attrs=None, doc=""):
    """Decorator: register `fn(node) -> [TensorType]` as the output type inference of IR op `name`."""
    def register(fn):
        SCHEMAS[name] = OpSchema(name, tuple(inputs), dict(attrs or {}), fn, doc)
        return fn
    return register


def infer_types(node: Node) -> list[TensorType]:
    schema = SCHEMAS.get(node.op)
    if schema is None:
        raise IRError(f"node {node.name}: unknown IR op {node.op}")
    fill_defaults(node)
    return schema.infer(node)


def fill_defaults(node: Node) -> None:
    """Add defaults for missing optional attributes; raise for missing required ones or unknown names."""
    schema = SCHEMAS[node.op]
    for name, (kind, default) in schema.attrs.items():
        if name not in node.attrs:
            if default is REQUIRED:
                raise IRError(f"{node.op} node {node.name}: missing attribute {name}")
            node.attrs[name] = default
    unknown = set(node.attrs) - set(schema.attrs)
    if unknown:
        raise IRError(f"{node.op} node {node.name}: unknown attributes {sorted(unknown)}")


def check_node(node: Node) -> None:
    """Schema check: input count, attribute kinds, and output shapes equal to the inferred ones."""
    schema = SCHEMAS.get(node.op)
    if schema is None:
        raise IRError(f"node {node.name}: unknown IR op {node.op}")
    n = len(node.inputs)
    if not schema.min_inputs <= n <= schema.max_inputs:
        raise IRError(f"{node.op} node {node.name}: {n} inputs, expected {schema.min_inputs}..{schema.max_inputs}")
    for i, name in enumerate(schema.inputs):
        if not name.endswith(("?", "*")) and i < n and node.inputs[i] is None:
            raise IRError(f"{node.op} node {node.name}: required input {name} is missing")
    fill_defaults(node)
    for name, (kind, _) in schema.attrs.items():
        if not _KINDS[kind](node.attrs[name]):
            raise IRError(f"{node.op} node {node.name}: attribute {name}={node.attrs[name]!r} is not a {kind}")
    inferred = schema.infer(node)
    if len(inferred) != len(node.outputs):
        raise IRError(f"{node.op} node {node.name}: {len(node.outputs)} outputs, schema gives {len(inferred)}")
    for out, t in zip(node.outputs, inferred):
        if out.type.shape != t.shape:
            raise IRError(f"{node.op} node {node.name}: output {out.name} has shape {out.type.shape}, inferred {t.shape}")
