/* Transposes between rows of logits (row-major, K classes per row) and the class-major scratch
 * of `ce_block` in softmax.pxi, on vector registers.
 *
 * `ce_block` works on CE_R rows at a time with the rows as the vector lanes, so its input must
 * be turned from rows into lanes and its gradient back.  Done one element at a time that costs
 * a load and a store per element, and it was half the time of a cross-entropy call.  Here a
 * tile of V rows x V classes (V = the lanes of one vector of this build: 16 floats with
 * AVX-512, 8 with AVX2, 4 with SSE2 or NEON) is loaded as V vectors, transposed in registers by
 * log2(V) butterfly stages of two-input shuffles (stage b swaps bit b of the row and the class
 * index), and stored as vectors.  Pure data movement: the arithmetic, and so every bit of the
 * results, is the same as with the element-wise copies.
 *
 * GCC and Clang vector extensions (`__builtin_shufflevector`), so each ISA build gets its own
 * width from one source; the only intrinsic is AVX-512's masked store.  Another compiler (or
 * GCC before 12) gets the element-wise loops (LF_TILES = 0).
 */
#ifndef LOSSFUSE_TILES_H
#define LOSSFUSE_TILES_H

#include <stddef.h>
#include <string.h>

#if defined(__clang__)
#  if defined(__has_builtin)
#    if __has_builtin(__builtin_shufflevector)
#      define LF_TILES 1
#    endif
#  endif
#elif defined(__GNUC__) && __GNUC__ >= 12          /* __builtin_shufflevector from GCC 12 */
#  define LF_TILES 1
#endif
#ifndef LF_TILES
#  define LF_TILES 0
#endif

#if LF_TILES

#if defined(__AVX512F__)
#  define LF_VEC_BYTES 64
#elif defined(__AVX__)
#  define LF_VEC_BYTES 32
#else
#  define LF_VEC_BYTES 16
#endif

typedef float lf_vf __attribute__((vector_size(LF_VEC_BYTES)));
typedef double lf_vd __attribute__((vector_size(LF_VEC_BYTES)));
#define LF_VF ((ptrdiff_t)(LF_VEC_BYTES / sizeof(float)))
#define LF_VD ((ptrdiff_t)(LF_VEC_BYTES / sizeof(double)))

/* Butterfly stage b of a V x V transpose: for rows i (bit b clear) and i + b,
 *   lo[j] = j & b ? row_(i+b)[j - b] : row_i[j],   hi[j] = j & b ? row_(i+b)[j] : row_i[j + b]
 * (indices >= V select from the second input).  The lists follow from that formula. */
#define LF_LO2_1 0,2
#define LF_HI2_1 1,3
#define LF_LO4_1 0,4,2,6
#define LF_HI4_1 1,5,3,7
#define LF_LO4_2 0,1,4,5
#define LF_HI4_2 2,3,6,7
#define LF_LO8_1 0,8,2,10,4,12,6,14
#define LF_HI8_1 1,9,3,11,5,13,7,15
#define LF_LO8_2 0,1,8,9,4,5,12,13
#define LF_HI8_2 2,3,10,11,6,7,14,15
#define LF_LO8_4 0,1,2,3,8,9,10,11
#define LF_HI8_4 4,5,6,7,12,13,14,15
#define LF_LO16_1 0,16,2,18,4,20,6,22,8,24,10,26,12,28,14,30
#define LF_HI16_1 1,17,3,19,5,21,7,23,9,25,11,27,13,29,15,31
#define LF_LO16_2 0,1,16,17,4,5,20,21,8,9,24,25,12,13,28,29
#define LF_HI16_2 2,3,18,19,6,7,22,23,10,11,26,27,14,15,30,31
#define LF_LO16_4 0,1,2,3,16,17,18,19,8,9,10,11,24,25,26,27
#define LF_HI16_4 4,5,6,7,20,21,22,23,12,13,14,15,28,29,30,31
#define LF_LO16_8 0,1,2,3,4,5,6,7,16,17,18,19,20,21,22,23
#define LF_HI16_8 8,9,10,11,12,13,14,15,24,25,26,27,28,29,30,31

