# The loops: one per operation, shared by every loss, and the threaded driver around them.
#
# Design.  `pointwise.pxi` says what each loss is.  Here an operation (`LossOp`, `GradientOp`,
# `LossGradientOp`, `GradientHessianOp`, and `WeightSumOp` for the denominators of weighted
# means) is a compile-time tag, and `segment` is the single loop that applies a loss to a run of
# elements for an operation.  Cython's fused types instantiate it per (operation, loss, dtype,
# access kind); the access kinds give the compiler a loop with unit strides (which it vectorizes)
# besides the general strided one, so strided inputs never get copied.
#
# Every operation is one pass: each input element is read once, each output written once.  The
# per-element loss values (times the sample weight) are summed in the same loop, in float64,
# over sixteen lanes kept in vector registers, so the order of additions is fixed by the code,
# not by the compiler's vector width: the SSE2 and AVX2 builds give bitwise identical sums.
# Blocks of `BLOCK` elements add up in order within a chunk; chunks are what
# the OpenMP threads share.  Chunk boundaries depend on the number of elements only, and the
# per-chunk sums are added in chunk order after the parallel loop, so the result is bitwise
# identical for every thread count.
#
# The kernel layer never allocates and assumes the facade validated the inputs (dtype, shapes,
# domains).  The entry points still check what memory safety rests on (lengths, strides,
# alignment, presence of the outputs an operation writes) in O(1).

from cython.parallel cimport prange

cdef enum:
    BLOCK = 1024          # elements per partial sum
    CHUNK = 32768         # elements per unit of thread work, at least ...
    MAX_CHUNKS = 256      # ... and at most this many chunks


# ------------------------------------------------------------------------------ operations
cdef struct LossOp:
    char _unused
cdef struct GradientOp:
    char _unused
cdef struct LossGradientOp:
    char _unused
cdef struct GradientHessianOp:
    char _unused
cdef struct WeightSumOp:
    char _unused

ctypedef fused Op:
    LossOp
    GradientOp
    LossGradientOp
    GradientHessianOp
    WeightSumOp

# Operation codes used by the facade (`OPERATIONS` maps names to them).
cdef enum:
    OP_LOSS = 0
    OP_GRADIENT = 1
    OP_LOSS_GRADIENT = 2
    OP_GRADIENT_HESSIAN = 3
    OP_WEIGHT_SUM = 4

OPERATIONS = {"loss": OP_LOSS, "gradient": OP_GRADIENT, "loss_gradient": OP_LOSS_GRADIENT,
              "gradient_hessian": OP_GRADIENT_HESSIAN, "weight_sum": OP_WEIGHT_SUM}


# ---------------------------------------------------------------------------- access kinds
# How `segment` reaches its elements: unit strides with one weight for the whole run (no
# weights at all, or one row of a weighted N-d input), unit strides with a weight per element,
# or any strides (a single weight is then an array of stride 0).
cdef struct ContiguousScalarWeight:
    char _unused
cdef struct ContiguousArrayWeight:
    char _unused
cdef struct StridedArrayWeight:
    char _unused

ctypedef fused Access:
    ContiguousScalarWeight
    ContiguousArrayWeight
    StridedArrayWeight


cdef struct Arrays:
    # The operands of one call, type-erased; strides in elements; NULL where absent.
    Py_ssize_t n           # elements
    Py_ssize_t row_len     # elements per sample weight
    bint contiguous        # every present operand has unit stride
    char* y
    Py_ssize_t sy
    char* p
    Py_ssize_t sp
    char* w
    Py_ssize_t sw
    char* loss_out
    Py_ssize_t sl
    char* gradient_out
    Py_ssize_t sg
    char* hessian_out
    Py_ssize_t sh


cdef inline bint _writes_loss(const Op* op) noexcept nogil:
    return Op is LossOp or Op is LossGradientOp or Op is WeightSumOp


cdef inline double element(const Op* op, const Loss* L, const floating* y, const floating* p,
                           floating* lo, floating* g, floating* h, floating wj,
                           floating cw) noexcept nogil:
    """One element: write its outputs (scaled gradient and hessian, w * loss where `lo` is not
    NULL) and return w * loss (w for WeightSumOp, 0 for operations without a loss)."""
    cdef floating lj, gj, hj
    if Op is LossOp:
        pointwise(L, y[0], p[0], &lj, <floating*>NULL, <floating*>NULL)
    elif Op is GradientOp:
        pointwise(L, y[0], p[0], <floating*>NULL, &gj, <floating*>NULL)
        g[0] = cw * gj
        return 0
    elif Op is LossGradientOp:
        pointwise(L, y[0], p[0], &lj, &gj, <floating*>NULL)
        g[0] = cw * gj
    elif Op is GradientHessianOp:
        pointwise(L, y[0], p[0], <floating*>NULL, &gj, &hj)
        g[0] = cw * gj
        h[0] = cw * hj
        return 0
    else:  # WeightSumOp
        return wj
    lj = wj * lj
    if lo != NULL:
        lo[0] = lj
    return lj


