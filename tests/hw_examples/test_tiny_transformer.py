"""hw_examples/tiny_transformer as its README compiles it: --target xilinx --wbits 8 --abits 16, and
`hwc verify` on the 360 test images: the g++ C simulation equals the simulator on every logit."""

from __future__ import annotations

import re

from conftest import HW_EXAMPLES, hwc


def test_tiny_transformer_xilinx_bit_exact_on_the_test_set(tmp_path):
    out = tmp_path / "prj"
    res = hwc("compile", HW_EXAMPLES / "tiny_transformer" / "model.onnx", "--target", "xilinx", "--wbits", "8",
              "--abits", "16", "--calib", f"{HW_EXAMPLES / 'digits_data' / 'calib_img.npz'}:x", "-o", out)
    assert res.returncode == 0, res.stderr
    res = hwc("verify", out, "--input", f"{HW_EXAMPLES / 'digits_data' / 'test_img.npz'}:x_test")
    m = re.search(r"(\d+) samples, (\d+) values compared, (\d+) mismatches", res.stdout)
    assert res.returncode == 0 and m, res.stdout + res.stderr
    assert (int(m.group(1)), int(m.group(2)), int(m.group(3))) == (360, 3600, 0)
