"""Issue #11: each mistake that used to end in a traceback (or was silently accepted) is one exact line
on stderr, exit 2, nothing written. The CLI runs in this process (`main(argv)` with capsys), so the
whole module takes a few seconds; tests/fuzz covers the same classes with random mutations."""

from __future__ import annotations

import math
import shutil
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from hwc.compiler.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))  # the fuzz suite's seed models
from seeds import cnn, mlp, qonnx_mlp  # noqa: E402


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(capsys, *argv) -> str:
    code, out, err = run(capsys, *argv)
    lines = err.splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("hwc: error: "), (code, err)
    return lines[0]


def _model(kind: str):
    rng = np.random.default_rng(0)
    return {"mlp": mlp, "cnn": cnn, "qmlp": qonnx_mlp}[kind](rng)


def _init(m, name):
    return next(i for i in m.graph.initializer if i.name == name)


def _set(m, name, arr):
    _init(m, name).CopyFrom(numpy_helper.from_array(np.asarray(arr), name))


def _drop_w1(m):
    m.graph.initializer.remove(_init(m, "w1"))


def _two_producers(m):
    m.graph.node[1].output[0] = "h"


def _output_twice(m):
    m.graph.output.append(m.graph.output[0])


def _no_outputs(m):
    del m.graph.output[:]


def _negative_dim(m):
    m.graph.input[0].type.tensor_type.shape.dim[1].dim_value = -4


def _symbolic_dim(m):
    m.graph.input[0].type.tensor_type.shape.dim[2].dim_param = "H"


def _bn_epsilon(m):
    next(a for a in m.graph.node[1].attribute if a.name == "epsilon").f = -1e-3


def _bn_missing(m):
    del m.graph.node[1].input[4]


def _bool_init(m):
    _set(m, "w1", numpy_helper.to_array(_init(m, "w1")) > 0)


def _string_init(m):
    _set(m, "b1", np.array(["a"] * 8, dtype=object))


def _nan_weight(m):
    w = numpy_helper.to_array(_init(m, "w2")).copy()
    w[1, 2] = math.nan
    _set(m, "w2", w)


def _alpha_inf(m):
    next(a for a in m.graph.node[2].attribute if a.name == "alpha").f = math.inf


def _bits_bad(m):
    _set(m, "b_w", np.float32(100))


def _newline_name(m):
    m.graph.node[0].name = "fc\n1"
    m.graph.initializer.remove(_init(m, "w1"))


CASES = {  # id -> (seed, mutation, the error line after "hwc: error: PATH: ")
    "missing weight": ("mlp", _drop_w1,
                       "node 'fc1' (Gemm): input 'w1' is not produced by any node, initializer or graph input"),
    "two producers": ("mlp", _two_producers, "node 'relu1' (Relu): tensor 'h' is written twice (also by node 'fc1')"),
    "output twice": ("mlp", _output_twice, "graph output 'y' is listed twice"),
    "no outputs": ("mlp", _no_outputs, "the graph has no outputs"),
    "negative dim": ("mlp", _negative_dim, "'x' has a negative dimension (-4)"),
    "symbolic dim": ("cnn", _symbolic_dim, "input 'x' has a dynamic dimension other than the batch: ['N', 1, 'N', 8]"),
    "bn epsilon": ("cnn", _bn_epsilon, "node 'bn' (BatchNormalization): epsilon must be >= 0, got -0.0010000000474974513"),
    "bn missing": ("cnn", _bn_missing, "node 'bn' (BatchNormalization): required input 4 (var) is missing"),
    "bool weights": ("mlp", _bool_init, "initializer 'w1' has element type bool: weights and parameters must be numbers"),
    "string weights": ("mlp", _string_init, "initializer 'b1' has element type object: weights and parameters must be numbers"),
    "nan weight": ("mlp", _nan_weight, "initializer 'w2' holds NaN or infinite values"),
    "alpha inf": ("cnn", _alpha_inf, "node 'act' (LeakyRelu): attribute 'alpha' is inf (NaN or infinite)"),
    "bits nan": ("qmlp", lambda m: _set(m, "b_w", np.float32(math.nan)), "initializer 'b_w' holds NaN or infinite values"),
    "bits 100": ("qmlp", _bits_bad, "node 'q_w1' (Quant): Quant bitwidth must be an integer in 1..64, got 100.0"),
    "newline name": ("mlp", _newline_name,
                     "node 'fc\\n1' (Gemm): input 'w1' is not produced by any node, initializer or graph input"),
}


@pytest.mark.parametrize("command", ["inspect", "compile"])
@pytest.mark.parametrize("case", list(CASES))
def test_bad_model_is_one_line(case, command, tmp_path, capsys):
    seed, mutate, reason = CASES[case]
    m = _model(seed)
    mutate(m)
    path = tmp_path / "m.onnx"
    onnx.save(m, str(path))
    argv = ["inspect", path] if command == "inspect" else ["compile", path, "-o", tmp_path / "out"]
    assert one_line(capsys, *argv) == f"hwc: error: {path}: {reason}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


@pytest.fixture
def mlp_files(tmp_path):
    onnx.save(_model("mlp"), str(tmp_path / "m.onnx"))
    np.save(tmp_path / "x.npy", np.zeros((2, 4), np.float32))
    (tmp_path / "afile").write_text("x")
    return tmp_path


