# The loops: one per operation, shared by every loss, and the threaded driver around them.
#
# Design.  `pointwise.pxi` says what each loss is.  Here an operation (`LossOp`, `GradientOp`,
# `LossGradientOp`, `GradientHessianOp`, and `WeightSumOp` for the denominators of weighted
# means) is a compile-time tag, and `segment` is the single loop that applies a loss to a run of
# elements for an operation.  Cython's fused types instantiate it per (operation, loss, dtype,
# access kind: one weight for the run, or a weight per element), and GCC compiles each of
# these loops once, with unit strides (so it vectorizes every one): strided operands reach it
# as copies in L1, a few hundred elements at a time.  What no call runs is not compiled:
# weight_sum has one instance of the loop, and the metrics' kernels (y_pred a probability or a
# mean, the logarithmic and the percentage errors) the loss operations alone (plain and
# grouped): a loop per pair of operation and loss, dtype and access kind, where inlining six
# call sites of three access kinds for every pair had made over four times as many.
#
# Every operation is one pass: each input element is read once, each output written once.  The
# per-element loss values (times the sample weight) go to a small buffer in L1 (`BLOCK`
# elements); the buffer is summed in float64 with sixteen independent accumulators, so the
# order of additions is fixed by the code, not by the compiler's vector width: every build
# adds its elements in the same order.  `loss_gradient` in float32 stages its gradient in L1
# as well and copies each block out in a loop of its own (`run_chunk` says why).  Blocks
# add up in order within a chunk; chunks are the tasks that the threads of the pool share
# (`_pool.pyx`, `pool.h`).  Chunk boundaries depend on the number of elements only, each
# chunk's sum goes to a slot of its own, and the slots are added in chunk
# order after the last chunk, so the result is bitwise identical for every thread count and
# whichever thread ran which chunk.
#
# The kernel layer never allocates and assumes the facade validated the inputs (dtype, shapes,
# domains).  The entry points still check what memory safety rests on (lengths, strides,
# alignment, presence of the outputs an operation writes) in O(1).

from ._pool cimport parallel_run, task_fn

cdef enum:
    BLOCK = 1024          # elements per L1 buffer
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
cdef struct GroupedLossOp:
    char _unused

ctypedef fused Op:
    LossOp
    GradientOp
    LossGradientOp
    GradientHessianOp
    WeightSumOp
    GroupedLossOp

# Operation codes used by the facade (`OPERATIONS` maps names to them).
cdef enum:
    OP_LOSS = 0
    OP_GRADIENT = 1
    OP_LOSS_GRADIENT = 2
    OP_GRADIENT_HESSIAN = 3
    OP_WEIGHT_SUM = 4
    OP_GROUPED_LOSS = 5   # `group_float64` / `group_float32` only

# Elements from which a call has two chunks: below, it runs on the calling thread whatever
# its thread count (the facade's short path then does not look the default count up).
PARALLEL_MIN = 2 * CHUNK

OPERATIONS = {"loss": OP_LOSS, "gradient": OP_GRADIENT, "loss_gradient": OP_LOSS_GRADIENT,
              "gradient_hessian": OP_GRADIENT_HESSIAN, "weight_sum": OP_WEIGHT_SUM}


# ---------------------------------------------------------------------------- access kinds
# How `segment` reaches its weights: one weight for the whole run (no weights at all), or a
# weight per element.  Its operands always have unit strides (so the compiler vectorizes every
# loop): `block` hands it strided operands as copies in L1, and the weights of rows (a
# weighted N-d input) as a weight per element.
cdef struct ScalarWeight:
    char _unused
cdef struct ArrayWeight:
    char _unused

ctypedef fused Access:
    ScalarWeight
    ArrayWeight

cdef enum:
    SUB = 256             # elements per L1 copy of strided operands


cdef struct Groups:
    # The per-group accumulators of a grouped loss (`grouped`): for group k, its sum of
    # w * loss and its sum of w, each an unevaluated float64 pair (hi + lo), and its element
    # count.  `ids[i]` is element i's group (unit stride), `n` the number of groups; `bad`
    # gets the first element whose id is outside [0, n) (else stays -1).
    const int64_t* ids
    Py_ssize_t n
    double* loss_hi
    double* loss_lo
    double* weight_hi
    double* weight_lo
    int64_t* count
    Py_ssize_t bad


