# Stubs for the compiled kernel modules (_baseline, and _avx2 / _avx512, which re-export these:
# the same API, built for wider instruction sets).  Private to lossfuse: the facade
# (lossfuse.Loss) validates and prepares every operand; this layer checks only what memory
# safety rests on.  Each operand's C type is kept as a comment, as pandas' _libs stubs do: the
# facade picks run_float64 or run_float32 by a dtype known at run time only.
from typing import Any, Dict, Optional, Tuple

from numpy.typing import NDArray
from typing_extensions import Self, disjoint_base

ISA: str                                   # instruction set compiled for: "sse2", "avx2", ...
COMPILER: str                              # the C compiler that built it, with its version
CYTHON_VERSION: str                        # the Cython that generated its C: "3.3.1"
GIT_COMMIT: str                            # the commit of the sources built ("": unknown)
PARALLEL_MIN: int                          # elements from which a call has two chunks
OPERATIONS: Dict[str, int]                 # operation name -> code
LOSSES: Dict[str, Tuple[int, Tuple[str, ...]]]   # loss name -> (kernel id, parameter names)
LABEL_FLAGS: Dict[str, int]                # label-check bit names -> bits (LabelError.flags)
ROW_METRICS: Dict[str, int]                # row metric name -> RowsKernel kind

class MisalignedError(ValueError): ...
class OverlapError(ValueError): ...

class TargetError(ValueError):
    index: int                             # row (class indices) or row * K + class
    def __init__(self, index: int) -> None: ...

class LabelError(ValueError):
    flags: int                             # OR of the LABEL_FLAGS bits of the elements
    def __init__(self, flags: int) -> None: ...

def cpu_has_avx2_fma() -> bool: ...
def cpu_has_avx512() -> bool: ...

_Array = NDArray[Any]
_F64 = Optional[_Array]                    # a float64 array, or None where absent
_F32 = Optional[_Array]                    # a float32 array, or None where absent

def table_codes(keys: _Array, table: _Array, lo: int, out: _Array) -> int: ...
# out[i] = table[keys[i] - lo] (int64), -1 outside the table; returns the count of -1s

_Moments = Tuple[float, float, float, float, float, float, float, float]
# r2_score / explained_variance_score: (W, U, UU, DD, E, EE, K, Ke), the float64 sums of w,
# w u, w u^2, w d^2, w e, w e^2 with u = y - K, d = y - p, e = d - Ke (NaN K, Ke: chosen;
# E, EE only with residuals)
def moments_float64(y_true: _Array, y_pred: _Array, sample_weight: _F64, K: float,
                    Ke: float, residuals: bool, n_threads: int) -> _Moments: ...
def moments_float32(y_true: _Array, y_pred: _Array, sample_weight: _F32, K: float,
                    Ke: float, residuals: bool, n_threads: int) -> _Moments: ...
# max_error: the largest |y - p| (in the dtype); NaN if one is NaN or infinite
def max_abs_error_float64(y_true: _Array, y_pred: _Array, n_threads: int) -> float: ...
def max_abs_error_float32(y_true: _Array, y_pred: _Array, n_threads: int) -> float: ...

