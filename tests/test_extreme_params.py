"""Extreme but valid loss parameters follow the math wherever the true value is finite.

(Sample weights of 1e308 and 1e-320 are in test_weights_extreme.py.)"""

import mpmath
import numpy as np
import pytest

import lossfuse as lf

F32_MAX = float(np.finfo(np.float32).max)


def smooth_l1_ref(d, beta):
    """loss, gradient, hessian of smooth_l1 at d = p - y, beta > 0, in mpmath."""
    d, beta = mpmath.mpf(d), mpmath.mpf(beta)
    if abs(d) <= beta:
        return d * d / (2 * beta), d / beta, 1 / beta
    return abs(d) - beta / 2, mpmath.sign(d), mpmath.mpf(0)


def rounded(x, dt):
    """mpmath x rounded to dt (inf where it overflows)."""
    if abs(x) >= np.finfo(np.float64).max:
        return dt(np.inf) * np.sign(float(mpmath.sign(x)))
    with np.errstate(over="ignore"):
        return dt(float(x))


@pytest.mark.parametrize("dt,beta", [(np.float64, 1e-320), (np.float64, 5e-324),
                                     (np.float64, 1e-300), (np.float64, 1e300),
                                     (np.float32, 1e-50), (np.float32, 1e-40),
                                     (np.float32, 1e-30), (np.float32, 1e30)],
                         ids=lambda v: repr(v) if isinstance(v, float) else v.__name__)
def test_smooth_l1_tiny_and_huge_beta(dt, beta):
    tiny = np.finfo(dt).smallest_subnormal
    d = np.array([0.0, tiny, -3 * tiny, beta / 2, -beta, 2 * beta, 1e-10, -3.0, 1e30],
                 dt)
    y = np.zeros_like(d)
    loss = lf.get_loss("smooth_l1", beta=beta)
    lv = loss.loss(y, d, reduction="none")
    g, h = loss.gradient_hessian(y, d, reduction="none")
    # float32 computes with beta rounded to float32 (0 for 1e-50: then |d| exactly)
    beta_dt = float(dt(beta))
    for i, di in enumerate(d.tolist()):
        if beta_dt == 0:
            want = (abs(di), np.sign(di), 0.0 if di != 0 else np.inf)
        else:
            want = [rounded(v, dt) for v in smooth_l1_ref(di, beta_dt)]
        assert np.isfinite(lv[i]) and np.isfinite(g[i])
        np.testing.assert_allclose([lv[i], g[i]], want[:2], rtol=4 * np.finfo(dt).eps,
                                   atol=4 * float(tiny))
        if di != 0 or beta_dt != 0:
            np.testing.assert_allclose(h[i], want[2], rtol=4 * np.finfo(dt).eps)


@pytest.mark.parametrize("dt", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("pos_weight", [1e50, 1e300, 3e38, 1e-300])
def test_binary_cross_entropy_huge_pos_weight(dt, pos_weight):
    """Rows with y = 0 do not depend on pos_weight; the others are pos_weight times finite
    terms, finite wherever the product is (in float32 too, beyond float32's range)."""
    y = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.25], dt)
    p = np.array([3.0, -40.0, 80.0, 30.0, 60.0, -2.0, 1.0], dt)
    big = lf.get_loss("binary_cross_entropy", pos_weight=pos_weight)
    one = lf.get_loss("binary_cross_entropy")
    lv, g = big.loss_gradient(y, p, reduction="none")
    _, h = big.gradient_hessian(y, p, reduction="none")
    l1, g1 = one.loss_gradient(y, p, reduction="none")
    _, h1 = one.gradient_hessian(y, p, reduction="none")
    zero = y == 0
    np.testing.assert_array_equal(lv[zero], l1[zero])
    np.testing.assert_array_equal(g[zero], g1[zero])
    np.testing.assert_array_equal(h[zero], h1[zero])
    with mpmath.workdps(60):
        for i in np.flatnonzero(~zero):
            yi, pi, w = (mpmath.mpf(float(v)) for v in (y[i], p[i], pos_weight))
            s = 1 / (1 + mpmath.exp(-pi))
            want_l = -(w * yi * mpmath.log(s) + (1 - yi) * mpmath.log(1 - s))
            want_g = s * (1 - yi + w * yi) - w * yi
            want_h = (1 - yi + w * yi) * s * (1 - s)
            for got, want in ((lv[i], want_l), (g[i], want_g), (h[i], want_h)):
                np.testing.assert_allclose(got, rounded(want, dt), rtol=8 * np.finfo(dt).eps)


def test_float32_with_a_pos_weight_beyond_its_range_takes_outputs():
    """The float64 detour writes the caller's float32 outputs, and refuses wrong ones as the
    kernel does."""
    loss = lf.get_loss("binary_cross_entropy", pos_weight=1e50)
    y = np.array([0.0, 1.0, 1.0], np.float32)
    p = np.array([1.0, 60.0, 2.0], np.float32)
    lo = np.full(3, np.nan, np.float32)
    g = np.full(3, np.nan, np.float32)
    total, _ = loss.loss_gradient(y, p, reduction="none", loss_out=lo, gradient_out=g)
    assert total is lo
    assert np.isfinite(lo[:2]).all() and lo[2] == np.inf and g[2] == -np.inf
    with pytest.raises((TypeError, ValueError), match="gradient_out"):
        loss.gradient(y, p, reduction="none", gradient_out=np.empty(3, np.float64))
