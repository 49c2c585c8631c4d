// Dense layer over a list of weights (docs/HLS_KERNELS.md, docs/FIXED_POINT.md "Dense").
//
//   sum[o]  = Σ_{k: out(k) = o} data[in(k)] * weight[k]      in sum_t
//   in(k), out(k) = in_index[k], out_index[k]   (the nonzero weights: sparse form)
//                 = k / n_out,   k % n_out       (`full_matrix = true`: every weight
//                                                  of W[n_in][n_out], row-major; a zero is a constant 0)
//   acc[o]  = accum_t( (sum[o] << weight_shift[o]) + accum_t(bias[o]) )
//   res[o]  = res_t(acc[o])
//
// This is the simulator's order (fixed_ops.dense/_accumulate): the bias is first cast into accum_t,
// the shifted sum and the bias are added exactly, and the total is assigned to accum_t once. sum_t is
// either exact, or accum_t itself when accum_t wraps: WRAP is arithmetic modulo 2^W, so a sum that
// wraps term by term, then shifts inside the width, ends with the same bits as the exact total.
// Zero weights are not in a sparse list, so pruning removes their multipliers; in the full form HLS
// removes a multiplication by a constant zero itself (latency strategy: fully unrolled).
#ifndef HWC_DENSE_H
#define HWC_DENSE_H

#include "hwc_types.h"

namespace hwc {

// Term k's input and output index: listed (no index arrays are read in the full form).
template <typename CONFIG_T, bool FULL> struct dense_index {
    static unsigned in(unsigned k) { return CONFIG_T::in_index[k]; }
    static unsigned out(unsigned k) { return CONFIG_T::out_index[k]; }
};
template <typename CONFIG_T> struct dense_index<CONFIG_T, true> {
    static unsigned in(unsigned k) { return k / CONFIG_T::n_out; }
    static unsigned out(unsigned k) { return k % CONFIG_T::n_out; }
};

// One term: acc[out] += x * w. Binary weights are ±2^-f (mantissa ±1 of weight_t): x reinterpreted
// with f more fraction bits is x * |w| as wiring, so the multiplier becomes an add or a subtract.
template <class data_T, typename CONFIG_T, bool BINARY> struct dense_term {
    static void add(typename CONFIG_T::sum_t acc[], const data_T in[], unsigned k) {
        typedef dense_index<CONFIG_T, CONFIG_T::full_matrix> ix;
        accumulate(acc[ix::out(k)], in[ix::in(k)] * weight_value<typename CONFIG_T::weight_t>(CONFIG_T::weight[k]));
    }
};
template <class data_T, typename CONFIG_T> struct dense_term<data_T, CONFIG_T, true> {
    static void add(typename CONFIG_T::sum_t acc[], const data_T in[], unsigned k) {
        typedef dense_index<CONFIG_T, CONFIG_T::full_matrix> ix;
        typedef fixed_traits<data_T> dt;
        typedef typename CONFIG_T::weight_t weight_t;
        typename fixed_type<dt::width, dt::int_bits - fixed_traits<weight_t>::frac_bits, dt::is_signed>::type t;
        copy_bits(t, in[ix::in(k)]);
        if (is_negative(weight_value<weight_t>(CONFIG_T::weight[k])))
            subtract(acc[ix::out(k)], t);
        else
            accumulate(acc[ix::out(k)], t);
    }
};

// The per-channel shift (absent when max_shift == 0, so configs need no weight_shift array then).
template <typename CONFIG_T, bool SHIFT> struct dense_shift {
    template <class T> static void apply(T &s, unsigned o) { shift_left(s, CONFIG_T::weight_shift[o]); }
};
template <typename CONFIG_T> struct dense_shift<CONFIG_T, false> {
    template <class T> static void apply(T &, unsigned) {}
};

// accum_t(s + accum_t(bias)) (no bias array needed when has_bias is false).
template <typename CONFIG_T, bool BIAS> struct dense_bias {
    template <class T> static typename CONFIG_T::accum_t apply(const T &s, unsigned o) {
        typename CONFIG_T::accum_t a;
        assign_sum(a, s, weight_value<typename CONFIG_T::bias_t>(CONFIG_T::bias[o]));
        return a;
    }
};
template <typename CONFIG_T> struct dense_bias<CONFIG_T, false> {
    template <class T> static typename CONFIG_T::accum_t apply(const T &s, unsigned) {
        typename CONFIG_T::accum_t a = s;
        return a;
    }
};

// Shared by dense and conv (a conv output pixel is a dense layer over its window).
template <class data_T, class res_T, typename CONFIG_T> void dense_core(const data_T in[], res_T out[]) {
    HWC_INLINE
    typedef typename CONFIG_T::sum_t sum_t;
    typedef dense_term<data_T, CONFIG_T, CONFIG_T::binary> term;
    const unsigned R = CONFIG_T::strategy == latency ? 1 : CONFIG_T::reuse_factor;
    const unsigned B = cdiv(CONFIG_T::n_nonzero, R);  // terms per step; the last step may be short

    HWC_REGISTER sum_t acc[CONFIG_T::n_out];
    HWC_ARRAY_PARTITION_COMPLETE(acc)
    HWC_LOOP_UNROLL
    for (unsigned o = 0; o < CONFIG_T::n_out; o++) {
        HWC_UNROLL
        set_zero(acc[o]);
    }

    // latency: R = 1, one fully unrolled step. resource: R pipelined steps of B terms (II = R for the
    // layer); term k runs in step k % R. Either way every term is added once, so the bits are the same.
    HWC_LOOP_PIPELINE(1)
    for (unsigned r = 0; r < R; r++) {
        HWC_PIPELINE(1)
        HWC_LOOP_UNROLL
        for (unsigned b = 0; b < B; b++) {
            HWC_UNROLL
            unsigned k = b * R + r;
            if (k < CONFIG_T::n_nonzero) term::add(acc, in, k);
        }
    }

    // Widened so that the shift keeps every bit; accum_t then wraps (or saturates) the total once.
    typedef fixed_traits<sum_t> st;
    typedef typename fixed_type<st::width + CONFIG_T::max_shift, st::int_bits + CONFIG_T::max_shift, st::is_signed>::type
        wide_t;
    HWC_LOOP_UNROLL
    for (unsigned o = 0; o < CONFIG_T::n_out; o++) {
        HWC_UNROLL
        wide_t s = acc[o];
        dense_shift<CONFIG_T, (CONFIG_T::max_shift > 0)>::apply(s, o);
        assign(out[o], dense_bias<CONFIG_T, CONFIG_T::has_bias>::apply(s, o));
    }
}

template <class data_T, class res_T, typename CONFIG_T>
void dense(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_out]) {
    HWC_INLINE
    dense_core<data_T, res_T, CONFIG_T>(data, res);
}

// One stream element in (the whole input vector), one out.
template <class data_T, class res_T, typename CONFIG_T>
void dense_stream(stream<array<data_T, CONFIG_T::n_in> > &data, stream<array<res_T, CONFIG_T::n_out> > &res) {
    array<data_T, CONFIG_T::n_in> x = data.read();
    array<res_T, CONFIG_T::n_out> y;
    dense_core<data_T, res_T, CONFIG_T>(x.data, y.data);
    res.write(y);
}

}  // namespace hwc

#endif
