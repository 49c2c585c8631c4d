// Sliding windows for convolution and pooling: one gather, two sources (a whole array, or a stream
// through a line buffer), so the array and the stream kernels compute from identical windows.
//
// Layout: a sample is [n_chan][in_height][in_width] (NCHW without N), flat and row-major; the output
// [n_out][out_height][out_width]. A window is [n_chan][kernel_height][kernel_width]: tap (c, ky, kx)
// of output (oh, ow) is input (c, oh*stride_height + ky*dilation_height - pad_top,
// ow*stride_width + kx*dilation_width - pad_left). Taps outside the input are 0 with valid = false.
// The output size (including ceil_mode) comes from the config; a tap past the end padding is just
// another invalid tap.
#ifndef HWC_WINDOW_H
#define HWC_WINDOW_H

#include "hwc_types.h"

namespace hwc {

template <typename CONFIG_T> struct window {
    static const unsigned taps = CONFIG_T::kernel_height * CONFIG_T::kernel_width;
    static const unsigned size = CONFIG_T::n_chan * taps;
    static const unsigned span_height = (CONFIG_T::kernel_height - 1) * CONFIG_T::dilation_height + 1;
    static int row(unsigned oh, unsigned ky) {
        return int(oh * CONFIG_T::stride_height + ky * CONFIG_T::dilation_height) - int(CONFIG_T::pad_top);
    }
    static int col(unsigned ow, unsigned kx) {
        return int(ow * CONFIG_T::stride_width + kx * CONFIG_T::dilation_width) - int(CONFIG_T::pad_left);
    }
};

// The two sources of input pixels: a whole sample, or the line buffer of the last L rows.
template <class data_T, typename CONFIG_T> struct array_source {
    const data_T *data;
    data_T at(unsigned c, int iy, int ix) const { return data[(c * CONFIG_T::in_height + iy) * CONFIG_T::in_width + ix]; }
};
template <class data_T, typename CONFIG_T, unsigned L> struct line_source {
    data_T (*line)[CONFIG_T::in_width][CONFIG_T::n_chan];
    data_T at(unsigned c, int iy, int ix) const { return line[unsigned(iy) % L][ix][c]; }
};

// Window of output (oh, ow).
template <class data_T, typename CONFIG_T, class SRC>
void gather_window(const SRC &src, unsigned oh, unsigned ow, data_T win[], bool valid[]) {
    HWC_INLINE
    typedef window<CONFIG_T> G;
    HWC_LOOP_UNROLL
    for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
        HWC_UNROLL
        HWC_LOOP_UNROLL
        for (unsigned ky = 0; ky < CONFIG_T::kernel_height; ky++) {
            HWC_UNROLL
            HWC_LOOP_UNROLL
            for (unsigned kx = 0; kx < CONFIG_T::kernel_width; kx++) {
                HWC_UNROLL
                int iy = G::row(oh, ky), ix = G::col(ow, kx);
                bool in = iy >= 0 && iy < int(CONFIG_T::in_height) && ix >= 0 && ix < int(CONFIG_T::in_width);
                unsigned t = (c * CONFIG_T::kernel_height + ky) * CONFIG_T::kernel_width + kx;
                valid[t] = in;
                if (in)
                    win[t] = src.at(c, iy, ix);
                else
                    set_zero(win[t]);
            }
        }
    }
}

// OP: struct with `static const unsigned n_out` and
//     template <class data_T, class res_T> static void apply(const data_T win[], const bool valid[],
//                                                            unsigned oh, unsigned ow, res_T out[n_out]).
template <class data_T, class res_T, typename CONFIG_T, class OP>
void window_array(const data_T data[], res_T res[]) {
    typedef window<CONFIG_T> G;
    for (unsigned oh = 0; oh < CONFIG_T::out_height; oh++) {
        HWC_LOOP_PIPELINE(CONFIG_T::reuse_factor)
        for (unsigned ow = 0; ow < CONFIG_T::out_width; ow++) {
            HWC_PIPELINE(CONFIG_T::reuse_factor)
            HWC_REGISTER data_T win[G::size];
            HWC_ARRAY_PARTITION_COMPLETE(win)
            HWC_REGISTER bool valid[G::size];
            HWC_ARRAY_PARTITION_COMPLETE(valid)
            HWC_REGISTER res_T px[OP::n_out];
            HWC_ARRAY_PARTITION_COMPLETE(px)
            array_source<data_T, CONFIG_T> src = {data};
            gather_window<data_T, CONFIG_T>(src, oh, ow, win, valid);
            OP::template apply<data_T, res_T>(win, valid, oh, ow, px);
            HWC_LOOP_UNROLL
            for (unsigned m = 0; m < OP::n_out; m++) {
                HWC_UNROLL
                res[(m * CONFIG_T::out_height + oh) * CONFIG_T::out_width + ow] = px[m];
            }
        }
    }
}

