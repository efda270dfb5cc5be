"""What the LightGBM and XGBoost adapters share: per-sample gradients and hessians from the
kernels, scaled as each library's built-in objectives scale them, and the starting raw score
those objectives boost from."""

from __future__ import annotations

from typing import Optional

import numpy as np

import lossfuse as lf

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

    def __init__(self, name: str, **params: float):
        self.loss = lf.get_loss(name, **params)
        self.name = self.loss.name

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.loss.params.items())
        return f"{type(self).__module__}.objective({self.name!r}{args})"

    def multiclass_factor(self, k: int) -> float:
        raise NotImplementedError

    def grad_hess(self, y, raw, w: Optional[np.ndarray] = None):
        raw = np.asarray(raw, dtype=np.float64)
        y = np.asarray(y)
        if self.name == "cross_entropy":
            if raw.ndim != 2:
                raise ValueError("cross_entropy needs one raw score per class: set num_class "
                                 f"(got raw scores of shape {raw.shape})")
            labels = y.astype(np.int64)
            if not np.array_equal(labels, y):
                raise ValueError("cross_entropy needs class indices 0..K-1 as labels")
            y = labels
        else:
            y = y.astype(np.float64)
        g, h = self.loss.gradient_hessian(y, raw, reduction="none")
        if self.name == "squared_error":          # the libraries' L2: grad p - y, hess 1
            g *= 0.5
            h *= 0.5
        elif self.name == "cross_entropy":
            h *= self.multiclass_factor(raw.shape[1])
        if self.name in _ZERO_HESSIAN:
            h[h <= 0] = 1.0
        np.maximum(h, _HESSIAN_FLOOR, out=h)
        if w is not None and np.size(w):
            w = np.asarray(w, dtype=np.float64)
            ww = w[:, None] if g.ndim == 2 else w
            g *= ww
            h *= ww
        return g, h


def _weighted_quantile(y: np.ndarray, w: Optional[np.ndarray], q: float) -> float:
    order = np.argsort(y, kind="stable")
    ys = y[order]
    ws = np.ones_like(ys) if w is None else np.asarray(w, np.float64)[order]
    c = np.cumsum(ws)
    return float(ys[np.searchsorted(c, q * c[-1])])


def init_score(name: str, y, sample_weight=None, **params: float):
    """The constant raw score the library's built-in objective for this loss boosts from
    (its "boost from average"): the weighted mean for squared_error and huber, the logit of
    the weighted mean label for binary_cross_entropy, the log of the weighted class
    frequencies for cross_entropy (an array of K), the log of the weighted mean for poisson,
    gamma and tweedie (log link), the weighted median for absolute_error and the weighted
    alpha-quantile for pinball.  Other losses: 0."""
    loss = lf.get_loss(name, **params)
    y = np.asarray(y, dtype=np.float64)
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    mean = float(np.average(y, weights=w)) if y.ndim == 1 else None
    if loss.name in ("squared_error", "huber", "smooth_l1", "pseudo_huber", "log_cosh"):
        return mean
    if loss.name == "binary_cross_entropy":
        return float(np.log(mean / (1.0 - mean)))
    if loss.name in ("poisson", "gamma", "tweedie"):
        return float(np.log(mean))
    if loss.name == "absolute_error":
        return _weighted_quantile(y, w, 0.5)
    if loss.name == "pinball":
        return _weighted_quantile(y, w, loss.params["alpha"])
    if loss.name == "cross_entropy":
        k = int(y.max()) + 1
        freq = np.bincount(y.astype(np.int64), weights=w, minlength=k)
        return np.log(np.maximum(freq / freq.sum(), 1e-15))
    return 0.0
