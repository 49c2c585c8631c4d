"""Cycle timing of the streaming form, from a cycle-by-cycle model of its flow control (the position
counters, valid pipelines, collector and the unrolled core's hwc_axis_ctrl; no data), so that rtl.json
states the latency and the cycles per frame that `hwc verify` then measures and checks:
- latency: a frame alone (its beats offered back to back, output always ready), cycles from its first
  input beat to its last output beat;
- cycles per frame: frames 1 and 2 offered back to back after frame 0 is out, cycles between the last
  output beats of frames 1 and 2 (what the testbench measures).
Each streaming layer advances when ce = !out_valid || out_ready; a windowed one takes input only at
non-padding positions (rtl_stream.py), a per-pixel one at every advance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..compiler.errors import HwcError


@dataclass
class _Layer:
    latency: int
    walk: list[tuple[bool, bool]] | None  # windowed: (padding, emits) per padded position, raster order
    pos: int = 0
    pipe: list[bool] = field(default_factory=list)

    def __post_init__(self):
        self.pipe = [False] * self.latency

    @property
    def out_valid(self) -> bool:
        return self.pipe[-1]


class StreamTiming:
    """layers: (latency >= 1, walk or None) in order; pixels: the collector's pixels per frame (None: no
    collector, the last layer's pixels are the output); core: the unrolled core's latency."""

    def __init__(self, layers: list[tuple[int, list | None]], in_beats: int, out_beats: int, pixels: int | None,
                 core: int):
        self.spec, self.in_beats, self.out_beats, self.pixels, self.core = layers, in_beats, out_beats, pixels, core

    def run(self) -> tuple[int, int]:
        """(latency, cycles per frame) as the testbench measures them."""
        layers = [_Layer(lat, w) for lat, w in self.spec]
        count, word, tail = 0, False, [False] * self.core
        offered, out, t, t_first, lasts = 0, 0, 0, None, []
        frames_in = 1
        while len(lasts) < 3:
            # ready, from the output backwards
            ready = True
            if self.pixels is not None:
                ce_tail = not tail[-1] or ready if self.core else True
                word_ready = ce_tail if self.core else ready
                ready = ready_collector(count, self.pixels, word, word_ready)
            collect_ready = ready
            ces, readies = [], []
            for l in reversed(layers):
                ce = not l.out_valid or ready
                pad = l.walk is not None and l.walk[l.pos][0]
                ces.append(ce)
                readies.append(ce and not pad)
                ready = readies[-1]
            ces.reverse()
            readies.reverse()
            # valid, from the input forwards; then the registers update
            valid = offered < frames_in * self.in_beats
            if valid and readies[0]:
                offered += 1
                if t_first is None:
                    t_first = t
            for l, ce, rdy in zip(layers, ces, readies):
                nxt = l.out_valid
                if l.walk is None:
                    into = valid
                else:
                    adv = ce and (l.walk[l.pos][0] or valid)
                    into = adv and l.walk[l.pos][1]
                    if adv:
                        l.pos = (l.pos + 1) % len(l.walk)
                if ce:
                    l.pipe = [into] + l.pipe[:-1]
                valid = nxt
            if self.pixels is not None:
                take = valid and collect_ready
                fire_word = word and word_ready
                if self.core:
                    out_valid = tail[-1]
                    if ce_tail:
                        tail = [word] + tail[:-1]
                else:
                    out_valid = word
                if fire_word:
                    word = False
                if take:
                    if count == self.pixels - 1:
                        count, word = 0, True
                    else:
                        count += 1
                valid = out_valid
            if valid:  # the output is always ready
                out += 1
                if out % self.out_beats == 0:
                    lasts.append(t)
                    if len(lasts) == 1:
                        frames_in = 3
            t += 1
            if t > 64 * (self.in_beats + sum(len(l.walk or []) for l in layers) + self.core + 16):
                raise HwcError("internal: the stream timing model does not finish a frame")
        return lasts[0] - t_first, lasts[2] - lasts[1]


def ready_collector(count: int, pixels: int, word: bool, word_ready: bool) -> bool:
    """hwc_stream_collect's in_ready."""
    return count != pixels - 1 or not word or word_ready
