"""scikit-learn's regression metrics and log_loss on the lossfuse kernels: same names, signatures, defaults
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
import warnings
from typing import Any, Optional

import numpy as np

import lossfuse as lf

from ._threads import resolve as _n_threads
from ._kernels import kernels as _kernels

__all__ = ["InvalidParameterError", "log_loss", "mean_absolute_error", "mean_gamma_deviance",
           "mean_pinball_loss", "mean_poisson_deviance", "mean_squared_error",
           "mean_tweedie_deviance", "root_mean_squared_error"]

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


def _check_lengths(*arrays) -> None:
    """scikit-learn's `check_consistent_length` (None skipped)."""
    lengths = [_n_samples(a) for a in arrays if a is not None]
    if len(set(lengths)) > 1:
        raise ValueError("Found input variables with inconsistent numbers of samples: "
                         f"{lengths}")


def _sample_weight(sample_weight, dt: np.dtype, n: int) -> Optional[np.ndarray]:
    """sample_weight as a 1-d array of `dt` (its length checked by `_check_lengths`)."""
    if sample_weight is None:
        return None
    w = _as_float_array(sample_weight, dt)
    if w.ndim != 1:
        raise ValueError(f"Sample weights must be 1D array or scalar, got {w.ndim}D array. "
                         f"Expected either a scalar value or a 1D array of length {n}.")
    return w


def _check_reg_targets(fname: str, y_true, y_pred, sample_weight, multioutput):
    """scikit-learn's `_check_reg_targets` (finiteness aside: see `_check_finite`):
    (y_true, y_pred) as 2-d arrays of one floating dtype, the weights, the output weights."""
    _array_like(fname, "y_true", y_true)
    _array_like(fname, "y_pred", y_pred)
    _array_like(fname, "sample_weight", sample_weight, none_ok=True)
    _check_multioutput_param(fname, multioutput)
    _check_lengths(y_true, y_pred, sample_weight)
    dt = _floating_dtype(y_true, y_pred, sample_weight)
    y = _check_2d(_as_float_array(y_true, dt))
    p = _check_2d(_as_float_array(y_pred, dt))
    w = _sample_weight(sample_weight, dt, y.shape[0])
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
        total = run(_OP_LOSS, yf, pf, w, m, None, None, None, 1.0,
                    _n_threads(None)) / (m * wsum)
        if not math.isfinite(total):
            _check_finite([(None, y), (None, p), ("sample_weight", w)])
        return float(total)
    errors = np.array([run(_OP_LOSS, y[:, j], p[:, j], w, 1, None, None, None, 1.0,
                           _n_threads(None)) for j in range(m)]) / wsum
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
                _OP_LOSS, y_true, y_pred, None, 1, None, None, None, 1.0,
                _n_threads(None)) / n
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


# ----------------------------------------------------------------------------- deviances
def _deviance_kernel(power: float):
    """The kernel of the unit Tweedie deviance of `power`: squared error on y_pred itself for
    power 0 (any real y_pred, as scikit-learn allows), else the facade's tweedie kernel for
    that power (poisson, gamma or tweedie), which takes log(y_pred)."""
    return _SQUARED if power == 0 else lf.get_loss("tweedie", power=float(power))._kernel


def mean_tweedie_deviance(y_true, y_pred, *, sample_weight=None, power=0):
    """Mean Tweedie deviance regression loss (scikit-learn's ``mean_tweedie_deviance``):
    the unit deviance of `y_true` at the mean `y_pred`, for `power` <= 0 or >= 1 (0: squared
    error, 1: Poisson, 2: gamma); y_pred > 0 unless power is 0, y_true >= 0 for
    1 <= power < 2, > 0 for power >= 2.  The kernels take the log of the mean (log link):
    log(y_pred) is one more NumPy pass.

    >>> mean_tweedie_deviance([2, 0, 1, 4], [0.5, 0.5, 2., 2.], power=1)
    1.4260151319598084
    """
    fname = "mean_tweedie_deviance"
    if (not isinstance(power, numbers.Real) or math.isnan(power)
            or not (-math.inf < power <= 0 or 1 <= power < math.inf)):
        raise InvalidParameterError(
            f"The 'power' parameter of {fname} must be a float in the range (-inf, 0.0] or "
            f"a float in the range [1.0, inf). Got {power!r} instead.")
    y, p, w, _ = _check_reg_targets(fname, y_true, y_pred, sample_weight, "uniform_average")
    if y.shape[1] > 1:
        raise ValueError(f"Multioutput not supported in {fname}")
    y, p = np.ascontiguousarray(y.reshape(-1)), np.ascontiguousarray(p.reshape(-1))
    message = f"Mean Tweedie deviance error with power={power} can only be used on "
    domain = (None if power == 0 else "strictly positive y_pred." if power < 0 else
              "non-negative y and strictly positive y_pred." if power < 2 else
              "strictly positive y and y_pred.")
    if domain is not None and p.min() <= 0:
        _check_finite([(None, y), (None, p)])
        raise ValueError(message + domain)
    kernel = _deviance_kernel(power)
    run = kernel.run_float64 if p.dtype == _F64 else kernel.run_float32
    try:
        total = run(_OP_LOSS, y, p if power == 0 else np.log(p), w, 1, None, None, None, 1.0,
                    _n_threads(None))
    except _kernels.LabelError:
        _check_finite([(None, y), (None, p)])
        raise ValueError(message + domain) from None
    total /= _weight_sum(w, y.shape[0])
    if not math.isfinite(total):
        _check_finite([(None, y), (None, p), ("sample_weight", w)])
    return float(total)


