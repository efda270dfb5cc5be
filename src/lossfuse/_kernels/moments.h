/* The lane sums of moments.pxi on vector registers.
 *
 * `lf_moments_*` adds, for elements j < m, the six moments of element j (see `moments_segment`
 * in moments.pxi) to the accumulators acc[s * 8 + j % 8]; the last two (of the residuals,
 * for the explained variance) only where `residuals` is not 0.  Written as a plain loop over eight
 * lanes, GCC vectorized the loop over the groups of eight instead and transposed the operands
 * into place with permutes: 1.1-1.4 ms per 1e6 float64 elements against 0.31 ms on
 * vectors (memory speed) on an AVX-512 EPYC.  So the lanes are written out as vectors with
 * GCC and Clang's vector extensions: eight lanes as one vector of 8 doubles (AVX-512), two of 4
 * (AVX2) or four of 2 (SSE2, NEON).  Each lane adds its elements in the same order in every
 * build, with the same operations (no contraction: -ffp-contract=off), so every build gives the
 * same bits; another compiler gets the same lanes as a scalar loop.
 */
#ifndef LOSSFUSE_MOMENTS_H
#define LOSSFUSE_MOMENTS_H

#include <stddef.h>
#include <string.h>

#define LF_MLANES 8
#define LF_NMOM 6

#if defined(__GNUC__) || defined(__clang__)
#  if defined(__AVX512F__)
#    define LF_MVB 64
#  elif defined(__AVX__)
#    define LF_MVB 32
#  else
#    define LF_MVB 16
#  endif
typedef double lf_md __attribute__((vector_size(LF_MVB)));
typedef float lf_mf __attribute__((vector_size(LF_MVB / 2)));
#  define LF_MV ((ptrdiff_t)(LF_MVB / sizeof(double)))    /* doubles per vector */
#  define LF_MN (LF_MLANES / LF_MV)                        /* vectors per moment */

/* Load LF_MV doubles (or floats, widened) at x; unaligned. */
static inline lf_md lf_mload_d(const double* x) { lf_md v; memcpy(&v, x, sizeof v); return v; }
static inline lf_md lf_mload_f(const float* x) {
    lf_mf v; memcpy(&v, x, sizeof v); return __builtin_convertvector(v, lf_md);
}

#  define LF_MOMENTS_LOOP(LOAD, WEIGHTED, RESIDUALS)                                          \
    for (j = 0; j < m8; j += LF_MLANES) {                                                      \
        for (q = 0; q < LF_MN; q++) {                                                          \
            lf_md yv = LOAD(y + j + q * LF_MV), pv = LOAD(p + j + q * LF_MV);                  \
            lf_md u = yv - Kv, d = yv - pv, e = d - Kev;                                       \
            if (WEIGHTED) {                                                                    \
                lf_md wv = LOAD(w + j + q * LF_MV), wu = wv * u, we = wv * e;                  \
                a[0][q] += wv; a[1][q] += wu; a[2][q] += wu * u; a[3][q] += (wv * d) * d;      \
                if (RESIDUALS) { a[4][q] += we; a[5][q] += we * e; }                           \
            } else {                                                                           \
                a[1][q] += u; a[2][q] += u * u; a[3][q] += d * d;                              \
                if (RESIDUALS) { a[4][q] += e; a[5][q] += e * e; }                             \
            }                                                                                  \
        }                                                                                      \
    }
/* The weighted and unweighted loops are written apart (one test of `w` per call).  Without
 * weights the products by 1 are left out (exact: the same bits), and each lane's count of
 * elements, an exact sum of ones, is added once. */
#  define LF_MOMENTS_BODY(LOAD)                                                              \
    lf_md a[LF_NMOM][LF_MN], Kv, Kev, one;                                                     \
    ptrdiff_t j, q, s, m8 = m - m % LF_MLANES;                                                 \
    for (q = 0; q < LF_MV; q++) { Kv[q] = K; Kev[q] = Ke; one[q] = 1; }                        \
    for (s = 0; s < LF_NMOM; s++)                                                              \
        for (q = 0; q < LF_MN; q++) memcpy(&a[s][q], acc + s * LF_MLANES + q * LF_MV,          \
                                           sizeof(lf_md));                                     \
    if (w && residuals) {                                                                      \
        LF_MOMENTS_LOOP(LOAD, 1, 1)                                                            \
    } else if (w) {                                                                            \
        LF_MOMENTS_LOOP(LOAD, 1, 0)                                                            \
    } else {                                                                                   \
        if (residuals) { LF_MOMENTS_LOOP(LOAD, 0, 1) } else { LF_MOMENTS_LOOP(LOAD, 0, 0) }    \
        for (q = 0; q < LF_MN; q++) a[0][q] += one * (double)(m8 / LF_MLANES);                 \
    }                                                                                          \
    for (s = 0; s < LF_NMOM; s++)                                                              \
        for (q = 0; q < LF_MN; q++) memcpy(acc + s * LF_MLANES + q * LF_MV, &a[s][q],          \
                                           sizeof(lf_md));                                     \
    lf_moments_tail(y, p, w, m8, m, K, Ke, residuals, acc)
