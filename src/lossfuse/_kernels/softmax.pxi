# Softmax cross-entropy: the one loss that is not elementwise.  Its math (`ce_block`, with
# `ce_coef`), its loop over blocks of rows and its threaded driver live here; `pointwise.pxi`
# supplies exp and log1p.
#
# A row of logits x (K classes) with row-sum weights a_c (what the target puts on class c,
# times the class weight) has the loss  sum_c a_c (-log softmax(x)_c), and with A = sum_c a_c
#
#     loss = sum_c a_c (m - x_c) + A log1p(S'),   gradient_c = A p_c - a_c,
#     hessian_c = A p_c (1 - p_c),
#
# where m = max_c x_c, e_c = exp(x_c - m) (<= 1, never overflows), S = sum_c e_c and
# S' = S - 1.  S is accumulated as an exact pair hi + lo (TwoSum), so S' = (hi - 1) + lo keeps
# full relative accuracy when the row is confident (S' tiny): in the loss, in p_max - 1 =
# -S'/S and in 1 - p_max = S'/S (used where e == 1, i.e. at a maximum to working precision;
# both forms of each expression agree there).  The targets:
#
#   hard labels y:   a_c = (1 - eps) w_y [c = y] + (eps / K) w_c    (torch's label smoothing)
#   probabilities q: a_c = w_c ((1 - eps) q_c + eps / K)
#
# with class weights w (ones when not given).  A term with a_c = 0 contributes 0 even where
# x_c = -inf (torch gives NaN there for probabilities; 0 log 0 = 0 is the math).  A row whose
# label is ignore_index contributes nothing.
#
# Layout: rows are taken CE_R at a time and transposed into lanes (class-major scratch), so
# every step -- max, exponentials, sums, log1p of the row losses, gradient -- is a loop over
# the CE_R lanes with a fixed trip count, which GCC turns into vector instructions whatever K
# is; the scratch of a block (3 K CE_R elements) stays in L1/L2 for moderate K.  The
# transposes of contiguous rows run on vector registers (tiles.h: C with vector extensions,
# pure data movement); copied an element at a time they were half of the time.  Per-row
# quantities avoid gathers (the label's logit and class weight are picked by selects in the
# class loop).  From CE_LONG classes on, `ce_long_row` does a row at a time with the classes as
# the lanes instead (no transposes, no scratch).

from libc.stdint cimport int32_t, int64_t
from libc.stdlib cimport malloc, free

cdef extern from "tiles.h" nogil:
    # rows <-> lanes on vector registers (see tiles.h); 0 lanes: not available, use the loops
    Py_ssize_t lf_tile_lanes_f()
    Py_ssize_t lf_tile_lanes_d()
    Py_ssize_t lf_tile_out_min_classes()
    void lf_rows_to_lanes_F(const float* x, Py_ssize_t K, Py_ssize_t nrows, float* xt,
                            Py_ssize_t ldt)
    void lf_rows_to_lanes_D(const double* x, Py_ssize_t K, Py_ssize_t nrows, double* xt,
                            Py_ssize_t ldt)
    void lf_lanes_to_rows_F(const float* gt, Py_ssize_t ldt, float* g, Py_ssize_t K,
                            Py_ssize_t nrows, const float* limit)
    void lf_lanes_to_rows_D(const double* gt, Py_ssize_t ldt, double* g, Py_ssize_t K,
                            Py_ssize_t nrows, const double* limit)

cdef enum:
    CE_R = 64                # rows per block: the vector lanes of the row loops
    CE_LONG = 256            # from this many classes on, a row at a time (classes as lanes)


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
    bint unit_class_weight     # every class weight is 1
    double eps                 # label smoothing
    bint has_ignore
    int64_t ignore_index
    char* loss_out             # (n,) or NULL
    Py_ssize_t sl
    char* gradient_out         # (n, K), C-contiguous, or NULL
    char* hessian_out          # (n, K), C-contiguous, or NULL


cdef inline Py_ssize_t tile_lanes(const floating* tag) noexcept nogil:
    """Rows per tile of the vector transposes in this build (0: none)."""
    if floating is float:
        return lf_tile_lanes_f()
    else:
        return lf_tile_lanes_d()


