# What each loss *is*: its pointwise loss, gradient and hessian, written once.
#
# A loss is a C struct holding its parameters (the struct type also serves as a compile-time
# tag) and one `cdef inline` function
#
#     name(const Struct* L, floating y, floating p, floating* l, floating* g, floating* h)
#
# that stores whichever of loss `l`, gradient `g` = dl/dp and hessian `h` = d2l/dp2 is asked
# for; the others are passed as NULL.  After inlining into a loop the NULL tests are constant,
# so each loop keeps only the arithmetic its operation needs.  Everything here is branch-free
# enough for the compiler to vectorize (selects, not jumps), and written the numerically stable
# way; comments say why where a formula differs from the textbook one.
#
# NaN rule: every output is NaN where an input is NaN, including constant gradient and hessian
# pieces (see `_nan_or`).  Arithmetic runs in the type of `p` (float32 stays float32), except
# log_cosh, which runs in float64.

from libc.math cimport sqrt, sqrtf, fabs, fabsf, fmax, copysign, log, expm1, pow, M_LN2, \
    INFINITY, NAN
from libc.string cimport memcpy
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from cython cimport floating

cdef inline floating _abs(floating x) noexcept nogil:
    if floating is float:
        return fabsf(x)
    else:
        return fabs(x)

cdef inline floating _sqrt(floating x) noexcept nogil:
    if floating is float:
        return sqrtf(x)
    else:
        return sqrt(x)

cdef inline floating _inv_sqrt_eps(floating x) noexcept nogil:
    """About 1/sqrt(machine epsilon) of x's type: beyond it, 1 + t*t rounds to t*t."""
    if floating is float:
        return 4096.0
    else:
        return 6.7e7

cdef inline floating _nan_or(floating d, floating value) noexcept nogil:
    """`value`, or NaN where `d` is NaN (keeps constant pieces NaN-propagating)."""
    return d if d != d else value

cdef inline floating _sign(floating d) noexcept nogil:
    """sign(d) with sign(0) = 0 and sign(NaN) = NaN."""
    return <floating>1 if d > 0 else (<floating>-1 if d < 0 else d)


# ------------------------------------------------------- exp and log1p on vector registers
# libm's exp/log1p are scalar calls: a loop that calls them cannot be vectorized.  These are
# branch-free (selects only) and use only +, -, *, /, fused multiply-add, comparisons and
# integer bit operations on the float's own width, so GCC vectorizes every loop they are
# inlined into.  Their accuracy follows from construction (the truncation bounds below) and is
# checked against mpmath in the tests: within 2 ulp in float64 and float32.
#
# Fused multiply-adds are written out (`_fma`), never left to the compiler (the build turns
# contraction off).  The AVX2 and AVX-512 builds (and aarch64) use the instruction and give
# identical bits.  The SSE2 baseline, for CPUs without it, rounds a * b and the sum separately:
# its exp and log are as accurate but may differ from the FMA builds' in the last bit, and
# what is computed from them by that much (absolutely: in a difference such as exp(p) - y,
# more than one ulp of the difference).  An exact emulation (Boldo and Melquiond's, rounding
# to odd) gives the same bits, but made the baseline's exp-bound losses 13 times slower
# (measured: one exp per element in float64, 132 instead of 10 ns).

cdef extern from *:
    """
    #if defined(__FMA__) || defined(__aarch64__)
    static inline double lf_fma(double a, double b, double c) { return __builtin_fma(a, b, c); }
    static inline float lf_fmaf(float a, float b, float c) { return __builtin_fmaf(a, b, c); }
    #else
    static inline double lf_fma(double a, double b, double c) { return a * b + c; }
    static inline float lf_fmaf(float a, float b, float c) { return a * b + c; }
    #endif
    """
    double _fma_d "lf_fma" (double a, double b, double c) noexcept nogil
    float _fma_f "lf_fmaf" (float a, float b, float c) noexcept nogil

cdef inline floating _fma(floating a, floating b, floating c) noexcept nogil:
    """a * b + c, fused where the build has FMA (see above)."""
    if floating is float:
        return _fma_f(a, b, c)
    else:
        return _fma_d(a, b, c)

cdef inline floating _bits_pow2(floating k) noexcept nogil:
    """2**k for an integral k with -126 <= k <= 127 (float32) or -1022 <= k <= 1023 (float64),
    built in the exponent field: k + 1.5 * 2^52 holds k in its low bits (the classic shift)."""
    cdef floating t
    cdef uint32_t i32          # unsigned: the shift discards high bits without overflow
    cdef uint64_t i64
    if floating is float:
        t = k + <float>12582912.0                      # 1.5 * 2^23
        memcpy(&i32, &t, 4)
        i32 = (i32 + 127) << 23
        memcpy(&t, &i32, 4)
    else:
        t = k + 6755399441055744.0                     # 1.5 * 2^52
        memcpy(&i64, &t, 8)
        i64 = (i64 + 1023) << 52
        memcpy(&t, &i64, 8)
    return t


cdef inline floating _expm1_reduced(floating r) noexcept nogil:
    """expm1(r) for |r| <= ln2/2 (a little beyond is fine): the polynomial of `_expm1_poly`."""
    cdef floating r2 = r * r, r4, q
    if floating is float:
        q = _fma(r2, _fma(r2, _fma(r, <float>(1 / 5040.), <float>(1 / 720.)),
                          _fma(r, <float>(1 / 120.), <float>(1 / 24.))),
                 _fma(r, <float>(1 / 6.), <float>(1 / 2.)))
    else:
        r4 = r2 * r2
        q = _fma(r4 * r4,
                 _fma(r2, _fma(r, 1 / 6227020800., 1 / 479001600.),
                      _fma(r, 1 / 39916800., 1 / 3628800.)),
                 _fma(r4, _fma(r2, _fma(r, 1 / 362880., 1 / 40320.),
                               _fma(r, 1 / 5040., 1 / 720.)),
                      _fma(r2, _fma(r, 1 / 120., 1 / 24.), _fma(r, 1 / 6., 1 / 2.))))
    return _fma(r2, q, r)


cdef inline floating _expm1_poly(floating x, floating* k, floating* shifted) noexcept nogil:
    """exp(x) = (1 + q) * 2^k: returns q = expm1(r), relatively accurate for tiny r, and sets
    k, for x clamped to the range of `_exp`; `shifted` is k + 1.5 * 2^(mantissa bits), which
    holds k in its low bits (see `_exp_nonpos`).

    x = k ln2 + r with k = round(x / ln2) and |r| <= ln2/2 (Cody-Waite: ln2 split in two so
    k * LN2_HI is exact); q = exp(r) - 1 by its Taylor polynomial, of degree 13 in float64
    (remainder below 0.347^14/14! < 5e-18) and 7 in float32 (0.347^8/8! < 6e-9).
    The polynomial is r + r^2 P(r), P by Estrin's scheme (pairs c_i + c_(i+1) r, joined
    with r^2, r^4, r^8; each step one `_fma`): a dependency chain of ~6 operations instead of
    Horner's 13, so the
    out-of-order core overlaps neighbouring vectors (measured: float64 exp-bound loops 1.3-1.4x
    faster); `_exp_poly` adds the leading 1 last, so the rounding stays that of Horner's."""
    cdef floating r
    if floating is float:
        shifted[0] = _fma(x, <float>1.44269504088896341, <float>12582912.0)
        k[0] = shifted[0] - <float>12582912.0
        r = _fma(-k[0], <float>1.42860682030941723212e-6,
                 _fma(-k[0], <float>0.693145751953125, x))
    else:
        shifted[0] = _fma(x, 1.4426950408889634074, 6755399441055744.0)
        k[0] = shifted[0] - 6755399441055744.0
        r = _fma(-k[0], 1.90821492927058770002e-10, _fma(-k[0], 6.93147180369123816490e-01, x))
    return _expm1_reduced(r)


cdef inline floating _exp_poly(floating x, floating* k, floating* shifted) noexcept nogil:
    """exp(x) = q * 2^k: returns q and sets k, for x clamped to the range of `_exp` (see
    `_expm1_poly`)."""
    return <floating>1 + _expm1_poly(x, k, shifted)


cdef inline double _expm1_to_30(double x) noexcept nogil:
    """expm1(x) for 0 <= x <= 30 (and NaN), within 2 ulp, relatively accurate for tiny x;
    vectorizable.  expm1(x) = 2^k expm1(r) + (2^k - 1) with `_expm1_poly`'s k and r: both
    terms exact (k <= 44), and for k >= 1 the second is at least the size of the first's
    negative part (expm1(-0.347) > -0.3), so the one rounding of the sum keeps 2 ulp."""
    cdef double k, t
    cdef double q = _expm1_poly(x, &k, &t)
    t = _bits_pow2(k)
    return t * q + (t - 1.0)


cdef inline floating _times_pow2(floating q, floating k) noexcept nogil:
    """q * 2^k for q in about [0.5, 4] and an integral k with |k - k1| within the exponent range
    (see the callers), as q * 2^k1 * 2^(k - k1) with k1 = clip(k, -(emax - 23), emax - 23): the
    first product is exact (normal range), the second rounds once, into the subnormals or to
    inf where the true value does."""
    cdef floating k1
    if floating is float:
        k1 = <float>-100.0 if k < <float>-100.0 else k
        k1 = <float>100.0 if k1 > <float>100.0 else k1
    else:
        k1 = -1000.0 if k < -1000.0 else k
        k1 = 1000.0 if k1 > 1000.0 else k1
    return q * _bits_pow2(k1) * _bits_pow2(k - k1)


