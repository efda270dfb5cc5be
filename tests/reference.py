"""Reference losses, written from the textbook formulas independently of the kernels.

Evaluated in ``np.longdouble`` (64-bit mantissa on x86, 113 on aarch64), with identities other
than the kernels' where the textbook form cancels to nothing for tiny d (``sqrt(1 + t^2) - 1``,
``log(cosh(d))``); the results are returned as float64.  Each function returns (loss, gradient,
hessian) per element, as functions of y and p.
"""

from fractions import Fraction

import numpy as np

LD = np.longdouble


def squared_error(y, p):
    d = p - y
    return d * d, 2 * d, np.full_like(d, 2)


def absolute_error(y, p):
    d = p - y
    return np.abs(d), np.sign(d), np.zeros_like(d)


def huber(y, p, delta=1.0):
    d = p - y
    inside = np.abs(d) <= delta
    loss = np.where(inside, d * d / 2, delta * (np.abs(d) - delta / 2))
    grad = np.clip(d, -delta, delta)
    return loss, grad, inside.astype(d.dtype)


def smooth_l1(y, p, beta=1.0):
    # as torch.nn.functional.smooth_l1_loss documents it
    d = p - y
    if beta == 0:
        return absolute_error(y, p)
    inside = np.abs(d) < beta
    loss = np.where(inside, 0.5 * d * d / beta, np.abs(d) - 0.5 * beta)
    grad = np.where(inside, d / beta, np.sign(d))
    return loss, grad, np.where(inside, 1 / LD(beta), 0)


def pseudo_huber(y, p, delta=1.0):
    d = p - y
    t2 = (d / delta) ** 2
    s = np.sqrt(1 + t2)
    # s - 1 as expm1(log1p(t^2) / 2): exact for tiny d too, where 1 + t^2 rounds to 1
    return delta ** 2 * np.expm1(np.log1p(t2) / 2), d / s, s ** -3


def log_cosh(y, p):
    d = p - y
    # cosh(d) - 1 = 2 sinh(d/2)^2: exact for tiny d too, where cosh(d) rounds to 1
    return np.log1p(2 * np.sinh(d / 2) ** 2), np.tanh(d), 1 / np.cosh(d) ** 2


def pinball(y, p, alpha=0.5):
    loss = alpha * np.maximum(y - p, 0) + (1 - alpha) * np.maximum(p - y, 0)
    grad = np.where(y > p, -LD(alpha), 1 - LD(alpha))
    return loss, grad, np.zeros_like(loss)


def binary_cross_entropy(y, p, pos_weight=1.0):
    # -(pw y log s + (1 - y) log(1 - s)) with log s = -log(1 + e^-p) = -logaddexp(0, -p)
    s = 1 / (1 + np.exp(-p))
    loss = pos_weight * y * np.logaddexp(LD(0), -p) + (1 - y) * np.logaddexp(LD(0), p)
    return loss, s * (1 - y + pos_weight * y) - pos_weight * y, \
        (1 - y + pos_weight * y) * s * (1 - s)


def _sign(y):
    return np.where(y > 0, LD(1), LD(-1))


def hinge(y, p):
    t = _sign(y)
    m = 1 - t * p
    return np.maximum(m, 0), np.where(m > 0, -t, 0), np.zeros_like(m)


def squared_hinge(y, p):
    t = _sign(y)
    m = 1 - t * p
    return np.maximum(m, 0) ** 2, -2 * t * np.maximum(m, 0), np.where(m > 0, LD(2), 0)


def exponential(y, p):
    t = _sign(y)
    e = np.exp(-t * p)
    return e, -t * e, e


def _xlogy(y):
    return np.where(y > 0, y * np.log(np.where(y > 0, y, 1)), 0)


def poisson(y, p):
    # scikit-learn's mean_poisson_deviance per sample: 2 (y log(y / mu) - y + mu)
    mu = np.exp(p)
    return 2 * (_xlogy(y) - y * p - y + mu), 2 * (mu - y), 2 * mu


def gamma(y, p):
    # 2 (log(mu / y) + y / mu - 1)
    mu = np.exp(p)
    return 2 * (np.log(mu / y) + y / mu - 1), 2 * (1 - y / mu), 2 * y / mu


