"""Mutation families of the fuzz suite. Each family draws (with hypothesis) one mutated input and the
command line to run on it, written into a fresh work directory, and returns a Case: the argv, whether
the input is invalid by construction (so exit 0 would be a silently accepted mistake), and the paths a
successful run may create.

  byte      bytes of a model file: truncation, flips, insertions, zeroed or appended runs
  protobuf  one structural edit of the ModelProto (missing/duplicated tensors, dims, dtypes, NaN/Inf,
            attributes, opsets, op types, BatchNormalization parameters, QONNX bit widths)
  name      node/value/graph names: newlines, control characters, unicode, very long, path-like
  option    command-line options and option files (calibration data, --config YAML) for every command
  outpath   -o under files, /proc, /sys, missing or existing places, for compile and simulate
  corrupt   a compiled directory with model.json, weights.npz or hwc.json damaged, for inspect,
            simulate and verify
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from seeds import Seed


@dataclass
class Case:
    argv: list[str]
    invalid: bool = False
    outputs: tuple[str, ...] = ()
    what: str = ""
    timeout: int = 120


@dataclass
class Ctx:
    work: Path
    seeds: list[Seed]
    dirs: dict[str, Path] = field(default_factory=dict)


def _inputs_args(seed: Seed) -> list[str]:
    out = []
    for x in seed.inputs:
        out += ["--input", str(x)]
    return out


def _command(data, seed: Seed, model: Path) -> Case:
    """A command on a (mutated) model file: inspect, simulate, compile --target sim or config."""
    cmd = data.draw(st.sampled_from(["inspect", "simulate", "compile", "compile", "config", "inspect-json"]))
    if cmd == "inspect":
        return Case(["inspect", str(model)])
    if cmd == "inspect-json":
        return Case(["inspect", str(model), "--json"])
    if cmd == "simulate":
        return Case(["simulate", str(model), *_inputs_args(seed)])
    if cmd == "config":
        return Case(["config", str(model)])
    return Case(["compile", str(model), "-o", "out", "--wbits", "4"], outputs=("out",))


# ---- byte ---------------------------------------------------------------------------------------

def byte(data, ctx: Ctx) -> Case:
    seed = data.draw(st.sampled_from(ctx.seeds), label="seed")
    raw = bytearray(seed.model.read_bytes())
    kind = data.draw(st.sampled_from(["truncate", "flip", "insert", "zero", "append", "empty"]), label="kind")
    n = len(raw)
    if kind == "truncate":
        raw = raw[:data.draw(st.integers(0, n - 1))]
    elif kind == "flip":
        for _ in range(data.draw(st.integers(1, 8))):
            k = data.draw(st.integers(0, n - 1))
            raw[k] ^= data.draw(st.integers(1, 255))
    elif kind == "insert":
        k = data.draw(st.integers(0, n))
        raw[k:k] = data.draw(st.binary(min_size=1, max_size=16))
    elif kind == "zero":
        k = data.draw(st.integers(0, n - 1))
        raw[k:k + data.draw(st.integers(1, 64))] = bytes(min(64, n - k))
    elif kind == "append":
        raw += data.draw(st.binary(min_size=1, max_size=64))
    else:
        raw = bytearray()
    path = ctx.work / "m.onnx"
    path.write_bytes(bytes(raw))
    case = _command(data, seed, path)
    case.what = f"{seed.name}: {kind}"
    return case


# ---- protobuf -----------------------------------------------------------------------------------

BAD_FLOATS = [math.nan, math.inf, -math.inf]


def _float_inits(m):
    return [i for i in m.graph.initializer if i.data_type == TensorProto.FLOAT and numpy_helper.to_array(i).size > 1]


def _set_init(m, init, arr):
    init.CopyFrom(numpy_helper.from_array(np.asarray(arr), init.name))


def _dims(m):
    """(value_info, dim index) of every fixed dimension of the graph inputs and outputs."""
    inits = {i.name for i in m.graph.initializer}
    out = []
    for vi in list(m.graph.input) + list(m.graph.output):
        if vi.name in inits:
            continue
        for k, _ in enumerate(vi.type.tensor_type.shape.dim):
            out.append((vi, k))
    return out


def protobuf(data, ctx: Ctx) -> Case:
    seed = data.draw(st.sampled_from(ctx.seeds), label="seed")
    m = onnx.load(str(seed.model))
    nodes = list(m.graph.node)
    kinds = ["drop_initializer", "two_producers", "output_twice", "no_outputs", "negative_dim", "zero_dim",
             "symbolic_dim", "huge_dim", "nan_weight", "string_init", "bool_init", "nan_attr", "drop_attr",
             "opset", "op_type", "drop_node", "drop_input", "swap_inputs", "init_shape", "elem_type",
             "drop_output_node", "bn_epsilon", "bn_missing", "quant_bits"]
    kind = data.draw(st.sampled_from(kinds), label="kind")
    invalid = False
    floats = _float_inits(m)
    if kind == "drop_initializer" and floats:
        victim = data.draw(st.sampled_from(floats))
        m.graph.initializer.remove(victim)
        invalid = not any(vi.name == victim.name for vi in m.graph.input)
    elif kind == "two_producers" and len(nodes) >= 2:
        a, b = data.draw(st.lists(st.integers(0, len(nodes) - 1), min_size=2, max_size=2, unique=True))
        nodes[b].output[0] = nodes[a].output[0]
        invalid = True
    elif kind == "output_twice":
        m.graph.output.append(m.graph.output[0])
        invalid = True
    elif kind == "no_outputs":
        del m.graph.output[:]
        invalid = True
    elif kind in ("negative_dim", "zero_dim", "huge_dim", "symbolic_dim") and _dims(m):
        vi, k = data.draw(st.sampled_from(_dims(m)))
        d = vi.type.tensor_type.shape.dim[k]
        if kind == "negative_dim":
            d.dim_value = data.draw(st.integers(-10**6, -1))
            invalid = True
        elif kind == "zero_dim":
            d.dim_value = 0
        elif kind == "huge_dim":
            d.dim_value = data.draw(st.sampled_from([10**5, 10**9, 2**40]))
        else:
            d.dim_param = data.draw(st.sampled_from(["H", "W", "batch", "N"]))
            invalid = k > 0 and vi.name in {i.name for i in m.graph.input}  # a declared output shape is only a hint
    elif kind == "nan_weight" and floats:
        init = data.draw(st.sampled_from(floats))
        arr = numpy_helper.to_array(init).copy()
        arr.reshape(-1)[data.draw(st.integers(0, arr.size - 1))] = data.draw(st.sampled_from(BAD_FLOATS))
        _set_init(m, init, arr)
        invalid = True
    elif kind in ("string_init", "bool_init") and floats:
        init = data.draw(st.sampled_from(floats))
        arr = numpy_helper.to_array(init)
        new = arr.astype(str).astype(object) if kind == "string_init" else arr > 0
        _set_init(m, init, new)
        invalid = True
    elif kind == "nan_attr":
        cands = [(n, a) for n in nodes for a in n.attribute if a.type == onnx.AttributeProto.FLOAT]
        if cands:
            n, a = data.draw(st.sampled_from(cands))
            a.f = data.draw(st.sampled_from(BAD_FLOATS))
            invalid = True
    elif kind == "drop_attr":
        cands = [(n, a) for n in nodes for a in n.attribute]
        if cands:
            n, a = data.draw(st.sampled_from(cands))
            n.attribute.remove(a)
    elif kind == "opset":
        m.opset_import[0].version = data.draw(st.sampled_from([1, 5, 7, 11, 13, 17, 21, 22, 23, 99]))
    elif kind == "op_type":
        n = data.draw(st.sampled_from(nodes))
        n.op_type = data.draw(st.sampled_from(["Relu", "Sigmoid", "Conv", "Gemm", "MatMul", "Add", "Softmax",
                                                "Tanh", "Reshape", "Transpose", "Frobnicate", "", "Quant"]))
    elif kind == "drop_node" and len(nodes) > 1:
        m.graph.node.remove(data.draw(st.sampled_from(nodes)))
    elif kind == "drop_input":
        n = data.draw(st.sampled_from(nodes))
        if len(n.input):
            del n.input[data.draw(st.integers(0, len(n.input) - 1))]
    elif kind == "swap_inputs":
        n = data.draw(st.sampled_from(nodes))
        if len(n.input) >= 2:
            n.input[0], n.input[1] = n.input[1], n.input[0]
    elif kind == "init_shape" and floats:
        init = data.draw(st.sampled_from(floats))
        arr = numpy_helper.to_array(init).reshape(-1)
        cut = data.draw(st.integers(1, arr.size))
        _set_init(m, init, arr[:cut])
    elif kind == "elem_type":
        vi = data.draw(st.sampled_from(list(m.graph.input) + list(m.graph.output)))
        vi.type.tensor_type.elem_type = data.draw(st.sampled_from([TensorProto.STRING, TensorProto.BOOL,
                                                                   TensorProto.INT64, TensorProto.FLOAT16,
                                                                   TensorProto.DOUBLE, 0, 999]))
    elif kind == "drop_output_node":
        producers = [n for n in nodes if m.graph.output and m.graph.output[0].name in n.output]
        if producers:
            m.graph.node.remove(producers[0])
            invalid = True
    elif kind in ("bn_epsilon", "bn_missing"):
        bns = [n for n in nodes if n.op_type == "BatchNormalization"]
        if bns:
            bn = bns[0]
            if kind == "bn_epsilon":
                for a in bn.attribute:
                    if a.name == "epsilon":
                        a.f = data.draw(st.sampled_from([-1e-3, -1.0, math.nan]))
            else:
                k = data.draw(st.integers(1, 4))
                if data.draw(st.booleans()):
                    bn.input[k] = ""
                else:
                    del bn.input[k:]
            invalid = True
    elif kind == "quant_bits":
        bits = [i for i in m.graph.initializer if i.name.startswith("b_") or "bit" in i.name.lower()]
        quants = [n for n in nodes if n.op_type == "Quant"]
        if bits:
            init = data.draw(st.sampled_from(bits))
            _set_init(m, init, np.float32(data.draw(st.sampled_from([math.nan, math.inf, -3.0, 0.0, 2.5, 1e9]))))
            invalid = True
        elif quants:
            q = data.draw(st.sampled_from(quants))
            name = q.input[3]
            for i in m.graph.initializer:
                if i.name == name:
                    _set_init(m, i, np.float32(data.draw(st.sampled_from([math.nan, math.inf, -3.0, 0.0]))))
                    invalid = True
    path = ctx.work / "m.onnx"
    onnx.save(m, str(path))
    case = _command(data, seed, path)
    case.invalid = invalid
    case.what = f"{seed.name}: {kind}"
    return case


# ---- name ---------------------------------------------------------------------------------------

NAMES = ["a\nb", "\n", "x\r\ny", "tab\there", "", " ", "é∂漢字", "x" * 3000, "../../etc/passwd", "a/b\\c",
         "%s%d{0}", "'\"`$(rm)", "con", "\x1b[31mred", "nul\x00l", "Σ→∞", "-o", "--force"]


def name(data, ctx: Ctx) -> Case:
    seed = data.draw(st.sampled_from(ctx.seeds), label="seed")
    m = onnx.load(str(seed.model))
    new = data.draw(st.sampled_from(NAMES), label="name")
    target = data.draw(st.sampled_from(["node", "value", "graph", "input", "output", "initializer"]), label="of")
    if target == "node":
        n = data.draw(st.sampled_from(list(m.graph.node)))
        n.name = new
    elif target == "graph":
        m.graph.name = new
    else:
        if target == "input":
            inits = {i.name for i in m.graph.initializer}
            old = next(vi.name for vi in m.graph.input if vi.name not in inits)
        elif target == "output":
            old = m.graph.output[0].name
        elif target == "initializer" and len(m.graph.initializer):
            old = data.draw(st.sampled_from([i.name for i in m.graph.initializer]))
        else:
            old = data.draw(st.sampled_from([o for n in m.graph.node for o in n.output]))
        for n in m.graph.node:
            for k, x in enumerate(n.input):
                if x == old:
                    n.input[k] = new
            for k, x in enumerate(n.output):
                if x == old:
                    n.output[k] = new
        for coll in (m.graph.input, m.graph.output, m.graph.initializer, m.graph.value_info):
            for vi in coll:
                if vi.name == old:
                    vi.name = new
    path = ctx.work / "m.onnx"
    try:
        onnx.save(m, str(path))
    except Exception:  # protobuf refuses some strings (invalid UTF-8 surrogates): write the bytes we have
        path.write_bytes(seed.model.read_bytes())
    case = _command(data, seed, path)
    case.what = f"{seed.name}: {target} named {new[:20]!r}"
    return case


# ---- option -------------------------------------------------------------------------------------

INT_VALUES = ["-1", "0", "1", "2", "3", "4", "8", "16", "32", "33", "100", "abc", "", "4.5", "nan", "1e3"]


def _option_files(data, ctx: Ctx, seed: Seed) -> tuple[dict[str, str], bool]:
    """Calibration and --config files, valid or not; returns their paths and whether they are invalid."""
    files = {}
    invalid = False
    kind = data.draw(st.sampled_from(["good", "nan", "inf", "shape", "missing", "text", "int"]), label="calib")
    calib = ctx.work / "calib.npy"
    if seed.calib is not None and kind != "missing":
        x = np.load(seed.calib)
        if kind in ("nan", "inf"):
            x = x.copy()
            x.reshape(-1)[data.draw(st.integers(0, x.size - 1))] = math.nan if kind == "nan" else math.inf
            invalid = True
        elif kind == "shape":
            x = x.reshape(x.shape[0], -1)[:, :-1] if x.ndim == 2 else x[..., :-1]
            invalid = True
        elif kind == "int":
            x = (x * 10).astype(np.int64)
        if kind == "text":
            calib.write_text("not an array\n")
            invalid = True
        else:
            np.save(calib, x)
    else:
        invalid = kind == "missing"
    files["calib"] = str(calib)
    ykind = data.draw(st.sampled_from(["good", "list", "types", "garbage", "empty", "unknown"]), label="yaml")
    y = ctx.work / "cfg.yaml"
    y.write_text({"good": "layers: {}\n", "list": "- a\n- b\n", "types": "layers:\n  fc1:\n    signed: maybe\n",
                  "garbage": "{{{: :\n", "empty": "", "unknown": "layers:\n  nosuch:\n    output: {width: 8}\n"}[ykind])
    files["config"] = str(y)
    files["yaml_invalid"] = ykind in ("list", "types", "garbage")
    files["kinds"] = f"calib {kind}, yaml {ykind}"
    return files, invalid


def option(data, ctx: Ctx) -> Case:
    seed = data.draw(st.sampled_from([s for s in ctx.seeds if s.name in ("mlp", "cnn", "qmlp")]), label="seed")
    cmd = data.draw(st.sampled_from(["compile", "compile", "compile", "config", "simulate", "verify", "inspect"]))
    if cmd == "inspect":
        argv = ["inspect", str(seed.model)] + data.draw(st.sampled_from([[], ["--json"], ["--ir"], ["--bogus"]]))
        return Case(argv, what="inspect options")
    if cmd == "simulate":
        extra = data.draw(st.sampled_from([[], ["--labels", "nosuch.npy"], ["--input", str(seed.inputs[0])],
                                           ["--output", "o.npy"], ["--output", "o.txt"]]))
        return Case(["simulate", str(seed.model), *_inputs_args(seed), *extra], outputs=("o.npy",),
                    what=f"simulate {extra}")
    if cmd == "verify":
        d = ctx.dirs["openvino"]
        extra = data.draw(st.sampled_from([["--samples", "0"], ["--samples", "-5"], ["--samples", "abc"],
                                           ["--samples", "3"], ["--resolver", "nope"], ["--input", "nosuch.npy"],
                                           ["--input", str(seed.inputs[0])]]))
        return Case(["verify", str(d), *extra], what=f"verify {extra}")
    files, bad_calib = _option_files(data, ctx, seed)
    argv = [cmd, str(seed.model)]
    invalid = False
    opts = {}
    for opt, values in (("--wbits", INT_VALUES), ("--abits", INT_VALUES), ("--input-bits", INT_VALUES),
                        ("--output-bits", INT_VALUES), ("--accum-bits", INT_VALUES),
                        ("--input-range", ["-1,1", "0,1", "1,-1", "nan,1", "-inf,inf", "1", "a,b", "0,0"]),
                        ("--rounding", ["RND", "TRN", "RND_CONV", "SAT", "x"]),
                        ("--overflow", ["SAT", "WRAP", "SAT_SYM", "RND"])):
        if data.draw(st.integers(0, 3)) == 0:
            opts[opt] = data.draw(st.sampled_from(values), label=opt)
    for k, v in opts.items():
        argv.append(f"{k}={v}")
    if opts.get("--input-range") in ("1,-1", "nan,1", "-inf,inf", "1", "a,b", "0,0"):
        invalid = True
    for opt in ("--wbits", "--abits", "--input-bits", "--output-bits", "--accum-bits"):
        v = opts.get(opt)
        if v is not None and (v in ("abc", "", "4.5", "nan", "1e3", "-1", "0")
                              or (opt == "--output-bits" and v in ("100",))
                              or (opt == "--input-bits" and v in ("100",))
                              or (opt == "--wbits" and v in ("9", "16", "32", "33", "100"))
                              or (opt == "--abits" and v in ("1", "33", "100"))
                              or (opt == "--accum-bits" and v == "1")):
            invalid = True
    if opts.get("--rounding") == "SAT" or opts.get("--rounding") == "x" or opts.get("--overflow") == "RND":
        invalid = True
    if data.draw(st.booleans(), label="use calib"):
        argv += ["--calib", files["calib"]]
        invalid |= bad_calib
    if data.draw(st.integers(0, 3)) == 0:
        argv += ["--config", files["config"]]
        invalid |= files["yaml_invalid"]
    outputs = ()
    if cmd == "compile":
        target = data.draw(st.sampled_from(["sim", "sim", "sim", "tflite", "openvino", "xilinx", "fpga"]))
        argv += ["--target", target, "-o", "out"]
        invalid |= target == "fpga"
        outputs = ("out",)
        if data.draw(st.integers(0, 2)) == 0:
            prune = data.draw(st.sampled_from(["0.5", "1.5", "-0.1", "1", "nan", "0"]))
            argv += ["--prune", prune]
            invalid |= prune in ("1.5", "-0.1", "1", "nan")
        if data.draw(st.integers(0, 3)) == 0:
            flag = data.draw(st.sampled_from([["--refit"], ["--finetune", "1"], ["--prune-criterion", "activation"],
                                              ["--prune-criterion", "reconstruction"], ["--finetune", "-1"]]))
            argv += flag
            if "--calib" not in argv and flag != ["--finetune", "-1"]:
                invalid = True
            if flag[0] == "--finetune" and "--prune" not in argv:
                invalid = True
            if flag == ["--finetune", "-1"]:
                invalid = True
    return Case(argv, invalid=invalid, outputs=outputs, what=f"{' '.join(argv[2:])[:140]} ({files['kinds']})")


# ---- output path --------------------------------------------------------------------------------

def outpath(data, ctx: Ctx) -> Case:
    seed = next(s for s in ctx.seeds if s.name == "mlp")
    (ctx.work / "afile").write_text("x")
    (ctx.work / "adir").mkdir()
    (ctx.work / "adir" / "keep").write_text("x")
    places = {"under_file": ("afile/out", True), "proc": ("/proc/hwc_fuzz_out", True),
              "sys": ("/sys/hwc_fuzz_out", True), "proc_self": ("/proc/self/hwc_out", True),
              "missing_parent": ("no/such/dir/out", True), "existing_file": ("afile", True),
              "existing_dir": ("adir", True), "dev_null": ("/dev/null", True), "empty": ("", True),
              "newline": ("a\nb", False), "dot": (".", True), "fresh": ("fresh_out", False)}
    key = data.draw(st.sampled_from(sorted(places)), label="place")
    path, invalid = places[key]
    cmd = data.draw(st.sampled_from(["compile", "simulate"]), label="cmd")
    if cmd == "compile":
        force = data.draw(st.booleans(), label="force")
        argv = ["compile", str(seed.model), "-o", path] + (["--force"] if force else [])
        if key == "existing_dir" and force:
            invalid = False  # replacing a directory the user named, with --force, is what it is for
        return Case(argv, invalid=invalid, outputs=(path,), what=f"compile -o {key}{' --force' if force else ''}")
    suffix = data.draw(st.sampled_from([".npy", ".npz", ".txt", ""]), label="suffix")
    p = path + suffix if key not in ("existing_file", "existing_dir", "dot", "dev_null", "empty") else path
    invalid = invalid or suffix in (".txt", "") or key in ("existing_dir", "dot")
    if key == "existing_file":
        invalid = True
    return Case(["simulate", str(seed.model), *_inputs_args(seed), "-o", p], invalid=invalid,
                outputs=(p,), what=f"simulate -o {key}{suffix}")


# ---- corrupted directory ------------------------------------------------------------------------

def _json_mutation(data, doc):
    """One structural change somewhere in a JSON document."""
    def paths(x, pre=()):
        yield pre
        if isinstance(x, dict):
            for k, v in x.items():
                yield from paths(v, pre + (k,))
        elif isinstance(x, list):
            for k, v in enumerate(x):
                yield from paths(v, pre + (k,))
    ps = [p for p in paths(doc) if p]
    p = data.draw(st.sampled_from(ps))
    parent = doc
    for k in p[:-1]:
        parent = parent[k]
    how = data.draw(st.sampled_from(["delete", "null", "string", "number", "list", "negative", "nan"]))
    if how == "delete":
        del parent[p[-1]]
    else:
        parent[p[-1]] = {"null": None, "string": "zz", "number": 7, "list": [], "negative": -3,
                         "nan": float("nan")}[how]
    return doc, f"{'/'.join(map(str, p))} {how}"


def corrupt(data, ctx: Ctx) -> Case:
    which = data.draw(st.sampled_from(["sim", "openvino"]), label="dir")
    d = ctx.work / "dir"
    shutil.copytree(ctx.dirs[which], d)
    victim = data.draw(st.sampled_from(["model.json", "weights.npz"] + (["hwc.json"] if which == "openvino" else [])),
                       label="file")
    f = d / victim
    how = data.draw(st.sampled_from(["truncate", "empty", "delete", "directory", "garbage", "flip", "json",
                                     "wrong_kind", "npz_array"]), label="how")
    detail = how
    raw = f.read_bytes()
    if how == "truncate":  # cut inside the content (dropping only the final newline leaves a valid file)
        f.write_bytes(raw[:data.draw(st.integers(0, len(raw.rstrip()) - 1))])
    elif how == "empty":
        f.write_bytes(b"")
    elif how == "delete":
        f.unlink()
    elif how == "directory":
        f.unlink()
        f.mkdir()
    elif how == "garbage":
        f.write_bytes(data.draw(st.binary(min_size=1, max_size=200)))
    elif how == "flip":
        b = bytearray(raw)
        for _ in range(data.draw(st.integers(1, 4))):
            b[data.draw(st.integers(0, len(b) - 1))] ^= data.draw(st.integers(1, 255))
        f.write_bytes(bytes(b))
    elif how == "json" and victim.endswith(".json"):
        doc, detail = _json_mutation(data, json.loads(raw))
        f.write_text(json.dumps(doc))
    elif how == "wrong_kind":
        f.write_bytes((d / ("weights.npz" if victim.endswith(".json") else "model.json")).read_bytes()
                      if (d / ("weights.npz" if victim.endswith(".json") else "model.json")).exists() else b"[]")
    elif how == "npz_array" and victim == "weights.npz":
        with np.load(f) as z:
            arrays = {k: z[k] for k in z.files}
        k = data.draw(st.sampled_from(sorted(arrays)))
        change = data.draw(st.sampled_from(["shape", "dtype", "nan", "drop", "huge"]))
        if change == "shape":
            arrays[k] = arrays[k].reshape(-1)[:-1] if arrays[k].size > 1 else np.zeros(3, arrays[k].dtype)
        elif change == "dtype":
            arrays[k] = arrays[k].astype(np.float64) + 0.5
        elif change == "nan":
            arrays[k] = np.full(arrays[k].shape, np.nan)
        elif change == "drop":
            del arrays[k]
        else:
            arrays[k] = np.full(arrays[k].shape, 2**62, np.int64)
        np.savez(f, **arrays)
        detail = f"{k} {change}"
    cmd = data.draw(st.sampled_from(["inspect", "simulate", "verify"] if which == "openvino" else
                                    ["inspect", "inspect-ir", "simulate"]), label="cmd")
    seed = next(s for s in ctx.seeds if s.name == ("mlp" if which == "openvino" else "cnn"))
    if cmd == "inspect":
        argv = ["inspect", str(d)]
    elif cmd == "inspect-ir":
        argv = ["inspect", str(d), "--ir"]
    elif cmd == "simulate":
        argv = ["simulate", str(d), *_inputs_args(seed)]
    else:
        argv = ["verify", str(d), "--samples", "5"]
    reads = victim != "hwc.json" or cmd == "verify"
    broken = how in ("truncate", "empty", "delete", "directory", "garbage", "wrong_kind")
    return Case(argv, invalid=reads and broken, what=f"{which}/{victim}: {detail} -> {cmd}")


FAMILIES = {"byte": byte, "protobuf": protobuf, "name": name, "option": option, "outpath": outpath,
            "corrupt": corrupt}
