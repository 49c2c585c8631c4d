"""The HLS cost model moves the right way under controlled changes, for both vendors (examples)."""

import numpy as np
import pytest

from hwc.backends.hls_project import Project
from hwc.backends.hls_vendor import XILINX
from hwc.compiler.cost.fit import device_fit
from hwc.compiler.cost.hls import HlsCost
from hwc.compiler.ir.serialize import load_graph

from conftest import HW_EXAMPLES

MLP = HW_EXAMPLES / "digits_mlp" / "model.onnx"
CNN = HW_EXAMPLES / "digits_cnn" / "model.onnx"
CALIB = f"{HW_EXAMPLES / 'digits_data' / 'calib.npz'}:x"
CALIB_IMG = f"{HW_EXAMPLES / 'digits_data' / 'calib_img.npz'}:x"
VENDORS = ["xilinx", "intel"]


@pytest.mark.parametrize("target", VENDORS)
def test_fewer_weight_bits_fewer_luts(figures_of, target):
    f8, _ = figures_of(MLP, target, "--wbits", "8", "--calib", CALIB)
    f4, _ = figures_of(MLP, target, "--wbits", "4", "--calib", CALIB)
    assert f4.value("lut") < f8.value("lut")
    assert f4.value("dsp") <= f8.value("dsp")
    for l4, l8 in zip(f4.layers, f8.layers):
        if l4.op == "Dense":
            assert l4.value("lut") < l8.value("lut"), l4.node