def tweedie(y, p, power=1.5):
    # scikit-learn's mean_tweedie_deviance per sample (max(y, 0) for power < 0), as a function
    # of p = log(mu); gradient and hessian differentiated by hand
    mu = np.exp(p)
    if power == 0:
        return (y - mu) ** 2, 2 * (mu - y) * mu, 2 * mu * (2 * mu - y)
    if power == 1:
        return poisson(y, p)
    if power == 2:
        return gamma(y, p)
    r = LD(power)
    a = np.where(y > 0, np.power(np.where(y > 0, y, 1), 2 - r), 0)
    b = y * np.exp((1 - r) * p)
    c = np.exp((2 - r) * p)
    return (2 * (a / ((1 - r) * (2 - r)) - b / (1 - r) + c / (2 - r)), 2 * (c - b),
            2 * ((2 - r) * c - (1 - r) * b))


FUNCTIONS = {f.__name__: f for f in (squared_error, absolute_error, huber, smooth_l1,
                                      pseudo_huber, log_cosh, pinball, poisson, gamma, tweedie,
                                      binary_cross_entropy, hinge, squared_hinge, exponential)}

# the values y_true may take ("unit": [0, 1]; "sign": {0, 1} or {-1, 1}; "nonnegative",
# "positive": the deviances, whose p is a log-mean); others: any real
LABELS = {"binary_cross_entropy": "unit", "hinge": "sign", "squared_hinge": "sign",
          "exponential": "sign", "poisson": "nonnegative", "gamma": "positive",
          "tweedie": "nonnegative"}
DEVIANCES = ("poisson", "gamma", "tweedie")


def deviance_scale(name, y, p, params=None):
    """Per element, the sum of the magnitudes of the terms whose difference is the deviance
    (loss) and its gradient: the size of the rounding errors of any formula that adds them up
    (near y = mu the deviance itself is far smaller).  Long double."""
    params = PARAMS[name] if params is None else params
    y, p = np.asarray(y, dtype=LD), np.asarray(p, dtype=LD)
    mu = np.exp(p)
    if name == "gamma" or (name == "tweedie" and params["power"] == 2):
        z = y / mu
        return np.abs(p) + np.abs(np.log(y)) + z + 1, 1 + z
    if name == "poisson" or params["power"] == 1:
        return np.abs(_xlogy(y)) + np.abs(y * p) + np.abs(y) + mu, mu + np.abs(y)
    r = LD(params["power"])
    if r == 0:
        return (y - mu) ** 2 + np.abs(y * mu), np.abs(y * mu) + mu * mu
    a = np.where(y > 0, np.power(np.where(y > 0, y, 1), 2 - r), 0)
    b, c = np.abs(y * np.exp((1 - r) * p)), np.exp((2 - r) * p)
    return (np.abs(a / ((1 - r) * (2 - r))) + np.abs(b / (1 - r)) + np.abs(c / (2 - r)),
            b + c)


def sample(name, rng, n, spread=1.5, minus_one=False):
    """Test data (y, p) in float64 for a loss: regression targets with predictions spread
    around them; valid labels (soft and hard for "unit") with logits for classification."""
    kind = LABELS.get(name)
    if kind is None:
        y = rng.normal(0, 2, n)
        return y, y + rng.normal(0, spread, n)
    if kind in ("nonnegative", "positive"):        # log-means; counts and amounts around them
        p = rng.normal(0, 1, n)
        mu = np.exp(p + rng.normal(0, spread / 3, n))
        y = rng.gamma(2.0, mu / 2)
        if kind == "nonnegative":
            y = np.where(rng.random(n) < 0.5, rng.poisson(mu), y)
        return y, p
    if kind == "unit":
        y = np.where(rng.random(n) < 0.5, rng.integers(0, 2, n), rng.random(n))
    else:
        y = rng.integers(0, 2, n).astype(np.float64)
        if minus_one:
            y = 2 * y - 1
    return y, rng.normal(0, 2 * spread, n)

# parameters used by the test grid (not the defaults, so that parameters are exercised)
PARAMS = {
    "squared_error": {},
    "absolute_error": {},
    "huber": {"delta": 0.7},
    "smooth_l1": {"beta": 0.6},
    "pseudo_huber": {"delta": 1.3},
    "log_cosh": {},
    "pinball": {"alpha": 0.3},
    "poisson": {},
    "gamma": {},
    "tweedie": {"power": 1.7},
    "binary_cross_entropy": {"pos_weight": 1.7},
    "hinge": {},
    "squared_hinge": {},
    "exponential": {},
}