cdef inline void rows_to_lanes(const floating* x, Py_ssize_t K, floating* xt) noexcept nogil:
    """xt[c * CE_R + r] = x[r * K + c] for the CE_R contiguous rows at x (see tiles.h for what
    the caller guarantees)."""
    if floating is float:
        lf_rows_to_lanes_F(x, K, CE_R, xt, CE_R)
    else:
        lf_rows_to_lanes_D(x, K, CE_R, xt, CE_R)


cdef inline void lanes_to_rows(const floating* xt, floating* g, Py_ssize_t K,
                               const floating* limit) noexcept nogil:
    """g[r * K + c] = xt[c * CE_R + r] for CE_R rows; no write at or after `limit`."""
    if floating is float:
        lf_lanes_to_rows_F(xt, CE_R, g, K, CE_R, limit)
    else:
        lf_lanes_to_rows_D(xt, CE_R, g, K, CE_R, limit)


# The rule for a class index, in one place.  Bitwise operators, no branches: the label loops
# that use them vectorize.
cdef inline bint ce_ignored(const CrossEntropy* a, int64_t y) noexcept nogil:
    """Whether class index y is ignore_index (its row contributes nothing, and is no error)."""
    return a.has_ignore & (y == a.ignore_index)


cdef inline bint ce_out_of_range(const CrossEntropy* a, int64_t y) noexcept nogil:
    """Whether class index y is outside [0, K) (an error unless ignored)."""
    return (y < 0) | (y >= a.K)


cdef inline bint ce_skips(const CrossEntropy* a, int64_t y) noexcept nogil:
    """Whether a row with class index y contributes nothing: ignore_index, or (never after
    `ce_check`, but the loops must not read out of bounds whatever they are given) a label
    outside [0, K)."""
    return ce_ignored(a, y) | ce_out_of_range(a, y)


cdef inline floating ce_coef(const Target* target, const floating* cw, floating ek,
                             floating keep, Py_ssize_t c, floating yv, floating wy,
                             floating qc) noexcept nogil:
    """a_c: what the target puts on class c, times its class weight."""
    if Target is SoftTarget:
        return cw[c] * (keep * qc + ek)
    elif Target is SmoothTarget:
        return ek * cw[c] + (keep * wy if <floating>c == yv else <floating>0)
    else:
        return wy if <floating>c == yv else <floating>0


cdef inline floating ce_gradient(floating e, floating inv, floating sps, floating A,
                                floating ac) noexcept nogil:
    """dloss/dx_c of a row: A p_c - a_c with p_c = e inv; at a maximum (e == 1) from
    1 - p_max = S'/S (`sps`), which keeps its relative accuracy when the row is confident.
    With a_c = 0 this is A (e inv) exactly, both ways."""
    return ((A - ac) * inv - ac * sps) if e == 1 else A * (e * inv) - ac


