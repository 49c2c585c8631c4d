"""Read an ONNX file into the graph IR.

The loader checks the file, runs onnx shape inference as a consistency check, decides which graph
inputs carry the batch, then converts node by node through the handlers of `onnx_ops` and
`onnx_quant` (one function per ONNX op). ONNX nodes whose inputs are all constants and that are not
quantizers are evaluated at import with onnx's reference evaluator, so shape sub-graphs
(Shape → Gather → Concat → Reshape) fold to constants. Every problem is a `HwcError` naming file,
node and reason; unsupported ops are reported all at once.

Batch rule: a graph input's first axis is the batch when it is symbolic, or when the model has
exactly one non-scalar input whose first axis is 1 (a model exported with a batch of 1). Shape
computations see the batch as 1 (the export batch), and Reshape keeps a leading 1 as the batch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from ..errors import HwcError
from ..ir.graph import Graph, IRError, Value, stable_toposort
from ..ir.types import TensorType, elem_from_numpy

QONNX_DOMAINS = ("qonnx.custom_op.general", "finn.custom_op.general", "onnx.brevitas", "finn", "qonnx")
QONNX_OPS = ("Quant", "IntQuant", "BipolarQuant", "Trunc")
QUANTIZER_OPS = QONNX_OPS + ("QuantizeLinear", "DequantizeLinear")
MIN_OPSET, MAX_OPSET = 6, 22


class NeedsConstant(Exception):
    """A handler needs the value of a graph input as a constant (node tests feed parameters as inputs)."""

    def __init__(self, input_name: str):
        self.input_name = input_name


@dataclass
class Ctx:
    """What a handler sees: the graph being built, the opset, the ONNX node, and helpers."""

    graph: Graph
    opset: int
    path: str
    node: onnx.NodeProto | None = None
    bindable: dict[str, Value] = field(default_factory=dict)  # graph inputs that may be bound to constants

    @property
    def name(self) -> str:
        return self.node.name or (self.node.output[0] if self.node.output else self.node.op_type)

    def fail(self, reason: str) -> HwcError:
        return HwcError(reason, self.path, self.name, self.node.op_type if self.node else None)

    def emit(self, op: str, inputs, **attrs) -> Value:
        """Add one IR node for the current ONNX node and return its (single) output."""
        try:
            n = self.graph.add_node(op, inputs, attrs, name=self.name)
        except IRError as e:
            raise self.fail(str(e)) from None
        return n.output

    def const(self, v: Value | None) -> np.ndarray | None:
        return None if v is None else v.const

    def need_const(self, v: Value | None, what: str) -> np.ndarray | None:
        """The constant array behind `v`; a graph input is bound on a second pass if the caller has its data."""
        if v is None:
            return None
        if v.const is not None:
            return v.const
        if v.name in self.bindable and self.bindable[v.name] is v:
            raise NeedsConstant(v.name)
        raise self.fail(f"{what} must be a constant, but it is computed at run time ({v.name})")

    def constant(self, array, name: str | None = None) -> Value:
        return self.graph.constant(np.asarray(array), name or f"{self.name}_c")


def read_model(path) -> onnx.ModelProto:
    """Load and sanity-check an ONNX file; every failure is a one-line HwcError."""
    path = str(path)
    if not os.path.exists(path):
        raise HwcError("no such file", path)
    if os.path.isdir(path):
        raise HwcError("is a directory, expected an .onnx file", path)
    try:
        model = onnx.load(path, load_external_data=False)
    except Exception as e:  # protobuf gives DecodeError, truncation gives various
        raise HwcError(f"not a readable ONNX model ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'parse failed'})", path) from None
    if not model.graph.node and not model.graph.output:
        raise HwcError("not an ONNX model (no graph)", path)
    if not model.graph.output:
        raise HwcError("the graph has no outputs", path)
    _check_names(model, path)
    names = [o.name for o in model.graph.output]
    twice = next((n for n in names if names.count(n) > 1), None)
    if twice is not None:
        raise HwcError(f"graph output '{twice}' is listed twice", path)
    for init in model.graph.initializer:
        if init.data_location == onnx.TensorProto.EXTERNAL:
            base = os.path.dirname(path)
            try:
                onnx.external_data_helper.load_external_data_for_model(model, base)
            except Exception as e:
                raise HwcError(f"cannot read external data: {e}", path) from None
            break
    return model


def _check_names(model: onnx.ModelProto, path: str) -> None:
    """Every name is text: protobuf hands invalid UTF-8 in a string field back as bytes."""
    g = model.graph
    named = [("graph", g.name)] + [("node", n.name) for n in g.node] + \
        [("tensor", x) for n in g.node for x in list(n.input) + list(n.output)] + \
        [("tensor", v.name) for v in list(g.input) + list(g.output) + list(g.initializer) + list(g.value_info)] + \
        [("operator", n.op_type) for n in g.node] + [("domain", n.domain) for n in g.node]
    for kind, name in named:
        if not isinstance(name, str):
            raise HwcError(f"a {kind} name is not valid UTF-8 text ({bytes(name)[:40]!r})", path)


def _default_opset(model: onnx.ModelProto, path: str) -> int:
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            if not MIN_OPSET <= imp.version <= MAX_OPSET:
                raise HwcError(f"opset {imp.version} is not supported (supported: {MIN_OPSET}..{MAX_OPSET})", path)
            return imp.version
    raise HwcError("model has no opset_import for the default ONNX domain", path)


def _shape_check(model: onnx.ModelProto, path: str) -> None:
    """Run onnx shape inference as a consistency check (custom QONNX ops are skipped by it)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    domains = {imp.domain for imp in m.opset_import}
    for n in m.graph.node:
        if n.domain not in domains:  # files from older FINN lack the opset_import of their custom domain
            m.opset_import.append(onnx.helper.make_opsetid(n.domain, 1))
            domains.add(n.domain)
    try:
        onnx.shape_inference.infer_shapes(m, check_type=False, strict_mode=True)
    except onnx.shape_inference.InferenceError as e:
        msg = str(e).strip().splitlines()
        text = msg[0] if msg else "shape inference failed"
        if "Cannot find" in text or "No Op registered" in text or "not a registered" in text:
            return  # custom-domain ops: not an inconsistency
        raise HwcError(f"shape inference failed: {text}", path) from None
    except Exception:
        return  # onnx raises other errors for custom domains; the conversion reports real problems


