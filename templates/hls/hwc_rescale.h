// Rescale (a BatchNorm that was not folded) and the graph boundary conversions.
//
// rescale: data [n_outer][n_chan][n_inner]; y = res_t(x * mult[c] + offset[c]), computed exactly in the
// native types (the offset's fraction must not exceed x's + mult's, as the simulator requires), one
// assignment. A per-tensor multiplier is n_chan = 1 with everything in n_inner.
#ifndef HWC_RESCALE_H
#define HWC_RESCALE_H

#include "hwc_types.h"

namespace hwc {

template <typename CONFIG_T, bool OFFSET> struct rescale_offset {
    template <class res_T, class T> static res_T apply(const T &v, unsigned c) {
        res_T y = v + weight_value<typename CONFIG_T::offset_t>(CONFIG_T::offset[c]);
        return y;
    }
};
template <typename CONFIG_T> struct rescale_offset<CONFIG_T, false> {
    template <class res_T, class T> static res_T apply(const T &v, unsigned) {
        res_T y = v;
        return y;
    }
};

template <class data_T, class res_T, typename CONFIG_T>
void rescale(const data_T data[CONFIG_T::n_outer * CONFIG_T::n_chan * CONFIG_T::n_inner],
             res_T res[CONFIG_T::n_outer * CONFIG_T::n_chan * CONFIG_T::n_inner]) {
    HWC_LOOP_UNROLL
    for (unsigned o = 0; o < CONFIG_T::n_outer; o++) {
        HWC_UNROLL
        HWC_LOOP_UNROLL
        for (unsigned c = 0; c < CONFIG_T::n_chan; c++) {
            HWC_UNROLL
            HWC_LOOP_UNROLL
            for (unsigned i = 0; i < CONFIG_T::n_inner; i++) {
                HWC_UNROLL
                unsigned k = (o * CONFIG_T::n_chan + c) * CONFIG_T::n_inner + i;
                res[k] = rescale_offset<CONFIG_T, CONFIG_T::has_offset>::template apply<res_T>(data[k] * weight_value<typename CONFIG_T::mult_t>(CONFIG_T::mult[c]), c);
            }
        }
    }
}

// FromFloat / ToFloat for testbenches and host code: `res_t y = (double)x;` (res_t's rounding and
// overflow, as compiler/sim/fixed.from_float with this vendor) and the exact value as a double.
template <class res_T, unsigned N> void from_float(const double data[N], res_T res[N]) {
    for (unsigned i = 0; i < N; i++) res[i] = from_double<res_T>(data[i]);
}
// The testbench of `hwc verify` (-DHWC_TB_MANTISSAS) instead reads the mantissas hwc's simulator
// computed: res[i]'s bits := data[i] (no conversion instantiated).
template <class res_T, unsigned N> void from_mantissa(const long long data[N], res_T res[N]) {
    for (unsigned i = 0; i < N; i++) set_mantissa(res[i], data[i]);
}
template <class data_T, unsigned N> void to_float(const data_T data[N], double res[N]) {
    for (unsigned i = 0; i < N; i++) res[i] = to_double(data[i]);
}

}  // namespace hwc

#endif
