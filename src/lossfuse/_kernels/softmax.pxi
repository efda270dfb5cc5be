# Softmax cross-entropy: the one loss that is not elementwise.  Its math (`ce_row`), its loop
# over blocks of rows and its threaded driver live here; `pointwise.pxi` supplies exp and log1p.
#
# A row of logits x (K classes) with row-sum weights a_c (what the target puts on class c,
# times the class weight) has the loss  sum_c a_c (-log softmax(x)_c), and with A = sum_c a_c
#
#     loss = sum_c a_c (m - x_c) + A log1p(S'),   gradient_c = A p_c - a_c,
#     hessian_c = A p_c (1 - p_c),
#
# where m = max_c x_c, e_c = exp(x_c - m) (<= 1, never overflows), S = sum_c e_c and
# S' = S - 1 is the sum without the max's own e = 1, accumulated directly so that a confident
# row (S' tiny) keeps full relative accuracy in its loss, in p_max - 1 = -S'/S and in
# 1 - p_max = S'/S.  (An e that is exactly 1 is treated as a maximum, which it is to working
# precision: both forms of each expression agree there.)  The targets:
#
#   hard labels y:   a_c = (1 - eps) w_y [c = y] + (eps / K) w_c    (torch's label smoothing)
#   probabilities q: a_c = w_c ((1 - eps) q_c + eps / K)
#
# with class weights w (ones when not given).  A term with a_c = 0 contributes 0 even where
# x_c = -inf (torch gives NaN there for probabilities; 0 log 0 = 0 is the math).  A row whose
# label is ignore_index contributes nothing.  One visit per row while it is in L1: the max;
# the exponentials (kept in the gradient output) with the sums; the gradient and hessian.
# The row losses need one log1p each: they are collected over a block of rows and computed
# there, on whole vector registers.

from libc.stdint cimport int64_t

cdef enum:
    CE_ROWS = 256            # rows per block: the row-loss buffers
    CE_LANES = 8             # independent lanes of the row reductions


# The operations of loops.pxi but weight_sum (the mean's denominator comes from `ce_check`)
ctypedef fused CEOp:
    LossOp
    GradientOp
    LossGradientOp
    GradientHessianOp

# Targets, as compile-time tags
cdef struct HardTarget:      # class indices, no label smoothing
    char _unused
cdef struct SmoothTarget:    # class indices with label smoothing
    char _unused
cdef struct SoftTarget:      # class probabilities
    char _unused

ctypedef fused Target:
    HardTarget
    SmoothTarget
    SoftTarget

# Row access: unit class stride (vector loops) or any strides
cdef struct UnitStride:
    char _unused
cdef struct AnyStride:
    char _unused

ctypedef fused RowAccess:
    UnitStride
    AnyStride


cdef struct CrossEntropy:
    # The operands of one call, type-erased; strides in elements; NULL where absent.
    Py_ssize_t n               # rows
    Py_ssize_t K               # classes
    char* p                    # logits (n, K)
    Py_ssize_t sp_row
    Py_ssize_t sp_col
    const int64_t* labels      # class indices (n,) -- or
    Py_ssize_t s_lab
    char* q                    # class probabilities (n, K)
    Py_ssize_t sq_row
    Py_ssize_t sq_col
    char* w                    # sample weights (n,) or NULL
    Py_ssize_t sw
    char* cw                   # class weights (K,), contiguous; always present
    double W                   # sum of the class weights
    double eps                 # label smoothing
    bint has_ignore
    int64_t ignore_index
    char* loss_out             # (n,) or NULL
    Py_ssize_t sl
    char* gradient_out         # (n, K), C-contiguous, or NULL
    char* hessian_out          # (n, K), C-contiguous, or NULL


cdef inline bint ce_skips(const CrossEntropy* a, int64_t y) noexcept nogil:
    """Whether a row with class index y contributes nothing: ignore_index, or (never after
    `ce_check`, but the loops must not read out of bounds whatever they are given) a label
    outside [0, K)."""
    return (a.has_ignore and y == a.ignore_index) or y < 0 or y >= a.K