@disjoint_base
class LossKernel:
    # __cinit__(int loss, tuple params=())
    def __new__(cls, loss: int, params: Tuple[float, ...] = ()) -> Self: ...
    @property
    def loss(self) -> int: ...             # cdef readonly int
    @property
    def params(self) -> Tuple[float, ...]: ...   # cdef readonly tuple
    def run_float64(
        self,
        op: int,
        y_true: _F64,                      # const float64[n]
        y_pred: _F64,                      # const float64[n]
        sample_weight: _F64,               # const float64[n // row_len]
        row_len: int,                      # Py_ssize_t
        loss_out: _F64,                    # float64[n], written
        gradient_out: _F64,                # float64[n], written
        hessian_out: _F64,                 # float64[n], written
        scale: float,                      # double
        n_threads: int,
    ) -> float: ...                        # sum of w * loss (of w for weight_sum)
    def run_float32(
        self,
        op: int,
        y_true: _F32,                      # const float32[n]
        y_pred: _F32,                      # const float32[n]
        sample_weight: _F32,               # const float32[n // row_len]
        row_len: int,
        loss_out: _F32,                    # float32[n], written
        gradient_out: _F32,                # float32[n], written
        hessian_out: _F32,                 # float32[n], written
        scale: float,
        n_threads: int,
    ) -> float: ...                        # accumulated in float64
    def group_float64(
        self,
        y_true: _Array,                    # const float64[n]
        y_pred: _Array,                    # const float64[n]
        sample_weight: _F64,               # const float64[n]
        groups: _Array,                    # const int64[n], contiguous, in [0, G)
        acc: _Array,                       # float64[4, G], C-contiguous, added to
        counts: _Array,                    # int64[G], contiguous, added to
    ) -> None: ...
    def group_float32(
        self,
        y_true: _Array,                    # const float32[n]
        y_pred: _Array,                    # const float32[n]
        sample_weight: _F32,               # const float32[n]
        groups: _Array,                    # const int64[n]
        acc: _Array,                       # float64[4, G]
        counts: _Array,                    # int64[G]
    ) -> None: ...

@disjoint_base
class CrossEntropyKernel:
    # __cinit__(ignore_index=None, double label_smoothing=0.0)
    def __new__(cls, ignore_index: Optional[int] = None, label_smoothing: float = 0.0) -> Self: ...
    @property
    def has_ignore(self) -> bool: ...      # cdef readonly bint
    @property
    def ignore_index(self) -> int: ...     # cdef readonly int64_t
    @property
    def label_smoothing(self) -> float: ...   # cdef readonly double
    def run_float64(
        self,
        op: int,                           # not weight_sum
        labels: Optional[_Array],          # const int64[n] -- or
        probabilities: _F64,               # const float64[n, K]
        y_pred: _Array,                    # const float64[n, K], any strides
        sample_weight: _F64,               # const float64[n]
        class_weight: _Array,              # const float64[K], contiguous
        mean: bool,                        # bint
        loss_out: _F64,                    # float64[n], written
        gradient_out: _F64,                # float64[n, K], C-contiguous, written
        hessian_out: _F64,                 # float64[n, K], C-contiguous, written
        n_threads: int,
    ) -> Tuple[float, float]: ...          # (weighted sum of row losses, mean denominator)
    def run_float32(
        self,
        op: int,
        labels: Optional[_Array],          # const int64[n]
        probabilities: _F32,               # const float32[n, K]
        y_pred: _Array,                    # const float32[n, K]
        sample_weight: _F32,               # const float32[n]
        class_weight: _Array,              # const float32[K]
        mean: bool,
        loss_out: _F32,
        gradient_out: _F32,
        hessian_out: _F32,
        n_threads: int,
    ) -> Tuple[float, float]: ...

@disjoint_base
class RowsKernel:
    # __cinit__(int kind): a value of ROW_METRICS
    def __new__(cls, kind: int) -> Self: ...
    @property
    def kind(self) -> int: ...             # cdef readonly int
    def run_float64(
        self,
        labels: _Array,                    # const int64[n], class indices (TargetError if not in [0, K))
        y_pred: _Array,                    # const float64[n, K], any strides
        sample_weight: _F64,               # const float64[n]
        n_threads: int,
    ) -> float: ...                        # sum of w * row loss
    def run_float32(
        self,
        labels: _Array,                    # const int64[n]
        y_pred: _Array,                    # const float32[n, K]
        sample_weight: _F32,               # const float32[n]
        n_threads: int,
    ) -> float: ...                        # accumulated in float64
    def run_checked_float64(
        self,
        labels: _Array,                    # const int64[n]
        y_pred: _Array,                    # const float64[n, K]
        sample_weight: _F64,               # const float64[n]
        n_threads: int,
        tol: float,                        # Brier: a row's sum within tol of 1
    ) -> Optional[float]: ...              # None: a class missing or out of [0, K), K > 64, a flag
    def run_checked_float32(
        self,
        labels: _Array,                    # const int64[n]
        y_pred: _Array,                    # const float32[n, K]
        sample_weight: _F32,               # const float32[n]
        n_threads: int,
        tol: float,
    ) -> Optional[float]: ...
