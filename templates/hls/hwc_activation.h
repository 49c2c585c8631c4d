// Activations (docs/FIXED_POINT.md): each computes an exact value and assigns it to res_t once.
//
// Element-wise ones are an `op` struct with `static res_T apply(x)`, run by `map` over an array
// (config: n_in) or a stream of vectors (config: n_in values in vectors of n_chan). Sigmoid/tanh and
// softmax read the tables of compiler/tables.py, emitted by the generator as config arrays; the table
// index is the input cast into a TRN/SAT fixed type whose mantissa is exactly the simulator's
// clamped floor((x + 2^r) * 2^(t - r - 1)) - 2^(t-1) (tables.function_index).
#ifndef HWC_ACTIVATION_H
#define HWC_ACTIVATION_H

#include "hwc_types.h"

namespace hwc {

template <class OP, class data_T, class res_T, typename CONFIG_T>
void map(const data_T data[CONFIG_T::n_in], res_T res[CONFIG_T::n_in]) {
    HWC_LOOP_UNROLL
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
        HWC_UNROLL
        res[i] = OP::template apply<data_T, res_T>(data[i]);
    }
}

template <class OP, class data_T, class res_T, typename CONFIG_T>
void map_stream(stream<array<data_T, CONFIG_T::n_chan> > &data, stream<array<res_T, CONFIG_T::n_chan> > &res) {
    HWC_LOOP_PIPELINE(1)
    for (unsigned i = 0; i < CONFIG_T::n_in / CONFIG_T::n_chan; i++) {
        HWC_PIPELINE(1)
        array<data_T, CONFIG_T::n_chan> x = data.read();
        array<res_T, CONFIG_T::n_chan> y;
        HWC_LOOP_UNROLL
        for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
            HWC_UNROLL
            y[c] = OP::template apply<data_T, res_T>(x[c]);
        }
        res.write(y);
    }
}

// max(x, 0)
template <typename CONFIG_T> struct relu_op {
    template <class data_T, class res_T> static res_T apply(const data_T &x) {
        res_T y;
        if (is_negative(x))
            set_zero(y);
        else
            assign(y, x);
        return y;
    }
};

// x >= 0 ? +1 : -1 (a binarised activation; res_T holds both)
template <typename CONFIG_T> struct bipolar_op {
    template <class data_T, class res_T> static res_T apply(const data_T &x) {
        res_T y = is_negative(x) ? res_T(-1) : res_T(1);
        return y;
    }
};

// x < 0 ? x * alpha : x, alpha = param_t(CONFIG_T::alpha) (the simulator's from_float of the attribute).
template <typename CONFIG_T> struct leaky_relu_op {
    template <class data_T, class res_T> static res_T apply(const data_T &x) {
        const double a = CONFIG_T::alpha;
        typename CONFIG_T::param_t alpha = a;
        res_T y;
        if (is_negative(x))
            y = x * alpha;
        else
            y = x;
        return y;
    }
};

// min(max(x, min_value), max_value): the bounds are on x's grid (lower rounded up, upper down, by the
// generator) and bound_t holds them and every x exactly.
template <typename CONFIG_T> struct clip_op {
    template <class data_T, class res_T> static res_T apply(const data_T &x) {
        typedef typename CONFIG_T::bound_t bound_t;
        const double lo_d = CONFIG_T::min_value, hi_d = CONFIG_T::max_value;
        bound_t v = x, lo = lo_d, hi = hi_d;
        if (CONFIG_T::has_min && v < lo) v = lo;
        if (CONFIG_T::has_max && v > hi) v = hi;
        res_T y = v;
        return y;
    }
};

// clamp(x * alpha + beta, 0, 1), alpha and beta as param_t.
template <typename CONFIG_T> struct hard_sigmoid_op {
    template <class data_T, class res_T> static res_T apply(const data_T &x) {
        typedef typename CONFIG_T::param_t param_t;
        const double a = CONFIG_T::alpha, b = CONFIG_T::beta;
        param_t alpha = a, beta = b;
        typename fixed_type<2, 2, false>::type one = 1;
        typename fixed_type<2, 2, false>::type zero = 0;
        auto v = x * alpha + beta;  // exact: native fixed-point + and * never round
        res_T y;
        if (v <= zero)
            y = zero;
        else if (v >= one)
            y = one;
        else
            y = v;
        return y;
    }
};