cdef inline void ce_sums(const Target* target, const floating* x, Py_ssize_t sx,
                         const floating* q, Py_ssize_t sq, const floating* cw, floating m,
                         floating ek, floating keep, floating* g, Py_ssize_t c,
                         double* s1, double* ties, double* dsum, double* asum) noexcept nogil:
    """Class c of a row in step 2 of `ce_row`: its exponential (into g when given) and its
    shares of S' (e < 1 only), of the count of maxima, of sum a_c (m - x_c) and of A."""
    cdef floating d = m - x[c * sx]
    cdef floating e = _exp(-d), ac
    s1[0] += <double>(<floating>0 if e == 1 else e)
    ties[0] += 1.0 if e == 1 else 0.0
    if g != NULL:
        g[c] = e
    if Target is SoftTarget:
        ac = cw[c] * (keep * q[c * sq] + ek)
        asum[0] += <double>ac
        dsum[0] += <double>(<floating>0 if ac == 0 else ac * d)
    elif Target is SmoothTarget:
        ac = ek * cw[c]
        dsum[0] += <double>(<floating>0 if ac == 0 else ac * d)


cdef inline void ce_row(const CEOp* op, const Target* target, const RowAccess* kind,
                        const CrossEntropy* a, Py_ssize_t i, floating scale,
                        floating* base, floating* coef, floating* sp) noexcept nogil:
    """Row i: writes its gradient/hessian rows (times scale * sample weight) and the pieces of
    its loss, which is base + coef * log1p(sp) (sample weight included).

    The row reductions (max and the sums) run in CE_LANES independent lanes, whose inner loop
    of fixed length GCC turns into vector instructions (a plain reduction loop it would keep
    scalar: floating-point addition is not associative); the lanes are combined in a fixed
    order, so the result does not depend on the vector width."""
    cdef const floating* x = (<const floating*>a.p) + i * a.sp_row
    cdef const floating* q = NULL
    cdef const floating* cw = <const floating*>a.cw
    cdef floating* g = NULL
    cdef floating* h = NULL
    cdef Py_ssize_t K = a.K, sx = a.sp_col, sq = a.sq_col, c, c0, k, kl = K - K % CE_LANES
    cdef int64_t y = 0
    cdef floating s = 1, m, v, e, d, ac = 0, A, ay = 0, ey = 0, inv_s, sp_s, cs, pc
    cdef floating ek = <floating>(a.eps / a.K), keep = <floating>(1.0 - a.eps)
    cdef floating mx[CE_LANES]
    cdef double s1[CE_LANES]
    cdef double ties[CE_LANES]
    cdef double dsum[CE_LANES]
    cdef double asum[CE_LANES]
    cdef double spd, dtot
    if RowAccess is UnitStride:
        sx = 1
        sq = 1
    if a.w != NULL:
        s = (<const floating*>a.w)[i * a.sw]
    if not (CEOp is LossOp):
        g = (<floating*>a.gradient_out) + i * K
    if CEOp is GradientHessianOp:
        h = (<floating*>a.hessian_out) + i * K
    if Target is SoftTarget:
        q = (<const floating*>a.q) + i * a.sq_row
    else:
        y = a.labels[i * a.s_lab]
        if ce_skips(a, y):
            for c in range(K):
                if g != NULL: g[c] = 0
                if h != NULL: h[c] = 0
            base[0] = 0
            coef[0] = 0
            sp[0] = 0
            return

    # 1. the max (NaN does not win a comparison; it propagates through the exponentials)
    for k in range(CE_LANES):
        mx[k] = x[0]
    for c0 in range(kl // CE_LANES):
        for k in range(CE_LANES):
            v = x[(c0 * CE_LANES + k) * sx]
            mx[k] = v if v > mx[k] else mx[k]
    for c in range(kl, K):
        v = x[c * sx]
        mx[0] = v if v > mx[0] else mx[0]
    m = mx[0]
    for k in range(1, CE_LANES):
        m = mx[k] if mx[k] > m else m
    # 2. exponentials and the row sums, in float64
    for k in range(CE_LANES):
        s1[k] = 0
        ties[k] = 0
        dsum[k] = 0
        asum[k] = 0
    for c0 in range(kl // CE_LANES):
        for k in range(CE_LANES):
            ce_sums(target, x, sx, q, sq, cw, m, ek, keep, g, c0 * CE_LANES + k,
                    &s1[k], &ties[k], &dsum[k], &asum[k])
    for c in range(kl, K):
        ce_sums(target, x, sx, q, sq, cw, m, ek, keep, g, c,
                &s1[c - kl], &ties[c - kl], &dsum[c - kl], &asum[c - kl])
    for k in range(1, CE_LANES):
        s1[0] += s1[k]
        ties[0] += ties[k]
        dsum[0] += dsum[k]
        asum[0] += asum[k]
    spd = s1[0] + (ties[0] - 1.0)
    dtot = dsum[0]
    if Target is SoftTarget:
        A = <floating>asum[0]
    else:
        ay = keep * cw[y] if Target is SmoothTarget else cw[y]
        A = ay + <floating>(a.eps / a.K * a.W) if Target is SmoothTarget else ay
        ey = g[y] if g != NULL else 0
        d = m - x[y * sx]
        dtot += <double>(<floating>0 if ay == 0 else ay * d)
        ay = ay + ek * cw[y] if Target is SmoothTarget else ay     # the whole a_y
    base[0] = s * <floating>dtot
    coef[0] = s * A
    sp[0] = <floating>spd

    # 3. gradient and hessian from the stored exponentials
    if g != NULL:
        inv_s = <floating>(1.0 / (1.0 + spd))
        sp_s = <floating>(spd / (1.0 + spd))         # 1 - p at the max, without cancellation
        cs = scale * s
        for c in range(K):
            e = g[c]
            pc = e * inv_s
            if Target is SoftTarget:
                ac = cw[c] * (keep * q[c * sq] + ek)
            elif Target is SmoothTarget:
                ac = ek * cw[c]
            else:
                ac = 0
            g[c] = cs * (((A - ac) * inv_s - ac * sp_s) if e == 1 else A * pc - ac)
            if h != NULL:
                h[c] = cs * (A * pc * (sp_s if e == 1 else <floating>1 - pc))
        if not (Target is SoftTarget):     # the label's own term, -a_y, in place
            g[y] = cs * (((A - ay) * inv_s - ay * sp_s) if ey == 1 else A * (ey * inv_s) - ay)


cdef double ce_chunk(const CEOp* op, const Target* target, const RowAccess* kind,
                     const CrossEntropy* a, Py_ssize_t r0, Py_ssize_t r1,
                     floating scale) noexcept nogil:
    """Rows r0 .. r1-1 in blocks of CE_ROWS; each block's row losses are finished with one
    vector loop of log1p and summed like the elementwise losses (`lane_sum`)."""
    cdef floating base[CE_ROWS]
    cdef floating coef[CE_ROWS]
    cdef floating sp[CE_ROWS]
    cdef floating* lo = <floating*>a.loss_out
    cdef double total = 0
    cdef Py_ssize_t b0 = r0, b1, i, j
    while b0 < r1:
        b1 = min(b0 + CE_ROWS, r1)
        for i in range(b0, b1):
            ce_row(op, target, kind, a, i, scale, &base[i - b0], &coef[i - b0], &sp[i - b0])
        if CEOp is LossOp or CEOp is LossGradientOp:
            for j in range(b1 - b0):
                base[j] = base[j] + coef[j] * _log1p_pos(sp[j])
            if lo != NULL:
                for j in range(b1 - b0):
                    lo[(b0 + j) * a.sl] = base[j]
            total += lane_sum(base, b1 - b0)
        b0 = b1
    return total


cdef double ce_drive(const CEOp* op, const Target* target, const RowAccess* kind,
                     const CrossEntropy* a, floating scale, int n_threads) noexcept nogil:
    """All rows, in chunks whose boundaries depend on n and K only, summed in chunk order:
    bitwise identical for every thread count."""
    cdef Py_ssize_t n_chunks = max(1, min(<Py_ssize_t>MAX_CHUNKS, min(a.n, a.n * a.K // CHUNK)))
    cdef Py_ssize_t chunk_rows = ((a.n + n_chunks - 1) // n_chunks + CE_ROWS - 1) \
        // CE_ROWS * CE_ROWS
    cdef double partial[MAX_CHUNKS]
    cdef double total = 0
    cdef int nt = <int>min(<Py_ssize_t>n_threads, n_chunks)
    cdef Py_ssize_t c
    if nt > 1:
        for c in prange(n_chunks, schedule="static", num_threads=nt):
            partial[c] = ce_chunk(op, target, kind, a, min(c * chunk_rows, a.n),
                                  min((c + 1) * chunk_rows, a.n), scale)
    else:
        for c in range(n_chunks):
            partial[c] = ce_chunk(op, target, kind, a, min(c * chunk_rows, a.n),
                                  min((c + 1) * chunk_rows, a.n), scale)
    for c in range(n_chunks):
        total += partial[c]
    return total


cdef double ce_with_target(const CEOp* op, const CrossEntropy* a, floating scale,
                           int n_threads) noexcept nogil:
    cdef bint unit = a.sp_col == 1 and (a.q == NULL or a.sq_col == 1)
    if a.q != NULL:
        if unit:
            return ce_drive(op, <SoftTarget*>NULL, <UnitStride*>NULL, a, scale, n_threads)
        return ce_drive(op, <SoftTarget*>NULL, <AnyStride*>NULL, a, scale, n_threads)
    elif a.eps != 0:
        if unit:
            return ce_drive(op, <SmoothTarget*>NULL, <UnitStride*>NULL, a, scale, n_threads)
        return ce_drive(op, <SmoothTarget*>NULL, <AnyStride*>NULL, a, scale, n_threads)
    if unit:
        return ce_drive(op, <HardTarget*>NULL, <UnitStride*>NULL, a, scale, n_threads)
    return ce_drive(op, <HardTarget*>NULL, <AnyStride*>NULL, a, scale, n_threads)


cdef double ce_with_op(int op, const CrossEntropy* a, floating scale,
                       int n_threads) noexcept nogil:
    if op == OP_LOSS:
        return ce_with_target(<LossOp*>NULL, a, scale, n_threads)
    elif op == OP_GRADIENT:
        return ce_with_target(<GradientOp*>NULL, a, scale, n_threads)
    elif op == OP_LOSS_GRADIENT:
        return ce_with_target(<LossGradientOp*>NULL, a, scale, n_threads)
    else:
        return ce_with_target(<GradientHessianOp*>NULL, a, scale, n_threads)


cdef Py_ssize_t ce_check(const CrossEntropy* a, floating dtype_tag,
                         double* denominator) noexcept nogil:
    """The pass before the loops: the first offending target (hard labels: a row whose label is
    outside [0, K) and not ignore_index; probabilities: a flat index i * K + c of a value
    outside [0, 1]), or -1; and the denominator of the mean, sum over non-ignored rows of
    sample weight * class weight of the label (hard), or of the sample weights (probabilities).
    Nothing is written before the targets are known to be valid."""
    cdef const floating* w = <const floating*>a.w
    cdef const floating* cw = <const floating*>a.cw
    cdef const floating* q
    cdef double buf[BLOCK]
    cdef double total = 0
    cdef Py_ssize_t i, c, b0 = 0, b1
    cdef int64_t y
    cdef floating v
    while b0 < a.n:
        b1 = min(b0 + BLOCK, a.n)
        for i in range(b0, b1):
            if a.q != NULL:
                q = (<const floating*>a.q) + i * a.sq_row
                for c in range(a.K):
                    v = q[c * a.sq_col]
                    if v < 0 or v > 1:
                        return i * a.K + c
                buf[i - b0] = 1.0 if w == NULL else <double>w[i * a.sw]
            else:
                y = a.labels[i * a.s_lab]
                if a.has_ignore and y == a.ignore_index:
                    buf[i - b0] = 0.0
                    continue
                if y < 0 or y >= a.K:
                    return i
                buf[i - b0] = (1.0 if w == NULL else <double>w[i * a.sw]) * <double>cw[y]
        total += lane_sum(buf, b1 - b0)
        b0 = b1
    denominator[0] = total
    return -1
