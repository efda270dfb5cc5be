"""scikit-learn's regression metrics, log_loss, brier_score_loss and hinge_loss on the
lossfuse kernels: same names, signatures, defaults and results (to floating-point rounding),
microseconds per call.  Every metric that is a sum (a mean error, a deviance, R^2, the
explained variance, the largest error, the Brier score, the hinge loss) is one pass over the
data; the median and the D^2 scores against a quantile add a selection (a quantile is an
order statistic, not a sum).

>>> from lossfuse import metrics
>>> metrics.mean_squared_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
0.375
>>> metrics.mean_absolute_error([[0.5, 1], [-1, 1], [7, -6]], [[0, 2], [-1, 2], [8, -5]],
...                             multioutput="raw_values")
array([0.5, 1. ])

Inputs are checked as scikit-learn checks them: what it refuses is refused with the same
exception (its message, or a clearer one), and what it takes gives its value.  Inputs come
in every array type lossfuse takes (lists, NumPy, pandas with nullable dtypes, xarray, CPU
tensors, ...); sparse matrices are refused, as scikit-learn's metrics refuse them.  The checks
cost a fraction of a pass: NaN and infinity are found by a float64 sum of each input (finite
only if every element is), and the regression losses, which are functions of
``y_pred - y_true``, need not even that -- their sum is finite only if every ``y_true`` and
``y_pred`` is.  Sample weights whose sums overflow (or underflow) float64 still give the
weighted mean they define (scikit-learn gives NaN there).  scikit-learn is never imported.
"""

from __future__ import annotations

import math
import numbers
import struct
import sys
import warnings
from collections.abc import Sequence
from typing import (Any, Callable, Dict, List, Literal, Optional, Tuple, Union, cast,
                    overload)

import numpy as np
from numpy.typing import ArrayLike

from ._api import (FloatArray, RealArrayLike, _aligned, _Array, _as_array, _DType,
                   _is_sparse, _mean_sums, _sums_sound, _Total)
from ._threads import resolve as _n_threads
from ._kernels import kernels as _kernels

__all__ = ["InvalidParameterError", "brier_score_loss", "explained_variance_score",
           "hinge_loss", "log_loss", "max_error",
           "mean_absolute_error",
           "mean_absolute_percentage_error", "mean_gamma_deviance", "mean_pinball_loss",
           "mean_poisson_deviance", "mean_squared_error", "mean_squared_log_error",
           "mean_tweedie_deviance", "r2_score", "root_mean_squared_error",
           "root_mean_squared_log_error", "median_absolute_error", "d2_pinball_score",
           "d2_absolute_error_score", "d2_tweedie_score", "UndefinedMetricWarning"]

_F64 = np.dtype(np.float64)
_F32 = np.dtype(np.float32)
_I64 = np.dtype(np.int64)
_OP_LOSS = _kernels.OPERATIONS["loss"]
_OP_WEIGHT_SUM = _kernels.OPERATIONS["weight_sum"]
_MULTIOUTPUT = ("raw_values", "uniform_average")


class InvalidParameterError(ValueError, TypeError):
    """A parameter of the wrong type or value.

    scikit-learn's exception of that name: both a ValueError and a TypeError.
    """


_KERNELS: Dict[Tuple[str, Tuple[float, ...]], _kernels.LossKernel] = {}
#: a kernel and the operands (y, p) to compute a metric's sums with instead
_Instead = Tuple[_kernels.LossKernel, _Array, _Array]
#: What ``multioutput`` may be besides "raw_values": "uniform_average", or a weight per output.
Averaged = Union[Literal["uniform_average"], RealArrayLike]


def _kernel(name: str, *params: float) -> _kernels.LossKernel:
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
    """scikit-learn's `validate_params` for "array-like" (and None when `none_ok`); a sparse
    matrix is not one."""
    if type(x) is np.ndarray or (x is None and none_ok):
        return
    extra = " or None" if none_ok else ""
    if _is_sparse(x):
        raise InvalidParameterError(f"The {name!r} parameter of {fname} must be an array-like"
                                    f"{extra}, not a sparse matrix: pass {name}.toarray().")
    if np.isscalar(x) or not (hasattr(x, "__len__") or hasattr(x, "shape")
                              or hasattr(x, "__array__")):
        raise InvalidParameterError(f"The {name!r} parameter of {fname} must be an array-like"
                                    f"{extra}. Got {x!r} instead.")


def _array(x: Any, name: str) -> _Array:
    """`x` as an array, by lossfuse's conversion of every input; np.matrix is refused, as
    scikit-learn refuses it."""
    if isinstance(x, np.matrix):
        raise TypeError(f"{name} is an np.matrix, which is not supported. Please convert to a "
                        "numpy array with np.asarray.")
    return _as_array(x, name)


def _check_multioutput_param(fname: str, multioutput: Any,
                             allowed: Tuple[str, ...] = _MULTIOUTPUT,
                             none_ok: bool = False) -> None:
    """scikit-learn's `validate_params` for `multioutput`: a str among `allowed`, an
    array-like, or (`none_ok`) None."""
    try:
        if isinstance(multioutput, str):
            ok = multioutput in allowed
        else:
            _array_like(fname, "multioutput", multioutput, none_ok)
            ok = True
    except InvalidParameterError:
        ok = False
    if not ok:
        among = ", ".join(repr(a) for a in allowed)
        raise InvalidParameterError(
            f"The 'multioutput' parameter of {fname} must be a str among {{{among}}}"
            f"{', an array-like or None' if none_ok else ' or an array-like'}. Got "
            f"{multioutput!r} instead.")


def _n_samples(x: Any) -> int:
    shape = getattr(x, "shape", None)
    if shape is not None:
        if not len(shape):
            raise TypeError(f"Singleton array {x!r} cannot be considered a valid collection.")
        return int(shape[0])
    return len(x)


def _floating_dtype(*inputs: Any) -> _DType:
    """scikit-learn's dtype for the computation: the widest floating dtype among the inputs
    (pairs: as given, as an array) that have a dtype, else float64; float16 computes in
    float32."""
    floats = [a.dtype for x, a in inputs
              if a is not None and hasattr(x, "dtype") and a.dtype.kind == "f"]
    dt = np.result_type(*floats) if floats else _F64
    return _F32 if dt.itemsize <= 4 else _F64


def _as_float(a: _Array, dt: _DType) -> _Array:
    """Array `a` as `dt` (scikit-learn's `check_array` conversion: strings of numbers too)."""
    if a.dtype.kind == "c":
        raise ValueError("Complex data not supported\n{}\n".format(a))
    try:
        return a.astype(dt, copy=False)
    except ValueError:
        if a.dtype.kind in "SU":         # Python's message, as for a list: "... float: 'a'"
            np.asarray(a.tolist(), dtype=dt)
        raise


def _check_shape(a: _Array) -> None:
    """scikit-learn's `check_array` shape errors for arrays that must be 1-d or 2-d, with at
    least one sample and one feature."""
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


_SUM = _kernel("squared_error")         # its weight_sum: a float64 sum of any float array


def _sum(a: _Array) -> float:
    """The sum of float32/float64 array `a`, accumulated in float64 by the kernels (one pass,
    no temporaries, no overflow warnings)."""
    flat = _aligned(np.ascontiguousarray(a).reshape(-1) if a.ndim != 1 else a)
    run = _SUM.run_float64 if a.dtype == _F64 else _SUM.run_float32
    return run(_OP_WEIGHT_SUM, None, None, flat, 1, None, None, None, 1.0, _n_threads(None))


def _check_finite(a: _Array, name: Optional[str] = None) -> None:
    """scikit-learn's errors for NaN or infinity in float array `a` (`name`, if given, is
    named).  A finite sum proves every element finite, so the common case costs one pass."""
    if math.isfinite(_sum(a)):
        return
    what = "Input" if name is None else f"Input {name}"
    if np.isnan(a).any():
        raise ValueError(f"{what} contains NaN.")
    if np.isinf(a).any():
        raise ValueError(f"{what} contains infinity or a value too large for {a.dtype!r}.")


def _check_lengths(*arrays: Any) -> None:
    """scikit-learn's `check_consistent_length` (None skipped)."""
    lengths = [_n_samples(a) for a in arrays if a is not None]
    if len(set(lengths)) > 1:
        raise ValueError("Found input variables with inconsistent numbers of samples: "
                         f"{lengths}")


def _sample_weight(w: Optional[_Array], dt: _DType, n: int,
                   numbers_only: bool = False) -> Optional[_Array]:
    """scikit-learn's `_check_sample_weight` of `w` (as an array): a 1-d array of `dt` (its
    length is checked by `_check_lengths`; finiteness and zeros by `_weight_sum`).
    `numbers_only`: strings and objects other than numbers are refused (log_loss, where
    scikit-learn averages with the weights as given) rather than converted."""
    if w is None:
        return None
    if numbers_only and w.dtype.kind in "OSUV" and (w.dtype.kind != "O" or any(
            v is None or isinstance(v, (str, bytes)) for v in w.flat)):
        # scikit-learn's np.average raises a TypeError there, its np.dot a ValueError
        raise InvalidParameterError(f"sample_weight must hold numbers, got {w!r}")
    w = _as_float(w, dt)
    if w.ndim != 1:
        raise ValueError(f"Sample weights must be 1D array or scalar, got {w.ndim}D array. "
                         f"Expected either a scalar value or a 1D array of length {n}.")
    return w


def _output_weights(multioutput: Any, n_outputs: int, finite: bool) -> _Array:
    """The weights of the outputs, `multioutput` given as numbers, with scikit-learn's errors;
    `finite`: NaN and infinity are refused (mean_squared_error checks, root_mean_squared_error
    averages with them as they are)."""
    m = _array(multioutput, "multioutput")
    try:
        if m.dtype.kind not in "biufO":
            raise TypeError(m.dtype)
        m = m.astype(_F64)
    except (TypeError, ValueError):
        # a ValueError for mean_squared_error (its check_array), a TypeError for
        # root_mean_squared_error (its np.average): both
        raise InvalidParameterError(f"multioutput must be an array of real numbers, one "
                                    f"weight per output, got {multioutput!r}") from None
    if finite:
        _check_finite(m)
    if n_outputs == 1:
        raise InvalidParameterError("Custom weights are useful only in multi-output cases.")
    if m.ndim != 1 or m.shape[0] != n_outputs:
        raise InvalidParameterError("There must be equally many custom weights "
                                    f"({m.shape[0] if m.ndim else 1}) as outputs "
                                    f"({n_outputs}).")
    return m


def _check_reg_targets(fname: str, y_true: Any, y_pred: Any, sample_weight: Any,
                       multioutput: Any, root: bool = False, finite: bool = True,
                       numeric: bool = False
                       ) -> Tuple[_Array, _Array, Optional[_Array], Union[str, _Array]]:
    """scikit-learn's `_check_reg_targets`: (y_true, y_pred) as 2-d arrays of one floating
    dtype, finite (unless not `finite`: the caller proves it), the weights, the output
    weights (`root`: root_mean_squared_error's).

    `numeric`: scikit-learn's ``dtype="numeric"`` variant (median_absolute_error): strings
    are refused rather than read as numbers, the weights are float64, and the dtype is that
    of ``y_pred - y_true`` on the inputs as given (integers compute in float64), which
    `_numeric_dtype` says."""
    _array_like(fname, "y_true", y_true)
    _array_like(fname, "y_pred", y_pred)
    _array_like(fname, "sample_weight", sample_weight, none_ok=True)
    _check_multioutput_param(fname, multioutput)
    _check_lengths(y_true, y_pred, sample_weight)
    ya, pa = _array(y_true, "y_true"), _array(y_pred, "y_pred")
    wa = None if sample_weight is None else _array(sample_weight, "sample_weight")
    if numeric:
        ya, pa = _numeric(y_true, ya, "y_true"), _numeric(y_pred, pa, "y_pred")
        dt = _numeric_dtype(ya, pa)
    else:
        dt = _floating_dtype((y_true, ya), (y_pred, pa), (sample_weight, wa))
    y = _target_values(ya, dt, finite)
    p = _target_values(pa, dt, finite)
    w = _sample_weight(wa, _F64 if numeric else dt, y.shape[0])
    if y.shape[1] != p.shape[1]:
        raise ValueError("y_true and y_pred have different number of output "
                         f"({y.shape[1]}!={p.shape[1]})")
    if not isinstance(multioutput, str):
        multioutput = _output_weights(multioutput, y.shape[1], not root)
    if numeric and ya.dtype.kind == "b" and pa.dtype.kind == "b":
        raise TypeError("y_true and y_pred are both boolean, whose difference NumPy (and so "
                        f"scikit-learn's {fname}) does not take: pass them as numbers")
    return y, p, w, multioutput


def _target_values(a: _Array, dt: _DType, finite: bool) -> _Array:
    """Regression targets or predictions `a` as a 2-d array of `dt` (a column for 1-d), with
    scikit-learn's errors; NaN and infinity are checked for when `finite`."""
    a = _as_float(a, dt)
    _check_shape(a)
    if finite:
        _check_finite(a)
    return a.reshape(-1, 1) if a.ndim == 1 else a


def _numeric(x: Any, a: _Array, name: str) -> _Array:
    """scikit-learn's `check_array(x, dtype="numeric")` conversion of `x` (`a`: as an array):
    numbers keep their dtype, except pandas' nullable ones (float64); objects become float64
    (None NaN), except in a list, where None is a TypeError as scikit-learn's arithmetic on
    it is; strings are refused, not read as numbers."""
    if a.dtype.kind in "SUV":
        raise ValueError("dtype='numeric' is not compatible with arrays of bytes/strings."
                         "Convert your data to numeric values explicitly instead.")
    if a.dtype.kind == "O":
        if not hasattr(x, "dtype") and any(v is None for v in a.flat):
            raise TypeError(f"{name} holds None, which is not a number")
        return _as_float(a, _F64)
    dtypes = (list(x.dtypes) if getattr(x, "ndim", 1) == 2 and hasattr(x, "dtypes")
              else [getattr(x, "dtype", a.dtype)])
    if a.dtype.kind == "b" and hasattr(x, "to_numpy") and not all(isinstance(d, np.dtype)
                                                                 for d in dtypes):
        return a.astype(_F64)            # pandas' "boolean": numbers to scikit-learn
    return a


def _numeric_dtype(y: _Array, p: _Array) -> _DType:
    """The dtype scikit-learn computes ``y_pred - y_true`` in for numeric arrays `y` and `p`
    of their own dtypes (NumPy's promotion: an int8 and a float32 give float32, an int64 and
    a float32 float64), as lossfuse computes it: integers in float64, float16 in float32."""
    dt = np.result_type(y.dtype, p.dtype)
    if dt.kind != "f":
        return _F64
    return _F32 if dt.itemsize <= 4 else _F64


def _weighted_sums(w: Optional[_Array], n: int,
                   total_of: Callable[[Optional[_Array], float], _Total]) -> Tuple[_Total, float]:
    """(total_of(w, denominator), denominator) of a mean over `n` rows weighted by `w` (see
    `lossfuse._api._mean_sums`), with scikit-learn's errors for weights that are not finite
    or sum to zero."""
    if w is None:
        return total_of(None, float(n)), float(n)
    return _mean_sums(w, _weight_sum, total_of, _zero_sum)


