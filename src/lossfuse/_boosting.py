"""What the LightGBM and XGBoost adapters share: per-sample gradients and hessians from the
kernels, scaled as each library's built-in objectives scale them, and the constant raw score
to boost from (`constant_score`): LightGBM's own starting score for the losses LightGBM has,
else the exact minimiser of the weighted loss over a constant (clamped where it is infinite,
as the peers clamp it).  `lossfuse.lightgbm.init_score` documents it loss by loss."""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional, SupportsIndex, Tuple

import numpy as np
from numpy.typing import NDArray

import lossfuse as lf
from . import _api
from ._api import LossParameter, _Array

#: per-sample gradients and hessians, as a boosting library takes them
GradHess = Tuple[NDArray[np.float64], NDArray[np.float64]]
#: a rule for the best constant of a loss (not cross_entropy): (loss, y, w) -> raw score
_Rule = Callable[[lf.Loss, _Array, Optional[_Array]], float]

# losses whose hessian is 0 (or 0 outside a band): the libraries' built-in objectives for
# them (L1, quantile, Huber) use a hessian of 1 there, so a Newton step stays finite
_ZERO_HESSIAN = {"absolute_error", "pinball", "hinge", "huber", "smooth_l1"}
# XGBoost's floor for hessians (its logistic and softmax objectives); the multiclass hessian
# factor is each adapter's `multiclass_factor`
_HESSIAN_FLOOR = 1e-16


class Objective:
    """A lossfuse loss as a gradient-boosting objective: ``grad_hess(y, raw, w)`` gives the
    per-sample gradient and hessian of the loss at the raw scores, weighted, in the library's
    conventions.  The library adapters make it callable."""

    library = ""

    def __init__(self, name: str, **params: LossParameter) -> None:
        self.loss = _api._make(name, params)
        self.name = self.loss.name

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.loss.params.items())
        return f"{type(self).__module__}.objective({self.name!r}{args})"

    def multiclass_factor(self, k: int) -> float:
        """The factor of ``cross_entropy``'s diagonal hessian for `k` classes, in the
        library's convention."""
        raise NotImplementedError

    def grad_hess(self, y: Any, raw: Any, w: Any = None) -> GradHess:
        """Per-sample gradients and hessians at raw scores `raw`, weighted.

        Parameters
        ----------
        y : array-like
            The labels, as the libraries give them (arrays, lists, pandas objects), checked
            as the loss checks ``y_true``.
        raw : array-like
            The raw scores: of shape (n,), or (n, K) for ``cross_entropy``.
        w : array-like of shape (n,), optional
            The sample weights.

        Returns
        -------
        gradient : ndarray of float64
            Of the raw scores' shape: the loss's gradient, times the weights.
        hessian : ndarray of float64
            Of the raw scores' shape: the loss's diagonal hessian in the library's
            conventions, times the weights.

        Raises
        ------
        ValueError
            For labels the loss refuses, or ``cross_entropy`` without one score per class.
        """
        p = np.asarray(raw, dtype=np.float64)
        if self.name == "cross_entropy" and p.ndim != 2:
            raise ValueError("cross_entropy needs one raw score per class: set num_class "
                             f"(got raw scores of shape {p.shape})")
        g, h = self.loss.gradient_hessian(y, p, reduction="none")    # it checks the labels
        if self.name == "squared_error":          # the libraries' L2: grad p - y, hess 1
            g *= 0.5
            h *= 0.5
        elif self.name == "cross_entropy":
            h *= self.multiclass_factor(p.shape[1])
        if self.name in _ZERO_HESSIAN:
            h[h <= 0] = 1.0
        np.maximum(h, _HESSIAN_FLOOR, out=h)
        if w is not None and np.size(w):
            weights = np.asarray(w, dtype=np.float64)
            ww = weights[:, None] if g.ndim == 2 else weights
            g *= ww
            h *= ww
        return g, h


