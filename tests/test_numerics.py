"""Numerics: finite differences for every gradient and hessian, mpmath at extreme inputs,
float64 accumulation, NaN propagation."""

import math

import mpmath
import numpy as np
import pytest

import lossfuse as lf
from conftest import assert_close
from reference import DEVIANCES, KINKS, LABELS, PARAMS, deviance_scale, sample

LOSSES = sorted(PARAMS)


def fd4(f, x, h):
    """4th-order central difference of f at x (elementwise)."""
    return (-f(x + 2 * h) + 8 * f(x + h) - 8 * f(x - h) + f(x - 2 * h)) / (12 * h)


def smooth_points(name, rng, n=400, h=1e-3):
    """(y, p) with d = p - y (p itself for classification) at least 4h away from every kink
    of the loss."""
    if name in LABELS:
        y, _ = sample(name, rng, n)
        d = rng.uniform(-4, 4, n)
    else:
        y = rng.normal(0, 2, n)
        d = rng.uniform(-4, 4, n)
    for k in KINKS[name]:
        for s in (k, -k):
            near = np.abs(d - s) < 4 * h
            d[near] = s + 8 * h
    return (y, d) if name in LABELS else (y, y + d)


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("name", LOSSES)
def test_gradient_and_hessian_match_finite_differences(name, reduction):
    """The gradient of what is returned: FD of the reduced (weighted) loss, one element at a
    time; the hessian likewise from the gradient."""
    rng = np.random.default_rng(7)
    y, p = smooth_points(name, rng, n=40)
    w = rng.uniform(0.5, 2, 40)
    loss = lf.get_loss(name, **PARAMS[name])
    kw = dict(sample_weight=w, reduction=reduction)
    grad, hess = loss.gradient_hessian(y, p, **kw)
    h = 1e-3
    fd_g = np.empty_like(p)
    fd_h = np.empty_like(p)
    for i in range(p.size):
        def f_loss(t, i=i):
            q = p.copy()
            q[i] = t
            v = loss.loss(y, q, **kw)
            return v[i] if reduction == "none" else v

        def f_grad(t, i=i):
            q = p.copy()
            q[i] = t
            return loss.gradient(y, q, **kw)[i]
        fd_g[i] = fd4(f_loss, p[i], h)
        fd_h[i] = fd4(f_grad, p[i], h)
    scale = 1.0 if reduction != "mean" else 1.0 / w.sum()
    np.testing.assert_allclose(grad, fd_g, rtol=1e-7, atol=1e-9 * scale)
    np.testing.assert_allclose(hess, fd_h, rtol=1e-6, atol=1e-8 * scale)


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_elementwise_finite_differences_over_a_wide_range(name, dtype):
    """Vectorized FD over thousands of points, in float64 (float32 outputs checked against the
    float64 kernel, to within a few float32 ulps)."""
    rng = np.random.default_rng(11)
    y, p = smooth_points(name, rng, n=5000)
    loss = lf.get_loss(name, **PARAMS[name])
    h = 1e-3
    g = loss.gradient(y, p, reduction="none")
    fd = fd4(lambda q: loss.loss(y, q, reduction="none"), p, h)
    np.testing.assert_allclose(g, fd, rtol=1e-7, atol=1e-9)
    hh = loss.gradient_hessian(y, p, reduction="none")[1]
    fdh = fd4(lambda q: loss.gradient(y, q, reduction="none"), p, h)
    np.testing.assert_allclose(hh, fdh, rtol=1e-6, atol=1e-8)
    if dtype == np.float32:
        y32, p32 = y.astype(np.float32), p.astype(np.float32)
        l64, g64 = loss.loss_gradient(y32.astype(np.float64), p32.astype(np.float64),
                                      reduction="none")
        l32, g32 = loss.loss_gradient(y32, p32, reduction="none")
        # the deviances are differences of terms, which cancel near y = mu: their error is a
        # few ulp of the terms (`deviance_scale`), not of the difference
        atol_l, atol_g = ((4e-7 * 4 * np.asarray(c, dtype=np.float64)
                           for c in deviance_scale(name, y32, p32)) if name in DEVIANCES
                          else (1e-30, 1e-30))
        assert_close(l32, l64, 4e-7 * 4, atol_l, "float32 loss")
        # the soft-label bce gradient (1 - y) s - pw y (1 - s) cancels near 0: the error there
        # is a few ulp of its terms (at most 1 + pw), not of the difference
        atol = 4e-7 * 4 * (1 + 1.7) if name == "binary_cross_entropy" else atol_g
        assert_close(g32, g64, 4e-7 * 4, atol, "float32 gradient")


