"""Options are checked once, before the target is chosen, the same way for every target: a bad value
is one line on stderr (`hwc: error: …`), exit code 2, and no output directory. Runs `hwc` in-process
(`hwc.compiler.cli.main`): a traceback would fail the test as an uncaught exception."""

from __future__ import annotations

import pytest

from conftest import HW_EXAMPLES
from hwc.compiler.cli import main

MODEL = HW_EXAMPLES / "digits_mlp" / "model.onnx"
CALIB = f"{HW_EXAMPLES}/digits_data/calib.npz:x"
TARGETS = ("sim", "xilinx", "tflite", "openvino")


def run(capsys, *args) -> tuple[int, list[str], str]:
    try:
        rc = main([str(a) for a in args])
    except SystemExit as e:  # argparse
        rc = e.code
    out, err = capsys.readouterr()
    return rc, err.strip().splitlines(), out


def assert_refused(capsys, tmp_path, args, needle):
    rc, err, _ = run(capsys, "compile", MODEL, *args, "-o", tmp_path / "out")
    assert rc == 2
    assert len(err) == 1 and err[0].startswith("hwc: error: "), err
    assert needle in err[0], (needle, err[0])
    assert not (tmp_path / "out").exists()


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


CASES = {
    "prune-above-1": (["--prune", "1.5"], "--prune must be in [0, 1), got 1.5"),
    "prune-negative": (["--prune=-0.1"], "--prune must be in [0, 1), got -0.1"),
    "refit-without-calib": (["--prune", "0.5", "--refit"], "--refit needs --calib data"),
    "finetune-without-calib": (["--prune", "0.5", "--finetune", "2"], "--finetune needs --calib data"),
    "activation-without-calib": (["--prune", "0.5", "--prune-mode", "neurons", "--prune-criterion", "activation"],
                                 "--prune-criterion activation needs --calib data"),
    "reconstruction-without-calib": (["--prune", "0.5", "--prune-criterion", "reconstruction"],
                                     "--prune-criterion reconstruction needs --calib data"),
    "finetune-without-calib-or-prune": (["--finetune", "2"], "--finetune needs --calib data"),
    "obs-without-calib": (["--prune", "0.5", "--prune-criterion", "obs"], "--prune-criterion obs needs --calib data"),
    "obs-neurons": (["--prune", "0.5", "--prune-criterion", "obs", "--prune-mode", "neurons", "--calib", CALIB],
                    "--prune-criterion obs prunes weights: use it with --prune-mode weights"),
    "labels-without-finetune": (["--calib", f"{HW_EXAMPLES}/digits_data/val.npz:x", "--labels",
                                 f"{HW_EXAMPLES}/digits_data/val.npz:y"], "--labels is for --finetune"),
    "max-drop-without-val": (["--max-drop", "1"], "--max-drop needs --val data"),
    "max-drop-negative": (["--max-drop=-1", "--val", CALIB], "--max-drop must be >= 0 points, got -1.0"),
    "val-without-max-drop": (["--val", CALIB], "--val and --val-labels are for --max-drop"),
    "accum-bits-1": (["--accum-bits", "1"], "--accum-bits must be at least 2, got 1"),
    "input-bits-100": (["--input-bits", "100"], "--input-bits must be 2..32, got 100"),
    "output-bits-0": (["--output-bits", "0"], "--output-bits must be 2..32, got 0"),
    "wbits-9": (["--wbits", "9"], "--wbits must be 1..8, got 9"),
    "input-range-nan": (["--input-range=nan,1"], "--input-range needs finite numbers, got 'nan,1'"),
    "input-range-inf": (["--input-range=-inf,1"], "--input-range needs finite numbers, got '-inf,1'"),
    "reuse-without-resource": (["--reuse", "4"], "--reuse 4 needs --strategy resource"),
    "clock-0": (["--clock", "0"], "--clock must be a positive period in ns"),
}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_option_is_refused_for_every_target(case, target, capsys, tmp_path):
    args, needle = CASES[case]
    assert_refused(capsys, tmp_path, ["--target", target, *args], needle)


@pytest.mark.parametrize("args, needle", [
    (["--target", "tflite", "--ptq", "gptq", "--calib", CALIB], "--ptq is for the fixed-point targets"),
    (["--target", "openvino", "--max-drop", "1", "--val", CALIB], "--max-drop works for --target sim, xilinx, intel"),
    (["--target", "xilinx", "--ptq", "adaround"], "--ptq adaround needs --calib data"),
    (["--prune", "0.5", "--prune-criterion", "obs", "--ptq", "rtn", "--calib", CALIB],
     "--prune-criterion obs prunes with GPTQ's update: use --ptq gptq or adaround"),
    (["--finetune", "1", "--calib", CALIB, "--labels", f"{HW_EXAMPLES}/digits_data/val.npz:y"],
     "--labels has 400 entries for 200 --calib inputs")])
def test_quantize_options_are_refused_where_they_do_not_apply(args, needle, capsys, tmp_path):
    assert_refused(capsys, tmp_path, args, needle)


CONFIGS = {
    "yaml-list": ("- a\n- b\n", "expected a mapping with a `layers:` key"),
    "signed-maybe": ("layers:\n  Relu:\n    output: {signed: maybe}\n", "signed must be true or false, got 'maybe'"),
    "width-text": ("layers:\n  Relu:\n    output: {width: eight}\n", "width must be a positive integer"),
    "int-bits-float": ("layers:\n  Relu:\n    output: {int_bits: 2.5}\n", "int_bits must be an integer, got 2.5"),
    "per-channel-text": ("layers:\n  Dense:\n    per_channel: yes please\n", "per_channel must be true or false"),
    "prune-bool": ("layers:\n  Dense:\n    prune: true\n", "prune: a fraction in [0, 1)"),
}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("case", sorted(CONFIGS))
def test_bad_config_is_refused_for_every_target(case, target, capsys, tmp_path):
    text, needle = CONFIGS[case]
    cfg = write(tmp_path, "c.yaml", text)
    assert_refused(capsys, tmp_path, ["--target", target, "--config", cfg], needle)
    _, err, _ = run(capsys, "config", MODEL, "--config", cfg)
    assert len(err) == 1 and needle in err[0] and str(cfg) in err[0]


@pytest.mark.parametrize("args, needle", [
    (["--wbits", "abc"], "hwc: error: argument --wbits: invalid int value: 'abc'"),
    (["--target", "fpga"], "hwc: error: argument --target: invalid choice: 'fpga'"),
    (["--prune", "half"], "hwc: error: argument --prune: invalid float value: 'half'"),
])
def test_argparse_mistakes_are_one_line(args, needle, capsys, tmp_path):
    assert_refused(capsys, tmp_path, args, needle)


def test_missing_required_option_is_one_line(capsys):
    rc, err, _ = run(capsys, "compile", MODEL)
    assert rc == 2 and err == ["hwc: error: the following arguments are required: -o/--output"]


def test_help_keeps_its_usage_block(capsys):
    rc, _, out = run(capsys, "compile", "--help")
    assert rc == 0
    assert out.startswith("usage: hwc compile") and "--wbits WBITS" in out and "--prune FRACTION" in out


def test_valid_options_still_compile(capsys, tmp_path):
    rc, err, out = run(capsys, "compile", MODEL, "--target", "tflite", "--prune", "0.5", "--prune-criterion",
                       "activation", "--calib", CALIB, "--input-range=-1,1", "-o", tmp_path / "out")
    assert rc == 0, err
    assert (tmp_path / "out" / "model.tflite").exists()