def _weight_sum(w: _Array) -> float:
    """The sum of the weights `w`, with scikit-learn's errors for NaN or infinity among them
    (a sum of finite weights that overflows is none: the weighted mean rescales them) and
    for weights that are all zero."""
    total = _sum(w)
    if not math.isfinite(total):
        _check_finite(w, "sample_weight")
    if total == 0 and not np.any(w):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return total


def _zero_sum(w: _Array) -> ZeroDivisionError:
    return ZeroDivisionError("Weights sum to zero, can't be normalized")


# -------------------------------------------------------------------------------- engine
def _regression(fname: str, kernel: _kernels.LossKernel, y_true: Any, y_pred: Any,
                sample_weight: Any, multioutput: Any, root: bool = False,
                domain: Optional[Callable[[_Array, _Array], Optional[_Instead]]] = None,
                checked: bool = False) -> float | FloatArray:
    """The metric of `kernel` (a LossKernel of a function of ``y_pred - y_true``), averaged
    as scikit-learn averages: over the rows (weighted by `sample_weight`), per output, then
    over the outputs (`multioutput`).  With `root`, the square root of each output's mean
    before the outputs are averaged.

    The loss is infinite or NaN where ``d = y_pred - y_true`` is, and d is finite only where
    y_true and y_pred are (IEEE arithmetic: inf - inf is NaN, 0 * inf is NaN): a finite sum
    of the weighted losses proves them all finite, and they are looked at only when it is
    not -- the common call reads its inputs once.  The same holds of the kernels whose loss
    is NaN or infinite outside a `domain` of y_true and y_pred: that check, which raises, is
    made only then, after the check for NaN and infinity (as scikit-learn orders them); for
    inputs inside it, it may return another kernel and operands to compute the sums with
    (where the kernel's arithmetic overflowed).
    `checked`: `multioutput` weights are checked as mean_squared_error checks them (NaN and
    infinity refused) even with `root` (root_mean_squared_log_error checks them so before it
    takes the root; root_mean_squared_error does not)."""
    total = _fast(kernel, y_true, y_pred, sample_weight, multioutput)
    if total is not None:
        if not root:
            return total
        # the root of each output's mean in the computation dtype, as the full path below
        return _round32(math.sqrt(total)) if y_pred.dtype is _F32 else math.sqrt(total)
    y, p, w, multioutput = _check_reg_targets(fname, y_true, y_pred, sample_weight,
                                              multioutput, root and not checked,
                                              finite=False)
    n, m = p.shape
    dt = p.dtype
    nt = _n_threads(None)
    pooled = isinstance(multioutput, str) and multioutput == "uniform_average" and not root

    def sums(kernel: _kernels.LossKernel, y: _Array, p: _Array) -> Tuple[_Array, float]:
        run = kernel.run_float64 if dt == _F64 else kernel.run_float32
        if pooled:
            # the mean over all outputs of the per-output means: one weighted mean over all
            # elements, rows weighted by w
            columns = [(np.ascontiguousarray(y).reshape(-1),
                        np.ascontiguousarray(p).reshape(-1), m)]
        else:
            columns = [(y[:, j], p[:, j], 1) for j in range(m)]

        def totals_of(w: Optional[_Array], _: float) -> _Array:
            return np.array([run(_OP_LOSS, yc, pc, w, row_len, None, None, None, 1.0, nt)
                             for yc, pc, row_len in columns])

        return _weighted_sums(w, n, totals_of)

    totals, wsum = sums(kernel, y, p)
    if not np.all(np.isfinite(totals)):
        _check_finite(y)
        _check_finite(p)
        if domain is not None:
            instead = domain(y, p)
            if instead is not None:
                totals, wsum = sums(*instead)
    if pooled:
        return float(totals[0] / (m * wsum))
    errors = totals / wsum
    if root:
        errors = np.sqrt(errors)
    errors = errors.astype(dt)
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return errors
        multioutput = None
    return float(np.average(errors, weights=multioutput))


def _fast(kernel: _kernels.LossKernel, y_true: Any, y_pred: Any, sample_weight: Any,
          multioutput: Any) -> Optional[float]:
    """The short path of the common call -- 1-d NumPy arrays of one float dtype, no weights,
    multioutput="uniform_average" -- or None (then the full path decides: a result that is
    not finite may come from NaN or infinity in an input; see `_regression`)."""
    if (type(y_pred) is np.ndarray and type(y_true) is np.ndarray and sample_weight is None
            and type(multioutput) is str and multioutput == "uniform_average"
            and y_pred.ndim == 1 and y_true.ndim == 1):
        dt = y_pred.dtype
        n = y_pred.shape[0]
        if y_true.dtype is dt and (dt is _F64 or dt is _F32) and y_true.shape[0] == n and n:
            total: float = (kernel.run_float64 if dt is _F64 else kernel.run_float32)(
                _OP_LOSS, y_true, y_pred, None, 1, None, None, None, 1.0,
                _n_threads(None)) / n
            if math.isfinite(total):
                return total
    return None


_SQUARED = _kernel("squared_error")
_ABSOLUTE = _kernel("absolute_error")
_SQUARED_LOG = _kernel("squared_log_error")
#: scikit-learn's floor of |y_true| in mean_absolute_percentage_error: float64's epsilon
_PERCENTAGE = _kernel("absolute_percentage_error", float(np.finfo(np.float64).eps))


def _log_domain(name: str) -> Callable[[_Array, _Array], Optional[_Instead]]:
    """The domain check of the logarithmic errors: no value at most -1 (log1p is -inf or NaN
    there), with scikit-learn's message naming the metric `name`.  Inside it the kernel's
    quotient ``(hi - lo) / (1 + lo)`` (the greater and the lesser of y and p) overflows only
    for lo near -1 and a huge hi: the squared difference of NumPy's log1p of each is
    computed instead."""
    def check(y: _Array, p: _Array) -> Optional[_Instead]:
        if np.any(y <= -1) or np.any(p <= -1):
            raise ValueError(f"{name} cannot be used when targets contain values less than "
                             "or equal to -1.")
        return _SQUARED, np.log1p(y), np.log1p(p)
    return check


# ------------------------------------------------------------------------------- metrics
# Each regression metric's overloads tell a type checker what it returns: an array for
# multioutput="raw_values", else a float.
@overload
def mean_squared_error(y_true: ArrayLike, y_pred: ArrayLike, *,
                       sample_weight: ArrayLike | None = None,
                       multioutput: Averaged = "uniform_average") -> float: ...
@overload
def mean_squared_error(y_true: ArrayLike, y_pred: ArrayLike, *,
                       sample_weight: ArrayLike | None = None,
                       multioutput: Literal["raw_values"]) -> FloatArray: ...


def mean_squared_error(y_true: ArrayLike, y_pred: ArrayLike, *,
                       sample_weight: ArrayLike | None = None,
                       multioutput: Literal["raw_values"] | Averaged = "uniform_average"
                       ) -> float | FloatArray:
    """Mean squared error regression loss (scikit-learn's ``mean_squared_error``).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Ground truth (numbers, or strings of numbers).
    y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Estimated target values.
    sample_weight : array-like of shape (n_samples,), optional
        Weights of the samples.
    multioutput : {"raw_values", "uniform_average"} or array-like of shape (n_outputs,)
        "raw_values": one error per output; "uniform_average": their mean; weights: their
        weighted mean.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        An array, in the computation's dtype, for "raw_values"; else a float.

    Raises
    ------
    ValueError, TypeError
        Where scikit-learn raises them, of its class: NaN or infinity in any input,
        inconsistent lengths or outputs, empty or 3-d inputs, complex or non-numeric data,
        sparse matrices, np.matrix, a wrong `multioutput`.
    ZeroDivisionError
        For sample weights that sum to zero.

    Examples
    --------
    >>> from lossfuse.metrics import mean_squared_error
    >>> mean_squared_error([[0.5, 1], [-1, 1], [7, -6]], [[0, 2], [-1, 2], [8, -5]])
    0.7083333333333334
    """
    return _regression("mean_squared_error", _SQUARED, y_true, y_pred, sample_weight, multioutput)


@overload
def root_mean_squared_error(y_true: ArrayLike, y_pred: ArrayLike, *,
                            sample_weight: ArrayLike | None = None,
                            multioutput: Averaged = "uniform_average") -> float: ...
@overload
def root_mean_squared_error(y_true: ArrayLike, y_pred: ArrayLike, *,
                            sample_weight: ArrayLike | None = None,
                            multioutput: Literal["raw_values"]) -> FloatArray: ...


def root_mean_squared_error(y_true: ArrayLike, y_pred: ArrayLike, *,
                            sample_weight: ArrayLike | None = None,
                            multioutput: Literal["raw_values"] | Averaged = "uniform_average"
                            ) -> float | FloatArray:
    """Root mean squared error regression loss (scikit-learn's ``root_mean_squared_error``).

    The square root of each output's mean squared error, then averaged over the outputs as
    `multioutput` says.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Ground truth.
    y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Estimated target values.
    sample_weight : array-like of shape (n_samples,), optional
        Weights of the samples.
    multioutput : {"raw_values", "uniform_average"} or array-like of shape (n_outputs,)
        As for `mean_squared_error`.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        An array for "raw_values"; else a float.

    Raises
    ------
    ValueError, TypeError, ZeroDivisionError
        As `mean_squared_error` raises them.

    Examples
    --------
    >>> from lossfuse.metrics import root_mean_squared_error
    >>> root_mean_squared_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
    0.6123724356957945
    """
    return _regression("root_mean_squared_error", _SQUARED, y_true, y_pred, sample_weight,
                       multioutput, root=True)


@overload
def mean_absolute_error(y_true: ArrayLike, y_pred: ArrayLike, *,
                        sample_weight: ArrayLike | None = None,
                        multioutput: Averaged = "uniform_average") -> float: ...
@overload
def mean_absolute_error(y_true: ArrayLike, y_pred: ArrayLike, *,
                        sample_weight: ArrayLike | None = None,
                        multioutput: Literal["raw_values"]) -> FloatArray: ...


def mean_absolute_error(y_true: ArrayLike, y_pred: ArrayLike, *,
                        sample_weight: ArrayLike | None = None,
                        multioutput: Literal["raw_values"] | Averaged = "uniform_average"
                        ) -> float | FloatArray:
    """Mean absolute error regression loss (scikit-learn's ``mean_absolute_error``).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Ground truth.
    y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Estimated target values.
    sample_weight : array-like of shape (n_samples,), optional
        Weights of the samples.
    multioutput : {"raw_values", "uniform_average"} or array-like of shape (n_outputs,)
        As for `mean_squared_error`.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        An array for "raw_values"; else a float.

    Raises
    ------
    ValueError, TypeError, ZeroDivisionError
        As `mean_squared_error` raises them.

    Examples
    --------
    >>> from lossfuse.metrics import mean_absolute_error
    >>> mean_absolute_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
    0.5
    """
    return _regression("mean_absolute_error", _ABSOLUTE, y_true, y_pred, sample_weight, multioutput)


@overload
def mean_squared_log_error(y_true: ArrayLike, y_pred: ArrayLike, *,
                           sample_weight: ArrayLike | None = None,
                           multioutput: Averaged = "uniform_average") -> float: ...
@overload
def mean_squared_log_error(y_true: ArrayLike, y_pred: ArrayLike, *,
                           sample_weight: ArrayLike | None = None,
                           multioutput: Literal["raw_values"]) -> FloatArray: ...


def mean_squared_log_error(y_true: ArrayLike, y_pred: ArrayLike, *,
                           sample_weight: ArrayLike | None = None,
                           multioutput: Literal["raw_values"] | Averaged = "uniform_average"
                           ) -> float | FloatArray:
    """Mean squared logarithmic error (scikit-learn's ``mean_squared_log_error``).

    The mean of ``(log1p(y_pred) - log1p(y_true)) ** 2``, each log1p computed in the
    computation's dtype on vector registers, in one pass.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Ground truth, every value above -1.
    y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Estimated target values, every value above -1.
    sample_weight : array-like of shape (n_samples,), optional
        Weights of the samples.
    multioutput : {"raw_values", "uniform_average"} or array-like of shape (n_outputs,)
        As for `mean_squared_error`.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        An array for "raw_values"; else a float.

    Raises
    ------
    ValueError
        For a value of `y_true` or `y_pred` at most -1 (after the checks of
        `mean_squared_error`, which it raises as that does).
    TypeError, ZeroDivisionError
        As `mean_squared_error` raises them.

    Examples
    --------
    >>> from lossfuse.metrics import mean_squared_log_error
    >>> round(mean_squared_log_error([3, 5, 2.5, 7], [2.5, 5, 4, 8]), 12)
    0.039730122985
    """
    return _regression("mean_squared_log_error", _SQUARED_LOG, y_true, y_pred, sample_weight,
                       multioutput, domain=_log_domain("Mean Squared Logarithmic Error"))


@overload
def root_mean_squared_log_error(y_true: ArrayLike, y_pred: ArrayLike, *,
                                sample_weight: ArrayLike | None = None,
                                multioutput: Averaged = "uniform_average") -> float: ...
@overload
def root_mean_squared_log_error(y_true: ArrayLike, y_pred: ArrayLike, *,
                                sample_weight: ArrayLike | None = None,
                                multioutput: Literal["raw_values"]) -> FloatArray: ...


def root_mean_squared_log_error(y_true: ArrayLike, y_pred: ArrayLike, *,
                                sample_weight: ArrayLike | None = None,
                                multioutput: Literal["raw_values"] | Averaged = "uniform_average"
                                ) -> float | FloatArray:
    """Root mean squared logarithmic error (scikit-learn's ``root_mean_squared_log_error``).

    The square root of each output's `mean_squared_log_error`, then averaged over the outputs
    as `multioutput` says.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Ground truth, every value above -1.
    y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Estimated target values, every value above -1.
    sample_weight : array-like of shape (n_samples,), optional
        Weights of the samples.
    multioutput : {"raw_values", "uniform_average"} or array-like of shape (n_outputs,)
        As for `mean_squared_error`.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        An array for "raw_values"; else a float.

    Raises
    ------
    ValueError, TypeError, ZeroDivisionError
        As `mean_squared_log_error` raises them.

    Examples
    --------
    >>> from lossfuse.metrics import root_mean_squared_log_error
    >>> round(root_mean_squared_log_error([3, 5, 2.5, 7], [2.5, 5, 4, 8]), 12)
    0.199324165581
    """
    return _regression("root_mean_squared_log_error", _SQUARED_LOG, y_true, y_pred,
                       sample_weight, multioutput, root=True, checked=True,
                       domain=_log_domain("Root Mean Squared Logarithmic Error"))


@overload
def mean_absolute_percentage_error(y_true: ArrayLike, y_pred: ArrayLike, *,
                                   sample_weight: ArrayLike | None = None,
                                   multioutput: Averaged = "uniform_average") -> float: ...
