"""--target verilog --rtl-conv stream: Conv and pooling layers take one pixel per beat through line
buffers. `hwc verify` runs the RTL (iverilog) with random input gaps and output stalls and compares
every output bit with hwc's fixed-point simulator, checks tlast and the cycles per frame; here on random
small convs (1-D/2-D, same/valid padding, stride 1/2, kernel 1/3/5, dilation, depthwise, odd and
non-square images, pixel or collected outputs), the digits CNN, plus lint, determinism and refusals."""

from __future__ import annotations

import json
import re
import subprocess

import numpy as np
import onnx
import pytest
from onnx import helper

from conftest import HW_EXAMPLES, F, hwc, make_model, save

from .test_verilog_rtl import HOSTILE, yosys_lint


def conv_net(path, dims, size, k, stride, pad, c_in=2, c_out=3, group=1, dil=1, pool=None, head="pixels", seed=0,
             width=None, relu=True):
    """Conv (random weights and bias) [-> Relu] [-> MaxPool 2/2 | MaxPool 3/1 padded | AveragePool 2/1]
    [-> Flatten -> Gemm 4] on a size (1-D) or size x width image (width: size + 2 unless given)."""
    rng = np.random.default_rng(seed)
    spatial = [size] if dims == 1 else [size, width or size + 2]
    p = dil * (k - 1) // 2 if pad == "same" else 0
    w = rng.normal(size=(c_out, c_in // group) + (k,) * dims).astype(np.float32) / k
    b = rng.normal(size=c_out).astype(np.float32) * 0.1
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[k] * dims, strides=[stride] * dims,
                              pads=[p] * (2 * dims), dilations=[dil] * dims, group=group, name="conv"),
             helper.make_node("Relu" if relu else "Identity", ["c"], ["r"], name="relu")]
    out = [(n + 2 * p - dil * (k - 1) - 1) // stride + 1 for n in spatial]
    last = "r"
    if pool == "max":
        nodes.append(helper.make_node("MaxPool", ["r"], ["q"], kernel_shape=[2] * dims, strides=[2] * dims, name="pool"))
        out, last = [n // 2 for n in out], "q"
    elif pool == "maxpad":  # padding of a signed max pool: the type's minimum, never the maximum
        nodes.append(helper.make_node("MaxPool", ["r"], ["q"], kernel_shape=[3] * dims, strides=[1] * dims,
                                      pads=[1] * (2 * dims), name="pool"))
        last = "q"
    elif pool == "avg":
        nodes.append(helper.make_node("AveragePool", ["r"], ["q"], kernel_shape=[2] * dims, strides=[1] * dims,
                                      name="pool"))
        out, last = [n - 1 for n in out], "q"
    inits = [("w", w), ("b", b)]
    if head == "dense":
        n = c_out * int(np.prod(out))
        nodes += [helper.make_node("Flatten", [last], ["f"], name="flatten"),
                  helper.make_node("Gemm", ["f", "d", "e"], ["y"], transB=1, name="dense")]
        inits += [("d", rng.normal(size=(4, n)).astype(np.float32) / np.sqrt(n)), ("e", np.zeros(4, np.float32))]
        outputs = [("y", F, ["N", 4])]
    else:
        nodes.append(helper.make_node("Identity", [last], ["y"], name="out"))
        outputs = [("y", F, ["N", c_out] + out)]
    return save(make_model(nodes, [("x", F, ["N", c_in] + spatial)], outputs, inits), path)


def stream_verify(tmp_path, model, *options, samples=20):
    out = tmp_path / "rtl"
    r = hwc("compile", model, "--target", "verilog", "--rtl-conv", "stream", "-o", out, *options)
    assert r.returncode == 0, r.stderr
    meta = json.loads((out / "rtl.json").read_text())
    assert meta["form"] == "stream"
    v = hwc("verify", out, "--samples", samples)
    assert v.returncode == 0, v.stdout + v.stderr
    m = re.search(r"(\d+) samples, (\d+) values compared, 0 mismatches — bit-exact", v.stdout)
    assert m and int(m.group(1)) == samples, v.stdout
    period = re.search(r"latency (\d+) cycles .*, (\d+) cycles per frame back to back", v.stdout)  # checked by verify
    assert period and [int(x) for x in period.groups()] == [meta["latency"], meta["cycles_per_frame"]], v.stdout
    return out, meta, v.stdout


# (dims, size, kernel, stride, padding, extra): each fast case differs in several ways from the others
FAST = [
    (2, 7, 3, 1, "same", {"pool": "max", "head": "dense"}),
    (2, 9, 5, 2, "same", {"pool": "maxpad", "relu": False}),
    (1, 11, 3, 2, "valid", {"head": "dense"}),
    (1, 9, 5, 1, "same", {"pool": "avg"}),
    (2, 5, 1, 1, "valid", {"c_out": 2, "group": 2}),  # depthwise
    (2, 7, 3, 1, "same", {"dil": 2, "head": "dense", "c_in": 3}),
]
# every pair of values of (dims, kernel, stride, padding) at least once, odd sizes, two register levels
SLOW = [(d, s, k, st, p, {"seed": i}) for i, (d, s, k, st, p) in enumerate([
    (1, 5, 1, 1, "same"), (1, 7, 3, 2, "valid"), (1, 9, 5, 2, "same"), (1, 9, 5, 1, "valid"),
    (2, 5, 1, 2, "valid"), (2, 7, 3, 1, "valid"), (2, 9, 5, 1, "same"), (2, 7, 3, 2, "same")])]


@pytest.mark.parametrize("dims,size,k,stride,pad,extra", FAST)
def test_random_small_convs_bit_exact(tmp_path, dims, size, k, stride, pad, extra):
    model = conv_net(tmp_path / "m.onnx", dims, size, k, stride, pad, **extra)
    out, meta, _ = stream_verify(tmp_path, model, "--wbits", "4", "--abits", "6")
    assert meta["out_beats_per_frame"] == (1 if extra.get("head") == "dense" else np.prod(meta["outputs"][0]["shape"][1:]))


@pytest.mark.slow
@pytest.mark.parametrize("dims,size,k,stride,pad,extra", SLOW)
def test_random_small_convs_all_shapes_bit_exact(tmp_path, dims, size, k, stride, pad, extra):
    stream_verify(tmp_path, conv_net(tmp_path / "m.onnx", dims, size, k, stride, pad, **extra), "--wbits", "3",
                  "--abits", "5", "--rtl-stages", "2")


def test_digits_cnn_streams_bit_exact(tmp_path):
    """Conv, Relu, MaxPool, Conv (padding after the pool: emitted after the input ends), Relu, MaxPool
    streamed; Flatten + Dense unrolled on the collected image."""
    out, meta, text = stream_verify(tmp_path, HW_EXAMPLES / "digits_cnn/model.onnx", "--wbits", "3", "--abits", "5",
                                    "--calib", f"{HW_EXAMPLES}/digits_data/calib_img.npz:x", samples=30)
    assert [l["op"] for l in meta["layers"]] == ["Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Reshape", "Dense"]
    assert meta["in_beats_per_frame"] == 64 and meta["out_beats_per_frame"] == 1
    assert meta["cycles_per_frame"] == 100  # the first Conv walks the padded 10 x 10 image
    # Conv 3x3: 2 rows of the padded 10 x 1 ch x 8 bits and 6 x 8 ch x 5 bits; MaxPool 2x2: 1 row of 8 x 8 ch
    # and of 4 x 16 ch, 5 bits
    assert meta["line_buffer_bits"] == 2 * 10 * 8 + 8 * 8 * 5 + 2 * 6 * 8 * 5 + 4 * 16 * 5
    assert yosys_lint(out) == []


def test_deterministic_sanitised_lint_clean(tmp_path):
    model = conv_net(tmp_path / "m.onnx", 2, 7, 3, 2, "same", head="dense")
    m = onnx.load(model)
    for i, node in enumerate(m.graph.node):
        node.name = HOSTILE + str(i)
    onnx.save(m, model)
    outs = []
    for name in ("a", "b"):
        r = hwc("compile", model, "--target", "verilog", "--rtl-conv", "stream", "-o", tmp_path / name)
        assert r.returncode == 0, r.stderr
        outs.append({p.relative_to(tmp_path / name): p.read_bytes() for p in (tmp_path / name).rglob("*") if p.is_file()})
    assert outs[0] == outs[1]
    for v in (tmp_path / "a/rtl").glob("*.v"):
        code = "\n".join(l.split("//", 1)[0] for l in v.read_text().splitlines())  # identifiers live outside comments
        assert "evil" not in code and "endmodule //" not in code
        assert len(re.findall(r"^\s*module\b", code, re.M)) == 1
    assert yosys_lint(tmp_path / "a") == []


def test_long_rows_map_to_block_ram(tmp_path):
    """A 3x3 Conv over 96-pixel rows of 4 channels: its line buffer (2 rows x 4 channels per column)
    becomes iCE40 EBR (SB_RAM40_4K), not flip-flops."""
    model = conv_net(tmp_path / "m.onnx", 2, 3, 3, 1, "valid", c_in=4, c_out=1, width=96)
    out = tmp_path / "rtl"
    r = hwc("compile", model, "--target", "verilog", "--rtl-conv", "stream", "--wbits", "3", "-o", out)
    assert r.returncode == 0, r.stderr
    meta = json.loads((out / "rtl.json").read_text())
    assert meta["line_buffer_bits"] == 2 * 96 * 4 * meta["inputs"][0]["width"]
    srcs = " ".join(json.loads((out / "hwc.json").read_text())["options"]["sources"])
    r = subprocess.run(["yosys", "-q", "-p", f"read_verilog {srcs}; synth_ice40 -top hwc_model; tee -q -o stat.txt stat"],
                       capture_output=True, text=True, cwd=out)
    assert r.returncode == 0, r.stderr[-2000:]
    stat = (out / "stat.txt").read_text()
    ebr = re.search(r"SB_RAM40_4K\s+(\d+)", stat)
    assert ebr and int(ebr.group(1)) * 4096 >= meta["line_buffer_bits"], stat


def test_auto_streams_only_what_is_too_large_to_unroll(tmp_path):
    small = conv_net(tmp_path / "s.onnx", 2, 7, 3, 1, "same", head="dense")
    r = hwc("compile", small, "--target", "verilog", "-o", tmp_path / "s")
    assert r.returncode == 0, r.stderr
    assert "form" not in json.loads((tmp_path / "s/rtl.json").read_text())  # unrolled, as before
    big = conv_net(tmp_path / "b.onnx", 2, 61, 3, 1, "same", c_in=3, c_out=8)  # 61 x 63 x 3 -> 61 x 63 x 8
    r = hwc("compile", big, "--target", "verilog", "--wbits", "3", "-o", tmp_path / "b")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "b/rtl.json").read_text())["form"] == "stream"
    assert "--rtl-conv stream" in r.stdout