@pytest.mark.parametrize("command,out,reason", [
    ("compile", "afile/out", "cannot write here: {d}/afile is not a directory"),
    ("compile", "/proc/hwc_out", "cannot write in /proc (No such file or directory)"),
    ("compile", "/sys/hwc_out", "cannot write in /sys (Operation not permitted)"),
    ("compile", "no/such/out", "parent directory does not exist"),
    ("simulate", "no/such/y.npy", "parent directory does not exist"),
    ("simulate", "/proc/y.npy", "cannot write in /proc (No such file or directory)"),
    ("simulate", "afile/y.npy", "cannot write here: {d}/afile is not a directory"),
])
def test_output_place(command, out, reason, mlp_files, capsys):
    d = mlp_files
    out = out if out.startswith("/") else f"{d}/{out}"
    argv = (["compile", d / "m.onnx", "-o", out, "--force"] if command == "compile" else
            ["simulate", d / "m.onnx", "--input", d / "x.npy", "-o", out])
    line = one_line(capsys, *argv)
    if out.startswith("/sys") and "Permission denied" in line:  # not root: EACCES instead of EPERM
        reason = "cannot write in /sys (Permission denied)"
    assert line == f"hwc: error: {out}: {reason.format(d=d)}"
    assert sorted(p.name for p in d.iterdir()) == ["afile", "m.onnx", "x.npy"]


def test_nan_in_calib_and_inputs(mlp_files, capsys):
    d = mlp_files
    x = np.zeros((8, 4), np.float32)
    x[3, 1] = np.nan
    np.save(d / "bad.npy", x)
    assert one_line(capsys, "compile", d / "m.onnx", "-o", d / "out", "--calib", d / "bad.npy") == (
        f"hwc: error: {d}/bad.npy: calibration data holds NaN or Inf")
    assert one_line(capsys, "simulate", d / "m.onnx", "--input", d / "bad.npy") == (
        f"hwc: error: {d}/m.onnx: input 'x' holds NaN or infinite values (first at index (3, 1))")


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    d = tmp_path_factory.mktemp("compiled")
    onnx.save(_model("mlp"), str(d / "m.onnx"))
    np.save(d / "x.npy", np.zeros((2, 4), np.float32))
    assert main(["compile", str(d / "m.onnx"), "--target", "openvino", "-o", str(d / "ov")]) == 0
    return d


def _truncate(f):
    f.write_bytes(f.read_bytes()[:40])


def _empty(f):
    f.write_bytes(b"")


def _delete(f):
    f.unlink()


def _directory(f):
    f.unlink()
    f.mkdir()


def _swap(f):
    other = f.with_name("weights.npz" if f.name == "model.json" else "model.json")
    f.write_bytes(other.read_bytes())


DAMAGE = {  # (file, damage) -> reason
    ("model.json", _truncate): "model.json is not valid JSON (line 4: Unterminated string starting at)",
    ("model.json", _empty): "model.json is not valid JSON (line 1: Expecting value)",
    ("model.json", _delete): "not a compiled model: model.json is missing or not a file",
    ("model.json", _directory): "not a compiled model: model.json is missing or not a file",
    ("model.json", _swap): "model.json is not a text file",
    ("weights.npz", _truncate): "weights.npz is not a readable .npz archive (BadZipFile)",
    ("weights.npz", _empty): "weights.npz is not a readable .npz archive (EOFError)",
    ("weights.npz", _delete): "not a compiled model: weights.npz is missing or not a file",
    ("weights.npz", _swap): "weights.npz is not a readable .npz archive (ValueError)",
}


@pytest.mark.parametrize("command", ["inspect", "simulate", "verify"])
@pytest.mark.parametrize("damage", list(DAMAGE), ids=lambda k: f"{k[0]}-{k[1].__name__[1:]}")
def test_damaged_compiled_directory(damage, command, compiled, tmp_path, capsys):
    d = tmp_path / "ov"
    shutil.copytree(compiled / "ov", d)
    name, hurt = damage
    hurt(d / name)
    argv = {"inspect": ["inspect", d], "simulate": ["simulate", d, "--input", compiled / "x.npy"],
            "verify": ["verify", d, "--samples", "3"]}[command]
    assert one_line(capsys, *argv) == f"hwc: error: {d}: {DAMAGE[damage]}"


def test_edited_or_mistyped_weights_are_refused(compiled, tmp_path, capsys):
    import json

    from hwc.compiler.ir.serialize import checksum

    d = tmp_path / "ov"
    shutil.copytree(compiled / "ov", d)
    with np.load(d / "weights.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays["fc1_weight_q"] = arrays["fc1_weight_q"].astype(np.float64) + 0.5
    np.savez(d / "weights.npz", **arrays)
    assert one_line(capsys, "inspect", d) == (
        f"hwc: error: {d}: model.json or weights.npz changed after `hwc compile` wrote them (checksum mismatch): "
        "compile again")
    doc = json.loads((d / "model.json").read_text())  # the same damage with a matching checksum
    doc["checksum"] = checksum(doc, (d / "weights.npz").read_bytes())
    (d / "model.json").write_text(json.dumps(doc))
    t = doc["constants"]["fc1_weight_q"]["elem"]["fixed"]
    assert one_line(capsys, "inspect", d) == (
        f"hwc: error: {d}: weights.npz: 'fc1_weight_q' must hold integers for fixed<{t[0]},{t[1]},{t[3]},{t[4]}>, "
        "got float64")