cdef inline floating _exp(floating x) noexcept nogil:
    """exp(x) for every x, NaN propagating, overflowing to inf and underflowing through the
    subnormals to 0 where the true value does: q 2^k from `_exp_poly`, scaled by
    `_times_pow2`.  Single-level selects only: nested ones keep GCC from vectorizing."""
    cdef floating k, q, t
    if floating is float:
        x = <float>-104.0 if x < <float>-104.0 else x   # NaN compares false: passes through
        x = <float>89.0 if x > <float>89.0 else x
    else:
        x = -746.0 if x < -746.0 else x
        x = 710.0 if x > 710.0 else x
    q = _exp_poly(x, &k, &t)
    return _times_pow2(q, k)


cdef inline floating _exp_nonpos(floating x) noexcept nogil:
    """exp(x) for x <= 0 (and NaN, -inf): the same bits as `_exp` at a third less work.  No
    upper clamp, and one scaling step: k >= -1076 (float64) or -150 (float32) here, so
    2^(k + s) with s = 64 (32) is a normal number, q * 2^(k + s) is exact, and the product
    with 2^-s rounds once -- the one rounding of `_exp`'s two-step scaling.  2^(k + s) is
    built from the bits of k + 1.5 * 2^52 (2^23) that `_exp_poly` had at hand: adding
    k + s + bias there and shifting the sum into the exponent field drops the high bits."""
    cdef floating k, q, t
    cdef uint32_t i32
    cdef uint64_t i64
    if floating is float:
        x = <float>-104.0 if x < <float>-104.0 else x
        q = _exp_poly(x, &k, &t)
        memcpy(&i32, &t, 4)
        i32 = (i32 + (127 + 32)) << 23
        memcpy(&t, &i32, 4)
        return q * t * <float>2.3283064365386963e-10                     # 2^-32
    else:
        x = -746.0 if x < -746.0 else x
        q = _exp_poly(x, &k, &t)
        memcpy(&i64, &t, 8)
        i64 = (i64 + (1023 + 64)) << 52
        memcpy(&t, &i64, 8)
        return q * t * 5.421010862427522e-20                              # 2^-64


cdef inline floating _log_series(floating s) noexcept nogil:
    """2 atanh(s) - 2 s for |s| <= 3 - 2 sqrt(2) < 0.1716: the tail 2 s (s^2/3 + s^4/5 + ...)
    of the series, cut after s^22 in float64 (remainder < 0.0295^11 / 23 < 1e-18 relative)
    and s^10 in float32 (< 2e-9), evaluated in z = s^2 by Estrin's scheme as in `_exp`.
    log(f) = 2 s + _log_series(s) with s = (f - 1) / (f + 1), for f in [sqrt(1/2), sqrt(2)]."""
    cdef floating z = s * s, z2 = z * z, z4, q
    if floating is float:
        q = _fma(z2, _fma(z2, <float>(1 / 11.), _fma(z, <float>(1 / 9.), <float>(1 / 7.))),
                 _fma(z, <float>(1 / 5.), <float>(1 / 3.)))
    else:
        z4 = z2 * z2
        q = _fma(z4 * z4, _fma(z2, 1 / 23., _fma(z, 1 / 21., 1 / 19.)),
                 _fma(z4, _fma(z2, _fma(z, 1 / 17., 1 / 15.), _fma(z, 1 / 13., 1 / 11.)),
                      _fma(z2, _fma(z, 1 / 9., 1 / 7.), _fma(z, 1 / 5., 1 / 3.))))
    return (s + s) * (z * q)


cdef inline floating _log1p_unit(floating u) noexcept nogil:
    """log1p(u) for 0 <= u <= 1 (and NaN), relatively accurate for tiny u.

    log1p(u) = 2 atanh(s) with s = u / (2 + u); above u = sqrt(2) - 1, log1p(u) = ln 2 +
    2 atanh(s') with s' = (u - 1) / (u + 3) (the same identity at (1 + u) / 2).  Then
    |s| <= 3 - 2 sqrt(2), where `_log_series` holds."""
    cdef bint big = u > <floating>0.41421356237309504880
    cdef floating s = ((u - <floating>1 if big else u)
                       / (u + <floating>3 if big else u + <floating>2))
    return (<floating>M_LN2 if big else <floating>0) + (s + s) + _log_series(s)


cdef inline floating _log_split(floating t, floating kofs, floating c) noexcept nogil:
    """log(t * 2^kofs) + c for a normal t > 0 (c: a small correction, added where it keeps
    its accuracy).  log(t) = k ln 2 + log(f) with t = 2^k f, f in [sqrt(1/2), sqrt(2)), split
    off in the exponent bits (the offset trick of musl's log: adding 1 - sqrt(1/2) in the
    bits carries into the exponent exactly when f >= sqrt(2)); k is read back as a float
    through the 1.5 * 2^52 shift (no int64 -> double conversion on AVX2).  ln 2 is split in
    two, so k * LN2_HI is exact."""
    cdef floating f, k, s
    cdef uint32_t i32, k32
    cdef uint64_t i64, k64
    if floating is float:
        memcpy(&i32, &t, 4)
        i32 = i32 + (0x3f800000u - 0x3f3504f3u)
        k32 = (i32 >> 23) | 0x4b000000u                    # 2^23 + (k + 127), as float bits
        i32 = (i32 & 0x007fffffu) + 0x3f3504f3u
        memcpy(&f, &i32, 4)
        memcpy(&k, &k32, 4)
        k = (k - <float>(8388608.0 + 127.0)) + kofs
        s = (f - <float>1) / (f + <float>1)
        return _fma(k, <float>0.693145751953125, (s + s) + (_log_series(s) + _fma(
            k, <float>1.42860682030941723212e-6, c)))
    else:
        memcpy(&i64, &t, 8)
        i64 = i64 + (0x3ff0000000000000ull - 0x3fe6a09e667f3bcdull)
        k64 = (i64 >> 52) | 0x4330000000000000ull          # 2^52 + (k + 1023), as double bits
        i64 = (i64 & 0x000fffffffffffffull) + 0x3fe6a09e667f3bcdull
        memcpy(&f, &i64, 8)
        memcpy(&k, &k64, 8)
        k = (k - (4503599627370496.0 + 1023.0)) + kofs
        s = (f - 1) / (f + 1)
        return _fma(k, 6.93147180369123816490e-01, (s + s) + (_log_series(s) + _fma(
            k, 1.90821492927058770002e-10, c)))


cdef inline floating _log1p_pos(floating u) noexcept nogil:
    """log1p(u) for finite u >= -1/2 (and NaN), relatively accurate for tiny u; vectorizable.

    t = 1 + u rounds; c = (u - (t - 1)) / t is that rounding relative to t (t - 1 and the
    difference are exact), and log1p(u) = log(t) + c to within c^2/2 (`_log_split`)."""
    cdef floating t = <floating>1 + u
    return _log_split(t, <floating>0, (u - (t - <floating>1)) / t)


cdef inline floating _min_normal(floating x) noexcept nogil:
    """The smallest normal number of x's type."""
    if floating is float:
        return <float>1.1754943508222875e-38
    else:
        return 2.2250738585072014e-308


cdef inline floating _log(floating x) noexcept nogil:
    """log(x) for x >= 0 (0 -> -inf, inf -> inf, NaN -> NaN, negative -> NaN); vectorizable.
    Subnormals are scaled into the normal range (by 2^64, or 2^32 in float32) first."""
    cdef bint sub = x < _min_normal(x)
    cdef floating big = <floating>18446744073709551616.0 if floating is double \
        else <floating>4294967296.0
    cdef floating v = _log_split(x * big if sub else x,
                                 (<floating>-64 if floating is double else <floating>-32)
                                 if sub else <floating>0, <floating>0)
    v = -<floating>INFINITY if x == 0 else v
    v = x if x == <floating>INFINITY else v
    v = x if x != x else v
    return <floating>NAN if x < 0 else v


cdef inline floating _exp_times(floating y, floating x) noexcept nogil:
    """y * exp(x) for finite y and any x, rounded twice at most, and overflowing (underflowing)
    only where the product does -- not where exp(x) alone would: y = m 2^e split off in the
    bits, exp(x) = q 2^k (`_exp_poly`), and (m q) 2^(k + e) scaled by `_times_pow2` as in
    `_exp`.  NaN propagates; y = 0 gives 0 (for finite x)."""
    cdef floating ay = _abs(y), k, q, t, kk, m
    cdef bint sub = ay < _min_normal(y)
    cdef uint32_t i32, e32
    cdef uint64_t i64, e64
    if floating is float:
        ay = ay * <float>4294967296.0 if sub else ay          # 2^32
        memcpy(&i32, &ay, 4)
        e32 = (i32 >> 23) | 0x4b000000u                      # 2^23 + biased exponent
        i32 = (i32 & 0x007fffffu) | 0x3f800000u              # m in [1, 2)
        memcpy(&m, &i32, 4)
        memcpy(&kk, &e32, 4)
        kk = (kk - <float>(8388608.0 + 127.0)) - (<float>32 if sub else <float>0)
        x = <float>-210.0 if x < <float>-210.0 else x        # beyond: 0 or inf anyway
        x = <float>210.0 if x > <float>210.0 else x
        q = _exp_poly(x, &k, &t)
        kk = kk + k                                          # beyond +-200: 0 or inf
        kk = <float>-200.0 if kk < <float>-200.0 else kk
        kk = <float>200.0 if kk > <float>200.0 else kk
    else:
        ay = ay * 18446744073709551616.0 if sub else ay      # 2^64
        memcpy(&i64, &ay, 8)
        e64 = (i64 >> 52) | 0x4330000000000000ull
        i64 = (i64 & 0x000fffffffffffffull) | 0x3ff0000000000000ull
        memcpy(&m, &i64, 8)
        memcpy(&kk, &e64, 8)
        kk = (kk - (4503599627370496.0 + 1023.0)) - (64.0 if sub else 0.0)
        x = -1600.0 if x < -1600.0 else x
        x = 1600.0 if x > 1600.0 else x
        q = _exp_poly(x, &k, &t)
        kk = kk + k                                          # beyond +-2000: 0 or inf
        kk = -2000.0 if kk < -2000.0 else kk
        kk = 2000.0 if kk > 2000.0 else kk
    q = _times_pow2(m * q, kk)
    q = -q if y < 0 else q
    q = <floating>0 if y == 0 else q
    return y if y != y else q