cdef struct Arrays:
    # The operands of one call, type-erased; strides in elements; NULL where absent.
    Py_ssize_t n           # elements
    Py_ssize_t row_len     # elements per sample weight
    bint contiguous        # `block` may pass the operands to `segment` as they are (run_chunk)
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
    Groups* groups         # GroupedLossOp only


cdef inline bint _writes_loss(const Op* op) noexcept nogil:
    return Op is LossOp or Op is LossGradientOp or Op is WeightSumOp


cdef inline void segment(const Op* op, const Loss* L, const Access* kind, const floating* y,
                         const floating* p, const floating* w, Py_ssize_t m, floating scale,
                         floating* lbuf, floating* g, floating* h, int* flags) noexcept nogil:
    """The loop.  Elements j < m, every operand with unit stride: `lbuf[j]` gets w * loss of
    element j, `g[j]` and `h[j]` get scale * w * (dl/dp, d2l/dp2), where w is `w[0]` for
    ScalarWeight and `w[j]` for ArrayWeight.  For losses with a label domain, `flags` gets the
    OR of the elements' `label_flags`.

    Deliberately plain (one loop, unconditional stores to the outputs and to `lbuf`): GCC
    vectorizes this shape for every loss.  Summing in the loop itself, into vector registers,
    was faster for the cheapest losses but fragile: for bodies with exp/log1p GCC stopped
    vectorizing (conditional loss_out stores, unrolling limits), 7x slower."""
    cdef Py_ssize_t j
    cdef floating wj = w[0], cw = scale * w[0], lj, gj, hj
    cdef int32_t fl32 = 0          # label-check bits, as wide as floating (see label_flags)
    cdef int64_t fl64 = 0
    for j in range(m):
        if Access is ArrayWeight:
            wj = w[j]
            cw = scale * wj
        if has_label_domain(L) and not Op is WeightSumOp:
            if floating is float:
                fl32 |= label_flags(L, y[j], fl32)
            else:
                fl64 |= label_flags(L, y[j], fl64)
        if Op is LossOp:
            pointwise(L, y[j], p[j], &lj, <floating*>NULL, <floating*>NULL)
            lbuf[j] = wj * lj
        elif Op is GradientOp:
            pointwise(L, y[j], p[j], <floating*>NULL, &gj, <floating*>NULL)
            g[j] = cw * gj
        elif Op is LossGradientOp:
            pointwise(L, y[j], p[j], &lj, &gj, <floating*>NULL)
            lbuf[j] = wj * lj
            g[j] = cw * gj
        elif Op is GradientHessianOp:
            pointwise(L, y[j], p[j], <floating*>NULL, &gj, &hj)
            g[j] = cw * gj
            h[j] = cw * hj
        elif Op is WeightSumOp:
            lbuf[j] = wj
    flags[0] |= <int>(fl32 | fl64)


cdef inline const floating* piece(floating* buf, const char* src, Py_ssize_t i0,
                                  Py_ssize_t stride, Py_ssize_t m) noexcept nogil:
    """Elements i0 .. i0+m-1 of the floating array `src` with unit stride: `src` itself when
    its stride is 1, else a copy in `buf`; NULL for an absent operand."""
    cdef const floating* s = <const floating*>src
    cdef Py_ssize_t j
    if s == NULL or stride == 1:
        return s + i0 if s != NULL else s
    for j in range(m):
        buf[j] = s[(i0 + j) * stride]
    return buf


cdef inline void row_weights(floating* wbuf, const Arrays* a, Py_ssize_t s0,
                             Py_ssize_t s1) noexcept nogil:
    """wbuf[i - s0] = the weight of element i's row, for s0 <= i < s1 (one division, one
    weight read per row)."""
    cdef const floating* w = <const floating*>a.w
    cdef Py_ssize_t k = a.row_len, r = s0 // k, j = 0, e, m = s1 - s0
    cdef Py_ssize_t left = (r + 1) * k - s0        # elements of row r from s0 on
    cdef floating wr
    while j < m:
        e = min(m, j + left)
        wr = w[r * a.sw]
        while j < e:
            wbuf[j] = wr
            j += 1
        r += 1
        left = k


