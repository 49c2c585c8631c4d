"""The streaming form of a `--target verilog` design (`--rtl-conv stream`): the layers of
rtl_stream.stream_chain as streaming modules (`{top}_streamK`, a pixel per beat, line buffers), then
either the chain's last pixels straight to `m_axis` (a fully convolutional model: one output pixel per
beat, tlast on a frame's last pixel) or `hwc_stream_collect` gathering the frame into the unrolled
form's wide word for the rest of the network (e.g. Flatten + Dense, one beat per frame, tlast on each),
built by RtlDesign as the core and run under hwc_axis_ctrl (stall-all, ce = !out_valid || out_ready).

Interface: s_axis_tdata holds one pixel, channel c's mantissa at [c*W +: W]; pixels in raster order
(row by row; a 1-D input's positions in order); s_axis_tlast is not needed (frames are counted) and
ignored. Output pixels use the same packing. verify: frames go to the testbench as pixel beats and
every output bit is compared with `simulate(mode="fixed")`.
"""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

import numpy as np

from ..compiler.errors import HwcError
from ..compiler.ir.graph import Graph, Value
from ..compiler.ir.types import FixedType
from ..compiler.summary import format_rows, layer_rows

from .hls_project import comment
from .rtl_design import BANNER, KERNELS, METADATA, TOP, RtlDesign, _bytes, template_env
from .rtl_arith import per_sample, size
from .rtl_layers import RtlEmitter
from .rtl_stream_timing import StreamTiming
from .rtl_stream import StreamLayer, image, stream_chain, stream_layer, too_large_to_unroll

STREAM_KERNELS = ("hwc_valid_pipe.v", "hwc_stream_collect.v")


def stream_plan(g: Graph, stages: int, mult: str, io: str, form: str):
    """The RtlStreamDesign of g, or None for the unrolled form (--rtl-conv unrolled, or auto and small)."""
    if form == "unrolled":
        return None
    chain = stream_chain(g)
    if form == "auto" and not (chain and too_large_to_unroll(chain)):
        return None
    if not chain:
        v = g.inputs[0].uses[0].node.output if len(g.inputs) == 1 and g.inputs[0].uses else None
        first = v.uses[0].node if v is not None and v.uses else None
        raise HwcError("--rtl-conv stream needs one image input (N, C, H, W) or (N, C, L) read first by a Conv or "
                       "pool (with per-pixel layers between)", node=first.name if first else None,
                       op=first.op if first else None)
    if io != "axis":
        raise HwcError("--rtl-conv stream has AXI4-Stream ports only (--rtl-io axis)")
    return RtlStreamDesign(g, chain, stages, mult)