def _value_info_shape(vi: onnx.ValueInfoProto, path: str = "") -> tuple[list, np.dtype]:
    tt = vi.type.tensor_type
    dims = []
    for d in tt.shape.dim:
        if d.HasField("dim_value") and d.dim_value < 0:
            raise HwcError(f"'{vi.name}' has a negative dimension ({d.dim_value})", path)
        dims.append(d.dim_value if d.HasField("dim_value") else None)
    try:
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type) if tt.elem_type else np.dtype(np.float32)
    except Exception:
        raise HwcError(f"'{vi.name}' has an unknown element type ({tt.elem_type})", path) from None
    return dims, dtype


def batch_inputs(model: onnx.ModelProto) -> set[str]:
    """Names of the graph inputs whose first axis is the batch (see the module docstring)."""
    inits = {i.name for i in model.graph.initializer}
    real = [vi for vi in model.graph.input if vi.name not in inits]
    shapes = {vi.name: _value_info_shape(vi)[0] for vi in real}
    symbolic = {n for n, s in shapes.items() if s and s[0] is None and len(s) >= 2}
    if symbolic:
        return symbolic
    ones = [n for n, s in shapes.items() if len(s) >= 2 and s[0] == 1]
    big = [n for n, s in shapes.items() if len(s) >= 2]
    return set(ones) if len(ones) == 1 and len(big) == 1 else set()