cdef extern from *:
    """
    /* Four float64 lanes kept in registers (one AVX2 register, two SSE2 ones): the
       accumulators of `segment`.  GCC and Clang vector extensions; a plain struct elsewhere. */
    #include <string.h>
    #if defined(__GNUC__) || defined(__clang__)
    typedef double lf_v4d __attribute__((vector_size(32)));
    static inline lf_v4d lf_v4d_zero(void) { lf_v4d z = {0.0, 0.0, 0.0, 0.0}; return z; }
    static inline lf_v4d lf_v4d_add(lf_v4d a, const double* x) {
        lf_v4d b; memcpy(&b, x, sizeof b); return a + b; }
    static inline void lf_v4d_store(double* x, lf_v4d a) { memcpy(x, &a, sizeof a); }
    static inline lf_v4d lf_v4d_sum(lf_v4d a, lf_v4d b) { return a + b; }
    #else
    typedef struct { double v[4]; } lf_v4d;
    static lf_v4d lf_v4d_zero(void) { lf_v4d z = {{0.0, 0.0, 0.0, 0.0}}; return z; }
    static lf_v4d lf_v4d_add(lf_v4d a, const double* x) {
        int i; for (i = 0; i < 4; i++) a.v[i] += x[i]; return a; }
    static void lf_v4d_store(double* x, lf_v4d a) { memcpy(x, &a, sizeof a); }
    static lf_v4d lf_v4d_sum(lf_v4d a, lf_v4d b) { return lf_v4d_add(a, b.v); }
    #endif
    """
    ctypedef struct lf_v4d:
        pass
    lf_v4d lf_v4d_zero() noexcept nogil
    lf_v4d lf_v4d_add(lf_v4d a, const double* x) noexcept nogil
    void lf_v4d_store(double* x, lf_v4d a) noexcept nogil
    lf_v4d lf_v4d_sum(lf_v4d a, lf_v4d b) noexcept nogil


cdef inline double segment(const Op* op, const Loss* L, const Access* kind, const Arrays* a,
                           Py_ssize_t i0, Py_ssize_t m, const floating* w, Py_ssize_t sw,
                           floating scale, int* flags) noexcept nogil:
    """The loop.  Elements i0 .. i0+m-1: write gradient and hessian outputs (scale * w *
    dl/dp, d2l/dp2) and loss_out (w * loss) where present, and return the sum of w * loss
    (of w for WeightSumOp).  For ContiguousScalarWeight, `w[0]` is the weight of the whole run.
    For losses with a label domain, `flags` gets the OR of the elements' `label_flags`.

    The sum runs in float64 over sixteen lanes (four vectors of four), element i0 + 16 q + k
    going to lane k, in an order fixed by m alone: the SSE2 and AVX2 builds agree bitwise.
    The sixteen values of a group are stored as vectors and reloaded as such (fewer lanes make
    GCC store them one by one, and the vector reload then misses store forwarding: 10x slower)."""
    cdef const floating* y = (<const floating*>a.y) + i0 * a.sy
    cdef const floating* p = (<const floating*>a.p) + i0 * a.sp
    cdef floating* lo = (<floating*>a.loss_out) + i0 * a.sl if a.loss_out != NULL else NULL
    cdef floating* g = (<floating*>a.gradient_out) + i0 * a.sg
    cdef floating* h = (<floating*>a.hessian_out) + i0 * a.sh
    cdef Py_ssize_t sy = a.sy, sp = a.sp, sl = a.sl, sg = a.sg, sh = a.sh, j, j0, k
    cdef floating wj = w[0], cw = scale * w[0]
    cdef int fl = 0
    cdef double t[16]
    cdef lf_v4d acc0 = lf_v4d_zero(), acc1 = lf_v4d_zero()
    cdef lf_v4d acc2 = lf_v4d_zero(), acc3 = lf_v4d_zero()
    if Access is ContiguousScalarWeight or Access is ContiguousArrayWeight:
        sy = 1; sp = 1; sl = 1; sg = 1; sh = 1; sw = 1   # compile-time unit strides
    if not _writes_loss(op):
        for j in range(m):
            if Access is ContiguousArrayWeight or Access is StridedArrayWeight:
                wj = w[j * sw]
                cw = scale * wj
            if has_label_domain(L):
                fl |= label_flags(L, y[j * sy])
            element(op, L, y + j * sy, p + j * sp, NULL, g + j * sg, h + j * sh, wj, cw)
        flags[0] |= fl
        return 0
    for j0 in range(0, m - m % 16, 16):
        for k in range(16):
            j = j0 + k
            if Access is ContiguousArrayWeight or Access is StridedArrayWeight:
                wj = w[j * sw]
                cw = scale * wj
            if has_label_domain(L):
                fl |= label_flags(L, y[j * sy])
            t[k] = element(op, L, y + j * sy, p + j * sp, lo + j * sl if lo != NULL else NULL,
                           g + j * sg, h + j * sh, wj, cw)
        acc0 = lf_v4d_add(acc0, t)
        acc1 = lf_v4d_add(acc1, t + 4)
        acc2 = lf_v4d_add(acc2, t + 8)
        acc3 = lf_v4d_add(acc3, t + 12)
    if m % 16:                           # the last m % 16 elements go to the first lanes
        for k in range(16):
            t[k] = 0
        for j in range(m - m % 16, m):
            if Access is ContiguousArrayWeight or Access is StridedArrayWeight:
                wj = w[j * sw]
                cw = scale * wj
            if has_label_domain(L):
                fl |= label_flags(L, y[j * sy])
            t[j % 16] = element(op, L, y + j * sy, p + j * sp,
                                lo + j * sl if lo != NULL else NULL, g + j * sg, h + j * sh,
                                wj, cw)
        acc0 = lf_v4d_add(acc0, t)
        acc1 = lf_v4d_add(acc1, t + 4)
        acc2 = lf_v4d_add(acc2, t + 8)
        acc3 = lf_v4d_add(acc3, t + 12)
    flags[0] |= fl
    lf_v4d_store(t, lf_v4d_sum(acc0, acc2))
    lf_v4d_store(t + 4, lf_v4d_sum(acc1, acc3))
    return (((t[0] + t[4]) + (t[2] + t[6])) + ((t[1] + t[5]) + (t[3] + t[7])))


