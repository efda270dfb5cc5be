# The Python-facing entry points of a kernel module: `LossKernel` (a loss id with its
# parameters) and its `run_float64` / `run_float32`, which take typed memoryviews, check in
# O(1) what memory safety rests on, release the GIL and call the loops.

cdef enum:
    LOSS_SQUARED_ERROR = 0
    LOSS_ABSOLUTE_ERROR = 1
    LOSS_HUBER = 2
    LOSS_SMOOTH_L1 = 3
    LOSS_PSEUDO_HUBER = 4
    LOSS_LOG_COSH = 5
    LOSS_PINBALL = 6
    N_LOSSES = 7

# Kernel ids by canonical loss name, with the parameter names each kernel reads, in order.
LOSSES = {
    "squared_error": (LOSS_SQUARED_ERROR, ()),
    "absolute_error": (LOSS_ABSOLUTE_ERROR, ()),
    "huber": (LOSS_HUBER, ("delta",)),
    "smooth_l1": (LOSS_SMOOTH_L1, ("beta",)),
    "pseudo_huber": (LOSS_PSEUDO_HUBER, ("delta",)),
    "log_cosh": (LOSS_LOG_COSH, ()),
    "pinball": (LOSS_PINBALL, ("alpha",)),
}

cdef extern from *:
    """
    #if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    static int lossfuse_cpu_has_avx2_fma(void) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    #else
    static int lossfuse_cpu_has_avx2_fma(void) { return 0; }
    #endif
    #if defined(__AVX2__)
    #define LOSSFUSE_ISA "avx2"
    #elif defined(__x86_64__)
    #define LOSSFUSE_ISA "sse2"
    #elif defined(__aarch64__)
    #define LOSSFUSE_ISA "neon"
    #else
    #define LOSSFUSE_ISA "generic"
    #endif
    #ifdef _OPENMP
    #define LOSSFUSE_OPENMP 1
    #else
    #define LOSSFUSE_OPENMP 0
    #endif
    """
    int lossfuse_cpu_has_avx2_fma() noexcept nogil
    const char* LOSSFUSE_ISA
    int LOSSFUSE_OPENMP

ISA = LOSSFUSE_ISA.decode()   # the instruction set this module was compiled for
OPENMP = bool(LOSSFUSE_OPENMP)


def cpu_has_avx2_fma():
    """True when the running CPU (and OS) support AVX2 and FMA."""
    return bool(lossfuse_cpu_has_avx2_fma())


cdef struct RawView:
    char* data           # NULL when absent or empty
    Py_ssize_t n
    Py_ssize_t stride    # in elements


cdef RawView _raw(const floating[:] v, const char* name) except *:
    cdef RawView r
    r.data = NULL
    r.n = 0
    r.stride = 1
    if v is not None and v.shape[0] > 0:
        r.data = <char*>&v[0]
        r.n = v.shape[0]
        if v.strides[0] % <Py_ssize_t>sizeof(floating) or (<size_t>r.data) % sizeof(floating):
            raise ValueError(f"{name.decode()} is not aligned to its itemsize")
        r.stride = v.strides[0] // <Py_ssize_t>sizeof(floating)
    return r


cdef double _run(int loss, const double* prm, int op, const floating[:] y_true,
                 const floating[:] y_pred, const floating[:] sample_weight, Py_ssize_t row_len,
                 floating[:] loss_out, floating[:] gradient_out, floating[:] hessian_out,
                 double scale, int n_threads) except? -1:
    """Check lengths, strides and required outputs in O(1), then run the loops without the GIL."""
    cdef Arrays a
    cdef RawView y = _raw(y_true, b"y_true"), p = _raw(y_pred, b"y_pred")
    cdef RawView w = _raw(sample_weight, b"sample_weight")
    cdef RawView lo = _raw(loss_out, b"loss_out"), g = _raw(gradient_out, b"gradient_out")
    cdef RawView h = _raw(hessian_out, b"hessian_out")
    cdef bint needs_g = op == OP_GRADIENT or op == OP_LOSS_GRADIENT or op == OP_GRADIENT_HESSIAN
    cdef double total
    if not 0 <= op <= OP_WEIGHT_SUM:
        raise ValueError(f"unknown operation code {op}")
    if row_len < 1:
        raise ValueError("row_len must be >= 1")
    a.n = w.n * row_len if op == OP_WEIGHT_SUM else p.n
    if a.n == 0:
        return 0.0
    if op != OP_WEIGHT_SUM and y.n != a.n:
        raise ValueError("y_true and y_pred must have the same number of elements")
    if w.data != NULL and w.n * row_len != a.n:
        raise ValueError("sample_weight must have one element per row_len elements")
    if needs_g and g.n != a.n:
        raise ValueError("gradient_out must be given, with one element per element of y_pred")
    if op == OP_GRADIENT_HESSIAN and h.n != a.n:
        raise ValueError("hessian_out must be given, with one element per element of y_pred")
    if lo.data != NULL and lo.n != a.n:
        raise ValueError("loss_out must have one element per element of y_pred")
    a.row_len = row_len
    a.y = y.data
    a.sy = y.stride
    a.p = p.data
    a.sp = p.stride
    a.w = w.data
    a.sw = w.stride
    a.loss_out = lo.data if op == OP_LOSS or op == OP_LOSS_GRADIENT else NULL
    a.sl = lo.stride
    a.gradient_out = g.data if needs_g else NULL
    a.sg = g.stride
    a.hessian_out = h.data if op == OP_GRADIENT_HESSIAN else NULL
    a.sh = h.stride
    a.contiguous = (a.sy == 1 and a.sp == 1 and a.sw == 1 and a.sg == 1 and a.sh == 1)
    with nogil:
        total = with_op(op, loss, prm, &a, <floating>scale, max(1, n_threads))
    return total


cdef class LossKernel:
    """A loss (kernel id) with its parameters, run on float64 or float32 memoryviews.

    Private: the facade (`lossfuse.Loss`) validates and prepares the operands; this layer only
    checks what memory safety rests on.  `None` marks an absent operand.
    """
    cdef readonly int loss
    cdef readonly tuple params
    cdef double prm[4]

    def __cinit__(self, int loss, tuple params=()):
        if not 0 <= loss < N_LOSSES:
            raise ValueError(f"unknown loss id {loss}")
        if len(params) > 4:
            raise ValueError("at most 4 parameters")
        self.loss = loss
        self.params = params
        for i in range(4):
            self.prm[i] = float(params[i]) if i < len(params) else 0.0

    def __repr__(self):
        return f"LossKernel({self.loss}, {self.params!r})"

    def run_float64(self, int op, const double[:] y_true, const double[:] y_pred,
                    const double[:] sample_weight, Py_ssize_t row_len, double[:] loss_out,
                    double[:] gradient_out, double[:] hessian_out, double scale, int n_threads):
        """Run operation `op`; return the sum of w * loss (of w for weight_sum)."""
        return _run(self.loss, self.prm, op, y_true, y_pred, sample_weight, row_len,
                    loss_out, gradient_out, hessian_out, scale, n_threads)

    def run_float32(self, int op, const float[:] y_true, const float[:] y_pred,
                    const float[:] sample_weight, Py_ssize_t row_len, float[:] loss_out,
                    float[:] gradient_out, float[:] hessian_out, double scale, int n_threads):
        """As `run_float64`, on float32 operands (sums still accumulate in float64)."""
        return _run(self.loss, self.prm, op, y_true, y_pred, sample_weight, row_len,
                    loss_out, gradient_out, hessian_out, scale, n_threads)
