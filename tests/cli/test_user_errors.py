"""A user's mistake gets one line on stderr naming the file, the node and the reason, exit code 2,
no traceback and no output file."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from conftest import F, corpus_dir, hwc, make_model, save


def assert_one_line_error(res, *needles):
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("hwc: error: ") and "Traceback" not in res.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


def relu_model():
    return make_model([helper.make_node("Relu", ["x"], ["y"], name="act")], [("x", F, [1, 4])], [("y", F, [1, 4])])


def test_missing_file(tmp_path):
    assert_one_line_error(hwc("inspect", tmp_path / "nope.onnx"), "nope.onnx", "no such file")


def test_not_onnx(tmp_path):
    p = tmp_path / "notes.onnx"
    p.write_text("this is not a protobuf\n" * 20)
    assert_one_line_error(hwc("inspect", p), "notes.onnx", "not a readable ONNX model")


def test_truncated_file(tmp_path):
    src = corpus_dir("models") / "jet_tagging_mlp_float" / "three_layer_keras.onnx"
    p = tmp_path / "cut.onnx"
    p.write_bytes(src.read_bytes()[:7000])
    assert_one_line_error(hwc("inspect", p), "cut.onnx", "not a readable ONNX model")


def test_unsupported_ops_are_all_listed(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="ok"),
             helper.make_node("Asin", ["a"], ["b"], name="asin_1"),
             helper.make_node("Sin", ["b"], ["c"], name="sin_2"),
             helper.make_node("Cos", ["x"], ["d"], name="cos_3"),
             helper.make_node("Add", ["c", "d"], ["y"], name="sum")]
    p = save(make_model(nodes, [("x", F, [1, 4])], [("y", F, [1, 4])]), tmp_path / "m.onnx")
    assert_one_line_error(hwc("inspect", p), "m.onnx", "unsupported operators (3)", "asin_1 (Asin)", "sin_2 (Sin)", "cos_3 (Cos)")


def test_missing_initializer(tmp_path):
    node = helper.make_node("MatMul", ["x", "w"], ["y"], name="fc1")
    p = save(make_model([node], [("x", F, [1, 4])], [("y", F, [1, 3])]), tmp_path / "m.onnx")
    assert_one_line_error(hwc("inspect", p), "m.onnx", "node 'fc1' (MatMul)", "'w' is not produced")


def test_cycle(tmp_path):
    nodes = [helper.make_node("Add", ["x", "b"], ["a"], name="first"), helper.make_node("Relu", ["a"], ["b"], name="second"),
             helper.make_node("Identity", ["a"], ["y"], name="out")]
    p = save(make_model(nodes, [("x", F, [1, 4])], [("y", F, [1, 4])]), tmp_path / "m.onnx")
    assert_one_line_error(hwc("inspect", p), "m.onnx", "cycle", "first", "second")


def test_wrong_input_shape(tmp_path):
    p = save(relu_model(), tmp_path / "m.onnx")
    np.save(tmp_path / "x.npy", np.zeros((3, 5), np.float32))
    out = tmp_path / "y.npy"
    assert_one_line_error(hwc("simulate", p, "--input", tmp_path / "x.npy", "-o", out), "m.onnx", "shape (3, 5)", "(N, 4)")
    assert not out.exists()


def test_wrong_number_of_inputs_and_bad_input_file(tmp_path):
    p = save(relu_model(), tmp_path / "m.onnx")
    (tmp_path / "x.npy").write_text("garbage")
    assert_one_line_error(hwc("simulate", p, "--input", tmp_path / "x.npy"), "x.npy", "not a readable .npy")
    np.save(tmp_path / "ok.npy", np.zeros((2, 4), np.float32))
    assert_one_line_error(hwc("simulate", p, "--input", tmp_path / "ok.npy", "--input", tmp_path / "ok.npy"), "1 input(s)")


def test_simulate_writes_npy_and_batches(tmp_path):
    p = save(relu_model(), tmp_path / "m.onnx")
    x = np.random.default_rng(0).standard_normal((7, 4)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    res = hwc("simulate", p, "--input", tmp_path / "x.npy", "-o", tmp_path / "y.npy")
    assert res.returncode == 0, res.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), np.maximum(x, 0))


def test_simulate_npz_in_and_out(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["y1"]), helper.make_node("Sigmoid", ["x"], ["y2"])]
    p = save(make_model(nodes, [("x", F, ["N", 4])], [("y1", F, ["N", 4]), ("y2", F, ["N", 4])]), tmp_path / "m.onnx")
    x = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)
    np.savez(tmp_path / "in.npz", x=x)
    assert_one_line_error(hwc("simulate", p, "--input", tmp_path / "in.npz", "-o", tmp_path / "o.npy"), "give an .npz path")
    res = hwc("simulate", p, "--input", tmp_path / "in.npz", "-o", tmp_path / "o.npz")
    assert res.returncode == 0, res.stderr
    out = np.load(tmp_path / "o.npz")
    assert sorted(out.files) == ["y1", "y2"]
    np.testing.assert_array_equal(out["y1"], np.maximum(x, 0))