@overload
def mean_absolute_percentage_error(y_true: ArrayLike, y_pred: ArrayLike, *,
                                   sample_weight: ArrayLike | None = None,
                                   multioutput: Literal["raw_values"]) -> FloatArray: ...


def mean_absolute_percentage_error(y_true: ArrayLike, y_pred: ArrayLike, *,
                                   sample_weight: ArrayLike | None = None,
                                   multioutput: Literal["raw_values"] | Averaged
                                   = "uniform_average") -> float | FloatArray:
    """Mean absolute percentage error (scikit-learn's ``mean_absolute_percentage_error``).

    The mean of ``|y_pred - y_true| / max(|y_true|, eps)`` with ``eps`` float64's machine
    epsilon, as scikit-learn defines it: not a percentage (no factor 100), and arbitrarily
    large where ``y_true`` is 0 (infinite where that overflows). One pass.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Ground truth.
    y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Estimated target values.
    sample_weight : array-like of shape (n_samples,), optional
        Weights of the samples.
    multioutput : {"raw_values", "uniform_average"} or array-like of shape (n_outputs,)
        As for `mean_squared_error`.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        An array for "raw_values"; else a float.

    Raises
    ------
    ValueError, TypeError, ZeroDivisionError
        As `mean_squared_error` raises them.

    Examples
    --------
    >>> from lossfuse.metrics import mean_absolute_percentage_error
    >>> round(mean_absolute_percentage_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]), 12)
    0.327380952381
    """
    return _regression("mean_absolute_percentage_error", _PERCENTAGE, y_true, y_pred,
                       sample_weight, multioutput)


# ------------------------------------------------------- r2, explained variance, max error
# R^2 and the explained variance are ratios of sums of squares: the moments kernel sums, in
# one pass, the weights, y shifted by a value K of the data near its mean (u = y - K), u^2,
# the squared residuals d^2 and the shifted residuals e = d - Ke with e^2 (see moments.pxi
# for why shifted sums keep full accuracy where the spread is tiny next to the mean).
_MOMENTS = {_F64: _kernels.moments_float64, _F32: _kernels.moments_float32}
_MAX_ABS = {_F64: _kernels.max_abs_error_float64, _F32: _kernels.max_abs_error_float32}
_SCORE_MULTIOUTPUT = ("raw_values", "uniform_average", "variance_weighted")
#: sums of squares below this may have lost bits to underflow (they are computed again on
#: the data scaled by a power of two)
_TINY = 2.0 ** -900


_BOOL = "an instance of 'bool' or an instance of 'numpy.bool'"   # validate_params' words
_FLOAT32 = struct.Struct("f")
_F32_RANGE = (float(np.finfo(_F32).tiny), float(np.finfo(_F32).max))   # normal float32s


_FLOAT32_PAIR = struct.Struct("ff")


def _round32(x: float) -> float:
    """`x` rounded to float32 (faster than NumPy's scalars; float64 arithmetic rounded so is
    float32 arithmetic, for + - * / of float32 operands)."""
    return float(_FLOAT32.unpack(_FLOAT32.pack(x))[0])


def _check_bool(fname: str, name: str, value: Any) -> None:
    """scikit-learn's `validate_params` for "boolean"."""
    if not isinstance(value, (bool, np.bool_)):
        raise _param_error(fname, name, value, _BOOL)


def _fractions(sums: Any, explained: bool) -> Tuple[Any, Any]:
    """(numerator, denominator) of r2_score (`explained` False: the sums of squares of the
    residuals and of the deviations from the weighted mean) or explained_variance_score (the
    weighted variances of the residuals and of y), from moments (W, U, UU, DD, E, EE) -- a
    tuple of floats, or columns of an array of one row per output."""
    W, U, UU, DD, E, EE = sums[0], sums[1], sums[2], sums[3], sums[4], sums[5]
    deviations = UU - U * (U / W)
    if explained:
        return (EE - E * (E / W)) / W, deviations / W
    return DD, deviations


def _sound(sums: Any, explained: bool) -> bool:
    """Whether moments (W, U, UU, DD, E, EE; the last two only if `explained`) are finite and
    their sums of squares neither zero nor so small that they may have underflowed (then
    `_column_moments` decides)."""
    return (math.isfinite(sums[0] + sums[1] + sums[4]) and _TINY <= sums[2] < math.inf
            and _TINY <= sums[3] < math.inf
            and (not explained or _TINY <= sums[5] < math.inf))


def _recentred(sums: Tuple[float, ...], explained: bool) -> Optional[Tuple[float, float]]:
    """New shifts (K, Ke) for moments (W, U, UU, DD, E, EE, K, Ke) whose sum of squared
    deviations ``UU - U^2 / W`` (or ``EE - E^2 / W``) cancelled more than four bits -- the
    shift was far from the mean next to the spread, as where a few weights dominate or the
    data drift -- or None.  Shifted by the mean just computed, a second pass keeps every bit
    (a score near 0 amplifies every bit its fraction loses: ``1 - N / D``)."""
    W, U, UU, _, E, EE, K, Ke = sums
    shifts = (_shift(U, UU, K, W), _shift(E, EE, Ke, W) if explained else Ke)
    return None if shifts == (K, Ke) else shifts


def _shift(first: float, second: float, old: float, W: float) -> float:
    """The shift old + first / W where the sum of squares `second` around `old` cancelled
    more than four bits (``second - first^2 / W``), else `old` itself."""
    new = old + first / W
    cancelled = second > 16 * (second - first * (first / W))
    return new if cancelled and math.isfinite(new) else old


def _centred(run: Callable[..., Tuple[float, ...]], y: _Array, p: _Array,
             w: Optional[_Array], explained: bool, nt: int) -> Tuple[float, ...]:
    """The moments of 1-d `y` and `p` (`run`), computed again around their means where the
    kernel's shifts were far from them (`_recentred`; at most three times more)."""
    sums = run(y, p, w, math.nan, math.nan, explained, nt)
    for _ in range(3):                 # each pass takes the shift far closer to the mean
        shifts = _recentred(sums, explained)
        if shifts is None:
            break
        sums = run(y, p, w, shifts[0], shifts[1], explained, nt)
    return sums


def _varies(a: _Array) -> bool:
    """Whether 1-d `a` holds two different values."""
    return bool(np.any(a != a[0]))


def _column_fractions(run: Callable[..., Tuple[float, ...]], y: _Array, p: _Array,
                      w: Optional[_Array], j: int, explained: bool, nt: int
                      ) -> Tuple[float, float, int]:
    """(numerator, denominator, k) of output j of the 2-d `y` and `p` weighted by `w`
    (`_fractions`), each times 2**k.

    k is 0 unless the sums were not finite or their squares tiny.  Sums that are not finite
    come from NaN or infinity in an input (scikit-learn's errors) or from float64 values
    whose squares overflow; sums of squares that are tiny, or 0 where what they sum is not
    (a pass to tell, only then), from values whose squares underflow.  Then the denominator, a function of y_true
    alone, is computed on the data scaled by the power of two that brings the largest
    |y_true| near 1, and the numerator on the data scaled by the one that brings the
    largest of |y_true| and |y_pred| near 1; the fraction of the two is then exact to
    rounding, and infinite only where it truly overflows."""
    yc, pc = y[:, j], p[:, j]
    sums = _centred(run, yc, pc, w, explained, nt)
    if not _sound(sums, explained):
        finite = math.isfinite(sum(sums[:6]))
        if not finite:
            _check_finite(y)
            _check_finite(p)
        underflow = any(0 < s < _TINY for s in sums[2:6]) or (
            sums[2] == 0 and _varies(yc)) or (sums[3] == 0 and bool(np.any(yc != pc))) or (
            explained and sums[5] == 0 and _varies(yc - pc))
        if (underflow or not finite) and y.dtype == _F64:
            if w is not None:                    # rows of weight 0 would only spoil the scale
                kept = w != 0
                yc, pc, w = yc[kept], pc[kept], w[kept]
            top_y = float(np.max(np.abs(yc)))
            top = max(top_y, float(np.max(np.abs(pc))))
            ey = math.frexp(top_y)[1] if top_y else 0
            ep = math.frexp(top)[1] if top else 0
            _, denominator = _fractions(_centred(run, np.ldexp(yc, -ey), np.ldexp(pc, -ey), w,
                                                 explained, nt), explained)
            numerator, _ = _fractions(_centred(run, np.ldexp(yc, -ep), np.ldexp(pc, -ep), w,
                                               explained, nt), explained)
            if denominator == 0:                 # y_true constant: only 0 or not matters
                return numerator, denominator, 2 * ep
            with np.errstate(over="ignore"):
                return float(np.ldexp(numerator, 2 * (ep - ey))), denominator, 2 * ey
    numerator, denominator = _fractions(sums, explained)
    return numerator, denominator, 0


def _score_fast(y_true: Any, y_pred: Any, sample_weight: Any, multioutput: Any,
                force_finite: Any, explained: bool) -> Optional[float]:
    """The short path of r2_score / explained_variance_score -- 1-d NumPy arrays of one float
    dtype, at least two samples, no weights, multioutput="uniform_average" -- or None (the
    full path decides, where any sum of squares is 0, tiny or not finite)."""
    if (type(y_pred) is np.ndarray and type(y_true) is np.ndarray and sample_weight is None
            and type(multioutput) is str and multioutput == "uniform_average"
            and (force_finite is True or force_finite is False)
            and y_pred.ndim == 1 and y_true.ndim == 1):
        dt = y_pred.dtype
        n = y_pred.shape[0]
        if y_true.dtype is dt and (dt is _F64 or dt is _F32) and y_true.shape[0] == n > 1:
            sums = (_kernels.moments_float64 if dt is _F64 else _kernels.moments_float32)(
                y_true, y_pred, None, math.nan, math.nan, explained, _n_threads(None))
            if _sound(sums, explained) and _recentred(sums, explained) is None:
                numerator, denominator = _fractions(sums, explained)
                if dt is _F64:
                    if denominator > 0 and numerator > 0:
                        score: float = 1 - numerator / denominator
                        return score
                    return None
                lo, hi = _F32_RANGE
                if lo <= denominator <= hi and lo <= numerator <= hi:
                    # in float32, as scikit-learn computes it
                    n32, d32 = _FLOAT32_PAIR.unpack(_FLOAT32_PAIR.pack(numerator, denominator))
                    return _round32(1 - _round32(n32 / d32))
    return None


def _explained(fname: str, y_true: Any, y_pred: Any, sample_weight: Any, multioutput: Any,
               force_finite: Any, explained: bool) -> float | FloatArray:
    """r2_score (`explained` False) or explained_variance_score: scikit-learn's checks in its
    order, the moments of every output in one pass each, then its scores."""
    _array_like(fname, "y_true", y_true)
    _array_like(fname, "y_pred", y_pred)
    _array_like(fname, "sample_weight", sample_weight, none_ok=True)
    _check_multioutput_param(fname, multioutput, _SCORE_MULTIOUTPUT, none_ok=not explained)
    _check_bool(fname, "force_finite", force_finite)
    given = multioutput if multioutput is None or isinstance(multioutput, str) else None
    y, p, w, weights = _check_reg_targets(fname, y_true, y_pred, sample_weight,
                                          "raw_values" if given or multioutput is None
                                          else multioutput, finite=False)
    n, m = p.shape
    if n < 2 and not explained:
        _check_finite(y)
        _check_finite(p)
        _undefined("R^2 score is not well-defined with less than two samples.", stacklevel=3)
        return math.nan
    dt = p.dtype
    run = _MOMENTS[dt]
    nt = _n_threads(None)

    def fractions_of(wt: Optional[_Array], _: float) -> _Array:
        return np.array([_column_fractions(run, y, p, wt, j, explained, nt)
                         for j in range(m)])

    fractions, _ = _weighted_sums(w, n, fractions_of)
    numerator, denominator, k = fractions.T
    how = given if given is not None or multioutput is None else weights
    if np.any(k) and isinstance(how, str) and how == "variance_weighted":
        # outputs scaled apart: each fraction holds, and the weights are the denominators
        # brought to one scale
        with np.errstate(under="ignore"):
            scaled = np.ldexp(denominator, (k - k.max()).astype(int))
        how = scaled if np.any(scaled) else "uniform_average"
    return _assemble(numerator.astype(dt), denominator.astype(dt), how, bool(force_finite))


@overload
def r2_score(y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = None,
             multioutput: Literal["uniform_average", "variance_weighted"] | RealArrayLike
             | None = "uniform_average", force_finite: bool = True) -> float: ...
@overload
def r2_score(y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = None,
             multioutput: Literal["raw_values"], force_finite: bool = True) -> FloatArray: ...


def r2_score(y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: ArrayLike | None = None,
             multioutput: Literal["raw_values", "uniform_average", "variance_weighted"]
             | RealArrayLike | None = "uniform_average",
             force_finite: bool = True) -> float | FloatArray:
    """The coefficient of determination R^2 (scikit-learn's ``r2_score``).

    ``1 - sum(w (y_true - y_pred)^2) / sum(w (y_true - mean_w(y_true))^2)`` per output. One
    pass over the data: the sums of squares come from sums shifted by a value of the data
    near its mean, so they keep full accuracy where the variance is tiny next to the mean
    (``y = 1e8 + N(0, 1)``), where the textbook one-pass formula loses most of its digits.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Ground truth.
    y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Estimated target values.
    sample_weight : array-like of shape (n_samples,), optional
        Weights of the samples.
    multioutput : {"raw_values", "uniform_average", "variance_weighted"}, array-like of shape \
(n_outputs,) or None, default "uniform_average"
        How the outputs' scores are combined: each apart, their mean (also None), their mean
        weighted by each output's sum of squared deviations, or weighted by the numbers given.
    force_finite : bool, default True
        Where ``y_true`` is constant the score is NaN (perfect prediction) or -inf: with
        True these are 1.0 and 0.0.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        An array for "raw_values" (float32 for float32 inputs); else a float. NaN, with an
        `UndefinedMetricWarning`, for fewer than two samples.

    Raises
    ------
    ValueError, TypeError, ZeroDivisionError
        As `mean_squared_error` raises them (weights that sum to zero: ZeroDivisionError).

    Notes
    -----
    A constant ``y_true`` gives a sum of squared deviations of exactly 0, so `force_finite`
    always applies to it. scikit-learn computes the mean first, which for some constants
    (``[0.1, 0.1, 0.1]``) is not exactly the constant: its score is then a huge negative
    number rather than 0.0.

    Examples
    --------
    >>> from lossfuse.metrics import r2_score
    >>> round(r2_score([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]), 12)
    0.948608137045
    >>> r2_score([1, 2], [1, 2], force_finite=False)
    1.0
    """
    score = _score_fast(y_true, y_pred, sample_weight, multioutput, force_finite, False)
    if score is not None:
        return score
    return _explained("r2_score", y_true, y_pred, sample_weight, multioutput, force_finite,
                      False)


