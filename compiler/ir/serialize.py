"""A compiled model on disk: `model.json` (the typed IR, deterministic) and `weights.npz` (constants).

Types and attributes are stored as plain JSON; constants by value name in the npz. Loading rebuilds
the graph through the normal Graph methods and verifies it.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from .graph import Graph, Value
from .types import AffineType, FixedType, FloatType, IntType, Overflow, Rounding, TensorType

FORMAT = "hwc-ir"
VERSION = 1


def elem_to_json(t) -> dict:
    if isinstance(t, FixedType):
        return {"fixed": [t.width, t.int_bits, t.signed, t.rounding.value, t.overflow.value]}
    if isinstance(t, FloatType):
        return {"float": t.bits}
    if isinstance(t, IntType):
        return {"int": [t.bits, t.signed]}
    if isinstance(t, AffineType):
        return {"affine": {"storage": elem_to_json(t.storage), "scale": list(t.scale), "zero_point": list(t.zero_point),
                           "axis": t.axis}}
    raise TypeError(f"cannot serialise element type {t!r}")


def elem_from_json(d: dict):
    if "fixed" in d:
        w, i, s, r, o = d["fixed"]
        return FixedType(w, i, s, Rounding(r), Overflow(o))
    if "float" in d:
        return FloatType(d["float"])
    if "int" in d:
        return IntType(*d["int"])
    if "affine" in d:
        a = d["affine"]
        return AffineType(elem_from_json(a["storage"]), tuple(a["scale"]), tuple(a["zero_point"]), a["axis"])
    raise ValueError(f"unknown element type {d}")


def _type_to_json(t: TensorType) -> dict:
    return {"elem": elem_to_json(t.elem), "shape": list(t.shape)}


def _type_from_json(d: dict) -> TensorType:
    return TensorType(elem_from_json(d["elem"]), tuple(d["shape"]))


def _attr_to_json(a):
    if isinstance(a, (FixedType, FloatType, IntType, AffineType)):
        return {"$elem": elem_to_json(a)}
    if isinstance(a, (list, tuple)):
        return [_attr_to_json(x) for x in a]
    if isinstance(a, (np.integer,)):
        return int(a)
    if isinstance(a, (np.floating,)):
        return float(a)
    return a


def _attr_from_json(a):
    if isinstance(a, dict) and "$elem" in a:
        return elem_from_json(a["$elem"])
    if isinstance(a, list):
        return [_attr_from_json(x) for x in a]
    return a


def graph_to_json(graph: Graph) -> tuple[dict, dict[str, np.ndarray]]:
    consts: dict[str, np.ndarray] = {}
    const_types: dict[str, dict] = {}

    def ref(v: Value | None):
        if v is None:
            return None
        if v.const is not None and v.name not in consts:
            if v.const.dtype == object:
                raise TypeError(f"constant {v.name} does not fit in 64 bits")
            consts[v.name] = v.const
            const_types[v.name] = _type_to_json(v.type)
        return v.name

    nodes = []
    for n in graph.toposort():
        nodes.append({"op": n.op, "name": n.name, "inputs": [ref(v) for v in n.inputs],
                      "outputs": [{"name": o.name, "type": _type_to_json(o.type)} for o in n.outputs],
                      "attrs": {k: _attr_to_json(v) for k, v in sorted(n.attrs.items())}})
    doc = {
        "format": FORMAT, "version": VERSION, "name": graph.name,
        "metadata": {k: v for k, v in sorted(graph.metadata.items()) if _jsonable(v)},
        "inputs": [{"name": v.name, "type": _type_to_json(v.type)} for v in graph.inputs],
        "outputs": [ref(v) for v in graph.outputs],
        "constants": dict(sorted(const_types.items())),
        "nodes": nodes,
    }
    return doc, consts


def _jsonable(v) -> bool:
    try:
        json.dumps(v)
        return True
    except TypeError:
        return False


def save_graph(graph: Graph, directory) -> list[Path]:
    """Write model.json and weights.npz into `directory` (which must exist); returns the paths."""
    d = Path(directory)
    doc, consts = graph_to_json(graph)
    weights = _deterministic_npz(consts)
    doc["checksum"] = checksum(doc, weights)
    (d / "model.json").write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")
    (d / "weights.npz").write_bytes(weights)
    return [d / "model.json", d / "weights.npz"]


def checksum(doc: dict, weights: bytes) -> str:
    """sha256 over the canonical JSON of the document (without its checksum) and the weights' bytes:
    a compiled directory changed after `hwc compile` wrote it is refused, not simulated."""
    import hashlib

    body = {k: v for k, v in doc.items() if k != "checksum"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode() + weights).hexdigest()


def _deterministic_npz(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz whose bytes depend only on the arrays (fixed zip timestamps and order)."""
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as z:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, member.getvalue())
    return buf.getvalue()