cdef inline double block(const Op* op, const Loss* L, const Arrays* a, Py_ssize_t b0,
                         Py_ssize_t b1, floating scale, int* flags) noexcept nogil:
    """Elements b0 .. b1-1: pick the access kind, split at rows when a weight covers a row
    (the row pieces' sums are added in order)."""
    cdef floating one = 1, wr
    cdef const floating* w = <const floating*>a.w
    cdef Py_ssize_t r, s0, s1, k = a.row_len
    cdef double total = 0
    if w == NULL:
        if a.contiguous:
            return segment(op, L, <ContiguousScalarWeight*>NULL, a, b0, b1 - b0, &one, 0, scale,
                           flags)
        return segment(op, L, <StridedArrayWeight*>NULL, a, b0, b1 - b0, &one, 0, scale, flags)
    if k == 1:
        if a.contiguous:
            return segment(op, L, <ContiguousArrayWeight*>NULL, a, b0, b1 - b0, w + b0, 1, scale,
                           flags)
        return segment(op, L, <StridedArrayWeight*>NULL, a, b0, b1 - b0, w + b0 * a.sw, a.sw,
                       scale, flags)
    s0 = b0
    while s0 < b1:
        r = s0 // k
        s1 = min(b1, (r + 1) * k)
        wr = w[r * a.sw]
        if a.contiguous:
            total += segment(op, L, <ContiguousScalarWeight*>NULL, a, s0, s1 - s0, &wr, 0, scale,
                             flags)
        else:
            total += segment(op, L, <StridedArrayWeight*>NULL, a, s0, s1 - s0, &wr, 0, scale,
                             flags)
        s0 = s1
    return total


cdef double run_chunk(const Op* op, const Loss* L, const Arrays* a, Py_ssize_t start,
                      Py_ssize_t end, floating scale, int* flags) noexcept nogil:
    """Elements start .. end-1 in blocks of BLOCK, whose sums are added in order."""
    cdef double total = 0
    cdef Py_ssize_t b0 = start, b1
    while b0 < end:
        b1 = min(b0 + BLOCK, end)
        total += block(op, L, a, b0, b1, scale, flags)
        b0 = b1
    return total


