"""`--target ncs2`: the FP16 IR for the Myriad X (OpenVINO 2022.3 LTS toolchain).

- The IR loads in the current runtime and runs on the CPU with INFERENCE_PRECISION_HINT f16 (bf16 or f32
  where the CPU has no FP16 arithmetic: the bound follows the precision read back). Its output is compared
  with the "openvino-fp16" simulator mode element by element against the bound that
  the `openvino-fp16-bound-<precision>` modes (`openvino_fp16.py`) propagate through the graph (f32 accumulation within K·2^-24·Σ|x·w|, one
  rounding per stored tensor, a cast one grid step off only where the two pre-cast values may straddle a
  rounding boundary, Softmax rows bounded by 1 once perturbed). Asserted: every value within its bound.
  Measured here (Xeon with AVX512_FP16): the simulator equals OpenVINO exactly on the digits models and
  the jet MLP; the all-ops model differs in its Softmax (f16 sums), within the bound.
- The XML holds only op types/versions of `OPSET_2022_3` (what the 2022.3 reader and the Myriad front end
  take), no FakeQuantize, static shapes (batch 1), and the Dense/Conv weights as FP16 constants equal to
  the quantized weights.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

import openvino  # noqa: F401 (the [test] extra installs it: missing = a broken install, not a skip)

from openvino_models import MODELS, all_ops_model, compile_model, verify  # noqa: E402

from hwc.backends.openvino_emit import OPSET_2022_3  # noqa: E402

CASES = [("digits_mlp", 2), ("digits_mlp", 4), ("digits_mlp", 8), ("digits_cnn", 2), ("digits_cnn", 4),
         ("digits_cnn", 8), ("jet_mlp_float", 4), ("conv2d_small_keras", 4), ("digits_mlp_w4a4_qonnx", None)]


def _model(name):
    path, calib, _, _ = MODELS[name]
    if not path.exists():
        pytest.skip(f"{path} is absent (corpus not installed)")
    return path, calib


def _layers(xml_path):
    root = ET.parse(xml_path).getroot()
    return root, list(root.iter("layer"))


@pytest.mark.parametrize("name,wbits", CASES, ids=[f"{m}-w{w or 'model'}" for m, w in CASES])
def test_ncs2_ir_runs_in_fp16_within_bound(name, wbits, tmp_path):
    path, calib = _model(name)
    compile_model(path, tmp_path, "ncs2", wbits, calib)
    report = verify(tmp_path, 1000)
    print("\n".join(report.details))
    assert "inference precision" in report.details[-2] or any("inference precision" in d for d in report.details)
    assert report.compared >= 1000
    assert report.mismatches == 0, report.first_difference  # every value within its propagated bound


def test_all_ops_model_fp16_within_bound(tmp_path):
    model, calib = all_ops_model(tmp_path)
    compile_model(model, tmp_path / "out", "ncs2", 4, calib)
    report = verify(tmp_path / "out", 1000)
    print("\n".join(report.details))
    assert report.compared == 5000
    assert report.mismatches == 0, report.first_difference


@pytest.mark.parametrize("name,wbits", [("digits_cnn", 4), ("jet_mlp_float", 8), ("all_ops", 4)])
def test_ncs2_xml_uses_only_2022_3_ops(name, wbits, tmp_path):
    from hwc.compiler.ir.serialize import load_graph

    if name == "all_ops":
        path, calib = all_ops_model(tmp_path)
    else:
        path, calib = _model(name)
    out = tmp_path / "out"
    compile_model(path, out, "ncs2", wbits, calib)
    root, layers = _layers(out / "model.xml")
    assert root.get("version") in ("10", "11")  # IR versions the 2022.3 reader takes
    bad = sorted({(l.get("type"), l.get("version")) for l in layers
                  if l.get("version") not in OPSET_2022_3.get(l.get("type"), ())})
    assert not bad, f"op versions the 2022.3 reader / Myriad front end do not take: {bad}"
    assert not any(l.get("type") == "FakeQuantize" for l in layers)
    for l in layers:
        if l.get("type") == "Parameter":
            shape = l.find("data").get("shape")
            assert "?" not in shape and "-1" not in shape, shape  # static: the Myriad needs it
    consts = {l.get("type"): 0 for l in layers}
    weights = [l for l in layers if l.get("type") == "Const" and l.find("data").get("element_type") == "f16"]
    assert weights and consts
    # the weights: FP16 constants holding exactly the quantized values
    import openvino as ov

    m = ov.Core().read_model(str(out / "model.xml"))
    g = load_graph(out)
    f16 = [op for op in m.get_ordered_ops() if op.get_type_name() == "Constant"
           and op.get_output_element_type(0) == ov.Type.f16]
    for n in g.nodes:
        if n.op not in ("Dense", "Conv"):
            continue
        w = np.asarray(n.inputs[1].const, np.float64) * 2.0 ** -n.inputs[1].type.elem.frac_bits
        shift = n.attrs.get("weight_shift")  # per-output-channel power-of-two scales (PTQ's per-channel choice)
        if shift is not None:
            axis = 1 if n.op == "Dense" else 0
            w = w * np.expand_dims(2.0 ** np.asarray(shift, np.float64), [a for a in range(w.ndim) if a != axis])
        want = w.T if n.op == "Dense" else w  # GroupConvolution holds it as [G, O/G, I/G, kh, kw]
        hits = [c for c in f16 if c.get_data().size == want.size
                and np.array_equal(c.get_data().astype(np.float64).reshape(want.shape), want)]
        assert hits, f"{n.name}: no FP16 constant equals its quantized weights"


def test_ncs2_readme_explains_the_blob(tmp_path):
    path, calib = _model("digits_mlp")
    compile_model(path, tmp_path, "ncs2", 4, calib)
    text = (tmp_path / "README.md").read_text()
    assert "compile_tool" in text and "-d MYRIAD" in text and "2022.3" in text


def test_values_beyond_fp16_are_refused(tmp_path):
    """ESPCN's QONNX form computes its convolutions on integers (the non-power-of-two scales are folded
    into Rescales): accumulators up to 2^22 do not fit FP16, so the NCS2 form is refused, layers named."""
    from hwc.compiler.errors import HwcError

    path, calib = _model("espcn_qonnx")
    with pytest.raises(HwcError, match="65504"):
        compile_model(path, tmp_path, "ncs2", None, calib)