# where the loss is not smooth (|d| at which the second derivative jumps), for finite differences
KINKS = {
    "squared_error": [],
    "absolute_error": [0.0],
    "huber": [0.0, 0.7],      # 0: harmless, listed to keep FD points apart from it anyway
    "smooth_l1": [0.0, 0.6],
    "pseudo_huber": [],
    "log_cosh": [],
    "pinball": [0.0],
    "poisson": [],
    "gamma": [],
    "tweedie": [],
    "binary_cross_entropy": [],
    "hinge": [1.0],           # for the margin losses: the values of p where t*p = 1
    "squared_hinge": [1.0],
    "exponential": [],
}


def reference(name, y, p, sample_weight=None, reduction="mean", params=None):
    """(loss, gradient, hessian) of the reduced loss, computed in long double, as float64.

    For reduction='none', the loss is per element; gradient and hessian are always per element
    (those of what is returned)."""
    params = PARAMS[name] if params is None else params
    yl = np.asarray(y, dtype=LD)
    pl = np.asarray(p, dtype=LD)
    loss, grad, hess = FUNCTIONS[name](yl, pl, **params)
    shape = pl.shape
    rows = shape[0] if pl.ndim else 1
    per_row = pl.size // rows if rows else 1
    if sample_weight is None:
        w = np.ones(shape, dtype=LD)
        total_w = LD(pl.size)
    else:
        wl = np.asarray(sample_weight, dtype=LD)
        w = wl.reshape((-1,) + (1,) * (pl.ndim - 1)) * np.ones(shape, dtype=LD)
        total_w = wl.sum() * per_row
    loss = w * loss
    grad = w * grad
    hess = w * hess
    if reduction == "none":
        return loss.astype(np.float64), grad.astype(np.float64), hess.astype(np.float64)
    total = loss.sum()
    if reduction == "mean":
        total, grad, hess = total / total_w, grad / total_w, hess / total_w
    return float(total), grad.astype(np.float64), hess.astype(np.float64)


def deviance_atol(name, y, p, w, reduction, rtol):
    """For the deviances, absolute tolerances of loss and gradient: rtol times the magnitude of
    the terms they are differences of (`deviance_scale`), weighted (by rows) and scaled like
    the outputs, per element (the loss summed for "sum" and "mean"); elsewhere (None, None),
    the caller's default tolerance."""
    if name not in DEVIANCES:
        return None, None
    cl, cg = (np.asarray(c, dtype=np.float64) for c in deviance_scale(name, y, p))
    f = np.ones_like(cl)
    if w is not None:
        f = f * np.asarray(w, dtype=np.float64).reshape((-1,) + (1,) * (cl.ndim - 1))
    if reduction == "mean":
        f = f / (p.size if w is None else np.sum(w, dtype=np.float64) * (p.size // len(w)))
    return rtol * (cl * f if reduction == "none" else np.sum(cl * f)), rtol * cg * f


# ----------------------------------------------------------- scores of explained variance
def explained_score(name, y, p, w=None, multioutput="uniform_average", force_finite=True):
    """r2_score or explained_variance_score (`name`) from its definition in rational
    arithmetic, with scikit-learn's semantics (force_finite, the multioutput averages),
    rounded to float64 (infinite where the fraction overflows)."""
    y = np.asarray(y, float).reshape(len(y), -1)
    p = np.asarray(p, float).reshape(len(p), -1)
    w = [Fraction(1)] * len(y) if w is None else [Fraction(float(v)) for v in w]
    W = sum(w)

    def mean(v):
        return sum(a * b for a, b in zip(w, v)) / W

    scores, dens = [], []
    for j in range(y.shape[1]):
        yj = [Fraction(v) for v in y[:, j]]
        e = [a - Fraction(b) for a, b in zip(yj, p[:, j])]
        if name == "explained_variance_score":
            me, my = mean(e), mean(yj)
            num = mean([(v - me) ** 2 for v in e])
            den = mean([(v - my) ** 2 for v in yj])
        else:
            my = mean(yj)
            num = sum(a * v * v for a, v in zip(w, e))
            den = sum(a * (v - my) ** 2 for a, v in zip(w, yj))
        if den == 0:
            s = (1.0 if num == 0 else 0.0) if force_finite else (np.nan if num == 0 else -np.inf)
        else:
            s = 1 - num / den
            s = float(s) if abs(s) < 2 ** 1024 else float(np.sign(s)) * np.inf
        scores.append(s)
        dens.append(den)
    if isinstance(multioutput, str) and multioutput == "raw_values":
        return np.array(scores)
    if isinstance(multioutput, str) and multioutput == "variance_weighted" and any(dens):
        return float(np.average(scores, weights=[float(d / max(dens)) for d in dens]))
    if multioutput is None or isinstance(multioutput, str):
        return float(np.mean(scores))
    return float(np.average(scores, weights=multioutput))
