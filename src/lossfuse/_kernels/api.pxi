# The Python-facing entry points of a kernel module: `LossKernel` (a loss id with its
# parameters) and its `run_float64` / `run_float32`, which take 1-d NumPy arrays, check in
# O(1) what memory safety rests on (dtype, byte order, lengths, alignment, writeability),
# release the GIL for large inputs and call the loops.

cimport numpy as cnp
cnp.import_array()

cdef enum:
    LOSS_SQUARED_ERROR = 0
    LOSS_ABSOLUTE_ERROR = 1
    LOSS_HUBER = 2
    LOSS_SMOOTH_L1 = 3
    LOSS_PSEUDO_HUBER = 4
    LOSS_LOG_COSH = 5
    LOSS_PINBALL = 6
    LOSS_BINARY_CROSS_ENTROPY = 7
    LOSS_HINGE = 8
    LOSS_SQUARED_HINGE = 9
    LOSS_EXPONENTIAL = 10
    LOSS_POISSON = 11
    LOSS_GAMMA = 12
    LOSS_TWEEDIE = 13
    LOSS_TWEEDIE_NORMAL = 14
    LOSS_PROBA_LOG_LOSS = 15
    LOSS_POISSON_MEAN = 16
    LOSS_GAMMA_MEAN = 17
    LOSS_TWEEDIE_MEAN = 18
    LOSS_SQUARED_LOG_ERROR = 19
    LOSS_ABSOLUTE_PERCENTAGE_ERROR = 20
    LOSS_BRIER_LABELS = 21
    LOSS_HINGE_LABELS = 22
    N_LOSSES = 23

# Kernel ids by canonical loss name, with the parameter names each kernel reads, in order.
LOSSES = {
    "squared_error": (LOSS_SQUARED_ERROR, ()),
    "absolute_error": (LOSS_ABSOLUTE_ERROR, ()),
    "huber": (LOSS_HUBER, ("delta",)),
    "smooth_l1": (LOSS_SMOOTH_L1, ("beta",)),
    "pseudo_huber": (LOSS_PSEUDO_HUBER, ("delta",)),
    "log_cosh": (LOSS_LOG_COSH, ()),
    "pinball": (LOSS_PINBALL, ("alpha",)),
    "binary_cross_entropy": (LOSS_BINARY_CROSS_ENTROPY, ("pos_weight",)),
    "hinge": (LOSS_HINGE, ()),
    "squared_hinge": (LOSS_SQUARED_HINGE, ()),
    "exponential": (LOSS_EXPONENTIAL, ()),
    "poisson": (LOSS_POISSON, ()),
    "gamma": (LOSS_GAMMA, ()),
    "tweedie": (LOSS_TWEEDIE, ("power",)),
    "tweedie_normal": (LOSS_TWEEDIE_NORMAL, ()),
    # lossfuse.metrics' deviances: y_pred is mu itself (not log(mu)), so y == mu gives 0 exactly
    "poisson_deviance": (LOSS_POISSON_MEAN, ()),
    "gamma_deviance": (LOSS_GAMMA_MEAN, ()),
    "tweedie_deviance": (LOSS_TWEEDIE_MEAN, ("power",)),
    # lossfuse.metrics.log_loss: binary targets (two labels) and probabilities, clipped
    "proba_log_loss": (LOSS_PROBA_LOG_LOSS, ("positive", "negative", "lo", "hi")),
    # lossfuse.metrics' mean_squared_log_error and mean_absolute_percentage_error
    "squared_log_error": (LOSS_SQUARED_LOG_ERROR, ()),
    "absolute_percentage_error": (LOSS_ABSOLUTE_PERCENTAGE_ERROR, ("eps",)),
    # lossfuse.metrics' binary brier_score_loss and hinge_loss: labels and probabilities or
    # decision scores (see `brier_labels` in pointwise.pxi)
    "brier_labels": (LOSS_BRIER_LABELS, ("positive", "negative", "negative2")),
    "hinge_labels": (LOSS_HINGE_LABELS, ("positive", "negative", "negative2")),
}

# Bits of `LabelError.flags` (see `label_flags` in pointwise.pxi).
LABEL_FLAGS = {"zero": LABEL_ZERO, "minus_one": LABEL_MINUS_ONE, "invalid": LABEL_INVALID,
               "negative": LABEL_NEGATIVE}