def mean_poisson_deviance(y_true, y_pred, *, sample_weight=None):
    """Mean Poisson deviance regression loss (scikit-learn's ``mean_poisson_deviance``):
    :func:`mean_tweedie_deviance` at power 1; y_true >= 0, y_pred > 0."""
    return mean_tweedie_deviance(y_true, y_pred, sample_weight=sample_weight, power=1)


def mean_gamma_deviance(y_true, y_pred, *, sample_weight=None):
    """Mean Gamma deviance regression loss (scikit-learn's ``mean_gamma_deviance``):
    :func:`mean_tweedie_deviance` at power 2; y_true > 0, y_pred > 0."""
    return mean_tweedie_deviance(y_true, y_pred, sample_weight=sample_weight, power=2)


# ------------------------------------------------------------------------------ log_loss
_EPS = {_F64: float(np.finfo(np.float64).eps), _F32: float(np.finfo(np.float32).eps)}
_ONE_MINUS_EPS = {_F64: float(1 - np.finfo(np.float64).eps),
                  _F32: float(np.float32(1) - np.finfo(np.float32).eps)}
_EXACT_INT = {_F64: 2.0 ** 53, _F32: 2.0 ** 24}    # integers a float holds exactly


def _proba_kernel(dt: np.dtype, positive: float, negative: float):
    return _kernel("proba_log_loss", positive, negative, _EPS[dt], _ONE_MINUS_EPS[dt])


def _log_loss_fast(y_true, p, normalize, sample_weight, labels):
    """The short path of binary log_loss -- 1-d NumPy arrays, numeric labels of which y_true
    holds exactly two, probabilities in [0, 1] -- or None.  One kernel pass computes the loss
    and checks that every label is one of the two (min and max)."""
    if not (type(p) is np.ndarray and type(y_true) is np.ndarray and labels is None
            and p.ndim == 1 and y_true.ndim == 1 and type(normalize) is bool):
        return None
    dt = p.dtype
    n = p.shape[0]
    if not (dt is _F64 or dt is _F32) or y_true.shape[0] != n or n == 0:
        return None
    w = sample_weight
    if w is not None and not (type(w) is np.ndarray and w.dtype is dt and w.shape == (n,)):
        return None
    kind = y_true.dtype.kind
    if kind not in "biuf" or (kind == "f" and y_true.dtype is not dt):
        return None
    lo, hi = y_true.min(), y_true.max()
    if not lo < hi or (kind == "f" and (lo != math.floor(lo) or hi != math.floor(hi))) \
            or not (-_EXACT_INT[dt] <= lo and hi <= _EXACT_INT[dt]):
        return None                      # one label, NaN, fractions, huge: the full path
    if not (0 <= p.min() and p.max() <= 1):
        return None
    y = y_true if kind == "f" else y_true.astype(dt)
    kernel = _proba_kernel(dt, float(hi), float(lo))
    try:
        total = (kernel.run_float64 if dt is _F64 else kernel.run_float32)(
            _OP_LOSS, y, p, w, 1, None, None, None, 1.0, _n_threads(None))
    except _kernels.LabelError:          # a third label: the full path
        return None
    denominator = float(n) if w is None else float(np.sum(w, dtype=_F64))
    if not math.isfinite(total) or (normalize and denominator == 0):
        return None
    return total / denominator if normalize else total


def _classes(y_true, y: np.ndarray, labels):
    """scikit-learn's classes (sorted) for the targets `y` (`y_true` as an array), and each
    target's index among them."""
    if y.dtype.kind == "f" and not np.all(np.isnan(y) | (y == np.floor(y))):
        raise ValueError(f"Unknown label type: {(y_true,)!r}")
    if labels is not None:
        classes = np.unique(np.asarray(labels))
        if not np.array_equal(classes, np.asarray(labels)):
            warnings.warn(
                f"Labels passed were {labels}. But this function assumes labels are ordered "
                f"lexicographically. Pass the ordered labels={classes.tolist()} and ensure "
                "that the columns of y_prob correspond to this ordering.", UserWarning,
                stacklevel=3)
        if not np.all(np.isin(y, classes)):
            undeclared = set(y_true) - set(labels)
            raise ValueError(f"y_true contains values {undeclared} not belonging to the "
                             f"passed labels {labels}.")
        if classes.shape[0] == 1:
            raise ValueError(f"The labels array needs to contain at least two labels, got "
                             f"{classes}.")
        return classes, np.searchsorted(classes, y)
    classes, index = np.unique(y, return_inverse=True)
    if classes.shape[0] == 1:
        raise ValueError(f"y_true contains only one label ({classes[0]}). Please provide the "
                         "list of all expected class labels explicitly through the labels "
                         "argument.")
    return classes, index.reshape(-1)


