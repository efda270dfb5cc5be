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
``init_score(name, y, sample_weight)``
is the raw score LightGBM's own objective starts from (``boost_from_average``): pass it as
the Dataset's ``init_score`` (``np.tile(s, (n, 1))`` for multiclass) and add it to
``predict(raw_score=True)``.
"""

from __future__ import annotations

import lightgbm as lgb

from ._boosting import Objective as _Objective
from ._boosting import init_score

__all__ = ["LightGBMObjective", "init_score", "objective"]


class LightGBMObjective(_Objective):
    """See :func:`objective`."""

    def multiclass_factor(self, k: int) -> float:
        return k / (k - 1.0)

    def __call__(self, a, b, weight=None):
        if isinstance(b, lgb.Dataset):                 # native: (preds, train_data)
            return self.grad_hess(b.get_label(), a, b.get_weight())
        return self.grad_hess(a, b, weight)            # scikit-learn: (y_true, y_pred, weight)


def objective(name: str, **params: float) -> LightGBMObjective:
    """The lossfuse loss `name` as a LightGBM objective (native and scikit-learn APIs)."""
    return LightGBMObjective(name, **params)
