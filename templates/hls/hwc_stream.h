// Adapters between the two interfaces of the kernel library (docs/HLS_KERNELS.md, "Layouts"):
// a feature map [C][P] (P = pixels, raster order) travels as P stream elements of C values; a vector
// [N] as one element of N values; an array is the same tensor flat in row-major [C][P] order.
// --io stream uses the kernels' _stream forms where they exist and wraps every other layer in
// stream_to_array / array_to_stream (the layer then buffers one sample); split_stream feeds two
// consumers. No arithmetic happens here: values are copied, types unchanged.
#ifndef HWC_STREAM_H
#define HWC_STREAM_H

#include "hwc_types.h"

namespace hwc {

template <class T, unsigned C, unsigned P> void stream_to_array(stream<array<T, C> > &in, T out[C * P]) {
    HWC_LOOP_PIPELINE(1)
    for (unsigned p = 0; p < P; p++) {
        HWC_PIPELINE(1)
        array<T, C> a = in.read();
        HWC_LOOP_UNROLL
        for (unsigned c = 0; c < C; c++) {
            HWC_UNROLL
            out[c * P + p] = a[c];
        }
    }
}

template <class T, unsigned C, unsigned P> void array_to_stream(const T in[C * P], stream<array<T, C> > &out) {
    HWC_LOOP_PIPELINE(1)
    for (unsigned p = 0; p < P; p++) {
        HWC_PIPELINE(1)
        array<T, C> a;
        HWC_LOOP_UNROLL
        for (unsigned c = 0; c < C; c++) {
            HWC_UNROLL
            a[c] = in[c * P + p];
        }
        out.write(a);
    }
}

// [C][P] pixels -> one vector element of C*P values in row-major order (Flatten before a Dense).
template <class T, unsigned C, unsigned P> void flatten_stream(stream<array<T, C> > &in, stream<array<T, C * P> > &out) {
    array<T, C * P> v;
    stream_to_array<T, C, P>(in, v.data);
    out.write(v);
}

template <class T, unsigned C, unsigned P> void split_stream(stream<array<T, C> > &in, stream<array<T, C> > &a,
                                                           stream<array<T, C> > &b) {
    HWC_LOOP_PIPELINE(1)
    for (unsigned p = 0; p < P; p++) {
        HWC_PIPELINE(1)
        array<T, C> x = in.read();
        a.write(x);
        b.write(x);
    }
}

}  // namespace hwc

#endif
