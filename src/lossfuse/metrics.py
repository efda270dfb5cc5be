"""scikit-learn's regression metrics on the lossfuse kernels: same names, signatures, defaults
and results (to floating-point rounding), one pass over the data, microseconds per call.

>>> from lossfuse import metrics
>>> metrics.mean_squared_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
0.375
>>> metrics.mean_absolute_error([[0.5, 1], [-1, 1], [7, -6]], [[0, 2], [-1, 2], [8, -5]],
...                             multioutput="raw_values")
array([0.5, 1. ])

Inputs are checked as scikit-learn checks them, and wrong input gets the exception
scikit-learn raises, with its message.  The one difference in approach: finiteness is checked
only when the result is not finite (a NaN or infinity in any input makes it so), so the common
call reads its inputs once.  scikit-learn is never imported.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Optional

import numpy as np

from ._api import _ALL_THREADS
from ._kernels import kernels as _kernels

__all__ = ["InvalidParameterError", "mean_absolute_error", "mean_pinball_loss",
           "mean_squared_error", "root_mean_squared_error"]

_F64 = np.dtype(np.float64)
_F32 = np.dtype(np.float32)
_OP_LOSS = _kernels.OPERATIONS["loss"]
_MULTIOUTPUT = ("raw_values", "uniform_average")


class InvalidParameterError(ValueError, TypeError):
    """A parameter of the wrong type or value (scikit-learn's exception of that name: both a
    ValueError and a TypeError)."""


_KERNELS: dict = {}


def _kernel(name: str, *params: float):
    """The LossKernel of kernel `name` with `params` (cached)."""
    key = (name, params)
    k = _KERNELS.get(key)
    if k is None:
        if len(_KERNELS) > 256:          # many parameter values: keep the cache small
            _KERNELS.clear()
        k = _KERNELS[key] = _kernels.LossKernel(_kernels.LOSSES[name][0], params)
    return k


# --------------------------------------------------------------------------- input checks
def _array_like(fname: str, name: str, x: Any, none_ok: bool = False) -> None:
    """scikit-learn's `validate_params` for "array-like" (and None when `none_ok`)."""
    if x is None and none_ok:
        return
    if np.isscalar(x) or not (hasattr(x, "__len__") or hasattr(x, "shape")
                              or hasattr(x, "__array__")):
        extra = " or None" if none_ok else ""
        raise InvalidParameterError(f"The {name!r} parameter of {fname} must be an array-like"
                                    f"{extra}. Got {x!r} instead.")


def _check_multioutput_param(fname: str, multioutput: Any) -> None:
    try:
        if isinstance(multioutput, str):
            ok = multioutput in _MULTIOUTPUT
        else:
            _array_like(fname, "multioutput", multioutput)
            ok = True
    except InvalidParameterError:
        ok = False
    if not ok:
        raise InvalidParameterError(
            f"The 'multioutput' parameter of {fname} must be a str among "
            f"{{'raw_values', 'uniform_average'}} or an array-like. Got {multioutput!r} "
            "instead.")


def _n_samples(x: Any) -> int:
    shape = getattr(x, "shape", None)
    if shape is not None:
        if not len(shape):
            raise TypeError(f"Singleton array {x!r} cannot be considered a valid collection.")
        return int(shape[0])
    return len(x)


def _floating_dtype(*arrays: Any) -> np.dtype:
    """scikit-learn's dtype for the computation: the widest floating dtype among the inputs
    that have one, else float64."""
    floats = [a.dtype for a in arrays
              if a is not None and getattr(a, "dtype", None) is not None
              and np.dtype(a.dtype).kind == "f"]
    dt = np.result_type(*floats) if floats else _F64
    return _F32 if dt.itemsize <= 4 else _F64


def _as_float_array(x: Any, dt: np.dtype) -> np.ndarray:
    """`x` as an array of `dt` (scikit-learn's `check_array` conversion, finiteness aside)."""
    if not hasattr(x, "dtype"):
        return np.asarray(x, dtype=dt)       # lists: Python's own conversion errors
    a = np.asarray(x)
    if a.dtype.kind == "c":
        raise ValueError("Complex data not supported\n{}\n".format(a))
    return a.astype(dt, copy=False)