def load_graph(directory) -> Graph:
    """The graph of a compiled directory, checked: both files readable and of the right kind, every
    constant present with the shape and storage its type declares (integer mantissas within the type's
    range, finite floats), the graph verified. Any defect is one HwcError naming the directory; this is
    the one load path of `inspect`, `simulate` and `verify`."""
    import zipfile

    from ..errors import HwcError
    from .graph import IRError

    d = Path(directory)
    for name in ("model.json", "weights.npz"):
        if not (d / name).is_file():
            raise HwcError(f"not a compiled model: {name} is missing or not a file", str(d))
    try:
        return _load(d)
    except HwcError as e:
        raise e.at(path=str(d)) from None
    except json.JSONDecodeError as e:
        raise HwcError(f"model.json is not valid JSON (line {e.lineno}: {e.msg})", str(d)) from None
    except (zipfile.BadZipFile, EOFError) as e:
        raise HwcError(f"weights.npz is not a readable .npz archive ({type(e).__name__})", str(d)) from None
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, IRError) as e:
        raise HwcError(f"not a readable compiled model ({type(e).__name__}: {e})", str(d)) from None


def _check_constant(name: str, arr: np.ndarray, t: TensorType) -> None:
    from ..errors import HwcError

    if tuple(arr.shape) != tuple(t.shape):
        raise HwcError(f"weights.npz: '{name}' has shape {arr.shape}, model.json says {tuple(t.shape)}")
    e = t.elem
    if isinstance(e, FloatType):
        if arr.dtype.kind != "f" or not np.isfinite(arr).all():
            raise HwcError(f"weights.npz: '{name}' must hold finite floats, got {arr.dtype}"
                           + (" with NaN/Inf" if arr.dtype.kind == "f" else ""))
        return
    if arr.dtype.kind not in "iub":
        raise HwcError(f"weights.npz: '{name}' must hold integers for {e}, got {arr.dtype}")
    lo, hi = ((e.min_mantissa, e.max_mantissa) if isinstance(e, FixedType) else
              (e.min, e.max) if isinstance(e, IntType) else (None, None))
    if lo is not None and arr.size and (int(arr.min()) < lo or int(arr.max()) > hi):
        raise HwcError(f"weights.npz: '{name}' holds values outside {e}")


def _load(d: Path) -> Graph:
    from ..errors import HwcError

    import zipfile

    try:
        doc = json.loads((d / "model.json").read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise HwcError("model.json is not a text file") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise HwcError(f"model.json is not an {FORMAT} v{VERSION} file")
    try:
        with np.load(d / "weights.npz", allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as e:
        raise HwcError(f"weights.npz is not a readable .npz archive ({type(e).__name__})") from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise HwcError("weights.npz is not an .npz archive")
    if doc.get("checksum") != checksum(doc, (d / "weights.npz").read_bytes()):
        raise HwcError("model.json or weights.npz changed after `hwc compile` wrote them (checksum mismatch): "
                       "compile again")
    g = Graph(doc["name"])
    g.metadata.update(doc["metadata"])
    values: dict[str, Value] = {}
    for i in doc["inputs"]:
        values[i["name"]] = g.add_input(i["name"], _type_from_json(i["type"]))
    for name, t in doc["constants"].items():
        tt = _type_from_json(t)
        if name not in arrays:
            raise HwcError(f"weights.npz has no array '{name}'")
        _check_constant(name, arrays[name], tt)
        values[name] = g.constant(arrays[name], name, elem=tt.elem)
    for n in doc["nodes"]:
        ins = [values[x] if x is not None else None for x in n["inputs"]]
        node = g.add_node(n["op"], ins, {k: _attr_from_json(v) for k, v in n["attrs"].items()}, name=n["name"],
                          output_names=[o["name"] for o in n["outputs"]],
                          output_types=[_type_from_json(o["type"]) for o in n["outputs"]])
        if node.name != n["name"]:
            raise ValueError(f"duplicate node name {n['name']}")
        for o, spec in zip(node.outputs, n["outputs"]):
            if o.name != spec["name"]:
                raise ValueError(f"duplicate value name {spec['name']}")
            values[o.name] = o
    g.set_outputs([values[x] for x in doc["outputs"]])
    if not g.outputs:
        raise HwcError("model.json: the graph has no outputs")
    g.verify()
    return g
