"""Cost of an HLS project (xilinx, intel) before synthesis, read from the design the emitter writes
(backends/hls_project.py `Project`: its layers, io, strategy and reuse, the kernels of templates/hls).

Per layer (primitives.py holds the DSP/LUT/memory rules and their sources):
- Dense/Conv: the nonzero weights (zero-skipping: pruned weights have no hardware). latency strategy:
  every nonzero weight is a constant multiplier (shift, LUT shift-and-add or DSP by the fabric rule),
  one adder per term into a tree per output (t - 1 adders of the accumulator width, +1 for the bias);
  resource strategy: B = ceil(nnz / R) variable multipliers, B accumulating adders, and the weights
  with their in/out indices in B ROMs of R words (LUTs up to 32 words, block RAM beyond). Binary (±1)
  weights are adds/subtracts. Convolutions reuse one window's hardware over the pixels at II R
  (--io parallel) or II 1 (--io stream, whose pixel loop is pipelined at II 1 so --reuse has no effect).
- element-wise, pooling, tables, data movement: one lane per element (parallel) or per channel (stream).
- registers: --io parallel keeps every layer output in registers (arrays partitioned completely);
  --io stream keeps them in FIFOs (depth = pixels, as the emitted STREAM pragmas say) and line buffers.
- pipeline: ADDER_NS ns per adder level, so floor(clock / ADDER_NS) tree levels per stage, a register
  after each stage; a DSP product takes DSP_STAGES cycles, a LUT product one. ADDER_NS = 1 and
  DSP_STAGES = 1 are fitted to published Vivado/Vitis HLS reports of hls4ml's jet-tagging MLP at 5 ns
  (docs/COST.md), which schedule each 16-bit Dense layer, products and tree, in one cycle.
Latency: the sum of the layer latencies (--io parallel runs the layers one after another); with
--io stream the layers overlap: the sum of the fills (latency - II + 1) plus the longest II, minus 1. II: the
longest layer interval. All figures are "estimated".
"""

from __future__ import annotations

import math

import numpy as np

from hwc.compiler.ir.types import FixedType

from . import primitives as P
from .figures import Figure, Figures, LayerFigures, sum_layers
from .parts import FAMILY_DEFAULT, VENDOR_DEFAULT, find_part, vendor_of

ADDER_NS = 1.0
DSP_STAGES = 1
TABLE_OPS = ("Sigmoid", "Tanh")
MULTIPLY_OPS = ("Mul", "Rescale", "LeakyRelu", "HardSigmoid", "AveragePool", "GlobalAveragePool")
WINDOW_OPS = ("Conv", "MaxPool", "AveragePool")


def _w(v) -> int:
    t = v.type.elem
    return t.width if isinstance(t, FixedType) else 32


def _per_sample(v) -> tuple[int, ...]:
    s = v.type.shape
    return tuple(s[1:]) if s and s[0] is None else tuple(s)


def _size(v) -> int:
    return math.prod(_per_sample(v))


def _stream(v) -> tuple[int, int]:
    s = _per_sample(v)
    return (s[0], math.prod(s[1:])) if len(s) >= 2 else ((s[0], 1) if s else (1, 1))