cdef extern from *:
    """
    #if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    static int lossfuse_cpu_has_avx2_fma(void) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    /* libgcc sets the AVX-512 features only where the OS saves the 512-bit state (XGETBV) */
    static int lossfuse_cpu_has_avx512(void) {
        __builtin_cpu_init();
        return lossfuse_cpu_has_avx2_fma() && __builtin_cpu_supports("avx512f")
            && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl");
    }
    #else
    static int lossfuse_cpu_has_avx2_fma(void) { return 0; }
    static int lossfuse_cpu_has_avx512(void) { return 0; }
    #endif
    #define LOSSFUSE_XSTR(x) LOSSFUSE_STR(x)
    #define LOSSFUSE_STR(x) #x
    #if defined(__clang__)
    #define LOSSFUSE_CC "clang " __clang_version__
    #elif defined(__GNUC__)
    #define LOSSFUSE_CC "gcc " __VERSION__
    #elif defined(_MSC_VER)
    #define LOSSFUSE_CC "msvc " LOSSFUSE_XSTR(_MSC_FULL_VER)
    #else
    #define LOSSFUSE_CC "unknown"
    #endif
    #ifndef LOSSFUSE_GIT_COMMIT
    #define LOSSFUSE_GIT_COMMIT ""
    #endif
    #define LOSSFUSE_CYTHON_HEX CYTHON_HEX_VERSION
    #if defined(__AVX512F__)
    #define LOSSFUSE_ISA "avx512"
    #elif defined(__AVX2__)
    #define LOSSFUSE_ISA "avx2"
    #elif defined(__x86_64__)
    #define LOSSFUSE_ISA "sse2"
    #elif defined(__aarch64__)
    #define LOSSFUSE_ISA "neon"
    #else
    #define LOSSFUSE_ISA "generic"
    #endif
    """
    int lossfuse_cpu_has_avx2_fma() noexcept nogil
    int lossfuse_cpu_has_avx512() noexcept nogil
    const char* LOSSFUSE_ISA
    const char* LOSSFUSE_CC
    const char* LOSSFUSE_GIT_COMMIT
    long LOSSFUSE_CYTHON_HEX

ISA = LOSSFUSE_ISA.decode()   # the instruction set this module was compiled for
# What built this module: the compiler, Cython's version, the git commit of the sources (""
# when they were not a checkout).
COMPILER = LOSSFUSE_CC.decode()
CYTHON_VERSION = ".".join(str((LOSSFUSE_CYTHON_HEX >> k) & 0xFF) for k in (24, 16, 8))
GIT_COMMIT = LOSSFUSE_GIT_COMMIT.decode()


def cpu_has_avx2_fma():
    """True when the running CPU (and OS) support AVX2 and FMA."""
    return bool(lossfuse_cpu_has_avx2_fma())


def cpu_has_avx512():
    """True when the running CPU (and OS) support AVX-512 F, DQ, BW and VL (and AVX2, FMA)."""
    return bool(lossfuse_cpu_has_avx512())


cdef enum:
    GIL_FREE_ABOVE = 4096

class MisalignedError(ValueError):
    """An operand's address or stride is not a multiple of its itemsize."""


class LabelError(ValueError):
    """Some y_true is outside the loss's label domain; `flags` holds the OR of the elements'
    label-check bits (`LABEL_FLAGS`).  The outputs may have been written."""

    def __init__(self, flags):
        super().__init__(f"labels outside the loss's domain (flags {flags})")
        self.flags = flags


class OverlapError(ValueError):
    """An output shares memory with an input without being that very input (element i of an
    output may only alias element i of an input: each element is read before it is written)."""


cdef struct View2:
    char* data           # NULL when absent
    Py_ssize_t n0        # rows (elements of a 1-d array)
    Py_ssize_t n1        # columns (1 for a 1-d array)
    Py_ssize_t s0        # strides in elements
    Py_ssize_t s1


cdef View2 _view2(object x, int typenum, int ndim, const char* name, bint output) except *:
    """Data pointer, shape and element strides of an array of type `typenum` with `ndim`
    (1 or 2) dimensions, or an absent operand (None)."""
    cdef View2 r
    cdef cnp.ndarray arr
    cdef Py_ssize_t item
    r.data = NULL
    r.n0 = r.n1 = 0
    r.s0 = r.s1 = 1      # an absent operand does not spoil unit-stride detection
    if x is None:
        return r
    if not cnp.PyArray_Check(x):
        raise TypeError(f"{name.decode()} must be a numpy.ndarray")
    arr = <cnp.ndarray>x
    if cnp.PyArray_TYPE(arr) != typenum or not cnp.PyArray_ISNOTSWAPPED(arr):
        raise TypeError(f"{name.decode()} has the wrong dtype or byte order (native order, "
                        "the dtype of y_pred or int64 for labels)")
    if cnp.PyArray_NDIM(arr) != ndim:
        raise ValueError(f"{name.decode()} must be {ndim}-d")
    if output and not cnp.PyArray_ISWRITEABLE(arr):
        raise ValueError(f"{name.decode()} is not writeable")
    if not cnp.PyArray_ISALIGNED(arr):
        raise MisalignedError(f"{name.decode()} is not aligned to its itemsize")
    item = cnp.PyArray_ITEMSIZE(arr)
    r.n0 = cnp.PyArray_DIM(arr, 0)
    r.s0 = cnp.PyArray_STRIDE(arr, 0) // item
    r.n1 = 1
    if ndim == 2:
        r.n1 = cnp.PyArray_DIM(arr, 1)
        r.s1 = cnp.PyArray_STRIDE(arr, 1) // item
    if r.n0 > 0 and r.n1 > 0:
        r.data = <char*>cnp.PyArray_DATA(arr)
    return r