def node_order(model: onnx.ModelProto, path: str) -> list[int]:
    """Node indices in a topological order (files should already be sorted); a cycle is an error."""
    nodes = list(model.graph.node)
    producer: dict[str, int] = {}
    given = {i.name for i in model.graph.initializer} | {i.name for i in model.graph.input}
    for k, n in enumerate(nodes):
        for o in n.output:
            if not o:
                continue
            if o in producer or o in given:
                first = (f"node '{nodes[producer[o]].name or nodes[producer[o]].output[0]}'" if o in producer
                         else "an initializer or graph input")
                raise HwcError(f"tensor '{o}' is written twice (also by {first})", path, n.name or o, n.op_type)
            producer[o] = k
    edges = [(producer[i], k) for k, n in enumerate(nodes) for i in n.input if i in producer]
    order = stable_toposort(len(nodes), edges)
    if order is None:
        import networkx as nx  # only to name the cycle in the error

        g = nx.DiGraph()
        g.add_nodes_from(range(len(nodes)))
        g.add_edges_from(edges)
        cycle = nx.find_cycle(g)
        names = [nodes[a].name or nodes[a].output[0] for a, _ in cycle]
        raise HwcError(f"the graph has a cycle: {' -> '.join(names + names[:1])}", path, names[0],
                       nodes[cycle[0][0]].op_type) from None
    return order


def _attrs(ctx: Ctx, node: onnx.NodeProto) -> dict:
    """The node's attributes as Python values; a name that is not an identifier or a NaN/Inf number is an error."""
    out = {}
    for a in node.attribute:
        if not isinstance(a.name, str) or not a.name.isidentifier():
            raise ctx.fail(f"attribute name {a.name!r} is not valid")
        try:
            v = onnx.helper.get_attribute_value(a)
        except Exception as e:  # a damaged AttributeProto (no value of its declared type)
            raise ctx.fail(f"attribute '{a.name}' cannot be read ({type(e).__name__})") from None
        if a.type in (onnx.AttributeProto.FLOAT, onnx.AttributeProto.FLOATS) and not np.isfinite(v).all():
            raise ctx.fail(f"attribute '{a.name}' is {v} (NaN or infinite)")
        if isinstance(v, bytes):
            try:
                v = v.decode()
            except UnicodeDecodeError:
                raise ctx.fail(f"attribute '{a.name}' is not valid UTF-8 text") from None
        elif isinstance(v, onnx.TensorProto):
            v = _tensor(v, f"attribute '{a.name}'", ctx.path, ctx.name)
        elif isinstance(v, list) and v and isinstance(v[0], bytes):
            try:
                v = [x.decode() for x in v]
            except UnicodeDecodeError:
                raise ctx.fail(f"attribute '{a.name}' is not valid UTF-8 text") from None
        out[a.name] = v
    return out


def _reference_eval(node: onnx.NodeProto, inputs: list[np.ndarray | None], opset: int, domain_opsets) -> list[np.ndarray]:
    """Evaluate one ONNX node on constant inputs with onnx's reference evaluator."""
    from onnx.reference import ReferenceEvaluator

    names = [f"i{k}" if x is not None else "" for k, x in enumerate(inputs)]
    n = onnx.NodeProto()
    n.CopyFrom(node)
    del n.input[:]
    n.input.extend(names)
    graph = onnx.helper.make_graph(
        [n], "fold",
        [onnx.helper.make_tensor_value_info(nm, onnx.helper.np_dtype_to_tensor_dtype(x.dtype), x.shape)
         for nm, x in zip(names, inputs) if x is not None],
        [onnx.helper.make_tensor_value_info(o, onnx.TensorProto.UNDEFINED, None) for o in node.output if o])
    m = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", opset)] + domain_opsets)
    feeds = {nm: x for nm, x in zip(names, inputs) if x is not None}
    return ReferenceEvaluator(m).run(None, feeds)


def load_onnx(path, bind: dict[str, np.ndarray] | None = None) -> Graph:
    """Convert the ONNX file at `path` into a verified IR graph.

    `bind` gives data for graph inputs; an input is turned into a constant only when a handler needs
    it constant (ONNX node tests pass Reshape shapes, pads or scales as graph inputs).
    """
    model = read_model(path)
    return convert_model(model, str(path), bind or {})