def _check_2d(a: np.ndarray) -> np.ndarray:
    if a.ndim > 2:
        raise ValueError(f"Found array with dim {a.ndim}, while dim <= 2 is required.")
    if a.ndim == 0:
        raise ValueError(f"Expected 2D array, got scalar array instead:\narray={a}.")
    if a.shape[0] == 0:
        raise ValueError(f"Found array with 0 sample(s) (shape={a.shape}) while a minimum of "
                         "1 is required.")
    if a.ndim == 2 and a.shape[1] == 0:
        raise ValueError(f"Found array with 0 feature(s) (shape={a.shape}) while a minimum "
                         "of 1 is required.")
    return a.reshape(-1, 1) if a.ndim == 1 else a


def _check_finite(arrays) -> None:
    """scikit-learn's finiteness errors for the first (name, array) holding NaN or infinity."""
    for name, a in arrays:
        if a is None:
            continue
        what = "Input" if name is None else f"Input {name}"
        if np.isnan(a).any():
            raise ValueError(f"{what} contains NaN.")
        if np.isinf(a).any():
            raise ValueError(f"{what} contains infinity or a value too large for "
                             f"{a.dtype!r}.")


def _check_reg_targets(fname: str, y_true, y_pred, sample_weight, multioutput):
    """scikit-learn's `_check_reg_targets` (finiteness aside: see `_check_finite`):
    (y_true, y_pred) as 2-d arrays of one floating dtype, the weights, the output weights."""
    _array_like(fname, "y_true", y_true)
    _array_like(fname, "y_pred", y_pred)
    _array_like(fname, "sample_weight", sample_weight, none_ok=True)
    _check_multioutput_param(fname, multioutput)
    lengths = [_n_samples(y_true), _n_samples(y_pred)]
    if sample_weight is not None:
        lengths.append(_n_samples(sample_weight))
    if len(set(lengths)) > 1:
        raise ValueError("Found input variables with inconsistent numbers of samples: "
                         f"{lengths}")
    dt = _floating_dtype(y_true, y_pred, sample_weight)
    y = _check_2d(_as_float_array(y_true, dt))
    p = _check_2d(_as_float_array(y_pred, dt))
    w = None
    if sample_weight is not None:
        w = _as_float_array(sample_weight, dt)
        if w.ndim != 1:
            raise ValueError(f"Sample weights must be 1D array or scalar, got {w.ndim}D array. "
                             "Expected either a scalar value or a 1D array of length "
                             f"{y.shape[0]}.")
    if y.shape[1] != p.shape[1]:
        raise ValueError("y_true and y_pred have different number of output "
                         f"({y.shape[1]}!={p.shape[1]})")
    n_outputs = y.shape[1]
    if not isinstance(multioutput, str):
        # both a ValueError (scikit-learn's mean_squared_error) and a TypeError (its
        # root_mean_squared_error, where np.average refuses the weights)
        multioutput = np.asarray(multioutput, dtype=_F64)
        if n_outputs == 1:
            raise InvalidParameterError("Custom weights are useful only in multi-output "
                                        "cases.")
        if multioutput.ndim != 1 or multioutput.shape[0] != n_outputs:
            raise InvalidParameterError("There must be equally many custom weights "
                             f"({multioutput.shape[0] if multioutput.ndim else 1}) as "
                             f"outputs ({n_outputs}).")
    return y, p, w, multioutput


def _weight_sum(w: Optional[np.ndarray], n: int) -> float:
    """The denominator of the weighted mean over rows, with scikit-learn's errors."""
    if w is None:
        return float(n)
    total = float(np.sum(w, dtype=_F64))
    if total == 0 or not math.isfinite(total):
        _check_finite([("sample_weight", w)])
        if not np.any(w):
            raise ValueError("Sample weights must contain at least one non-zero number.")
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")
    return total


# -------------------------------------------------------------------------------- engine
def _regression(fname: str, kernel, y_true, y_pred, sample_weight, multioutput,
                root: bool = False):
    """The metric of `kernel` (a LossKernel), averaged as scikit-learn averages: over the rows
    (weighted by `sample_weight`), per output, then over the outputs (`multioutput`).  With
    `root`, the square root of each output's mean before the outputs are averaged."""
    total = _fast(kernel, y_true, y_pred, sample_weight, multioutput)
    if total is not None:
        return math.sqrt(total) if root else total
    y, p, w, multioutput = _check_reg_targets(fname, y_true, y_pred, sample_weight,
                                              multioutput)
    n, m = p.shape
    dt = p.dtype
    run = kernel.run_float64 if dt == _F64 else kernel.run_float32
    wsum = _weight_sum(w, n)
    if isinstance(multioutput, str) and multioutput == "uniform_average" and not root:
        # the mean over all outputs of the per-output means: one weighted mean over all
        # elements, rows weighted by w
        yf, pf = np.ascontiguousarray(y).reshape(-1), np.ascontiguousarray(p).reshape(-1)
        total = run(_OP_LOSS, yf, pf, w, m, None, None, None, 1.0, _ALL_THREADS) / (m * wsum)
        if not math.isfinite(total):
            _check_finite([(None, y), (None, p), ("sample_weight", w)])
        return float(total)
    errors = np.array([run(_OP_LOSS, y[:, j], p[:, j], w, 1, None, None, None, 1.0,
                           _ALL_THREADS) for j in range(m)]) / wsum
    if not np.isfinite(errors).all():
        _check_finite([(None, y), (None, p), ("sample_weight", w)])
    if root:
        errors = np.sqrt(errors)
    errors = errors.astype(dt)
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return errors
        multioutput = None
    return float(np.average(errors, weights=multioutput))


