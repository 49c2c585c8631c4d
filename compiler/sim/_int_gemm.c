/* Exact int16 x int16 -> int32 products for the simulator (compiler/sim/int_gemm_c.py loads it with ctypes).

   acc[r, n] = sum_k a[r, k] * w[k, n] with the weights packed as interleaved pairs along K for blocks of 16
   outputs: wp[b][j][i][2] = (w[2j, 16b + i], w[2j + 1, 16b + i]), K padded to even and N to a multiple of 16
   with zeros. One step multiplies the broadcast pair (a[r, 2j], a[r, 2j + 1]) with the 16 output pairs and adds
   both products to the int32 lanes (vpmaddwd on AVX2 / AVX-512BW, vpdpwssd with VNNI); register blocks of 4
   rows. The caller proves max|a| * sum_k |w[k, n]| < 2^31, so no partial sum (a pair's sum included) leaves
   int32: every path computes the same integers, on every CPU. The path is picked at run time
   (__builtin_cpu_supports, per-function target attributes: no -march flags) or by the caller (tests).
   The wrappers convert the float mantissas (x - off) to int16 and write y = (acc + corr[n]) * scale in
   float64: exact, every value an integer below 2^53 times a power of two. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HWC_X86 1
#endif

enum { PATH_AUTO = 0, PATH_SCALAR = 1, PATH_AVX2 = 2, PATH_AVX512 = 3, PATH_VNNI = 4 };
#define ROWS 4  /* the register block: rows of a per micro-step (the buffers are padded to a multiple) */
#define LANES 16  /* outputs per packed block */

typedef void (*kernel_fn)(const int16_t *a, int64_t rows, int64_t lda, int64_t k2, const int16_t *wp,
                          int64_t nb, int32_t *c, int64_t ldc);

static void gemm_scalar(const int16_t *a, int64_t rows, int64_t lda, int64_t k2, const int16_t *wp, int64_t nb,
                        int32_t *c, int64_t ldc) {
    for (int64_t r = 0; r < rows; r++) {
        const int16_t *ar = a + r * lda;
        for (int64_t b = 0; b < nb; b++) {
            int32_t s[LANES] = {0};
            const int16_t *wb = wp + b * k2 * 2 * LANES;
            for (int64_t j = 0; j < k2; j++) {
                int32_t x0 = ar[2 * j], x1 = ar[2 * j + 1];
                const int16_t *wj = wb + j * 2 * LANES;
                for (int i = 0; i < LANES; i++)
                    s[i] += x0 * wj[2 * i] + x1 * wj[2 * i + 1];
            }
            memcpy(c + r * ldc + b * LANES, s, sizeof s);
        }
    }
}

