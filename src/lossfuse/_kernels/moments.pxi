# The sums behind r2_score and explained_variance_score, and the maximum behind max_error:
# one pass over y_true, y_pred (and the weights), in chunks shared by the threads of the pool
# like the losses' loops (loops.pxi), with the same guarantees: block and chunk boundaries
# depend on the number of elements only, every build adds in the same order, and the result
# is bitwise the same for every thread count.
#
# Numerics.  R^2's denominator is the weighted sum of the squared deviations of y from its
# mean.  The textbook one-pass form, sum(w y^2) - sum(w y)^2 / sum(w), cancels
# catastrophically when the spread is small next to the mean (y = 1e8 + N(0, 1): 25-40%
# wrong), and compensated sums do not help, since y^2 itself rounds.  Here every y is shifted
# first by a value K of the data near its mean, u = y - K, and the pass sums W = sum(w),
# U = sum(w u) and UU = sum(w u^2); the denominator is UU - U (U / W).  What still cancels is
# (mean - K)^2 against the variance: the relative error is about eps (1 + (mean - K)^2 / var),
# and with K the element of the first block nearest that block's mean the factor is small
# for any data that is not sorted or drifting; even for an adversarial first block it is at
# most about n, since K's own deviation is part of the variance (1e-10 at n = 1e6).  K being
# a data value has two more virtues: a constant column gives u = 0 exactly, so its
# denominator is exactly 0 (and force_finite applies exactly); and the sums are linear, so
# chunks merge by addition.  Explained variance shifts the residuals d = y - y_pred likewise
# (by Ke, a residual of the first block).  Sums run in float64 for float32 data too (u and d
# then exact or nearly); each moment has eight lane accumulators within a block of BLOCK
# elements (an order fixed by the code), blocks and chunks are added with TwoSum.

cdef enum:
    N_MOMENTS = 6         # W, U, UU, DD, E, EE: see `moments_segment`
    MLANES = 8            # lane accumulators per moment


cdef struct MomentsCall:
    # One call's chunks, for the tasks of the pool (type-erased operands, as in `Drive`).
    const Arrays* a
    double K
    double Ke
    bint residuals
    Py_ssize_t chunk_len
    double* slots         # per chunk: N_MOMENTS sums (hi), then their low parts (lo)
    double* peaks         # per chunk, max_error: the largest |y - p|, then a NaN detector


cdef extern from "moments.h" nogil:
    # the lane sums of the moments and max_error's maximum on vector registers (moments.h)
    void lf_moments_d(const double* y, const double* p, const double* w, Py_ssize_t m,
                      double K, double Ke, int residuals, double* acc)
    void lf_moments_f(const float* y, const float* p, const float* w, Py_ssize_t m,
                      double K, double Ke, int residuals, double* acc)
    void lf_maxabs_d(const double* y, const double* p, Py_ssize_t m, double* top, double* nan)
    void lf_maxabs_f(const float* y, const float* p, Py_ssize_t m, float* top, float* nan)


cdef inline void moments_segment(const floating* y, const floating* p, const floating* w,
                                 Py_ssize_t m, double K, double Ke, bint residuals,
                                 double* acc) noexcept nogil:
    """Elements j < m (unit strides; weight w[j], or 1 where `w` is NULL) into the lane
    accumulators acc[s * MLANES + j % MLANES] of the moments s:
    0: w, 1: w u, 2: w u^2, 3: w d^2, 4: w e, 5: w e^2, where u = y - K, d = y - p and
    e = d - Ke, all in float64 (moments.h); 4 and 5 (explained variance's) only with
    `residuals`."""
    if floating is double:
        lf_moments_d(y, p, w, m, K, Ke, residuals, acc)
    else:
        lf_moments_f(y, p, w, m, K, Ke, residuals, acc)


cdef inline void moments_chunk(const Arrays* a, Py_ssize_t start, Py_ssize_t end, double K,
                               double Ke, bint residuals, double* out,
                               const floating* dtype) noexcept nogil:
    """The moments of elements start .. end-1 into out[0:N_MOMENTS] (hi) and
    out[N_MOMENTS:2 N_MOMENTS] (lo): blocks of BLOCK elements, each summed in its lanes
    (strided operands copied to L1 SUB elements at a time: SUB is a multiple of MLANES, so
    the lanes see the same elements either way), the lanes added in a fixed order, the blocks
    added by TwoSum.  `dtype` is NULL: a compile-time tag."""
    cdef double acc[N_MOMENTS * MLANES]
    cdef floating ybuf[SUB]
    cdef floating pbuf[SUB]
    cdef floating wbuf[SUB]
    cdef bint contiguous = a.sy == 1 and a.sp == 1 and (a.w == NULL or a.sw == 1)
    cdef Py_ssize_t b0 = start, b1, s0, s1, s, k
    cdef double v
    for s in range(2 * N_MOMENTS):
        out[s] = 0
    while b0 < end:
        b1 = min(b0 + BLOCK, end)
        for k in range(N_MOMENTS * MLANES):
            acc[k] = 0
        s0 = b0
        while s0 < b1:
            s1 = b1 if contiguous else min(b1, s0 + SUB)
            moments_segment(piece(ybuf, a.y, s0, a.sy, s1 - s0),
                            piece(pbuf, a.p, s0, a.sp, s1 - s0),
                            piece(wbuf, a.w, s0, a.sw, s1 - s0), s1 - s0, K, Ke, residuals,
                            acc)
            s0 = s1
        for s in range(N_MOMENTS):
            k = s * MLANES
            v = (((acc[k] + acc[k + 4]) + (acc[k + 2] + acc[k + 6]))
                 + ((acc[k + 1] + acc[k + 5]) + (acc[k + 3] + acc[k + 7])))
            two_sum_add[double](&out[s], &out[N_MOMENTS + s], v)
        b0 = b1