def convert_model(model: onnx.ModelProto, path: str, bind: dict[str, np.ndarray]) -> Graph:
    opset = _default_opset(model, path)
    for vi in list(model.graph.input) + list(model.graph.output) + list(model.graph.value_info):
        _value_info_shape(vi, path)  # negative dimensions
    order = node_order(model, path)
    if order != list(range(len(order))):
        sorted_model = onnx.ModelProto()
        sorted_model.CopyFrom(model)
        del sorted_model.graph.node[:]
        sorted_model.graph.node.extend(model.graph.node[k] for k in order)
        model = sorted_model
    _shape_check(model, path)
    bound: dict[str, np.ndarray] = {}
    while True:
        try:
            return _convert(model, path, opset, bound, set(bind))
        except NeedsConstant as e:
            if e.input_name in bound or e.input_name not in bind:
                raise HwcError(f"graph input '{e.input_name}' is used as a constant parameter; give its value with --input", path) from None
            bound[e.input_name] = np.asarray(bind[e.input_name])


def _convert(model: onnx.ModelProto, path: str, opset: int, bound: dict[str, np.ndarray], bindable_names: set[str]) -> Graph:
    from .onnx_ops import HANDLERS as FLOAT_HANDLERS
    from .onnx_quant import HANDLERS as QUANT_HANDLERS

    g = Graph(model.graph.name or Path(path).stem)
    g.metadata.update(source=os.path.basename(path), opset=opset, producer=model.producer_name)
    env: dict[str, Value] = {}
    ctx = Ctx(g, opset, path)
    domain_opsets = [imp for imp in model.opset_import if imp.domain not in ("", "ai.onnx")]

    for init in model.graph.initializer:
        if not init.name:
            raise HwcError("an initializer has an empty name (an empty name means an absent input)", path)
        env[init.name] = g.constant(_tensor(init, f"initializer '{init.name}'", path), init.name)

    batched = batch_inputs(model)
    for vi in model.graph.input:
        if vi.name in env:
            continue  # IR < 4 lists initializers among the inputs
        if vi.name in bound:
            env[vi.name] = g.constant(bound[vi.name], vi.name)
            continue
        dims, dtype = _value_info_shape(vi)
        if not vi.name:
            raise HwcError("a graph input has an empty name", path)
        if vi.name in batched:
            dims[0] = None
            if None in dims[1:]:
                raise HwcError(f"input '{vi.name}' has a dynamic dimension other than the batch: "
                               f"{['N' if d is None else d for d in dims]}", path)
        elif None in dims:
            raise HwcError(f"input '{vi.name}' has a dynamic dimension other than the batch: {dims}", path)
        try:
            elem = elem_from_numpy(dtype)
        except TypeError as e:
            raise HwcError(f"input '{vi.name}': {e}", path) from None
        v = g.add_input(vi.name, TensorType(elem, tuple(dims)))
        env[vi.name] = v
        if vi.name in bindable_names:
            ctx.bindable[vi.name] = v

    consumed = {i for n in model.graph.node for i in n.input} | {o.name for o in model.graph.output}
    unsupported: list[str] = []
    named = {id(v) for v in env.values()}  # values that already carry an ONNX name
    poisoned: set[str] = set()  # outputs of unsupported nodes: their consumers are not reported again
    for node in model.graph.node:
        ctx.node = node
        op = node.op_type
        is_qonnx = op in QONNX_OPS and (node.domain in QONNX_DOMAINS or node.domain == "")
        handler = None
        if node.domain in ("", "ai.onnx") or is_qonnx:
            handler = QUANT_HANDLERS.get(op) if is_qonnx or op in QUANT_HANDLERS else FLOAT_HANDLERS.get(op)
        if any(i in poisoned for i in node.input):
            if handler is None:
                unsupported.append(_describe(ctx.name, node))
            poisoned.update(node.output)
            continue
        missing = [i for i in node.input if i and i not in env]
        if missing:
            raise ctx.fail(f"input '{missing[0]}' is not produced by any node, initializer or graph input")
        inputs = [env[i] if i else None for i in node.input]
        if _all_const(inputs) and op not in QUANTIZER_OPS and op != "Constant" and not is_qonnx \
                and node.domain in ("", "ai.onnx"):
            try:
                results = _reference_eval(node, [v.const if v else None for v in inputs], opset, domain_opsets)
            except Exception as e:
                raise ctx.fail(f"cannot evaluate on constants: {str(e).strip().splitlines()[0]}") from None
            for name, arr in zip(node.output, results):
                if np.asarray(arr).dtype.kind == "f" and not np.isfinite(arr).all():
                    raise ctx.fail("evaluates to NaN or infinite values on its constant inputs")
                if name:
                    env[name] = g.constant(np.asarray(arr), name)
            continue
        if handler is None:
            unsupported.append(_describe(ctx.name, node))
            poisoned.update(node.output)
            continue
        _check_required(ctx, handler, inputs)
        try:
            outs = handler(ctx, *inputs, **_attrs(ctx, node))
        except TypeError as e:
            if "unexpected keyword argument" in str(e) or "positional argument" in str(e):
                raise ctx.fail(f"unsupported attribute or input ({str(e).split('(')[0].strip()}: {str(e).rsplit(' ', 1)[-1]})") from None
            raise
        except IRError as e:
            raise ctx.fail(str(e)) from None
        if not isinstance(outs, (tuple, list)):
            outs = (outs,)
        for k, name in enumerate(node.output):
            if not name:
                continue
            if k >= len(outs) or outs[k] is None:
                if name in consumed:
                    raise ctx.fail(f"output {k} ('{name}') is not supported")
                continue
            v = outs[k]
            if v.producer is not None and v.producer.name.startswith(ctx.name) and v.name != name and id(v) not in named:
                g.rename(v, name)  # IR values keep their ONNX names where they correspond one to one
            env[name] = v
            named.add(id(v))
    if unsupported:
        raise HwcError(f"unsupported operators ({len(unsupported)}): " + ", ".join(unsupported), path)

    outputs = []
    for vi in model.graph.output:
        if vi.name not in env:
            raise HwcError(f"graph output '{vi.name}' is not produced by any node", path)
        outputs.append(env[vi.name])
    g.set_outputs(outputs)
    g.metadata["output_names"] = [vi.name for vi in model.graph.output]
    g.metadata["input_names"] = [v.name for v in g.inputs]
    g.sort()
    try:
        g.verify()
    except IRError as e:
        raise HwcError(f"internal: imported graph does not verify: {e}", path) from None
    return g