cdef inline bint _disjoint(const View2* u, const View2* v, Py_ssize_t iu,
                           Py_ssize_t iv) noexcept:
    """Whether the memory spans of two operands (itemsizes iu, iv) do not intersect."""
    cdef char* lo[2]
    cdef char* hi[2]
    cdef const View2* x
    cdef int k
    if u.data == NULL or v.data == NULL:
        return True
    for k in range(2):
        x = u if k == 0 else v
        lo[k] = x.data + ((iu if k == 0 else iv)
                          * (min(0, (x.n0 - 1) * x.s0) + min(0, (x.n1 - 1) * x.s1)))
        hi[k] = x.data + ((iu if k == 0 else iv)
                          * (max(0, (x.n0 - 1) * x.s0) + max(0, (x.n1 - 1) * x.s1) + 1))
    return hi[0] <= lo[1] or hi[1] <= lo[0]


cdef inline bint _overlaps(const View2* out, const View2* x, Py_ssize_t itemsize) noexcept:
    """Whether 1-d `out` and `x` share memory other than element for element."""
    if out.data != NULL and out.data == x.data and out.s0 == x.s0 and out.n0 == x.n0:
        return False
    return not _disjoint(out, x, itemsize, itemsize)


cdef double _run(int loss, const Params* prm, int op, floating dtype_tag, object y_true,
                 object y_pred, object sample_weight, Py_ssize_t row_len, object loss_out,
                 object gradient_out, object hessian_out, double scale, int n_threads) except? -1:
    """Check lengths, strides and required outputs in O(1), then run the loops without the GIL."""
    cdef Arrays a
    cdef int t = cnp.NPY_DOUBLE if floating is double else cnp.NPY_FLOAT
    cdef View2 y = _view2(y_true, t, 1, b"y_true", False)
    cdef View2 p = _view2(y_pred, t, 1, b"y_pred", False)
    cdef View2 w = _view2(sample_weight, t, 1, b"sample_weight", False)
    cdef View2 lo = _view2(loss_out, t, 1, b"loss_out", True)
    cdef View2 g = _view2(gradient_out, t, 1, b"gradient_out", True)
    cdef View2 h = _view2(hessian_out, t, 1, b"hessian_out", True)
    cdef bint needs_g = op == OP_GRADIENT or op == OP_LOSS_GRADIENT or op == OP_GRADIENT_HESSIAN
    cdef double total
    cdef int flags = 0
    cdef View2* outs[3]
    cdef int k
    if not 0 <= op <= OP_WEIGHT_SUM:
        raise ValueError(f"unknown operation code {op}")
    if row_len < 1:
        raise ValueError("row_len must be >= 1")
    if _loss_only(loss) and op != OP_LOSS and op != OP_WEIGHT_SUM:
        raise ValueError("the metrics' kernels (proba_log_loss, the *_deviance ones, "
                         "squared_log_error, absolute_percentage_error, brier_labels and "
                         "hinge_labels) have the loss operation only")
    a.n = w.n0 * row_len if op == OP_WEIGHT_SUM else p.n0
    if a.n == 0:
        return 0.0
    if op != OP_WEIGHT_SUM and y.n0 != a.n:
        raise ValueError("y_true and y_pred must have the same number of elements")
    if w.data != NULL and w.n0 * row_len != a.n:
        raise ValueError("sample_weight must have one element per row_len elements")
    if needs_g and g.n0 != a.n:
        raise ValueError("gradient_out must be given, with one element per element of y_pred")
    if op == OP_GRADIENT_HESSIAN and h.n0 != a.n:
        raise ValueError("hessian_out must be given, with one element per element of y_pred")
    if lo.data != NULL and lo.n0 != a.n:
        raise ValueError("loss_out must have one element per element of y_pred")
    outs[0] = &lo; outs[1] = &g; outs[2] = &h
    for k in range(3):
        if _overlaps(outs[k], &y, sizeof(floating)) or _overlaps(outs[k], &p, sizeof(floating)) \
                or _overlaps(outs[k], &w, sizeof(floating)):
            raise OverlapError("an output shares memory with an input")
    a.row_len = row_len
    a.y = y.data
    a.sy = y.s0
    a.p = p.data
    a.sp = p.s0
    a.w = w.data
    a.sw = w.s0
    a.loss_out = lo.data if op == OP_LOSS or op == OP_LOSS_GRADIENT else NULL
    a.sl = lo.s0
    a.gradient_out = g.data if needs_g else NULL
    a.sg = g.s0
    a.hessian_out = h.data if op == OP_GRADIENT_HESSIAN else NULL
    a.sh = h.s0
    if a.n > GIL_FREE_ABOVE:
        with nogil:
            total = with_op(op, loss, prm, &a, <floating>scale, max(1, n_threads), &flags)
    else:  # releasing and taking back the GIL costs more than this much work
        total = with_op(op, loss, prm, &a, <floating>scale, 1, &flags)
    if flags & LABEL_INVALID or (flags & LABEL_ZERO and flags & LABEL_MINUS_ONE) \
            or _one_class(loss, prm, flags):
        raise LabelError(flags)
    return total


