"""lossfuse losses as LightGBM objectives.

>>> import lightgbm as lgb
>>> from lossfuse.lightgbm import objective, init_score
>>> f = objective("squared_error")
>>> # lgb.train({"objective": f}, lgb.Dataset(X, y, init_score=np.full(len(y), init_score(
>>> #     "squared_error", y))))  or  lgb.LGBMRegressor(objective=f)

``objective(name, **params)`` returns one callable that both APIs accept: the native
``lgb.train({"objective": f}, ...)`` (called as ``f(preds, dataset)``, weights from the
Dataset) and the scikit-learn ``LGBMRegressor(objective=f)`` / ``LGBMClassifier`` (called as
``f(y_true, y_pred, weight)``).  Gradients and hessians are per sample and weighted, in
LightGBM's conventions: ``squared_error`` has grad ``p - y`` and hess 1 (as ``regression``),
``cross_entropy`` (with ``num_class``: raw scores of shape (n, K)) the softmax gradient and
``K / (K - 1)`` times its diagonal hessian (as ``multiclass``), and losses whose hessian is 0
(L1, pinball, hinge, Huber's tails) a hessian of 1.  Other hessians are the exact ones:
where they vanish in the tails (``log_cosh``, ``pseudo_huber``) LightGBM's leaf values
(-sum g / sum h) can blow up unless ``lambda_l2`` is set (1 is XGBoost's default ``lambda``).
``init_score(name, y, sample_weight)`` is the raw score LightGBM's own objective starts from
(``boost_from_average``), and for losses LightGBM does not have the best constant: pass it as
the Dataset's ``init_score`` (``np.tile(s, (n, 1))`` for multiclass) and add it to
``predict(raw_score=True)``.
"""

from __future__ import annotations

from typing import SupportsIndex, overload

import numpy as np
from numpy.typing import NDArray

from ._optional import import_optional

import_optional("lightgbm", "lossfuse.lightgbm")   # without it: an error naming the extra
import lightgbm as lgb  # noqa: E402

from ._api import LossParameter, RealArrayLike  # noqa: E402
from ._boosting import GradHess  # noqa: E402
from ._losses import CrossEntropyName, ElementwiseName  # noqa: E402
from ._boosting import Objective as _Objective  # noqa: E402
from ._boosting import constant_score, lightgbm_class_scores  # noqa: E402

__all__ = ["LightGBMObjective", "init_score", "objective"]


class LightGBMObjective(_Objective):
    """A lossfuse loss as a LightGBM objective, for the native and the scikit-learn APIs.

    Parameters
    ----------
    name : str
        A lossfuse loss name or alias, as for `lossfuse.get_loss`.
    **params : float, array-like or None
        The loss's parameters.

    See Also
    --------
    objective : The same, as a function (see the module docstring).
    """

    def multiclass_factor(self, k: int) -> float:
        """The factor of ``cross_entropy``'s diagonal hessian, as LightGBM's ``multiclass`` has it.

        Parameters
        ----------
        k : int
            The number of classes.

        Returns
        -------
        float
            ``k / (k - 1.0)``.
        """
        return k / (k - 1.0)

    def __call__(self, a: RealArrayLike, b: RealArrayLike | lgb.Dataset,
                 weight: RealArrayLike | None = None) -> GradHess:
        """Per-sample gradients and hessians, weighted.

        `grad_hess` of the labels, raw scores and weights the API passes.

        Parameters
        ----------
        a : array-like
            The raw scores (native API), or the labels (scikit-learn API).
        b : lightgbm.Dataset or array-like
            The training Dataset, with the labels and weights (native API), or the raw
            scores (scikit-learn API).
        weight : array-like of shape (n,), optional
            The sample weights (scikit-learn API).

        Returns
        -------
        gradient : ndarray of float64
            As `grad_hess` gives it.
        hessian : ndarray of float64
            As `grad_hess` gives it.
        """
        if isinstance(b, lgb.Dataset):                 # native: (preds, train_data)
            return self.grad_hess(b.get_label(), a, b.get_weight())
        return self.grad_hess(a, b, weight)            # scikit-learn: (y_true, y_pred, weight)