# ---------------------------------------------------------------------------- squared_error
cdef struct SquaredError:
    char _unused

cdef inline void squared_error(const SquaredError* L, floating y, floating p,
                               floating* l, floating* g, floating* h) noexcept nogil:
    cdef floating d = p - y
    if l != NULL: l[0] = d * d
    if g != NULL: g[0] = d + d
    if h != NULL: h[0] = _nan_or(d, <floating>2)


# --------------------------------------------------------------------------- absolute_error
cdef struct AbsoluteError:
    char _unused

cdef inline void absolute_error(const AbsoluteError* L, floating y, floating p,
                                floating* l, floating* g, floating* h) noexcept nogil:
    cdef floating d = p - y
    if l != NULL: l[0] = _abs(d)
    if g != NULL: g[0] = _sign(d)
    if h != NULL: h[0] = _nan_or(d, <floating>0)


# ------------------------------------------------------------------------------------ huber
cdef struct Huber:
    double delta

cdef inline void huber(const Huber* L, floating y, floating p,
                       floating* l, floating* g, floating* h) noexcept nogil:
    # With c = clip(d, -delta, delta) (the gradient), the loss is c * (d - c/2): d^2/2 inside,
    # delta * (|d| - delta/2) outside, rounded as those are, in three operations and no branch.
    # The clip is written as (delta < d ? delta : d) and (-delta > c ? -delta : c), which are
    # single min/max instructions on x86 and let NaN fall through.
    cdef floating d = p - y
    cdef floating delta = <floating>L.delta
    cdef floating c = delta if delta < d else d
    c = -delta if -delta > c else c
    if l != NULL: l[0] = c * (d - <floating>0.5 * c)
    if g != NULL: g[0] = c
    if h != NULL: h[0] = <floating>1 if _abs(d) <= delta else _nan_or(d, <floating>0)


# -------------------------------------------------------------------------------- smooth_l1
cdef struct SmoothL1:
    # beta > 0 (beta = 0 is absolute_error), per dtype: float32's beta is beta rounded to
    # float32 (0 where it underflows: then |d| exactly, as |d| - beta/2 rounds to it)
    double beta, beta32
    double scale, inv, scale32, inv32    # S = 2^s with beta S normal, and 1 / (beta S)
    double inv_beta                      # 1/beta, the hessian: inf where that overflows

cdef inline void smooth_l1(const SmoothL1* L, floating y, floating p,
                           floating* l, floating* g, floating* h) noexcept nogil:
    # huber(delta = beta) / beta: inside |d| <= beta, d^2 / (2 beta), gradient t = d / beta,
    # hessian 1/beta; outside |d| - beta/2, sign(d), 0.  t = (d S) (1 / (beta S)): for a
    # subnormal beta 1/beta alone overflows, though t is at most 1 (beta = 1e-320 is valid).
    cdef floating d = p - y
    cdef floating a = _abs(d)
    cdef floating beta, t, inv_beta = <floating>L.inv_beta    # loaded outside the select
    if floating is float:
        beta = <float>L.beta32
        t = (d * <float>L.scale32) * <float>L.inv32
    else:
        beta = L.beta
        t = (d * L.scale) * L.inv
    cdef bint inside = a <= beta
    if l != NULL: l[0] = <floating>0.5 * (d * t) if inside else a - <floating>0.5 * beta
    if g != NULL: g[0] = t if inside else _sign(d)
    if h != NULL: h[0] = inv_beta if inside else _nan_or(d, <floating>0)

cdef inline void smooth_l1_setup(SmoothL1* L, double beta) noexcept nogil:
    cdef float b32 = <float>beta
    L.beta = beta
    L.scale = 1.152921504606847e18 if beta < 1e-290 else 1.0              # 2^60
    L.inv = 1.0 / (beta * L.scale)
    L.beta32 = b32
    L.scale32 = 1099511627776.0 if b32 < 1e-30 else 1.0                   # 2^40
    L.inv32 = 0.0 if b32 == 0 else <float>(1.0 / <double>(b32 * <float>L.scale32))
    L.inv_beta = 1.0 / beta


# ----------------------------------------------------------------------------- pseudo_huber
cdef struct PseudoHuber:
    double delta
    double inv_delta

cdef inline void pseudo_huber(const PseudoHuber* L, floating y, floating p,
                              floating* l, floating* g, floating* h) noexcept nogil:
    # With t = |d|/delta, s = sqrt(1 + t^2) and q = 1 / (s (s + 1)) (the only division):
    #   l = delta^2 (s - 1) = d^2 / (s + 1) = |d| (|d| q) s   -- no cancellation for small d
    #   g = d / s = d (s + 1) q,   h = s^-3 = ((s + 1) q)^3
    # Once t > 1/sqrt(eps), s = t to working precision and s (s + 1) may overflow; there
    # l = delta (|d| - delta), g = +-delta, h = (delta / |d|)^3, which stay finite.
    cdef floating d = p - y
    cdef floating a = _abs(d)
    cdef floating delta = <floating>L.delta
    cdef floating t = a * <floating>L.inv_delta
    cdef bint far = t > _inv_sqrt_eps(t)
    cdef floating s = _sqrt(<floating>1 + t * t)
    cdef floating q = <floating>1 / (s * (s + <floating>1))
    cdef floating r
    if l != NULL:
        l[0] = delta * (a - delta) if far else a * (a * q) * s
    if g != NULL:
        g[0] = (delta if d > 0 else -delta) if far else d * ((s + <floating>1) * q)
    if h != NULL:
        r = delta / a if far else (s + <floating>1) * q
        h[0] = r * r * r


# --------------------------------------------------------------------------------- log_cosh
cdef struct LogCosh:
    char _unused

cdef inline double _cosh_m1_below_1(double a) noexcept nogil:
    """cosh(a) - 1 for |a| <= 1 (and NaN), within 1.5 ulp: its Taylor series (a^2/2) (1 + z/12
    + z^2/360 + ... + 2 z^9/20!), z = a^2, cut where the remainder is below 2/22! < 2e-21
    relative; Estrin's scheme as in `_exp_poly`."""
    cdef double z = a * a, z2 = z * z, z4 = z2 * z2
    cdef double q = (((1 / 12. + z * (1 / 360.)) + z2 * (1 / 20160. + z * (1 / 1814400.)))
                     + z4 * ((1 / 239500800. + z * (1 / 43589145600.))
                             + z2 * (1 / 10461394944000. + z * (1 / 3201186852864000.)))
                     + (z4 * z4) * (1 / 1216451004088320000.))
    return (0.5 * z) * (1.0 + z * q)

cdef inline void log_cosh(const LogCosh* L, floating y, floating p,
                          floating* l, floating* g, floating* h) noexcept nogil:
    # In float64 for both dtypes (float32 results are then within an ulp).  With a = |d| and
    # e = expm1(a) (accurate for small a):
    #   cosh(a) - 1 = e^2 / (2 (1 + e))      so  log cosh a = log1p(e^2 / (2 (1 + e))),
    #                                        below a = 1 by its series (e^2 doubles e's error)
    #   u = e^(2a) - 1 = e (e + 2)           so  tanh a = u / (u + 2),
    #                                            1 - tanh^2 a = 4 (u + 1) / (u + 2)^2
    # Beyond a = 20, exp(-2a) < 2^-57: log cosh a = a - log 2, tanh a = 1, sech^2 a = 4 exp(-2a),
    # all exact in float64 and finite for every finite d (the naive log(cosh(d)) overflows at 710).
    # expm1, log1p and exp are this file's vectorizable ones: the loops run on vector registers.
    cdef double d = <double>p - <double>y
    cdef double a = fabs(d)
    cdef bint far = a > 20.0
    cdef double e = _expm1_to_30(20.0 if far else a)
    cdef double u = e * (e + 2.0)
    cdef double c
    if l != NULL:
        c = e * e / (2.0 * (1.0 + e))
        c = _cosh_m1_below_1(a) if a < 1.0 else c
        l[0] = <floating>(a - M_LN2 if far else _log1p_pos(c))
    if g != NULL:
        g[0] = <floating>copysign(1.0 if far else u / (u + 2.0), d) if d == d else <floating>d
    if h != NULL:
        h[0] = <floating>(4.0 * _exp_nonpos(-2.0 * a) if far
                          else 4.0 * (u + 1.0) / ((u + 2.0) * (u + 2.0)))


# ---------------------------------------------------------------------------------- pinball
cdef struct Pinball:
    double alpha
    double one_minus_alpha

