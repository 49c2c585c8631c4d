// XNOR-popcount Dense (and Conv without padding or groups) for bipolar inputs (±1, the Bipolar activation's type) and binary weights (±2^-f,
// every weight nonzero): with sign bits x_k = (x_k >= 0) and w_ok = (w_ok >= 0),
//   Σ_k x_k·w_ok = (2·popcount(~(x ^ w_o)) − n_in) · 2^-f
// exactly, so each output is a popcount of packed 32-bit words instead of n_in adds. The sum then takes
// Dense's path (hwc_dense.h): per-channel shift, bias, accum_t, res_t — the same bits as `dense`. A Conv
// is dense_xnor over each output pixel's window (hwc_conv.h), its sign words over [n_chan][kh][kw].
#ifndef HWC_XNOR_H
#define HWC_XNOR_H

#include "hwc_conv.h"
#include "hwc_dense.h"
#include "hwc_types.h"
#include "hwc_window.h"

namespace hwc {

inline unsigned popcount32(uint32_t v) {
    unsigned c = 0;
    HWC_LOOP_UNROLL
    for (unsigned i = 0; i < 32; i++) {
        HWC_UNROLL
        c += (v >> i) & 1u;
    }
    return c;
}

// Config members: n_in, n_out, words (= ceil(n_in / 32)), weight_sign[n_out * words] (bit k % 32 of word
// o * words + k / 32 set when w_ok > 0), weight_t, accum_t, sum_t, max_shift, weight_shift, has_bias, bias.
template <class data_T, class res_T, typename CONFIG_T>
void dense_xnor(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_out]) {
    typedef typename CONFIG_T::sum_t sum_t;
    const unsigned W = CONFIG_T::words;
    uint32_t x[W];
    HWC_ARRAY_PARTITION_COMPLETE(x)
    HWC_LOOP_UNROLL
    for (unsigned j = 0; j < W; j++) {
        HWC_UNROLL
        x[j] = 0;
    }
    HWC_LOOP_UNROLL
    for (unsigned k = 0; k < CONFIG_T::n_in; k++) {
        HWC_UNROLL
        if (!is_negative(data[k])) x[k / 32] |= 1u << (k % 32);
    }
    typedef fixed_traits<sum_t> st;
    typedef typename fixed_type<32, 32 - st::frac_bits, true>::type dot_t;
    typedef typename fixed_type<st::width + CONFIG_T::max_shift, st::int_bits + CONFIG_T::max_shift, st::is_signed>::type
        wide_t;
    HWC_LOOP_UNROLL
    for (unsigned o = 0; o < CONFIG_T::n_out; o++) {
        HWC_UNROLL
        unsigned agree = 0;
        HWC_LOOP_UNROLL
        for (unsigned j = 0; j < W; j++) {
            HWC_UNROLL
            const unsigned bits = j + 1 < W || CONFIG_T::n_in % 32 == 0 ? 32 : CONFIG_T::n_in % 32;
            const uint32_t mask = bits == 32 ? 0xffffffffu : (1u << bits) - 1u;
            agree += popcount32(~(x[j] ^ CONFIG_T::weight_sign[o * W + j]) & mask);
        }
        dot_t d;
        set_mantissa(d, 2 * (int)agree - (int)CONFIG_T::n_in);
        sum_t sum = d;
        wide_t s = sum;
        dense_shift<CONFIG_T, (CONFIG_T::max_shift > 0)>::apply(s, o);
        res[o] = dense_bias<CONFIG_T, CONFIG_T::has_bias>::apply(s, o);
    }
}

template <typename CONFIG_T> struct conv_xnor_op {
    static const unsigned n_out = CONFIG_T::n_filt;
    template <class data_T, class res_T>
    static void apply(const data_T win[], const bool[], unsigned, unsigned, res_T out[]) {
        dense_xnor<data_T, res_T, conv_as_dense<CONFIG_T> >(win, out);
    }
};

template <class data_T, class res_T, typename CONFIG_T>
void conv2d_xnor(const data_T data[CONFIG_T::n_chan * CONFIG_T::in_height * CONFIG_T::in_width],
                 res_T res[CONFIG_T::n_filt * CONFIG_T::out_height * CONFIG_T::out_width]) {
    window_array<data_T, res_T, CONFIG_T, conv_xnor_op<CONFIG_T> >(data, res);
}

template <class data_T, class res_T, typename CONFIG_T>
void conv1d_xnor(const data_T data[CONFIG_T::n_chan * CONFIG_T::in_width], res_T res[CONFIG_T::n_filt * CONFIG_T::out_width]) {
    window_array<data_T, res_T, as_2d<CONFIG_T>, conv_xnor_op<as_2d<CONFIG_T> > >(data, res);
}

}  // namespace hwc

#endif
