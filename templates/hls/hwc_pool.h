// Max and average pooling over hwc_window.h windows, and global pooling (docs/FIXED_POINT.md).
//
// max:  the largest valid tap (padding never wins), then res_t.
// avg:  s = Σ valid taps (exact), res_t(s * recip[n]) with n the ONNX divisor of the window: the taps
//       inside the input, or with count_include_pad the taps inside input + explicit padding (never the
//       ceil_mode overhang). recip[n] = round_half_up(2^r / n) / 2^r, the table of
//       compiler/tables.reciprocal_table, emitted by the generator as recip_t values.
#ifndef HWC_POOL_H
#define HWC_POOL_H

#include "hwc_window.h"

namespace hwc {

template <typename CONFIG_T> struct max_pool_op {
    static const unsigned n_out = CONFIG_T::n_chan;
    template <class data_T, class res_T>
    static void apply(const data_T win[], const bool valid[], unsigned, unsigned, res_T out[]) {
        const unsigned T = window<CONFIG_T>::taps;
        HWC_LOOP_UNROLL
        for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
            HWC_UNROLL
            data_T m;  // 0 only if no tap is valid, which ONNX's pads < kernel rules out
            set_zero(m);
            bool any = false;
            HWC_LOOP_UNROLL
            for (unsigned t = 0; t < T; t++) {
                HWC_UNROLL
                if (valid[c * T + t] && (!any || greater(win[c * T + t], m))) {
                    m = win[c * T + t];
                    any = true;
                }
            }
            out[c] = m;
        }
    }
};

template <typename CONFIG_T> struct avg_pool_op {
    static const unsigned n_out = CONFIG_T::n_chan;
    // Taps of one window axis that the divisor counts.
    static unsigned count(int first, unsigned k, int size, int pad_begin, int pad_end) {
        int lo = CONFIG_T::count_include_pad ? -pad_begin : 0, hi = CONFIG_T::count_include_pad ? size + pad_end : size;
        unsigned n = 0;
        for (unsigned i = 0; i < k; i++) n += (first + int(i) >= lo && first + int(i) < hi) ? 1 : 0;
        return n;
    }
    template <class data_T, class res_T>
    static void apply(const data_T win[], const bool[], unsigned oh, unsigned ow, res_T out[]) {
        typedef window<CONFIG_T> G;
        typedef fixed_traits<data_T> dt;
        const int g = clog2(G::taps);
        typedef typename fixed_type<dt::width + g, dt::int_bits + g, dt::is_signed>::type sum_t;
        unsigned n = count(G::row(oh, 0), CONFIG_T::kernel_height, CONFIG_T::in_height, CONFIG_T::pad_top,
                           CONFIG_T::pad_bottom) *
                     count(G::col(ow, 0), CONFIG_T::kernel_width, CONFIG_T::in_width, CONFIG_T::pad_left,
                           CONFIG_T::pad_right);
        HWC_LOOP_UNROLL
        for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
            HWC_UNROLL
            sum_t s;
            set_zero(s);
            HWC_LOOP_UNROLL
            for (unsigned t = 0; t < G::taps; t++) {
                HWC_UNROLL
                s += win[c * G::taps + t];  // invalid taps are 0
            }
            out[c] = s * weight_value<typename CONFIG_T::recip_t>(CONFIG_T::recip[n]);
        }
    }
};

template <class data_T, class res_T, typename CONFIG_T>
void max_pool2d(const data_T data[], res_T res[]) {
    window_array<data_T, res_T, CONFIG_T, max_pool_op<CONFIG_T> >(data, res);
}
template <class data_T, class res_T, typename CONFIG_T>
void avg_pool2d(const data_T data[], res_T res[]) {
    window_array<data_T, res_T, CONFIG_T, avg_pool_op<CONFIG_T> >(data, res);
}
template <class data_T, class res_T, typename CONFIG_T>
void max_pool1d(const data_T data[], res_T res[]) {
    window_array<data_T, res_T, as_2d<CONFIG_T>, max_pool_op<as_2d<CONFIG_T> > >(data, res);
}
template <class data_T, class res_T, typename CONFIG_T>
void avg_pool1d(const data_T data[], res_T res[]) {
    window_array<data_T, res_T, as_2d<CONFIG_T>, avg_pool_op<as_2d<CONFIG_T> > >(data, res);
}