cdef inline void pinball(const Pinball* L, floating y, floating p,
                         floating* l, floating* g, floating* h) noexcept nogil:
    # alpha * max(y - p, 0) + (1 - alpha) * max(p - y, 0); the gradient is 1 - alpha at y == p.
    cdef floating d = p - y
    cdef floating alpha = <floating>L.alpha
    cdef floating one_minus_alpha = <floating>L.one_minus_alpha
    if l != NULL: l[0] = one_minus_alpha * d if d >= 0 else -alpha * d
    if g != NULL: g[0] = -alpha if d < 0 else _nan_or(d, one_minus_alpha)
    if h != NULL: h[0] = _nan_or(d, <floating>0)


# ------------------------------------------------------- poisson, gamma, tweedie (deviances)
# Unit Tweedie deviances as scikit-learn's mean_*_deviance define them (0 at y = mu, never
# negative), of y at mu = exp(p) (the losses: log link) or at mu itself (the `*_deviance`
# kernels of lossfuse.metrics).  With a = 1 - power, b = 2 - power and r = log(mu / y), y > 0:
#
#     d = 2 y^b F(r),  F(r) = 1/(ab) - e^(ar)/a + e^(br)/b = (e^(br) - 1)/b - (e^(ar) - 1)/a
#
# (poisson a = 0 and gamma b = 0 are the limits).  The textbook sum of three terms cancels near
# y = mu, near power 1 and 2, and loses the bits of a rounded log(y) or b * p for large |p|.
# Here:
#  * r comes from y's exponent and mantissa (y = 2^k f, log f in double-double) and p, so its
#    error is a few ulp of r itself for y and p of any size; in the mean space, near y = mu,
#    from log1p((mu - y) / y), exact in the numerator: y == mu gives r = 0 and d = 0.
#  * y^b = 2^K e^g with k b = K + phi split exactly (K an integer, g = phi log 2 + b log f small,
#    in double-double); e^(ar) and e^(br) from double-double arguments.
#  * F: for |r| max(1, |a|, |b|) <= 3 a series of positive terms (F = e^(cr) sum_n c_n r^n, c in
#    {0, a, b} chosen by the signs of r and the case of the power: see `deviance_setup`), so
#    F >= 0 to a few ulp; beyond it (e^(br) - 1)/b - (e^(ar) - 1)/a, or the three-term sum where
#    its constant 1/(ab) dominates (power < 1 and r < 0, power >= 3 and r > 0): whichever does
#    not cancel (its terms sum to at most ~5 F for powers in [-3, 4]).
#  * every term stays a mantissa times 2^exponent until the end, so d overflows or underflows
#    only where the true value does.
# The value is computed in float64 for float32 data too (then exact to float32's last bit).
# Gradients and hessians (log link) keep the direct forms, which do not cancel.

cdef enum:
    DEV_TERMS = 28           # series coefficients, of t^0 .. t^27 in F / r^2 (t = |r|)
    DEV_TWEEDIE = 0          # `deviance` kinds (compile-time constants after inlining)
    DEV_POISSON = 1          # a = 0, b = 1: y^b = y, no e^(ar)
    DEV_GAMMA = 2            # a = -1, b = 0: y^b = 1, no e^(br)

cdef struct Deviance:
    double power, a, b                   # power, 1 - power, 2 - power
    double b_hi, b_lo                    # b's 26-bit split: k b_hi is exact for |k| < 2^27
    double inv_a, inv_b, inv_ab          # 1/a, 1/b, 1/(ab); 0 where a or b is 0
    double r_series                      # the series serves |r| <= r_series
    double direct_neg, direct_pos        # 1.0: the three-term sum for r < 0 / r > 0
    double pos_a, neg_b                  # 1.0: F = e^(ar) P(r) for r > 0 / e^(br) P(-r) for r < 0
    double pos[DEV_TERMS]                # P's coefficients for r > 0 ...
    double neg[DEV_TERMS]                # ... and for r < 0 (in t = -r)
    double y_min                         # y must be >= y_min, or > y_min if y_min_open
    bint y_min_open

cdef inline void _dd_split(double x, double* hi, double* lo) noexcept nogil:
    """x = hi + lo exactly, hi with 26 significant bits (Veltkamp).  |x| < 1e300."""
    cdef double c = 134217729.0 * x                          # 2^27 + 1
    hi[0] = c - (c - x)
    lo[0] = x - hi[0]

cdef extern from *:
    """
    /* a * b - p exactly, for p = fl(a * b) and |a|, |b| < 1e300: one fused multiply-add where
       the build has FMA, else Dekker's product of 26-bit halves (Veltkamp splits).  Both are
       exact, so every build gets the same bits. */
    static inline double lf_two_prod_err(double a, double b, double p) {
    #if defined(__FMA__) || defined(__aarch64__)
        return __builtin_fma(a, b, -p);
    #else
        double c = 134217729.0 * a, ah = c - (c - a), al = a - ah;
        double d = 134217729.0 * b, bh = d - (d - b), bl = b - bh;
        return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
    #endif
    }
    """
    double _two_prod_err "lf_two_prod_err" (double a, double b, double p) noexcept nogil

cdef inline double _two_sum_err(double s, double x, double y) noexcept nogil:
    """x + y - s exactly, for s = fl(x + y) (Knuth)."""
    cdef double v = s - x
    return (x - (s - v)) + (y - v)

cdef inline double _geometric(double x, int k) noexcept nogil:
    """1 + x + ... + x^(k-1) for x >= -1, to a few ulp (no cancellation)."""
    cdef double s = 1.0
    cdef int j
    if x >= 0:
        for j in range(k - 1):
            s = 1.0 + x * s
        return s
    if k % 2 == 0:               # (1 - |x|^k) / (1 - x), the difference as an expm1
        return 0.0 - expm1(k * log(-x)) / (1.0 - x)
    return (1.0 + pow(-x, k)) / (1.0 - x)

cdef inline double _power_sum(double A, double B, int k) noexcept nogil:
    """B^(k-1) + B^(k-2) A + ... + A^(k-1) = (B^k - A^k) / (B - A), for A, B >= 0."""
    cdef double s = 1.0, bk = 1.0
    cdef int j
    for j in range(k - 1):
        bk = bk * B
        s = bk + A * s
    return s

cdef void deviance_setup(Deviance* D, double power) noexcept nogil:
    """The constants of the deviance of `power` (finite; see the notes above).

    The series: F(r) = e^(cr) sum_(n>=2) c_n r^n / n! with c_n of one sign for every n, by case:
      r > 0, power < 1 (a > 0):    c = 0, c_n = b^(n-1) - a^(n-1) = sum_j b^j a^(n-2-j)
      r > 0, power >= 1 (a <= 0):  c = a, c_n = 1 + |a| + ... + |a|^(n-2)
      r < 0, power <= 3 (b >= -1): c = b, c_n (-1)^n = 1 + b + ... + b^(n-2)
      r < 0, power > 3:            c = 0, c_n (-1)^n = sum_j |a|^j |b|^(n-2-j)
    (expand e^(-cr) F(r) and compare coefficients).  Terms to n = 29: beyond, in |r| m <= 3
    with m = max(1, |a|, |b|), they sum to < 2e-18 of F."""
    cdef double a = 1.0 - power, b = 2.0 - power, fact = 1.0
    cdef double m = fmax(1.0, fmax(fabs(a), fabs(b)))
    cdef int n
    D.power = power
    D.a = a
    D.b = b
    _dd_split(b, &D.b_hi, &D.b_lo)
    D.inv_a = 0.0 if a == 0 else 1.0 / a
    D.inv_b = 0.0 if b == 0 else 1.0 / b
    D.inv_ab = 0.0 if a == 0 or b == 0 else 1.0 / (a * b)
    D.r_series = 3.0 / m
    D.direct_neg = 1.0 if a > 0 else 0.0
    D.direct_pos = 1.0 if b <= -1 else 0.0
    D.pos_a = 1.0 if a <= 0 else 0.0
    D.neg_b = 1.0 if b >= -1 else 0.0
    for n in range(2, DEV_TERMS + 2):
        fact = fact * n
        D.pos[n - 2] = (_geometric(-a, n - 1) if a <= 0 else _power_sum(a, b, n - 1)) / fact
        D.neg[n - 2] = (_geometric(b, n - 1) if b >= -1 else _power_sum(-b, -a, n - 1)) / fact
    D.y_min = -INFINITY if power <= 0 else 0.0
    D.y_min_open = power >= 2