@pytest.mark.parametrize("target", VENDORS)
def test_wide_weights_use_dsps(figures_of, tmp_path, target):
    """16-bit weights pass the fabric rule (narrower operand >= 10 bits): DSPs, and fewer with a larger reuse."""
    cfg = tmp_path / "wide.yaml"
    cfg.write_text("layers:\n  Dense:\n    weight: {width: 16, int_bits: 2}\n")
    base = ("--calib", CALIB, "--config", str(cfg), "--strategy", "resource")
    f1, _ = figures_of(MLP, target, *base, "--reuse", "1")
    f8, _ = figures_of(MLP, target, *base, "--reuse", "8")
    f64, _ = figures_of(MLP, target, *base, "--reuse", "64")
    assert 0 < f64.value("dsp") < f8.value("dsp") < f1.value("dsp")
    assert f1.value("multipliers") > f8.value("multipliers") > f64.value("multipliers")
    assert f1.value("latency") < f8.value("latency") < f64.value("latency")
    assert f1.value("ii") == 1 and f8.value("ii") == 8 and f64.value("ii") == 64
    # weights move from LUT ROMs (8 words deep) to block RAM (64 words deep)
    assert f8.value("bram") == 0 < f64.value("bram")
    dense = f1.layers[0]
    g = load_graph(figures_of.last.parent / "out1")  # the reuse-1 project
    nnz = int(np.count_nonzero(next(n for n in g.nodes if n.name == dense.node).inputs[1].const))
    # one 16x16 product per nonzero weight: a DSP48E2, or half an Intel block (two 18x19 per block)
    assert dense.op == "Dense" and dense.value("multipliers") == nnz
    assert dense.value("dsp") == (-(-nnz // 2) if target == "intel" else nnz)


@pytest.mark.parametrize("target", VENDORS)
def test_pruning_removes_multipliers(figures_of, target):
    full, _ = figures_of(MLP, target, "--wbits", "4", "--calib", CALIB)
    half, _ = figures_of(MLP, target, "--wbits", "4", "--calib", CALIB, "--prune", "0.5")
    g = load_graph(figures_of.last)
    nonzero = {n.name: int(np.count_nonzero(n.inputs[1].const)) for n in g.nodes if n.op == "Dense"}
    assert {l.node: l.value("multipliers") for l in half.layers if l.op == "Dense"} == nonzero
    assert sum(nonzero.values()) <= 3392 // 2  # half of the 3,392 weights pruned, more quantized to zero
    assert half.value("multipliers") < full.value("multipliers")
    assert half.value("lut") < full.value("lut")


@pytest.mark.parametrize("target", VENDORS)
def test_stream_uses_block_ram_parallel_registers(figures_of, target):
    par, _ = figures_of(CNN, target, "--wbits", "4", "--calib", CALIB_IMG)
    stm, _ = figures_of(CNN, target, "--wbits", "4", "--calib", CALIB_IMG, "--io", "stream")
    assert par.value("bram") == 0 < stm.value("bram")
    assert stm.value("ff") < par.value("ff") / 2
    # the same multipliers either way (one window's hardware, reused over the pixels)
    assert stm.value("multipliers") == par.value("multipliers")


def test_latency_scales_with_clock(figures_of):
    """A longer clock period packs more adder levels per stage: fewer cycles, and ns = cycles x period."""
    fast, _ = figures_of(MLP, "xilinx", "--wbits", "4", "--calib", CALIB, "--clock", "2.5")
    slow, _ = figures_of(MLP, "xilinx", "--wbits", "4", "--calib", CALIB, "--clock", "10")
    assert slow.value("latency") < fast.value("latency")
    assert fast.value("latency_ns") == fast.value("latency") * 2.5
    assert slow.value("latency_ns") == slow.value("latency") * 10


def test_fit_warns_when_the_part_is_too_small(figures_of):
    figs, out = figures_of(CNN, "xilinx", "--wbits", "4", "--calib", CALIB_IMG, "--part", "xc7z020clg400-1")
    lut = figs.value("lut")
    assert figs.device["capacity"]["lut"] == 53200
    assert figs.device["utilisation"]["lut"] == round(100 * lut / 53200, 2)
    assert f"LUT {lut:,}/53,200" in out
    assert ("warning: LUT" in out) == (lut > 53200)
    small, out = figures_of(MLP, "xilinx", "--wbits", "4", "--calib", CALIB, "--part", "iCE40UP5K")
    assert small.device["utilisation"]["lut"] > 100
    assert "warning: LUT" in out and "exceed the 5,280 of iCE40UP5K" in out


def test_unknown_part_is_a_note_not_a_guess(figures_of):
    figs, out = figures_of(MLP, "xilinx", "--wbits", "4", "--calib", CALIB, "--part", "xcfoo123")
    assert figs.device is None
    assert "no capacities for part 'xcfoo123'" in out


JET = HW_EXAMPLES / "jet_mlp" / "model.onnx"


@pytest.mark.parametrize("pct", [80, 30])
def test_reuse_auto_picks_the_smallest_reuse_that_fits(figures_of, pct):
    import json

    from hwc.compiler.cost.fit import _candidates

    figs, out = figures_of(JET, "xilinx", "--strategy", "resource", "--reuse", "auto", "--part", "xc7z020",
                           "--utilisation", str(pct), "--input-range=-3,3")
    chosen = json.loads((figures_of.last / "hwc.json").read_text())["options"]["layer_reuse"]
    assert set(chosen) == {l.node for l in figs.layers if l.op == "Dense"}
    assert figs.device["utilisation"]["lut"] <= pct
    assert "--reuse auto (fit" in out and "warning" not in out
    for l in figs.layers:
        if l.op == "Dense":
            assert l.value("ii") == chosen[l.node]
    # every layer one candidate smaller: the design no longer fits (LUTs are the binding resource here)
    g = load_graph(figures_of.last)
    nnz = {n.name: int(np.count_nonzero(n.inputs[1].const)) for n in g.nodes if n.op == "Dense"}
    smaller = {k: max([c for c in _candidates(nnz[k]) if c < r] or [1]) for k, r in chosen.items()}
    assert smaller != chosen
    bigger = HlsCost(Project(g, XILINX, "parallel", "resource", 1, smaller), "xc7z020", 5.0).figures("xilinx")
    device_fit(bigger, "xc7z020")
    assert bigger.device["utilisation"]["lut"] > pct


def test_reuse_auto_needs_a_known_part(tmp_path, capsys):
    from hwc.compiler.cli import main

    code = main(["compile", str(JET), "--target", "xilinx", "--strategy", "resource", "--reuse", "auto",
                 "--part", "xcfoo", "-o", str(tmp_path / "o")])
    assert code == 2 and not (tmp_path / "o").exists()
    assert "--reuse auto needs a --part whose capacities hwc knows" in capsys.readouterr().err


def test_inspect_shows_the_figures_and_refuses_broken_ones(figures_of, capsys):
    import json

    from hwc.compiler.cli import main

    figs, _ = figures_of(MLP, "intel", "--wbits", "4", "--calib", CALIB)
    out = figures_of.last
    assert main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"LUT {figs.value('lut'):,}/487,200 ALM ({figs.device['utilisation']['lut']:.1f} %)" in text
    manifest = out / "hwc.json"
    doc = json.loads(manifest.read_text())
    doc["figures"]["schema"] = "something-else/9"
    manifest.write_text(json.dumps(doc))
    assert main(["inspect", str(out), "--json"]) == 2
    assert capsys.readouterr().err.strip() == f"hwc: error: {manifest}: unreadable cost figures (not hwc-figures/1 figures)"


def test_measured_figures_sit_next_to_the_estimates(figures_of, capsys):
    """`hwc synth` writes DIR/synth_<family>.json; inspect shows its numbers as measured next to the estimates."""
    import json

    from hwc.compiler.cli import main

    figs, _ = figures_of(MLP, "xilinx", "--wbits", "4", "--calib", CALIB)
    out = figures_of.last
    synth = {"family": "xilinx", "part": None, "tool": "yosys", "seconds": 1.0, "latency": 3,
             "layers": [{"module": "hwc_layer1", "node": "/0/Gemm", "op": "Dense", "luts": 1234, "ffs": 56, "carry": 7,
                         "dsps": 0, "brams": 0}],
             "total": {"luts": 5678, "ffs": 910, "carry": 11, "dsps": 0, "brams": 0}}
    (out / "synth_xilinx.json").write_text(json.dumps(synth))
    capsys.readouterr()
    assert main(["inspect", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    total = {(f["name"], f["source"]): f["value"] for f in doc["figures"]["total"]}
    assert total[("lut", "measured")] == 5678 and total[("ff", "measured")] == 910
    assert total[("lut", "estimated")] == figs.value("lut")
    first = {(f["name"], f["source"]): f["value"] for f in doc["layers"][1]["cost"]}
    assert first[("lut", "measured")] == 1234 and first[("lut", "estimated")] == figs.layers[0].value("lut")
    assert main(["inspect", str(out)]) == 0
    est = figs.value("lut")
    assert f"lut 5,678 LUT (measured; estimated {est:,}, error {100 * (est - 5678) / 5678:+.1f} %)" in capsys.readouterr().out


def test_binary_weights_are_additions(figures_of):
    """±1 weights (the binary MLP): no multipliers, no DSPs; the LUTs are the adder trees' only."""
    figs, _ = figures_of(HW_EXAMPLES / "digits_mlp_binary" / "model_qonnx.onnx", "xilinx")
    g = load_graph(figures_of.last)
    for n in g.nodes:
        if n.op == "Dense":
            lf = figs.layer(n.name)
            nnz = np.count_nonzero(n.inputs[1].const, axis=0)
            adders = int(np.maximum(nnz - 1, 0).sum()) + (nnz.size if n.input(2) is not None else 0)
            assert lf.value("multipliers") == 0 and lf.value("dsp") == 0
            assert lf.value("lut") == adders * n.attrs["accum"].width


def test_reuse_auto_project_is_bit_exact(figures_of, capsys):
    """Per-layer reuse factors change the emitted configs only: g++ C simulation still equals the simulator."""
    import json

    from hwc.compiler.cli import main

    figs, _ = figures_of(CNN, "xilinx", "--wbits", "4", "--calib", CALIB_IMG, "--strategy", "resource", "--reuse", "auto",
                         "--part", "xc7a100t", "--utilisation", "50")
    chosen = json.loads((figures_of.last / "hwc.json").read_text())["options"]["layer_reuse"]
    assert len(set(chosen.values())) > 1  # the layers really differ
    assert figs.device["utilisation"]["lut"] <= 50 and figs.device["utilisation"]["ff"] <= 50
    capsys.readouterr()
    assert main(["verify", str(figures_of.last), "--samples", "200"]) == 0
    assert "200 samples" in (text := capsys.readouterr().out) and " 0 mismatches" in text


@pytest.mark.parametrize("kwargs, message", [
    ({"strategy": "latency", "reuse": "auto"}, "--reuse auto needs --strategy resource"),
    ({"strategy": "resource", "reuse": "auto", "utilisation": 0}, "--utilisation must be a percentage in (0, 100], got 0"),
    ({"strategy": "resource", "reuse": "auto", "utilisation": 150}, "--utilisation must be a percentage in (0, 100], got 150"),
    ({"strategy": "resource", "reuse": "several"}, "--reuse must be at least 1 (or auto)"),
])
def test_reuse_auto_options_are_checked(kwargs, message):
    from hwc.compiler.errors import HwcError
    from hwc.compiler.options import HlsOptions

    with pytest.raises(HwcError) as e:
        HlsOptions(**kwargs)
    assert message in str(e.value)
