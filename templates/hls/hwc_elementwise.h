// Add / Sub / Mul of two tensors with numpy broadcasting (docs/FIXED_POINT.md).
//
// The native result of a + b, a - b, a * b of two fixed types is exact (aligned to the larger fraction
// for +/-, the sum of the fractions for *), which is the simulator's exact value; it is assigned to
// res_t once. Broadcasting: output element o has coordinates (i_0 .. i_{rank-1}) in `shape` (the
// output's shape, row-major) and reads a[Σ i_d * a_stride[d]], b[Σ i_d * b_stride[d]], where a
// broadcast dimension has stride 0.
#ifndef HWC_ELEMENTWISE_H
#define HWC_ELEMENTWISE_H

#include "hwc_types.h"

namespace hwc {

struct add_op {
    template <class a_T, class b_T, class res_T> static res_T apply(const a_T &a, const b_T &b) {
        res_T y = a + b;
        return y;
    }
};
struct sub_op {
    template <class a_T, class b_T, class res_T> static res_T apply(const a_T &a, const b_T &b) {
        res_T y = a - b;
        return y;
    }
};
struct mul_op {
    template <class a_T, class b_T, class res_T> static res_T apply(const a_T &a, const b_T &b) {
        res_T y = a * b;
        return y;
    }
};

template <class OP, class a_T, class b_T, class res_T, typename CONFIG_T>
void binary(const a_T a[], const b_T b[], res_T res[CONFIG_T::n_out]) {
    HWC_LOOP_UNROLL
    for (unsigned o = 0; o < CONFIG_T::n_out; o++) {
        HWC_UNROLL
        unsigned rest = o, ia = 0, ib = 0;
        for (int d = int(CONFIG_T::rank) - 1; d >= 0; d--) {
            unsigned i = rest % CONFIG_T::shape[d];
            rest /= CONFIG_T::shape[d];
            ia += i * CONFIG_T::a_stride[d];
            ib += i * CONFIG_T::b_stride[d];
        }
        res[o] = OP::template apply<a_T, b_T, res_T>(a[ia], b[ib]);
    }
}

template <class a_T, class b_T, class res_T, typename CONFIG_T> void add(const a_T a[], const b_T b[], res_T res[]) {
    binary<add_op, a_T, b_T, res_T, CONFIG_T>(a, b, res);
}
template <class a_T, class b_T, class res_T, typename CONFIG_T> void sub(const a_T a[], const b_T b[], res_T res[]) {
    binary<sub_op, a_T, b_T, res_T, CONFIG_T>(a, b, res);
}
template <class a_T, class b_T, class res_T, typename CONFIG_T> void mul(const a_T a[], const b_T b[], res_T res[]) {
    binary<mul_op, a_T, b_T, res_T, CONFIG_T>(a, b, res);
}

}  // namespace hwc

#endif