template <class data_T, class res_T, typename CONFIG_T>
void max_pool2d_stream(stream<array<data_T, CONFIG_T::n_chan> > &data, stream<array<res_T, CONFIG_T::n_chan> > &res) {
    window_stream<data_T, res_T, CONFIG_T, max_pool_op<CONFIG_T> >(data, res);
}
template <class data_T, class res_T, typename CONFIG_T>
void avg_pool2d_stream(stream<array<data_T, CONFIG_T::n_chan> > &data, stream<array<res_T, CONFIG_T::n_chan> > &res) {
    window_stream<data_T, res_T, CONFIG_T, avg_pool_op<CONFIG_T> >(data, res);
}
template <class data_T, class res_T, typename CONFIG_T>
void max_pool1d_stream(stream<array<data_T, CONFIG_T::n_chan> > &data, stream<array<res_T, CONFIG_T::n_chan> > &res) {
    window_stream<data_T, res_T, as_2d<CONFIG_T>, max_pool_op<as_2d<CONFIG_T> > >(data, res);
}
template <class data_T, class res_T, typename CONFIG_T>
void avg_pool1d_stream(stream<array<data_T, CONFIG_T::n_chan> > &data, stream<array<res_T, CONFIG_T::n_chan> > &res) {
    window_stream<data_T, res_T, as_2d<CONFIG_T>, avg_pool_op<as_2d<CONFIG_T> > >(data, res);
}

// ---- global pooling: [n_chan][n_in] -> [n_chan] (n_in = product of the spatial sizes) -------------------

template <class data_T, class res_T, typename CONFIG_T>
void global_max_pool(const data_T data[CONFIG_T::n_chan * CONFIG_T::n_in], res_T res[CONFIG_T::n_chan]) {
    HWC_LOOP_PIPELINE(1)
    for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
        HWC_PIPELINE(1)
        data_T m = data[c * CONFIG_T::n_in];
        HWC_LOOP_UNROLL
        for (unsigned i = 1; i < CONFIG_T::n_in; i++) {
            HWC_UNROLL
            if (greater(data[c * CONFIG_T::n_in + i], m)) m = data[c * CONFIG_T::n_in + i];
        }
        res[c] = m;
    }
}

template <class data_T, typename CONFIG_T> struct global_sum {
    typedef fixed_traits<data_T> dt;
    typedef typename fixed_type<dt::width + clog2(CONFIG_T::n_in), dt::int_bits + clog2(CONFIG_T::n_in), dt::is_signed>::type
        type;
};

// res = res_t(Σ x * recip) with recip = round_half_up(2^r / n_in) / 2^r (a scalar recip_t member).
template <class data_T, class res_T, typename CONFIG_T>
void global_avg_pool(const data_T data[CONFIG_T::n_chan * CONFIG_T::n_in], res_T res[CONFIG_T::n_chan]) {
    HWC_LOOP_PIPELINE(1)
    for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
        HWC_PIPELINE(1)
        typename global_sum<data_T, CONFIG_T>::type s;
        set_zero(s);
        HWC_LOOP_UNROLL
        for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
            HWC_UNROLL
            s += data[c * CONFIG_T::n_in + i];
        }
        res[c] = s * CONFIG_T::recip;
    }
}

// Stream: n_in pixel vectors in, one vector out.
template <class data_T, class res_T, typename CONFIG_T>
void global_max_pool_stream(stream<array<data_T, CONFIG_T::n_chan> > &data, stream<array<res_T, CONFIG_T::n_chan> > &res) {
    array<data_T, CONFIG_T::n_chan> m = data.read();
    HWC_LOOP_PIPELINE(1)
    for (unsigned i = 1; i < CONFIG_T::n_in; i++) {
        HWC_PIPELINE(1)
        array<data_T, CONFIG_T::n_chan> p = data.read();
        HWC_LOOP_UNROLL
        for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
            HWC_UNROLL
            if (greater(p[c], m[c])) m[c] = p[c];
        }
    }
    array<res_T, CONFIG_T::n_chan> y;
    for (unsigned c = 0; c < CONFIG_T::n_chan; c++) y[c] = m[c];
    res.write(y);
}

template <class data_T, class res_T, typename CONFIG_T>
void global_avg_pool_stream(stream<array<data_T, CONFIG_T::n_chan> > &data, stream<array<res_T, CONFIG_T::n_chan> > &res) {
    typename global_sum<data_T, CONFIG_T>::type s[CONFIG_T::n_chan];
    for (unsigned c = 0; c < CONFIG_T::n_chan; c++) set_zero(s[c]);
    HWC_LOOP_PIPELINE(1)
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
        HWC_PIPELINE(1)
        array<data_T, CONFIG_T::n_chan> p = data.read();
        HWC_LOOP_UNROLL
        for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
            HWC_UNROLL
            s[c] += p[c];
        }
    }
    array<res_T, CONFIG_T::n_chan> y;
    for (unsigned c = 0; c < CONFIG_T::n_chan; c++) y[c] = s[c] * CONFIG_T::recip;
    res.write(y);
}

}  // namespace hwc

#endif