cdef inline bint _one_class(int loss, const Params* prm, int flags) noexcept:
    """Whether hinge_labels on the sets {0, 1} / {-1, 1} saw the positive label alone: one
    class, which scikit-learn's hinge_loss takes as the negative one (its LabelBinarizer)."""
    return loss == LOSS_HINGE_LABELS and prm.v[1] != prm.v[2] and not flags & LABEL_NEGATIVE


cdef object _group(int loss, const Params* prm, floating dtype_tag, object y_true,
                   object y_pred, object sample_weight, object groups, object acc,
                   object counts):
    """Check lengths, strides and overlaps in O(1), then add each element's w * loss to its
    group's accumulators (`grouped`) without the GIL."""
    cdef Arrays a
    cdef Groups gr
    cdef int t = cnp.NPY_DOUBLE if floating is double else cnp.NPY_FLOAT
    cdef View2 y = _view2(y_true, t, 1, b"y_true", False)
    cdef View2 p = _view2(y_pred, t, 1, b"y_pred", False)
    cdef View2 w = _view2(sample_weight, t, 1, b"sample_weight", False)
    cdef View2 ids = _view2(groups, cnp.NPY_INT64, 1, b"groups", False)
    cdef View2 sums = _view2(acc, cnp.NPY_DOUBLE, 2, b"acc", True)
    cdef View2 c = _view2(counts, cnp.NPY_INT64, 1, b"counts", True)
    cdef Py_ssize_t n = p.n0, n_groups = c.n0
    cdef int flags = 0
    cdef const View2* ins[4]
    cdef int k
    if y.n0 != n or ids.n0 != n or (w.data != NULL and w.n0 != n):
        raise ValueError("y_true, y_pred, sample_weight and groups must have one element each "
                         "per element")
    if n > 1 and ids.s0 != 1:
        raise ValueError("groups must be contiguous")
    if not _c_contiguous_like(&sums, 4, n_groups) or (n_groups > 1 and c.s0 != 1):
        raise ValueError("acc must be a C-contiguous (4, n_groups) array and counts a "
                         "contiguous (n_groups,) array")
    ins[0] = &y; ins[1] = &p; ins[2] = &w; ins[3] = &ids
    for k in range(4):
        if not (_disjoint(&sums, ins[k], 8, sizeof(floating) if k < 3 else 8)
                and _disjoint(&c, ins[k], 8, sizeof(floating) if k < 3 else 8)):
            raise OverlapError("an accumulator shares memory with an input")
    if not _disjoint(&sums, &c, 8, 8):
        raise OverlapError("acc and counts share memory")
    if n == 0:
        return None
    a.n = n
    a.row_len = 1
    a.y = y.data
    a.sy = y.s0
    a.p = p.data
    a.sp = p.s0
    a.w = w.data
    a.sw = w.s0
    a.loss_out = a.gradient_out = a.hessian_out = NULL
    a.sl = a.sg = a.sh = 1
    gr.ids = <const int64_t*>ids.data
    gr.n = n_groups
    gr.loss_hi = <double*>sums.data
    gr.loss_lo = gr.loss_hi + n_groups
    gr.weight_hi = gr.loss_lo + n_groups
    gr.weight_lo = gr.weight_hi + n_groups
    gr.count = <int64_t*>c.data
    gr.bad = -1
    a.groups = &gr
    if n > GIL_FREE_ABOVE:
        with nogil:
            with_op(OP_GROUPED_LOSS, loss, prm, &a, <floating>1, 1, &flags)
    else:
        with_op(OP_GROUPED_LOSS, loss, prm, &a, <floating>1, 1, &flags)
    if gr.bad >= 0:
        raise ValueError(f"groups[{gr.bad}] = {int(groups[gr.bad])} is outside "
                         f"[0, {n_groups})")
    if flags & LABEL_INVALID or (flags & LABEL_ZERO and flags & LABEL_MINUS_ONE):
        raise LabelError(flags)
    return None


