# Row metrics over (n, K) scores or probabilities with a class index per row: lossfuse.metrics'
# multiclass hinge_loss and brier_score_loss.  Each row's loss is rounded as scikit-learn rounds
# it (in the dtype of the scores), then weighted, and the weighted losses are summed in float64
# as the loops of loops.pxi sum theirs: BLOCK rows to a buffer in L1, `lane_sum` per block, the
# blocks in order within a chunk, chunks (boundaries fixed by n and K) in chunk order: the same
# bits for every thread count.  The row loops are scalar (K is small, a row's work a handful of
# operations); the facade validates the inputs, and the class indices are checked here (an index
# outside [0, K) would read outside the row): the first such row is reported, nothing is read
# from it.
#
# A checked run (the facade's short path) also records, for K <= 64, which class indices occur
# (a bit each), and for the Brier score whether a probability lies outside [0, 1] and whether a
# row's sum is further from 1 than a tolerance: what the facade would otherwise find with
# NumPy passes over the data before the run.

cdef enum:
    ROWS_HINGE = 0        # max(0, 1 - (x[y] - max_{j != y} x[j]))
    ROWS_BRIER = 1        # sum_j (onehot(y)_j - p_j)^2

ROW_METRICS = {"hinge": ROWS_HINGE, "brier": ROWS_BRIER}

cdef enum:
    ROWS_RANGE = 1        # checked runs: a probability outside [0, 1], or NaN (Brier)
    ROWS_SUM = 2          # a row whose probabilities sum to more than `tol` from 1 (Brier)


cdef struct RowsArgs:
    # The operands of one call, type-erased; strides in elements; w NULL when absent.
    int kind
    Py_ssize_t n
    Py_ssize_t K
    const char* p
    Py_ssize_t s0
    Py_ssize_t s1
    const int64_t* y
    Py_ssize_t sy
    const char* w
    Py_ssize_t sw
    bint check            # a checked run: the classes seen and ROWS_* flags
    double tol            # of ROWS_SUM


cdef floating _brier_terms(const floating* row, Py_ssize_t s1, int64_t c, Py_ssize_t lo,
                           Py_ssize_t m) noexcept nogil:
    """The sum of (onehot(c)_j - row[j])^2 for lo <= j < lo + m, in the order of NumPy's
    pairwise sum of a row (as ``np.sum(axis=1)`` adds them): sequential below 8 terms, eight
    accumulators up to 128, halves (a multiple of 8 first) beyond."""
    cdef floating r[8]
    cdef floating d, res
    cdef Py_ssize_t i, j, m2
    if m < 8:
        res = 0
        for i in range(lo, lo + m):
            d = (<floating>1 if i == c else <floating>0) - row[i * s1]
            res = res + d * d
        return res
    if m <= 128:
        for j in range(8):
            d = (<floating>1 if lo + j == c else <floating>0) - row[(lo + j) * s1]
            r[j] = d * d
        i = 8
        while i < m - m % 8:
            for j in range(8):
                d = (<floating>1 if lo + i + j == c else <floating>0) - row[(lo + i + j) * s1]
                r[j] = r[j] + d * d
            i += 8
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while i < m:
            d = (<floating>1 if lo + i == c else <floating>0) - row[(lo + i) * s1]
            res = res + d * d
            i += 1
        return res
    m2 = m // 2
    m2 -= m2 % 8
    return _brier_terms(row, s1, c, lo, m2) + _brier_terms(row, s1, c, lo + m2, m - m2)


cdef inline int _brier_checks(const floating* row, Py_ssize_t s1, Py_ssize_t K,
                              double tol) noexcept nogil:
    """ROWS_RANGE where a probability of the row is outside [0, 1] (or NaN), ROWS_SUM where
    their sum (in float64, in order) is more than `tol` from 1 (or NaN)."""
    cdef double s = 0
    cdef int inside = 1
    cdef floating v
    cdef Py_ssize_t j
    for j in range(K):
        v = row[j * s1]
        inside &= (v >= 0) & (v <= 1)
        s += v
    return (0 if inside else ROWS_RANGE) | (0 if fabs(s - 1) <= tol else ROWS_SUM)


cdef inline floating _hinge_row(const floating* row, Py_ssize_t s1, Py_ssize_t K,
                                int64_t c) noexcept nogil:
    """max(0, 1 - (row[c] - max_{j != c} row[j])) in the row's dtype (K >= 2); NaN where a
    score is NaN or infinite (which the facade refuses before).  No data-dependent branch:
    the running max is the `v > m ? v : m` that compiles to one max instruction, the clip a
    product, and NaN comes in as the sum of the v - v (0 for finite v).  (With branches,
    random scores cost a misprediction a row: 15-20 ms for 1e6 rows of 5, against 4 ms.)"""
    cdef floating m = -<floating>INFINITY, v, z = 0, loss
    cdef Py_ssize_t j
    for j in range(K):
        v = row[j * s1]
        z = z + (v - v)
        v = -<floating>INFINITY if j == c else v
        m = v if v > m else m
    loss = <floating>1 - (row[c * s1] - m)
    return loss * <floating>(loss > 0) + z      # + 0: a clipped -0.0 becomes 0.0


