// Transformer kernels: LayerNormalization, MatMul of two activations, Dense over rows of tokens
// (docs/HLS_KERNELS.md). The arithmetic is compiler/sim/transformer_ops.py's, on integer mantissas:
//
//   layer_norm, per row of K values m_i (the input's mantissas):
//     S = Σ m_i,  d_i = K·m_i − S,  Q = Σ d_i² + eps           (exact; the generator proves < 2^62)
//     s = least even shift with Q >> s < 2^table_bits,  R = rsqrt[Q >> s]
//     z_i = ((d_i · scale[i] · R) >> s/2) << z_shift  (+ bias[i] << bias_shift),  res_i = res_t(z_i · 2^-out_frac)
//   matmul: per batch b, res[b][m][n] = res_t(Σ_k a[b][m][k] · b[b][k][n]) with the exact sum in accum_t.
//   dense_rows: the Dense kernel on each of n_rows rows of n_in values.
#ifndef HWC_TRANSFORMER_H
#define HWC_TRANSFORMER_H

#include "hwc_dense.h"
#include "hwc_types.h"

namespace hwc {

template <class data_T, class res_T, typename CONFIG_T> void dense_rows(const data_T data[], res_T res[]) {
    HWC_LOOP_UNROLL
    for (unsigned r = 0; r < CONFIG_T::n_rows; r++) {
        HWC_UNROLL
        dense_core<data_T, res_T, CONFIG_T>(data + r * CONFIG_T::n_in, res + r * CONFIG_T::n_out);
    }
}

template <class a_T, class b_T, class res_T, typename CONFIG_T>
void matmul(const a_T a[], const b_T b[], res_T res[]) {
    typedef typename CONFIG_T::accum_t accum_t;
    const unsigned M = CONFIG_T::n_m, K = CONFIG_T::n_k, N = CONFIG_T::n_n;
    HWC_LOOP_UNROLL
    for (unsigned t = 0; t < CONFIG_T::n_batch; t++) {
        HWC_UNROLL
        HWC_LOOP_UNROLL
        for (unsigned i = 0; i < M; i++) {
            HWC_UNROLL
            HWC_LOOP_UNROLL
            for (unsigned j = 0; j < N; j++) {
                HWC_UNROLL
                accum_t acc;
                set_zero(acc);
                HWC_LOOP_UNROLL
                for (unsigned k = 0; k < K; k++) {
                    HWC_UNROLL
                    acc += a[(t * M + i) * K + k] * b[(t * K + k) * N + j];
                }
                res[(t * M + i) * N + j] = acc;
            }
        }
    }
}

template <class data_T, class res_T, typename CONFIG_T> void layer_norm(const data_T data[], res_T res[]) {
    const unsigned K = CONFIG_T::n_in;
    typedef typename fixed_type<64, 64 - CONFIG_T::out_frac, true>::type z_t;
    HWC_LOOP_UNROLL
    for (unsigned o = 0; o < CONFIG_T::n_outer; o++) {
        HWC_UNROLL
        long long d[K];
        HWC_ARRAY_PARTITION_COMPLETE(d)
        long long s_sum = 0;
        HWC_LOOP_UNROLL
        for (unsigned i = 0; i < K; i++) {
            HWC_UNROLL
            d[i] = mantissa(data[o * K + i]);
            s_sum += d[i];
        }
        long long q = CONFIG_T::eps;
        HWC_LOOP_UNROLL
        for (unsigned i = 0; i < K; i++) {
            HWC_UNROLL
            d[i] = (long long)K * d[i] - s_sum;
            q += d[i] * d[i];
        }
        unsigned s = 0;
        HWC_LOOP_UNROLL
        for (unsigned j = 0; j < 32; j++) {  // Q < 2^62: at most 31 even shifts
            HWC_UNROLL
            if ((q >> s) >= (1LL << CONFIG_T::table_bits)) s += 2;
        }
        const long long r = CONFIG_T::rsqrt[q >> s];
        HWC_LOOP_UNROLL
        for (unsigned i = 0; i < K; i++) {
            HWC_UNROLL
            long long z = ((d[i] * (long long)CONFIG_T::scale[i] * r) >> (s / 2)) << CONFIG_T::z_shift;
            if (CONFIG_T::has_bias) z += (long long)CONFIG_T::bias[i] << CONFIG_T::bias_shift;
            z_t v;
            set_mantissa(v, z);
            res[o * K + i] = v;
        }
    }
}

}  // namespace hwc

#endif