/* Store the first kc (1 <= kc <= V) elements of vector v at dst.  AVX-512 has masked stores
 * (one instruction, nothing written outside the mask).  Elsewhere a whole vector is stored
 * where it ends at or before `limit` (see below), else the kc elements alone. */
#if defined(__AVX512F__)
#  include <immintrin.h>
#  define LF_STORE_FIRST_F(dst, v, kc, limit) \
       _mm512_mask_storeu_ps(dst, (__mmask16)((1u << (kc)) - 1), (__m512)(v));
#  define LF_STORE_FIRST_D(dst, v, kc, limit) \
       _mm512_mask_storeu_pd(dst, (__mmask8)((1u << (kc)) - 1), (__m512d)(v));
#else
#  define LF_STORE_FIRST_GENERIC(dst, v, kc, limit, NV) \
       if ((kc) == (NV) || (dst) + (NV) <= (limit)) memcpy(dst, &(v), sizeof(v)); \
       else memcpy(dst, &(v), (size_t)(kc) * sizeof((v)[0]));
#  define LF_STORE_FIRST_F(dst, v, kc, limit) LF_STORE_FIRST_GENERIC(dst, v, kc, limit, LF_VF)
#  define LF_STORE_FIRST_D(dst, v, kc, limit) LF_STORE_FIRST_GENERIC(dst, v, kc, limit, LF_VD)
#endif

#define LF_STAGE(V, b, r)                                                            \
    _Pragma("GCC unroll 16")                                                         \
    for (int i_ = 0; i_ < V; i_++) {                                                 \
        if (!(i_ & b)) {                                                             \
            __typeof__(r[0]) a_ = r[i_], c_ = r[i_ + b];                             \
            r[i_] = __builtin_shufflevector(a_, c_, LF_LO##V##_##b);                 \
            r[i_ + b] = __builtin_shufflevector(a_, c_, LF_HI##V##_##b);             \
        }                                                                            \
    }

#if LF_VEC_BYTES == 64
#  define LF_TRANSPOSE_F(r) LF_STAGE(16, 1, r) LF_STAGE(16, 2, r) LF_STAGE(16, 4, r) \
                            LF_STAGE(16, 8, r)
#  define LF_TRANSPOSE_D(r) LF_STAGE(8, 1, r) LF_STAGE(8, 2, r) LF_STAGE(8, 4, r)
#elif LF_VEC_BYTES == 32
#  define LF_TRANSPOSE_F(r) LF_STAGE(8, 1, r) LF_STAGE(8, 2, r) LF_STAGE(8, 4, r)
#  define LF_TRANSPOSE_D(r) LF_STAGE(4, 1, r) LF_STAGE(4, 2, r)
#else
#  define LF_TRANSPOSE_F(r) LF_STAGE(4, 1, r) LF_STAGE(4, 2, r)
#  define LF_TRANSPOSE_D(r) LF_STAGE(2, 1, r)
#endif

/* rows -> lanes: xt[c * ldt + r] = x[r * K + c] for r < nrows (a multiple of V) and c < K.
 * Rows are contiguous (x[r * K + c]); every tile load reads V classes from a row's class c0,
 * so the caller guarantees that x[(nrows - 1) * K + ceil(K / V) * V - 1] is inside the array.
 *
 * lanes -> rows: g[r * K + c] = gt[c * ldt + r] for r < nrows and c < K.  A row's last,
 * partial, class tile (K not a multiple of V) is stored as a whole vector where that ends at
 * or before `limit`: the excess runs into the following row's first classes, which are
 * written after it (the partial tiles of a group of V rows go first, rows in order).  At
 * `limit` (the end of the rows this thread owns) only the row's own classes are written. */
#define LF_DEFINE_TILES(T, VT, NV, SUFFIX)                                           \
static inline void lf_rows_to_lanes_##SUFFIX(const T* x, ptrdiff_t K, ptrdiff_t nrows, \
                                             T* xt, ptrdiff_t ldt)                   \
{                                                                                    \
    for (ptrdiff_t r0 = 0; r0 < nrows; r0 += NV) {                                   \
        for (ptrdiff_t c0 = 0; c0 < K; c0 += NV) {                                   \
            VT v[NV];                                                                \
            ptrdiff_t kc = K - c0 < NV ? K - c0 : NV;                                \
            _Pragma("GCC unroll 16")                                                 \
            for (int i = 0; i < NV; i++)                                             \
                memcpy(&v[i], x + (r0 + i) * K + c0, sizeof(VT));                    \
            LF_TRANSPOSE_##SUFFIX(v)                                                 \
            _Pragma("GCC unroll 16")                                                 \
            for (int c = 0; c < NV; c++)                                             \
                if (c < kc)                                                          \
                    memcpy(xt + (c0 + c) * ldt + r0, &v[c], sizeof(VT));             \
        }                                                                            \
    }                                                                                \
}                                                                                    \
                                                                                     \
static inline void lf_lanes_to_rows_tile_##SUFFIX(const T* gt, ptrdiff_t ldt, T* g,  \
                                                  ptrdiff_t K, ptrdiff_t r0,         \
                                                  ptrdiff_t c0, const T* limit)      \
{                                                                                    \
    VT v[NV];                                                                        \
    ptrdiff_t kc = K - c0 < NV ? K - c0 : NV;                                        \
    (void)limit;                                  /* unused with masked stores */    \
    _Pragma("GCC unroll 16")                                                         \
    for (int c = 0; c < NV; c++) {                                                   \
        if (c < kc)                                                                  \
            memcpy(&v[c], gt + (c0 + c) * ldt + r0, sizeof(VT));                     \
        else                                                                         \
            v[c] = (VT){0};                                                          \
    }                                                                                \
    LF_TRANSPOSE_##SUFFIX(v)                                                         \
    _Pragma("GCC unroll 16")                                                         \
    for (int i = 0; i < NV; i++) {                                                   \
        T* dst = g + (r0 + i) * K + c0;                                              \
        LF_STORE_FIRST_##SUFFIX(dst, v[i], kc, limit)                                \
    }                                                                                \
}                                                                                    \
                                                                                     \