cdef inline Py_ssize_t n_chunks_for(Py_ssize_t n) noexcept nogil:
    return max(1, min(<Py_ssize_t>MAX_CHUNKS, n // CHUNK))


cdef double drive(const Op* op, const Loss* L, const Arrays* a, floating scale,
                  int n_threads, int* flags) noexcept nogil:
    """Run `op` over all elements; return the sum of w * loss and OR the label-check bits of
    every element into `flags`."""
    cdef Py_ssize_t n_chunks = n_chunks_for(a.n)
    # chunk length: a multiple of BLOCK, so that block boundaries depend on n only
    cdef Py_ssize_t chunk_len = ((a.n + n_chunks - 1) // n_chunks + BLOCK - 1) // BLOCK * BLOCK
    cdef double partial[MAX_CHUNKS]
    cdef int chunk_flags[MAX_CHUNKS]
    cdef double total = 0
    cdef int nt = <int>min(<Py_ssize_t>n_threads, n_chunks)
    cdef Py_ssize_t c
    for c in range(n_chunks):
        chunk_flags[c] = 0
    if nt > 1:
        for c in prange(n_chunks, schedule="static", num_threads=nt):
            partial[c] = run_chunk(op, L, a, min(c * chunk_len, a.n),
                                   min((c + 1) * chunk_len, a.n), scale, &chunk_flags[c])
    else:  # no OpenMP region at all: entering one costs microseconds, tiny calls matter
        for c in range(n_chunks):
            partial[c] = run_chunk(op, L, a, min(c * chunk_len, a.n),
                                   min((c + 1) * chunk_len, a.n), scale, &chunk_flags[c])
    for c in range(n_chunks):
        total += partial[c]
        flags[0] |= chunk_flags[c]
    return total


cdef double with_loss(const Op* op, int loss, const double* prm, const Arrays* a,
                      floating scale, int n_threads, int* flags) noexcept nogil:
    """Build the loss's parameter struct from its id and run `op` with it."""
    cdef SquaredError squared_error_ = SquaredError(0)
    cdef AbsoluteError absolute_error_ = AbsoluteError(0)
    cdef Huber huber_
    cdef SmoothL1 smooth_l1_
    cdef PseudoHuber pseudo_huber_
    cdef LogCosh log_cosh_ = LogCosh(0)
    cdef Pinball pinball_
    cdef BinaryCrossEntropy binary_cross_entropy_
    cdef Hinge hinge_ = Hinge(0)
    cdef SquaredHinge squared_hinge_ = SquaredHinge(0)
    cdef Exponential exponential_ = Exponential(0)
    if loss == LOSS_SQUARED_ERROR:
        return drive(op, &squared_error_, a, scale, n_threads, flags)
    elif loss == LOSS_ABSOLUTE_ERROR:
        return drive(op, &absolute_error_, a, scale, n_threads, flags)
    elif loss == LOSS_HUBER:
        huber_.delta = prm[0]
        return drive(op, &huber_, a, scale, n_threads, flags)
    elif loss == LOSS_SMOOTH_L1:
        smooth_l1_.huber.delta = prm[0]
        smooth_l1_.inv_beta = 1.0 / prm[0]
        return drive(op, &smooth_l1_, a, scale, n_threads, flags)
    elif loss == LOSS_PSEUDO_HUBER:
        pseudo_huber_.delta = prm[0]
        pseudo_huber_.inv_delta = 1.0 / prm[0]
        return drive(op, &pseudo_huber_, a, scale, n_threads, flags)
    elif loss == LOSS_LOG_COSH:
        return drive(op, &log_cosh_, a, scale, n_threads, flags)
    elif loss == LOSS_PINBALL:
        pinball_.alpha = prm[0]
        pinball_.one_minus_alpha = 1.0 - prm[0]
        return drive(op, &pinball_, a, scale, n_threads, flags)
    elif loss == LOSS_BINARY_CROSS_ENTROPY:
        binary_cross_entropy_.pos_weight = prm[0]
        return drive(op, &binary_cross_entropy_, a, scale, n_threads, flags)
    elif loss == LOSS_HINGE:
        return drive(op, &hinge_, a, scale, n_threads, flags)
    elif loss == LOSS_SQUARED_HINGE:
        return drive(op, &squared_hinge_, a, scale, n_threads, flags)
    else:  # LOSS_EXPONENTIAL; ids are checked when a LossKernel is made
        return drive(op, &exponential_, a, scale, n_threads, flags)


cdef double with_op(int op, int loss, const double* prm, const Arrays* a, floating scale,
                    int n_threads, int* flags) noexcept nogil:
    if op == OP_LOSS:
        return with_loss(<LossOp*>NULL, loss, prm, a, scale, n_threads, flags)
    elif op == OP_GRADIENT:
        return with_loss(<GradientOp*>NULL, loss, prm, a, scale, n_threads, flags)
    elif op == OP_LOSS_GRADIENT:
        return with_loss(<LossGradientOp*>NULL, loss, prm, a, scale, n_threads, flags)
    elif op == OP_GRADIENT_HESSIAN:
        return with_loss(<GradientHessianOp*>NULL, loss, prm, a, scale, n_threads, flags)
    else:
        return with_loss(<WeightSumOp*>NULL, LOSS_SQUARED_ERROR, prm, a, scale, n_threads, flags)
