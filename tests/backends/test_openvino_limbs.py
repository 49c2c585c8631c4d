"""OpenVINO for sums beyond 24 bits (issue #17): a Dense/Conv whose f32 partial sums would reach 2^24 units runs
on two limbs of its input (compiler/sim/openvino_casts.py `Limbs`), each summed exactly in f32, and recombined
by Floor, Round half to even and Clamp into the exact cast (ties included: I is made even so that
I + round(u) = round(I + u)). Models with inputs in 0..255 at 16-bit activations or inputs, which the f32 form
refused, now verify bit-exact in the OpenVINO runtime on 1,000 inputs; the f32 bound of each such layer is
shown to reach 2^24 (the case is real), and the NCS2 (FP16) form still refuses them with the reason.
Instruction-set independence: tests/backends/test_openvino_isa.py verifies a limb model on every ISA level.
Cost: about 3 s (four compiles, 4 x 1,000 inferences)."""

from __future__ import annotations

import pytest

from conftest import HW_EXAMPLES
from openvino_models import compile_model, verify

from hwc.compiler.errors import HwcError
from hwc.compiler.ir.serialize import load_graph
from hwc.compiler.sim import openvino_casts as ovc

CASES = {  # name: (model, options)
    "digits_mlp_a16_w8": ("digits_mlp/model.onnx", dict(abits=16, wbits=8, input_range="0,255")),
    "digits_cnn_a16_w8": ("digits_cnn/model.onnx", dict(abits=16, wbits=8, input_range="0,255")),
    "digits_mlp_in16_w8": ("digits_mlp/model.onnx", dict(input_bits=16, abits=8, wbits=8, input_range="0,255")),
    "jet_mlp_signed_a16_w6": ("jet_mlp/model.onnx", dict(abits=16, wbits=6, input_range="-300,300")),  # H < 0
}


@pytest.mark.parametrize("name", CASES)
def test_wide_sums_verify_bit_exact(tmp_path, name):
    model, opts = CASES[name]
    result, _ = compile_model(HW_EXAMPLES / model, tmp_path / "ov", **opts)
    g = load_graph(tmp_path / "ov")
    split = [n for n in g.toposort() if n.op in ("Dense", "Conv") and ovc.limb_split(n) is not None]
    assert split and all(ovc.f32_bound(n)[0] >= ovc.F32_EXACT for n in split)  # one f32 sum would round
    assert sum("two limbs of the input" in line for line in result.summary) == len(split)
    report = verify(tmp_path / "ov", 1000)
    assert report.compared >= 5000 and report.mismatches == 0, report.details


def test_the_fp16_form_still_refuses_them(tmp_path):
    with pytest.raises(HwcError, match="reach 2\\^24"):
        compile_model(HW_EXAMPLES / "digits_mlp/model.onnx", tmp_path / "ncs2", target="ncs2", input_range="0,255",
                      abits=16, wbits=8)