def log_loss(y_true, y_proba=None, *, normalize=True, sample_weight=None, labels=None,
             y_pred="deprecated"):
    """Log loss (cross-entropy) of predicted probabilities, scikit-learn's ``log_loss``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Labels (numbers or strings); the classes are its sorted unique values, or `labels`.
    y_proba : array-like of shape (n_samples,) or (n_samples, n_classes)
        Predicted probabilities: of the larger (positive) class when 1-d, else one column
        per class in sorted order.  Clipped to [eps, 1 - eps] of their dtype.
    normalize : bool
        True: the (weighted) mean over the samples; False: the sum.
    sample_weight : array-like of shape (n_samples,), optional
    labels : array-like, optional
        The classes, when y_true does not hold them all.
    y_pred : deprecated
        Former name of `y_proba` (scikit-learn 1.9 renamed it).

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


def _log_loss(y_true, y_proba, normalize, sample_weight, labels):
    fname = "log_loss"
    _array_like(fname, "y_true", y_true)
    _array_like(fname, "y_proba", y_proba, none_ok=True)
    if not isinstance(normalize, (bool, np.bool_)):
        raise InvalidParameterError(
            "The 'normalize' parameter of log_loss must be an instance of 'bool' or an "
            f"instance of 'numpy.bool'. Got {normalize!r} instead.")
    _array_like(fname, "sample_weight", sample_weight, none_ok=True)
    _array_like(fname, "labels", labels, none_ok=True)
    if y_proba is None:
        raise ValueError("log_loss needs y_proba, the predicted probabilities")
    dt = _F32 if getattr(y_proba, "dtype", None) in (np.float32, np.float16) else _F64
    p = _as_float_array(y_proba, dt)
    if p.ndim > 2 or p.ndim == 0 or p.shape[0] == 0:
        _check_2d(p)
    _check_finite([(None, p)])
    if p.max() > 1:
        raise ValueError(f"y_prob contains values greater than 1: {p.max()}")
    if p.min() < 0:
        raise ValueError(f"y_prob contains values lower than 0: {p.min()}")
    _check_lengths(p, y_true, sample_weight)
    w = _sample_weight(sample_weight, dt, p.shape[0])
    if w is not None:
        _weight_sum(w, p.shape[0])       # scikit-learn's errors for NaN or zero weights
    y = np.asarray(y_true)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    n = p.shape[0]
    if y.ndim == 2:                      # a multilabel indicator: one column per class
        t = y.astype(dt)
        k = y.shape[1]
        if p.ndim != 2 or p.shape[1] != k:
            raise ValueError(f"y_true and y_prob contain different number of classes: {k} vs "
                             f"{p.shape[1] if p.ndim == 2 else 2}. Please provide the true "
                             "labels explicitly through the labels argument. Classes found in "
                             f"y_true: {np.arange(k)}")
        q = np.clip(p, _EPS[dt], _ONE_MINUS_EPS[dt])
        losses = -np.sum(np.where(t != 0, t * np.log(q), 0), axis=1, dtype=_F64)
        return _average_losses(losses, w, normalize)
    classes, index = _classes(y_true, y, labels)
    k = classes.shape[0]
    columns = 2 if p.ndim == 1 or p.shape[1] == 1 else p.shape[1]
    if k != columns:
        if labels is None:
            raise ValueError("y_true and y_prob contain different number of classes: "
                             f"{k} vs {columns}. Please provide the true labels explicitly "
                             f"through the labels argument. Classes found in y_true: {classes}")
        raise ValueError("The number of classes in labels is different from that in y_prob. "
                         f"Classes found in labels: {classes}")
    if p.ndim == 2 and p.shape[1] > 1:
        sums = p.sum(axis=1)
        if not np.all(np.isclose(sums, 1, rtol=math.sqrt(_EPS[dt]))):
            warnings.warn("The y_prob values do not sum to one. Make sure to pass "
                          "probabilities.", UserWarning, stacklevel=3)
        q = np.ascontiguousarray(p[np.arange(n), index])    # each row's class: its loss
        t = np.ones(n, dt)
    else:
        q = np.ascontiguousarray(p.reshape(-1))             # binary: p of the larger class
        t = index.astype(dt)
    run = _proba_kernel(dt, 1.0, 0.0)
    total = (run.run_float64 if dt is _F64 else run.run_float32)(
        _OP_LOSS, t, q, w, 1, None, None, None, 1.0, _n_threads(None))
    if not normalize:
        return float(total)
    return float(total / _weight_sum(w, n))


def _average_losses(losses: np.ndarray, w: Optional[np.ndarray], normalize: bool) -> float:
    if not normalize:
        return float(np.sum(losses if w is None else losses * w))
    return float(np.average(losses, weights=w))
