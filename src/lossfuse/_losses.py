"""The loss registry: canonical names, aliases, parameters and their checks.

What a loss *computes* lives in the kernels (``_kernels/pointwise.pxi``); this file says what it
is called, which parameters it takes, which values are valid, and how they map to a kernel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Dict, Literal, Mapping, Optional, Tuple


def _positive(name: str) -> Callable[[float], None]:
    def check(value: float) -> None:
        if not value > 0 or math.isinf(value):
            raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return check


def _non_negative(name: str) -> Callable[[float], None]:
    def check(value: float) -> None:
        if not value >= 0 or math.isinf(value):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return check


def _open_unit(name: str) -> Callable[[float], None]:
    def check(value: float) -> None:
        if not 0 < value < 1:
            raise ValueError(f"{name} must be in the open interval (0, 1), got {value!r}")
    return check


@dataclass(frozen=True)
class LossSpec:
    """A loss as the public API sees it."""

    name: str
    formula: str
    aliases: Tuple[str, ...] = ()
    # name -> default (None: cross_entropy's class_weight and ignore_index, not numbers)
    params: Mapping[str, Optional[float]] = field(default_factory=dict)
    checks: Mapping[str, Callable[[float], None]] = field(default_factory=dict)
    # kernel name and kernel parameters for validated public parameters
    kernel: Callable[[Dict[str, float]], Tuple[str, Tuple[float, ...]]] | None = None
    # the values y_true may take: None (any real), "unit" ([0, 1]), "sign" ({0, 1} or
    # {-1, 1}), "nonnegative" (>= 0), "positive" (> 0) or "classes" (class indices or
    # probabilities), or a function of the parameters giving one of those; the kernels check
    labels: str | None | Callable[[Dict[str, float]], str | None] = None

    def resolve(self, params: Dict[str, float]) -> Tuple[str, Tuple[float, ...]]:
        if self.kernel is not None:
            return self.kernel(params)
        return self.name, tuple(params[k] for k in self.params)

    def label_domain(self, params: Dict[str, float]) -> str | None:
        return self.labels(params) if callable(self.labels) else self.labels


def _smooth_l1_kernel(params: Dict[str, float]) -> Tuple[str, Tuple[float, ...]]:
    # beta = 0 is absolute_error exactly (PyTorch's convention)
    if params["beta"] == 0:
        return "absolute_error", ()
    return "smooth_l1", (params["beta"],)


def _tweedie_power(value: float) -> None:
    if math.isnan(value) or math.isinf(value) or 0 < value < 1:
        raise ValueError(f"power must be a finite number <= 0 or >= 1 (no Tweedie distribution "
                         f"has 0 < power < 1), got {value!r}")


def _tweedie_kernel(params: Dict[str, float]) -> Tuple[str, Tuple[float, ...]]:
    # power 0, 1 and 2 are (y - mu)^2, poisson and gamma exactly (scikit-learn's special
    # cases too), each with a kernel of its own
    power = params["power"]
    if power == 0:
        return "tweedie_normal", ()
    if power == 1:
        return "poisson", ()
    if power == 2:
        return "gamma", ()
    return "tweedie", (power,)


def _tweedie_labels(params: Dict[str, float]) -> str | None:
    power = params["power"]
    return None if power <= 0 else ("nonnegative" if power < 2 else "positive")


SPECS: Tuple[LossSpec, ...] = (
    LossSpec("squared_error", "d^2", aliases=("mse", "l2")),
    LossSpec("absolute_error", "|d|", aliases=("mae", "l1")),
    LossSpec("huber", "d^2/2 if |d| <= delta else delta*(|d| - delta/2)",
             params={"delta": 1.0}, checks={"delta": _positive("delta")}),
    LossSpec("smooth_l1", "huber(delta=beta)/beta; beta = 0 is absolute_error",
             params={"beta": 1.0}, checks={"beta": _non_negative("beta")},
             kernel=_smooth_l1_kernel),
    LossSpec("pseudo_huber", "delta^2*(sqrt(1 + (d/delta)^2) - 1)",
             params={"delta": 1.0}, checks={"delta": _positive("delta")}),
    LossSpec("log_cosh", "log(cosh(d))"),
    LossSpec("pinball", "alpha*max(y - p, 0) + (1 - alpha)*max(p - y, 0)", aliases=("quantile",),
             params={"alpha": 0.5}, checks={"alpha": _open_unit("alpha")}),
    LossSpec("poisson", "2*(y*log(y/mu) - y + mu), mu = exp(p), 0*log(0) = 0; y >= 0",
             labels="nonnegative"),
    LossSpec("gamma", "2*(log(mu/y) + y/mu - 1), mu = exp(p); y > 0", labels="positive"),
    LossSpec("tweedie",
             "unit Tweedie deviance of y at mu = exp(p); power 0, 1, 2: squared error (in mean "
             "space), poisson, gamma",
             params={"power": 1.5}, checks={"power": _tweedie_power}, kernel=_tweedie_kernel,
             labels=_tweedie_labels),
    LossSpec("binary_cross_entropy",
             "-(pos_weight*y*log(s) + (1 - y)*log(1 - s)), s = sigmoid(p), y in [0, 1]",
             aliases=("log_loss", "logistic", "bce"), params={"pos_weight": 1.0},
             checks={"pos_weight": _positive("pos_weight")}, labels="unit"),
    LossSpec("hinge", "max(0, 1 - t*p), t = +-1 from y in {0, 1} or {-1, 1}", labels="sign"),
    LossSpec("squared_hinge", "max(0, 1 - t*p)^2", labels="sign"),
    LossSpec("exponential", "exp(-t*p)", labels="sign"),
    # cross_entropy's parameters are not all numbers; lossfuse.CrossEntropyLoss checks them
    LossSpec("cross_entropy",
             "-sum_c a_c log softmax(p)_c over logits (n, K); a = class weight x target "
             "(one-hot or probabilities, label-smoothed)",
             aliases=("softmax", "multinomial"),
             params={"class_weight": None, "ignore_index": None, "label_smoothing": 0.0},
             labels="classes"),
)

# The names as a type checker sees them, for signatures whose result depends on the loss: those
# of cross_entropy (a CrossEntropyLoss, class scores), and those of every other loss, in the
# order of SPECS (tests/test_typing.py checks both against SPECS).
CrossEntropyName = Literal["cross_entropy", "softmax", "multinomial"]
ElementwiseName = Literal[
    "squared_error", "mse", "l2", "absolute_error", "mae", "l1", "huber", "smooth_l1",
    "pseudo_huber", "log_cosh", "pinball", "quantile", "poisson", "gamma", "tweedie",
    "binary_cross_entropy", "log_loss", "logistic", "bce", "hinge", "squared_hinge",
    "exponential"]

BY_NAME: Dict[str, LossSpec] = {}
for _spec in SPECS:
    for _name in (_spec.name,) + _spec.aliases:
        BY_NAME[_name] = _spec
del _spec, _name
