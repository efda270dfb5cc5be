# Stubs for the compiled kernel module (the same API for _baseline and _avx2).
# Private to lossfuse: the facade (lossfuse.Loss) validates and prepares operands.
from typing import Dict, Optional, Tuple

import numpy as np

ISA: str                                   # instruction set compiled for: "sse2", "avx2", ...
PARALLEL_MIN: int                          # elements from which a call has two chunks
OPERATIONS: Dict[str, int]                 # operation name -> code
LOSSES: Dict[str, Tuple[int, Tuple[str, ...]]]   # loss name -> (kernel id, parameter names)
LABEL_FLAGS: Dict[str, int]                # label-check bit names -> bits (LabelError.flags)

class MisalignedError(ValueError): ...
class OverlapError(ValueError): ...
class TargetError(ValueError):
    index: int                             # row (class indices) or row * K + class
    def __init__(self, index: int) -> None: ...
class LabelError(ValueError):
    flags: int
    def __init__(self, flags: int) -> None: ...

def cpu_has_avx2_fma() -> bool: ...
def cpu_has_avx512() -> bool: ...

class LossKernel:
    loss: int
    params: tuple
    def __init__(self, loss: int, params: tuple = ...) -> None: ...
    def run_float64(
        self,
        op: int,
        y_true: Optional[np.ndarray],        # const float64[n]
        y_pred: Optional[np.ndarray],        # const float64[n]
        sample_weight: Optional[np.ndarray], # const float64[n // row_len]
        row_len: int,
        loss_out: Optional[np.ndarray],      # float64[n], written
        gradient_out: Optional[np.ndarray],  # float64[n], written
        hessian_out: Optional[np.ndarray],   # float64[n], written
        scale: float,
        n_threads: int,
    ) -> float: ...
    def run_float32(
        self,
        op: int,
        y_true: Optional[np.ndarray],        # const float32[n]
        y_pred: Optional[np.ndarray],        # const float32[n]
        sample_weight: Optional[np.ndarray], # const float32[n // row_len]
        row_len: int,
        loss_out: Optional[np.ndarray],      # float32[n], written
        gradient_out: Optional[np.ndarray],  # float32[n], written
        hessian_out: Optional[np.ndarray],   # float32[n], written
        scale: float,
        n_threads: int,
    ) -> float: ...


class CrossEntropyKernel:
    has_ignore: bool
    ignore_index: int
    label_smoothing: float
    def __init__(self, ignore_index: Optional[int] = ..., label_smoothing: float = ...) -> None: ...
    def run_float64(
        self,
        op: int,                             # not weight_sum
        labels: Optional[np.ndarray],        # const int64[n] -- or
        probabilities: Optional[np.ndarray], # const float64[n, K]
        y_pred: np.ndarray,                  # const float64[n, K], any strides
        sample_weight: Optional[np.ndarray], # const float64[n]
        class_weight: np.ndarray,            # const float64[K], contiguous
        mean: bool,
        loss_out: Optional[np.ndarray],      # float64[n], written
        gradient_out: Optional[np.ndarray],  # float64[n, K], C-contiguous, written
        hessian_out: Optional[np.ndarray],   # float64[n, K], C-contiguous, written
        n_threads: int,
    ) -> Tuple[float, float]: ...            # (weighted sum of row losses, mean denominator)
    def run_float32(
        self,
        op: int,
        labels: Optional[np.ndarray],        # const int64[n]
        probabilities: Optional[np.ndarray], # const float32[n, K]
        y_pred: np.ndarray,                  # const float32[n, K]
        sample_weight: Optional[np.ndarray], # const float32[n]
        class_weight: np.ndarray,            # const float32[K]
        mean: bool,
        loss_out: Optional[np.ndarray],
        gradient_out: Optional[np.ndarray],
        hessian_out: Optional[np.ndarray],
        n_threads: int,
    ) -> Tuple[float, float]: ...