# ------------------------------------------------------------------ mpmath at the extremes
mpmath.mp.prec = 200


def mp_reference(name, y, p, params):
    d = mpmath.mpf(p) - mpmath.mpf(y)
    if name == "log_cosh":
        return mpmath.log(mpmath.cosh(d)), mpmath.tanh(d), mpmath.sech(d) ** 2
    if name == "pseudo_huber":
        delta = mpmath.mpf(params["delta"])
        s = mpmath.sqrt(1 + (d / delta) ** 2)
        return delta ** 2 * (s - 1), d / s, s ** -3
    raise KeyError(name)


EXTREMES = [0.0, 1e-300, -1e-300, 1e-20, 3e-9, -1e-4, 0.3, -1.0, 2.5, 19.9, 20.1, -35.0,
            300.0, 710.5, -1e4, 1e6, 1e15, -1e154, 1e200, 1.3e308]  # delta * 1.3e308 < max


@pytest.mark.parametrize("name", ["log_cosh", "pseudo_huber"])
def test_transcendental_losses_against_mpmath(name):
    """Within a few ulp of the 200-bit value over 600 orders of magnitude, finite throughout."""
    params = {"delta": 1.3} if name == "pseudo_huber" else {}
    loss = lf.get_loss(name, **params)
    p = np.array(EXTREMES)
    y = np.zeros_like(p)
    lv, g = loss.loss_gradient(y, p, reduction="none")
    _, h = loss.gradient_hessian(y, p, reduction="none")
    assert np.all(np.isfinite(lv)) and np.all(np.isfinite(g)) and np.all(np.isfinite(h))
    for i, x in enumerate(EXTREMES):
        ref = [float(v) for v in mp_reference(name, 0.0, x, params)]
        # the hessian is a cube: three times the relative error of its base
        for got, want, what, ulps in zip((lv[i], g[i], h[i]), ref, ("loss", "gradient", "hessian"),
                                         (4, 4, 8)):
            if want == 0 or abs(want) < 1e-300:
                assert abs(got) <= 1e-300, (what, x, got, want)
            else:
                assert abs(got - want) <= ulps * np.spacing(abs(want)), (what, x, got, want)


def test_log_cosh_against_mpmath_over_its_whole_range():
    """log_cosh's vectorized expm1 and log1p, densely: tiny to beyond the a = 20 switch, and
    either side of each point where the exponent's range reduction steps (a = (j + 1/2) ln 2).
    float64 within 4 ulp (hessian 8), float32 (computed in float64) within one of its ulp."""
    steps = (np.arange(32) + 0.5) * math.log(2)
    a = np.concatenate([np.geomspace(1e-12, 25, 1500), steps, np.nextafter(steps, 0),
                        np.nextafter(steps, 99), [20.0, np.nextafter(20.0, 0), 1e-310]])
    d = np.concatenate([a, -a])
    want = np.array([[float(v) for v in mp_reference("log_cosh", 0.0, x, {})] for x in d]).T
    loss = lf.get_loss("log_cosh")
    for dt, ulps in ((np.float64, (4, 4, 8)), (np.float32, (1, 1, 1))):
        p = d.astype(dt)
        ref = want if dt == np.float64 else np.array(
            [[float(v) for v in mp_reference("log_cosh", 0.0, float(x), {})] for x in p]).T
        y = np.zeros_like(p)
        lv, g = loss.loss_gradient(y, p, reduction="none")
        _, h = loss.gradient_hessian(y, p, reduction="none")
        for got, r, what, u in zip((lv, g, h), ref, ("loss", "gradient", "hessian"), ulps):
            err = np.abs(got.astype(np.float64) - r) / np.spacing(np.abs(r).astype(dt))
            worst = int(np.argmax(err))
            assert err[worst] <= u, (dt.__name__, what, p[worst], got[worst], r[worst])


