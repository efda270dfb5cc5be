"""lossfuse losses as XGBoost objectives.

``objective(name, **params)`` returns one callable that both APIs accept: the native
``xgb.train(params, dtrain, obj=f)`` (called as ``f(predt, dtrain)``, weights from the
DMatrix) and the scikit-learn ``XGBRegressor(objective=f)`` / ``XGBClassifier`` (called as
``f(y_true, y_pred, sample_weight=...)``).  Gradients and hessians are per sample and
weighted, in XGBoost's conventions: ``squared_error`` has grad ``p - y`` and hess 1 (as
``reg:squarederror``), ``cross_entropy`` (with ``num_class``: raw scores of shape (n, K)) the
softmax gradient and twice its diagonal hessian (as ``multi:softprob``), hessians floored at
1e-16, and losses whose hessian is 0 (L1, pinball, hinge, Huber's tails) a hessian of 1.
``init_score(name, y, sample_weight)`` is the raw score (margin) to start from: pass it as
``base_margin`` (``np.tile(s, (n, 1))`` for multiclass) when training and predicting.
"""

from __future__ import annotations

from typing import SupportsIndex, overload

import numpy as np
from numpy.typing import NDArray

from ._optional import import_optional

import_optional("xgboost", "lossfuse.xgboost")   # without it: an error naming the extra
import xgboost as xgb  # noqa: E402

from ._api import LossParameter, RealArrayLike, _Array  # noqa: E402
from ._boosting import GradHess  # noqa: E402
from ._losses import CrossEntropyName, ElementwiseName  # noqa: E402
from ._boosting import Objective as _Objective  # noqa: E402
from ._boosting import constant_score  # noqa: E402

# XGBoost's kRtEps (1e-6f), added to each class frequency before the log of its multiclass
# intercept
_XGBOOST_EPSILON = float(np.float32(1e-6))

__all__ = ["XGBoostObjective", "init_score", "objective"]


class XGBoostObjective(_Objective):
    """A lossfuse loss as a XGBoost objective, for the native and the scikit-learn APIs.

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
        """The factor of ``cross_entropy``'s diagonal hessian, as ``multi:softprob`` has it.

        Parameters
        ----------
        k : int
            The number of classes.

        Returns
        -------
        float
            ``2.0``.
        """
        return 2.0

    def __call__(self, a: RealArrayLike, b: RealArrayLike | xgb.DMatrix, *,
                 sample_weight: RealArrayLike | None = None) -> GradHess:
        """Per-sample gradients and hessians, weighted.

        `grad_hess` of the labels, raw scores and weights the API passes.

        Parameters
        ----------
        a : array-like
            The raw scores (native API), or the labels (scikit-learn API).
        b : xgboost.DMatrix or array-like
            The training DMatrix, with the labels and weights (native API), or the raw
            scores (scikit-learn API).
        sample_weight : array-like of shape (n,), optional
            The sample weights (scikit-learn API).

        Returns
        -------
        gradient : ndarray of float64
            As `grad_hess` gives it.
        hessian : ndarray of float64
            As `grad_hess` gives it.
        """
        if isinstance(b, xgb.DMatrix):                 # native: (predt, dtrain)
            return self.grad_hess(b.get_label(), a, b.get_weight())
        return self.grad_hess(a, b, sample_weight)     # scikit-learn: (y_true, y_pred)


def _class_scores(probabilities: _Array) -> NDArray[np.float64]:
    """multi:softprob's intercept: log(frequency + kRtEps) of each class, centred."""
    scores = np.log(probabilities + _XGBOOST_EPSILON)
    centred: NDArray[np.float64] = scores - np.mean(scores)
    return centred


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
    """The constant margin to start boosting the loss `name` from.

    As ``lossfuse.lightgbm.init_score`` (same parameters, checks and errors), except for
    ``cross_entropy``: there it is XGBoost's own ``multi:softprob`` intercept, the centred
    ``log(p + 1e-6)`` of the class probabilities ``p`` (the weighted class frequencies, or
    with ``class_weight``, ``ignore_index`` or ``label_smoothing`` the probabilities
    minimising the loss).  For ``squared_error`` and ``binary_cross_entropy`` it equals the
    intercept XGBoost estimates for ``reg:squarederror`` and ``binary:logistic`` when both
    labels occur.

    Parameters
    ----------
    name : str
        A lossfuse loss name or alias.
    y : array-like of shape (n,)
        The labels, as for `lossfuse.lightgbm.init_score`.
    sample_weight : array-like of shape (n,), optional
        As for `lossfuse.lightgbm.init_score`.
    num_class : int, optional
        As for `lossfuse.lightgbm.init_score`.
    **params : float, array-like or None
        The loss's parameters.

    Returns
    -------
    float, or ndarray of shape (K,) for ``cross_entropy``
        NaN where ``y`` or ``sample_weight`` holds NaN.

    Raises
    ------
    ValueError, TypeError
        As `lossfuse.lightgbm.init_score` raises them.

    Examples
    --------
    >>> from lossfuse.xgboost import init_score
    >>> init_score("binary_cross_entropy", [0, 1, 1, 1])   # the logit of the mean
    1.0986122886681098
    """
    return constant_score(name, y, sample_weight, num_class, params, _class_scores)


def objective(name: str, **params: LossParameter) -> XGBoostObjective:
    """The lossfuse loss `name` as an XGBoost objective (native and scikit-learn APIs).

    Parameters
    ----------
    name : str
        A lossfuse loss name or alias, as for `lossfuse.get_loss`.
    **params : float, array-like or None
        The loss's parameters.

    Returns
    -------
    XGBoostObjective
        ``xgb.train(params, dtrain, obj=f)`` calls it as ``f(predt, dtrain)``,
        ``XGBRegressor(objective=f)`` as ``f(y_true, y_pred, sample_weight=...)``.

    Raises
    ------
    ValueError, TypeError
        As `lossfuse.get_loss` raises them.

    Examples
    --------
    >>> import numpy as np
    >>> from lossfuse.xgboost import objective
    >>> f = objective("huber", delta=1.0)
    >>> f(np.array([0.0, 1.0]), np.array([0.5, 3.0]))
    (array([0.5, 1. ]), array([1., 1.]))
    """
    return XGBoostObjective(name, **params)