# LightGBM's kEpsilon, a float32 constant (1e-15f): its binary objective clamps the mean
# label to [kEpsilon, 1 - kEpsilon] before the logit, its multiclass objective each class
# frequency to >= kEpsilon before the log
LIGHTGBM_EPSILON = float(np.float32(1e-15))
# scikit-learn's clip of the mean label before the half logit, for its exponential loss
_SKLEARN_EPSILON = 10 * float(np.finfo(np.float64).eps)
# num_class is a 32-bit int in LightGBM and XGBoost
_MAX_CLASSES = 2**31 - 1


def lightgbm_class_scores(probabilities: _Array) -> NDArray[np.float64]:
    """LightGBM's multiclass start: log of each class probability, floored at kEpsilon."""
    return np.log(np.maximum(probabilities, LIGHTGBM_EPSILON))


def _num_classes(loss: lf.CrossEntropyLoss, y: _Array, num_class: Optional[SupportsIndex]
                 ) -> int:
    """K: `num_class`, else class_weight's length, else that of probability rows, else the
    largest class index in y (ignore_index aside) plus one."""
    class_weight = loss.params["class_weight"]
    if num_class is not None:
        num_class = _api._integer("num_class", num_class)
        if not 1 <= num_class <= _MAX_CLASSES:
            raise ValueError(f"num_class must be in [1, 2**31 - 1], got {num_class}")
        if class_weight is not None and len(class_weight) != num_class:
            raise ValueError(f"num_class is {num_class} but class_weight has "
                             f"{len(class_weight)} elements")
        return num_class
    if class_weight is not None:
        return len(class_weight)
    if y.ndim == 2:
        return int(y.shape[1])
    if y.dtype.kind not in "biuf":
        return 1                                   # the loss refuses y: any K will do
    labels = y[np.isfinite(y)] if y.dtype.kind == "f" else y.reshape(-1)
    if loss.params["ignore_index"] is not None:
        labels = labels[labels != loss.params["ignore_index"]]
    top = labels.max(initial=0)
    # larger indices: the loss's check (with this K) names the first
    return int(min(top, _MAX_CLASSES - 1)) + 1


def _validated(loss: lf.Loss, y: Any, sample_weight: Any, num_class: Any
               ) -> Tuple[_Array, Optional[_Array], Optional[int]]:
    """``(y, w, K)``: the labels as an array, the weights as float64 (None if not given) and
    cross_entropy's number of classes (None for the others), after the loss's own checks of
    y_true and sample_weight (its errors, on a prediction of 0) and those of a best constant:
    at least one label, weights >= 0 that do not sum to zero."""
    y = _api._as_array(y, "y_true")
    K = None
    if isinstance(loss, lf.CrossEntropyLoss):
        K = _num_classes(loss, y, num_class)
        predictions = (y.shape[0] if y.ndim else 1, K)
    elif num_class is not None:
        raise TypeError(f"num_class applies to cross_entropy only, not {loss.name}")
    else:
        predictions = y.shape
    loss.loss(y, np.broadcast_to(0.0, predictions), sample_weight=sample_weight,
              reduction="sum")
    if K is None and y.ndim != 1:
        raise ValueError(f"y must hold one label per sample (1-d), got shape {y.shape}")
    if len(y) == 0:
        raise ValueError("y is empty: a best constant needs at least one label")
    w = None
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=np.float64)
        negative = np.flatnonzero(w < 0)
        if negative.size:
            i = int(negative[0])
            raise ValueError(f"sample_weight must be >= 0 for a best constant; "
                             f"sample_weight[{i}] = {w[i]}")
        if w.sum() == 0:
            raise ValueError("sample_weight sums to zero: no label carries weight, so no "
                             "constant is best")
    return y, w, K


def _mean(y: _Array, w: Optional[_Array]) -> float:
    return float(np.mean(y) if w is None else np.dot(w, y) / np.sum(w))