#else
#  define LF_MOMENTS_BODY(LOAD) lf_moments_tail(y, p, w, 0, m, K, Ke, residuals, acc)
#endif

/* Elements j0 <= j < m one at a time (the lanes in scalar form). */
#define LF_MOMENTS_TAIL(T)                                                                     \
    ptrdiff_t j, k;                                                                            \
    for (j = j0; j < m; j++) {                                                                 \
        double wj = w ? (double)w[j] : 1.0, u = (double)y[j] - K;                              \
        double d = (double)y[j] - (double)p[j], e = d - Ke, wu = wj * u, we = wj * e;          \
        k = j % LF_MLANES;                                                                     \
        acc[0 * LF_MLANES + k] += wj; acc[1 * LF_MLANES + k] += wu;                            \
        acc[2 * LF_MLANES + k] += wu * u; acc[3 * LF_MLANES + k] += (wj * d) * d;              \
        if (residuals) { acc[4 * LF_MLANES + k] += we; acc[5 * LF_MLANES + k] += we * e; }     \
    }

static inline void lf_moments_tail_d(const double* y, const double* p, const double* w,
                                     ptrdiff_t j0, ptrdiff_t m, double K, double Ke,
                                     int residuals, double* acc) { LF_MOMENTS_TAIL(double) }
static inline void lf_moments_tail_f(const float* y, const float* p, const float* w,
                                     ptrdiff_t j0, ptrdiff_t m, double K, double Ke,
                                     int residuals, double* acc) { LF_MOMENTS_TAIL(float) }

static inline void lf_moments_d(const double* y, const double* p, const double* w, ptrdiff_t m,
                                double K, double Ke, int residuals, double* acc) {
#define lf_moments_tail lf_moments_tail_d
    LF_MOMENTS_BODY(lf_mload_d);
#undef lf_moments_tail
}

static inline void lf_moments_f(const float* y, const float* p, const float* w, ptrdiff_t m,
                                double K, double Ke, int residuals, double* acc) {
#define lf_moments_tail lf_moments_tail_f
    LF_MOMENTS_BODY(lf_mload_f);
#undef lf_moments_tail
}

/* max_error's pass: the largest |y[j] - p[j]| (in the dtype) over j < m, merged into top[0],
 * and nan[0] += the sum of |y - p| - |y - p|, which stays 0 unless some |y - p| is NaN or
 * infinite (a maximum alone would drop a NaN).  A maximum is exact and the detector is 0 or
 * NaN whatever the order, so each build takes its own vector width.  The select is written
 * with masks: C has no ?: on vectors. */
#define LF_MAXABS_SCALAR(T)                                                                    \
    for (; j < m; j++) {                                                                       \
        T x = y[j] - p[j];                                                                     \
        x = x < 0 ? -x : x;                                                                    \
        t = x > t ? x : t;                                                                     \
        z += x - x;                                                                            \
    }                                                                                          \
    top[0] = t > top[0] ? t : top[0];                                                          \
    nan[0] += z;

#if defined(__GNUC__) || defined(__clang__)
typedef long long lf_mi __attribute__((vector_size(LF_MVB)));
typedef int lf_mj __attribute__((vector_size(LF_MVB)));
typedef float lf_mfv __attribute__((vector_size(LF_MVB)));
#  define LF_MAXABS_VEC(T, V, I)                                                             \
    const ptrdiff_t L = (ptrdiff_t)(sizeof(V) / sizeof(T));                                   \
    V tv = {0}, zv = {0}, sign;                                                                \
    ptrdiff_t q, mv = m - m % L;                                                               \
    for (q = 0; q < L; q++) sign[q] = (T)-0.0;                                                 \
    for (j = 0; j < mv; j += L) {                                                              \
        V yv, pv, x;                                                                           \
        I big;                                                                                 \
        memcpy(&yv, y + j, sizeof yv);                                                         \
        memcpy(&pv, p + j, sizeof pv);                                                         \
        x = yv - pv;                                                                           \
        x = (V)((I)x & ~(I)sign);                 /* |x|: the sign bit cleared */            \
        big = x > tv;                                                                          \
        tv = (V)(((I)x & big) | ((I)tv & ~big));                                               \
        zv += x - x;                                                                           \
    }                                                                                          \
    for (q = 0; q < L; q++) {                                                                  \
        t = tv[q] > t ? tv[q] : t;                                                             \
        z += zv[q];                                                                            \
    }
#else
#  define LF_MAXABS_VEC(T, V, I)
#endif

static inline void lf_maxabs_d(const double* y, const double* p, ptrdiff_t m, double* top,
                               double* nan) {
    double t = 0, z = 0;
    ptrdiff_t j = 0;
    LF_MAXABS_VEC(double, lf_md, lf_mi)
    LF_MAXABS_SCALAR(double)
}

static inline void lf_maxabs_f(const float* y, const float* p, ptrdiff_t m, float* top,
                               float* nan) {
    float t = 0, z = 0;
    ptrdiff_t j = 0;
    LF_MAXABS_VEC(float, lf_mfv, lf_mj)
    LF_MAXABS_SCALAR(float)
}

#endif
