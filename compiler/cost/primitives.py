"""The FPGA primitives a multiplier, an adder or a memory maps to, as tables per device family.

Multipliers (operand widths a >= b, two's complement, sign bit included):
- fabric rule: a product whose narrower operand has fewer than FABRIC_BELOW bits is built in LUTs. The
  HLS tools decide this themselves; hls4ml's measurements (Duarte et al., JINST 13 (2018) P07027,
  section 5 and Fig. 11: DSP usage falls to zero below about 10 bits) show this threshold for Vivado HLS.
- otherwise DSP blocks, tiled over the operand widths (a over the wide port, b over the narrow one):
  DSP48E2 27x18 (AMD UG579), DSP48E1 25x18 (UG479), DSP58 27x24 (AM004), Intel variable-precision
  DSP: one 27x27 or two 18x19 per block (Agilex 7 / Stratix 10 / Cyclone V DSP user guides), so a
  product that fits 18x19 costs half a block; Lattice MULT18X18D (ECP5) 18x18, SB_MAC16 (iCE40) 16x16.
- a weight that is a constant (latency strategy) and a power of two (one nonzero digit in canonical
  signed digits) is a shift: no multiplier; otherwise the fabric rule sees its significant bits only
  (the tool propagates constants: 0.25 in a 16-bit type is a 2-bit multiplicand), with its own
  threshold per tool, CONSTANT_DSP_BITS: a constant product goes to a DSP when both the variable's width
  and the constant's significant bits reach it. Vitis HLS: 8, fitted to the one published Vitis HLS
  report of hls4ml's jet-tagging MLP whose weights' distribution we can reproduce (docs/COST.md, "Against
  published synthesis numbers": 2,557 DSPs published, 2,427 estimated; per layer within 3-24 %); Vivado
  HLS 2019.2's published reports of the same network fit 9 instead. Intel: no published data, so the
  variable rule (FABRIC_BELOW) stands. A LUT-mapped product of a constant with d CSD digits is
  d - 1 adders of a + b bits; a LUT-mapped product of two variables is a*b/2 LUT6 (array multiplier).
Memories: depth x width bits on the block geometries below (the fewest blocks over all aspect ratios);
a memory of at most LUTRAM_DEPTH words stays in LUTs (SRLC32E shift registers / 32-deep distributed
ROM: width x ceil(depth/32) LUT6).
"""

from __future__ import annotations

import math

FABRIC_BELOW = 10
CONSTANT_DSP_BITS = {"xilinx": 8, "intel": FABRIC_BELOW, "lattice": FABRIC_BELOW}
LUTRAM_DEPTH = 32
# DSP kind -> (wide port, narrow port, blocks per product that fits, small mode (wide, narrow, blocks) or None)
DSP = {
    "DSP48E2": (27, 18, 1.0, None),
    "DSP48E1": (25, 18, 1.0, None),
    "DSP58": (27, 24, 1.0, None),
    "intel-vp": (27, 27, 1.0, (19, 18, 0.5)),
    "MULT18X18D": (18, 18, 1.0, None),
    "SB_MAC16": (16, 16, 1.0, None),
}
# block RAM unit -> (depth, width) aspect ratios
BLOCKS = {
    "BRAM18": ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36)),
    "M20K": ((16384, 1), (8192, 2), (4096, 5), (2048, 10), (1024, 20), (512, 40)),
    "M10K": ((8192, 1), (4096, 2), (2048, 5), (1024, 10), (512, 20), (256, 40)),
    "EBR18K": ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36)),
    "EBR4K": ((2048, 2), (1024, 4), (512, 8), (256, 16)),
}
# LUT-equivalents per counted LUT6: an Intel ALM holds one LUT6 or two adder bits; a Lattice LUT4 is
# about 1.6 per LUT6 (a 6-input function needs 2 LUT4s, adder bits need one each).
LUT_SCALE = {"xilinx": 1.0, "intel": 0.5, "lattice": 1.6}


def csd_digits(m: int) -> int:
    """Nonzero digits of m in canonical signed digits (non-adjacent form)."""
    m, d = abs(int(m)), 0
    while m:
        if m & 1:
            d += 1
            m -= 1 if (m & 3) == 1 else -1
        m >>= 1
    return d


def significant_bits(m: int) -> int:
    """Bits of a constant multiplicand once its trailing zeros are a shift: |m| >> tz, plus a sign bit."""
    m = abs(int(m))
    if m == 0:
        return 0
    return (m >> ((m & -m).bit_length() - 1)).bit_length() + 1


def dsp_blocks(a: int, b: int, kind: str, below: int = FABRIC_BELOW) -> float:
    """DSP blocks for an a x b product that is DSP-mapped (0 when its narrower operand has fewer than
    `below` bits: the fabric rule)."""
    a, b = max(a, b), min(a, b)
    if b < below:
        return 0.0
    wide, narrow, blocks, small = DSP[kind]
    if small is not None and a <= small[0] and b <= small[1]:
        return small[2]
    return blocks * math.ceil(a / wide) * math.ceil(b / narrow)


def fabric_luts(a: int, b: int, constant: int | None) -> int:
    """LUT6 of a LUT-mapped product (constant: the weight's mantissa, None for a variable)."""
    if constant is not None:
        return max(0, csd_digits(constant) - 1) * (a + b)
    return math.ceil(a * b / 2)


def memory(depth: int, width: int, unit: str) -> tuple[int, int]:
    """(blocks, LUT6) of a depth x width memory: LUTs up to LUTRAM_DEPTH words, blocks beyond."""
    if depth <= 0 or width <= 0:
        return 0, 0
    if depth <= LUTRAM_DEPTH:
        return 0, width * math.ceil(depth / 32)
    return min(math.ceil(depth / d) * math.ceil(width / w) for d, w in BLOCKS[unit]), 0