cdef inline double _log_mantissa(double x, double* k, double* l_hi, double* l_lo) noexcept nogil:
    """x = 2^k f with f in [sqrt(1/2), sqrt(2)), for finite x > 0 (subnormals too); returns f
    and sets log f = l_hi + l_lo to about 2^-66 absolute: 2 atanh(s) = 2 s + 2 s^3/3 + 2 s^5/5
    + ... with s = (f - 1)/(f + 1) (|s| < 0.172), the first two terms in double-double (s's
    rounding -- of f + 1 and of the division -- recovered by Dekker's product), the rest, below
    2e-4 in all, in double."""
    cdef bint sub = x < 2.2250738585072014e-308
    cdef double f, kk, s, v, v_lo, prod, u, s_lo, z, z_lo, c, c_lo
    cdef double t1, t1_lo, rest, two_s, lh, iv, z2, z4
    cdef uint64_t i64, k64
    x = x * 18446744073709551616.0 if sub else x             # 2^64
    memcpy(&i64, &x, 8)
    i64 = i64 + (0x3ff0000000000000ull - 0x3fe6a09e667f3bcdull)
    k64 = (i64 >> 52) | 0x4330000000000000ull
    i64 = (i64 & 0x000fffffffffffffull) + 0x3fe6a09e667f3bcdull
    memcpy(&f, &i64, 8)
    memcpy(&kk, &k64, 8)
    k[0] = (kk - (4503599627370496.0 + 1023.0)) - (64.0 if sub else 0.0)
    u = f - 1.0                                              # exact
    v = f + 1.0
    v_lo = f - (v - 1.0)                                     # f + 1 - v, exact
    iv = 1.0 / v
    s = u * iv                                               # need not be correctly rounded:
    prod = s * v                                             # (s_lo takes up its error)
    s_lo = (((u - prod) - _two_prod_err(s, v, prod)) - s * v_lo) * iv
    # s^3 (2/3) in double-double
    z = s * s
    z_lo = _two_prod_err(s, s, z) + 2.0 * s * s_lo
    c = z * s
    c_lo = _two_prod_err(z, s, c) + (z * s_lo + z_lo * s)
    t1 = 0.6666666666666666 * c
    t1_lo = _two_prod_err(0.6666666666666666, c, t1) \
        + (0.6666666666666666 * c_lo + 3.700743415417188e-17 * c)
    # 2 s^5 (1/5 + s^2/7 + ... + s^18/23)
    # (no fused multiply-adds here: r, whose absolute error this sets, is the same in every
    # build, so that near-perfect predictions -- r tiny, the deviance r^2 small and only as
    # accurate as r -- do not differ between builds)
    z2 = z * z
    z4 = z2 * z2
    rest = (s + s) * (z2 * (((1 / 5. + z * (1 / 7.)) + z2 * (1 / 9. + z * (1 / 11.)))
                            + z4 * ((1 / 13. + z * (1 / 15.)) + z2 * (1 / 17. + z * (1 / 19.)))
                            + (z4 * z4) * (1 / 21. + z * (1 / 23.))))
    two_s = s + s
    lh = two_s + t1
    l_lo[0] = _two_sum_err(lh, two_s, t1) + (((s_lo + s_lo) + t1_lo) + rest)
    l_hi[0] = lh
    return f

cdef inline void _exp_dd(double x, double lo, double* k, double* q) noexcept nogil:
    """e^(x + lo) = 2^k (1 + q), lo a small correction; q = expm1 of the reduced argument (so
    q alone is e^(x + lo) - 1 when k = 0, to relative accuracy).  x is clamped to +-1e4,
    beyond which every caller's result is 0 or inf."""
    cdef double shifted, r
    x = -1e4 if x < -1e4 else x
    x = 1e4 if x > 1e4 else x
    shifted = x * 1.4426950408889634074 + 6755399441055744.0
    k[0] = shifted - 6755399441055744.0
    r = ((x - k[0] * 6.93147180369123816490e-01) - k[0] * 1.90821492927058770002e-10) + lo
    q[0] = _expm1_reduced(r)

cdef inline double _pow2_clamped(double k) noexcept nogil:
    """2^k for integral k in [-1000, 0], k clamped to that range: the scale of a term against
    the largest (a term more than 2^1000 below it is negligible; one above it is 0)."""
    k = -1000.0 if k < -1000.0 else k
    return _bits_pow2(0.0 if k > 0.0 else k)

cdef inline double _scaled(double m, double e) noexcept nogil:
    """m 2^e for |m| within about 2^+-100 and integral e of any size, rounded once where the
    result is normal (see `_times_pow2`)."""
    e = -2000.0 if e < -2000.0 else e
    e = 2000.0 if e > 2000.0 else e
    return _times_pow2(m, e)

cdef inline double _saturated(double r) noexcept nogil:
    """r, or +-inf where r is +-1e300: r's clamp where p or mu is infinite (or mu 0)."""
    return r * INFINITY if fabs(r) >= 1e300 else r

cdef inline void _expm1_scaled(double k, double q, double* m, double* e) noexcept nogil:
    """e^x - 1 = m 2^e for e^x = 2^k (1 + q) (`_exp_dd`), m within [0.2, 2]:
    2^k (q + (1 - 2^-k)) for k >= 1, 2^k q + (2^k - 1) for k <= 0; each exact up to one
    rounding (the same as `_expm1_to_30`'s; the second one fused where the build has FMA)."""
    cdef double kc = 60.0 if k > 60.0 else k
    kc = -60.0 if kc < -60.0 else kc
    cdef double t = _bits_pow2(kc), ti = _bits_pow2(-kc)
    m[0] = q + (1.0 - ti) if k > 0 else _fma(t, q, t - 1.0)
    e[0] = k if k > 0 else 0.0


cdef inline double _deviance_done(double d, double y, double p, bint mean_space) noexcept nogil:
    """A deviance's special values, for every kind: never negative (rounding near 0), inf at
    y = inf, NaN where y or p is.  In the mean space (the metrics'), NaN also for a mean
    that is not positive and finite and for an infinite y: scikit-learn refuses those, and
    so a finite sum of these deviances proves every operand inside the domain (the metrics'
    short paths rest on it; y outside it is a LabelError)."""
    d = 0.0 if d < 0.0 else d
    d = INFINITY if y == INFINITY else d
    if mean_space:
        d = NAN if (p <= 0) | (p == INFINITY) | (fabs(y) == INFINITY) else d
    return y + p if (y != y) | (p != p) else d

cdef inline double _dev_poly(const double* c, double t, double t2) noexcept nogil:
    """sum_i c[i] t^i over the DEV_TERMS coefficients: Horner in t^2 on the even and the
    odd ones (two chains of 14), written out (a loop keeps GCC from vectorizing)."""
    cdef double ev = c[26], od = c[27]
    ev = _fma(ev, t2, c[24])
    od = _fma(od, t2, c[25])
    ev = _fma(ev, t2, c[22])
    od = _fma(od, t2, c[23])
    ev = _fma(ev, t2, c[20])
    od = _fma(od, t2, c[21])
    ev = _fma(ev, t2, c[18])
    od = _fma(od, t2, c[19])
    ev = _fma(ev, t2, c[16])
    od = _fma(od, t2, c[17])
    ev = _fma(ev, t2, c[14])
    od = _fma(od, t2, c[15])
    ev = _fma(ev, t2, c[12])
    od = _fma(od, t2, c[13])
    ev = _fma(ev, t2, c[10])
    od = _fma(od, t2, c[11])
    ev = _fma(ev, t2, c[8])
    od = _fma(od, t2, c[9])
    ev = _fma(ev, t2, c[6])
    od = _fma(od, t2, c[7])
    ev = _fma(ev, t2, c[4])
    od = _fma(od, t2, c[5])
    ev = _fma(ev, t2, c[2])
    od = _fma(od, t2, c[3])
    ev = _fma(ev, t2, c[0])
    od = _fma(od, t2, c[1])
    return _fma(t, od, ev)

cdef inline double _exp_tail(double r) noexcept nogil:
    """(e^r - 1 - r) / r^2 = sum_(n>=2) r^(n-2) / n! for |r| <= 1, to n = 20 (the rest < 3e-20
    of the sum); two Horner chains in r^2.  The terms alternate for r < 0, but sum to at least
    1/1.95 of their absolute values (at r = -1), so the rounding stays within 2 ulp."""
    cdef double r2 = r * r
    cdef double ev = 1 / 2432902008176640000., od = 1 / 121645100408832000.
    ev = _fma(ev, r2, 1 / 6402373705728000.)
    od = _fma(od, r2, 1 / 355687428096000.)
    ev = _fma(ev, r2, 1 / 20922789888000.)
    od = _fma(od, r2, 1 / 1307674368000.)
    ev = _fma(ev, r2, 1 / 87178291200.)
    od = _fma(od, r2, 1 / 6227020800.)
    ev = _fma(ev, r2, 1 / 479001600.)
    od = _fma(od, r2, 1 / 39916800.)
    ev = _fma(ev, r2, 1 / 3628800.)
    od = _fma(od, r2, 1 / 362880.)
    ev = _fma(ev, r2, 1 / 40320.)
    od = _fma(od, r2, 1 / 5040.)
    ev = _fma(ev, r2, 1 / 720.)
    od = _fma(od, r2, 1 / 120.)
    ev = _fma(ev, r2, 1 / 24.)
    od = _fma(od, r2, 1 / 6.)
    ev = _fma(ev, r2, 1 / 2.)
    return _fma(r, od, ev)

cdef inline double _deviance_exp(double y, double vm, double ve, double rh, double rl,
                                 int kind, bint mean_space, double p) noexcept nogil:
    """Poisson's and gamma's deviance from r = rh + rl = log(mu / y) and y = vm 2^ve (poisson;
    gamma: 1): both are G(x) = e^x - 1 - x, poisson's 2 y G(r) and gamma's 2 G(-r).  For
    |x| <= 1 the series x^2 `_exp_tail`(x); beyond it (e^x - 1) - x with e^x - 1 = m 2^e
    from `_exp_dd`, the first term scaled with y's exponent so that
    nothing overflows before the result does (`_expm1_scaled`).  Poisson at y = 0 (then vm = 1, ve = 0 and
    r = log mu): 2 mu, the e^x of the same steps."""
    cdef double xh, xl, kx, qx, m, e, big, lin, x2, near_d, d
    cdef bint ypos = y > 0
    if kind == DEV_GAMMA:
        xh = -rh
        xl = -rl
    else:
        xh = rh
        xl = rl
    _exp_dd(xh, xl, &kx, &qx)                                # e^x = 2^kx (1 + qx)
    _expm1_scaled(kx, qx, &m, &e)                            # e^x - 1 = m 2^e
    if kind == DEV_POISSON:
        m = m if ypos else 1.0 + qx
        e = e if ypos else kx
        lin = y * _saturated(xh) if ypos else 0.0
    else:
        lin = _saturated(xh)
    big = _scaled(vm * m, ve + e) - lin
    x2 = _fma(xh + xh, xl, xh * xh)
    near_d = x2 * _exp_tail(xh)
    if kind == DEV_POISSON:
        near_d = y * near_d
    # two selects, each on one comparison: one on `ypos & (fabs(xh) <= 1.0)` (a bint and a
    # double comparison) kept GCC from vectorizing the mean-space loops of the metrics
    # (measured: 44 ns an element, against 9, for mean_poisson_deviance on AVX-512)
    d = near_d if fabs(xh) <= 1.0 else big
    d = d if ypos else big
    return _deviance_done(d + d, y, p, mean_space)