#ifdef HWC_X86
static inline int32_t pair_at(const int16_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* The micro-steps below keep ROWS x (2 vectors) int32 accumulators in registers (the fixed-count loops
   unroll at -O3): per pair j, the weights of the outputs are loaded once and each row's pair broadcast. */
__attribute__((target("avx2"))) static void gemm_avx2(const int16_t *a, int64_t rows, int64_t lda, int64_t k2,
                                                      const int16_t *wp, int64_t nb, int32_t *c, int64_t ldc) {
    for (int64_t r = 0; r < rows; r += ROWS)
        for (int64_t b = 0; b < nb; b++) {
            const int16_t *wb = wp + b * k2 * 2 * LANES;
            __m256i s[ROWS][2];
            for (int i = 0; i < ROWS; i++)
                s[i][0] = s[i][1] = _mm256_setzero_si256();
            for (int64_t j = 0; j < k2; j++) {
                __m256i w0 = _mm256_loadu_si256((const __m256i *)(wb + j * 2 * LANES));
                __m256i w1 = _mm256_loadu_si256((const __m256i *)(wb + j * 2 * LANES + LANES));
                for (int i = 0; i < ROWS; i++) {
                    __m256i x = _mm256_set1_epi32(pair_at(a + (r + i) * lda + 2 * j));
                    s[i][0] = _mm256_add_epi32(s[i][0], _mm256_madd_epi16(x, w0));
                    s[i][1] = _mm256_add_epi32(s[i][1], _mm256_madd_epi16(x, w1));
                }
            }
            for (int i = 0; i < ROWS; i++) {
                _mm256_storeu_si256((__m256i *)(c + (r + i) * ldc + b * LANES), s[i][0]);
                _mm256_storeu_si256((__m256i *)(c + (r + i) * ldc + b * LANES + 8), s[i][1]);
            }
        }
}

/* AVX-512: two blocks (32 outputs) per micro-step where two remain (NB2 = 2), else one; MADD adds the pair
   products of x and w to s (vpmaddwd + vpaddd, or one vpdpwssd with VNNI). */
#define STEP_AVX512(MADD, NB2)                                                                                \
    do {                                                                                                      \
        const int16_t *wb = wp + b * k2 * 2 * LANES;                                                          \
        __m512i s[ROWS][NB2];                                                                                 \
        for (int i = 0; i < ROWS; i++)                                                                        \
            for (int q = 0; q < NB2; q++)                                                                     \
                s[i][q] = _mm512_setzero_si512();                                                             \
        for (int64_t j = 0; j < k2; j++) {                                                                    \
            __m512i w[NB2];                                                                                   \
            for (int q = 0; q < NB2; q++)                                                                     \
                w[q] = _mm512_loadu_si512(wb + (q * k2 + j) * 2 * LANES);                                     \
            for (int i = 0; i < ROWS; i++) {                                                                  \
                __m512i x = _mm512_set1_epi32(pair_at(a + (r + i) * lda + 2 * j));                            \
                for (int q = 0; q < NB2; q++)                                                                 \
                    s[i][q] = MADD(s[i][q], x, w[q]);                                                         \
            }                                                                                                 \
        }                                                                                                     \
        for (int i = 0; i < ROWS; i++)                                                                        \
            for (int q = 0; q < NB2; q++)                                                                     \
                _mm512_storeu_si512(c + (r + i) * ldc + (b + q) * LANES, s[i][q]);                            \
    } while (0)

#define GEMM_AVX512(NAME, TARGET, MADD)                                                                       \
    __attribute__((target(TARGET))) static void NAME(const int16_t *a, int64_t rows, int64_t lda, int64_t k2,  \
                                                     const int16_t *wp, int64_t nb, int32_t *c, int64_t ldc) { \
        for (int64_t r = 0; r < rows; r += ROWS) {                                                            \
            int64_t b = 0;                                                                                    \
            for (; b + 1 < nb; b += 2)                                                                        \
                STEP_AVX512(MADD, 2);                                                                         \
            if (b < nb)                                                                                       \
                STEP_AVX512(MADD, 1);                                                                         \
        }                                                                                                     \
    }

#define MADD_BW(s, x, w) _mm512_add_epi32((s), _mm512_madd_epi16((x), (w)))
#define MADD_VNNI(s, x, w) _mm512_dpwssd_epi32((s), (x), (w))
GEMM_AVX512(gemm_avx512, "avx512f,avx512bw", MADD_BW)
GEMM_AVX512(gemm_vnni, "avx512f,avx512bw,avx512vnni", MADD_VNNI)
#endif

/* Bit (1 << path) set for every path this CPU runs. */
int hwc_int_gemm_paths(void) {
    int paths = 1 << PATH_SCALAR;
#ifdef HWC_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
        paths |= 1 << PATH_AVX2;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) {
        paths |= 1 << PATH_AVX512;
        if (__builtin_cpu_supports("avx512vnni"))
            paths |= 1 << PATH_VNNI;
    }
#endif
    return paths;
}

/* The kernel of `path` (PATH_AUTO: the fastest this CPU runs), or NULL when the CPU lacks it. */
static kernel_fn kernel_for(int path) {
    int paths = hwc_int_gemm_paths();
    if (path == PATH_AUTO)
        for (path = PATH_VNNI; !(paths >> path & 1); path--) {}
    if (!(paths >> path & 1))
        return NULL;
    switch (path) {
#ifdef HWC_X86
    case PATH_AVX2: return gemm_avx2;
    case PATH_AVX512: return gemm_avx512;
    case PATH_VNNI: return gemm_vnni;
#endif
    default: return gemm_scalar;
    }
}

#define TILE 64  /* rows of a dense product converted to int16 at a time */

/* The conversions around the products, vectorised for the CPU at load time (exact in any width). */
#ifdef HWC_X86
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES
#endif

CLONES static void to_int16(const double *x, int64_t rows, int64_t k, double off, int16_t *a, int64_t lda) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t i = 0; i < k; i++)
            a[r * lda + i] = (int16_t)(int32_t)(x[r * k + i] - off);
}

CLONES static void from_int32(const int32_t *c, int64_t rows, int64_t ldc, int64_t n, const double *corr,
                              double scale, double *y) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t m = 0; m < n; m++)
            y[r * n + m] = ((double)c[r * ldc + m] + corr[m]) * scale;
}

/* y[r, n] = ((x[r, :] - off) @ w + corr[n]) * scale for x [rows, k] (integer-valued float64 whose shifted
   values fit int16), w packed as above with k2 = ceil(k / 2) pairs and nb blocks; y [rows, n]. Returns
   0, or -1 when the path is not available or memory is short. */