@pytest.mark.parametrize("options,message", [
    (("--rtl-conv", "stream"), "--rtl-conv stream needs one image input"),
    (("--rtl-conv", "stream", "--rtl-io", "parallel"), "AXI4-Stream ports only"),
])
def test_refusals_are_one_line(tmp_path, options, message):
    if "parallel" in options:
        model = conv_net(tmp_path / "m.onnx", 2, 5, 3, 1, "same")
    else:
        model = save(make_model([helper.make_node("Gemm", ["x", "w"], ["y"], transB=1, name="g")],
                                [("x", F, ["N", 4])], [("y", F, ["N", 2])], [("w", np.ones((2, 4), np.float32))]),
                     tmp_path / "mlp.onnx")
    r = hwc("compile", model, "--target", "verilog", "-o", tmp_path / "out", *options)
    assert r.returncode == 2
    assert r.stderr.startswith("hwc: error: ") and message in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_per_pixel_ops_between_windows_and_channels_last_input_bit_exact(tmp_path):
    """A channels-last input (its Transpose absorbed), then Conv -> LeakyRelu -> Clip -> Conv -> Sigmoid ->
    MaxPool: the per-pixel ops between two windowed layers stream too, bit for bit."""
    rng = np.random.default_rng(5)
    w1 = rng.normal(size=(3, 2, 3, 3)).astype(np.float32) / 3
    w2 = rng.normal(size=(2, 3, 3, 3)).astype(np.float32) / 3
    nodes = [helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2], name="nhwc"),
             helper.make_node("Conv", ["t", "w1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], name="conv1"),
             helper.make_node("LeakyRelu", ["c1"], ["l"], alpha=0.125, name="leaky"),
             helper.make_node("Clip", ["l", "lo", "hi"], ["k"], name="clip"),
             helper.make_node("Conv", ["k", "w2"], ["c2"], kernel_shape=[3, 3], name="conv2"),
             helper.make_node("Sigmoid", ["c2"], ["s"], name="sigmoid"),
             helper.make_node("MaxPool", ["s"], ["y"], kernel_shape=[2, 2], strides=[2, 2], name="pool")]
    inits = [("w1", w1), ("w2", w2), ("lo", np.array(-1.0, np.float32)), ("hi", np.array(1.5, np.float32))]
    model = save(make_model(nodes, [("x", F, ["N", 7, 8, 2])], [("y", F, ["N", 2, 2, 3])], inits), tmp_path / "m.onnx")
    out, meta, _ = stream_verify(tmp_path, model, "--wbits", "4", "--abits", "6")
    assert meta["in_beats_per_frame"] == 7 * 8