cdef inline void moments_task(void* ctx, Py_ssize_t c, const floating* dtype, const void* t1,
                              const void* t2) noexcept nogil:
    """Task `c` of the pool: chunk c's moments to its slot."""
    cdef MomentsCall* d = <MomentsCall*>ctx
    moments_chunk(d.a, min(c * d.chunk_len, d.a.n), min((c + 1) * d.chunk_len, d.a.n), d.K,
                  d.Ke, d.residuals, &d.slots[c * 2 * N_MOMENTS], dtype)


cdef inline void maxabs_task(void* ctx, Py_ssize_t c, const floating* dtype, const void* t1,
                             const void* t2) noexcept nogil:
    """Task `c` of the pool: chunk c's largest |y - p| and NaN detector (moments.h) to its
    slot."""
    cdef MomentsCall* d = <MomentsCall*>ctx
    cdef const Arrays* a = d.a
    cdef floating top = 0, nan = 0
    cdef floating ybuf[SUB]
    cdef floating pbuf[SUB]
    cdef Py_ssize_t s0 = min(c * d.chunk_len, a.n), end = min((c + 1) * d.chunk_len, a.n), s1
    cdef bint contiguous = a.sy == 1 and a.sp == 1
    while s0 < end:
        s1 = end if contiguous else min(end, s0 + SUB)
        if floating is double:
            lf_maxabs_d(piece(ybuf, a.y, s0, a.sy, s1 - s0),
                        piece(pbuf, a.p, s0, a.sp, s1 - s0), s1 - s0, &top, &nan)
        else:
            lf_maxabs_f(piece(ybuf, a.y, s0, a.sy, s1 - s0),
                        piece(pbuf, a.p, s0, a.sp, s1 - s0), s1 - s0, &top, &nan)
        s0 = s1
    d.peaks[2 * c] = top
    d.peaks[2 * c + 1] = nan


cdef double pilot(const char* x, Py_ssize_t sx, const char* q, Py_ssize_t sq, const char* w,
                  Py_ssize_t sw, Py_ssize_t n, const floating* dtype) noexcept nogil:
    """A shift near the mean of the data: of the first min(n, BLOCK) values x (or residuals
    x - q, when `q` is not NULL) of weight other than 0, the one nearest their mean weighted
    by `w` (NULL: unweighted); the first value when there is none or the mean is not
    finite.  `dtype` is NULL: a compile-time tag."""
    cdef const floating* xs = <const floating*>x
    cdef const floating* qs = <const floating*>q
    cdef const floating* ws = <const floating*>w
    cdef Py_ssize_t m = min(n, <Py_ssize_t>BLOCK), i
    cdef double mean = 0, total = 0, v, wi = 1, best, gap = INFINITY
    for i in range(m):
        if ws != NULL:
            wi = ws[i * sw]
        mean += wi * (<double>xs[i * sx] - (<double>qs[i * sq] if qs != NULL else 0.0))
        total += wi
    mean /= total
    best = <double>xs[0] - (<double>qs[0] if qs != NULL else 0.0)
    for i in range(m):
        if ws != NULL and ws[i * sw] == 0:
            continue
        v = <double>xs[i * sx] - (<double>qs[i * sq] if qs != NULL else 0.0)
        if fabs(v - mean) < gap:
            gap = fabs(v - mean)
            best = v
    return best


