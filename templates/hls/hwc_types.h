// hwc kernel library: the one place where Xilinx (ap_fixed) and Intel (ac_fixed) differ.
//
// Define exactly one of HWC_XILINX / HWC_INTEL before including any hwc header. Kernels never spell a
// number type: data types come from template parameters and config structs; the few internal types a
// kernel needs (a wider sum, a table index) are built here by `fixed_type` / `fixed_sat_type` from
// the widths of those types. Pragmas are a table of macros, one spelling per vendor.
//
// Loop pragmas sit in two places because the vendors disagree: Vitis wants them as the first
// statement of the loop body, i++ wants them before the `for`. Every loop therefore carries both
// markers, and each vendor expands one of them to nothing:
//     HWC_LOOP_UNROLL                  // Intel: #pragma unroll
//     for (unsigned i = 0; i < N; i++) {
//         HWC_UNROLL                   // Xilinx: #pragma HLS UNROLL
// Arrays likewise: HWC_REGISTER before the declaration (Intel hls_register), and
// HWC_ARRAY_PARTITION_COMPLETE(var) after it (Xilinx).
#ifndef HWC_TYPES_H
#define HWC_TYPES_H

#if defined(HWC_XILINX) == defined(HWC_INTEL)
#error "hwc: define exactly one of HWC_XILINX or HWC_INTEL"
#endif

#define HWC_PRAGMA(x) _Pragma(#x)

#include <stdint.h>

#ifdef HWC_XILINX
#include <ap_fixed.h>
#include <ap_int.h>
#include <hls_stream.h>

#define HWC_PIPELINE(ii) HWC_PRAGMA(HLS PIPELINE II=ii)
#define HWC_UNROLL HWC_PRAGMA(HLS UNROLL)
#define HWC_UNROLL_FACTOR(n) HWC_PRAGMA(HLS UNROLL factor=n)
#define HWC_LOOP_PIPELINE(ii)
#define HWC_LOOP_UNROLL
#define HWC_LOOP_UNROLL_FACTOR(n)
#define HWC_ARRAY_PARTITION_COMPLETE(var) HWC_PRAGMA(HLS ARRAY_PARTITION variable=var complete dim=0)
#define HWC_ARRAY_PARTITION_CYCLIC(var, n) HWC_PRAGMA(HLS ARRAY_PARTITION variable=var cyclic factor=n dim=1)
#define HWC_REGISTER
#define HWC_INLINE HWC_PRAGMA(HLS INLINE)
#define HWC_INLINE_OFF HWC_PRAGMA(HLS INLINE off)

#else  // HWC_INTEL
#ifdef __INTELFPGA_COMPILER__
#include "HLS/hls.h"
#include "HLS/ac_int.h"
#include "HLS/ac_fixed.h"
#define HWC_REGISTER hls_register
#else
#include <ac_int.h>
#include <ac_fixed.h>
#include <deque>
#define HWC_REGISTER
#endif

#define HWC_PIPELINE(ii)
#define HWC_UNROLL
#define HWC_UNROLL_FACTOR(n)
#define HWC_LOOP_PIPELINE(n) HWC_PRAGMA(ii n)
#define HWC_LOOP_UNROLL HWC_PRAGMA(unroll)
#define HWC_LOOP_UNROLL_FACTOR(n) HWC_PRAGMA(unroll n)
#define HWC_ARRAY_PARTITION_COMPLETE(var)
#define HWC_ARRAY_PARTITION_CYCLIC(var, n)
#define HWC_INLINE
#define HWC_INLINE_OFF
#endif

