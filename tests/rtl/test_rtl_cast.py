"""hwc_cast (templates/rtl/hwc_cast.v) against the simulator's cast, every input of a small width, every
rounding x overflow mode, dropping, keeping and appending bits, signed and unsigned destinations,
executed by iverilog."""

from __future__ import annotations

import importlib.resources
import shutil
import subprocess

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from hwc.backends.rtl_arith import OVERFLOW_CODE, ROUNDING_CODE
from hwc.compiler.ir.types import FixedType, Overflow, Rounding
from hwc.compiler.sim.fixed import cast

IW = 7  # input mantissas: every value of a signed 7-bit integer
# (shift S = F_in - F_out, output width, signed): drop 3 bits, drop more bits than x has, keep, append
SHAPES = [(3, 4, True), (3, 3, False), (9, 3, True), (0, 5, True), (0, 4, False), (-2, 8, True), (-2, 6, False),
          (1, 2, True)]


def test_cast_every_mode_matches_simulator(tmp_path):
    if not shutil.which("iverilog"):
        pytest.fail("iverilog is not installed: run `make system-packages`")
    configs = [(s, w, sg, r, o) for s, w, sg in SHAPES for r in Rounding for o in Overflow
               if not (o is Overflow.SAT_SYM and sg and w < 2)]
    lines = ["module tb;", f"reg signed [{IW - 1}:0] x;", "integer i, f;"]
    for k, (s, w, sg, r, o) in enumerate(configs):
        lines.append(f"wire [{w - 1}:0] y{k};")
        lines.append(f"hwc_cast #(.IW({IW}), .S({s}), .OW({w}), .OSIGNED({int(sg)}), .RND({ROUNDING_CODE[r]}), "
                     f".OVF({OVERFLOW_CODE[o]})) c{k} (.x(x), .y(y{k}));")
    fmt = " ".join(["%0d"] * len(configs))
    args = ", ".join(f"y{k}" for k in range(len(configs)))
    lines += ['initial begin', 'f = $fopen("out.txt", "w");',
              f"for (i = -{1 << (IW - 1)}; i < {1 << (IW - 1)}; i = i + 1) begin",
              f'x = i; #1; $fdisplay(f, "{fmt}", {args});', "end", "$fclose(f);", "$finish;", "end", "endmodule"]
    (tmp_path / "tb.v").write_text("\n".join(lines) + "\n")
    kernel = importlib.resources.files("hwc.templates") / "rtl" / "hwc_cast.v"
    (tmp_path / "hwc_cast.v").write_text(kernel.read_text())
    subprocess.run(["iverilog", "-g2005", "-Wall", "-o", "tb.vvp", "tb.v", "hwc_cast.v"], cwd=tmp_path, check=True)
    subprocess.run(["vvp", "-n", "tb.vvp"], cwd=tmp_path, check=True, capture_output=True)
    got = np.loadtxt(tmp_path / "out.txt", dtype=np.int64).reshape(1 << IW, len(configs))
    xs = np.arange(-(1 << (IW - 1)), 1 << (IW - 1), dtype=np.int64)
    for k, (s, w, sg, r, o) in enumerate(configs):
        t = FixedType(w, 0, sg, r, o)  # int bits do not matter: only the shift does
        want = cast(xs, t.frac_bits + s, t)
        raw = got[:, k]
        rtl = np.where(raw >= (1 << (w - 1)), raw - (1 << w), raw) if sg else raw
        assert_array_equal(rtl, want, err_msg=f"S={s} W={w} signed={sg} {r.name} {o.name}")
    assert len(configs) == len(SHAPES) * 28