def _lightgbm_percentile(y: _Array, w: Optional[_Array], alpha: float) -> float:
    """LightGBM's percentile of the labels at `alpha`, as LightGBM 4.7 computes it for its
    L1 and quantile objectives (`PercentileFun` and `WeightedPercentileFun`; its Python
    package drops weights that are all 1): unweighted, linear interpolation between order
    statistics; weighted, the first label whose cumulative weight exceeds alpha times the
    total, interpolated from the label below it when its own weight is at least 1."""
    n = len(y)
    if n == 1:
        return float(y[0])
    if w is None or np.all(w == 1):     # linear interpolation, counted from the largest
        position = (n - 1) * (1.0 - alpha)
        k = int(position)
        descending = np.sort(y)[::-1]
        high, low = descending[k], descending[min(k + 1, n - 1)]
        return float(high - (high - low) * (position - k))
    order = np.argsort(y, kind="stable")
    ys, cdf = y[order], np.cumsum(w[order])
    threshold = cdf[-1] * alpha
    k = min(int(np.searchsorted(cdf, threshold, side="right")), n - 1)
    if k == 0 or k == n - 1:
        return float(ys[k])
    step = cdf[k] - cdf[k - 1]          # the weight of ys[k]: interpolate if it is >= 1
    if step >= 1.0:
        return float((threshold - cdf[k - 1]) / step * (ys[k] - ys[k - 1]) + ys[k - 1])
    return float(ys[k - 1])


def _log_of_mean(loss: lf.Loss, y: _Array, w: Optional[_Array]) -> float:
    mean = _mean(y, w)
    if not mean > 0:
        raise ValueError(f"the weighted mean of y is {mean}: {loss.name}'s best raw score, "
                         "its log, is not finite")
    return float(np.log(mean))


def _logit(p: float, eps: float) -> float:
    p = min(max(p, eps), 1.0 - eps)
    return float(np.log(p / (1.0 - p)))


def _binary_cross_entropy(loss: lf.Loss, y: _Array, w: Optional[_Array]) -> float:
    # the minimiser is sigmoid^-1 of pos_weight * S1 / (pos_weight * S1 + S0), S1 and S0 the
    # weight of y and of 1 - y; written over W = S1 + S0 it is LightGBM's pavg = S1 / W when
    # pos_weight is 1
    total = float(len(y) if w is None else np.sum(w))
    positive = float(np.sum(y) if w is None else np.dot(w, y))
    pos_weight = loss.params["pos_weight"]
    return _logit(pos_weight * positive / (total + (pos_weight - 1.0) * positive),
                  LIGHTGBM_EPSILON)


def _sign_weights(y: _Array, w: Optional[_Array]) -> Tuple[float, float]:
    """(weight of the labels +1, weight of the others) for labels {0, 1} or {-1, 1}."""
    positive = y == 1
    w = np.ones_like(y) if w is None else w
    return float(np.sum(w[positive])), float(np.sum(w[~positive]))


def _hinge(loss: lf.Loss, y: _Array, w: Optional[_Array]) -> float:
    # W+ max(0, 1 - c) + W- max(0, 1 + c) is linear on [-1, 1] with slope W- - W+, and grows
    # outside: the minimiser is +1 or -1, whichever side weighs more (0 on a tie)
    positive, negative = _sign_weights(y, w)
    return float(np.sign(positive - negative))


def _squared_hinge(loss: lf.Loss, y: _Array, w: Optional[_Array]) -> float:
    positive, negative = _sign_weights(y, w)
    return (positive - negative) / (positive + negative)


def _exponential(loss: lf.Loss, y: _Array, w: Optional[_Array]) -> float:
    # W+ exp(-c) + W- exp(c) is least at c = log(W+ / W-) / 2: scikit-learn's start for its
    # exponential loss, which clips the share of positives so that one class alone stays finite
    positive, negative = _sign_weights(y, w)
    return 0.5 * _logit(positive / (positive + negative), _SKLEARN_EPSILON)


def _minimiser(loss: lf.Loss, y: _Array, w: Optional[_Array]) -> float:
    """The constant c minimising sum w * loss(y, c), for a convex loss of c - y whose gradient
    is 0 at c = y: the zero of the gradient sum G, which lies in [min y, max y].  Newton steps
    from the mean, kept inside a bracket of the zero that every step shrinks (a step that
    would leave it, or a hessian sum of 0, halves it instead); the float where G is 0 or where
    no step moves c any more."""
    lo, hi = float(np.min(y)), float(np.max(y))
    c = min(max(_mean(y, w), lo), hi)
    for _ in range(2100):            # bisection alone needs at most ~2100 steps in float64
        g, h = loss.gradient_hessian(y, np.full_like(y, c), sample_weight=w, reduction="none")
        G, H = float(np.sum(g)), float(np.sum(h))
        if G == 0:
            break
        if G < 0:
            lo = c
        else:
            hi = c
        step = c - G / H if H > 0 else np.nan
        new = step if lo < step < hi else lo + (hi - lo) / 2
        if new == c or not lo < new < hi:
            break
        c = new
    return c