cdef inline double deviance(const Deviance* D, double y, double p, bint mean_space,
                            int kind) noexcept nogil:
    """The unit deviance of y at mu = exp(p), or at mu = p if `mean_space`; `kind` a
    DEV_* constant (poisson and gamma, one exponential each: `_deviance_exp`)."""
    cdef bint ypos = y > 0
    cdef double ys = y if (ypos & (y < INFINITY)) else 1.0  # y <= 0: y^b as 1 (see the end)
    cdef double k, lh, ll, f, K, phi, kb, p1, p2, gh, gl, kg, qg, vm, ve
    cdef double mu, mus, k2, lh2, ll2, kd, t1, h, eh, rh, rl, tn, h2, pc
    cdef double xa, xal, ka = 0.0, qa = 0.0, xb, xbl, kbx = 0.0, qb = 0.0
    cdef double t, t2, poly, poly_pos, poly_neg, r2, qf, fe, xs, d_ser
    cdef double ma, ea, mb, eb, tam, tae, tbm, tbe, t0, e0, emax, d_far
    cdef bint rpos, direct, near
    # the constants the selects below use, loaded first: a load inside a select on an
    # element's value becomes a masked load, which keeps GCC from vectorizing
    cdef double pos_a = D.pos_a, neg_b = D.neg_b, direct_pos = D.direct_pos
    cdef double direct_neg = D.direct_neg, inv_ab = D.inv_ab, inv_a = D.inv_a, inv_b = D.inv_b
    cdef double r_series = D.r_series
    f = _log_mantissa(ys, &k, &lh, &ll)
    # y^b = vm 2^ve
    qg = 0.0
    if kind == DEV_POISSON:
        vm = f
        ve = k
    elif kind == DEV_GAMMA:
        vm = 1.0
        ve = 0.0
    else:
        kb = k * D.b_hi                                      # exact: |k| < 1100
        K = (kb + 6755399441055744.0) - 6755399441055744.0   # the nearest integer
        phi = (kb - K) + k * D.b_lo
        p1 = phi * 0.6931471805599453                        # log 2 ...
        p2 = D.b * lh
        gh = p1 + p2
        gl = (_two_sum_err(gh, p1, p2)
              + (_two_prod_err(phi, 0.6931471805599453, p1)
                 + phi * 2.3190468138462996e-17))            # ... and its rounding
        gl = gl + (_two_prod_err(D.b, lh, p2) + D.b * ll)
        _exp_dd(gh, gl, &kg, &qg)
        vm = 1.0 + qg
        ve = K + kg
    # r = log(mu / y) = rh + rl
    if mean_space:
        mu = p
        mus = mu if (mu > 0) & (mu < INFINITY) else 1.0
        f = _log_mantissa(mus, &k2, &lh2, &ll2)
        kd = k2 - k
        t1 = kd * 6.93147180369123816490e-01                 # exact
        h = lh2 - lh
        eh = _two_sum_err(h, lh2, -lh)
        h2 = t1 + h
        rl = ((_two_sum_err(h2, t1, h) + eh) + (ll2 - ll)) + kd * 1.90821492927058770002e-10
        rh = h2 + rl
        rl = _two_sum_err(rh, h2, rl)
        near = fabs(mus - ys) <= 0.5 * ys                    # then mus - ys is exact
        tn = (mus - ys) / ys
        rh = _log1p_pos(tn) if near else rh
        rl = 0.0 if near else rl
        rh = -1e300 if mu == 0 else rh
        rh = 1e300 if mu == INFINITY else rh
        rl = 0.0 if (mu == 0) | (mu == INFINITY) else rl
    else:
        pc = -1e300 if p < -1e300 else p
        pc = 1e300 if pc > 1e300 else pc
        t1 = k * 6.93147180369123816490e-01                  # exact
        h = pc - t1
        h2 = h - lh
        rl = ((_two_sum_err(h, pc, -t1) + _two_sum_err(h2, h, -lh)) - ll) \
            - k * 1.90821492927058770002e-10
        rh = h2 + rl
        rl = _two_sum_err(rh, h2, rl)
    if kind != DEV_TWEEDIE:
        return _deviance_exp(y, vm, ve, rh, rl, kind, mean_space, p)
    # tweedie: e^(ar) = 2^ka (1 + qa), e^(br) = 2^kbx (1 + qb)
    xa = D.a * rh
    xal = _two_prod_err(D.a, rh, xa) + D.a * rl
    _exp_dd(xa, xal, &ka, &qa)
    xb = D.b * rh
    xbl = _two_prod_err(D.b, rh, xb) + D.b * rl
    _exp_dd(xb, xbl, &kbx, &qb)
    # near r = 0: the series of positive terms, both, then a select (a select of the
    # coefficients would load them as a gather)
    rpos = rh > 0
    t = fabs(rh)
    t2 = t * t
    poly_pos = _dev_poly(D.pos, t, t2)
    poly_neg = _dev_poly(D.neg, t, t2)
    poly = poly_pos if rpos else poly_neg
    r2 = _fma(rh + rh, rl, rh * rh)
    # y^b e^(cr) = 2^(ve + fe) (1 + qg)(1 + qf), times r^2 P: (1 + q) X as X + q X, rounded once
    qf = (qa if pos_a != 0 else 0.0) if rpos else (qb if neg_b != 0 else 0.0)
    fe = (ka if pos_a != 0 else 0.0) if rpos else (kbx if neg_b != 0 else 0.0)
    xs = r2 * poly
    d_ser = _scaled(2.0 * _fma(qg + _fma(qg, qf, qf), xs, xs), ve + fe)
    # beyond: a sum of three terms t0 + tb 2^tbe + ta 2^tae (y <= 0: -y e^(ar)/a + e^(br)/b)
    _expm1_scaled(ka, qa, &ma, &ea)
    _expm1_scaled(kbx, qb, &mb, &eb)
    direct = ((direct_pos if rpos else direct_neg) != 0) | (not ypos)
    t0 = (inv_ab if ypos else 0.0) if direct else 0.0
    tbm = (1.0 + qb if direct else mb) * inv_b
    tbe = kbx if direct else eb
    tam = (-(1.0 + qa) * (1.0 if ypos else y) if direct else -ma) * inv_a
    tae = ka if direct else ea
    # the largest exponent among the terms present (a missing term is 0 with exponent 0)
    tae = tae if tam != 0 else -1e6
    tbe = tbe if tbm != 0 else -1e6
    e0 = 0.0 if t0 != 0 else -1e6           # (selects on doubles only: a bint & a double
    emax = tae if tae > tbe else tbe          # comparison here keeps GCC from vectorizing)
    emax = e0 if e0 > emax else emax
    d_far = _scaled(2.0 * vm * ((t0 * _pow2_clamped(-emax) + tbm * _pow2_clamped(tbe - emax))
                                + tam * _pow2_clamped(tae - emax)), ve + emax)
    return _deviance_done(d_ser if ypos & (t <= r_series) else d_far, y, p, mean_space)


cdef inline floating _or_limit(floating v, floating y, floating p, floating limit) noexcept nogil:
    """v, or `limit` where v is NaN but neither y nor p is (an inf - inf of infinite terms,
    whose limit the caller knows)."""
    return limit if (v != v) & (y == y) & (p == p) else v

cdef struct Poisson:
    const Deviance* dev

cdef inline void poisson(const Poisson* L, floating y, floating p,
                         floating* l, floating* g, floating* h) noexcept nogil:
    # 2 (y log(y / mu) - y + mu), mu = exp(p); gradient 2 (mu - y), hessian 2 mu
    cdef floating mu
    if l != NULL: l[0] = <floating>deviance(L.dev, y, p, False, DEV_POISSON)
    if g != NULL or h != NULL:
        mu = _exp(p)
        if g != NULL: g[0] = <floating>2 * (mu - y)
        if h != NULL: h[0] = _nan_or(y, <floating>2 * mu)  # NaN where y is, too

cdef struct Gamma:
    const Deviance* dev

cdef inline void gamma(const Gamma* L, floating y, floating p,
                       floating* l, floating* g, floating* h) noexcept nogil:
    # 2 (log(mu / y) + y / mu - 1); with z = y / mu = y exp(-p): gradient 2 (1 - z), hessian 2 z
    cdef floating z
    if l != NULL: l[0] = <floating>deviance(L.dev, y, p, False, DEV_GAMMA)
    if g != NULL or h != NULL:
        z = _exp_times(y, -p)
        if g != NULL: g[0] = <floating>2 * (<floating>1 - z)
        if h != NULL: h[0] = <floating>2 * z

