// Data movement: concat, copy (reshape/identity), gather (pad, transpose, resize, any index map).
//
// Values are assigned to res_t, so a type change on the way (Concat's cast of each input, the
// simulator's cast when a moving op's output type differs) is the same one assignment. Index maps
// are computed by the generator (it knows the shapes); the kernels only loop.
#ifndef HWC_LAYOUT_H
#define HWC_LAYOUT_H

#include "hwc_types.h"

namespace hwc {

// One input of a Concat: data [n_outer][axis_in][n_inner] goes to res [n_outer][axis_out][n_inner] at
// axis position `offset`. The generator calls it once per input, with the same res array.
template <class data_T, class res_T, typename CONFIG_T> void concat_slice(const data_T data[], res_T res[]) {
    HWC_LOOP_UNROLL
    for (unsigned o = 0; o < CONFIG_T::n_outer; o++) {
        HWC_UNROLL
        HWC_LOOP_UNROLL
        for (unsigned a = 0; a < CONFIG_T::axis_in; a++) {
            HWC_UNROLL
            HWC_LOOP_UNROLL
            for (unsigned i = 0; i < CONFIG_T::n_inner; i++) {
                HWC_UNROLL
                res[(o * CONFIG_T::axis_out + CONFIG_T::offset + a) * CONFIG_T::n_inner + i] =
                    data[(o * CONFIG_T::axis_in + a) * CONFIG_T::n_inner + i];
            }
        }
    }
}

// res[i] = data[i] for n_in values (Reshape, Identity: row-major order does not change).
template <class data_T, class res_T, typename CONFIG_T> void copy(const data_T data[], res_T res[]) {
    HWC_LOOP_UNROLL
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
        HWC_UNROLL
        res[i] = data[i];
    }
}

// res[o] = index[o] < 0 ? pad_value : data[index[o]] for n_out values. Pad (constant: -1 entries and
// pad_value on the input's grid; edge/reflect: the mirrored source), Transpose, Resize (nearest).
template <class data_T, class res_T, typename CONFIG_T> void gather(const data_T data[], res_T res[]) {
    const double pv = CONFIG_T::pad_value;
    data_T pad = pv;
    HWC_LOOP_UNROLL
    for (unsigned o = 0; o < CONFIG_T::n_out; o++) {
        HWC_UNROLL
        int i = CONFIG_T::index[o];
        res[o] = i < 0 ? pad : data[i];
    }
}

}  // namespace hwc

#endif
