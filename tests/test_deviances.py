"""poisson, gamma and tweedie (log link): scikit-learn's deviances as the oracle, 200-bit mpmath
at extreme inputs (overflow only where the true value overflows, large negative log-means
exact), finite differences for every power, and the domain checks.  The grid of test_grid.py
covers dtypes, reductions, weights, threads and layouts (tweedie at power 1.7)."""

import mpmath
import numpy as np
import pytest

import lossfuse as lf
from test_numerics import fd4

mpmath.mp.prec = 200

POWERS = [-2.0, -1.0, -0.5, 0.0, 1.0, 1.2, 1.5, 1.9, 2.0, 2.5, 3.0, 4.5]


def domain_data(rng, power, n):
    """y valid for the power (any real below 0, >= 0 up to 2, > 0 from 2 on) and log-means."""
    p = rng.normal(0, 1, n)
    mu = np.exp(p + rng.normal(0, 0.5, n))
    y = rng.gamma(2.0, mu / 2)
    if power <= 0:
        y = y - 1.0                                 # negative values too
    elif power < 2:
        y[: n // 4] = 0.0
        y[n // 4: n // 2] = rng.poisson(mu[n // 4: n // 2])
    return y, p


# ------------------------------------------------------------------ scikit-learn as the oracle
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("power", POWERS)
def test_mean_equals_scikit_learns_deviance(power, dtype, weighted):
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(int(power * 10) + 100)
    y, p = domain_data(rng, power, 5000)
    y, p = y.astype(dtype), p.astype(dtype)
    w = rng.uniform(0.1, 3, y.size).astype(dtype) if weighted else None
    yd, mu, wd = y.astype(np.float64), np.exp(p.astype(np.float64)), \
        None if w is None else w.astype(np.float64)
    want = metrics.mean_tweedie_deviance(yd, mu, sample_weight=wd, power=power)
    got = lf.get_loss("tweedie", power=power)(y, p, sample_weight=w)
    rtol = 1e-12 if dtype == np.float64 else 2e-6
    assert got == pytest.approx(want, rel=rtol)
    if power == 1:
        assert lf.get_loss("poisson")(y, p, sample_weight=w) == pytest.approx(
            metrics.mean_poisson_deviance(yd, mu, sample_weight=wd), rel=rtol)
    if power == 2:
        assert lf.get_loss("gamma")(y, p, sample_weight=w) == pytest.approx(
            metrics.mean_gamma_deviance(yd, mu, sample_weight=wd), rel=rtol)


def test_power_one_and_two_are_poisson_and_gamma_bit_for_bit():
    rng = np.random.default_rng(3)
    y, p = domain_data(rng, 1.5, 1000)
    for power, name in ((1, "poisson"), (2, "gamma")):
        yy = y + 0.5 if name == "gamma" else y
        a = lf.get_loss("tweedie", power=power).gradient_hessian(yy, p, reduction="none")
        b = lf.get_loss(name).gradient_hessian(yy, p, reduction="none")
        assert all(np.array_equal(u, v) for u, v in zip(a, b))
        assert lf.get_loss("tweedie", power=power)(yy, p) == lf.get_loss(name)(yy, p)


# ------------------------------------------------------------------ mpmath at the extremes
def mp_terms(name, power, y, p):
    """(loss terms, gradient terms, hessian terms) in 200-bit arithmetic, each term a pair
    (value, a): the quantity sums the values, and a term computed as exp(x) carries the
    rounding of x into its relative error, |x| ulp: a = |x| (0 for the others)."""
    y, p = mpmath.mpf(y), mpmath.mpf(p)
    mu = mpmath.exp(p)
    z = mpmath.mpf(0)
    if name == "poisson" or (name == "tweedie" and power == 1):
        ylogy = y * mpmath.log(y) if y > 0 else z
        return ([(2 * ylogy, z), (-2 * y * p, z), (-2 * y, z), (2 * mu, z)],
                [(2 * mu, z), (-2 * y, z)], [(2 * mu, z)])
    if name == "gamma" or power == 2:
        q = y / mu
        return ([(2 * p, z), (-2 * mpmath.log(y), z), (2 * q, z), (mpmath.mpf(-2), z)],
                [(mpmath.mpf(2), z), (-2 * q, z)], [(2 * q, z)])
    if power == 0:      # (y - mu)^2: the rounding of y - mu, relative to |y| + mu, twice
        d, m = y - mu, abs(y) + mu
        return ([(d * d, z), (2 * abs(d) * m, z), (-2 * abs(d) * m, z)],
                [(2 * mu * mu, z), (-2 * y * mu, z)], [(4 * mu * mu, z), (-2 * mu * y, z)])
    r = mpmath.mpf(power)
    xa, xb, xc = ((2 - r) * mpmath.log(y) if y > 0 else z), abs((1 - r) * p), abs((2 - r) * p)
    a = mpmath.exp(xa) if y > 0 else z
    b = y * mpmath.exp((1 - r) * p)
    c = mpmath.exp((2 - r) * p)
    return ([(2 * a / ((1 - r) * (2 - r)), abs(xa)), (-2 * b / (1 - r), xb),
             (2 * c / (2 - r), xc)],
            [(2 * c, xc), (-2 * b, xb)], [(2 * (2 - r) * c, xc), (-2 * (1 - r) * b, xb)])


BIG = mpmath.mpf(np.finfo(np.float64).max)
TINY = mpmath.mpf(2.0) ** -1074


def close(got, terms, ulps=8):
    """got against the sum of the terms: inf of the right sign where the sum overflows, else
    within `ulps` ulp of the result plus, per term, `ulps` ulp of it times (1 + |argument| of
    its exp) -- a difference of terms carries their rounding -- and a few subnormals."""
    want = mpmath.fsum(t for t, _ in terms)
    if abs(want) > BIG:
        return got == (np.inf if want > 0 else -np.inf)
    if not np.isfinite(got):
        return False
    size = mpmath.fsum(abs(t) * (1 + a) for t, a in terms)
    tol = ulps * 2.0 ** -52 * (abs(want) + size) + 4 * TINY
    return abs(mpmath.mpf(float(got)) - want) <= tol


Y_VALUES = [0.0, 5e-324, 1e-300, 1e-5, 0.3, 1.0, 7.0, 1e5, 1e300]
P_VALUES = [-1000.0, -745.0, -700.0, -30.0, -1e-8, 0.0, 1e-3, 2.5, 30.0, 700.0, 709.7]
CASES = [("poisson", None), ("gamma", None)] + [("tweedie", q) for q in
                                                 (-1.5, -1.0, 0.0, 1.2, 1.5, 1.9, 2.5, 3.0)]


@pytest.mark.parametrize("name,power", CASES)
def test_against_mpmath_from_tiny_to_huge(name, power):
    """Every (y, p) of a grid from 5e-324 to 1e300 and from p = -1000 to 709.7: finite wherever
    the true value is (exp(p) overflowing on its own does not matter: y / mu and
    y mu^(1 - power) are formed without it), exact to a few ulp of the terms, +-inf where the
    true value overflows."""
    loss = lf.get_loss(name) if power is None else lf.get_loss(name, power=power)
    lowest = 0.0 if name == "poisson" or (power is not None and 0 < power < 2) else 5e-324
    ys = [y for y in Y_VALUES if y >= lowest]
    if power is not None and power <= 0:
        ys += [-3.0, -1e200]
    y, p = (np.array(v) for v in zip(*[(a, b) for a in ys for b in P_VALUES]))
    with np.errstate(all="ignore"):
        lv, g = loss.loss_gradient(y, p, reduction="none")
        _, h = loss.gradient_hessian(y, p, reduction="none")
    bad = []
    for i in range(y.size):
        lt, gt, hw = mp_terms(name, power, y[i], p[i])
        for what, got, terms in (("loss", lv[i], lt), ("gradient", g[i], gt),
                                 ("hessian", h[i], hw)):
            if not close(got, terms):
                bad.append((what, y[i], p[i], got, float(mpmath.fsum(t for t, _ in terms))))
    assert not bad, bad[:10]


def test_large_negative_log_means_stay_exact():
    """mu = exp(p) underflows to 0 at p = -1000; the deviance and its gradient do not."""
    y = np.array([0.0, 1.0, 3.0])
    p = np.full(3, -1000.0)
    lv, g = lf.get_loss("poisson").loss_gradient(y, p, reduction="none")
    want = [0.0, 2 * (0 + 1000 - 1), 2 * (3 * (np.log(3) + 1000) - 3)]
    np.testing.assert_allclose(lv, want, rtol=1e-15)
    np.testing.assert_array_equal(g, -2 * y)
    # gamma: y / mu = 1e-300 e^700 is finite though e^700 alone is 1e304; 2 e^710 overflows
    lv, g = lf.get_loss("gamma").loss_gradient(np.array([1e-300, 2.0]), np.array([-700.0, -710.0]),
                                               reduction="none")
    z = np.array([1e-300 * np.exp(700.0), np.inf])
    assert np.isfinite(lv[0]) and lv[0] == pytest.approx(2 * (z[0] - 1 - np.log(1e-300) - 700))
    assert lv[1] == np.inf and g[1] == -np.inf


# ------------------------------------------------------------------ finite differences
@pytest.mark.parametrize("power", [p for p in POWERS if p not in (1.0, 2.0)])
def test_gradient_and_hessian_match_finite_differences_for_every_power(power):
    rng = np.random.default_rng(5)
    y, _ = domain_data(rng, power, 400)
    p = rng.uniform(-3, 3, y.size)
    loss = lf.get_loss("tweedie", power=power)
    h = 1e-3
    g, hh = loss.gradient_hessian(y, p, reduction="none")
    # the stencil's own rounding: its values' last bits, over h, where they nearly cancel
    noise_g = 4 * np.finfo(float).eps * np.abs(loss.loss(y, p, reduction="none")) / h
    noise_h = 4 * np.finfo(float).eps * np.abs(g) / h
    fd_g = fd4(lambda q: loss.loss(y, q, reduction="none"), p, h)
    fd_h = fd4(lambda q: loss.gradient(y, q, reduction="none"), p, h)
    assert np.all(np.abs(g - fd_g) <= 1e-7 * np.abs(fd_g) + 1e-9 + noise_g)
    assert np.all(np.abs(hh - fd_h) <= 1e-6 * np.abs(fd_h) + 1e-8 + noise_h)


# ------------------------------------------------------------------ domains
@pytest.mark.parametrize("name,params,y,index,words", [
    ("poisson", {}, [1.0, 0.0, -1e-9, 2.0], 2, ["values >= 0", "y_true[2]", "-1e-09"]),
    ("gamma", {}, [1.0, 2.0, 0.5, 0.0], 3, ["values > 0", "y_true[3] = 0.0"]),
    ("tweedie", {"power": 1.5}, [0.0, 3.0, -2.0], 2, ["values >= 0", "y_true[2]"]),
    ("tweedie", {"power": 2.5}, [3.0, 0.0, 1.0], 1, ["values > 0", "y_true[1]"]),
    ("tweedie", {"power": 3.0}, [3.0, 1.0, -np.inf], 2, ["values > 0", "y_true[2] = -inf"]),
])
@pytest.mark.parametrize("method", ["loss", "gradient", "loss_gradient", "gradient_hessian"])
def test_values_outside_the_domain_name_the_first_offender(name, params, y, index, words,
                                                           method):
    y = np.array(y)
    p = np.zeros_like(y)
    with pytest.raises(ValueError) as info:
        getattr(lf.get_loss(name, **params), method)(y, p)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


@pytest.mark.parametrize("power", [-1.0, 0.0])
def test_powers_up_to_zero_take_any_real_y(power):
    y = np.array([-5.0, 0.0, 2.0])
    lv = lf.get_loss("tweedie", power=power).loss(y, np.zeros(3), reduction="none")
    assert np.all(np.isfinite(lv)) and np.all(lv >= 0)


@pytest.mark.parametrize("power", [0.5, 1e-9, 0.999, float("nan"), float("inf"),
                                   float("-inf")])
def test_powers_without_a_distribution_are_refused(power):
    with pytest.raises(ValueError, match="power"):
        lf.get_loss("tweedie", power=power)


def test_kernel_layer_refuses_powers_it_does_not_take():
    from lossfuse._kernels import kernels
    for power in (0.0, 0.5, 1.0, 2.0, float("nan")):
        with pytest.raises(ValueError, match="power"):
            kernels.LossKernel(kernels.LOSSES["tweedie"][0], (power,))


def test_nan_in_y_or_p_propagates_and_is_not_a_domain_error():
    for name, params in (("poisson", {}), ("gamma", {}), ("tweedie", {"power": 1.5}),
                         ("tweedie", {"power": 3.0}), ("tweedie", {"power": 0.0})):
        loss = lf.get_loss(name, **params)
        y, p = np.array([np.nan, 1.0, 2.0]), np.array([0.5, np.nan, 0.5])
        lv, g = loss.loss_gradient(y, p, reduction="none")
        _, h = loss.gradient_hessian(y, p, reduction="none")
        for arr in (lv, g, h):
            assert np.isnan(arr[:2]).all() and np.isfinite(arr[2]), (name, params, arr)


def test_zero_counts_give_twice_the_mean():
    """y log y = 0 at y = 0: the poisson deviance of a zero count is 2 mu."""
    p = np.array([-3.0, 0.0, 4.0])
    lv = lf.get_loss("poisson").loss(np.zeros(3), p, reduction="none")
    np.testing.assert_allclose(lv, 2 * np.exp(p), rtol=1e-15)
    lv = lf.get_loss("tweedie", power=1.5).loss(np.zeros(3), p, reduction="none")
    np.testing.assert_allclose(lv, 2 * np.exp(0.5 * p) / 0.5, rtol=1e-15)