cdef inline void block(const Op* op, const Loss* L, const Arrays* a, Py_ssize_t b0,
                       Py_ssize_t b1, floating scale, floating* lbuf, floating* g,
                       int* flags) noexcept nogil:
    """Elements b0 .. b1-1 (`g`: the gradient of element b0, stride `a.sg`).  When every
    operand has unit stride, they go to `segment` as they are, in one piece; else SUB
    elements at a time, the strided operands as unit-stride copies in L1 (strided outputs
    copied out after each piece).  Every access kind has one call site, so each loop is
    compiled once."""
    cdef floating one = 1
    cdef floating wbuf[BLOCK]
    cdef floating ybuf[SUB]
    cdef floating pbuf[SUB]
    cdef floating gbuf[SUB]
    cdef floating hbuf[SUB]
    cdef const floating* w = <const floating*>a.w
    cdef const floating* y
    cdef const floating* p
    cdef const floating* wp
    cdef floating* gp
    cdef floating* hp
    cdef floating* h = <floating*>a.hessian_out
    cdef Py_ssize_t s0 = b0, s1
    while s0 < b1:
        s1 = b1 if a.contiguous else min(b1, s0 + SUB)
        y = piece(ybuf, a.y, s0, a.sy, s1 - s0)          # NULL: absent (weight_sum)
        p = piece(pbuf, a.p, s0, a.sp, s1 - s0)
        if w != NULL and a.row_len > 1:
            row_weights(wbuf, a, s0, s1)
            wp = wbuf
        else:
            wp = piece(wbuf, a.w, s0, a.sw, s1 - s0)
        gp = g if g == NULL else (g + (s0 - b0) if a.sg == 1 else gbuf)
        hp = h if h == NULL else (h + s0 if a.sh == 1 else hbuf)
        if w == NULL:
            segment(op, L, <ScalarWeight*>NULL, y, p, &one, s1 - s0, scale, lbuf + (s0 - b0),
                    gp, hp, flags)
        else:
            segment(op, L, <ArrayWeight*>NULL, y, p, wp, s1 - s0, scale, lbuf + (s0 - b0),
                    gp, hp, flags)
        if gp == gbuf:
            store_block(g + (s0 - b0) * a.sg, a.sg, gbuf, s1 - s0)
        if hp == hbuf:
            store_block(h + s0 * a.sh, a.sh, hbuf, s1 - s0)
        s0 = s1


cdef inline void store_block(floating* out, Py_ssize_t stride, const floating* buf,
                             Py_ssize_t m) noexcept nogil:
    """out[j * stride] = buf[j] for j < m: a block's values from L1 to the output (a unit-stride
    loop of its own when the output is contiguous, which the compiler vectorizes)."""
    cdef Py_ssize_t j
    if stride == 1:
        for j in range(m):
            out[j] = buf[j]
    else:
        for j in range(m):
            out[j * stride] = buf[j]


cdef inline double lane_sum(const floating* x, Py_ssize_t m) noexcept nogil:
    """Sum in float64 with sixteen accumulators (four AVX2 registers of independent chains),
    in an order fixed by m alone."""
    cdef double acc[16]
    cdef Py_ssize_t j, k, m16 = m - m % 16
    for k in range(16):
        acc[k] = 0
    for j in range(0, m16, 16):
        for k in range(16):
            acc[k] += x[j + k]
    for j in range(m16, m):
        acc[j - m16] += x[j]
    for k in range(8):
        acc[k] += acc[k + 8]
    return (((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7])))