namespace hwc {

// ---- streams: one element = one pixel's channel vector (or one whole vector for 1-D layers) --------

template <class T, unsigned N> struct array {
    T data[N];
    T &operator[](unsigned i) { return data[i]; }
    const T &operator[](unsigned i) const { return data[i]; }
};

#ifdef HWC_XILINX
template <class T> using stream = hls::stream<T>;
#elif defined(__INTELFPGA_COMPILER__)
template <class T> using stream = ihc::stream<T>;
#else
// g++ emulation of ihc::stream: an unbounded FIFO (C simulation only, not synthesizable).
template <class T> class stream {
    std::deque<T> fifo_;

  public:
    T read() {
        T v = fifo_.front();
        fifo_.pop_front();
        return v;
    }
    void write(const T &v) { fifo_.push_back(v); }
    bool empty() const { return fifo_.empty(); }
    unsigned size() const { return (unsigned)fifo_.size(); }
};
#endif

// ---- compile-time helpers -------------------------------------------------------------------------

constexpr int clog2(unsigned long long n) {  // smallest k with 2^k >= n
    int k = 0;
    while ((1ULL << k) < n) k++;
    return k;
}
constexpr unsigned cdiv(unsigned a, unsigned b) { return (a + b - 1) / b; }
constexpr unsigned cmax(unsigned a, unsigned b) { return a > b ? a : b; }

enum strategy_t { latency = 0, resource = 1 };

// ---- number types -----------------------------------------------------------------------------------
// fixed_traits<T>: width, int_bits, frac_bits, is_signed of a fixed-point type (also of the result types
// of its arithmetic). fixed_type<W, I, S>::type: TRN/WRAP fixed type (exact intermediates: they never
// round and are wide enough not to wrap). fixed_sat_type<W, I, S>::type: TRN/SAT (table indices: the
// cast is the floor and the clamp at once).

template <class T> struct fixed_traits;
template <int W, int I, bool S> struct fixed_traits_base {
    static const int width = W, int_bits = I, frac_bits = W - I;
    static const bool is_signed = S;
};

#ifdef HWC_XILINX
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N>
struct fixed_traits<ap_fixed_base<W, I, S, Q, O, N> > : fixed_traits_base<W, I, S> {};
template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
struct fixed_traits<ap_fixed<W, I, Q, O, N> > : fixed_traits_base<W, I, true> {};
template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
struct fixed_traits<ap_ufixed<W, I, Q, O, N> > : fixed_traits_base<W, I, false> {};

template <int W, int I, bool S> struct fixed_type { typedef ap_fixed<W, I, AP_TRN, AP_WRAP> type; };
template <int W, int I> struct fixed_type<W, I, false> { typedef ap_ufixed<W, I, AP_TRN, AP_WRAP> type; };
template <int W, int I, bool S> struct fixed_sat_type { typedef ap_fixed<W, I, AP_TRN, AP_SAT> type; };
template <int W, int I> struct fixed_sat_type<W, I, false> { typedef ap_ufixed<W, I, AP_TRN, AP_SAT> type; };

// The mantissa (raw two's-complement integer) of a fixed value of at most 64 bits.
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N>
inline long long mantissa(const ap_fixed_base<W, I, S, Q, O, N> &v) {
    ap_int_base<W, S> m;
    m.V = v.V;  // the raw bits, as copy_bits
    return S ? (long long)m.to_int64() : (long long)m.to_uint64();
}

// dst's bits := src's bits (same width): x * 2^(I_dst - I_src) as pure wiring. The raw member V (as
// hls4ml's kernels read it) instead of range(): g++ instantiates no range-reference classes (set_mantissa
// through range() was 3/4 of the g++ time of a Dense layer).
template <int W, int I1, bool S1, ap_q_mode Q1, ap_o_mode O1, int N1, int I2, bool S2, ap_q_mode Q2, ap_o_mode O2, int N2>
inline void copy_bits(ap_fixed_base<W, I1, S1, Q1, O1, N1> &dst, const ap_fixed_base<W, I2, S2, Q2, O2, N2> &src) {
    dst.V = src.V;
}

// x <<= n in place (the width is kept: widen first when the bits must survive).
template <class T> inline void shift_left(T &x, unsigned n) { x <<= n; }

// v's bits := the integer mantissa m (pure wiring; m fits W bits, so nothing is cut).
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N, class M>
inline void set_mantissa(ap_fixed_base<W, I, S, Q, O, N> &v, M m) {
    v.V = m;
}

// v := 0 (every bit clear): the mantissa, not `v = 0`, whose int constructor instantiates a full
// quantize/overflow conversion from ap_fixed<32,32> per type.
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N> inline void set_zero(ap_fixed_base<W, I, S, Q, O, N> &v) {
    v.V = 0;
}

// a > b for two values of one type: their mantissas compared (ap_fixed's operator> first widens both).
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N>
inline bool greater(const ap_fixed_base<W, I, S, Q, O, N> &a, const ap_fixed_base<W, I, S, Q, O, N> &b) {
    return a.V > b.V;
}

// acc += p and acc -= p. When the fractions line up (no rounding) and acc wraps, this is the sum of the
// mantissas modulo 2^W: done on the raw members (ap_int addition of the same bits), where operator+=
// instantiates a widened sum type and its conversion back per pair of types. Otherwise ap_fixed's own.
template <bool RAW> struct accumulate_op {
    template <class A, class P> static void add(A &acc, const P &p) { acc.V += p.V; }
    template <class A, class P> static void sub(A &acc, const P &p) { acc.V -= p.V; }
};
template <> struct accumulate_op<false> {
    template <class A, class P> static void add(A &acc, const P &p) { acc += p; }
    template <class A, class P> static void sub(A &acc, const P &p) { acc -= p; }
};
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N, int W2, int I2, bool S2, ap_q_mode Q2, ap_o_mode O2, int N2>
struct accumulate_raw {
    static const bool value = O == AP_WRAP && W - I == W2 - I2 && W <= 64 && W2 <= 64;
};
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N, int W2, int I2, bool S2, ap_q_mode Q2, ap_o_mode O2, int N2>
inline void accumulate(ap_fixed_base<W, I, S, Q, O, N> &acc, const ap_fixed_base<W2, I2, S2, Q2, O2, N2> &p) {
    accumulate_op<accumulate_raw<W, I, S, Q, O, N, W2, I2, S2, Q2, O2, N2>::value>::add(acc, p);
}
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N, int W2, int I2, bool S2, ap_q_mode Q2, ap_o_mode O2, int N2>
inline void subtract(ap_fixed_base<W, I, S, Q, O, N> &acc, const ap_fixed_base<W2, I2, S2, Q2, O2, N2> &p) {
    accumulate_op<accumulate_raw<W, I, S, Q, O, N, W2, I2, S2, Q2, O2, N2>::value>::sub(acc, p);
}

// a := A(s + A(b)) (the Dense bias step: b cast into a's type, added exactly, the total cast once). When
// all three share a's fraction and a wraps, both casts are "keep the low W bits": the mantissas added
// modulo 2^W on the raw members. Otherwise ap_fixed's own conversions and sum.
template <bool RAW> struct assign_sum_op {
    template <class A, class T, class B> static void apply(A &a, const T &s, const B &b) {
        a.V = s.V;
        a.V += b.V;
    }
};
template <> struct assign_sum_op<false> {
    template <class A, class T, class B> static void apply(A &a, const T &s, const B &b) {
        A bb = b;
        a = s + bb;
    }
};
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N, int W2, int I2, bool S2, ap_q_mode Q2, ap_o_mode O2, int N2,
          int W3, int I3, bool S3, ap_q_mode Q3, ap_o_mode O3, int N3>
inline void assign_sum(ap_fixed_base<W, I, S, Q, O, N> &a, const ap_fixed_base<W2, I2, S2, Q2, O2, N2> &s,
                       const ap_fixed_base<W3, I3, S3, Q3, O3, N3> &b) {
    assign_sum_op<O == AP_WRAP && W - I == W2 - I2 && W - I == W3 - I3 && W <= 64 && W2 <= 64 && W3 <= 64>::apply(a, s, b);
}

// dst = src (dst's rounding and overflow). Between types that differ only in their modes (same W, I and
// sign) nothing rounds or overflows: the bits are copied, without instantiating the conversion.
template <bool RAW> struct assign_op {
    template <class D, class T> static void apply(D &dst, const T &src) { dst.V = src.V; }
};
template <> struct assign_op<false> {
    template <class D, class T> static void apply(D &dst, const T &src) { dst = src; }
};
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N, int W2, int I2, bool S2, ap_q_mode Q2, ap_o_mode O2, int N2>
inline void assign(ap_fixed_base<W, I, S, Q, O, N> &dst, const ap_fixed_base<W2, I2, S2, Q2, O2, N2> &src) {
    assign_op<W == W2 && I == I2 && S == S2>::apply(dst, src);
}

// x < 0: the sign bit (ap_fixed's is_neg()), where `x < T(0)` would convert 0 and widen both sides.
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N> inline bool is_negative(const ap_fixed_base<W, I, S, Q, O, N> &x) {
    return x.is_neg();
}

#else  // HWC_INTEL
template <int W, int I, bool S, ac_q_mode Q, ac_o_mode O>
struct fixed_traits<ac_fixed<W, I, S, Q, O> > : fixed_traits_base<W, I, S> {};

template <int W, int I, bool S> struct fixed_type { typedef ac_fixed<W, I, S, AC_TRN, AC_WRAP> type; };
template <int W, int I, bool S> struct fixed_sat_type { typedef ac_fixed<W, I, S, AC_TRN, AC_SAT> type; };

template <int W, int I, bool S, ac_q_mode Q, ac_o_mode O>
inline long long mantissa(const ac_fixed<W, I, S, Q, O> &v) {
    return S ? (long long)v.template slc<W>(0).to_int64() : (long long)v.template slc<W>(0).to_uint64();
}

template <int W, int I1, bool S1, ac_q_mode Q1, ac_o_mode O1, int I2, bool S2, ac_q_mode Q2, ac_o_mode O2>
inline void copy_bits(ac_fixed<W, I1, S1, Q1, O1> &dst, const ac_fixed<W, I2, S2, Q2, O2> &src) {
    dst.set_slc(0, src.template slc<W>(0));
}

template <class T> inline void shift_left(T &x, unsigned n) { x <<= ac_int<32, false>(n); }

template <int W, int I, bool S, ac_q_mode Q, ac_o_mode O, class M>
inline void set_mantissa(ac_fixed<W, I, S, Q, O> &v, M m) {
    v.set_slc(0, ac_int<W, S>(m));
}

template <int W, int I, bool S, ac_q_mode Q, ac_o_mode O> inline void set_zero(ac_fixed<W, I, S, Q, O> &v) {
    set_mantissa(v, 0);
}

template <int W, int I, bool S, ac_q_mode Q, ac_o_mode O>
inline bool greater(const ac_fixed<W, I, S, Q, O> &a, const ac_fixed<W, I, S, Q, O> &b) {
    return a > b;
}

template <class A, class P> inline void accumulate(A &acc, const P &p) { acc += p; }
template <class A, class P> inline void subtract(A &acc, const P &p) { acc -= p; }
template <class D, class T> inline void assign(D &dst, const T &src) { dst = src; }
template <class A, class T, class B> inline void assign_sum(A &a, const T &s, const B &b) {
    A bb = b;
    a = s + bb;
}

template <int W, int I, bool S, ac_q_mode Q, ac_o_mode O> inline bool is_negative(const ac_fixed<W, I, S, Q, O> &x) {
    return S && x[W - 1];
}
#endif

// ---- constant weights ---------------------------------------------------------------------------------
// weight_value<T>(w): a weight of type T from an array element. Generated configs store weights as
// their integer mantissas (int8_t, int16_t, ... arrays): g++ compiles such tables in seconds, where an
// array of ap_fixed/ac_fixed constants becomes a static initializer it takes minutes on; the value is
// the same bits, reinterpreted (wiring in synthesis). An array of T itself passes through unchanged.
template <class T, class M> struct weight_cast {
    static T apply(const M &m) {
        T v;
        set_mantissa(v, m);
        return v;
    }
};
template <class T> struct weight_cast<T, T> {
    static T apply(const T &v) { return v; }
};
template <class T, class M> inline T weight_value(const M &m) { return weight_cast<T, M>::apply(m); }

// ---- host-side conversions (testbenches, the graph boundary) ------------------------------------------
// `T y = d;` rounds and saturates with T's own modes (compiler/sim/fixed.py: from_float).
template <class T> inline T from_double(double d) {
    T y = d;
    return y;
}
template <class T> inline double to_double(const T &x) { return x.to_double(); }

}  // namespace hwc

#endif