cdef struct Tweedie:
    const Deviance* dev      # power < 0 or > 1, not 2 (0, 1, 2: tweedie_normal, poisson, gamma)

cdef inline void tweedie(const Tweedie* L, floating y, floating p,
                         floating* l, floating* g, floating* h) noexcept nogil:
    # gradient 2 (mu^(2 - power) - y mu^(1 - power)), hessian 2 ((2 - power) mu^(2 - power)
    # - (1 - power) y mu^(1 - power)).  Where two terms overflow, the larger decides the
    # infinity's sign: mu^(2 - power) when mu > y, else y mu^(1 - power).  (A select on the
    # power -- for power 0, say -- keeps GCC from vectorizing the loop: power 0 is
    # `tweedie_normal`.)
    cdef floating one_minus = <floating>L.dev.a, two_minus = <floating>L.dev.b
    cdef floating b, c, v, s
    cdef bint mu_wins
    if l != NULL: l[0] = <floating>deviance(L.dev, y, p, False, DEV_TWEEDIE)
    if g != NULL or h != NULL:
        b = _exp_times(y, one_minus * p)                 # y mu^(1 - power)
        c = _exp(two_minus * p)                          # mu^(2 - power)
        mu_wins = p > _log(y)
        if g != NULL:
            v = <floating>2 * (c - b)
            g[0] = _or_limit(v, y, p, <floating>INFINITY if mu_wins else -<floating>INFINITY)
        if h != NULL:
            v = <floating>2 * (two_minus * c - one_minus * b)
            s = two_minus if mu_wins else -one_minus
            h[0] = _or_limit(v, y, p, <floating>INFINITY if s > 0 else -<floating>INFINITY)

# The deviances of lossfuse.metrics: y_pred is mu itself.  The metrics need the loss alone, and
# their kernels run the loss operation only (see `_loss_only` in loops.pxi).
cdef struct PoissonMean:
    const Deviance* dev

cdef struct GammaMean:
    const Deviance* dev

cdef struct TweedieMean:
    const Deviance* dev

cdef inline void deviance_mean(const Deviance* D, int kind, floating y, floating mu,
                               floating* l) noexcept nogil:
    if l != NULL: l[0] = <floating>deviance(D, y, mu, True, kind)


cdef struct TweedieNormal:
    const Deviance* dev      # of power 0

cdef inline void tweedie_normal(const TweedieNormal* L, floating y, floating p,
                                floating* l, floating* g, floating* h) noexcept nogil:
    # tweedie at power 0: (y - mu)^2 for every y (squared error in the mean space).  For y > 0
    # it is the deviance of power 0, y^2 (e^r - 1)^2 with r = log(mu / y) exact (`deviance`):
    # y - exp(p) would cancel where mu is near y.  For y <= 0 nothing cancels.  Gradient
    # 2 (mu - y) mu and hessian 2 (2 mu - y) mu as products with exp(p) formed by `_exp_times`,
    # so that they do not vanish with mu (y = 1e300, p = -1000: the hessian is -1e-134)
    cdef floating mu = _exp(p)
    cdef floating d = mu - y
    cdef double dd
    if l != NULL:
        dd = _exp(<double>p) - <double>y
        l[0] = <floating>(deviance(L.dev, y, p, False, DEV_TWEEDIE) if y > 0 else dd * dd)
    if g != NULL: g[0] = <floating>2 * _exp_times(d, p)
    if h != NULL: h[0] = <floating>2 * _exp_times(mu + d, p)


# ------------------------------------------------------------------- binary_cross_entropy
cdef struct BinaryCrossEntropy:
    double pos_weight

cdef inline void binary_cross_entropy(const BinaryCrossEntropy* L, floating y, floating p,
                                      floating* l, floating* g, floating* h) noexcept nogil:
    # Logits in.  With e = exp(-|p|) (never overflows) and lp = log1p(e):
    #   softplus(p) = max(p, 0) + lp = -log(1 - s),  softplus(-p) = max(-p, 0) + lp = -log(s)
    #   s = sigmoid(p) and 1 - s = sigmoid(-p) are 1/(1+e) and e/(1+e), in the order the sign
    #   of p says (one division, and both keep full relative accuracy: the gradient y = 1,
    #   p = 30 is -9.36e-14 to the last digits, where s - 1 would keep three).
    # A weight of exactly 0 drops its term (hard labels at infinite logits give 0, not 0*inf;
    # rows with y = 0 do not depend on pos_weight, however large).  (A pos_weight beyond
    # float32's range runs float32 data in float64: see lossfuse's Loss.)
    cdef floating pw = <floating>L.pos_weight
    cdef floating a = _abs(p)
    cdef floating e = _exp_nonpos(-a)
    cdef floating c1 = pw * y, c0 = <floating>1 - y
    cdef floating q, sp, sn, lp
    c1 = <floating>0 if y == 0 else c1
    if l != NULL:
        lp = _log1p_unit(e)
        l[0] = ((<floating>0 if c1 == 0 else c1 * ((-p if p < 0 else <floating>0) + lp))
                + (<floating>0 if c0 == 0 else c0 * ((p if p > 0 else <floating>0) + lp)))
    if g != NULL or h != NULL:
        q = <floating>1 / (<floating>1 + e)
        sp = q if p >= 0 else e * q
        sn = e * q if p >= 0 else q
        if p != p:
            sp = p
            sn = p
        if g != NULL:
            g[0] = c0 * sp - c1 * sn
        if h != NULL:
            h[0] = (c0 + c1) * (sp * sn)


# ------------------------------------------- hinge, squared_hinge, exponential (margin losses)
cdef inline floating _sign_label(floating y) noexcept nogil:
    """t = +1 for y = 1, -1 for y = 0 or -1 (the label sets {0, 1} and {-1, 1}); NaN stays."""
    return <floating>1 if y > 0 else (<floating>-1 if y == y else y)

cdef struct Hinge:
    char _unused

cdef inline void hinge(const Hinge* L, floating y, floating p,
                       floating* l, floating* g, floating* h) noexcept nogil:
    cdef floating t = _sign_label(y)
    cdef floating m = <floating>1 - t * p          # the loss is max(0, m); NaN passes
    if l != NULL: l[0] = <floating>0 if m <= 0 else m
    if g != NULL: g[0] = -t if m > 0 else _nan_or(m, <floating>0)
    if h != NULL: h[0] = _nan_or(m, <floating>0)

cdef struct SquaredHinge:
    char _unused

cdef inline void squared_hinge(const SquaredHinge* L, floating y, floating p,
                               floating* l, floating* g, floating* h) noexcept nogil:
    cdef floating t = _sign_label(y)
    cdef floating m = <floating>1 - t * p
    cdef floating mp = <floating>0 if m <= 0 else m
    if l != NULL: l[0] = mp * mp
    if g != NULL: g[0] = <floating>-2 * t * mp
    if h != NULL: h[0] = <floating>2 if m > 0 else _nan_or(m, <floating>0)

cdef struct Exponential:
    char _unused

cdef inline void exponential(const Exponential* L, floating y, floating p,
                             floating* l, floating* g, floating* h) noexcept nogil:
    cdef floating t = _sign_label(y)
    cdef floating e = _exp(-t * p)                # overflows to inf only where exp(-t p) does
    if l != NULL: l[0] = e
    if g != NULL: g[0] = -t * e
    if h != NULL: h[0] = e


# ------------------------------------------------------------ log loss of a probability
cdef struct ProbaLogLoss:
    double positive       # the label of the positive class (y == positive: the loss of p)
    double negative       # the other label (the loss of 1 - p); any other label is an error
    double lo, hi         # the clip: scikit-learn's eps and 1 - eps of the dtype

cdef inline void proba_log_loss(const ProbaLogLoss* L, floating y, floating p,
                                floating* l) noexcept nogil:
    # scikit-learn's log_loss of one binary target from a probability p: -log(q), q = p for
    # the positive label, 1 - p (rounded in p's dtype, as there) for the other, clipped to
    # [lo, hi].  NaN propagates (comparisons false).  The loss alone (`_loss_only`).
    cdef floating q = p if y == <floating>L.positive else <floating>1 - p
    cdef floating c = <floating>L.lo if q < <floating>L.lo else q
    c = <floating>L.hi if c > <floating>L.hi else c
    if l != NULL: l[0] = -_log(c)


# ----------------------------------------------- the logarithmic and percentage errors
# lossfuse.metrics' mean_squared_log_error and mean_absolute_percentage_error: functions of y
# and p themselves, the loss alone (`_loss_only` in loops.pxi).
cdef struct SquaredLogError:
    char _unused

cdef struct AbsolutePercentageError:
    double eps            # the floor of |y| (scikit-learn: float64's epsilon)

cdef inline void squared_log_error(const SquaredLogError* L, floating y, floating p,
                                   floating* l) noexcept nogil:
    # (log1p(p) - log1p(y))^2 = log1p((hi - lo) / (1 + lo))^2 with hi, lo the greater and the
    # lesser of y and p: one logarithm, of an argument >= 0 (where log1p is well conditioned),
    # each of hi - lo, 1 + lo and the quotient rounded once -- accurate where p is near y,
    # where the difference of two log1p keeps only their absolute errors (1e-10 relative at
    # p - y = 1e-11), and where one is far below the other.  NaN where y or p is at most -1
    # (the facade then says which is out of the domain) or NaN; the quotient overflows, to
    # infinity, only for lo near -1 and a huge hi (the facade then takes NumPy's log1p).
    cdef floating hi = p if p > y else y
    cdef floating lo = y if p > y else p
    cdef floating u = (hi - lo) / (<floating>1 + lo)
    cdef floating d = _log1p_pos(u)
    d = <floating>INFINITY if u == <floating>INFINITY else d
    d = d if (<floating>1 + lo > 0) & (u == u) else <floating>NAN
    if l != NULL: l[0] = d * d

