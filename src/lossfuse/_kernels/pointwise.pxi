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
# log_cosh, which runs in float64 because it calls libm.

from libc.math cimport sqrt, sqrtf, fabs, fabsf, expm1, log1p, exp, copysign, M_LN2
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
    Huber huber          # huber with delta = beta ...
    double inv_beta      # ... divided by beta (beta > 0; beta = 0 is absolute_error)

cdef inline void smooth_l1(const SmoothL1* L, floating y, floating p,
                           floating* l, floating* g, floating* h) noexcept nogil:
    cdef floating inv_beta = <floating>L.inv_beta
    huber(&L.huber, y, p, l, g, h)
    if l != NULL: l[0] = l[0] * inv_beta
    if g != NULL: g[0] = g[0] * inv_beta
    if h != NULL: h[0] = h[0] * inv_beta


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

cdef inline void log_cosh(const LogCosh* L, floating y, floating p,
                          floating* l, floating* g, floating* h) noexcept nogil:
    # In float64 for both dtypes.  With a = |d| and e = expm1(a) (accurate for small a):
    #   cosh(a) - 1 = e^2 / (2 (1 + e))      so  log cosh a = log1p(e^2 / (2 (1 + e)))
    #   u = e^(2a) - 1 = e (e + 2)           so  tanh a = u / (u + 2),
    #                                            1 - tanh^2 a = 4 (u + 1) / (u + 2)^2
    # Beyond a = 20, exp(-2a) < 2^-57: log cosh a = a - log 2, tanh a = 1, sech^2 a = 4 exp(-2a),
    # all exact in float64 and finite for every finite d (the naive log(cosh(d)) overflows at 710).
    cdef double d = <double>p - <double>y
    cdef double a = fabs(d)
    cdef bint far = a > 20.0
    cdef double e = expm1(20.0 if far else a)
    cdef double u = e * (e + 2.0)
    if l != NULL:
        l[0] = <floating>(a - M_LN2 if far else log1p(e * e / (2.0 * (1.0 + e))))
    if g != NULL:
        g[0] = <floating>copysign(1.0 if far else u / (u + 2.0), d) if d == d else <floating>d
    if h != NULL:
        h[0] = <floating>(4.0 * exp(-2.0 * a) if far else 4.0 * (u + 1.0) / ((u + 2.0) * (u + 2.0)))


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


# ------------------------------------------------------------------- the set of all losses
ctypedef fused Loss:
    SquaredError
    AbsoluteError
    Huber
    SmoothL1
    PseudoHuber
    LogCosh
    Pinball

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