def test_log_cosh_is_finite_at_1e6_in_both_dtypes():
    for dt in (np.float64, np.float32):
        y = np.zeros(3, dt)
        p = np.array([1e6, -1e6, 3e38 if dt == np.float32 else 1e308], dt)
        v, g = lf.get_loss("log_cosh").loss_gradient(y, p, reduction="none")
        assert np.all(np.isfinite(v))
        np.testing.assert_allclose(v, np.abs(p.astype(np.float64)) - math.log(2), rtol=1e-7)
        np.testing.assert_array_equal(g, np.sign(p))


# exp(1e300) is inf, and so are exponential's loss and the deviances at p = 1e300 (see
# test_deviances.py for theirs)
@pytest.mark.parametrize("name", [n for n in LOSSES if n != "exponential" and n not in DEVIANCES])
def test_huge_finite_inputs_give_finite_results(name):
    p = np.array([1e300, -1e300, 8e307])    # 2 * 8e307 is still finite
    y = np.array([0.0, 1.0, 1.0]) if name in LABELS else np.array([-1e300, 1e300, 0.0])
    loss = lf.get_loss(name, **PARAMS[name])
    g, h = loss.gradient_hessian(y, p, reduction="none")
    assert np.all(np.isfinite(g)) and np.all(np.isfinite(h))
    if name not in ("squared_error", "squared_hinge"):   # d^2 itself overflows there
        assert np.all(np.isfinite(loss.loss(y, p, reduction="none")))


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nan_propagates_to_every_output(name, dtype):
    valid = 1.0 if LABELS.get(name) == "positive" else 0.0
    y = np.array([valid, np.nan, 1.0, valid if name in LABELS else 2.0], dtype)
    p = np.array([np.nan, 0.0, 1.5, 2.0], dtype)
    loss = lf.get_loss(name, **PARAMS[name])
    lv, g = loss.loss_gradient(y, p, reduction="none")
    _, h = loss.gradient_hessian(y, p, reduction="none")
    for arr in (lv, g, h):
        assert np.isnan(arr[:2]).all() and not np.isnan(arr[2:]).any()
    assert math.isnan(loss(y, p))


@pytest.mark.parametrize("n_threads", [1, 2])
def test_float32_mean_of_3e7_values_is_exact_to_1e_12(n_threads):
    """The reduction accumulates in float64: the mean of 3e7 float32 losses (|p| exactly, with
    y = 0) is within 1e-12 of the exact mean (math.fsum), where float32 accumulation is ~1e-7
    off."""
    rng = np.random.default_rng(5)
    p = rng.uniform(0, 1000, 30_000_000).astype(np.float32)
    y = np.zeros_like(p)
    exact = math.fsum(p.astype(np.float64).tolist()) / p.size
    got = lf.get_loss("absolute_error").loss(y, p, n_threads=n_threads)
    assert abs(got - exact) <= 1e-12 * exact
    got_sq = lf.get_loss("squared_error").loss(y[:1_000_000], p[:1_000_000], n_threads=n_threads)
    sq = p[:1_000_000].astype(np.float32) ** 2           # the float32 per-element losses
    exact_sq = math.fsum(sq.astype(np.float64).tolist()) / sq.size
    assert abs(got_sq - exact_sq) <= 1e-12 * exact_sq