int hwc_int_gemm_dense(const double *x, int64_t rows, int64_t k, double off, const int16_t *wp, int64_t k2,
                       int64_t nb, int64_t n, const double *corr, double scale, double *y, int path) {
    kernel_fn kern = kernel_for(path);
    int64_t lda = 2 * k2, ldc = nb * LANES;
    int16_t *a = calloc((size_t)(TILE * lda), sizeof *a);
    int32_t *c = malloc(sizeof *c * (size_t)(TILE * ldc));
    if (!kern || !a || !c) {
        free(a); free(c);
        return -1;
    }
    for (int64_t r0 = 0; r0 < rows; r0 += TILE) {
        int64_t t = rows - r0 < TILE ? rows - r0 : TILE, tp = (t + ROWS - 1) / ROWS * ROWS;
        to_int16(x + r0 * k, t, k, off, a, lda);
        if (tp > t)
            memset(a + t * lda, 0, sizeof *a * (size_t)((tp - t) * lda));
        kern(a, tp, lda, k2, wp, nb, c, ldc);
        from_int32(c, t, ldc, n, corr, scale, y + r0 * n);
    }
    free(a); free(c);
    return 0;
}

/* Copies n int16: a loop for short runs (GCC would turn it into a memcpy call, which costs more than a
   few channels' copy: the digits CNN's 1-channel conv ran 3x slower through memcpy). */
__attribute__((optimize("no-tree-loop-distribute-patterns")))
static inline void copy16(int16_t *dst, const int16_t *src, int64_t n) {
    if (n >= 32) {
        memcpy(dst, src, sizeof *dst * (size_t)n);
        return;
    }
    for (int64_t i = 0; i < n; i++)
        dst[i] = src[i];
}

/* The window matrix: row p = (oa, ob) of a [lda] holds, for each tap row i, the kw taps of c channels
   at (oa·sh + i·dh, ob·sw + j·dw) of the channels-last image img [.., wpx, c] (one run when dw = 1). */
__attribute__((optimize("no-tree-loop-distribute-patterns")))
static void windows(const int16_t *img, int64_t wpx, int64_t c, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                    int64_t dh, int64_t dw, int64_t oh, int64_t ow, int16_t *a, int64_t lda) {
    int64_t runs = dw == 1 ? 1 : kw, run = dw == 1 ? kw * c : c;
    for (int64_t oa = 0; oa < oh; oa++)
        for (int64_t ob = 0; ob < ow; ob++) {
            int16_t *ap = a + (oa * ow + ob) * lda;
            for (int64_t i = 0; i < kh; i++)
                for (int64_t j = 0; j < runs; j++, ap += run)
                    copy16(ap, img + ((oa * sh + i * dh) * wpx + ob * sw + j * dw) * c, run);
        }
}

/* One-group 2-D convolution of x [samples, c, h, w] (integer-valued float64), per sample: the image shifted
   by -off in int16, channels last, inside a border of -off (the padding value 0, shifted); the window matrix
   row of output pixel p = (a, b) is the kh·kw runs of c channels at (a·sh + i·dh, b·sw + j·dw), i.e. k in the
   order (i, j, channel), which the weights are packed in; then y[s, m, p] = ((cols @ w)[p, m] + corr[m]) * scale,
   y [samples, n, oh·ow]. Returns as the dense one. */
int hwc_int_gemm_conv2d(const double *x, int64_t samples, int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw,
                        int64_t sh, int64_t sw, int64_t dh, int64_t dw, int64_t pt, int64_t pl, int64_t pb, int64_t pr,
                        int64_t oh, int64_t ow, double off, const int16_t *wp, int64_t k2, int64_t nb, int64_t n,
                        const double *corr, double scale, double *y, int path) {
    kernel_fn kern = kernel_for(path);
    int64_t hp = h + pt + pb, wpx = w + pl + pr, np_ = oh * ow, pp = (np_ + ROWS - 1) / ROWS * ROWS;
    int64_t lda = 2 * k2, ldc = nb * LANES;
    int16_t *img = malloc(sizeof *img * (size_t)(hp * wpx * c));
    int16_t *a = calloc((size_t)(pp * lda), sizeof *a);  /* the columns past k and rows past np_ stay 0 */
    int32_t *acc = malloc(sizeof *acc * (size_t)(pp * ldc));
    if (!kern || !img || !a || !acc) {
        free(img); free(a); free(acc);
        return -1;
    }
    int16_t border = (int16_t)(int32_t)(0.0 - off);
    for (int64_t i = 0; i < hp * wpx * c; i++)
        img[i] = border;
    for (int64_t s = 0; s < samples; s++) {
        const double *xs = x + s * c * h * w;
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t r = 0; r < h; r++) {
                int16_t *dst = img + ((r + pt) * wpx + pl) * c + ch;
                const double *src = xs + (ch * h + r) * w;
                for (int64_t q = 0; q < w; q++)
                    dst[q * c] = (int16_t)(int32_t)(src[q] - off);
            }
        windows(img, wpx, c, kh, kw, sh, sw, dh, dw, oh, ow, a, lda);
        kern(a, pp, lda, k2, wp, nb, acc, ldc);
        double *ys = y + s * n * np_;
        for (int64_t m = 0; m < n; m++) {
            double cm = corr[m];
            for (int64_t p = 0; p < np_; p++)
                ys[m * np_ + p] = ((double)acc[p * ldc + m] + cm) * scale;
        }
    }
    free(img); free(a); free(acc);
    return 0;
}