// table[index(x)] with 2^table_bits entries of res_T over [-2^range_bits, 2^range_bits).
template <typename CONFIG_T> struct table_op {
    template <class data_T> static unsigned index(const data_T &x) {
        typename fixed_sat_type<CONFIG_T::table_bits, CONFIG_T::range_bits + 1, true>::type i = x;
        return unsigned(mantissa(i) + (1LL << (CONFIG_T::table_bits - 1)));
    }
    template <class data_T, class res_T> static res_T apply(const data_T &x) {
        res_T y = weight_value<typename CONFIG_T::table_t>(CONFIG_T::table[index(x)]);
        return y;
    }
};

template <class data_T, class res_T, typename CONFIG_T> void relu(const data_T data[], res_T res[]) {
    map<relu_op<CONFIG_T>, data_T, res_T, CONFIG_T>(data, res);
}
template <class data_T, class res_T, typename CONFIG_T> void bipolar(const data_T data[], res_T res[]) {
    map<bipolar_op<CONFIG_T>, data_T, res_T, CONFIG_T>(data, res);
}
template <class data_T, class res_T, typename CONFIG_T> void leaky_relu(const data_T data[], res_T res[]) {
    map<leaky_relu_op<CONFIG_T>, data_T, res_T, CONFIG_T>(data, res);
}
template <class data_T, class res_T, typename CONFIG_T> void clip(const data_T data[], res_T res[]) {
    map<clip_op<CONFIG_T>, data_T, res_T, CONFIG_T>(data, res);
}
template <class data_T, class res_T, typename CONFIG_T> void hard_sigmoid(const data_T data[], res_T res[]) {
    map<hard_sigmoid_op<CONFIG_T>, data_T, res_T, CONFIG_T>(data, res);
}
// Sigmoid and Tanh differ only by the table the generator emits.
template <class data_T, class res_T, typename CONFIG_T> void sigmoid(const data_T data[], res_T res[]) {
    map<table_op<CONFIG_T>, data_T, res_T, CONFIG_T>(data, res);
}
template <class data_T, class res_T, typename CONFIG_T> void tanh(const data_T data[], res_T res[]) {
    map<table_op<CONFIG_T>, data_T, res_T, CONFIG_T>(data, res);
}
// Selu, Elu, Softplus, HardSwish, Swish, Gelu: a table over the whole range of data_T.
template <class data_T, class res_T, typename CONFIG_T> void table_activation(const data_T data[], res_T res[]) {
    map<table_op<CONFIG_T>, data_T, res_T, CONFIG_T>(data, res);
}

// x < 0 ? x * slope[c] : x, one slope per channel: [C][pixels] arrays (channel c = i / (n_in / n_chan)),
// or per stream element the n_chan channel values.
template <class data_T, class res_T, typename CONFIG_T> void prelu(const data_T data[], res_T res[]) {
    const unsigned per = CONFIG_T::n_in / CONFIG_T::n_chan;
    HWC_LOOP_UNROLL
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
        HWC_UNROLL
        res_T y;
        if (is_negative(data[i]))
            y = data[i] * weight_value<typename CONFIG_T::param_t>(CONFIG_T::slope[i / per]);
        else
            y = data[i];
        res[i] = y;
    }
}
template <class data_T, class res_T, typename CONFIG_T>
void prelu_stream(stream<array<data_T, CONFIG_T::n_chan> > &data, stream<array<res_T, CONFIG_T::n_chan> > &res) {
    HWC_LOOP_PIPELINE(1)
    for (unsigned i = 0; i < CONFIG_T::n_in / CONFIG_T::n_chan; i++) {
        HWC_PIPELINE(1)
        array<data_T, CONFIG_T::n_chan> x = data.read();
        array<res_T, CONFIG_T::n_chan> y;
        HWC_LOOP_UNROLL
        for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
            HWC_UNROLL
            if (is_negative(x[c]))
                y[c] = x[c] * weight_value<typename CONFIG_T::param_t>(CONFIG_T::slope[c]);
            else
                y[c] = x[c];
        }
        res.write(y);
    }
}

#define HWC_ACTIVATION_STREAM(name, op)                                                                          \
    template <class data_T, class res_T, typename CONFIG_T>                                                     \
    void name##_stream(stream<array<data_T, CONFIG_T::n_chan> > &data, stream<array<res_T, CONFIG_T::n_chan> > &res) { \
        map_stream<op<CONFIG_T>, data_T, res_T, CONFIG_T>(data, res);                                           \
    }