class HlsCost:
    """Figures of one Project at a part and clock."""

    def __init__(self, project, part: str | None, clock_ns: float):
        self.p, self.clock = project, clock_ns
        vendor = project.vendor.name
        found = find_part(part or VENDOR_DEFAULT[vendor])
        self.part_key, entry = found if found else (None, None)
        dsp_kind, bram_unit = FAMILY_DEFAULT[vendor]
        if entry is not None:
            dsp_kind, bram_unit = entry["dsp_kind"], entry["bram_unit"]
        self.dsp_kind, self.bram_unit = dsp_kind, bram_unit
        self.lut_scale = P.LUT_SCALE[vendor_of(entry) if entry else vendor]
        self.lut_unit = {"xilinx": "LUT", "intel": "ALM", "lattice": "LUT4"}[vendor_of(entry) if entry else vendor]
        self.constant_dsp_bits = P.CONSTANT_DSP_BITS[vendor_of(entry) if entry else vendor]
        self.levels_per_stage = max(1, int(clock_ns // ADDER_NS))
        self.stream = project.io == "stream"

    # -- helpers --
    def stages(self, levels: int) -> int:
        return math.ceil(levels / self.levels_per_stage) if levels > 0 else 0

    def tree_regs(self, terms: int, width: int) -> int:
        """Flip-flops of the registered levels of a balanced adder tree over `terms` inputs."""
        total, level = 0, self.levels_per_stage
        while (1 << level) < terms:
            total += math.ceil(terms / (1 << level)) * width
            level += self.levels_per_stage
        return total + width  # the tree's result

    def product(self, a: int, b: int, constant: int | None) -> tuple[float, int]:
        """(DSP blocks, LUT6) of one a x b product."""
        below = P.FABRIC_BELOW
        if constant is not None:
            if P.csd_digits(constant) <= 1:
                return 0.0, 0
            b = min(b, P.significant_bits(constant))  # the tool propagates the constant: only its bits count
            below = self.constant_dsp_bits
        d = P.dsp_blocks(a, b, self.dsp_kind, below)
        return (d, 0) if d else (0.0, P.fabric_luts(a, b, constant))

    def mem(self, depth: int, width: int) -> tuple[int, int]:
        return P.memory(depth, width, self.bram_unit)

    # -- layers --
    def layer(self, layer) -> dict:
        n = layer.node
        f = {"multipliers": 0, "dsp": 0.0, "lut": 0.0, "ff": 0, "bram": 0, "latency": 1, "ii": 1}
        if n.op in ("Dense", "Conv"):
            self._mac(layer, f)
        elif n.op in ("MaxPool", "AveragePool"):
            self._pool(n, f)
        else:
            self._other(n, f)
        self._io(n, f)
        return f

    def _pixels(self, n) -> int:
        return _stream(n.output)[1]

    def _window_plan(self, n) -> tuple[int, int, int, int]:
        """(iterations of window_stream over the padded plane in raster order, line-buffer rows, input width,
        input channels), as templates/hls/hwc_window.h plans them."""
        a = n.attrs
        x, y = _per_sample(n.inputs[0]), _per_sample(n.output)
        if len(x) == 2:
            x, y = (x[0], 1, x[1]), (y[0], 1, y[1])
        nd = len(x) - 1
        ks = a["kernel_shape"] if "kernel_shape" in a else list(n.inputs[1].type.shape[2:])
        ks = ([1] + list(ks)) if nd == 2 and len(ks) == 1 else list(ks)
        st = list(a["strides"]) if len(a["strides"]) == 2 else [1] + list(a["strides"])
        dil = list(a.get("dilations") or [1] * len(ks))
        dil = dil if len(dil) == 2 else [1] + dil
        pads = list(a["pads"])
        top, left = (pads[0], pads[1]) if len(pads) == 4 else (0, pads[0])
        span_h, span_w = (ks[0] - 1) * dil[0] + 1, (ks[1] - 1) * dil[1] + 1
        vh = max(x[1] + top, (y[1] - 1) * st[0] + span_h)
        vw = max(x[2] + left, (y[2] - 1) * st[1] + span_w)
        return vh * vw, span_h, x[2], x[0]

    def _mac(self, layer, f) -> None:
        n = layer.node
        w = np.asarray(n.inputs[1].const)
        wt = n.inputs[1].type.elem
        a, b = _w(n.inputs[0]), wt.width
        acc = n.attrs["accum"].width
        resource = self.p.strategy == "resource"
        conv = n.op == "Conv"
        reuse = self.p.reuse_of(n) if resource and not (conv and self.stream) else 1
        nnz = layer.multipliers
        per_out = np.count_nonzero(w.reshape(w.shape[0], -1), axis=1) if conv else np.count_nonzero(w, axis=0)
        n_out = per_out.size
        bias = 1 if n.input(2) is not None else 0
        lanes = math.ceil(nnz / reuse)
        f["multipliers"] = 0 if layer.binary else lanes
        if layer.binary:
            dsp, luts = 0.0, 0
        elif resource:
            d, l = self.product(a, b, None)
            dsp, luts = d * lanes, l * lanes
        else:
            dsp, luts = 0.0, 0
            values, counts = np.unique(w[w != 0], return_counts=True)  # one lookup per distinct weight
            for m, k in zip(values.tolist(), counts.tolist()):
                d, l = self.product(a, b, int(m))
                dsp, luts = dsp + d * k, luts + l * k
        if resource:
            adders = lanes + n_out * bias
            width = b + math.ceil(math.log2(max(2, w[0].size if conv else w.shape[0]))) + math.ceil(math.log2(max(2, n_out)))
            blocks, rom_luts = self.mem(reuse, width)
            f["bram"] += blocks * lanes
            luts += rom_luts * lanes
            f["ff"] += n_out * acc + lanes * (a + b)
        else:
            adders = int(np.maximum(per_out - 1, 0).sum()) + n_out * bias
            f["ff"] += sum(self.tree_regs(int(t) + bias, acc) for t in per_out)
        luts += adders * acc
        f["dsp"], f["lut"] = dsp, luts
        terms = math.ceil(int(per_out.max(initial=0)) / reuse) + bias  # per output and step
        levels = math.ceil(math.log2(max(1, terms)))
        mult_cycles = 0 if layer.binary or nnz == 0 else (DSP_STAGES if dsp else 1)
        depth = mult_cycles + self.stages(levels) + 1
        if conv:
            trips = self._window_plan(n)[0] if self.stream else self._pixels(n)
            f["ii"] = trips * reuse
        else:
            f["ii"] = reuse
        f["latency"] = f["ii"] - 1 + depth

    def _pool(self, n, f) -> None:
        x = n.inputs[0]
        c, _ = _stream(x)
        taps = math.prod(n.attrs["kernel_shape"])
        width = _w(n.output) + math.ceil(math.log2(max(2, taps)))
        f["lut"] = c * (taps - 1) * width
        if n.op == "AveragePool":
            d, l = self.product(width, n.attrs["recip_bits"] + 1, None)
            f["dsp"], f["lut"] = c * d, f["lut"] + c * l
        trips = self._window_plan(n)[0] if self.stream else self._pixels(n)
        f["ii"] = trips
        f["latency"] = trips + self.stages(math.ceil(math.log2(max(2, taps)))) + 1

    def _other(self, n, f) -> None:
        op = n.op
        x = n.inputs[0]
        c, pixels = _stream(x)
        native = self.stream and self.p.stream_kernel(n) is not None
        lanes = c if native else _size(x)
        width = _w(n.output)
        if op in ("GlobalAveragePool", "GlobalMaxPool"):
            n_in = math.prod(_per_sample(x)[1:])
            wide = _w(x) + math.ceil(math.log2(max(2, n_in)))
            f["lut"] = c * (n_in - 1 if not native else 1) * wide
            if op == "GlobalAveragePool":
                d, l = self.product(wide, n.attrs["recip_bits"] + 1, None)
                f["dsp"], f["lut"] = c * d, f["lut"] + c * l
            f["ii"] = pixels if native else 1
            f["latency"] = f["ii"] + self.stages(math.ceil(math.log2(max(2, n_in)))) + 1
            return
        if op in TABLE_OPS or op == "Softmax":
            bits = n.attrs["table_bits"] if op in TABLE_OPS else n.attrs["exp_table_bits"]
            blocks, luts = self.mem(1 << bits, width)
            copies = math.ceil(lanes / 2)  # a dual-port ROM serves two lanes
            f["bram"], f["lut"] = blocks * copies, luts * copies + lanes * width
            if op == "Softmax":
                n_in = x.type.shape[n.attrs["axis"]]
                d, l = self.product(width, width, None)
                f["dsp"], f["lut"] = lanes * d, f["lut"] + lanes * (l + width)
                f["latency"] = 4 + self.stages(math.ceil(math.log2(max(2, n_in))))
            else:
                f["latency"] = 2
        elif op in MULTIPLY_OPS:
            d, l = self.product(_w(x), _w(n.inputs[1]) if len(n.inputs) > 1 and n.inputs[1] is not None else width, None)
            f["dsp"], f["lut"] = lanes * d, lanes * (l + width)
            f["latency"] = 2 + (DSP_STAGES if d else 0)
        elif op in ("Relu", "Clip", "Add", "Sub", "Concat"):
            f["lut"] = lanes * width
        else:  # data movement (Reshape, Transpose, Pad, Resize, ...): wiring in parallel, a buffer in stream
            f["latency"] = 0 if not self.stream else 1
        if self.stream:
            f["ii"] = pixels if native else _stream(x)[1] + _stream(n.output)[1]
            f["latency"] += f["ii"]

    def _io(self, n, f) -> None:
        """Where the layer's output lives: registers (parallel) or FIFOs, line buffers and array buffers (stream)."""
        out = n.output
        c, pixels = _stream(out)
        width = c * _w(out)
        if not self.stream:
            f["ff"] += _size(out) * _w(out)
            return
        to_port = all(u.node.op == "ToFloat" for u in out.uses) and len(out.uses) == 1
        fifos = [] if to_port else [(pixels, width)]
        fifos += [(2, width)] * (2 * max(0, len(out.uses) - 1))
        if n.op in WINDOW_OPS:
            _, span_h, in_w, n_chan = self._window_plan(n)
            fifos.append((span_h * in_w, n_chan * _w(n.inputs[0])))
        elif self.p.stream_kernel(n) is None and not (n.op == "Reshape" and _stream(out)[1] == 1):
            fifos += [(_stream(v)[1], _stream(v)[0] * _w(v)) for v in n.inputs if v is not None and v.const is None]
            fifos.append((pixels, width))
        for depth, wd in fifos:
            blocks, luts = self.mem(depth, wd)
            f["bram"] += blocks
            f["lut"] += luts
            f["ff"] += wd if blocks else 0  # the read register of a block RAM FIFO

    def resources(self, layer) -> dict[str, float]:
        """The layer's LUT (in the part's unit), FF, DSP and block RAM."""
        f = self.layer(layer)
        return {"lut": math.ceil(f["lut"] * self.lut_scale), "ff": f["ff"], "dsp": math.ceil(f["dsp"]), "bram": f["bram"]}

    # -- the design --
    def figures(self, target: str) -> Figures:
        layers = []
        raw = []
        for l in self.p.layers:
            f = self.layer(l)
            raw.append(f)
            lut = math.ceil(f["lut"] * self.lut_scale)
            figs = [Figure("multipliers", f["multipliers"]), Figure("dsp", math.ceil(f["dsp"])),
                    Figure("lut", lut, self.lut_unit), Figure("ff", int(f["ff"])), Figure("bram", f["bram"], self.bram_unit),
                    Figure("latency", f["latency"]), Figure("latency_ns", round(f["latency"] * self.clock, 3)),
                    Figure("ii", f["ii"])]
            layers.append(LayerFigures(l.node.name, l.node.op, figs))
        total = sum_layers(layers, ("multipliers", "dsp", "lut", "ff", "bram"))
        if self.stream:  # fill of each layer (latency - ii + 1) in turn, then the slowest layer's interval
            latency = sum(f["latency"] - f["ii"] + 1 for f in raw) + max((f["ii"] for f in raw), default=1) - 1
        else:
            latency = sum(f["latency"] for f in raw)
        total += [Figure("latency", latency), Figure("latency_ns", round(latency * self.clock, 3)),
                  Figure("ii", max((f["ii"] for f in raw), default=1))]
        return Figures(target, layers, total, clock_ns=self.clock)
