"""HLS emitters of dense algebra and pooling: Dense and Conv as nonzero-weight triplets with their
accumulator, max/average/global pooling with exact reciprocal tables."""

from __future__ import annotations

import math

import numpy as np

from ..compiler.ir.graph import Node
from ..compiler.ir.types import FixedType
from ..compiler.sim import tables

from .hls_emit_base import EmitterBase
from .hls_text import Layer, array_def, fixed_array, literal, per_sample, size

# A Dense/Conv weight matrix is written in full (no index arrays) when at most 1/FULL_DENSITY of it is zero.
FULL_DENSITY = 8


class DenseEmitters(EmitterBase):
    """Dense, Conv, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool."""

    # -- dense algebra --
    def _triplets(self, layer: Layer, members: list[str], w: np.ndarray, ins, outs, wt: FixedType, k: int,
                  n_in: int, n_out: int):
        """The weights W[in, out] (w[t] at (ins[t], outs[t]); absent pairs are zero) in one of two forms:
        full (`full_matrix`: every entry of the row-major [n_in][n_out] matrix, no index arrays) when at
        most 1/8 of the entries are zero, with the latency strategy (fully unrolled, so term k's indices
        k / n_out and k % n_out are constants; the resource strategy's pipelined steps would compute them),
        and not for ±1 weights with zeros (those keep the add/subtract path of binary weights);
        otherwise the nonzero (in, out, weight) triplets, at least one (a zero weight) for an all-zero layer."""
        nz = np.flatnonzero(w)
        layer.multipliers = int(nz.size)
        layer.binary = wt.width == 2 and nz.size > 0 and bool(np.all(np.abs(w[nz]) == 1))
        full = nz.size * FULL_DENSITY >= n_in * n_out * (FULL_DENSITY - 1) and nz.size > 0 and \
            self.strategy == "latency" and not (layer.binary and nz.size < n_in * n_out)
        if full:
            vals = np.zeros(n_in * n_out, dtype=np.asarray(w).dtype)
            vals[np.asarray(ins)[nz] * n_out + np.asarray(outs)[nz]] = w[nz]
        elif nz.size == 0:
            ins, outs, vals = np.array([0]), np.array([0]), np.array([0])
        else:
            ins, outs, vals = ins[nz], outs[nz], w[nz]
        # weights as integer mantissas (hwc::weight_value reinterprets them): no static initializer for g++
        decl, weights = fixed_array("weight", "weight_t", f"config{k}::weight", vals, wt)
        members += [f"static const unsigned n_nonzero = {len(vals)};", f"static const bool binary = {str(layer.binary).lower()};",
                    f"typedef {self.spell(wt)} weight_t;"]
        members.append(f"static const bool full_matrix = {str(full).lower()};")
        if full:
            members.append(decl)
            layer.arrays.append(weights)
        else:
            members += [f"static const unsigned in_index[{len(vals)}], out_index[{len(vals)}];", decl]
            layer.arrays += [array_def("unsigned", f"config{k}::in_index", np.asarray(ins)),
                             array_def("unsigned", f"config{k}::out_index", np.asarray(outs)), weights]

    def _common_acc(self, layer: Layer, node: Node, members: list[str], k: int, n_out: int):
        acc: FixedType = node.attrs["accum"]
        members += [f"typedef {self.spell(acc)} accum_t;", "typedef accum_t sum_t;",
                    f"static const hwc::strategy_t strategy = hwc::{self.strategy};",
                    f"static const unsigned reuse_factor = {self.reuse_of(node)};"]
        ws = node.attrs.get("weight_shift")
        if ws:
            members += [f"static const unsigned max_shift = {max(ws)};", f"static const unsigned weight_shift[{n_out}];"]
            layer.arrays.append(array_def("unsigned", f"config{k}::weight_shift", list(ws)))
        else:
            members.append("static const unsigned max_shift = 0;")
        b = node.input(2)
        members.append(f"static const bool has_bias = {'true' if b is not None else 'false'};")
        if b is not None:
            bt = b.type.elem
            decl, definition = fixed_array("bias", "bias_t", f"config{k}::bias", b.const, bt)
            members += [f"typedef {self.spell(bt)} bias_t;", decl]
            layer.arrays.append(definition)

    def _Dense(self, layer, node, args, out):
        k = layer.index
        w = np.asarray(node.inputs[1].const)
        n_in, n_out = w.shape
        kk, jj = np.meshgrid(np.arange(n_in), np.arange(n_out), indexing="ij")
        members = [f"static const unsigned n_in = {n_in}, n_out = {n_out};"]
        self._triplets(layer, members, w.reshape(-1), kk.reshape(-1), jj.reshape(-1), node.inputs[1].type.elem, k, n_in, n_out)
        self._common_acc(layer, node, members, k, n_out)
        rows = size(node.inputs[0]) // n_in
        kernel = "dense"
        if rows > 1:  # a Dense over the last axis of [rows, n_in] (e.g. tokens): the kernel once per row
            members.append(f"static const unsigned n_rows = {rows};")
            layer.header, kernel = "hwc_transformer.h", "dense_rows"
        elif self._xnor(node, w):
            self._sign_words(layer, members, w, k)
            layer.header, kernel = "hwc_xnor.h", "dense_xnor"
        layer.config = self._struct(k, members)
        layer.calls.append(self._call(kernel, node, args[:1], out, k))

    @staticmethod
    def _xnor(node, w: np.ndarray) -> bool:
        """Bipolar inputs (±1 from a Bipolar node) and binary weights, none pruned: XNOR-popcount
        (w: the Dense matrix or the Conv kernel)."""
        x, wt = node.inputs[0], node.inputs[1].type.elem
        return (x.producer is not None and x.producer.op == "Bipolar" and x.type.elem == FixedType(2, 2, True)
                and wt.width == 2 and bool(np.all(np.abs(w) == 1)))

    def _sign_words(self, layer: Layer, members: list[str], w: np.ndarray, k: int):
        """weight_sign[o * words + j]: bit b set when w[32 j + b, o] > 0, w as [n_in, n_out] (hwc_xnor.h)."""
        n_in, n_out = w.shape
        words = -(-n_in // 32)
        bits = np.zeros((n_out, words * 32), np.uint64)
        bits[:, :n_in] = (w.T > 0)
        packed = (bits.reshape(n_out, words, 32) << np.arange(32, dtype=np.uint64)).sum(axis=2)
        members += [f"static const unsigned words = {words};", f"static const uint32_t weight_sign[{n_out * words}];"]
        layer.arrays.append(array_def("uint32_t", f"config{k}::weight_sign", [f"{int(v)}u" for v in packed.reshape(-1)]))

    def _Conv(self, layer, node, args, out):
        k = layer.index
        a = node.attrs
        w = np.asarray(node.inputs[1].const)
        m_out, cg = w.shape[:2]
        nd = w.ndim - 2
        x_shape, y_shape = per_sample(node.inputs[0]), per_sample(node.output)
        n_chan, g = x_shape[0], a["group"]
        mg = m_out // g
        kh, kw = (w.shape[2], w.shape[3]) if nd == 2 else (1, w.shape[2])
        # triplets over (m, absolute c, ky, kx)
        m_i, c_l, ky, kx = np.meshgrid(np.arange(m_out), np.arange(cg), np.arange(kh), np.arange(kw), indexing="ij")
        c_abs = (m_i // mg) * cg + c_l
        ins = ((c_abs * kh + ky) * kw + kx).reshape(-1)
        w4 = w.reshape(m_out, cg, kh, kw)
        members = [f"static const unsigned n_chan = {n_chan}, n_filt = {m_out};"]
        if nd == 2:
            (ih, iw), (oh, ow) = x_shape[1:], y_shape[1:]
            members += [f"static const unsigned in_height = {ih}, in_width = {iw}, out_height = {oh}, out_width = {ow};",
                        f"static const unsigned kernel_height = {kh}, kernel_width = {kw};",
                        f"static const unsigned stride_height = {a['strides'][0]}, stride_width = {a['strides'][1]};",
                        f"static const unsigned dilation_height = {a['dilations'][0]}, dilation_width = {a['dilations'][1]};",
                        f"static const unsigned pad_top = {a['pads'][0]}, pad_left = {a['pads'][1]}, "
                        f"pad_bottom = {a['pads'][2]}, pad_right = {a['pads'][3]};"]
        else:
            members += [f"static const unsigned in_width = {x_shape[1]}, out_width = {y_shape[1]}, kernel_width = {kw};",
                        f"static const unsigned stride_width = {a['strides'][0]}, dilation_width = {a['dilations'][0]};",
                        f"static const unsigned pad_left = {a['pads'][0]}, pad_right = {a['pads'][1]};"]
        self._triplets(layer, members, w4.reshape(-1), ins, m_i.reshape(-1), node.inputs[1].type.elem, k,
                       n_chan * kh * kw, m_out)
        self._common_acc(layer, node, members, k, m_out)
        kernel = "conv2d" if nd == 2 else "conv1d"
        if g == 1 and not any(a["pads"]) and self._xnor(node, w):  # zero padding is not ±1: XNOR needs none
            self._sign_words(layer, members, w4.reshape(m_out, -1).T, k)
            layer.header, kernel = "hwc_xnor.h", kernel + "_xnor"
        layer.config = self._struct(k, members)
        layer.calls.append(self._call(kernel, node, args[:1], out, k))


    # -- pooling --
    def _window(self, node, members, dilation=True):
        a = node.attrs
        x_shape, y_shape = per_sample(node.inputs[0]), per_sample(node.output)
        nd = len(a["kernel_shape"])
        dil = a.get("dilations", [1] * nd)
        members.append(f"static const unsigned n_chan = {x_shape[0]}, reuse_factor = 1;")
        if nd == 2:
            members += [f"static const unsigned in_height = {x_shape[1]}, in_width = {x_shape[2]}, "
                        f"out_height = {y_shape[1]}, out_width = {y_shape[2]};",
                        f"static const unsigned kernel_height = {a['kernel_shape'][0]}, kernel_width = {a['kernel_shape'][1]};",
                        f"static const unsigned stride_height = {a['strides'][0]}, stride_width = {a['strides'][1]};",
                        f"static const unsigned dilation_height = {dil[0]}, dilation_width = {dil[1]};",
                        f"static const unsigned pad_top = {a['pads'][0]}, pad_left = {a['pads'][1]}, "
                        f"pad_bottom = {a['pads'][2]}, pad_right = {a['pads'][3]};"]
        else:
            members += [f"static const unsigned in_width = {x_shape[1]}, out_width = {y_shape[1]}, "
                        f"kernel_width = {a['kernel_shape'][0]};",
                        f"static const unsigned stride_width = {a['strides'][0]}, dilation_width = {dil[0]};",
                        f"static const unsigned pad_left = {a['pads'][0]}, pad_right = {a['pads'][1]};"]
        return nd

    def _MaxPool(self, layer, node, args, out):
        members: list[str] = []
        nd = self._window(node, members)
        layer.config = self._struct(layer.index, members)
        layer.calls.append(self._call(f"max_pool{nd}d", node, args[:1], out, layer.index))

    def _AveragePool(self, layer, node, args, out):
        k = layer.index
        a = node.attrs
        members: list[str] = []
        nd = self._window(node, members)
        r = a["recip_bits"]
        n = math.prod(a["kernel_shape"])
        recip = tables.reciprocal_table(n, r)
        rt = FixedType(r + 1, 1, False)
        members += [f"static const bool count_include_pad = {'true' if a['count_include_pad'] else 'false'};",
                    f"typedef {self.spell(rt)} recip_t;"]
        decl, definition = fixed_array("recip", "recip_t", f"config{k}::recip", recip, rt)
        members.append(decl)
        layer.arrays.append(definition)
        layer.config = self._struct(k, members)
        layer.calls.append(self._call(f"avg_pool{nd}d", node, args[:1], out, k))

    def _global(self, layer, node, args, out, kernel, avg):
        k = layer.index
        shape = per_sample(node.inputs[0])
        n_in = math.prod(shape[1:])
        members = [f"static const unsigned n_chan = {shape[0]}, n_in = {n_in};"]
        if avg:
            r = node.attrs["recip_bits"]
            rt = FixedType(r + 1, 1, False)
            members += [f"typedef {self.spell(rt)} recip_t;", "static const recip_t recip;"]
            layer.arrays.append(f"const config{k}::recip_t config{k}::recip = "
                                f"{literal(int(tables.reciprocal_table(n_in, r)[n_in]), r)};")
        layer.config = self._struct(k, members)
        layer.calls.append(self._call(kernel, node, args[:1], out, k))

    def _GlobalAveragePool(self, layer, node, args, out):
        self._global(layer, node, args, out, "global_avg_pool", True)

    def _GlobalMaxPool(self, layer, node, args, out):
        self._global(layer, node, args, out, "global_max_pool", False)