def table_codes(keys, table, int64_t lo, out):
    """out[i] = table[keys[i] - lo] for the int64 arrays `keys` (contiguous), `table` and
    `out` (contiguous, as long as `keys`, written), in one pass without the GIL; -1 where
    keys[i] - lo falls outside the table.  Returns the count of -1 codes written (a table
    holds -1 for values it has no code for yet).  For `lossfuse score --by`: a batch's
    integer keys to group codes."""
    cdef View2 k = _view2(keys, cnp.NPY_INT64, 1, b"keys", False)
    cdef View2 t = _view2(table, cnp.NPY_INT64, 1, b"table", False)
    cdef View2 o = _view2(out, cnp.NPY_INT64, 1, b"out", True)
    cdef Py_ssize_t n = k.n0, m = t.n0, i, misses = 0
    cdef const int64_t* kp = <const int64_t*>k.data
    cdef const int64_t* tp = <const int64_t*>t.data
    cdef int64_t* op = <int64_t*>o.data
    cdef uint64_t at
    cdef int64_t c
    if o.n0 != n:
        raise ValueError("out must be as long as keys")
    if (n > 1 and (k.s0 != 1 or o.s0 != 1)) or (m > 1 and t.s0 != 1):
        raise ValueError("keys, table and out must be contiguous")
    if not (_disjoint(&o, &k, 8, 8) and _disjoint(&o, &t, 8, 8)):
        raise OverlapError("out shares memory with keys or table")
    with nogil:
        for i in range(n):
            at = <uint64_t>kp[i] - <uint64_t>lo
            c = tp[at] if at < <uint64_t>m else -1
            op[i] = c
            misses += c < 0
    return misses


cdef class LossKernel:
    """A loss (kernel id) with its parameters, run on 1-d float64 or float32 arrays.

    Private: the facade (`lossfuse.Loss`) validates and prepares the operands; this layer only
    checks what memory safety rests on.  `None` marks an absent operand.
    """
    cdef readonly int loss
    cdef readonly tuple params
    cdef Params prm

    def __cinit__(self, int loss, tuple params=()):
        cdef double power
        if not 0 <= loss < N_LOSSES:
            raise ValueError(f"unknown loss id {loss}")
        if len(params) > 4:
            raise ValueError("at most 4 parameters")
        self.loss = loss
        self.params = params
        for i in range(4):
            self.prm.v[i] = float(params[i]) if i < len(params) else 0.0
        if loss == LOSS_TWEEDIE or loss == LOSS_TWEEDIE_MEAN:
            power = self.prm.v[0]
            if not ((power < 0 or 1 < power != 2) and -INFINITY < power < INFINITY):
                raise ValueError("the tweedie kernels take a finite power < 0 or > 1, not 2 "
                                 "(power 0, 1 and 2 are the tweedie_normal, poisson and gamma "
                                 "kernels)")
            deviance_setup(&self.prm.dev, power)
        elif loss == LOSS_POISSON or loss == LOSS_POISSON_MEAN:
            deviance_setup(&self.prm.dev, 1.0)
        elif loss == LOSS_GAMMA or loss == LOSS_GAMMA_MEAN:
            deviance_setup(&self.prm.dev, 2.0)
        elif loss == LOSS_TWEEDIE_NORMAL:
            deviance_setup(&self.prm.dev, 0.0)

    def __repr__(self):
        return f"LossKernel({self.loss}, {self.params!r})"

    def run_float64(self, int op, y_true, y_pred, sample_weight, Py_ssize_t row_len,
                    loss_out, gradient_out, hessian_out, double scale, int n_threads):
        """Run operation `op` on 1-d float64 arrays (None where absent); return the sum of
        w * loss (of w for weight_sum) and write the outputs given."""
        return _run(self.loss, &self.prm, op, <double>0, y_true, y_pred, sample_weight, row_len,
                    loss_out, gradient_out, hessian_out, scale, n_threads)

    def run_float32(self, int op, y_true, y_pred, sample_weight, Py_ssize_t row_len,
                    loss_out, gradient_out, hessian_out, double scale, int n_threads):
        """As `run_float64`, on float32 arrays (sums still accumulate in float64)."""
        return _run(self.loss, &self.prm, op, <float>0, y_true, y_pred, sample_weight, row_len,
                    loss_out, gradient_out, hessian_out, scale, n_threads)

    def group_float64(self, y_true, y_pred, sample_weight, groups, acc, counts):
        """Add each element's w * loss (1-d float64 arrays; sample_weight None for none) to
        the accumulators of its group, ``groups[i]`` (int64, contiguous, in [0, n_groups)):
        ``acc`` (float64, C-contiguous, shape (4, n_groups): the loss sums as hi and lo rows,
        then the weight sums likewise; these untouched without weights) and ``counts``
        (int64, (n_groups,)).  One thread, in element order: call after call, the same
        elements give the same bits however they are split."""
        return _group(self.loss, &self.prm, <double>0, y_true, y_pred, sample_weight, groups,
                      acc, counts)

    def group_float32(self, y_true, y_pred, sample_weight, groups, acc, counts):
        """As `group_float64`, on float32 arrays (the sums still in float64)."""
        return _group(self.loss, &self.prm, <float>0, y_true, y_pred, sample_weight, groups,
                      acc, counts)