cdef inline double run_chunk(const Op* op, const Loss* L, const Arrays* a, Py_ssize_t start,
                             Py_ssize_t end, floating scale, int* flags) noexcept nogil:
    """Elements start .. end-1 in blocks of BLOCK, whose sums are added in order.

    `loss_gradient` in float32 computes a block's gradient into `gbuf` (in L1) and copies it
    out after the block.  Written straight to the output, each vector store that waits for its
    cache line to arrive from L3 or memory holds up the L1 store into `lbuf` behind it (stores
    retire in order), so half as many output lines are in flight as in a plain copy: measured
    0.73 of np.add's rate at 1e6 float32, against 1.0 staged (Xeon, AVX2); and on an EPYC
    (Zen 4, AVX-512) at 1e7: 0.62-0.79 straight against 0.86-0.90 staged.  In float64 the
    same EPYC measured the opposite, straight stores faster in 11 of 12 cases (1e6 and 1e7;
    squared_error 0.62 -> 0.74 and 0.78 -> 0.86 of np.add's rate, huber 0.67 -> 0.90 at 1e6,
    exponential 16.2 -> 14.0 ms at 1e7): a block of float64 gradients is twice the bytes, and
    its extra L1 copy costs more than the stores it frees; so float64 writes straight."""
    cdef floating lbuf[BLOCK]
    cdef floating gbuf[BLOCK]
    cdef floating* lo = <floating*>a.loss_out
    cdef floating* go = <floating*>a.gradient_out
    cdef double total = 0
    cdef Py_ssize_t b0 = start, b1
    cdef Arrays b = a[0]          # the operands as `block` sees them
    if Op is LossGradientOp and floating is float:
        b.sg = 1                  # staged: the gradient goes to gbuf
    b.contiguous = (b.sy == 1 and b.sp == 1 and b.sg == 1 and b.sh == 1
                    and (b.sw == 1 or b.row_len > 1))   # row weights are expanded in `block`
    while b0 < end:
        b1 = min(b0 + BLOCK, end)
        if Op is LossGradientOp and floating is float:
            block(op, L, &b, b0, b1, scale, lbuf, gbuf, flags)
            store_block(go + b0 * a.sg, a.sg, gbuf, b1 - b0)
        else:
            block(op, L, &b, b0, b1, scale, lbuf, go + b0 * a.sg if go != NULL else go, flags)
        if _writes_loss(op):
            if lo != NULL:
                store_block(lo + b0 * a.sl, a.sl, lbuf, b1 - b0)
            total += lane_sum(lbuf, b1 - b0)
        b0 = b1
    return total