def objective(name: str, **params: LossParameter) -> LightGBMObjective:
    """The lossfuse loss `name` as a LightGBM objective (native and scikit-learn APIs).

    Parameters
    ----------
    name : str
        A lossfuse loss name or alias, as for `lossfuse.get_loss`.
    **params : float, array-like or None
        The loss's parameters.

    Returns
    -------
    LightGBMObjective
        ``lgb.train({"objective": f}, ...)`` calls it as ``f(preds, dataset)``,
        ``LGBMRegressor(objective=f)`` as ``f(y_true, y_pred, weight)``.

    Raises
    ------
    ValueError, TypeError
        As `lossfuse.get_loss` raises them.

    Examples
    --------
    >>> import numpy as np
    >>> from lossfuse.lightgbm import objective
    >>> f = objective("squared_error")
    >>> f(np.array([0.0, 1.0]), np.array([0.5, 3.0]))
    (array([0.5, 2. ]), array([1., 1.]))
    """
    return LightGBMObjective(name, **params)


# The start is an array of class scores for cross_entropy, a float for the other losses.
@overload
def init_score(name: CrossEntropyName, y: RealArrayLike,
               sample_weight: RealArrayLike | None = None, *,
               num_class: SupportsIndex | None = None,
               **params: LossParameter) -> NDArray[np.float64]: ...
@overload
def init_score(name: ElementwiseName, y: RealArrayLike,
               sample_weight: RealArrayLike | None = None, *, num_class: None = None,
               **params: LossParameter) -> float: ...
@overload
def init_score(name: str, y: RealArrayLike, sample_weight: RealArrayLike | None = None, *,
               num_class: SupportsIndex | None = None,
               **params: LossParameter) -> float | NDArray[np.float64]: ...


def init_score(name: str, y: RealArrayLike, sample_weight: RealArrayLike | None = None, *,
               num_class: SupportsIndex | None = None,
               **params: LossParameter) -> float | NDArray[np.float64]:
    """The constant raw score to start boosting the loss `name` from.

    For the losses LightGBM has, the score its own objective starts from (its
    ``boost_from_average``): the weighted mean of ``y`` for ``squared_error`` and ``huber``;
    LightGBM's percentile of ``y`` at 0.5 for ``absolute_error`` and at ``alpha`` for
    ``pinball`` (linear interpolation; with weights, LightGBM's weighted rule); the log of the
    weighted mean for ``poisson``, ``gamma`` and ``tweedie``; the logit of the weighted mean,
    clamped to [1e-15, 1 - 1e-15] (LightGBM's float32 ``kEpsilon``), for
    ``binary_cross_entropy``; the log of the weighted class frequencies, floored at that
    epsilon, for ``cross_entropy``.  Otherwise the exact minimiser of the weighted loss over a
    constant: with ``pos_weight``, ``class_weight``, ``ignore_index`` or ``label_smoothing``
    (clamped and floored as above), and for ``smooth_l1``, ``pseudo_huber``, ``log_cosh``,
    ``hinge``, ``squared_hinge`` and ``exponential`` (half the logit of the weighted share of
    positive labels, clipped to [2.2e-15, 1 - 2.2e-15] as scikit-learn's exponential loss
    clips it, so that a single class gives a finite score).

    Parameters
    ----------
    name : str
        A lossfuse loss name or alias.
    y : array-like of shape (n,)
        The labels; ``cross_entropy`` takes class indices, or probabilities of shape (n, K).
        They are checked as the loss checks ``y_true``, with its errors.
    sample_weight : array-like of shape (n,), optional
        Non-negative weights that do not sum to zero.
    num_class : int, optional
        ``cross_entropy``'s number of classes K (LightGBM's ``num_class``).  Default: the
        length of ``class_weight``, else the width of probability targets, else the largest
        class index in ``y`` (other than ``ignore_index``) plus one.
    **params : float, array-like or None
        The loss's parameters.

    Returns
    -------
    float, or ndarray of shape (K,) for ``cross_entropy``
        NaN where ``y`` or ``sample_weight`` holds NaN.

    Raises
    ------
    ValueError
        For labels the loss refuses, empty ``y``, negative weights, weights summing to zero,
        no row left to count (``cross_entropy``), and where the best score is not finite (the
        weighted mean of ``y`` is 0 for ``poisson``, say, whose start is its log).
    TypeError
        For a `num_class` with a loss other than ``cross_entropy``, and as
        `lossfuse.get_loss` raises them.

    Examples
    --------
    >>> from lossfuse.lightgbm import init_score
    >>> init_score("poisson", [1.0, 2.0, 3.0])           # the log of the mean
    0.6931471805599453
    >>> init_score("cross_entropy", [0, 1, 1, 1])        # log class frequencies
    array([-1.38629436, -0.28768207])
    """
    return constant_score(name, y, sample_weight, num_class, params, lightgbm_class_scores)