static inline void lf_lanes_to_rows_##SUFFIX(const T* gt, ptrdiff_t ldt, T* g,       \
                                             ptrdiff_t K, ptrdiff_t nrows,           \
                                             const T* limit)                         \
{                                                                                    \
    ptrdiff_t last = (K - 1) / NV * NV;   /* the class tile that may be partial */   \
    for (ptrdiff_t r0 = 0; r0 < nrows; r0 += NV) {                                   \
        lf_lanes_to_rows_tile_##SUFFIX(gt, ldt, g, K, r0, last, limit);              \
        for (ptrdiff_t c0 = 0; c0 < last; c0 += NV)                                  \
            lf_lanes_to_rows_tile_##SUFFIX(gt, ldt, g, K, r0, c0, limit);            \
    }                                                                                \
}

LF_DEFINE_TILES(float, lf_vf, LF_VF, F)
LF_DEFINE_TILES(double, lf_vd, LF_VD, D)

#define lf_tile_lanes_f() LF_VF
#define lf_tile_lanes_d() LF_VD
/* From how many classes on lanes -> rows beats the element-wise loop (measured: with fewer,
 * a tile is mostly padding, and without masked stores its overlapping stores cost more) */
#if defined(__AVX512F__)
#  define lf_tile_out_min_classes() ((ptrdiff_t)2)
#else
#  define lf_tile_out_min_classes() ((ptrdiff_t)3)
#endif

#else   /* no vector extensions: the callers use their element-wise loops */

#define lf_tile_lanes_f() ((ptrdiff_t)0)
#define lf_tile_lanes_d() ((ptrdiff_t)0)
#define lf_tile_out_min_classes() ((ptrdiff_t)0)
static inline void lf_rows_to_lanes_F(const float* x, ptrdiff_t K, ptrdiff_t n, float* xt,
                                      ptrdiff_t ldt) {}
static inline void lf_rows_to_lanes_D(const double* x, ptrdiff_t K, ptrdiff_t n, double* xt,
                                      ptrdiff_t ldt) {}
static inline void lf_lanes_to_rows_F(const float* gt, ptrdiff_t ldt, float* g, ptrdiff_t K,
                                      ptrdiff_t n, const float* limit) {}
static inline void lf_lanes_to_rows_D(const double* gt, ptrdiff_t ldt, double* g, ptrdiff_t K,
                                      ptrdiff_t n, const double* limit) {}

#endif
#endif