# ------------------------------------------------------------------------ cross_entropy
class TargetError(ValueError):
    """A cross_entropy target is invalid: a class index outside [0, K) (and not ignore_index)
    at row `index`, or a class probability outside [0, 1] at flat index `index` (row * K +
    class).  Raised before anything is written."""

    def __init__(self, index):
        super().__init__(f"invalid target at index {index}")
        self.index = index


cdef inline bint _c_contiguous_like(const View2* v, Py_ssize_t n, Py_ssize_t K) noexcept:
    return v.n0 == n and v.n1 == K and (n <= 1 or v.s0 == K) and (K <= 1 or v.s1 == 1) \
        and (v.data != NULL or n * K == 0)


cdef tuple _run_ce(floating dtype_tag, int op, object labels, object probabilities,
                   object y_pred, object sample_weight, object class_weight, bint has_ignore,
                   int64_t ignore_index, double label_smoothing, bint mean, object loss_out,
                   object gradient_out, object hessian_out, int n_threads):
    """Check shapes, strides and outputs in O(1), validate the targets (one pass over them,
    before anything is written), then run the row loops without the GIL."""
    cdef CrossEntropy a
    cdef int t = cnp.NPY_DOUBLE if floating is double else cnp.NPY_FLOAT
    cdef View2 p = _view2(y_pred, t, 2, b"y_pred", False)
    cdef View2 y = _view2(labels, cnp.NPY_INT64, 1, b"labels", False)
    cdef View2 qv = _view2(probabilities, t, 2, b"probabilities", False)
    cdef View2 w = _view2(sample_weight, t, 1, b"sample_weight", False)
    cdef View2 cwv = _view2(class_weight, t, 1, b"class_weight", False)
    cdef View2 lo = _view2(loss_out, t, 1, b"loss_out", True)
    cdef View2 g = _view2(gradient_out, t, 2, b"gradient_out", True)
    cdef View2 h = _view2(hessian_out, t, 2, b"hessian_out", True)
    cdef View2* ins[5]
    cdef View2* outs[3]
    cdef Py_ssize_t isz[5]
    cdef Py_ssize_t n = p.n0, K = p.n1
    cdef Py_ssize_t bad, j, k
    cdef double denominator = 0, total = 0, W = 0
    cdef int failed = 0
    cdef bint needs_g = op == OP_GRADIENT or op == OP_LOSS_GRADIENT or op == OP_GRADIENT_HESSIAN
    if not OP_LOSS <= op <= OP_GRADIENT_HESSIAN:
        raise ValueError(f"unknown operation code {op}")
    if y_pred is None:
        raise ValueError("y_pred must be given")
    if K < 1:
        raise ValueError("y_pred must have at least one class (column)")
    if (labels is None) == (probabilities is None):
        raise ValueError("give exactly one of labels and probabilities")
    if labels is not None and y.n0 != n:
        raise ValueError("labels must have one element per row of y_pred")
    if probabilities is not None and (qv.n0 != n or qv.n1 != K):
        raise ValueError("probabilities must have the shape of y_pred")
    if sample_weight is not None and w.n0 != n:
        raise ValueError("sample_weight must have one element per row of y_pred")
    if class_weight is None or cwv.n0 != K or (K > 1 and cwv.s0 != 1):
        raise ValueError("class_weight must be given, contiguous, with one element per class")
    if needs_g and not _c_contiguous_like(&g, n, K):
        raise ValueError("gradient_out must be given, C-contiguous, of the shape of y_pred")
    if op == OP_GRADIENT_HESSIAN and not _c_contiguous_like(&h, n, K):
        raise ValueError("hessian_out must be given, C-contiguous, of the shape of y_pred")
    if lo.data != NULL and lo.n0 != n:
        raise ValueError("loss_out must have one element per row of y_pred")
    ins[0] = &p; ins[1] = &y; ins[2] = &qv; ins[3] = &w; ins[4] = &cwv
    isz[0] = isz[2] = isz[3] = isz[4] = sizeof(floating)
    isz[1] = sizeof(int64_t)
    outs[0] = &lo; outs[1] = &g; outs[2] = &h
    for j in range(3):
        for k in range(5):
            if not _disjoint(outs[j], ins[k], sizeof(floating), isz[k]):
                raise OverlapError("an output shares memory with an input")
    if n == 0:
        return 0.0, 0.0
    a.unit_class_weight = True
    for k in range(K):
        W += (<const floating*>cwv.data)[k]
        a.unit_class_weight &= (<const floating*>cwv.data)[k] == 1
    a.n = n
    a.K = K
    a.p = p.data
    a.sp_row = p.s0
    a.sp_col = p.s1
    a.labels = <const int64_t*>y.data
    a.s_lab = y.s0
    a.q = qv.data
    a.sq_row = qv.s0
    a.sq_col = qv.s1
    a.w = w.data
    a.sw = w.s0
    a.cw = cwv.data
    a.W = W
    a.eps = label_smoothing
    a.has_ignore = has_ignore
    a.ignore_index = ignore_index
    a.loss_out = lo.data if op == OP_LOSS or op == OP_LOSS_GRADIENT else NULL
    a.sl = lo.s0
    a.gradient_out = g.data if needs_g else NULL
    a.hessian_out = h.data if op == OP_GRADIENT_HESSIAN else NULL
    if n * K > GIL_FREE_ABOVE:
        with nogil:
            bad = ce_check(&a, dtype_tag, &denominator)
    else:
        bad = ce_check(&a, dtype_tag, &denominator)
    if bad >= 0:
        raise TargetError(bad)
    if mean and denominator == 0:
        raise ValueError("reduction='mean' with a total weight of zero (every row ignored, or "
                         "weights that sum to zero)")
    scale = 1.0 / denominator if mean else 1.0
    if n * K > GIL_FREE_ABOVE:
        with nogil:
            total = ce_with_op(op, &a, <floating>scale, max(1, n_threads), &failed)
    else:
        total = ce_with_op(op, &a, <floating>scale, 1, &failed)
    if failed:
        raise MemoryError("cross_entropy: no memory for the row buffers")
    return total, denominator