class RtlStreamDesign:
    def __init__(self, g: Graph, chain: list, stages: int, mult: str):
        self.g, self.chain, self.stages, self.mult, self.io = g, chain, stages, mult, "axis"
        emitter = RtlEmitter(max(1, stages), mult)  # a stream layer's output is a register (its handshake)
        layers = chain[1:] if chain[0].op == "Transpose" else chain  # channels-last input: the same beats
        self.layers: list[tuple[int, object, StreamLayer]] = [(k, n, stream_layer(n, emitter))
                                                              for k, n in enumerate(layers, start=1)]
        self.first: Value = layers[0].inputs[0]
        self.last: Value = chain[-1].output
        rest = [n for n in g.toposort() if n.op not in ("FromFloat", "ToFloat") and n not in chain]
        self.tail = RtlDesign(g, stages, mult, "axis", start=self.last, skip=tuple(chain)) if rest else None
        if self.tail is None and [o.producer.inputs[0] for o in g.outputs] != [self.last]:
            raise HwcError("internal: a streamed model's output must be its last streamed layer or a core after it")
        self.in_channels = per_sample(self.first)[0]
        self.in_width = self.in_channels * self.first.type.elem.width
        _, h, w = image(self.first)
        self.in_beats = h * w
        c_last = per_sample(self.last)[0]
        self.pixels_last = size(self.last) // c_last
        self.out_beats = 1 if self.tail else self.pixels_last
        self.out_width = self.tail.out_width if self.tail else c_last * self.last.type.elem.width
        self.latency, self.cycles_per_frame = StreamTiming(
            [(l.latency, l.walk) for _, _, l in self.layers], self.in_beats, self.out_beats,
            self.pixels_last if self.tail else None, self.tail.latency if self.tail else 0).run()
        self.top_lines = self._top()

    def _top(self) -> list[str]:
        lines = ["wire v0, r0;", f"wire [{self.in_width - 1}:0] d0 = s_axis_tdata[{self.in_width - 1}:0];",
                 "assign v0 = s_axis_tvalid;", "assign s_axis_tready = r0;"]
        for k, n, l in self.layers:
            lines += [f"wire v{k}, r{k};", f"wire [{l.out_width - 1}:0] d{k};  // {comment(n.op + ' ' + repr(n.name))}",
                      f"{TOP}_stream{k} stream{k} (.clk(clk), .rst(rst), .in_valid(v{k - 1}), .in_ready(r{k - 1}), "
                      f".in_data(d{k - 1}), .out_valid(v{k}), .out_ready(r{k}), .out_data(d{k}));"]
        k = len(self.layers)
        pad = _bytes(self.out_width) - self.out_width
        if self.tail is None:
            cw = max(1, (self.out_beats - 1).bit_length())
            lines += [f"assign m_axis_tvalid = v{k};", f"assign r{k} = m_axis_tready;",
                      f"assign m_axis_tdata = {{{pad}'d0, d{k}}};" if pad else f"assign m_axis_tdata = d{k};",
                      f"reg [{cw - 1}:0] beat;  // output pixel of the frame",
                      "always @(posedge clk)",
                      f"    if (rst) beat <= {cw}'d0;",
                      f"    else if (m_axis_tvalid && m_axis_tready) beat <= beat == {cw}'d{self.out_beats - 1} ? "
                      f"{cw}'d0 : beat + {cw}'d1;",
                      f"assign m_axis_tlast = beat == {cw}'d{self.out_beats - 1};"]
            return lines
        c, p = per_sample(self.last)[0], self.pixels_last
        ew = self.last.type.elem.width
        pw = c * ew
        # the collected word has pixel p at [p*PW +: PW]; the core wants element (c, p) at [(c*P + p)*W +: W]
        parts = [f"word[{(q * c + ch) * ew} +: {ew}]" for ch in range(c) for q in range(p)]
        lines += ["wire word_valid, word_ready;", f"wire [{pw * p - 1}:0] word;",
                  f"hwc_stream_collect #(.PW({pw}), .P({p}), .CW({max(1, (p - 1).bit_length())})) collect (.clk(clk), "
                  f".rst(rst), .in_valid(v{k}), .in_ready(r{k}), .in_data(d{k}), .out_valid(word_valid), "
                  ".out_ready(word_ready), .out_data(word));",
                  f"wire [{pw * p - 1}:0] x = {{{', '.join(reversed(parts))}}};", "wire ce;",
                  f"hwc_axis_ctrl #(.L({self.tail.latency})) ctrl (.clk(clk), .rst(rst), .s_tvalid(word_valid), "
                  ".s_tready(word_ready), .s_tlast(1'b1), .m_tvalid(m_axis_tvalid), .m_tready(m_axis_tready), "
                  ".m_tlast(m_axis_tlast), .ce(ce));",
                  f"wire [{self.out_width - 1}:0] y;", f"{TOP}_core core (.clk(clk), .ce(ce), .x(x), .y(y));",
                  f"assign m_axis_tdata = {{{pad}'d0, y}};" if pad else "assign m_axis_tdata = y;"]
        return lines

    # -- figures --
    def metadata(self) -> dict:
        def port(v: Value, name: str) -> dict:
            t: FixedType = v.type.elem
            return {"name": name, "offset": 0, "shape": list(per_sample(v)), "elements": size(v), "type": str(t),
                    "width": t.width, "signed": t.signed, "frac_bits": t.frac_bits, "channels": per_sample(v)[0]}
        outs = self.tail.metadata()["outputs"] if self.tail else [port(self.last, self.g.outputs[0].name)]
        layers = [{"module": f"{TOP}_stream{k}", "node": comment(n.name), "op": n.op, "latency": l.latency,
                   "adders": l.body.adders, "multipliers": l.body.multipliers, "positions": l.positions,
                   "line_buffer_bits": l.buffer_bits, "window_bits": l.window_bits} for k, n, l in self.layers]
        if self.tail:
            layers += self.tail.metadata()["layers"]
        return {"top": TOP, "io": "axis", "form": "stream", "stages": self.stages, "mult": self.mult,
                "in_width": self.in_width, "out_width": self.out_width, "in_bus": _bytes(self.in_width),
                "out_bus": _bytes(self.out_width), "in_beats_per_frame": self.in_beats,
                "out_beats_per_frame": self.out_beats, "cycles_per_frame": self.cycles_per_frame,
                "latency": self.latency,
                "core_latency": self.tail.latency if self.tail else None,
                "line_buffer_bits": sum(l.buffer_bits for _, _, l in self.layers),
                "inputs": [dict(port(self.first, self.g.inputs[0].name), channels_last=self.chain[0].op == "Transpose")],
                "outputs": outs, "layers": layers}

    @staticmethod
    def kernels() -> list[str]:
        return list(dict.fromkeys(KERNELS + STREAM_KERNELS))

    def sources(self) -> list[str]:
        kernels = [f"rtl/{k}" for k in self.kernels()]
        tail = [s for s in self.tail.sources() if "_layer" in s or s.endswith("_core.v")] if self.tail else []
        return kernels + [f"rtl/{TOP}_stream{k}.v" for k, _, _ in self.layers] + tail + [f"rtl/{TOP}.v"]

    def write(self, outdir: Path, source: str) -> list[str]:
        env = template_env()
        meta = self.metadata()
        out_text = ("one output beat per frame (the network after the streamed layers, unrolled)" if self.tail else
                    "one output pixel per beat in raster order, tlast on a frame's last pixel")
        ctx = {"banner": BANNER, "top": TOP, "in_bus": meta["in_bus"], "out_bus": meta["out_bus"],
               "in_channels": self.in_channels, "cycles_per_frame": self.cycles_per_frame, "out_text": out_text,
               "latency": self.latency,
               "description": comment(f"{source}: {len(self.layers)} streamed layers"
                                      + (f", {len(self.tail.layers)} unrolled" if self.tail else ""))}
        files = {}
        if self.tail:
            files.update({rel: text for rel, text in self.tail.render(source).items()
                          if "_layer" in rel or rel.endswith("_core.v")})
        files[f"rtl/{TOP}.v"] = env.get_template("rtl/stream_top.v.j2").render({**ctx, "lines": self.top_lines})
        for k, n, l in self.layers:
            detail = (f"{l.positions} positions per frame, line buffer {l.buffer_bits} bits, window {l.window_bits} bits, "
                      f"latency {l.latency}, {l.body.adders} adders, {l.body.multipliers} multipliers")
            files[f"rtl/{TOP}_stream{k}.v"] = env.get_template("rtl/stream_layer.v.j2").render(
                {**ctx, "index": k, "comment": comment(f"{n.op} '{n.name}'"), "detail": detail,
                 "in_width": l.in_width, "out_width": l.out_width, "lines": l.lines})
        files[f"tb/{TOP}_tb.v"] = env.get_template("rtl/stream_tb.v.j2").render(
            {**ctx, "ipf": self.in_beats, "opf": self.out_beats})
        kernels = importlib.resources.files("hwc.templates") / "rtl"
        for name in self.kernels():
            files[f"rtl/{name}"] = (kernels / name).read_text()
        files[METADATA] = json.dumps(meta, indent=1, sort_keys=True) + "\n"
        files["README.md"] = env.get_template("rtl/README_stream.md.j2").render(
            {**ctx, "source": comment(source), "meta": meta, "stages": self.stages, "mult": self.mult,
             "layer_table": format_rows(layer_rows(self.g)), "sources": self.sources(),
             "streamed": [(k, n.op, comment(n.name), l) for k, n, l in self.layers]})
        for rel, text in files.items():
            path = outdir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return sorted(files)