def _tensor(t: onnx.TensorProto, what: str, path: str, node: str | None = None) -> np.ndarray:
    """A TensorProto as an array of numbers: readable, numeric (no strings, booleans as weights), finite."""
    try:
        arr = numpy_helper.to_array(t)
    except Exception as e:
        raise HwcError(f"{what} cannot be read ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})",
                       path, node) from None
    if arr.dtype.kind not in "iuf":
        raise HwcError(f"{what} has element type {arr.dtype}: weights and parameters must be numbers", path, node)
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise HwcError(f"{what} holds NaN or infinite values", path, node)
    return arr


def _check_required(ctx: Ctx, handler, inputs) -> None:
    """Each input the handler requires (a positional parameter without default) is present."""
    import inspect

    params = [p for p in inspect.signature(handler).parameters.values()][1:]
    for k, p in enumerate(params):
        if p.kind is not p.POSITIONAL_OR_KEYWORD:
            break
        if p.default is p.empty and (k >= len(inputs) or inputs[k] is None):
            raise ctx.fail(f"required input {k} ({p.name}) is missing")


def _all_const(inputs) -> bool:
    """True when every given input is a constant (a node with no inputs, e.g. ConstantOfShape of nothing, counts)."""
    return all(v.const is not None for v in inputs if v is not None)


def _describe(name: str, node: onnx.NodeProto) -> str:
    return f"{name} ({node.op_type if node.domain in ('', 'ai.onnx') else node.domain + '.' + node.op_type})"