cdef inline void absolute_percentage_error(const AbsolutePercentageError* L, floating y,
                                           floating p, floating* l) noexcept nogil:
    # |p - y| / max(|y|, eps), in the dtype of the data, as scikit-learn computes it
    cdef floating a = _abs(y)
    cdef floating e = <floating>L.eps
    if l != NULL: l[0] = _abs(p - y) / (a if a > e else e)


# ------------------------------------------------------ the Brier score and hinge loss of labels
# lossfuse.metrics' binary brier_score_loss and hinge_loss: y_true labels (numbers), the loss
# alone (`_loss_only` in loops.pxi).  y equal to `positive` is the positive class; any other
# label must be `negative` or `negative2` (`label_flags`).  With negative != negative2 (the
# facade's default: 0 and -1) the labels are the set {0, 1} or {-1, 1}, and a y_true holding
# both 0 and -1 is refused as hinge's is (LABEL_ZERO with LABEL_MINUS_ONE).
cdef struct BrierLabels:
    double positive
    double negative
    double negative2

cdef struct HingeLabels:
    double positive
    double negative
    double negative2

cdef inline void brier_labels(const BrierLabels* L, floating y, floating p,
                              floating* l) noexcept nogil:
    # scikit-learn's binary Brier term ((1 - t) - (1 - p))^2 + (t - p)^2 (the scale by 1/2 is
    # the facade's), rounded as it rounds it, in p's dtype: 1 - p rounds, so the first
    # difference is not always t - p.  NaN where p is outside [0, 1] (or NaN): the facade then
    # says which (no pass of its own over p in the common call).
    cdef floating t = <floating>1 if y == <floating>L.positive else <floating>0
    cdef floating a = (<floating>1 - t) - (<floating>1 - p)
    cdef floating b = t - p
    cdef floating v = a * a + b * b
    if l != NULL: l[0] = v if (p >= 0) & (p <= 1) else <floating>NAN

cdef inline void hinge_labels(const HingeLabels* L, floating y, floating p,
                              floating* l) noexcept nogil:
    # scikit-learn's binary hinge loss max(0, 1 - t p), t = +1 for the positive label and -1
    # for the others; the margin t p and 1 - t p in float64 whatever p's dtype (there: int64
    # labels times p), stored in p's dtype (the facade runs float32 data as float64).  NaN
    # where p is NaN or infinite (p - p: 0 for finite p, else NaN), which the facade then
    # reports (an infinite margin would otherwise give a loss of 0).
    cdef double t = 1.0 if y == <floating>L.positive else -1.0
    cdef double m = (1.0 - t * <double>p) + (<double>p - <double>p)
    if l != NULL: l[0] = <floating>(0.0 if m <= 0 else m)


# ------------------------------------------------------------------- the set of all losses
ctypedef fused Loss:
    SquaredError
    AbsoluteError
    Huber
    SmoothL1
    PseudoHuber
    LogCosh
    Pinball
    Poisson
    Gamma
    Tweedie
    TweedieNormal
    PoissonMean
    GammaMean
    TweedieMean
    BinaryCrossEntropy
    Hinge
    SquaredHinge
    Exponential
    ProbaLogLoss
    SquaredLogError
    AbsolutePercentageError
    BrierLabels
    HingeLabels

cdef inline void pointwise(const Loss* L, floating y, floating p,
                           floating* l, floating* g, floating* h) noexcept nogil:
    """Compile-time dispatch from a loss's struct type to its function."""
    if Loss is SquaredError:
        squared_error(L, y, p, l, g, h)
    elif Loss is AbsoluteError:
        absolute_error(L, y, p, l, g, h)
    elif Loss is Huber:
        huber(L, y, p, l, g, h)
    elif Loss is SmoothL1:
        smooth_l1(L, y, p, l, g, h)
    elif Loss is PseudoHuber:
        pseudo_huber(L, y, p, l, g, h)
    elif Loss is LogCosh:
        log_cosh(L, y, p, l, g, h)
    elif Loss is Pinball:
        pinball(L, y, p, l, g, h)
    elif Loss is Poisson:
        poisson(L, y, p, l, g, h)
    elif Loss is Gamma:
        gamma(L, y, p, l, g, h)
    elif Loss is Tweedie:
        tweedie(L, y, p, l, g, h)
    elif Loss is TweedieNormal:
        tweedie_normal(L, y, p, l, g, h)
    elif Loss is PoissonMean:
        deviance_mean(L.dev, DEV_POISSON, y, p, l)
    elif Loss is GammaMean:
        deviance_mean(L.dev, DEV_GAMMA, y, p, l)
    elif Loss is TweedieMean:
        deviance_mean(L.dev, DEV_TWEEDIE, y, p, l)
    elif Loss is BinaryCrossEntropy:
        binary_cross_entropy(L, y, p, l, g, h)
    elif Loss is Hinge:
        hinge(L, y, p, l, g, h)
    elif Loss is SquaredHinge:
        squared_hinge(L, y, p, l, g, h)
    elif Loss is Exponential:
        exponential(L, y, p, l, g, h)
    elif Loss is ProbaLogLoss:
        proba_log_loss(L, y, p, l)
    elif Loss is SquaredLogError:
        squared_log_error(L, y, p, l)
    elif Loss is AbsolutePercentageError:
        absolute_percentage_error(L, y, p, l)
    elif Loss is BrierLabels:
        brier_labels(L, y, p, l)
    elif Loss is HingeLabels:
        hinge_labels(L, y, p, l)


# -------------------------------------------------------------------- label domain checks
# Bits of a label check, OR-ed over all elements by the loops (so a check costs no extra pass).
cdef enum:
    LABEL_ZERO = 1           # a label 0 (hinge family: the set {0, 1})
    LABEL_MINUS_ONE = 2      # a label -1 (the set {-1, 1})
    LABEL_INVALID = 4        # a label outside the loss's domain
    LABEL_NEGATIVE = 8       # a negative label (brier_labels, hinge_labels)

ctypedef fused flag_int:     # the label-check bits, in an integer as wide as y (see below)
    int32_t
    int64_t

cdef inline flag_int label_flags(const Loss* L, floating y, flag_int width) noexcept nogil:
    """The label-check bits of one y (NaN is not an error: it propagates).  Bitwise operators
    on the comparisons, not `and`/`or`: no branches on the labels, so the loop vectorizes (and
    random labels cost no mispredictions).  `width` only picks the integer type: pass an
    int32_t for float32 and an int64_t for float64, so that a comparison's vector mask becomes
    the flag lanes as it is (a 32-bit int for float64 data costs a repack of every vector:
    measured, hinge and squared_hinge float64 loss_gradient 1.2x slower on the AVX2 build)."""
    cdef flag_int zero, minus_one, one, positive, negative, sets
    if Loss is BinaryCrossEntropy:
        return <flag_int>LABEL_INVALID * <flag_int>((y < 0) | (y > 1))
    elif Loss is Poisson or Loss is PoissonMean:
        return <flag_int>LABEL_INVALID * <flag_int>(y < 0)
    elif Loss is Gamma or Loss is GammaMean:
        return <flag_int>LABEL_INVALID * <flag_int>(y <= 0)
    elif Loss is Tweedie or Loss is TweedieMean:
        return <flag_int>LABEL_INVALID * <flag_int>(
            (y < <floating>L.dev.y_min) | ((y == <floating>L.dev.y_min) & L.dev.y_min_open))
    elif Loss is Hinge or Loss is SquaredHinge or Loss is Exponential:
        zero = y == 0
        minus_one = y == -1
        one = y == 1
        return (<flag_int>LABEL_ZERO * zero) | (<flag_int>LABEL_MINUS_ONE * minus_one) \
            | (<flag_int>LABEL_INVALID * ((zero | minus_one | one | <flag_int>(y != y)) ^ 1))
    elif Loss is ProbaLogLoss:      # one of the two labels; NaN is no label either
        return <flag_int>LABEL_INVALID * <flag_int>(
            ((y == <floating>L.positive) | (y == <floating>L.negative)) ^ 1)
    elif Loss is BrierLabels or Loss is HingeLabels:
        sets = L.negative != L.negative2            # the sets {0, 1} and {-1, 1}
        positive = y == <floating>L.positive
        negative = (y == <floating>L.negative) | (y == <floating>L.negative2)
        return (<flag_int>LABEL_ZERO * (<flag_int>(y == 0) & sets)) \
            | (<flag_int>LABEL_MINUS_ONE * (<flag_int>(y == -1) & sets)) \
            | (<flag_int>LABEL_NEGATIVE * negative) \
            | (<flag_int>LABEL_INVALID * ((positive | negative) ^ 1))
    else:
        return 0

cdef inline bint has_label_domain(const Loss* L) noexcept nogil:
    return Loss is BinaryCrossEntropy or Loss is Hinge or Loss is SquaredHinge \
        or Loss is Exponential or Loss is Poisson or Loss is Gamma or Loss is Tweedie \
        or Loss is PoissonMean or Loss is GammaMean or Loss is TweedieMean or Loss is ProbaLogLoss \
        or Loss is BrierLabels or Loss is HingeLabels

