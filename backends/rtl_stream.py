"""Streaming layers of `--target verilog --rtl-conv stream`: one pixel (all channels of one spatial
position) per handshake beat, in raster order, through line buffers.

Which layers stream: the chain from the model's input of Conv (2-D/1-D, any stride, padding, dilation,
group), MaxPool, AveragePool (no padding) and per-pixel ops (Relu, Clip, LeakyRelu, Cast, Sigmoid, Tanh,
Identity, a per-channel Rescale), each value used by the next layer only. The layer after the chain (e.g.
Flatten + Dense) gets the collected image as the unrolled form's wide word (rtl_stream_design.py).

A windowed layer (span S = (K - 1)·d + 1 per axis) walks the padded image Hp × Wp in raster order, one
position per cycle it advances: a padding position inserts the pad value (0; the type's minimum for a max
pool) without input, so the bottom and right padding follows the last input beat without more input.
The line buffer is a RAM `st_lb` of Wp words of (S_h - 1) pixels (column c holds the S_h - 1 previous
rows), read one column ahead into `st_rd` under the same enable (synchronous read and write: Yosys maps it
to block RAM/EBR when it is long, to LUT RAM or flip-flops when short); the window's last S_w - 1 columns
are registers `st_win`. An output pixel is computed at the positions where a window ends (ROWOUT/COLOUT
masks: stride and the first S - 1 rows/columns), by exactly the unrolled form's arithmetic: the layer's
own emitter (rtl_layers.py) run on the window, i.e. the same node with the window as its input, no padding
and stride 1 (the same constant-coefficient sums, casts, rounding and saturation).
Flow control is stall-all: ce = !out_valid || out_ready freezes the layer's position, line buffer, window
and pipeline registers, so nothing is lost or duplicated; in_ready = ce outside padding positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.ir.graph import Graph, Node, Value
from ..compiler.ir.types import TensorType

from .rtl_arith import per_sample, size
from .rtl_layers import MAX_LEAVES, LayerRtl, RtlEmitter

WINDOWED = ("Conv", "MaxPool", "AveragePool")
PER_PIXEL = ("Relu", "Clip", "LeakyRelu", "Cast", "Sigmoid", "Tanh", "Identity", "Rescale")
UNROLL_ELEMENTS = 1 << 24  # auto: a Conv whose input x output elements exceed this streams (the unrolled
# form builds that matrix), as does one whose unrolled sums would exceed rtl_layers.MAX_LEAVES


@dataclass
class Geometry:
    """A windowed layer over the padded image: rows/columns (1-D: one row), spans, strides, pads."""

    c_in: int
    h: int
    w: int
    span: tuple[int, int]
    stride: tuple[int, int]
    pads: tuple[int, int, int, int]  # top, left, bottom, right

    @property
    def hp(self) -> int:
        return self.h + self.pads[0] + self.pads[2]

    @property
    def wp(self) -> int:
        return self.w + self.pads[1] + self.pads[3]

    def out_hw(self) -> tuple[int, int]:
        return ((self.hp - self.span[0]) // self.stride[0] + 1, (self.wp - self.span[1]) // self.stride[1] + 1)


def image(v: Value) -> tuple[int, int, int] | None:
    """(channels, rows, columns) of a per-sample (C, H, W) or (C, L) value (L as one row), else None."""
    ps = per_sample(v)
    if v.type.shape[:1] != (None,) or len(ps) not in (2, 3):
        return None
    return (ps[0], 1, ps[1]) if len(ps) == 2 else ps


def geometry(node: Node) -> Geometry | None:
    """The window walk of a windowed node, or None when it has no streaming form (ceil-mode extra
    windows, padded average pools whose divisor changes at the border)."""
    img = image(node.inputs[0])
    if img is None or node.op not in WINDOWED:
        return None
    a = node.attrs
    k = list(a.get("kernel_shape") or np.asarray(node.inputs[1].const).shape[2:])
    nd = len(k)
    if nd != len(per_sample(node.inputs[0])) - 1:
        return None
    d = list(a.get("dilations") or [1] * nd)
    s, p = list(a["strides"]), list(a["pads"])
    if nd == 1:
        k, d, s, p = [1] + k, [1] + d, [1] + s, [0, p[0], 0, p[1]]
    if node.op == "AveragePool" and any(p):
        return None
    g = Geometry(img[0], img[1], img[2], ((k[0] - 1) * d[0] + 1, (k[1] - 1) * d[1] + 1), (s[0], s[1]),
                 (p[0], p[1], p[2], p[3]))
    out = image(node.output)
    if out is None or out[1:] != g.out_hw():
        return None
    return g


def streamable(node: Node, v: Value) -> bool:
    """Whether node streams with v (its only variable input) arriving a pixel per beat."""
    if image(v) is None or image(node.output) is None:
        return False
    if node.op in WINDOWED:
        return geometry(node) is not None
    if node.op == "Rescale":  # per channel (axis 1) or one scale for the whole tensor
        return node.attrs["axis"] == 1 or all(np.asarray(x.const).size == 1 for x in node.inputs[1:] if x is not None)
    return node.op in PER_PIXEL


def channels_last_input(v: Value) -> Node | None:
    """A Transpose from channels-last (N, H, W, C) / (N, L, C) to channels-first reading v and nothing
    else: a channels-last image streamed in raster order is the same beats, so the stream skips it."""
    if len(v.uses) != 1:
        return None
    n = v.uses[0].node
    r = len(v.type.shape)
    if n.op != "Transpose" or list(n.attrs.get("perm", [])) != [0, r - 1] + list(range(1, r - 1)):
        return None
    return n if image(n.output) is not None else None


def stream_chain(g: Graph) -> list[Node]:
    """The nodes that stream: from the single input's FromFloat (and a channels-last Transpose after it),
    while each value feeds one streamable node. The Transpose, when there is one, comes first."""
    if len(g.inputs) != 1 or len(g.inputs[0].uses) != 1:
        return []
    v = g.inputs[0].uses[0].node.output
    outputs = {id(o.producer.inputs[0]) for o in g.outputs}
    chain = []
    adapter = channels_last_input(v)
    if adapter is not None:
        v = adapter.output
    while len(v.uses) == 1 and id(v) not in outputs:
        n = v.uses[0].node
        if [x for x in n.inputs if x is not None and x.const is None] != [v] or not streamable(n, v):
            break
        chain.append(n)
        v = n.output
    if not any(n.op in WINDOWED for n in chain):
        return []
    return [adapter] + chain if chain and adapter is not None else chain


def too_large_to_unroll(chain: list[Node]) -> bool:
    """auto: whether a Conv of the chain is too large for the unrolled form (or its construction)."""
    for n in chain:
        if n.op == "Conv":
            taps = int(np.count_nonzero(np.asarray(n.inputs[1].const)))
            pixels = size(n.output) // per_sample(n.output)[0]
            if size(n.inputs[0]) * size(n.output) > UNROLL_ELEMENTS or taps * pixels > MAX_LEAVES:
                return True
    return False


def _window_node(node: Node, g: Geometry) -> Node:
    """The node applied to one window: its input the (C, S_h, S_w) window, no padding, stride 1."""
    x, y = node.inputs[0], node.output
    one_d = len(per_sample(x)) == 2
    win = (g.span[1],) if one_d else g.span
    nd = len(win)
    xin = Value(x.name, TensorType(x.type.elem, (None, g.c_in) + win))
    yout = Value(y.name, TensorType(y.type.elem, (None, per_sample(y)[0]) + (1,) * nd))
    attrs = dict(node.attrs, pads=[0] * (2 * nd), strides=[1] * nd)
    return Node(node.op, node.name, [xin] + list(node.inputs[1:]), [yout], attrs)


def _pixel_node(node: Node) -> Node:
    """The node applied to one pixel: (C, 1, 1) (1-D: (C, 1))."""
    x, y = node.inputs[0], node.output
    ones = (1,) * (len(per_sample(x)) - 1)
    xin = Value(x.name, TensorType(x.type.elem, (None, per_sample(x)[0]) + ones))
    yout = Value(y.name, TensorType(y.type.elem, (None, per_sample(y)[0]) + ones))
    return Node(node.op, node.name, [xin] + list(node.inputs[1:]), [yout], dict(node.attrs))


def _mask(bits: list[bool]) -> str:
    return f"{len(bits)}'b" + "".join("1" if b else "0" for b in reversed(bits))


def _cw(n: int) -> int:
    return max(1, (n - 1).bit_length())


@dataclass
class StreamLayer:
    lines: list[str]  # module body between the stream ports
    body: LayerRtl  # the arithmetic (the emitter's layer on one window or pixel)
    in_width: int  # bits of one input pixel
    out_width: int  # bits of one output pixel
    positions: int  # positions walked per frame (cycles per frame when never stalled)
    buffer_depth: int  # line buffer RAM words (padded columns; 0: none)
    buffer_width: int  # ... and bits per word (S_h - 1 pixels)
    window_bits: int  # window register bits
    state_bits: int  # the other registers of the walk: window, read-ahead column, position counters
    walk: list[tuple[bool, bool]] | None = None  # windowed: (padding, emits) per padded position (rtl_stream_timing)

    @property
    def buffer_bits(self) -> int:
        return self.buffer_depth * self.buffer_width

    @property
    def latency(self) -> int:
        return self.body.latency


def stream_layer(node: Node, emitter: RtlEmitter) -> StreamLayer:
    """The module body of one streaming layer (ports clk, rst, in_valid/in_ready/in_data, out_*)."""
    ew_in, ew_out = node.inputs[0].type.elem.width, node.output.type.elem.width
    c_in, c_out = per_sample(node.inputs[0])[0], per_sample(node.output)[0]
    pw, ow = c_in * ew_in, c_out * ew_out
    if node.op not in WINDOWED:
        body = emitter.emit(_pixel_node(node), ["x0"], "y")
        pixels = size(node.output) // c_out
        lines = ["wire ce = !out_valid || out_ready;", "assign in_ready = ce;", f"wire [{pw - 1}:0] x0 = in_data;",
                 f"wire [{ow - 1}:0] y;"] + body.lines + _valid(body.latency, "in_valid") + ["assign out_data = y;"]
        return StreamLayer(lines, body, pw, ow, pixels, 0, 0, 0, 0)
    g = geometry(node)
    body = emitter.emit(_window_node(node, g), ["x0"], "y")
    sh, sw = g.span
    hp, wp = g.hp, g.wp
    pt, pl = g.pads[0], g.pads[1]
    pad = node.inputs[0].type.elem.min_mantissa if node.op == "MaxPool" else 0
    pad_px = 0
    for c in range(c_in):
        pad_px |= (pad & ((1 << ew_in) - 1)) << (c * ew_in)
    rows_out = [r >= sh - 1 and (r - sh + 1) % g.stride[0] == 0 for r in range(hp)]
    cols_out = [c >= sw - 1 and (c - sw + 1) % g.stride[1] == 0 for c in range(wp)]
    pad_rows, pad_cols = [not pt <= r < pt + g.h for r in range(hp)], [not pl <= c < pl + g.w for c in range(wp)]
    rw, cw = _cw(hp), _cw(wp)
    lines = ["wire ce = !out_valid || out_ready;",
             f"reg [{rw - 1}:0] st_r;  // padded position: row", f"reg [{cw - 1}:0] st_c;  // padded position: column",
             f"localparam [{hp - 1}:0] ST_ROWPAD = {_mask(pad_rows)};",
             f"localparam [{wp - 1}:0] ST_COLPAD = {_mask(pad_cols)};",
             f"localparam [{hp - 1}:0] ST_ROWOUT = {_mask(rows_out)};",
             f"localparam [{wp - 1}:0] ST_COLOUT = {_mask(cols_out)};",
             "wire st_pad = ST_ROWPAD[st_r] || ST_COLPAD[st_c];",
             "wire st_emit = ST_ROWOUT[st_r] && ST_COLOUT[st_c];",
             "assign in_ready = ce && !st_pad;",
             "wire st_adv = ce && (st_pad || in_valid);",
             f"wire [{pw - 1}:0] st_px = st_pad ? {pw}'h{pad_px:x} : in_data;",
             f"wire [{cw - 1}:0] st_cn = st_c == {cw}'d{wp - 1} ? {cw}'d0 : st_c + {cw}'d1;",
             "always @(posedge clk)",
             f"    if (rst) begin st_r <= {rw}'d0; st_c <= {cw}'d0; end",
             "    else if (st_adv) begin",
             "        st_c <= st_cn;",
             f"        if (st_c == {cw}'d{wp - 1}) st_r <= st_r == {rw}'d{hp - 1} ? {rw}'d0 : st_r + {rw}'d1;",
             "    end"]
    col = sh * pw  # one window column: rows r - S_h + 1 .. r, oldest at bit 0
    depth, lb = 0, (sh - 1) * pw
    if sh > 1:
        lines += [f"reg [{lb - 1}:0] st_rd;  // column st_c of the previous {sh - 1} rows",
                  f"wire [{col - 1}:0] st_col = {{st_px, st_rd}};"]
        if wp > 1:
            depth = wp
            lines += [f"reg [{lb - 1}:0] st_lb [0:{wp - 1}];  // line buffer: {sh - 1} rows of {wp} pixels",
                      "always @(posedge clk)", "    if (st_adv) begin",
                      f"        st_lb[st_c] <= st_col[{col - 1}:{pw}];", "        st_rd <= st_lb[st_cn];", "    end"]
        else:
            lines.append(f"always @(posedge clk) if (st_adv) st_rd <= st_col[{col - 1}:{pw}];")
    else:
        lines.append(f"wire [{col - 1}:0] st_col = st_px;")
    win = sw * col
    if sw > 1:
        lines += [f"reg [{win - col - 1}:0] st_win;  // the window's last {sw - 1} columns",
                  f"wire [{win - 1}:0] st_nw = {{st_col, st_win}};",
                  f"always @(posedge clk) if (st_adv) st_win <= st_nw[{win - 1}:{col}];"]
    else:
        lines.append(f"wire [{win - 1}:0] st_nw = st_col;")
    # the window in the emitter's C order (channel, row, column) from (column, row, channel)
    parts = []
    for ci in range(c_in):
        for kh in range(sh):
            for kw in range(sw):
                parts.append(f"st_nw[{((kw * sh + kh) * c_in + ci) * ew_in} +: {ew_in}]")
    lines.append(f"wire [{win - 1}:0] x0 = {{{', '.join(reversed(parts))}}};")
    lines.append(f"wire [{ow - 1}:0] y;")
    lines += body.lines + _valid(body.latency, "st_adv && st_emit") + ["assign out_data = y;"]
    steps = [(pad_rows[r] or pad_cols[c], rows_out[r] and cols_out[c]) for r in range(hp) for c in range(wp)]
    return StreamLayer(lines, body, pw, ow, hp * wp, depth, lb if depth else 0, win - col,
                       win - col + lb + rw + cw, steps)


def _valid(latency: int, into: str) -> list[str]:
    return [f"hwc_valid_pipe #(.L({latency})) st_valid (.clk(clk), .rst(rst), .ce(ce), .in_valid({into}), "
            ".out_valid(out_valid));"]