@overload
def explained_variance_score(y_true: ArrayLike, y_pred: ArrayLike, *,
                             sample_weight: ArrayLike | None = None,
                             multioutput: Literal["uniform_average", "variance_weighted"]
                             | RealArrayLike = "uniform_average",
                             force_finite: bool = True) -> float: ...
@overload
def explained_variance_score(y_true: ArrayLike, y_pred: ArrayLike, *,
                             sample_weight: ArrayLike | None = None,
                             multioutput: Literal["raw_values"],
                             force_finite: bool = True) -> FloatArray: ...


def explained_variance_score(y_true: ArrayLike, y_pred: ArrayLike, *,
                             sample_weight: ArrayLike | None = None,
                             multioutput: Literal["raw_values", "uniform_average",
                                                  "variance_weighted"]
                             | RealArrayLike = "uniform_average",
                             force_finite: bool = True) -> float | FloatArray:
    """The explained variance (scikit-learn's ``explained_variance_score``).

    ``1 - var_w(y_true - y_pred) / var_w(y_true)`` per output, with weighted variances. Unlike
    `r2_score` it ignores a constant bias of the predictions. One pass over the data, with
    the shifted sums `r2_score` describes (the residuals shifted too).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Ground truth.
    y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Estimated target values.
    sample_weight : array-like of shape (n_samples,), optional
        Weights of the samples.
    multioutput : {"raw_values", "uniform_average", "variance_weighted"} or array-like of \
shape (n_outputs,), default "uniform_average"
        As for `r2_score` (None is not accepted, as in scikit-learn).
    force_finite : bool, default True
        As for `r2_score`.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        An array for "raw_values" (float32 for float32 inputs); else a float.

    Raises
    ------
    ValueError, TypeError, ZeroDivisionError
        As `r2_score` raises them.

    Examples
    --------
    >>> from lossfuse.metrics import explained_variance_score
    >>> round(explained_variance_score([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]), 12)
    0.957173447537
    """
    score = _score_fast(y_true, y_pred, sample_weight, multioutput, force_finite, True)
    if score is not None:
        return score
    return _explained("explained_variance_score", y_true, y_pred, sample_weight, multioutput,
                      force_finite, True)