def _percentile(alpha: Callable[[lf.Loss], float]) -> _Rule:
    return lambda loss, y, w: _lightgbm_percentile(y, w, alpha(loss))


_RULES: Dict[str, _Rule] = {
    "squared_error": lambda loss, y, w: _mean(y, w),
    "huber": lambda loss, y, w: _mean(y, w),
    "absolute_error": _percentile(lambda loss: 0.5),
    # LightGBM's quantile objective keeps alpha as a float32
    "pinball": _percentile(lambda loss: float(np.float32(loss.params["alpha"]))),
    "poisson": _log_of_mean,
    "gamma": _log_of_mean,
    "tweedie": _log_of_mean,
    "binary_cross_entropy": _binary_cross_entropy,
    "hinge": _hinge,
    "squared_hinge": _squared_hinge,
    "exponential": _exponential,
    "pseudo_huber": _minimiser,
    "log_cosh": _minimiser,
    # beta = 0 is absolute_error exactly
    "smooth_l1": lambda loss, y, w: (_minimiser(loss, y, w) if loss.params["beta"] else
                                     _lightgbm_percentile(y, w, 0.5)),
}


def _class_probabilities(loss: lf.CrossEntropyLoss, y: _Array, w: Optional[_Array],
                         K: int) -> _Array:
    """The class probabilities p minimising the weighted cross_entropy of constant logits
    log p: p_c proportional to A_c = class_weight_c * ((1 - s) M_c + s R / K), M_c the weight
    of class c in the targets, R that of the rows counted (not ignored), s the label
    smoothing.  Without class weights, smoothing or ignored rows: the class frequencies."""
    w = np.ones(len(y)) if w is None else w
    if y.ndim == 2:                                    # probabilities
        mass, rows = w @ y.astype(np.float64), float(np.sum(w))
    else:
        ignore = loss.params["ignore_index"]
        counted = np.ones(len(y), bool) if ignore is None else y != ignore
        mass = np.bincount(y[counted].astype(np.int64), weights=w[counted], minlength=K)
        rows = float(np.sum(w[counted]))
    class_weight = loss.params["class_weight"]
    smoothing = loss.params["label_smoothing"]
    a = (1.0 - smoothing) * mass + smoothing * rows / K
    if class_weight is not None:
        a = a * np.asarray(class_weight)
    total = float(np.sum(a))
    if total == 0:
        raise ValueError("no label carries weight (every row ignored, or of weight 0 for its "
                         "class): no constant is best")
    probabilities: _Array = a / total
    return probabilities


def constant_score(name: str, y: Any, sample_weight: Any, num_class: Any,
                   params: Mapping[str, LossParameter],
                   class_scores: Callable[[_Array], NDArray[np.float64]]
                   ) -> float | NDArray[np.float64]:
    """The constant raw score to boost from, as the module docstring says, for the loss `name`
    with `params`: a float, or for cross_entropy ``class_scores(class probabilities)``.  The
    labels and weights are checked as the loss checks them (its errors); NaN in either gives
    NaN."""
    loss = _api._make(name, params)
    y, w, K = _validated(loss, y, sample_weight, num_class)
    if isinstance(loss, lf.CrossEntropyLoss) and K is not None:
        if w is not None and np.isnan(w).any() or y.ndim == 2 and np.isnan(y).any():
            return np.full(K, np.nan)
        return class_scores(_class_probabilities(loss, y, w, K))
    y = y.astype(np.float64)
    if np.isnan(y).any() or w is not None and np.isnan(w).any():
        return float("nan")
    return float(_RULES[loss.name](loss, y, w))