def _fast(kernel, y_true, y_pred, sample_weight, multioutput):
    """The short path of the common call -- 1-d NumPy arrays of one float dtype, no weights,
    multioutput="uniform_average" -- or None.  Finiteness is checked by the result: any NaN or
    infinity in an input makes it NaN or infinite, and then the full path decides."""
    if (type(y_pred) is np.ndarray and type(y_true) is np.ndarray and sample_weight is None
            and type(multioutput) is str and multioutput == "uniform_average"
            and y_pred.ndim == 1 and y_true.ndim == 1):
        dt = y_pred.dtype
        n = y_pred.shape[0]
        if y_true.dtype is dt and (dt is _F64 or dt is _F32) and y_true.shape[0] == n and n:
            total = (kernel.run_float64 if dt is _F64 else kernel.run_float32)(
                _OP_LOSS, y_true, y_pred, None, 1, None, None, None, 1.0, _ALL_THREADS) / n
            if math.isfinite(total):
                return total
    return None


_SQUARED = _kernel("squared_error")
_ABSOLUTE = _kernel("absolute_error")


# ------------------------------------------------------------------------------- metrics
def mean_squared_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    """Mean squared error regression loss (scikit-learn's ``mean_squared_error``).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
    sample_weight : array-like of shape (n_samples,), optional
    multioutput : {"raw_values", "uniform_average"} or array-like of shape (n_outputs,)
        "raw_values": one error per output; "uniform_average": their mean; weights: their
        weighted mean.

    Returns
    -------
    float, or ndarray of shape (n_outputs,) for "raw_values".

    >>> mean_squared_error([[0.5, 1], [-1, 1], [7, -6]], [[0, 2], [-1, 2], [8, -5]])
    0.7083333333333334
    """
    return _regression("mean_squared_error", _SQUARED, y_true, y_pred, sample_weight, multioutput)


def root_mean_squared_error(y_true, y_pred, *, sample_weight=None,
                            multioutput="uniform_average"):
    """Root mean squared error regression loss (scikit-learn's ``root_mean_squared_error``):
    the square root of each output's mean squared error, then averaged over the outputs as
    `multioutput` says (see :func:`mean_squared_error`).

    >>> root_mean_squared_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
    0.6123724356957945
    """
    return _regression("root_mean_squared_error", _SQUARED, y_true, y_pred, sample_weight,
                       multioutput, root=True)


def mean_absolute_error(y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"):
    """Mean absolute error regression loss (scikit-learn's ``mean_absolute_error``; the
    parameters and returns of :func:`mean_squared_error`).

    >>> mean_absolute_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
    0.5
    """
    return _regression("mean_absolute_error", _ABSOLUTE, y_true, y_pred, sample_weight, multioutput)


def mean_pinball_loss(y_true, y_pred, *, sample_weight=None, alpha=0.5,
                      multioutput="uniform_average"):
    """Pinball loss for quantile regression (scikit-learn's ``mean_pinball_loss``):
    ``alpha * max(y_true - y_pred, 0) + (1 - alpha) * max(y_pred - y_true, 0)``, averaged as
    in :func:`mean_squared_error`; `alpha` in [0, 1].

    >>> mean_pinball_loss([1, 2, 3], [0, 2, 3], alpha=0.1)
    0.03333333333333333
    """
    if not isinstance(alpha, numbers.Real) or not 0 <= alpha <= 1:
        raise InvalidParameterError("The 'alpha' parameter of mean_pinball_loss must be a "
                                    f"float in the range [0.0, 1.0]. Got {alpha!r} instead.")
    return _regression("mean_pinball_loss", _kernel("pinball", float(alpha)), y_true, y_pred,
                       sample_weight, multioutput)