cdef double rows_chunk(const RowsArgs* a, Py_ssize_t start, Py_ssize_t end,
                       const floating* dtype, Py_ssize_t* bad, uint64_t* seen,
                       int* flags) noexcept nogil:
    """Rows start .. end-1: the sum of their weighted losses; `bad` gets the first row whose
    class index is outside [0, K) (its loss taken as NaN), else stays -1.  A checked run
    also ORs bit c mod 64 of every class index c into `seen`, and the rows' ROWS_* flags
    into `flags`."""
    cdef double lbuf[BLOCK]
    cdef const floating* p = <const floating*>a.p
    cdef const floating* w = <const floating*>a.w
    cdef const floating* row
    cdef double total = 0
    cdef floating loss
    cdef Py_ssize_t b0 = start, b1, i
    cdef int64_t c
    cdef uint64_t classes = 0
    cdef int fl = 0
    while b0 < end:
        b1 = min(b0 + BLOCK, end)
        for i in range(b0, b1):
            c = a.y[i * a.sy]
            row = p + i * a.s0
            if <uint64_t>c >= <uint64_t>a.K:
                if bad[0] < 0:
                    bad[0] = i
                loss = <floating>NAN
                lbuf[i - b0] = loss
                continue
            if a.check:
                classes |= (<uint64_t>1) << (c & 63)
                if a.kind == ROWS_BRIER:
                    fl |= _brier_checks(row, a.s1, a.K, a.tol)
            if a.kind == ROWS_HINGE:
                loss = _hinge_row(row, a.s1, a.K, c)
            else:
                loss = _brier_terms(row, a.s1, c, 0, a.K)
            if w != NULL:
                loss = w[i * a.sw] * loss
            lbuf[i - b0] = loss
        total += lane_sum(lbuf, b1 - b0)
        b0 = b1
    seen[0] |= classes
    flags[0] |= fl
    return total


cdef struct RowsDrive:
    # One call's row chunks, for the tasks of the thread pool (see `Drive` in loops.pxi).
    const RowsArgs* a
    Py_ssize_t chunk_rows
    double* partial
    Py_ssize_t* bad
    uint64_t* seen
    int* flags


cdef void rows_chunk_task(void* ctx, Py_ssize_t c, const floating* dtype, const void* tag1,
                          const void* tag2) noexcept nogil:
    """Task `c` of the pool: row chunk c, its sum to `partial[c]`.  The last three arguments
    are NULL: compile-time tags only."""
    cdef RowsDrive* d = <RowsDrive*>ctx
    d.partial[c] = rows_chunk(d.a, min(c * d.chunk_rows, d.a.n),
                              min((c + 1) * d.chunk_rows, d.a.n), dtype, &d.bad[c],
                              &d.seen[c], &d.flags[c])


cdef double rows_drive(const RowsArgs* a, const floating* dtype, int n_threads,
                       Py_ssize_t* bad, uint64_t* seen, int* flags) noexcept nogil:
    """All rows, in chunks whose boundaries depend on n and K only, summed in chunk order;
    `bad`: the first row with a class index outside [0, K), or -1; `seen` and `flags`: those
    of a checked run (`rows_chunk`), 0 otherwise."""
    cdef Py_ssize_t n_chunks = max(1, min(<Py_ssize_t>MAX_CHUNKS, a.n * a.K // CHUNK))
    cdef double partial[MAX_CHUNKS]
    cdef Py_ssize_t chunk_bad[MAX_CHUNKS]
    cdef uint64_t chunk_seen[MAX_CHUNKS]
    cdef int chunk_flags[MAX_CHUNKS]
    cdef double total = 0
    cdef Py_ssize_t c
    cdef RowsDrive d
    cdef void (*task)(void*, Py_ssize_t, const floating*, const void*,
                      const void*) noexcept nogil
    task = rows_chunk_task
    d.a = a
    d.chunk_rows = ((a.n + n_chunks - 1) // n_chunks + BLOCK - 1) // BLOCK * BLOCK
    d.partial = partial
    d.bad = chunk_bad
    d.seen = chunk_seen
    d.flags = chunk_flags
    for c in range(n_chunks):
        chunk_bad[c] = -1
        chunk_seen[c] = 0
        chunk_flags[c] = 0
    parallel_run(<task_fn>task, &d, n_chunks, n_threads)
    bad[0] = -1
    seen[0] = 0
    flags[0] = 0
    for c in range(n_chunks):
        total += partial[c]
        if bad[0] < 0:
            bad[0] = chunk_bad[c]
        seen[0] |= chunk_seen[c]
        flags[0] |= chunk_flags[c]
    return total
