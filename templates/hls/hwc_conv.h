// Convolution = a dense layer over each output pixel's window (docs/FIXED_POINT.md "Conv").
//
// The window of output (oh, ow) is the vector [n_chan][kernel_height][kernel_width] (hwc_window.h;
// zero where it covers padding), and the nonzero weights are dense triplets over it:
//   in_index[k]  = (in_channel * kernel_height + ky) * kernel_width + kx   (absolute input channel, so
//                  groups and depthwise are just which triplets exist)
//   out_index[k] = output channel,  weight[k] = W[out_channel][in_channel % (n_chan/group)][ky][kx].
// Everything after the window (sum_t, weight_shift, bias, accum_t, res_t) is dense_core, unchanged;
// the zero taps of the padding add nothing, exactly as the simulator's zero-padded convolution.
#ifndef HWC_CONV_H
#define HWC_CONV_H

#include "hwc_dense.h"
#include "hwc_window.h"

namespace hwc {

template <typename CONFIG_T> struct conv_as_dense : CONFIG_T {
    static const unsigned n_in = window<CONFIG_T>::size, n_out = CONFIG_T::n_filt;
};

template <typename CONFIG_T> struct conv_op {
    static const unsigned n_out = CONFIG_T::n_filt;
    template <class data_T, class res_T>
    static void apply(const data_T win[], const bool[], unsigned, unsigned, res_T out[]) {
        dense_core<data_T, res_T, conv_as_dense<CONFIG_T> >(win, out);
    }
};

template <class data_T, class res_T, typename CONFIG_T>
void conv2d(const data_T data[CONFIG_T::n_chan * CONFIG_T::in_height * CONFIG_T::in_width],
            res_T res[CONFIG_T::n_filt * CONFIG_T::out_height * CONFIG_T::out_width]) {
    window_array<data_T, res_T, CONFIG_T, conv_op<CONFIG_T> >(data, res);
}

template <class data_T, class res_T, typename CONFIG_T>
void conv2d_stream(stream<array<data_T, CONFIG_T::n_chan> > &data, stream<array<res_T, CONFIG_T::n_filt> > &res) {
    window_stream<data_T, res_T, CONFIG_T, conv_op<CONFIG_T> >(data, res);
}

template <class data_T, class res_T, typename CONFIG_T>
void conv1d(const data_T data[CONFIG_T::n_chan * CONFIG_T::in_width], res_T res[CONFIG_T::n_filt * CONFIG_T::out_width]) {
    window_array<data_T, res_T, as_2d<CONFIG_T>, conv_op<as_2d<CONFIG_T> > >(data, res);
}

template <class data_T, class res_T, typename CONFIG_T>
void conv1d_stream(stream<array<data_T, CONFIG_T::n_chan> > &data, stream<array<res_T, CONFIG_T::n_filt> > &res) {
    window_stream<data_T, res_T, as_2d<CONFIG_T>, conv_op<as_2d<CONFIG_T> > >(data, res);
}

}  // namespace hwc

#endif