cdef class CrossEntropyKernel:
    """Softmax cross-entropy over logits (n, K), run on NumPy arrays.

    Private: the facade (`lossfuse.Loss`) validates and prepares the operands (class indices as
    int64, class weights always given); this layer checks what memory safety rests on, and the
    targets, before anything is written.
    """
    cdef readonly bint has_ignore
    cdef readonly int64_t ignore_index
    cdef readonly double label_smoothing

    def __cinit__(self, ignore_index=None, double label_smoothing=0.0):
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError("label_smoothing must be in [0, 1]")
        self.has_ignore = ignore_index is not None
        self.ignore_index = 0 if ignore_index is None else ignore_index
        self.label_smoothing = label_smoothing

    def run_float64(self, int op, labels, probabilities, y_pred, sample_weight, class_weight,
                    bint mean, loss_out, gradient_out, hessian_out, int n_threads):
        """Run operation `op` (not weight_sum) on float64 logits; return (sum of the weighted
        row losses, denominator of the mean) and write the outputs given (scaled by
        1 / denominator when `mean`)."""
        return _run_ce(<double>0, op, labels, probabilities, y_pred, sample_weight,
                       class_weight, self.has_ignore, self.ignore_index, self.label_smoothing,
                       mean, loss_out, gradient_out, hessian_out, n_threads)

    def run_float32(self, int op, labels, probabilities, y_pred, sample_weight, class_weight,
                    bint mean, loss_out, gradient_out, hessian_out, int n_threads):
        """As `run_float64`, on float32 logits (sums still accumulate in float64)."""
        return _run_ce(<float>0, op, labels, probabilities, y_pred, sample_weight,
                       class_weight, self.has_ignore, self.ignore_index, self.label_smoothing,
                       mean, loss_out, gradient_out, hessian_out, n_threads)