cdef void ce_block(const CEOp* op, const Target* target, const CrossEntropy* a,
                   Py_ssize_t i0, Py_ssize_t nr, Py_ssize_t i_end, floating scale,
                   floating* xt, floating* et, floating* qt, floating* loss) noexcept nogil:
    """Rows i0 .. i0+nr-1 (nr <= CE_R), transposed into lanes: xt[c * CE_R + r] is logit c of
    row i0 + r.  Every loop below runs over the CE_R lanes with a fixed trip count, so each
    line is a few vector instructions whatever K is; the sums over classes accumulate lane by
    lane, in class order (no reduction across lanes: nothing depends on the vector width).
    Writes the gradient/hessian rows (none at or after row i_end, the end of this thread's
    rows) and loss[r] = the weighted loss of row i0 + r."""
    cdef const floating* cw = <const floating*>a.cw
    cdef const floating* w = <const floating*>a.w
    cdef Py_ssize_t K = a.K, c, r, i, V
    cdef bint tiled, ok
    cdef floating cf, cwc
    cdef int64_t yi
    cdef floating ek = <floating>(a.eps / a.K), keep = <floating>(1.0 - a.eps)
    cdef floating d, e, ac, pc, gv, sp_s, inv_s, A
    cdef floating m[CE_R]
    cdef floating yv[CE_R]          # label as a float (-1: the row contributes nothing)
    cdef floating sw[CE_R]          # sample weight
    cdef floating wy[CE_R]          # class weight of the label
    cdef floating xy[CE_R]          # logit of the label
    cdef floating coef[CE_R]
    cdef floating inv[CE_R]
    cdef floating sps[CE_R]
    cdef floating cs[CE_R]
    cdef floating dy[CE_R]
    cdef floating el[CE_R]          # one class of the block: exponentials, hessian
    cdef floating gl[CE_R]          # one class of the block: gradient
    cdef floating gy[CE_R]          # gradient at the label (class indices)
    cdef floating s1[CE_R]          # S' = S - 1
    cdef double dsum[CE_R]
    cdef double asum[CE_R]
    cdef floating hi[CE_R]          # S = hi + lo
    cdef floating lo[CE_R]
    cdef floating* g = <floating*>a.gradient_out
    cdef floating* h = <floating*>a.hessian_out
    # 0. lanes in: logits (and probabilities) transposed; padding lanes hold zeros.  A full
    #    block of contiguous rows goes through the vector transposes, when their tile loads
    #    (whole vectors from each row's class tiles) stay inside the array.
    V = tile_lanes(xt)
    tiled = (V > 0 and nr == CE_R and a.sp_col == 1 and a.sp_row == K
             and (i0 + CE_R - 1) * K + (K + V - 1) // V * V <= a.n * K)
    if not (Target is SoftTarget) and nr == CE_R and a.s_lab == 1:
        for r in range(CE_R):      # vector lanes: the same as the loop below, without branches
            yi = a.labels[i0 + r]
            ok = not ce_skips(a, yi)
            yv[r] = <floating><int32_t>yi if ok else <floating>-1     # K < CE_LONG: exact
            sw[r] = ((<floating>1 if w == NULL else w[(i0 + r) * a.sw]) if ok
                     else <floating>0)
    else:
        for r in range(CE_R):
            i = i0 + r
            yv[r] = -1
            sw[r] = 0
            if r < nr:
                sw[r] = 1 if w == NULL else w[i * a.sw]
                if not (Target is SoftTarget):
                    yi = a.labels[i * a.s_lab]
                    if ce_skips(a, yi):
                        sw[r] = 0
                    else:
                        yv[r] = <floating>yi
    if tiled:
        rows_to_lanes((<const floating*>a.p) + i0 * K, K, xt)
    else:
        for r in range(CE_R):
            i = i0 + r
            for c in range(K):
                xt[c * CE_R + r] = (<const floating*>a.p)[i * a.sp_row + c * a.sp_col] \
                    if r < nr else <floating>0
    if Target is SoftTarget:
        if tiled and a.sq_col == 1 and a.sq_row == K:
            rows_to_lanes((<const floating*>a.q) + i0 * K, K, qt)
        else:
            for r in range(CE_R):
                i = i0 + r
                for c in range(K):
                    qt[c * CE_R + r] = (<const floating*>a.q)[i * a.sq_row + c * a.sq_col] \
                        if r < nr else <floating>0
    # 1. the row maxima (NaN does not win a comparison; it propagates through the exps)
    #    and, for class indices, the label's logit and class weight (selects, not gathers)
    #    (sums of one term and zeros: exact but for the sign of a zero label logit, which no
    #    result depends on; a select that keeps the old value, or adds -0, would become a
    #    masked store behind a data-dependent branch)
    for r in range(CE_R):
        m[r] = xt[r]
        wy[r] = 0
        if not (Target is SoftTarget):
            xy[r] = 0
    for c in range(K):
        cf = <floating>c
        cwc = cw[c]
        for r in range(CE_R):
            m[r] = xt[c * CE_R + r] if xt[c * CE_R + r] > m[r] else m[r]
            if not (Target is SoftTarget):
                xy[r] = xy[r] + (xt[c * CE_R + r] if yv[r] == cf else <floating>0)
                wy[r] = wy[r] + (cwc if yv[r] == cf else <floating>0)
    # 2. exponentials and the row sums (float64), class by class
    for r in range(CE_R):
        hi[r] = 0
        lo[r] = 0
        if Target is SoftTarget or Target is SmoothTarget:
            dsum[r] = 0
            asum[r] = 0
    for c in range(K):
        for r in range(CE_R):       # the exponentials alone: a loop like the elementwise ones
            el[r] = _exp_nonpos(xt[c * CE_R + r] - m[r])
        for r in range(CE_R):
            # S = sum of e as an unevaluated pair hi + lo (TwoSum: exact rounding errors, in
            # the type of e, arithmetic only), so that S' = S - 1 = (hi - 1) + lo keeps full
            # relative accuracy when the row is confident (S' far below the precision of 1)
            two_sum_add(&hi[r], &lo[r], el[r])
            if Target is SoftTarget or Target is SmoothTarget:
                d = m[r] - xt[c * CE_R + r]
                ac = ce_coef(target, cw, ek, keep, c, yv[r], wy[r],
                             qt[c * CE_R + r] if Target is SoftTarget else <floating>0)
                asum[r] += <double>ac
                dsum[r] += <double>(<floating>0 if ac == 0 else ac * d)
        for r in range(CE_R):       # stored apart: GCC cannot tell et from xt, and a store
            et[c * CE_R + r] = el[r]        # that may alias a later load stops vectorization
    for r in range(CE_R):
        s1[r] = (hi[r] - <floating>1) + lo[r]    # hi - 1 is exact (Sterbenz)
    # 3. per row: A, the loss pieces, 1/S and 1 - p_max = S'/S (in the type of the logits:
    #    float32 divisions are a quarter of the cost of float64 ones, and were a tenth of the
    #    time of a float32 call)
    for r in range(CE_R):
        if Target is SoftTarget or Target is SmoothTarget:   # a_y is in the sums
            coef[r] = <floating>asum[r]
            if CEOp is LossOp or CEOp is LossGradientOp:      # d_y: the loss's alone
                dy[r] = <floating>dsum[r]
        else:
            coef[r] = wy[r]
            if CEOp is LossOp or CEOp is LossGradientOp:
                d = m[r] - xy[r]
                dy[r] = <floating>0 if wy[r] == 0 else wy[r] * d
        if not (CEOp is LossOp):
            inv[r] = <floating>1 / (<floating>1 + s1[r])
            sps[r] = s1[r] / (<floating>1 + s1[r])
            cs[r] = scale * sw[r]
    if CEOp is LossOp or CEOp is LossGradientOp:
        for r in range(CE_R):
            loss[r] = <floating>0 if sw[r] == 0 else sw[r] * (
                dy[r] + coef[r] * _log1p_pos(s1[r]))
    # 4. gradient and hessian, lanes out.  With class indices (no smoothing) a_c is zero but
    #    at the label, where the gradient is A p_c: the label's value is taken per row (from
    #    the same exponential, recomputed) and put in place with a select.
    if (CEOp is GradientOp or CEOp is LossGradientOp) and Target is HardTarget:
        for r in range(CE_R):
            gy[r] = ce_gradient(_exp_nonpos(xy[r] - m[r]), inv[r], sps[r], coef[r], wy[r])
    if not (CEOp is LossOp):
        for c in range(K):
            cf = <floating>c
            for r in range(CE_R):
                e = et[c * CE_R + r]
                A = coef[r]
                if (CEOp is GradientOp or CEOp is LossGradientOp) and Target is HardTarget:
                    gv = gy[r] if yv[r] == cf else A * (e * inv[r])    # = ce_gradient(.., 0)
                else:
                    ac = ce_coef(target, cw, ek, keep, c, yv[r], wy[r],
                                 qt[c * CE_R + r] if Target is SoftTarget else <floating>0)
                    gv = ce_gradient(e, inv[r], sps[r], A, ac)
                gv = <floating>0 if sw[r] == 0 else cs[r] * gv
                if CEOp is GradientHessianOp:       # et is read here: stored after the loop
                    gl[r] = gv
                    pc = e * inv[r]
                    el[r] = <floating>0 if sw[r] == 0 else cs[r] * (
                        A * pc * (sps[r] if e == 1 else <floating>1 - pc))
                else:
                    xt[c * CE_R + r] = gv
            if CEOp is GradientHessianOp:
                for r in range(CE_R):
                    xt[c * CE_R + r] = gl[r]
                    et[c * CE_R + r] = el[r]
        if V > 0 and nr == CE_R and K >= lf_tile_out_min_classes():
            lanes_to_rows(xt, g + i0 * K, K, g + i_end * K)
            if CEOp is GradientHessianOp:
                lanes_to_rows(et, h + i0 * K, K, h + i_end * K)
        else:
            for r in range(nr):
                for c in range(K):
                    g[(i0 + r) * K + c] = xt[c * CE_R + r]
                if CEOp is GradientHessianOp:
                    for c in range(K):
                        h[(i0 + r) * K + c] = et[c * CE_R + r]


cdef floating ce_long_row(const CEOp* op, const Target* target, const CrossEntropy* a,
                          Py_ssize_t i, floating scale) noexcept nogil:
    """Row i when K is large (>= CE_LONG): the same math as `ce_block`, with the classes as the
    lanes -- class b * CE_R + l in lane l -- so nothing is transposed and no scratch is needed
    (the exponentials go to the gradient row, or nowhere for the loss alone).  The lanes are
    combined at the end of each step in a fixed order.  Returns the weighted row loss."""
    cdef const floating* x = (<const floating*>a.p) + i * a.sp_row
    cdef const floating* q = NULL
    cdef const floating* cw = <const floating*>a.cw
    cdef floating* g = NULL
    cdef floating* h = NULL
    cdef Py_ssize_t K = a.K, sx = a.sp_col, sq = a.sq_col, nb = K // CE_R, c, l, b, kl, nl
    cdef int64_t yi = 0
    cdef floating ek = <floating>(a.eps / a.K), keep = <floating>(1.0 - a.eps)
    cdef floating sw = 1, yv = -1, wy = 0, m, v, e, d, ac, A, dy, inv, sps, cs, pc, gv, hs, ls
    cdef floating mx[CE_R]
    cdef floating el[CE_R]
    cdef floating hi[CE_R]
    cdef floating lo[CE_R]
    cdef double dsum[CE_R]
    cdef double asum[CE_R]
    cdef double spd, dtot = 0, atot = 0
    kl = nb * CE_R
    if a.w != NULL:
        sw = (<const floating*>a.w)[i * a.sw]
    if not (CEOp is LossOp):
        g = (<floating*>a.gradient_out) + i * K
    if CEOp is GradientHessianOp:
        h = (<floating*>a.hessian_out) + i * K
    if Target is SoftTarget:
        q = (<const floating*>a.q) + i * a.sq_row
    else:
        yi = a.labels[i * a.s_lab]
        if ce_skips(a, yi):
            for c in range(K):
                if g != NULL: g[c] = 0
                if h != NULL: h[c] = 0
            return 0
        yv = <floating>yi
        wy = cw[yi]
    # 1. the max
    for l in range(CE_R):
        mx[l] = x[0]
    for b in range(nb):
        for l in range(CE_R):
            v = x[(b * CE_R + l) * sx]
            mx[l] = v if v > mx[l] else mx[l]
    for c in range(kl, K):
        v = x[c * sx]
        mx[0] = v if v > mx[0] else mx[0]
    m = mx[0]
    for l in range(1, CE_R):
        m = mx[l] if mx[l] > m else m
    # 2. exponentials (into the gradient row) and the sums, lane by lane
    for l in range(CE_R):
        hi[l] = 0
        lo[l] = 0
        dsum[l] = 0
        asum[l] = 0
    for b in range(nb + 1):            # full blocks of CE_R classes, then the rest
        nl = CE_R if b < nb else K - kl
        for l in range(nl):
            el[l] = _exp_nonpos(x[(b * CE_R + l) * sx] - m)
        for l in range(nl):
            two_sum_add(&hi[l], &lo[l], el[l])
            if Target is SoftTarget or Target is SmoothTarget:
                c = b * CE_R + l
                d = m - x[c * sx]
                ac = ce_coef(target, cw, ek, keep, c, yv, wy,
                             q[c * sq] if Target is SoftTarget else <floating>0)
                asum[l] += <double>ac
                dsum[l] += <double>(<floating>0 if ac == 0 else ac * d)
        if g != NULL:
            for l in range(nl):
                g[b * CE_R + l] = el[l]
    for l in range(1, CE_R):           # the lanes, in order (TwoSum again: S' stays exact)
        two_sum_add(&hi[0], &lo[0], hi[l])
        lo[0] = lo[0] + lo[l]
        dsum[0] += dsum[l]
        asum[0] += asum[l]
    spd = <double>((hi[0] - <floating>1) + lo[0])
    if Target is SoftTarget or Target is SmoothTarget:
        A = <floating>asum[0]
        dy = <floating>dsum[0]
    else:
        A = wy
        d = m - x[yi * sx]
        dy = <floating>0 if wy == 0 else wy * d
    ls = <floating>0 if sw == 0 else sw * (dy + A * _log1p_pos(<floating>spd))
    # 3. gradient and hessian, in place of the stored exponentials
    if g != NULL:
        inv = <floating>(1.0 / (1.0 + spd))
        sps = <floating>(spd / (1.0 + spd))
        cs = scale * sw
        for c in range(K):
            e = g[c]
            pc = e * inv
            ac = ce_coef(target, cw, ek, keep, c, yv, wy,
                         q[c * sq] if Target is SoftTarget else <floating>0)
            gv = ((A - ac) * inv - ac * sps) if e == 1 else A * pc - ac
            hs = A * pc * (sps if e == 1 else <floating>1 - pc)
            g[c] = <floating>0 if sw == 0 else cs * gv
            if h != NULL:
                h[c] = <floating>0 if sw == 0 else cs * hs
    return ls


cdef double ce_chunk(const CEOp* op, const Target* target, const CrossEntropy* a,
                     Py_ssize_t r0, Py_ssize_t r1, floating scale, int* failed) noexcept nogil:
    """Rows r0 .. r1-1 in blocks of CE_R (or one by one for K >= CE_LONG); the row losses of
    up to BLOCK rows are summed like the elementwise losses (`lane_sum`), those sums in
    order."""
    cdef floating lbuf[BLOCK]
    cdef floating* lo = <floating*>a.loss_out
    cdef floating* scratch = NULL
    cdef double total = 0
    cdef Py_ssize_t b0 = r0, b1, j, k0 = r0, K = a.K
    cdef bint long_rows = K >= CE_LONG
    if not long_rows:
        scratch = <floating*>malloc(3 * K * CE_R * sizeof(floating))
        if scratch == NULL:
            failed[0] = 1
            return 0
    while b0 < r1:
        b1 = min(b0 + CE_R, r1)
        if long_rows:
            for j in range(b0, b1):
                lbuf[j - k0] = ce_long_row(op, target, a, j, scale)
        else:
            ce_block(op, target, a, b0, b1 - b0, r1, scale, scratch, scratch + K * CE_R,
                     scratch + 2 * K * CE_R, lbuf + (b0 - k0))
        b0 = b1
        if CEOp is LossOp or CEOp is LossGradientOp:
            if b0 - k0 > BLOCK - CE_R or b0 == r1:       # lbuf full (or the last rows)
                if lo != NULL:
                    for j in range(b0 - k0):
                        lo[(k0 + j) * a.sl] = lbuf[j]
                total += lane_sum(lbuf, b0 - k0)
                k0 = b0
    free(scratch)
    return total


cdef struct CEDrive:
    # One call's row chunks, for the tasks of the thread pool (see `Drive` in loops.pxi).
    const CrossEntropy* a
    double scale
    Py_ssize_t chunk_rows
    double* partial
    int* failed


cdef void ce_chunk_task(void* ctx, Py_ssize_t c, const CEOp* op, const Target* target,
                        const floating* dtype) noexcept nogil:
    """Task `c` of the pool: row chunk c, its sum to `partial[c]`.  The last three arguments
    are NULL: compile-time tags only."""
    cdef CEDrive* d = <CEDrive*>ctx
    d.partial[c] = ce_chunk(op, target, d.a, min(c * d.chunk_rows, d.a.n),
                            min((c + 1) * d.chunk_rows, d.a.n), <floating>d.scale,
                            &d.failed[c])


cdef double ce_drive(const CEOp* op, const Target* target, const CrossEntropy* a,
                     floating scale, int n_threads, int* failed) noexcept nogil:
    """All rows, in chunks whose boundaries depend on n and K only, summed in chunk order:
    bitwise identical for every thread count."""
    cdef Py_ssize_t n_chunks = max(1, min(<Py_ssize_t>MAX_CHUNKS,
                                          min((a.n + CE_R - 1) // CE_R, a.n * a.K // CHUNK)))
    cdef double partial[MAX_CHUNKS]
    cdef int chunk_failed[MAX_CHUNKS]
    cdef double total = 0
    cdef Py_ssize_t c
    cdef CEDrive d
    cdef void (*task)(void*, Py_ssize_t, const CEOp*, const Target*,
                      const floating*) noexcept nogil
    task = ce_chunk_task
    d.a = a
    d.scale = scale
    d.chunk_rows = ((a.n + n_chunks - 1) // n_chunks + CE_R - 1) // CE_R * CE_R
    d.partial = partial
    d.failed = chunk_failed
    for c in range(n_chunks):
        chunk_failed[c] = 0
    parallel_run(<task_fn>task, &d, n_chunks, n_threads)
    for c in range(n_chunks):
        total += partial[c]
        failed[0] |= chunk_failed[c]
    return total


cdef double ce_with_target(const CEOp* op, const CrossEntropy* a, floating scale,
                           int n_threads, int* failed) noexcept nogil:
    if a.q != NULL:
        return ce_drive(op, <SoftTarget*>NULL, a, scale, n_threads, failed)
    elif a.eps != 0:
        return ce_drive(op, <SmoothTarget*>NULL, a, scale, n_threads, failed)
    return ce_drive(op, <HardTarget*>NULL, a, scale, n_threads, failed)


cdef double ce_with_op(int op, const CrossEntropy* a, floating scale, int n_threads,
                       int* failed) noexcept nogil:
    """Dispatch on the operation and the kind of target."""
    if op == OP_LOSS:
        return ce_with_target(<LossOp*>NULL, a, scale, n_threads, failed)
    elif op == OP_GRADIENT:
        return ce_with_target(<GradientOp*>NULL, a, scale, n_threads, failed)
    elif op == OP_LOSS_GRADIENT:
        return ce_with_target(<LossGradientOp*>NULL, a, scale, n_threads, failed)
    else:
        return ce_with_target(<GradientHessianOp*>NULL, a, scale, n_threads, failed)


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
    cdef bint bad, ign
    while b0 < a.n:
        b1 = min(b0 + BLOCK, a.n)
        bad = True
        if a.q == NULL and a.s_lab == 1 and a.unit_class_weight:
            # the common case without branches (vector lanes); an invalid label sends the
            # block through the loop below, which finds the first one
            bad = False
            for i in range(b0, b1):
                y = a.labels[i]
                ign = ce_ignored(a, y)
                bad = bad | ((not ign) & ce_out_of_range(a, y))
                buf[i - b0] = 0.0 if ign else (1.0 if w == NULL else <double>w[i * a.sw])
        if bad:
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
                    if ce_ignored(a, y):
                        buf[i - b0] = 0.0
                        continue
                    if ce_out_of_range(a, y):
                        return i
                    buf[i - b0] = (1.0 if w == NULL else <double>w[i * a.sw]) * <double>cw[y]
        total += lane_sum(buf, b1 - b0)
        b0 = b1
    denominator[0] = total
    return -1