cdef inline Py_ssize_t n_chunks_for(Py_ssize_t n) noexcept nogil:
    return max(1, min(<Py_ssize_t>MAX_CHUNKS, n // CHUNK))


cdef struct Drive:
    # One call's chunks, for the tasks of the thread pool (type-erased: the task's fused
    # arguments say what `L` points to and what `scale` is).
    const void* L
    const Arrays* a
    double scale
    Py_ssize_t chunk_len
    double* partial
    int* flags


cdef inline void chunk_task(void* ctx, Py_ssize_t c, const Op* op, const Loss* L,
                            const floating* dtype) noexcept nogil:
    """Task `c` of the pool: chunk c, its sum to `partial[c]`, its label bits to `flags[c]`.
    `op` and `dtype` are NULL: compile-time tags only."""
    cdef Drive* d = <Drive*>ctx
    d.partial[c] = run_chunk(op, <const Loss*>d.L, d.a, min(c * d.chunk_len, d.a.n),
                             min((c + 1) * d.chunk_len, d.a.n), <floating>d.scale,
                             &d.flags[c])


cdef double drive(const Op* op, const Loss* L, const Arrays* a, floating scale,
                  int n_threads, int* flags) noexcept nogil:
    """Run `op` over all elements; return the sum of w * loss and OR the label-check bits of
    every element into `flags`.  GroupedLossOp adds into `a.groups` instead (`grouped`)."""
    cdef Py_ssize_t n_chunks = n_chunks_for(a.n)
    cdef double partial[MAX_CHUNKS]
    cdef int chunk_flags[MAX_CHUNKS]
    cdef double total = 0
    cdef Py_ssize_t c
    cdef Drive d
    cdef void (*task)(void*, Py_ssize_t, const Op*, const Loss*, const floating*) noexcept nogil
    if Op is GroupedLossOp:
        grouped(L, a, scale, flags)
    else:
        task = chunk_task
        d.L = L
        d.a = a
        d.scale = scale
        # chunk length: a multiple of BLOCK, so that block boundaries depend on n only
        d.chunk_len = ((a.n + n_chunks - 1) // n_chunks + BLOCK - 1) // BLOCK * BLOCK
        d.partial = partial
        d.flags = chunk_flags
        for c in range(n_chunks):
            chunk_flags[c] = 0
        parallel_run(<task_fn>task, &d, n_chunks, n_threads)
        for c in range(n_chunks):
            total += partial[c]
            flags[0] |= chunk_flags[c]
    return total


cdef inline void two_sum_add(floating* hi, floating* lo, floating v) noexcept nogil:
    """hi + lo += v, with the rounding error of hi + v kept exactly in lo (Knuth's TwoSum,
    branch-free; the cross-entropy rows' sums use it too).  A sum of n terms so kept in
    float64 is within about n * 2**-106 of their total, relative to the sum of their
    magnitudes, before its final rounding."""
    cdef floating t = hi[0] + v
    cdef floating z = t - hi[0]
    lo[0] = lo[0] + ((hi[0] - (t - z)) + (v - z))
    hi[0] = t


cdef void grouped(const Loss* L, const Arrays* a, floating scale, int* flags) noexcept nogil:
    """The grouped loss: elements 0 .. a.n-1 (row_len 1) in blocks of BLOCK, each block's
    w * loss computed by the loss loop (`block`, as the loss operation: the same loop) into L1,
    then added to its element's group, element by element in order, on the calling thread:
    every group's sums are the same bits whatever the thread count, and whatever the blocks
    or calls the elements arrive in (the accumulators carry from call to call).  Stops at the
    first id outside [0, groups.n) (`groups.bad`), before adding that element."""
    cdef floating lbuf[BLOCK]
    cdef Groups* gr = a.groups
    cdef const int64_t* ids = gr.ids
    cdef const floating* w = <const floating*>a.w
    cdef Py_ssize_t b0 = 0, b1, j, i
    cdef int64_t k
    cdef Arrays b = a[0]
    b.contiguous = b.sy == 1 and b.sp == 1 and b.sw == 1
    while b0 < a.n:
        b1 = min(b0 + BLOCK, a.n)
        block(<LossOp*>NULL, L, &b, b0, b1, scale, lbuf, <floating*>NULL, flags)
        for j in range(b1 - b0):
            i = b0 + j
            k = ids[i]
            if <uint64_t>k >= <uint64_t>gr.n:
                gr.bad = i
                return
            # [double]: in float64 whatever `floating` is (a fused call would bind it)
            two_sum_add[double](&gr.loss_hi[k], &gr.loss_lo[k], lbuf[j])
            if w != NULL:
                two_sum_add[double](&gr.weight_hi[k], &gr.weight_lo[k], w[i * a.sw])
            gr.count[k] += 1
        b0 = b1


# A kernel's parameters: up to four numbers, and the deviance constants of the poisson, gamma
# and tweedie kernels (set up once, when the LossKernel is made).
cdef struct Params:
    double v[4]
    Deviance dev


cdef inline bint _loss_only(int loss) noexcept nogil:
    """Whether a kernel is one of the metrics' (y_pred: probabilities or the mean itself),
    which run the loss operation only (`_run` refuses the others), so that their loops are
    compiled for that operation alone."""
    return LOSS_PROBA_LOG_LOSS <= loss <= LOSS_HINGE_LABELS


cdef double with_loss(const Op* op, int loss, const Params* prm, const Arrays* a,
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
    cdef Poisson poisson_ = Poisson(&prm.dev)
    cdef Gamma gamma_ = Gamma(&prm.dev)
    cdef Tweedie tweedie_ = Tweedie(&prm.dev)
    cdef PoissonMean poisson_mean_ = PoissonMean(&prm.dev)
    cdef GammaMean gamma_mean_ = GammaMean(&prm.dev)
    cdef TweedieMean tweedie_mean_ = TweedieMean(&prm.dev)
    cdef TweedieNormal tweedie_normal_ = TweedieNormal(&prm.dev)
    cdef ProbaLogLoss proba_log_loss_
    cdef SquaredLogError squared_log_error_ = SquaredLogError(0)
    cdef AbsolutePercentageError absolute_percentage_error_
    cdef BrierLabels brier_labels_ = BrierLabels(prm.v[0], prm.v[1], prm.v[2])
    cdef HingeLabels hinge_labels_ = HingeLabels(prm.v[0], prm.v[1], prm.v[2])
    # The first two branches cut what is compiled (the `Op is` tests are compile-time):
    # weight_sum is one instance of the loop, whatever the loss; the metrics' kernels have the
    # loss operation alone.
    if Op is WeightSumOp:
        return drive(op, &squared_error_, a, scale, n_threads, flags)
    elif _loss_only(loss):
        if not (Op is LossOp or Op is GroupedLossOp):
            return 0                 # not reached: refused by `_run`
        elif loss == LOSS_POISSON_MEAN:
            return drive(op, &poisson_mean_, a, scale, n_threads, flags)
        elif loss == LOSS_GAMMA_MEAN:
            return drive(op, &gamma_mean_, a, scale, n_threads, flags)
        elif loss == LOSS_TWEEDIE_MEAN:
            return drive(op, &tweedie_mean_, a, scale, n_threads, flags)
        elif loss == LOSS_SQUARED_LOG_ERROR:
            return drive(op, &squared_log_error_, a, scale, n_threads, flags)
        elif loss == LOSS_ABSOLUTE_PERCENTAGE_ERROR:
            absolute_percentage_error_.eps = prm.v[0]
            return drive(op, &absolute_percentage_error_, a, scale, n_threads, flags)
        elif loss == LOSS_BRIER_LABELS:
            return drive(op, &brier_labels_, a, scale, n_threads, flags)
        elif loss == LOSS_HINGE_LABELS:
            return drive(op, &hinge_labels_, a, scale, n_threads, flags)
        else:                        # LOSS_PROBA_LOG_LOSS
            proba_log_loss_.positive = prm.v[0]
            proba_log_loss_.negative = prm.v[1]
            proba_log_loss_.lo = prm.v[2]
            proba_log_loss_.hi = prm.v[3]
            return drive(op, &proba_log_loss_, a, scale, n_threads, flags)
    elif loss == LOSS_SQUARED_ERROR:
        return drive(op, &squared_error_, a, scale, n_threads, flags)
    elif loss == LOSS_ABSOLUTE_ERROR:
        return drive(op, &absolute_error_, a, scale, n_threads, flags)
    elif loss == LOSS_HUBER:
        huber_.delta = prm.v[0]
        return drive(op, &huber_, a, scale, n_threads, flags)
    elif loss == LOSS_SMOOTH_L1:
        smooth_l1_setup(&smooth_l1_, prm.v[0])
        return drive(op, &smooth_l1_, a, scale, n_threads, flags)
    elif loss == LOSS_PSEUDO_HUBER:
        pseudo_huber_.delta = prm.v[0]
        pseudo_huber_.inv_delta = 1.0 / prm.v[0]
        return drive(op, &pseudo_huber_, a, scale, n_threads, flags)
    elif loss == LOSS_LOG_COSH:
        return drive(op, &log_cosh_, a, scale, n_threads, flags)
    elif loss == LOSS_PINBALL:
        pinball_.alpha = prm.v[0]
        pinball_.one_minus_alpha = 1.0 - prm.v[0]
        return drive(op, &pinball_, a, scale, n_threads, flags)
    elif loss == LOSS_BINARY_CROSS_ENTROPY:
        binary_cross_entropy_.pos_weight = prm.v[0]
        return drive(op, &binary_cross_entropy_, a, scale, n_threads, flags)
    elif loss == LOSS_HINGE:
        return drive(op, &hinge_, a, scale, n_threads, flags)
    elif loss == LOSS_SQUARED_HINGE:
        return drive(op, &squared_hinge_, a, scale, n_threads, flags)
    elif loss == LOSS_POISSON:
        return drive(op, &poisson_, a, scale, n_threads, flags)
    elif loss == LOSS_GAMMA:
        return drive(op, &gamma_, a, scale, n_threads, flags)
    elif loss == LOSS_TWEEDIE_NORMAL:
        return drive(op, &tweedie_normal_, a, scale, n_threads, flags)
    elif loss == LOSS_TWEEDIE:       # power 0, 1, 2 have kernels of their own (LossKernel)
        return drive(op, &tweedie_, a, scale, n_threads, flags)
    else:  # LOSS_EXPONENTIAL; ids are checked when a LossKernel is made
        return drive(op, &exponential_, a, scale, n_threads, flags)


cdef double with_op(int op, int loss, const Params* prm, const Arrays* a, floating scale,
                    int n_threads, int* flags) noexcept nogil:
    if op == OP_LOSS:
        return with_loss(<LossOp*>NULL, loss, prm, a, scale, n_threads, flags)
    elif op == OP_GRADIENT:
        return with_loss(<GradientOp*>NULL, loss, prm, a, scale, n_threads, flags)
    elif op == OP_LOSS_GRADIENT:
        return with_loss(<LossGradientOp*>NULL, loss, prm, a, scale, n_threads, flags)
    elif op == OP_GRADIENT_HESSIAN:
        return with_loss(<GradientHessianOp*>NULL, loss, prm, a, scale, n_threads, flags)
    elif op == OP_GROUPED_LOSS:
        return with_loss(<GroupedLossOp*>NULL, loss, prm, a, scale, n_threads, flags)
    else:
        return with_loss(<WeightSumOp*>NULL, LOSS_SQUARED_ERROR, prm, a, scale, n_threads, flags)