# ----------------------------------------------------------------- multiclass row metrics
cdef double _run_rows(int kind, floating dtype_tag, object labels, object y_pred,
                      object sample_weight, int n_threads, bint check, double tol,
                      uint64_t* seen, int* flags) except? -1:
    """Check shapes and strides in O(1), then run the row loops (rows.pxi) without the GIL;
    `check`: a checked run, its classes seen and flags to `seen` and `flags`."""
    cdef RowsArgs a
    cdef int t = cnp.NPY_DOUBLE if floating is double else cnp.NPY_FLOAT
    cdef View2 p = _view2(y_pred, t, 2, b"y_pred", False)
    cdef View2 y = _view2(labels, cnp.NPY_INT64, 1, b"labels", False)
    cdef View2 w = _view2(sample_weight, t, 1, b"sample_weight", False)
    cdef Py_ssize_t bad = -1
    cdef double total
    if y_pred is None or labels is None:
        raise ValueError("labels and y_pred must be given")
    if y.n0 != p.n0 or (sample_weight is not None and w.n0 != p.n0):
        raise ValueError("labels and sample_weight must have one element per row of y_pred")
    if p.n0 == 0:
        return 0.0
    if p.n1 < 1:
        raise ValueError("y_pred must have at least one class (column)")
    a.kind = kind
    a.n = p.n0
    a.K = p.n1
    a.p = p.data
    a.s0 = p.s0
    a.s1 = p.s1
    a.y = <const int64_t*>y.data
    a.sy = y.s0
    a.w = w.data
    a.sw = w.s0
    a.check = check
    a.tol = tol
    if a.n * a.K > GIL_FREE_ABOVE:
        with nogil:
            total = rows_drive(&a, <const floating*>NULL, max(1, n_threads), &bad, seen, flags)
    else:
        total = rows_drive(&a, <const floating*>NULL, 1, &bad, seen, flags)
    if bad >= 0:
        raise TargetError(bad)
    return total


cdef class RowsKernel:
    """A row metric (`ROW_METRICS`: the multiclass hinge loss, the multiclass Brier score) of
    (n, K) scores or probabilities with a class index per row (int64), run on NumPy arrays.

    Private: the facade (lossfuse.metrics) validates and prepares the operands; this layer
    checks what memory safety rests on, and the class indices (`TargetError`: the first row
    whose index is outside [0, K)).
    """
    cdef readonly int kind

    def __cinit__(self, int kind):
        if kind != ROWS_HINGE and kind != ROWS_BRIER:
            raise ValueError(f"unknown row metric {kind}")
        self.kind = kind

    def __repr__(self):
        return f"RowsKernel({self.kind})"

    def run_float64(self, labels, y_pred, sample_weight, int n_threads):
        """The sum over the rows of float64 `y_pred` (n, K) of w * the row's loss (w = 1 when
        `sample_weight` is None), the row's class given by `labels` (int64, (n,))."""
        cdef uint64_t seen
        cdef int flags
        return _run_rows(self.kind, <double>0, labels, y_pred, sample_weight, n_threads, False,
                         0.0, &seen, &flags)

    def run_float32(self, labels, y_pred, sample_weight, int n_threads):
        """As `run_float64`, on float32 `y_pred` and weights (the row losses in float32, as
        scikit-learn computes them; the sum in float64)."""
        cdef uint64_t seen
        cdef int flags
        return _run_rows(self.kind, <float>0, labels, y_pred, sample_weight, n_threads, False,
                         0.0, &seen, &flags)

    def run_checked_float64(self, labels, y_pred, sample_weight, int n_threads, double tol):
        """`run_float64` for a short path: the sum, or None unless the class indices are
        0 .. K-1, each present (K <= 64), and, for the Brier score, every probability lies in
        [0, 1] and every row sums to within `tol` of 1 (in float64, in order)."""
        return _run_rows_checked(self.kind, <double>0, labels, y_pred, sample_weight,
                                 n_threads, tol)

    def run_checked_float32(self, labels, y_pred, sample_weight, int n_threads, double tol):
        """As `run_checked_float64`, on float32 `y_pred` and weights."""
        return _run_rows_checked(self.kind, <float>0, labels, y_pred, sample_weight,
                                 n_threads, tol)


cdef object _run_rows_checked(int kind, floating dtype_tag, object labels, object y_pred,
                              object sample_weight, int n_threads, double tol):
    """A checked run (`RowsKernel.run_checked_float64`): the sum, or None."""
    cdef uint64_t seen
    cdef int flags
    try:
        total = _run_rows(kind, dtype_tag, labels, y_pred, sample_weight, n_threads, True, tol,
                          &seen, &flags)
    except TargetError:
        return None
    return total if _rows_passed(y_pred, seen, flags) else None


cdef bint _rows_passed(object y_pred, uint64_t seen, int flags):
    """Whether a checked run of (n, K) `y_pred` (n > 0) saw every class 0 .. K-1 (K <= 64)
    and raised no flag."""
    cdef Py_ssize_t K = y_pred.shape[1]
    if flags != 0 or K > 64 or K < 1 or y_pred.shape[0] == 0:
        return False
    return seen == (<uint64_t>0xFFFFFFFFFFFFFFFF >> (64 - K))