// Stream: pixels arrive in raster order, each a vector of n_chan channels; outputs leave in raster
// order, each a vector of OP::n_out. The loop walks the padded plane (including a ceil_mode overhang)
// in raster order, one position per iteration: it reads the input pixel there, if there is one, and
// computes the output whose window ends there, if there is one (each output has its own last tap, so
// one read and at most one write per iteration, fixed trip counts). A line buffer keeps the last
// span_height input rows: when a window's last tap has been read, its other rows are still there.
template <class data_T, class res_T, typename CONFIG_T, class OP>
void window_stream(stream<array<data_T, CONFIG_T::n_chan> > &data, stream<array<res_T, OP::n_out> > &res) {
    typedef window<CONFIG_T> G;
    const unsigned L = G::span_height;
    const unsigned span_w = (CONFIG_T::kernel_width - 1) * CONFIG_T::dilation_width + 1;
    const unsigned VH = cmax(CONFIG_T::in_height + CONFIG_T::pad_top, (CONFIG_T::out_height - 1) * CONFIG_T::stride_height + L);
    const unsigned VW = cmax(CONFIG_T::in_width + CONFIG_T::pad_left, (CONFIG_T::out_width - 1) * CONFIG_T::stride_width + span_w);
    data_T line[L][CONFIG_T::in_width][CONFIG_T::n_chan];
    for (unsigned vr = 0; vr < VH; vr++) {
        HWC_LOOP_PIPELINE(1)
        for (unsigned vc = 0; vc < VW; vc++) {
            HWC_PIPELINE(1)
            int r = int(vr) - int(CONFIG_T::pad_top), c = int(vc) - int(CONFIG_T::pad_left);
            if (r >= 0 && r < int(CONFIG_T::in_height) && c >= 0 && c < int(CONFIG_T::in_width)) {
                array<data_T, CONFIG_T::n_chan> p = data.read();
                HWC_LOOP_UNROLL
                for (unsigned ch = 0; ch < CONFIG_T::n_chan; ch++) {
                    HWC_UNROLL
                    line[unsigned(r) % L][c][ch] = p[ch];
                }
            }
            int top = int(vr) - int(L - 1), left = int(vc) - int(span_w - 1);  // the window's first tap
            if (top < 0 || left < 0 || top % CONFIG_T::stride_height || left % CONFIG_T::stride_width) continue;
            unsigned oh = unsigned(top) / CONFIG_T::stride_height, ow = unsigned(left) / CONFIG_T::stride_width;
            if (oh >= CONFIG_T::out_height || ow >= CONFIG_T::out_width) continue;
            HWC_REGISTER data_T win[G::size];
            HWC_ARRAY_PARTITION_COMPLETE(win)
            HWC_REGISTER bool valid[G::size];
            HWC_ARRAY_PARTITION_COMPLETE(valid)
            line_source<data_T, CONFIG_T, L> src = {line};
            gather_window<data_T, CONFIG_T>(src, oh, ow, win, valid);
            array<res_T, OP::n_out> px;
            OP::template apply<data_T, res_T>(win, valid, oh, ow, px.data);
            res.write(px);
        }
    }
}

// 1-D layers are 2-D layers of height 1: [n_chan][in_width] is [n_chan][1][in_width].
template <typename CONFIG_T> struct as_2d : CONFIG_T {
    static const unsigned in_height = 1, out_height = 1, kernel_height = 1, stride_height = 1, dilation_height = 1,
                          pad_top = 0, pad_bottom = 0;
};

}  // namespace hwc

#endif