HWC_ACTIVATION_STREAM(relu, relu_op)
HWC_ACTIVATION_STREAM(leaky_relu, leaky_relu_op)
HWC_ACTIVATION_STREAM(bipolar, bipolar_op)
HWC_ACTIVATION_STREAM(clip, clip_op)
HWC_ACTIVATION_STREAM(hard_sigmoid, hard_sigmoid_op)
HWC_ACTIVATION_STREAM(sigmoid, table_op)
HWC_ACTIVATION_STREAM(tanh, table_op)
HWC_ACTIVATION_STREAM(table_activation, table_op)
#undef HWC_ACTIVATION_STREAM

// ---- softmax over one axis: data is [n_outer][n_in][n_inner], softmax along n_in ----------------------
//   e_j = exp_table[idx(max - x_j)],  s = Σ e_j (exact),  inv = inv_table[idx(s)],  y_j = res_t(e_j * inv)
// idx(d) = clamp(floor(d * 2^(t - r)), 0, 2^t - 1) (tables.exp_index / inv_index): a TRN/SAT unsigned cast.
template <typename CONFIG_T, class data_T, class res_T>
void softmax_vector(const data_T x[CONFIG_T::n_in], res_T y[CONFIG_T::n_in]) {
    HWC_INLINE
    typedef typename CONFIG_T::exp_t exp_t;
    typedef fixed_traits<exp_t> et;
    const int g = clog2(CONFIG_T::n_in);
    typedef typename fixed_type<et::width + g, et::int_bits + g, et::is_signed>::type sum_t;
    typedef typename fixed_sat_type<CONFIG_T::exp_table_bits, CONFIG_T::exp_range_bits, false>::type exp_index_t;
    typedef typename fixed_sat_type<CONFIG_T::inv_table_bits, CONFIG_T::inv_range_bits, false>::type inv_index_t;

    data_T m = x[0];
    HWC_LOOP_UNROLL
    for (unsigned j = 1; j < CONFIG_T::n_in; j++) {
        HWC_UNROLL
        if (greater(x[j], m)) m = x[j];
    }
    HWC_REGISTER exp_t e[CONFIG_T::n_in];
    HWC_ARRAY_PARTITION_COMPLETE(e)
    sum_t s;
    set_zero(s);
    HWC_LOOP_UNROLL
    for (unsigned j = 0; j < CONFIG_T::n_in; j++) {
        HWC_UNROLL
        exp_index_t d = m - x[j];
        e[j] = weight_value<exp_t>(CONFIG_T::exp_table[mantissa(d)]);
        s += e[j];
    }
    inv_index_t si = s;
    typename CONFIG_T::inv_t inv = weight_value<typename CONFIG_T::inv_t>(CONFIG_T::inv_table[mantissa(si)]);
    HWC_LOOP_UNROLL
    for (unsigned j = 0; j < CONFIG_T::n_in; j++) {
        HWC_UNROLL
        y[j] = e[j] * inv;
    }
}

template <class data_T, class res_T, typename CONFIG_T>
void softmax(const data_T data[CONFIG_T::n_outer * CONFIG_T::n_in * CONFIG_T::n_inner],
             res_T res[CONFIG_T::n_outer * CONFIG_T::n_in * CONFIG_T::n_inner]) {
    for (unsigned o = 0; o < CONFIG_T::n_outer; o++) {
        HWC_LOOP_PIPELINE(1)
        for (unsigned i = 0; i < CONFIG_T::n_inner; i++) {
            HWC_PIPELINE(1)
            data_T x[CONFIG_T::n_in];
            res_T y[CONFIG_T::n_in];
            for (unsigned j = 0; j < CONFIG_T::n_in; j++) x[j] = data[(o * CONFIG_T::n_in + j) * CONFIG_T::n_inner + i];
            softmax_vector<CONFIG_T>(x, y);
            for (unsigned j = 0; j < CONFIG_T::n_in; j++) res[(o * CONFIG_T::n_in + j) * CONFIG_T::n_inner + i] = y[j];
        }
    }
}

// Stream: softmax over each element, a pixel's channel vector (axis 1 of [C][pixels]: n_in = C,
// n_inner = pixels, n_outer = 1); n_outer * n_inner elements.
template <class data_T, class res_T, typename CONFIG_T>
void softmax_stream(stream<array<data_T, CONFIG_T::n_in> > &data, stream<array<res_T, CONFIG_T::n_in> > &res) {
    HWC_LOOP_PIPELINE(1)
    for (unsigned p = 0; p < CONFIG_T::n_outer * CONFIG_T::n_inner; p++) {
        HWC_PIPELINE(1)
        array<data_T, CONFIG_T::n_in> x = data.read();
        array<res_T, CONFIG_T::n_in> y;
        softmax_vector<CONFIG_T>(x.data, y.data);
        res.write(y);
    }
}

}  // namespace hwc

#endif