cdef object _moments(floating dtype_tag, object y_true, object y_pred, object sample_weight,
                     double K, double Ke, bint residuals, int n_threads):
    """Check lengths in O(1), choose the shifts that are NaN (`pilot`), then sum the moments
    without the GIL; return (W, U, UU, DD, E, EE, K, Ke)."""
    cdef Arrays a
    cdef MomentsCall call
    cdef int t = cnp.NPY_DOUBLE if floating is double else cnp.NPY_FLOAT
    cdef View2 y = _view2(y_true, t, 1, b"y_true", False)
    cdef View2 p = _view2(y_pred, t, 1, b"y_pred", False)
    cdef View2 w = _view2(sample_weight, t, 1, b"sample_weight", False)
    cdef Py_ssize_t n = p.n0, n_chunks = n_chunks_for(p.n0), c, s
    cdef double slots[MAX_CHUNKS * 2 * N_MOMENTS]
    cdef double total[2 * N_MOMENTS]
    cdef void (*task)(void*, Py_ssize_t, const floating*, const void*, const void*) noexcept nogil
    if y.n0 != n or (w.data != NULL and w.n0 != n):
        raise ValueError("y_true, y_pred and sample_weight must have one element each per "
                         "element")
    if n == 0:
        return (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, K, Ke)
    a.n = n
    a.row_len = 1
    a.y = y.data
    a.sy = y.s0
    a.p = p.data
    a.sp = p.s0
    a.w = w.data
    a.sw = w.s0
    if K != K:
        K = pilot(a.y, a.sy, NULL, 0, a.w, a.sw, n, &dtype_tag)
    if Ke != Ke and residuals:
        Ke = pilot(a.y, a.sy, a.p, a.sp, a.w, a.sw, n, &dtype_tag)
    call.a = &a
    call.K = K
    call.Ke = Ke
    call.residuals = residuals
    call.chunk_len = ((n + n_chunks - 1) // n_chunks + BLOCK - 1) // BLOCK * BLOCK
    call.slots = slots
    task = moments_task
    if n > GIL_FREE_ABOVE:
        with nogil:
            parallel_run(<task_fn>task, &call, n_chunks, max(1, n_threads))
    else:
        parallel_run(<task_fn>task, &call, n_chunks, 1)
    for s in range(2 * N_MOMENTS):
        total[s] = 0
    for c in range(n_chunks):
        for s in range(N_MOMENTS):
            two_sum_add[double](&total[s], &total[N_MOMENTS + s], slots[c * 2 * N_MOMENTS + s])
            total[N_MOMENTS + s] += slots[c * 2 * N_MOMENTS + N_MOMENTS + s]
    return (total[0] + total[6], total[1] + total[7], total[2] + total[8],
            total[3] + total[9], total[4] + total[10], total[5] + total[11], K, Ke)


cdef double _max_abs(floating dtype_tag, object y_true, object y_pred, int n_threads) except? -1:
    """Check lengths in O(1), then find the largest |y - p| without the GIL; NaN if some
    |y - p| is NaN or infinite."""
    cdef Arrays a
    cdef MomentsCall call
    cdef int t = cnp.NPY_DOUBLE if floating is double else cnp.NPY_FLOAT
    cdef View2 y = _view2(y_true, t, 1, b"y_true", False)
    cdef View2 p = _view2(y_pred, t, 1, b"y_pred", False)
    cdef Py_ssize_t n = p.n0, n_chunks = n_chunks_for(p.n0), c
    cdef double peaks[2 * MAX_CHUNKS]
    cdef double top = 0, nan = 0
    cdef void (*task)(void*, Py_ssize_t, const floating*, const void*, const void*) noexcept nogil
    if y.n0 != n:
        raise ValueError("y_true and y_pred must have the same number of elements")
    if n == 0:
        return 0.0
    a.n = n
    a.y = y.data
    a.sy = y.s0
    a.p = p.data
    a.sp = p.s0
    call.a = &a
    call.chunk_len = ((n + n_chunks - 1) // n_chunks + BLOCK - 1) // BLOCK * BLOCK
    call.peaks = peaks
    task = maxabs_task
    if n > GIL_FREE_ABOVE:
        with nogil:
            parallel_run(<task_fn>task, &call, n_chunks, max(1, n_threads))
    else:
        parallel_run(<task_fn>task, &call, n_chunks, 1)
    for c in range(n_chunks):
        top = peaks[2 * c] if peaks[2 * c] > top else top
        nan += peaks[2 * c + 1]
    return top if nan == 0 else NAN


def moments_float64(y_true, y_pred, sample_weight, double K, double Ke, bint residuals,
                    int n_threads):
    """The moments of r2_score and explained_variance_score over 1-d float64 arrays (weights
    None for none): (W, U, UU, DD, E, EE, K, Ke), the sums of w, w u, w u^2, w d^2, w e and
    w e^2, where u = y_true - K, d = y_true - y_pred and e = d - Ke (E and EE only with
    `residuals`, else 0).  A NaN K (Ke) asks for the kernel's choice: a y_true (d) of the
    first block near its weighted mean, which is returned."""
    return _moments(<double>0, y_true, y_pred, sample_weight, K, Ke, residuals, n_threads)


def moments_float32(y_true, y_pred, sample_weight, double K, double Ke, bint residuals,
                    int n_threads):
    """As `moments_float64`, on float32 arrays (everything computed in float64)."""
    return _moments(<float>0, y_true, y_pred, sample_weight, K, Ke, residuals, n_threads)


def max_abs_error_float64(y_true, y_pred, int n_threads):
    """The largest |y_true - y_pred| of 1-d float64 arrays (0.0 when empty); NaN when some
    difference is NaN or infinite."""
    return _max_abs(<double>0, y_true, y_pred, n_threads)


def max_abs_error_float32(y_true, y_pred, int n_threads):
    """As `max_abs_error_float64`, on float32 arrays (the differences in float32)."""
    return _max_abs(<float>0, y_true, y_pred, n_threads)
