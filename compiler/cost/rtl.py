"""Cost of a `--target verilog` design before synthesis: LUTs and flip-flops per layer and in total,
read from the statements the RTL emitter wrote for each layer (backends/rtl_layers.py `LayerRtl.lines`
and the core's delay lines), not re-derived from the model.

The emitter's statements are counted as primitives of a 7-series fabric (6-input LUTs, CARRY4 chains):
- adder: a declared node `n = (a + b)` / `(a - b)` (the adder trees of the constant-coefficient sums, the
  CSD digits of a product, the bias) of width W bits: ADD_LUT LUTs per bit (ADD_LUT_UNSIGNED when the
  layer reads unsigned values, e.g. after a ReLU), plus SHIFT_ADD_LUT per bit when an operand is shifted;
- comparison-select: `(a < b ? c : d)` of width W (ReLU, max pooling, clamps): CMP_LUT LUTs per bit;
- cast (one hwc_cast instance, templates/rtl/hwc_cast.v): rounding when bits are dropped with a rounding
  mode (an incrementer of the kept IW - S + 1 bits) and saturation when the kept range exceeds the
  output type (two compares of IW - S + 1 bits against the type's bounds): CAST_ROUND_LUT per incremented
  bit, CAST_SAT_LUT per compared bit; a cast whose range fits costs nothing (synthesis folds it);
- registers: every bit assigned in `always @(posedge clk)` (layer output registers, pipeline cuts of
  --rtl-stages) and every bit of an hwc_delay (W x D) is one flip-flop.
The LUT constants are a non-negative least-squares fit (relative error weighted) to the per-layer counts
of Yosys 0.23 `synth_xilinx -flatten` on the jet MLP at 2 and 6 weight bits and two small Dense+ReLU
designs (bench/rtl_cost.py prints predicted against measured on every bench point). Yosys keeps constant
register bits out, so FFs are an upper bound that is exact for non-constant outputs. A DSP product
(--rtl-mult dsp/auto, `x * constant`) is one DSP and no LUTs. Not modelled: the LUT ROMs of table
activations (Sigmoid, Tanh, Softmax), the AXI-Stream control, routing. All figures are "estimated".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .figures import Figure, Figures, LayerFigures, sum_layers
from .primitives import memory

# LUTs per primitive bit: non-negative least squares on the per-layer Yosys counts (relative error weighted)
ADD_LUT = 1.09  # an adder bit of a layer reading signed values (Yosys maps the trees as $macc compressors)
ADD_LUT_UNSIGNED = 0.77  # ... reading unsigned values (zero-extended: the high bits fold to half adders)
SHIFT_ADD_LUT = 0.13  # more per bit of an adder with a shifted operand (the CSD digits of one product)
CMP_LUT = 0.90  # a compared-and-selected bit
CAST_ROUND_LUT = 1.07  # an incremented bit of a rounding cast
CAST_SAT_LUT = 0.08  # a compared bit of a saturating cast (the bounds are constants: mostly folded)

_DECL = re.compile(r"^(?:reg|wire)\s+(?:signed\s+)?\[(\d+):0\]\s+(\w+)")
_ASSIGN = re.compile(r"^(?:always @\* |wire (?:signed )?\[\d+:0\] )?(\w+) = (.+);$")
_REG = re.compile(r"^always @\(posedge clk\) if \(ce\) (\w+) <= ")
_CAST = re.compile(r"hwc_cast #\(\.IW\((\d+)\), \.S\((-?\d+)\), \.OW\((\d+)\), \.OSIGNED\((\d)\), \.RND\((\d)\), "
                   r"\.OVF\((\d)\)\)")
_DELAY = re.compile(r"hwc_delay #\(\.W\((\d+)\), \.D\((\d+)\)\)")
_COLLECT = re.compile(r"hwc_stream_collect #\(\.PW\((\d+)\), \.P\((\d+)\)")
_BINARY = re.compile(r" [+-] ")
_PRODUCT = re.compile(r" \* -?\d+'sd\d+\)")  # x * constant, mapped to a DSP (--rtl-mult dsp/auto)
_SELECT = re.compile(r" [<>]=? [^?]*\?")


@dataclass
class Counts:
    """The primitives of one layer, in bits."""

    adders: int = 0
    adder_bits: int = 0
    shift_bits: int = 0  # of adder_bits, those of adders with a shifted operand
    select_bits: int = 0
    round_bits: int = 0
    sat_bits: int = 0
    reg_bits: int = 0
    unsigned_inputs: bool = False  # the layer reads unsigned values (zero-extended by one bit)
    dsps: int = 0

    def luts(self) -> int:
        add = ADD_LUT_UNSIGNED if self.unsigned_inputs else ADD_LUT
        return round(add * self.adder_bits + SHIFT_ADD_LUT * self.shift_bits + CMP_LUT * self.select_bits
                     + CAST_ROUND_LUT * self.round_bits + CAST_SAT_LUT * self.sat_bits)


def count(lines: list[str]) -> Counts:
    """The primitives of the emitted statements of one layer (or the core)."""
    c = Counts()
    width: dict[str, int] = {}
    for raw in lines:
        line = raw.strip()
        c.unsigned_inputs |= "$signed({1'b0, x" in line
        if m := _DECL.match(line):
            width[m.group(2)] = int(m.group(1)) + 1
        if m := _REG.match(line):
            c.reg_bits += width.get(m.group(1), 0)
        elif m := _CAST.search(line):
            iw, s, ow, osigned, rnd, ovf = map(int, m.groups())
            kept = iw - max(s, 0) + max(-s, 0)
            rounds = s > 0 and rnd
            if rounds:
                c.round_bits += kept + 1
            if ovf and (kept + rounds > ow or not osigned):  # a range the output type cannot hold
                c.sat_bits += 2 * (kept + 1)
        elif m := _DELAY.search(line):
            c.reg_bits += int(m.group(1)) * int(m.group(2))
        elif m := _COLLECT.search(line):  # the streaming form's collector: P - 1 pixels shifting, P held
            c.reg_bits += int(m.group(1)) * (2 * int(m.group(2)) - 1)
        elif m := _ASSIGN.match(line):
            w = width.get(m.group(1), 0)
            expr = m.group(2)
            c.dsps += len(_PRODUCT.findall(expr))
            if _SELECT.search(expr):
                c.select_bits += w * len(_SELECT.findall(expr))
            elif _BINARY.search(expr):
                k = len(_BINARY.findall(expr))
                c.adders += k
                c.adder_bits += w * k
                if "<<<" in expr:
                    c.shift_bits += w * k
    return c


def layer_figures(node: str, op: str, lines: list[str], multipliers: int = 0, latency: int = 0,
                  buffer: tuple[int, int] = (0, 0), state_ff: int = 0) -> LayerFigures:
    """A streaming layer (backends/rtl_stream.py) adds its line buffer, a (depth, width) RAM: LUT RAM up
    to LUTRAM_DEPTH words, BRAM18 beyond (primitives.memory), and state_ff flip-flops (window, counters)."""
    c = count(lines)
    blocks, ram_luts = memory(*buffer, "BRAM18")
    figs = [Figure("multipliers", multipliers), Figure("lut", c.luts() + ram_luts), Figure("ff", c.reg_bits + state_ff),
            Figure("latency", latency)]
    if blocks:
        figs.append(Figure("bram", blocks))
    if c.dsps:
        figs.append(Figure("dsp", c.dsps))
    return LayerFigures(node, op, figs)


def rtl_figures(layers: list[tuple], core: list[str], latency: int | None, part: str | None = None,
                ii: int | None = None) -> Figures:
    """layers: (node, op, emitted lines, constant multiplications after zero-skipping, latency in cycles)
    in design order, plus for a streaming layer its line buffer (depth, width) and state flip-flops; the
    design's latency is the longest path through them (the emitter's), or for the streaming form (latency
    None) its cycles per frame, `ii`;
    core: the core's lines (the hwc_delay registers that align the layers' inputs count in the total only)."""
    out = [layer_figures(*layer) for layer in layers]
    total = sum_layers(out, ("multipliers", "lut", "ff", "dsp", "bram"))
    delay = count(core).reg_bits
    total = [Figure("ff", f.value + delay) if f.name == "ff" else f for f in total]
    total += [Figure("latency", latency)] if latency is not None else [Figure("ii", ii)]
    return Figures("verilog", out, total, part, notes=[
        "estimated from the emitted RTL (compiler/cost/rtl.py), calibrated against Yosys synth_xilinx; "
        "run `hwc synth` for measured figures"])