def max_error(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """The largest absolute residual (scikit-learn's ``max_error``).

    ``max(|y_true - y_pred|)``, in one pass, computed in the dtype scikit-learn computes the
    difference in (float32 for float32 inputs).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground truth (one output; a single column is one).
    y_pred : array-like of shape (n_samples,)
        Estimated target values.

    Returns
    -------
    float
        The largest ``|y_true - y_pred|``.

    Raises
    ------
    ValueError, TypeError
        As scikit-learn raises them (strings are refused; more than one output:
        "Multioutput not supported in max_error").

    Notes
    -----
    Integers are compared in float64, which holds them exactly up to 2**53: the result is
    the true largest difference. scikit-learn subtracts them in their own dtype, which wraps
    around (int8 ``[-128]`` and ``[127]`` give 1.0 there, 255.0 here).

    Examples
    --------
    >>> from lossfuse.metrics import max_error
    >>> max_error([3, 2, 7, 1], [4, 2, 7, 1])
    1.0
    """
    if (type(y_pred) is np.ndarray and type(y_true) is np.ndarray and y_pred.ndim == 1
            and y_true.ndim == 1):
        dt = y_pred.dtype
        if y_true.dtype is dt and (dt is _F64 or dt is _F32) and y_true.shape == y_pred.shape:
            top: float = _MAX_ABS[dt](y_true, y_pred, _n_threads(None))
            if math.isfinite(top) and y_pred.shape[0]:
                return top
    y, p, _ = _one_output("max_error", y_true, y_pred, None, numeric=True)
    return float(_MAX_ABS[y.dtype](y, p, _n_threads(None)))


@overload
def mean_pinball_loss(y_true: ArrayLike, y_pred: ArrayLike, *,
                      sample_weight: ArrayLike | None = None, alpha: float = 0.5,
                      multioutput: Averaged = "uniform_average") -> float: ...
@overload
def mean_pinball_loss(y_true: ArrayLike, y_pred: ArrayLike, *,
                      sample_weight: ArrayLike | None = None, alpha: float = 0.5,
                      multioutput: Literal["raw_values"]) -> FloatArray: ...


def mean_pinball_loss(y_true: ArrayLike, y_pred: ArrayLike, *,
                      sample_weight: ArrayLike | None = None, alpha: float = 0.5,
                      multioutput: Literal["raw_values"] | Averaged = "uniform_average"
                      ) -> float | FloatArray:
    """Pinball loss for quantile regression (scikit-learn's ``mean_pinball_loss``).

    ``alpha * max(y_true - y_pred, 0) + (1 - alpha) * max(y_pred - y_true, 0)``, averaged as
    in `mean_squared_error`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Ground truth.
    y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Estimated target values.
    sample_weight : array-like of shape (n_samples,), optional
        Weights of the samples.
    alpha : float, default 0.5
        The quantile, in [0, 1].
    multioutput : {"raw_values", "uniform_average"} or array-like of shape (n_outputs,)
        As for `mean_squared_error`.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        An array for "raw_values"; else a float.

    Raises
    ------
    ValueError, TypeError, ZeroDivisionError
        As `mean_squared_error` raises them; `InvalidParameterError` for an `alpha` outside
        [0, 1] or not a real number.

    Examples
    --------
    >>> from lossfuse.metrics import mean_pinball_loss
    >>> mean_pinball_loss([1, 2, 3], [0, 2, 3], alpha=0.1)
    0.03333333333333333
    """
    _check_alpha("mean_pinball_loss", alpha)
    return _regression("mean_pinball_loss", _kernel("pinball", float(alpha)), y_true, y_pred,
                       sample_weight, multioutput)


def _check_alpha(fname: str, alpha: Any) -> None:
    """scikit-learn's check of a quantile `alpha` of function `fname`: a real in [0, 1]."""
    if not isinstance(alpha, numbers.Real) or not 0 <= float(alpha) <= 1:
        raise InvalidParameterError(f"The 'alpha' parameter of {fname} must be a float in "
                                    f"the range [0.0, 1.0]. Got {alpha!r} instead.")


# ------------------------------------------------------ medians, quantiles and D^2 scores
# A median or a quantile is a selection, not a sum: no one-pass accumulation gives it.  The
# kernels write what is to be ranked (|y_pred - y_true|) in one pass, and a selection
# (np.partition, in place on that scratch array) finds the order statistics scikit-learn's
# sort-based definitions pick, so the values are the same.  Weights other than none make
# scikit-learn's value depend on the rounding of its cumulative sum in sorted order: that
# computation is done as it does it (`_weighted_percentile`).
class UndefinedMetricWarning(UserWarning):
    """A metric is not defined on the data given: it returns NaN.

    An R^2 or D^2 score of fewer than two samples, for example.

    When scikit-learn is imported, lossfuse warns with scikit-learn's own
    ``sklearn.exceptions.UndefinedMetricWarning`` instead, so that warning filters and tests
    written for scikit-learn's metrics hold for lossfuse's.
    """


def _undefined(message: str, stacklevel: int = 2) -> None:
    """Warn that a metric is undefined: with scikit-learn's UndefinedMetricWarning when
    scikit-learn is imported (never importing it), else lossfuse's.  `stacklevel` is the
    caller's, as it would pass it to `warnings.warn` (2: the caller's own caller)."""
    exceptions = sys.modules.get("sklearn.exceptions")
    category = getattr(exceptions, "UndefinedMetricWarning", UndefinedMetricWarning)
    warnings.warn(message, category, stacklevel=stacklevel + 1)


def _assemble(numerator: _Array, denominator: _Array, multioutput: Any,
              force_finite: bool = True) -> float | FloatArray:
    """Scores ``1 - numerator / denominator`` per output (arrays of the computation dtype),
    averaged over the outputs as scikit-learn's `_assemble_fraction_of_explained_deviance`
    averages them.  `force_finite`: 1.0 where the numerator is 0 (a perfect prediction, even
    of a constant), 0.0 where only the denominator is; without it, NumPy's NaN and -inf.
    `multioutput`: "raw_values" (the array), "uniform_average" or None (the mean),
    "variance_weighted" (weighted by the denominators; the mean if all are 0), or weights."""
    if not force_finite:
        scores = 1 - numerator / denominator
    else:
        scores = np.ones(numerator.shape, numerator.dtype)
        imperfect, constant = numerator != 0, denominator == 0
        fraction = imperfect & ~constant
        scores[fraction] = 1 - numerator[fraction] / denominator[fraction]
        scores[imperfect & constant] = 0.0
    if isinstance(multioutput, str) and multioutput == "raw_values":
        return scores
    weights = None
    if isinstance(multioutput, str) and multioutput == "variance_weighted":
        weights = denominator if np.any(denominator != 0) else None
    elif multioutput is not None and not isinstance(multioutput, str):
        weights = multioutput
    return float(np.average(scores, weights=weights))


def _order_statistic(a: _Array, i: int, average: bool) -> np.floating:
    """The i-th smallest element of `a` (reordered in place), or with `average` the mean of
    the i-th and the next (the i-th again at the end), ``(a + b) / 2`` in a's dtype as NumPy
    and scikit-learn compute it.  One selection: the i-th is the greatest element left of the
    (i+1)-th, and NumPy's single-rank partition is several times faster than a two-rank one."""
    if not average:
        a.partition(i)
        return cast(np.floating, a[i])
    j = min(i + 1, a.shape[0] - 1)
    a.partition(j)
    lower = a[:j].max() if j > i else a[j]
    with np.errstate(over="ignore"):
        return cast(np.floating, (lower + a[j]) / a.dtype.type(2))


def _unit_rank(n: int, percentile: float, dt: _DType) -> Tuple[int, bool]:
    """(i, average) of scikit-learn's `_weighted_percentile(..., average=True)` of `n` values
    of dtype `dt` with unit weights, whose cumulative sum in sorted order is i + 1 exactly:
    the value is the i-th order statistic, or its mean with the next (`_order_statistic`)."""
    t = dt.type
    target = t(percentile) / t(100) * t(n)            # rounded as scikit-learn rounds it
    if target == 0:
        target = np.nextafter(target, t(1))
    i = min(max(math.ceil(target) - 1, 0), n - 1)       # the first i with i + 1 >= target
    return i, not t(i + 1) - target > np.finfo(dt).eps


def _weighted_percentile(a: _Array, w: _Array, percentile: float) -> np.floating:
    """scikit-learn's `_weighted_percentile(a, w, percentile, average=True)` of 1-d `a` and
    `w` of one float dtype, by the same NumPy calls: its value depends on the rounding of the
    cumulative sum of the weights in sorted order (and, with negative weights, on where a
    binary search lands in a sum that is not monotone)."""
    t = a.dtype.type
    if not np.any(w):                  # all weights rounded to zero in float32
        return cast(np.floating, t(np.nan))
    order = np.argsort(a)
    cdf = np.cumsum(w[order])
    target = t(percentile) / t(100) * cdf[-1]
    if target == 0:
        target = np.nextafter(target, target + t(1))
    last = a.shape[0] - 1
    i = min(int(np.searchsorted(cdf, target)), last)
    value = a[order[i]]
    if cdf[i] - target > np.finfo(a.dtype).eps:
        return cast(np.floating, value)
    j = min(i + 1, last)
    if w[order[j]] == 0:               # the next value with weight: after the ties of cdf[i]
        j = int(np.searchsorted(cdf, cdf[i], side="right"))
        j = i if j > last else j
    with np.errstate(over="ignore"):
        return cast(np.floating, (value + a[order[j]]) / t(2))


def _quantile(y: _Array, w: Optional[_Array], percentile: float) -> np.floating:
    """scikit-learn's `_weighted_percentile(y, w or ones, percentile, average=True)` of 1-d
    `y`: a selection on a copy when there are no weights (while the sum of unit weights is
    exact in y's dtype), else its own computation."""
    n = y.shape[0]
    if w is None and n <= _EXACT_INT[y.dtype]:
        i, average = _unit_rank(n, percentile, y.dtype)
        return _order_statistic(np.array(y), i, average)
    return _weighted_percentile(y, np.ones(n, y.dtype) if w is None else w, percentile)


@overload
def median_absolute_error(y_true: ArrayLike, y_pred: ArrayLike, *,
                          multioutput: Averaged = "uniform_average",
                          sample_weight: ArrayLike | None = None) -> float: ...
@overload
def median_absolute_error(y_true: ArrayLike, y_pred: ArrayLike, *,
                          multioutput: Literal["raw_values"],
                          sample_weight: ArrayLike | None = None) -> FloatArray: ...


def median_absolute_error(y_true: ArrayLike, y_pred: ArrayLike, *,
                          multioutput: Literal["raw_values"] | Averaged = "uniform_average",
                          sample_weight: ArrayLike | None = None) -> float | FloatArray:
    """Median absolute error regression loss (scikit-learn's ``median_absolute_error``).

    The median of ``|y_pred - y_true|`` per output (with `sample_weight`, the weighted median
    of scikit-learn's ``_weighted_percentile``, averaging the two middle values where the
    weights split evenly), then averaged over the outputs as `multioutput` says.

    A median is not a sum, and no single pass accumulates it: the kernel writes
    ``|y_pred - y_true|`` in one pass (in the computation's dtype, as NumPy rounds it), and a
    selection in place on that array finds the middle order statistic(s) -- O(n), where
    scikit-learn sorts or copies.  The result equals scikit-learn's, bit for bit: the same
    order statistics, averaged the same way (``(a + b) / 2`` in the dtype); with weights, its
    own computation of the weighted median.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Ground truth (numbers; strings are refused, as scikit-learn refuses them here).
    y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Estimated target values.
    multioutput : {"raw_values", "uniform_average"} or array-like of shape (n_outputs,)
        "raw_values": one error per output; "uniform_average": their mean; weights: their
        weighted mean.
    sample_weight : array-like of shape (n_samples,), optional
        Weights of the samples (negative ones are taken as scikit-learn takes them).

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        An array for "raw_values", float32 for float32 inputs, else float64 (integers
        included); otherwise a float.

    Raises
    ------
    ValueError, TypeError
        Where scikit-learn raises them, of its class: NaN or infinity in any input,
        inconsistent lengths or outputs, empty or 3-d inputs, strings, complex data, two
        boolean inputs, sparse matrices, np.matrix, a wrong `multioutput`, weights that are
        all zero.

    Notes
    -----
    Integers are subtracted in float64, so the result is the true median for every integer
    dtype (scikit-learn subtracts them in their own dtype, which wraps around: int8 -128 and
    127 give an error of 1, uint8 2 and 1 of 255).  float16 computes in float32.

    Examples
    --------
    >>> from lossfuse.metrics import median_absolute_error
    >>> median_absolute_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
    0.5
    >>> median_absolute_error([[0.5, 1], [-1, 1], [7, -6]], [[0, 2], [-1, 2], [8, -5]],
    ...                       multioutput="raw_values")
    array([0.5, 1. ])
    """
    fname = "median_absolute_error"
    _array_like(fname, "y_true", y_true)                 # scikit-learn's order: multioutput
    _array_like(fname, "y_pred", y_pred)                 # before sample_weight
    _check_multioutput_param(fname, multioutput)
    y, p, w, how = _check_reg_targets(fname, y_true, y_pred, sample_weight, multioutput,
                                      finite=False, numeric=True)
    if w is not None:                    # scikit-learn's order: the targets, then the weights
        _check_finite(y)
        _check_finite(p)
        _weight_sum(w)                   # its errors for weights not finite or all zero
        w = w.astype(p.dtype)            # scikit-learn ranks in the dtype of |y_pred - y_true|
    run = _ABSOLUTE.run_float64 if p.dtype == _F64 else _ABSOLUTE.run_float32
    n = p.shape[0]
    errors = np.empty(p.shape[1], p.dtype)
    for j in range(p.shape[1]):
        d = np.empty(n, p.dtype)         # |y_pred - y_true| of output j, then selected in place
        if not math.isfinite(run(_OP_LOSS, y[:, j], p[:, j], None, 1, d, None, None, 1.0,
                                 _n_threads(None))):
            _check_finite(y)             # NaN or infinity in an input, or an overflow
            _check_finite(p)
        errors[j] = (_order_statistic(d, (n - 1) // 2, n % 2 == 0) if w is None
                     else _weighted_percentile(d, w, 50))
    if isinstance(how, str):
        return errors if how == "raw_values" else float(np.mean(errors))
    return float(np.average(errors, weights=how))


def _d2_pinball(fname: str, y_true: Any, y_pred: Any, sample_weight: Any, alpha: float,
                multioutput: Any) -> float | FloatArray:
    """d2_pinball_score (and d2_absolute_error_score, `fname`) once its parameters are
    checked."""
    y, p, w, multioutput = _check_reg_targets(fname, y_true, y_pred, sample_weight,
                                              multioutput)
    n, m = p.shape
    if n < 2:
        _undefined("D^2 score is not well-defined with less than two samples.", stacklevel=3)
        return float("nan")
    kernel = _kernel("pinball", float(alpha))
    run = kernel.run_float64 if p.dtype == _F64 else kernel.run_float32
    quantiles = [_quantile(y[:, j], w, alpha * 100) for j in range(m)]

    def totals_of(w: Optional[_Array], _: float) -> _Array:
        nt = _n_threads(None)
        return np.array([[run(_OP_LOSS, y[:, j], prediction, w, 1, None, None, None, 1.0, nt)
                          for prediction in (p[:, j], np.broadcast_to(quantiles[j], n))]
                         for j in range(m)])

    totals, wsum = _weighted_sums(w, n, totals_of)
    means = (totals / wsum).astype(p.dtype)
    return _assemble(means[:, 0], means[:, 1], multioutput)


@overload
def d2_pinball_score(y_true: ArrayLike, y_pred: ArrayLike, *,
                     sample_weight: ArrayLike | None = None, alpha: float = 0.5,
                     multioutput: Averaged = "uniform_average") -> float: ...
@overload
def d2_pinball_score(y_true: ArrayLike, y_pred: ArrayLike, *,
                     sample_weight: ArrayLike | None = None, alpha: float = 0.5,
                     multioutput: Literal["raw_values"]) -> FloatArray: ...


def d2_pinball_score(y_true: ArrayLike, y_pred: ArrayLike, *,
                     sample_weight: ArrayLike | None = None, alpha: float = 0.5,
                     multioutput: Literal["raw_values"] | Averaged = "uniform_average"
                     ) -> float | FloatArray:
    """D^2 score: the fraction of pinball loss explained (scikit-learn's d2_pinball_score).

    ``1 - L(y_true, y_pred) / L(y_true, q)`` per output, with L the (weighted) mean pinball
    loss of `alpha` and q the constant model: the `alpha`-quantile of that output's
    `y_true` (weighted by `sample_weight`). 1.0 is best; the constant model scores 0.0, and
    a score can be arbitrarily negative.  Where an output's `y_true` is constant (the
    denominator is 0), its score is 1.0 for a perfect prediction and 0.0 otherwise.

    A quantile is a selection, not a sum, so this is not one pass: a selection on a copy
    of each output's `y_true` finds q (the order statistic(s) scikit-learn's sort-based
    ``_weighted_percentile`` picks, so q equals its, bit for bit; with weights, its own
    computation), then the pinball kernel makes one pass for the numerator and one for the
    denominator (q broadcast, never copied).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Ground truth.
    y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Estimated target values.
    sample_weight : array-like of shape (n_samples,), optional
        Weights of the samples.
    alpha : float, default 0.5
        The quantile, in [0, 1].
    multioutput : {"raw_values", "uniform_average"} or array-like of shape (n_outputs,)
        "raw_values": one score per output; "uniform_average": their mean; weights: their
        weighted mean.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        An array, in the computation's dtype, for "raw_values"; else a float.  NaN (a
        float) for fewer than two samples, with an `UndefinedMetricWarning`.

    Raises
    ------
    ValueError, TypeError, ZeroDivisionError
        As `mean_pinball_loss` raises them.

    Examples
    --------
    >>> from lossfuse.metrics import d2_pinball_score
    >>> d2_pinball_score([1, 2, 3], [1, 3, 3])
    0.5
    >>> d2_pinball_score([1, 2, 3], [1, 2, 3], alpha=0.9)
    1.0
    """
    fname = "d2_pinball_score"
    _array_like(fname, "y_true", y_true)                 # scikit-learn's order: alpha after
    _array_like(fname, "y_pred", y_pred)                 # sample_weight, multioutput last
    _array_like(fname, "sample_weight", sample_weight, none_ok=True)
    _check_alpha(fname, alpha)
    return _d2_pinball(fname, y_true, y_pred, sample_weight, alpha, multioutput)


@overload
def d2_absolute_error_score(y_true: ArrayLike, y_pred: ArrayLike, *,
                            sample_weight: ArrayLike | None = None,
                            multioutput: Averaged = "uniform_average") -> float: ...
@overload
def d2_absolute_error_score(y_true: ArrayLike, y_pred: ArrayLike, *,
                            sample_weight: ArrayLike | None = None,
                            multioutput: Literal["raw_values"]) -> FloatArray: ...


def d2_absolute_error_score(y_true: ArrayLike, y_pred: ArrayLike, *,
                            sample_weight: ArrayLike | None = None,
                            multioutput: Literal["raw_values"] | Averaged = "uniform_average"
                            ) -> float | FloatArray:
    """D^2 score: the fraction of absolute error explained (``d2_absolute_error_score``).

    scikit-learn's ``d2_absolute_error_score``.

    `d2_pinball_score` at ``alpha=0.5``: the constant model is the (weighted) median of each
    output's `y_true`, found by a selection, equal to scikit-learn's bit for bit.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Ground truth.
    y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Estimated target values.
    sample_weight : array-like of shape (n_samples,), optional
        Weights of the samples.
    multioutput : {"raw_values", "uniform_average"} or array-like of shape (n_outputs,)
        As for `d2_pinball_score`.

    Returns
    -------
    float or ndarray of shape (n_outputs,)
        As `d2_pinball_score` returns them.

    Raises
    ------
    ValueError, TypeError, ZeroDivisionError
        As `d2_pinball_score` raises them.

    Examples
    --------
    >>> from lossfuse.metrics import d2_absolute_error_score
    >>> d2_absolute_error_score([3, -0.5, 2, 7], [2.5, 0.0, 2, 8])
    0.7647058823529411
    >>> d2_absolute_error_score([1, 2, 3], [3, 2, 1])
    -1.0
    """
    return _d2_pinball("d2_absolute_error_score", y_true, y_pred, sample_weight, 0.5,
                       multioutput)


def d2_tweedie_score(y_true: ArrayLike, y_pred: ArrayLike, *,
                     sample_weight: ArrayLike | None = None, power: float = 0) -> float:
    """D^2 score: the fraction of Tweedie deviance explained (scikit-learn's d2_tweedie_score).

    ``1 - D(y_true, y_pred) / D(y_true, m)`` with D the (weighted) mean Tweedie deviance of
    `power` (`mean_tweedie_deviance`) and m the constant model, the (weighted) mean of
    `y_true` as scikit-learn computes it.  At ``power=0`` it is the R^2 score.  1.0 is best;
    it can be arbitrarily negative.

    Not one pass: the constant model m must be known before its deviance can be summed, so
    the mean of `y_true` is taken first (NumPy's, the bits scikit-learn's model has), then
    the deviance kernel runs at the predictions (the numerator: `mean_tweedie_deviance`, to
    a few ulp) and at m (the denominator).  The quotient is taken in Python floats, as
    scikit-learn takes it.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) (or a single column)
        Ground truth.
    y_pred : array-like of shape (n_samples,) (or a single column)
        The predicted means.
    sample_weight : array-like of shape (n_samples,), optional
        Weights of the samples.
    power : float, default 0
        <= 0 or >= 1: 0 squared error, 1 Poisson, 2 gamma.

    Returns
    -------
    float
        The score; NaN for fewer than two samples, with an `UndefinedMetricWarning`.

    Raises
    ------
    ValueError, TypeError, InvalidParameterError
        As `mean_tweedie_deviance` raises them (the function named is this one).
    ZeroDivisionError
        Where the denominator is 0, as scikit-learn raises it: a constant `y_true` whose
        mean, rounded, is that constant (``[0.1] * 3`` has a mean a little off 0.1, so the
        denominator is tiny and the score a large negative number, as scikit-learn's), all
        of `y_true` 0 at ``power=1``, or sample weights that sum to zero.

    Examples
    --------
    >>> from lossfuse.metrics import d2_tweedie_score
    >>> d2_tweedie_score([0.5, 1, 2.5, 7], [1, 1, 5, 3.5], power=1)
    0.4879151349031142
    """
    if sample_weight is None and type(y_pred) is np.ndarray \
            and (y_pred.dtype is _F64 or y_pred.dtype is _F32) \
            and (type(power) is float or type(power) is int) \
            and (-math.inf < power <= 0 or 1 <= power < math.inf):
        score = _d2_tweedie_fast(y_true, y_pred, power)
        if score is not None:
            return score
    return _d2_tweedie(y_true, y_pred, sample_weight, power)


def _d2_tweedie_fast(y_true: Any, p: _Array, power: float) -> Optional[float]:
    """The short path of d2_tweedie_score -- NumPy arrays as the deviances' short path takes
    them, no weights -- or None where the full path must decide: fewer than two samples, an
    input outside the domain of `power` or not finite, a mean of y_true outside it, a
    denominator of 0.  Two passes over the data: the mean of y_true (NumPy's, the bits
    scikit-learn's constant model has), then both deviances."""
    ops = _labels_fast(y_true, p, None, p.dtype, "iu")
    if ops is None or p.shape[0] < 2:
        return None
    y = ops[0]
    n: int = p.shape[0]
    kernel = _deviance_kernel(power)
    numerator = _labels_sums(kernel, y, p, None)
    if numerator is None:
        return None
    constant = np.empty(n, p.dtype)
    constant.fill(np.add.reduce(y) / n)      # np.average(y): the same bits, in y's dtype
    denominator = _labels_sums(kernel, y, constant, None)   # None for a mean outside the domain
    if denominator is None or denominator[0] == 0:
        return None
    return 1 - (numerator[0] / n) / (denominator[0] / n)


def _d2_tweedie(y_true: Any, y_pred: Any, sample_weight: Any, power: Any) -> float:
    fname = "d2_tweedie_score"
    _array_like(fname, "y_true", y_true)                 # scikit-learn's order: power last
    _array_like(fname, "y_pred", y_pred)
    _array_like(fname, "sample_weight", sample_weight, none_ok=True)
    _check_power(fname, power)
    y, p, w = _one_output(fname, y_true, y_pred, sample_weight)
    if y.shape[0] < 2:
        _undefined("D^2 score is not well-defined with less than two samples.", stacklevel=3)
        return float("nan")
    numerator = _mean_deviance(y, p, w, power)
    mean = np.average(y, weights=w)      # the constant model, rounded as scikit-learn does
    if math.isfinite(mean) and (mean > 0 or power == 0):
        denominator = _mean_deviance(y, np.broadcast_to(mean, y.shape), w, power,
                                     domain_checked=True)
    else:                                # outside the deviance's domain: scikit-learn's value
        denominator = _naive_deviance(y, mean, w, power)
    return 1 - numerator / denominator


def _naive_deviance(y: _Array, mu: np.floating, w: Optional[_Array], power: float) -> float:
    """scikit-learn's `_mean_tweedie_deviance` of `y` at a constant mean `mu` outside the
    domain of the deviance of `power` (0, negative or not finite: all of y_true 0 at
    power >= 1, negative weights, an overflow), by its formula, where its value (0, NaN,
    infinity) is what that formula gives."""
    with np.errstate(all="ignore"):
        if power == 0:
            dev = (y - mu) ** 2
        elif power == 1:
            dev = 2 * (np.where(y == 0, 0, y * np.log(y / mu)) - y + mu)
        elif power == 2:
            dev = 2 * (np.log(mu / y) + y / mu - 1)
        else:
            dev = 2 * (np.power(np.where(y > 0, y, 0) if power < 0 else y, 2 - power)
                       / ((1 - power) * (2 - power)) - y * np.power(mu, 1 - power) / (1 - power)
                       + np.power(mu, 2 - power) / (2 - power))
        return float(np.average(dev, weights=w))


# ----------------------------------------------------------------------------- deviances
def _deviance_kernel(power: float) -> _kernels.LossKernel:
    """The kernel of the unit Tweedie deviance of `power` at the mean y_pred itself: squared
    error for power 0 (any real y_pred, as scikit-learn allows), else the poisson, gamma or
    tweedie deviance kernel -- in the mean space, so that y_true == y_pred gives 0 exactly and
    no log(y_pred) is rounded on the way."""
    k = _DEVIANCES.get(power)
    if k is None:
        k = _SQUARED if power == 0 else _kernel("poisson_deviance") if power == 1 else \
            _kernel("gamma_deviance") if power == 2 else _kernel("tweedie_deviance",
                                                                   float(power))
        if len(_DEVIANCES) > 64:         # many powers: keep the cache small
            _DEVIANCES.clear()
        _DEVIANCES[power] = k
    return k


_DEVIANCES: Dict[float, _kernels.LossKernel] = {}


def mean_tweedie_deviance(y_true: ArrayLike, y_pred: ArrayLike, *,
                          sample_weight: ArrayLike | None = None, power: float = 0) -> float:
    """Mean Tweedie deviance regression loss (scikit-learn's ``mean_tweedie_deviance``).

    The unit deviance of `y_true` at the mean `y_pred`, to a few ulp for every power (0
    exactly where y_true == y_pred, never negative).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) (or a single column)
        Ground truth.
    y_pred : array-like of shape (n_samples,) (or a single column)
        The predicted means.
    sample_weight : array-like of shape (n_samples,), optional
        Weights of the samples.
    power : float, default 0
        <= 0 or >= 1: 0 squared error, 1 Poisson, 2 gamma.

    Returns
    -------
    float
        The (weighted) mean deviance.

    Raises
    ------
    ValueError
        For `y_true` or `y_pred` outside the domain of `power` (y_pred > 0 unless power is
        0; y_true >= 0 for 1 <= power < 2, > 0 for power >= 2), more than one output, and
        the errors of `mean_squared_error`.
    InvalidParameterError
        For a `power` in (0, 1), not finite or not a real number.

    Examples
    --------
    >>> from lossfuse.metrics import mean_tweedie_deviance
    >>> mean_tweedie_deviance([2, 0, 1, 4], [0.5, 0.5, 2., 2.], power=1)
    1.4260151319598084
    """
    fname = "mean_tweedie_deviance"
    if not ((type(power) is float or type(power) is int)
            and (-math.inf < power <= 0 or 1 <= power < math.inf)):
        _check_power(fname, power)
    if type(y_pred) is np.ndarray and (y_pred.dtype is _F64 or y_pred.dtype is _F32):
        # the short path: the kernels' deviances are NaN (or a LabelError) outside the domain
        # of `power` and for inputs that are not finite, so a finite sum proves them valid
        ops = _labels_fast(y_true, y_pred, sample_weight, y_pred.dtype, "iu")
        if ops is not None:
            mean = _labels_mean(_deviance_kernel(power), ops[0], y_pred, ops[1])
            if mean is not None:
                return mean
    y, p, w = _one_output(fname, y_true, y_pred, sample_weight)
    return _mean_deviance(y, p, w, power)


def _check_power(fname: str, power: Any) -> None:
    """scikit-learn's check of a Tweedie `power` of function `fname`: a real in (-inf, 0] or
    [1, inf)."""
    if (not isinstance(power, numbers.Real) or math.isnan(power)
            or not (-math.inf < float(power) <= 0 or 1 <= float(power) < math.inf)):
        raise InvalidParameterError(
            f"The 'power' parameter of {fname} must be a float in the range (-inf, 0.0] or "
            f"a float in the range [1.0, inf). Got {power!r} instead.")


def _one_output(fname: str, y_true: Any, y_pred: Any, sample_weight: Any,
                numeric: bool = False) -> Tuple[_Array, _Array, Optional[_Array]]:
    """`_check_reg_targets` for the metrics of one output: y_true and y_pred as contiguous
    1-d arrays (a single column is one), the weights (`numeric`: as `_check_reg_targets`)."""
    y, p, w, _ = _check_reg_targets(fname, y_true, y_pred, sample_weight, "uniform_average",
                                    numeric=numeric)
    if y.shape[1] > 1:
        raise ValueError(f"Multioutput not supported in {fname}")
    return np.ascontiguousarray(y.reshape(-1)), np.ascontiguousarray(p.reshape(-1)), w


def _mean_deviance(y: _Array, p: _Array, w: Optional[_Array], power: float,
                   domain_checked: bool = False) -> float:
    """The mean Tweedie deviance of 1-d `y` at the means `p` (weighted by `w`), with
    scikit-learn's errors for values outside the domain of `power` (unless
    `domain_checked`: y is known inside it, p positive)."""
    message = f"Mean Tweedie deviance error with power={power} can only be used on "
    domain = (None if power == 0 else "strictly positive y_pred." if power < 0 else
              "non-negative y and strictly positive y_pred." if power < 2 else
              "strictly positive y and y_pred.")
    if domain is not None and not domain_checked and p.min() <= 0:
        raise ValueError(message + domain)
    kernel = _deviance_kernel(power)
    run = kernel.run_float64 if p.dtype == _F64 else kernel.run_float32

    def total_of(w: Optional[_Array], _: float) -> float:
        try:
            return run(_OP_LOSS, y, p, w, 1, None, None, None, 1.0, _n_threads(None))
        except _kernels.LabelError:          # y outside the domain: the kernel checks it
            raise ValueError(f"{message}{domain}") from None

    total, wsum = _weighted_sums(w, y.shape[0], total_of)
    return float(total / wsum)


def mean_poisson_deviance(y_true: ArrayLike, y_pred: ArrayLike, *,
                          sample_weight: ArrayLike | None = None) -> float:
    """Mean Poisson deviance regression loss (scikit-learn's ``mean_poisson_deviance``).

    `mean_tweedie_deviance` at power 1: `y_true` >= 0, `y_pred` > 0.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground truth.
    y_pred : array-like of shape (n_samples,)
        The predicted means.
    sample_weight : array-like of shape (n_samples,), optional
        Weights of the samples.

    Returns
    -------
    float
        The (weighted) mean deviance.

    Raises
    ------
    ValueError, TypeError, ZeroDivisionError
        As `mean_tweedie_deviance` raises them.

    Examples
    --------
    >>> from lossfuse.metrics import mean_poisson_deviance
    >>> mean_poisson_deviance([2, 0, 1, 4], [0.5, 0.5, 2., 2.])
    1.4260151319598084
    """
    return mean_tweedie_deviance(y_true, y_pred, sample_weight=sample_weight, power=1)


def mean_gamma_deviance(y_true: ArrayLike, y_pred: ArrayLike, *,
                        sample_weight: ArrayLike | None = None) -> float:
    """Mean Gamma deviance regression loss (scikit-learn's ``mean_gamma_deviance``).

    `mean_tweedie_deviance` at power 2: `y_true` > 0, `y_pred` > 0.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground truth.
    y_pred : array-like of shape (n_samples,)
        The predicted means.
    sample_weight : array-like of shape (n_samples,), optional
        Weights of the samples.

    Returns
    -------
    float
        The (weighted) mean deviance.

    Raises
    ------
    ValueError, TypeError, ZeroDivisionError
        As `mean_tweedie_deviance` raises them.

    Examples
    --------
    >>> from lossfuse.metrics import mean_gamma_deviance
    >>> mean_gamma_deviance([2, 0.5, 1, 4], [0.5, 0.5, 2., 2.])
    1.0568528194400548
    """
    return mean_tweedie_deviance(y_true, y_pred, sample_weight=sample_weight, power=2)


# ------------------------------------------------------------------------------ log_loss
# scikit-learn clips probabilities to [eps, 1 - eps] of their dtype, float64, float32 or
# float16 as given (anything else becomes float64); lossfuse computes float16 in float32.
_F16 = np.dtype(np.float16)
_CLIP = {dt: (float(np.finfo(dt).eps), float(dt.type(1) - np.finfo(dt).eps))
         for dt in (_F64, _F32, _F16)}
_EXACT_INT = {_F64: 2.0 ** 53, _F32: 2.0 ** 24}    # integers a float holds exactly
_TWO_TO_63 = np.float64(2.0 ** 63)


def _given_dtype(x: Any) -> _DType:
    """The float dtype of probabilities `x` as scikit-learn's check_array keeps it: float64,
    float32 or float16 when `x` is a NumPy array, or a pandas object of NumPy dtypes, of one
    of those; float64 for anything else."""
    dt = getattr(x, "dtype", None)
    if dt is None and hasattr(x, "dtypes"):                       # a DataFrame
        dtypes = list(x.dtypes)
        if dtypes and all(isinstance(d, np.dtype) for d in dtypes):
            dt = np.result_type(*dtypes)
    return dt if isinstance(dt, np.dtype) and dt in _CLIP else _F64


def _proba_kernel(clip_dt: _DType, positive: float, negative: float) -> _kernels.LossKernel:
    return _kernel("proba_log_loss", positive, negative, *_CLIP[clip_dt])


def _log_loss_fast(y_true: Any, p: Any, normalize: Any, sample_weight: Any,
                   labels: Any) -> Optional[float]:
    """The short path of binary log_loss -- 1-d NumPy arrays (`_labels_fast`), numeric labels
    of which y_true holds exactly two, probabilities in [0, 1] (so finite) -- or None.  One
    kernel pass computes the loss and checks that every label is one of the two (min and
    max)."""
    if not (type(p) is np.ndarray and labels is None and type(normalize) is bool):
        return None
    dt = p.dtype
    if not (dt is _F64 or dt is _F32):
        return None
    ops = _labels_fast(y_true, p, sample_weight, dt)
    if ops is None or (y_true.dtype.kind == "f" and y_true.dtype is not dt):
        return None
    lo, hi = y_true.min(), y_true.max()
    if not lo < hi or (y_true.dtype.kind == "f"
                       and (lo != math.floor(lo) or hi != math.floor(hi))) \
            or not (-_EXACT_INT[dt] <= lo and hi <= _EXACT_INT[dt]):
        return None                      # one label, NaN, fractions, huge: the full path
    if not (0 <= p.min() and p.max() <= 1):
        return None
    sums = _labels_sums(_proba_kernel(dt, float(hi), float(lo)), ops[0], p, ops[1])
    if sums is None:                     # a third label, weights the full path copes with
        return None
    return sums[0] / sums[1] if normalize else sums[0]


def _small_ints(a: _Array) -> Optional[int]:
    """The least value of integer array `a` when its values span a range that a table can
    index (at most 4 n + 1024 wide), else None."""
    if a.dtype.kind not in "iu" or a.size == 0:
        return None
    lo, hi = int(a.min()), int(a.max())
    lo = 0 if 0 <= lo and hi <= 4 * a.size + 1024 else lo     # no shift needed
    return lo if hi - lo <= 4 * a.size + 1024 else None


def _unique(a: _Array) -> _Array:
    """np.unique(a): by counting for integers of a small range (one pass, no sort)."""
    lo = _small_ints(a)
    if lo is None:
        return np.unique(a)
    flat = a.reshape(-1)
    return (np.flatnonzero(np.bincount(flat - lo if lo else flat)) + lo).astype(a.dtype)


def _class_index(classes: _Array, y: _Array) -> _Array:
    """np.searchsorted(classes, y) for `y` whose every value is among the sorted `classes`:
    by a table for integers of a small range."""
    lo = _small_ints(y) if classes.dtype == y.dtype else None
    if lo is None:
        return np.searchsorted(classes, y)
    table = np.zeros(int(classes[-1]) - lo + 1, np.intp)
    table[classes[classes >= lo] - lo] = np.arange(np.count_nonzero(classes < lo),
                                                   classes.shape[0])
    index: _Array = table[y - lo if lo else y]
    return index


def _integral(a: _Array) -> bool:
    """Whether float array `a` holds integers of int64's range only (no NaN or infinity)."""
    return bool(np.all((a == np.floor(a)) & (np.abs(a) < _TWO_TO_63)))


def _target_type(y: Any, a: _Array) -> Tuple[str, Optional[_Array]]:
    """scikit-learn's `type_of_target` of classification targets `y` (`a`: as an array) --
    "binary", "multiclass", "multilabel-indicator", "continuous", "unknown", or
    "multiclass-multioutput" / "continuous-multioutput" -- with its errors; and the sorted
    unique values of `a` where they were needed (else None)."""
    if a.dtype.kind == "c":
        raise ValueError("Complex data not supported\n{}\n".format(a))
    values = None
    if a.ndim == 2 and a.shape[1] > 1:
        values = _unique(a)
        if values.shape[0] < 3 and (a.dtype.kind in "biu"
                                    or (a.dtype.kind == "f" and _integral(values))):
            return "multilabel-indicator", values
    if a.ndim == 1 and a.size and isinstance(a[0], bytes):
        raise TypeError("Support for labels represented as bytes is not supported. Convert "
                        "the labels to a string or integer format.")
    if a.ndim not in (1, 2) or (a.ndim == 2 and 0 in a.shape):
        return "unknown", values
    if a.size == 0:
        return "binary", values
    if a.dtype.kind == "O" and not isinstance(a.flat[0], str):
        return "unknown", values
    suffix = "-multioutput" if a.ndim == 2 and a.shape[1] > 1 else ""
    if a.dtype.kind == "f" and not _integral(a):
        _check_finite(a)
        return "continuous" + suffix, values
    if suffix:
        return "multiclass" + suffix, values
    values = _unique(a)
    return ("multiclass" if values.shape[0] > 2 else "binary"), values


def _unique_labels(y: Any, a: _Array, kind: str, values: Optional[_Array]) -> _Array:
    """scikit-learn's `unique_labels` of targets `y` (`a`: as an array; `values`: its sorted
    unique values, or None) of type `kind`: the sorted classes, with its errors."""
    if kind == "multilabel-indicator":
        return np.arange(a.shape[1])
    if kind not in ("binary", "multiclass"):
        raise ValueError(f"Unknown label type: {(y,)!r}")
    if hasattr(y, "__array__"):
        return _unique(a) if values is None else values
    labels = set(y)                      # a sequence: its own elements, not NumPy's strings
    if len({isinstance(v, str) for v in labels}) > 1:
        raise ValueError(f"Mix of label input types (string and number); Got {values}.")
    return np.asarray(sorted(labels))


def _check_binarizable(kind: str) -> None:
    if "multioutput" in kind:
        raise ValueError("Multioutput target data is not supported with label binarization")


def _log_loss_targets(y_true: Any, labels: Any) -> Tuple[_Array, _Array]:
    """scikit-learn's LabelBinarizer as its log_loss uses it, with its errors: the sorted
    classes, and the targets as each sample's class index (shape (n,)) or as a multilabel
    indicator (n, classes)."""
    if not isinstance(y_true, Sequence) and not hasattr(y_true, "__array__"):
        raise ValueError(f"Expected array-like (array or non-string sequence), got {y_true!r}")
    y = _array(y_true, "y_true")
    if labels is None:
        kind, values = _target_type(y_true, y)
        _check_binarizable(kind)
        classes = _unique_labels(y_true, y, kind, values)
        if classes.shape[0] == 1:
            raise ValueError(f"y_true contains only one label ({classes[0]}). Please provide "
                             "the list of all expected class labels explicitly through the "
                             "labels argument.")
    else:
        if not isinstance(labels, Sequence) and not hasattr(labels, "__array__"):
            raise ValueError("Expected array-like (array or non-string sequence), got "
                             f"{labels!r}")
        la = _array(labels, "labels")
        label_kind, values = _target_type(labels, la)
        _check_binarizable(label_kind)
        if la.size == 0:
            raise ValueError(f"y has 0 samples: {labels!r}")
        classes = _unique_labels(labels, la, label_kind, values)
        if la.ndim == 1 and la.shape[0] != classes.shape[0]:
            raise ValueError(f"labels must name each class once, got {labels!r}")
        if not np.all(classes == la):
            warnings.warn(
                f"Labels passed were {labels}. But this function assumes labels are ordered "
                f"lexicographically. Pass the ordered labels={classes.tolist()} and ensure "
                "that the columns of y_prob correspond to this ordering.", UserWarning,
                stacklevel=5)
        if not np.all(np.isin(y, la)):
            undeclared = set(y_true) - set(labels)
            raise ValueError(f"y_true contains values {undeclared} not belonging to the "
                             f"passed labels {labels}.")
        if classes.shape[0] == 1:
            raise ValueError(f"The labels array needs to contain at least two labels, got "
                             f"{classes}.")
        kind, _ = _target_type(y_true, y)
        if kind.startswith("multilabel") and not label_kind.startswith("multilabel"):
            raise ValueError("The object was not fitted with multilabel input.")
        _check_binarizable(kind)
        if kind == "unknown":
            raise ValueError("The type of target data is not known")
        if kind == "continuous":
            raise ValueError(f"{kind} target data is not supported with label binarization")
        if kind == "multilabel-indicator" and classes.shape[0] != y.shape[1]:
            raise ValueError(f"classes {classes} mismatch with the labels "
                             f"{np.arange(y.shape[1])} found in the data")
    if kind == "multilabel-indicator":
        return classes, y
    return classes, _class_index(classes, y.reshape(-1))


def log_loss(y_true: ArrayLike, y_proba: ArrayLike | None = None, *, normalize: bool = True,
             sample_weight: ArrayLike | None = None, labels: ArrayLike | None = None,
             y_pred: ArrayLike = "deprecated") -> float:
    """Log loss (cross-entropy) of predicted probabilities, scikit-learn's ``log_loss``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        Labels (numbers or strings); the classes are its sorted unique values, or `labels`.
        Or a multilabel indicator, one column per class.
    y_proba : array-like of shape (n_samples,) or (n_samples, n_classes)
        Predicted probabilities: of the larger (positive) class when 1-d, else one column
        per class in sorted order.  Clipped to [eps, 1 - eps] of their dtype (float64,
        float32 or float16 as given; float64 for anything else).
    normalize : bool, default True
        True: the (weighted) mean over the samples; False: the sum.
    sample_weight : array-like of shape (n_samples,), optional
        Weights of the samples.
    labels : array-like, optional
        The classes, when y_true does not hold them all.
    y_pred : array-like, deprecated
        Former name of `y_proba` (scikit-learn 1.9 renamed it); a FutureWarning.

    Returns
    -------
    float
        The (weighted) mean log loss, or with ``normalize=False`` the sum.

    Raises
    ------
    ValueError, TypeError
        Where scikit-learn raises them, of its class: probabilities outside [0, 1], NaN or
        infinity, inconsistent lengths, one label only (without `labels`), labels that do not
        match the columns of `y_proba`, both `y_proba` and `y_pred`, sparse matrices.
    ZeroDivisionError
        For sample weights that sum to zero.

    Examples
    --------
    >>> from lossfuse.metrics import log_loss
    >>> round(log_loss(["spam", "ham", "ham", "spam"],
    ...                [[.1, .9], [.9, .1], [.8, .2], [.35, .65]]), 12)
    0.216161874681
    """
    if not (isinstance(y_pred, str) and y_pred == "deprecated"):
        if y_proba is not None:
            raise ValueError("Cannot use both `y_pred` and `y_proba`. `y_pred` is deprecated, "
                             "use `y_proba` instead.")
        warnings.warn("`y_pred` was renamed to `y_proba` in version 1.9 and will be removed "
                      "in 1.11. Use `y_proba` instead.", FutureWarning, stacklevel=2)
        y_proba = y_pred
    total = _log_loss_fast(y_true, y_proba, normalize, sample_weight, labels)
    if total is not None:
        return total
    return _log_loss(y_true, y_proba, normalize, sample_weight, labels)


def _log_loss(y_true: Any, y_proba: Any, normalize: Any, sample_weight: Any,
              labels: Any) -> float:
    fname = "log_loss"
    _array_like(fname, "y_true", y_true)
    _array_like(fname, "y_proba", y_proba, none_ok=True)
    _check_bool(fname, "normalize", normalize)
    _array_like(fname, "sample_weight", sample_weight, none_ok=True)
    _array_like(fname, "labels", labels, none_ok=True)
    if y_proba is None:
        raise ValueError("log_loss needs y_proba, the predicted probabilities")
    pa = _array(y_proba, "y_proba")
    clip_dt = _given_dtype(y_proba)
    dt = _F64 if clip_dt == _F64 else _F32
    p = _as_float(pa, dt)
    if p.ndim == 0:
        raise TypeError("Input should have at least 1 dimension i.e. satisfy "
                        f"`len(x.shape) > 0`, got scalar `{pa!r}` instead.")
    _check_shape(p)
    _check_finite(p)
    w, targets, one_column = _proba_targets(y_true, p, clip_dt, sample_weight, labels,
                                           False)
    n = p.shape[0]
    if targets.ndim == 2:                # a multilabel indicator: one column per class
        q = np.stack([1 - p.reshape(-1), p.reshape(-1)], axis=1) if one_column else p
        q = np.clip(q, *_CLIP[clip_dt])
        t = targets.astype(dt)
        losses = -np.sum(np.where(t != 0, t * np.log(q), 0), axis=1, dtype=_F64)
        return _average(lambda w, _: float(np.dot(losses, w) if w is not None
                                           else np.sum(losses)), w, n, normalize)
    if one_column:
        q = np.ascontiguousarray(p.reshape(-1))               # binary: p of the larger class
        t = targets.astype(dt)
    else:
        q = np.ascontiguousarray(p[np.arange(n), targets])    # each row's class: its loss
        t = np.ones(n, dt)
    kernel = _proba_kernel(clip_dt, 1.0, 0.0)
    run = kernel.run_float64 if dt is _F64 else kernel.run_float32
    nt = _n_threads(None)
    return _average(lambda w, _: run(_OP_LOSS, t, q, w, 1, None, None, None, 1.0, nt), w, n,
                    normalize)


def _proba_targets(y_true: Any, p: _Array, clip_dt: _DType, sample_weight: Any, labels: Any,
                   checked: bool) -> Tuple[Optional[_Array], _Array, bool]:
    """scikit-learn's checks of finite probabilities `p` (1-d or 2-d, of the given dtype
    `clip_dt`) against the targets, in its order, as log_loss and the multiclass
    brier_score_loss make them: the range of `p`, the lengths, the sample weights (numbers;
    with `checked`, also finite and not all zero, as brier_score_loss checks them here), the
    classes (`_log_loss_targets`), rows that do not sum to one (a
    warning; 2-d `p` only) and the number of classes.  Returns the weights, the targets
    (class indices, or a multilabel indicator) and whether `p` is one column (the
    probabilities of the larger class)."""
    if p.max() > 1:
        raise ValueError(f"y_prob contains values greater than 1: {p.max()}")
    if p.min() < 0:
        raise ValueError(f"y_prob contains values lower than 0: {p.min()}")
    _check_lengths(p, y_true, sample_weight)
    w = _sample_weight(None if sample_weight is None else _array(sample_weight,
                                                                 "sample_weight"),
                       p.dtype, p.shape[0], numbers_only=True)
    if w is not None and checked:
        _weight_sum(w)                   # scikit-learn's _check_sample_weight, here
    classes, targets = _log_loss_targets(y_true, labels)
    k = classes.shape[0]
    one_column = p.ndim == 1 or p.shape[1] == 1     # of the larger class: binary
    columns = 2 if one_column else p.shape[1]
    if not one_column:
        sums = _row_sums(p)
        # np.isclose(sums, 1, rtol) of finite sums, without its temporaries
        if not np.all(np.abs(sums - 1) <= _ROW_SUM_TOLERANCE[clip_dt]):
            warnings.warn("The y_prob values do not sum to one. Make sure to pass "
                          "probabilities.", UserWarning, stacklevel=4)
    if k != columns:
        if labels is None:
            raise ValueError("y_true and y_prob contain different number of classes: "
                             f"{k} vs {columns}. Please provide the true labels explicitly "
                             f"through the labels argument. Classes found in y_true: {classes}")
        raise ValueError("The number of classes in labels is different from that in y_prob. "
                         f"Classes found in labels: {classes}")
    return w, targets, one_column


#: scikit-learn's tolerance of a row sum of probabilities (in its dtype) around 1
_ROW_SUM_TOLERANCE = {dt: 1e-8 + math.sqrt(eps) for dt, (eps, _) in _CLIP.items()}


def _row_sum_tolerance(dt: _DType, k: int) -> float:
    """The tolerance of a short path's row sums of `k` probabilities of dtype `dt`, summed in
    float64 in order: scikit-learn's less what its sum (NumPy's, in `dt`) may differ by."""
    return _ROW_SUM_TOLERANCE[dt] - 4 * k * _CLIP[dt][0]


def _row_sums(p: _Array) -> _Array:
    """p.sum(axis=1) of 2-d `p`, the same bits: below 8 columns NumPy adds a row's elements in
    order, as these column additions do (without its slow reduction over short rows)."""
    if p.shape[1] >= 8:
        sums: _Array = p.sum(axis=1)
        return sums
    sums = p[:, 0].copy()
    for j in range(1, p.shape[1]):
        sums += p[:, j]
    return sums


def _average(total_of: Callable[[Optional[_Array], float], float], w: Optional[_Array], n: int,
             normalize: bool | np.bool_) -> float:
    """The sum of the losses, total_of(w, _), or their mean over `n` samples weighted by `w`
    (`normalize`)."""
    if not normalize:
        if w is not None:
            _weight_sum(w)               # its checks of the weights, without a mean
        return float(total_of(w, 1.0))
    total, denominator = _weighted_sums(w, n, total_of)
    return float(total / denominator)


# ----------------------------------------------------------- brier_score_loss, hinge_loss
def _param_error(fname: str, name: str, value: Any, allowed: str) -> InvalidParameterError:
    """scikit-learn's `validate_params` error for parameter `name` of `fname`."""
    return InvalidParameterError(f"The {name!r} parameter of {fname} must be {allowed}. "
                                 f"Got {value!r} instead.")


#: the labels of the binary kernels' default: the positive label 1, the negative 0 or -1
_SETS = (1.0, 0.0, -1.0)
_BRIER_ROWS = _kernels.RowsKernel(_kernels.ROW_METRICS["brier"])
_HINGE_ROWS = _kernels.RowsKernel(_kernels.ROW_METRICS["hinge"])


def _labels_fast(y_true: Any, p: Any, sample_weight: Any, dt: _DType, kinds: str = "biuf"
                 ) -> Optional[Tuple[_Array, Optional[_Array]]]:
    """The operands of a short path -- y_true and `p` 1-d NumPy arrays of one length, `p` of
    dtype `dt`, y_true of `dt` or of a dtype kind among `kinds` (the binary metrics' labels:
    numbers or booleans), weights None or of `dt` -- as (y_true as `dt`, weights), or
    None."""
    if not (type(p) is np.ndarray and type(y_true) is np.ndarray and p.ndim == 1
            and y_true.ndim == 1 and p.dtype is dt):
        return None
    n = p.shape[0]
    if y_true.shape[0] != n or n == 0 or (y_true.dtype is not dt
                                          and y_true.dtype.kind not in kinds):
        return None
    w = sample_weight
    if w is not None and not (type(w) is np.ndarray and w.dtype is dt and w.shape == (n,)):
        return None
    return (y_true if y_true.dtype is dt else y_true.astype(dt)), w


def _labels_sums(kernel: _kernels.LossKernel, y: _Array, p: _Array,
                 w: Optional[_Array]) -> Optional[Tuple[float, float]]:
    """(the sum of w * loss, the sum of w) of a loss-only kernel (binary labels, deviances)
    over 1-d `y` and `p` (and `w`) of one float dtype, or None where the full path must
    decide: a y outside the kernel's labels or domain (a `LabelError`), a loss that is not
    finite (an input outside its domain), weights that are not finite or sum to zero."""
    run = kernel.run_float64 if p.dtype is _F64 else kernel.run_float32
    try:
        total: float = run(_OP_LOSS, y, p, w, 1, None, None, None, 1.0, _n_threads(None))
    except _kernels.LabelError:
        return None
    return _short_sums(total, p, w)


def _short_sums(total: float, p: _Array, w: Optional[_Array]) -> Optional[Tuple[float, float]]:
    """(`total`, the sum of the weights `w`) of a short path's weighted mean over the rows of
    `p`, or None where the full path must decide: a total that is not finite, weights that
    are not finite or sum to zero, or sums that overflowed or lost bits."""
    if not math.isfinite(total):
        return None
    if w is None:
        return total, float(p.shape[0])
    denominator = _sum(w)
    if denominator == 0 or not _sums_sound(p.dtype, total, denominator):
        return None
    return total, denominator


def _rows_fast(rows: _kernels.RowsKernel, y_true: Any, p: _Array, sample_weight: Any,
               tol: float) -> Optional[Tuple[float, float]]:
    """(the sum of w * row loss, the sum of w) of a multiclass short path -- y_true a 1-d
    integer array holding every class index 0 .. K-1 and no other, `p` (n, K) of float64 or
    float32 (K <= 64), weights None or of `p`'s dtype; for the Brier score, probabilities in
    [0, 1] whose rows sum to within `tol` of 1 -- or None where the full path must decide."""
    if not (type(y_true) is np.ndarray and y_true.ndim == 1 and y_true.dtype.kind in "iu"):
        return None
    n = p.shape[0]
    w = sample_weight
    if y_true.shape[0] != n or n == 0 or (w is not None and not (
            type(w) is np.ndarray and w.dtype is p.dtype and w.shape == (n,))):
        return None
    run = rows.run_checked_float64 if p.dtype is _F64 else rows.run_checked_float32
    total = run(y_true if y_true.dtype is _I64 else y_true.astype(_I64), p, w,
                _n_threads(None), tol)
    return None if total is None else _short_sums(total, p, w)


def _labels_mean(kernel: _kernels.LossKernel, y: _Array, p: _Array,
                 w: Optional[_Array]) -> Optional[float]:
    """The (weighted) mean of `_labels_sums`, or None."""
    sums = _labels_sums(kernel, y, p, w)
    return None if sums is None else sums[0] / sums[1]


def _column(a: _Array) -> _Array:
    """scikit-learn's `column_or_1d`: a 1-d array, or a column as one."""
    if a.ndim == 1:
        return a
    if a.ndim == 2 and a.shape[1] == 1:
        return a.reshape(-1)
    raise ValueError(f"y should be a 1d array, got an array of shape {a.shape} instead.")


def _check_labels_finite(y: _Array) -> None:
    """scikit-learn's `assert_all_finite` of labels `y` (numbers: NaN and infinity refused;
    objects: NaN)."""
    if y.dtype.kind == "f":
        _check_finite(y if y.dtype.itemsize >= 4 else y.astype(_F32))
    elif y.dtype.kind == "O" and any(v != v for v in y.flat):
        raise ValueError("Input contains NaN.")


def brier_score_loss(y_true: ArrayLike, y_proba: ArrayLike, *,
                     sample_weight: ArrayLike | None = None,
                     pos_label: float | str | bool | None = None,
                     labels: ArrayLike | None = None,
                     scale_by_half: bool | Literal["auto"] = "auto") -> float:
    """Brier score of predicted probabilities, scikit-learn's ``brier_score_loss``.

    The (weighted) mean over the samples of the squared differences between the one-hot
    targets and the probabilities, summed over the classes.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Labels (numbers, booleans or strings).
    y_proba : array-like of shape (n_samples,) or (n_samples, n_classes)
        Predicted probabilities, in [0, 1]: of the positive class when 1-d (or one column),
        else one column per class in sorted order.  Computed in their dtype (float64,
        float32; float16 in float32; anything else in float64).
    sample_weight : array-like of shape (n_samples,), optional
        Weights of the samples.
    pos_label : int, float, bool or str, optional
        The positive class of a binary problem.  By default 1 when y_true takes values in
        {0, 1} or {-1, 1}, else the greater label; strings need it.
    labels : array-like of shape (n_classes,), optional
        The classes of a multiclass problem, when y_true does not hold them all.
    scale_by_half : bool or "auto", default "auto"
        Whether to halve the score (to [0, 1]); "auto": when y_proba has one or two columns.

    Returns
    -------
    float
        The Brier score.

    Raises
    ------
    ValueError, TypeError
        Where scikit-learn raises them, with its messages: probabilities outside [0, 1], NaN
        or infinity, inconsistent lengths, a y_true of more than two classes for 1-d
        probabilities, string labels without `pos_label`, labels that do not match the
        columns of `y_proba`, invalid parameters (`InvalidParameterError`).
    ZeroDivisionError
        For sample weights that sum to zero.

    Examples
    --------
    >>> from lossfuse.metrics import brier_score_loss
    >>> round(brier_score_loss([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3]), 12)
    0.0375
    >>> round(brier_score_loss(["eggs", "ham", "spam"],
    ...                        [[.8, .1, .1], [.2, .7, .1], [.2, .2, .6]]), 12)
    0.146666666667
    """
    half = scale_by_half is True or (type(scale_by_half) is str and scale_by_half == "auto")
    if (pos_label is None or type(pos_label) is float or type(pos_label) is int) \
            and (half or scale_by_half is False) and labels is None \
            and type(y_proba) is np.ndarray and (y_proba.dtype is _F64 or y_proba.dtype is _F32):
        params: Tuple[float, ...]
        if y_proba.ndim == 2:
            k = y_proba.shape[1]
            sums = _rows_fast(_BRIER_ROWS, y_true, y_proba, sample_weight,
                              _row_sum_tolerance(y_proba.dtype, k)) if k >= 2 else None
            if sums is not None:
                score = sums[0] / sums[1]
                return score * 0.5 if (scale_by_half is True or (half and k < 3)) else score
            params = ()
        elif pos_label is None:
            params = _SETS
        elif type(y_true) is np.ndarray and y_true.dtype is y_proba.dtype and y_true.size:
            negative = y_true[0] if y_true[0] != pos_label else y_true[-1]
            params = (float(pos_label), float(negative), float(negative))
        else:
            params = ()
        ops = _labels_fast(y_true, y_proba, sample_weight, y_proba.dtype) if params else None
        if ops is not None:
            mean = _labels_mean(_kernel("brier_labels", *params), ops[0], y_proba, ops[1])
            if mean is not None:
                return mean * 0.5 if half else mean
    return _brier(y_true, y_proba, sample_weight, pos_label, labels, scale_by_half)


def _brier(y_true: Any, y_proba: Any, sample_weight: Any, pos_label: Any, labels: Any,
           scale_by_half: Any) -> float:
    fname = "brier_score_loss"
    _array_like(fname, "y_true", y_true)
    _array_like(fname, "y_proba", y_proba)
    _array_like(fname, "sample_weight", sample_weight, none_ok=True)
    if not (pos_label is None or isinstance(pos_label, (numbers.Real, str, np.bool_))):
        raise _param_error(fname, "pos_label", pos_label, "an instance of 'float', an instance "
                           f"of 'str', {_BOOL} or None")
    _array_like(fname, "labels", labels, none_ok=True)
    if not (isinstance(scale_by_half, (bool, np.bool_))
            or (isinstance(scale_by_half, str) and scale_by_half == "auto")):
        raise _param_error(fname, "scale_by_half", scale_by_half,
                           f"{_BOOL} or a str among {{'auto'}}")
    pa = _array(y_proba, "y_proba")
    clip_dt = _given_dtype(y_proba)
    dt = _F64 if clip_dt == _F64 else _F32
    p = _as_float(pa, dt)
    if p.ndim == 0:
        raise TypeError("Input should have at least 1 dimension i.e. satisfy "
                        f"`len(x.shape) > 0`, got scalar `{pa!r}` instead.")
    _check_shape(p)
    _check_finite(p)
    n = p.shape[0]
    if p.ndim == 1 or p.shape[1] == 1:
        y = _column(_array(y_true, "y_true"))
        p = _column(p)
        _check_labels_finite(y)
        _check_lengths(p, y, sample_weight)
        w = _sample_weight(None if sample_weight is None else _array(sample_weight,
                                                                     "sample_weight"), dt, n,
                           numbers_only=True)
        if w is not None:
            _weight_sum(w)               # scikit-learn's _check_sample_weight, here
        kind, values = _target_type(y, y)
        if kind != "binary":
            raise ValueError(f"The type of the target inferred from y_true is {kind} but "
                             "should be binary according to the shape of y_prob.")
        if p.max() > 1:
            raise ValueError(f"y_prob contains values greater than 1: {p.max()}")
        if p.min() < 0:
            raise ValueError(f"y_prob contains values less than 0: {p.min()}")
        if pos_label is None:
            pos_label = _default_pos_label(y, values)
        t = np.ascontiguousarray(y == pos_label, dtype=dt).reshape(-1)
        kernel = _kernel("brier_labels", 1.0, 0.0, 0.0)
        run = kernel.run_float64 if dt is _F64 else kernel.run_float32
        q = np.ascontiguousarray(p)
        nt = _n_threads(None)
        score = _average(lambda w, _: run(_OP_LOSS, t, q, w, 1, None, None, None, 1.0, nt),
                         w, n, True)
        k = 2
    else:
        w, targets, _ = _proba_targets(y_true, p, clip_dt, sample_weight, labels, True)
        k = p.shape[1]
        if targets.ndim == 2:            # a multilabel indicator: one column per class
            rows = np.sum((targets.astype(dt) - p) ** 2, axis=1)
            score = _average(lambda w, _: float(np.dot(rows, w) if w is not None
                                                else np.sum(rows, dtype=_F64)), w, n, True)
        else:
            rows_run = _BRIER_ROWS.run_float64 if dt is _F64 else _BRIER_ROWS.run_float32
            y_index = targets.astype(np.int64, copy=False)
            nt = _n_threads(None)
            score = _average(lambda w, _: rows_run(y_index, p, w, nt), w, n, True)
    if scale_by_half == "auto":
        scale_by_half = k < 3
    return score * 0.5 if scale_by_half else score


def _default_pos_label(y: _Array, classes: Optional[_Array]) -> Any:
    """scikit-learn's positive label of binary labels `y` (`classes`: their sorted unique
    values, or None) when none is given: 1 for {0, 1}, {-1, 1} and their subsets holding 1
    or one class, else the greater label; strings need one."""
    classes = _unique(y) if classes is None else classes
    if classes.dtype.kind in "OUS":
        if not (classes.dtype.kind == "O" and all(isinstance(c, numbers.Number)
                                                  for c in classes.tolist())):
            shown = ", ".join(repr(c) for c in classes.tolist())
            raise ValueError(f"y_true takes value in {{{shown}}} and pos_label is not "
                             "specified: either make y_true take value in {0, 1} or {-1, 1} "
                             "or pass pos_label explicitly.")
    values = classes.tolist()
    if values in ([0, 1], [-1, 1], [0], [-1], [1]):
        return 1
    return classes[-1]


def hinge_loss(y_true: ArrayLike, pred_decision: ArrayLike, *,
               labels: ArrayLike | None = None,
               sample_weight: ArrayLike | None = None) -> float:
    """Average hinge loss of decision scores, scikit-learn's ``hinge_loss``.

    Binary (y_true of at most two classes, `labels` of at most two): the greater label is
    the positive class (+1), the other -1 (a single class: -1), and the loss of a sample is
    ``max(0, 1 - t * score)``.  Multiclass (Crammer-Singer): ``max(0, 1 - (s_y - max_{j != y}
    s_j))`` over the scores of each sample's class y and the others.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Labels (numbers, booleans or strings).
    pred_decision : array-like of shape (n_samples,) or (n_samples, n_classes)
        Decision scores: 1-d for a binary problem, one column per class (in sorted order)
        for a multiclass one.
    labels : array-like, optional
        The classes of a multiclass problem, when y_true does not hold them all.
    sample_weight : array-like of shape (n_samples,), optional
        Weights of the samples.

    Returns
    -------
    float
        The (weighted) mean hinge loss.

    Raises
    ------
    ValueError, TypeError
        Where scikit-learn raises them, with its messages: NaN or infinity, inconsistent
        lengths, scores whose shape does not fit the classes, labels of y_true missing from
        `labels`, invalid parameters (`InvalidParameterError`).
    ZeroDivisionError
        For sample weights that sum to zero.

    Examples
    --------
    >>> from lossfuse.metrics import hinge_loss
    >>> round(hinge_loss([-1, 1, 1], [-2.18, 2.36, 0.09]), 12)
    0.303333333333
    >>> round(hinge_loss([0, 1, 2, 3], [[1.27, 0.03, -0.68, -1.72], [-1.45, -0.58, -1.2, -0.7],
    ...                                [-2.36, -0.8, -0.03, -1.27], [-1.09, -0.6, -1.53, 1.22]]),
    ...       12)
    0.2775
    """
    if labels is None and type(pred_decision) is np.ndarray \
            and (pred_decision.dtype is _F64 or pred_decision.dtype is _F32):
        if pred_decision.ndim == 2:
            sums = _rows_fast(_HINGE_ROWS, y_true, pred_decision, sample_weight, 0.0) \
                if pred_decision.shape[1] >= 3 else None
            return _hinge(y_true, pred_decision, labels, sample_weight) if sums is None \
                else sums[0] / sums[1]
        p = pred_decision if pred_decision.dtype is _F64 else pred_decision.astype(_F64)
        ops = _labels_fast(y_true, p, sample_weight, _F64)
        if ops is not None:
            mean = _labels_mean(_kernel("hinge_labels", *_SETS), ops[0], p, ops[1])
            if mean is not None:
                return mean
    return _hinge(y_true, pred_decision, labels, sample_weight)


def _hinge(y_true: Any, pred_decision: Any, labels: Any, sample_weight: Any) -> float:
    fname = "hinge_loss"
    _array_like(fname, "y_true", y_true)
    _array_like(fname, "pred_decision", pred_decision)
    _array_like(fname, "labels", labels, none_ok=True)
    _array_like(fname, "sample_weight", sample_weight, none_ok=True)
    pa = _array(pred_decision, "pred_decision")
    if pa.ndim == 0:                     # scikit-learn's length check passes over it
        raise TypeError("Input should have at least 1 dimension i.e. satisfy "
                        f"`len(x.shape) > 0`, got scalar `{pa!r}` instead.")
    _check_lengths(y_true, pa, sample_weight)
    if pa.dtype.kind in "SU":
        raise ValueError("dtype='numeric' is not compatible with arrays of bytes/strings."
                         "Convert your data to numeric values explicitly instead.")
    dt = _F32 if pa.dtype.kind == "f" and pa.dtype.itemsize <= 4 else _F64
    p = _as_float(pa, dt)
    _check_shape(p)
    _check_finite(p)
    y = _column(_array(y_true, "y_true"))
    n = y.shape[0]
    classes = _unique(y if labels is None else _array(labels, "labels"))
    w = None
    if sample_weight is not None:
        wa = _array(sample_weight, "sample_weight")
        if wa.ndim != 1:
            raise TypeError("Axis must be specified when shapes of a and weights differ.")
        # NumPy's average with the weights as given: NaN weights give NaN, not an error
        w = _sample_weight(wa, _F64, n, numbers_only=True)
    if classes.size > 2:
        k = classes.size
        if p.ndim == 1:
            raise ValueError("The shape of pred_decision cannot be 1d arraywith a multiclass "
                             "target. pred_decision shape must be (n_samples, n_classes), "
                             f"that is ({n}, {k}). Got: {p.shape}")
        if p.shape[1] != k:
            if labels is None:
                raise ValueError("Please include all labels in y_true or pass labels as "
                                 "third argument")
            raise ValueError("The shape of pred_decision is not consistent with the number "
                             "of classes. With a multiclass target, pred_decision shape must "
                             f"be (n_samples, n_classes), that is ({n}, {k}). Got: {p.shape}")
        # scikit-learn's LabelEncoder: y_true in the classes' dtype (as NumPy converts it),
        # then each label's index among them
        yc = y if y.dtype == classes.dtype else y.astype(classes.dtype)
        if labels is not None:
            index = np.searchsorted(classes, yc)
            found = classes[np.minimum(index, k - 1)]
            unseen = (index >= k) | ((found != yc) & ~(_isnan(found) & _isnan(yc)))
            if np.any(unseen):           # numbers: all of them; else the first (a KeyError)
                shown = list(np.unique(yc[unseen])) if yc.dtype.kind in "biuf" \
                    else repr(yc[np.argmax(unseen)])
                raise ValueError(f"y contains previously unseen labels: {shown}")
        index = _class_index(classes, yc)
        rows_run = _HINGE_ROWS.run_float64 if dt is _F64 else _HINGE_ROWS.run_float32
        y_index = index.astype(np.int64, copy=False)
        wd = None if w is None else w.astype(dt)
        total = rows_run(y_index, p, wd, _n_threads(None))
        return _hinge_mean(total, wd, n)
    q = np.ascontiguousarray(_column(p), dtype=_F64)
    t = _binarized(y)
    run = _kernel("hinge_labels", 1.0, -1.0, -1.0).run_float64
    return _hinge_mean(run(_OP_LOSS, t, q, w, 1, None, None, None, 1.0, _n_threads(None)),
                       w, n)


def _isnan(a: _Array) -> _Array:
    """Where float array `a` is NaN (False everywhere for other dtypes)."""
    return np.isnan(a) if a.dtype.kind == "f" else np.zeros(a.shape, bool)


def _binarized(y: _Array) -> _Array:
    """Column 0 of scikit-learn's ``LabelBinarizer(neg_label=-1).fit_transform(y)``, as
    float64: +1 for the greater of two classes, -1 for the other (and for a single class);
    with three or more classes, +1 marks the smallest."""
    kind, values = _target_type(y, y)
    _check_binarizable(kind)
    if y.shape[0] == 0:
        raise ValueError(f"y has 0 samples: {y!r}")
    classes = _unique_labels(y, y, kind, values)
    if classes.shape[0] == 1:
        return np.full(y.shape[0], -1.0)
    marked = classes[1] if classes.shape[0] == 2 else classes[0]
    return np.where(y == marked, 1.0, -1.0)


def _hinge_mean(total: float, w: Optional[_Array], n: int) -> float:
    """The mean hinge loss from the sum of the (weighted) losses, as NumPy's average: NaN
    weights give NaN, a zero weight sum is a ZeroDivisionError."""
    if w is None:
        return total / n
    denominator = _sum(w)
    if denominator == 0:
        raise _zero_sum(w)
    return total / denominator
