"""lossfuse losses as XGBoost objectives.

``objective(name, **params)`` returns one callable that both APIs accept: the native
``xgb.train(params, dtrain, obj=f)`` (called as ``f(predt, dtrain)``, weights from the
DMatrix) and the scikit-learn ``XGBRegressor(objective=f)`` / ``XGBClassifier`` (called as
``f(y_true, y_pred, sample_weight=...)``).  Gradients and hessians are per sample and
weighted, in XGBoost's conventions: ``squared_error`` has grad ``p - y`` and hess 1 (as
``reg:squarederror``), ``cross_entropy`` (with ``num_class``: raw scores of shape (n, K)) the
softmax gradient and twice its diagonal hessian (as ``multi:softprob``), hessians floored at
1e-16, and losses whose hessian is 0 (L1, pinball, hinge, Huber's tails) a hessian of 1.
``init_score(name, y, sample_weight)`` is the raw score (margin) XGBoost's own objective
starts from (its estimated intercept): pass it as ``base_margin`` (``np.tile(s, (n, 1))`` for multiclass) when
training and predicting, or as ``base_score`` where that is the same.
"""

from __future__ import annotations

import xgboost as xgb

import numpy as np

from ._boosting import Objective as _Objective
from ._boosting import init_score as _init_score

__all__ = ["XGBoostObjective", "init_score", "objective"]


class XGBoostObjective(_Objective):
    """See :func:`objective`."""

    def multiclass_factor(self, k: int) -> float:
        return 2.0

    def __call__(self, a, b, *, sample_weight=None):
        if isinstance(b, xgb.DMatrix):                 # native: (predt, dtrain)
            return self.grad_hess(b.get_label(), a, b.get_weight())
        return self.grad_hess(a, b, sample_weight)     # scikit-learn: (y_true, y_pred)


def init_score(name: str, y, sample_weight=None, **params: float):
    """The margin XGBoost's own objective starts from (its estimated intercept): as
    ``lossfuse.lightgbm.init_score``, except that for cross_entropy the log class frequencies
    are centred (their mean subtracted), as multi:softprob's intercept is."""
    s = _init_score(name, y, sample_weight, **params)
    return s - np.mean(s) if isinstance(s, np.ndarray) else s


def objective(name: str, **params: float) -> XGBoostObjective:
    """The lossfuse loss `name` as an XGBoost objective (native and scikit-learn APIs)."""
    return XGBoostObjective(name, **params)
