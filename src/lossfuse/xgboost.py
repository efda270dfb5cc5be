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

import xgboost as xgb

import numpy as np

from ._boosting import Objective as _Objective
from ._boosting import constant_score

# XGBoost's kRtEps (1e-6f), added to each class frequency before the log of its multiclass
# intercept
_XGBOOST_EPSILON = float(np.float32(1e-6))

__all__ = ["XGBoostObjective", "init_score", "objective"]


class XGBoostObjective(_Objective):
    """See :func:`objective`."""

    def multiclass_factor(self, k: int) -> float:
        return 2.0

    def __call__(self, a, b, *, sample_weight=None):
        if isinstance(b, xgb.DMatrix):                 # native: (predt, dtrain)
            return self.grad_hess(b.get_label(), a, b.get_weight())
        return self.grad_hess(a, b, sample_weight)     # scikit-learn: (y_true, y_pred)


def _class_scores(probabilities: np.ndarray) -> np.ndarray:
    """multi:softprob's intercept: log(frequency + kRtEps) of each class, centred."""
    scores = np.log(probabilities + _XGBOOST_EPSILON)
    return scores - np.mean(scores)


def init_score(name: str, y, sample_weight=None, *, num_class=None, **params: float):
    """The constant margin to start boosting the loss `name` from.

    As ``lossfuse.lightgbm.init_score`` (same parameters, checks and errors), except for
    ``cross_entropy``: there it is XGBoost's own ``multi:softprob`` intercept, the centred
    ``log(p + 1e-6)`` of the class probabilities ``p`` (the weighted class frequencies, or
    with ``class_weight``, ``ignore_index`` or ``label_smoothing`` the probabilities
    minimising the loss).  For ``squared_error`` and ``binary_cross_entropy`` it equals the
    intercept XGBoost estimates for ``reg:squarederror`` and ``binary:logistic`` when both
    labels occur.

    Returns
    -------
    float, or ndarray of shape (K,) for ``cross_entropy``
    """
    return constant_score(name, y, sample_weight, num_class, params, _class_scores)


def objective(name: str, **params: float) -> XGBoostObjective:
    """The lossfuse loss `name` as an XGBoost objective (native and scikit-learn APIs)."""
    return XGBoostObjective(name, **params)