def pixel_words(x: np.ndarray, port: dict) -> list[int]:
    """One input beat per pixel: for every sample, every position in raster order, channel c's mantissa at
    [c*W +: W] (x channels-first, or channels-last when the port says so: its Transpose is absorbed)."""
    w, mask = port["width"], (1 << port["width"]) - 1
    n, c = len(x), port["channels"]
    if port.get("channels_last"):  # x is (N, ..., C): the same beats, read channel-minor
        flat = np.asarray(x, dtype=object).reshape(n, -1, c).transpose(0, 2, 1)
    else:
        flat = np.asarray(x, dtype=object).reshape(n, c, -1)
    words = []
    for s in range(n):
        for p in range(flat.shape[2]):
            acc = 0
            for ch in range(c):
                acc |= (int(flat[s, ch, p]) & mask) << (ch * w)
            words.append(acc)
    return words


def pixel_frames(words: list[int], port: dict, pixels: int) -> np.ndarray:
    """The inverse for output pixels: (frames, elements) in C order (channel-major), None where undefined."""
    w, c = port["width"], port["channels"]
    frames = len(words) // pixels
    out = np.zeros((frames, c, pixels), dtype=object)
    for i in range(frames * pixels):
        s, p = divmod(i, pixels)
        for ch in range(c):
            if words[i] < 0:
                out[s, ch, p] = None
                continue
            m = (words[i] >> (ch * w)) & ((1 << w) - 1)
            out[s, ch, p] = m - (1 << w) if port["signed"] and m >> (w - 1) else m
    return out.reshape(frames, -1)
