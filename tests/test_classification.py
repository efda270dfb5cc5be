"""Classification losses: accuracy of the vectorized exp/log1p against mpmath, exact results at
extreme logits, and label checks (which element, what is wrong, nothing read out of bounds)."""

import math

import mpmath
import numpy as np
import pytest

import lossfuse as lf
from lossfuse._kernels import available

mpmath.mp.prec = 200


def ulps(got, want, dtype):
    """|got - want| in units of the last place of `want` in `dtype` (want: an mpf); for
    subnormal `want` (fixed absolute spacing, few significant bits) a quarter of it."""
    w = float(want)
    finfo = np.finfo(dtype)
    if w == 0 or abs(w) < finfo.smallest_subnormal:
        return 0.0 if abs(float(got)) <= finfo.smallest_subnormal else math.inf
    if abs(w) < finfo.tiny:
        return float(abs(mpmath.mpf(float(got)) - want) / float(finfo.smallest_subnormal)) / 4
    spacing = float(np.spacing(np.abs(np.array(w, dtype))))
    return float(abs(mpmath.mpf(float(got)) - want) / spacing)


@pytest.mark.parametrize("isa", sorted(available))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_exp_within_2_ulp_over_the_whole_range(isa, dtype):
    """exp(p) (the exponential loss at y = 0) over the whole range of the type, subnormal
    results and the overflow threshold included, against 200-bit mpmath."""
    module = available[isa]
    kernel = module.LossKernel(module.LOSSES["exponential"][0], ())
    lo, hi = (-746.0, 709.8) if dtype == np.float64 else (-104.0, 88.7)
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(lo, hi, 1500), rng.uniform(-1, 1, 300),
                        np.linspace(lo, hi, 200), [0.0, -0.0, 1e-30, -1e-30]]).astype(dtype)
    out = np.empty_like(x)
    getattr(kernel, f"run_{np.dtype(dtype).name}")(0, np.zeros_like(x), x, None, 1, out, None,
                                                   None, 1.0, 1)
    worst = max(ulps(v, mpmath.exp(mpmath.mpf(float(xi))), dtype) for xi, v in zip(x, out))
    assert worst <= 2.0, worst
    big = np.array([710.0, 1e300] if dtype == np.float64 else [89.0, 1e30], dtype)
    getattr(kernel, f"run_{np.dtype(dtype).name}")(0, np.zeros_like(big), big, None, 1,
                                                   out[:2], None, None, 1.0, 1)
    assert np.all(np.isinf(out[:2]))            # overflows exactly where exp does


def mp_bce(y, p, pw):
    y, p = mpmath.mpf(y), mpmath.mpf(p)
    s, sn = 1 / (1 + mpmath.exp(-p)), 1 / (1 + mpmath.exp(p))    # sn = 1 - s, not rounded away
    loss = pw * y * mpmath.log1p(mpmath.exp(-p)) + (1 - y) * mpmath.log1p(mpmath.exp(p))
    return loss, (1 - y) * s - pw * y * sn, (1 - y + pw * y) * s * sn


LOGITS = [0.0, 1e-300, -1e-20, 3e-8, -0.4, 0.9, -2.5, 7.0, -19.0, 30.0, -36.7, 80.0, -88.0,
          300.0, -700.0, 730.0, -1e4, 1e4, 1e200, -1e300]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("y", [0.0, 1.0])
@pytest.mark.parametrize("pw", [1.0, 2.5])
def test_binary_cross_entropy_against_mpmath(dtype, y, pw):
    """Hard labels: loss, gradient and hessian within 3 ulp (hessian: 4, a product of two
    rounded sigmoids) of the 200-bit values, from tiny to huge logits, all finite."""
    finfo = np.finfo(dtype)
    p = np.array([x for x in LOGITS if abs(x) < float(finfo.max)], dtype)
    yy = np.full_like(p, y)
    loss = lf.get_loss("binary_cross_entropy", pos_weight=pw)
    lv, g = loss.loss_gradient(yy, p, reduction="none")
    _, h = loss.gradient_hessian(yy, p, reduction="none")
    assert np.all(np.isfinite(lv)) and np.all(np.isfinite(g)) and np.all(np.isfinite(h))
    for i, x in enumerate(p):
        ref = mp_bce(y, float(x), pw)
        for got, want, what, tol in zip((lv[i], g[i], h[i]), ref, "lgh", (3, 3, 4)):
            assert ulps(got, want, dtype) <= tol, (what, float(x), float(got), float(want))


def test_binary_cross_entropy_soft_labels_against_mpmath():
    rng = np.random.default_rng(1)
    y = rng.random(300)
    p = rng.normal(0, 5, 300)
    loss = lf.get_loss("bce", pos_weight=0.6)
    lv, g = loss.loss_gradient(y, p, reduction="none")
    for i in range(300):
        ref_l, ref_g, _ = mp_bce(y[i], p[i], 0.6)
        assert ulps(lv[i], ref_l, np.float64) <= 4
        # the gradient cancels where s is near y: a few ulp of its terms
        assert abs(g[i] - float(ref_g)) <= 4 * np.spacing(1.6)


def test_extreme_logits_are_exact():
    bce = lf.get_loss("binary_cross_entropy")
    y = np.array([1.0, 1.0, 0.0, 0.0])
    p = np.array([1e4, -1e4, 1e4, -1e4])
    lv, g = bce.loss_gradient(y, p, reduction="none")
    np.testing.assert_array_equal(lv, [0.0, 1e4, 1e4, 0.0])
    np.testing.assert_array_equal(g, [0.0, -1.0, 1.0, 0.0])
    _, h = bce.gradient_hessian(y, p, reduction="none")
    np.testing.assert_array_equal(h, 0.0)
    # hard labels at infinite logits: the term with weight 0 is dropped, not 0 * inf
    lv = bce.loss(np.array([1.0, 0.0]), np.array([np.inf, -np.inf]), reduction="none")
    np.testing.assert_array_equal(lv, [0.0, 0.0])


@pytest.mark.parametrize("name", ["hinge", "squared_hinge", "exponential"])
def test_margin_losses_take_either_label_set(name):
    rng = np.random.default_rng(2)
    y01 = rng.integers(0, 2, 1000).astype(np.float64)
    p = rng.normal(0, 2, 1000)
    loss = lf.get_loss(name)
    a = loss.loss_gradient(y01, p, reduction="none")
    b = loss.loss_gradient(2 * y01 - 1, p, reduction="none")
    c = loss.loss_gradient(y01.astype(np.int8), p, reduction="none")
    for x, z in zip(a, b):
        np.testing.assert_array_equal(x, z)
    for x, z in zip(a, c):
        np.testing.assert_array_equal(x, z)


# ---------------------------------------------------------------------------- label checks
BAD_LABELS = [
    ("binary_cross_entropy", [0.0, 1.0, 0.5, 1.5, 0.2], 3, ["[0, 1]", "y_true[3]", "1.5"]),
    ("bce", [0.0, -1e-9, 0.5, 2.0, 0.2], 1, ["[0, 1]", "y_true[1]", "-1e-09"]),
    ("binary_cross_entropy", [0.0, 1.0, 0.5, 0.0, np.inf], 4, ["y_true[4]", "inf"]),
    ("hinge", [0.0, 1.0, 2.0, 1.0, 0.0], 2, ["{0, 1}", "{-1, 1}", "y_true[2]", "2.0"]),
    ("squared_hinge", [1.0, 0.5, 1.0, 1.0, 0.0], 1, ["y_true[1]", "0.5"]),
    ("exponential", [1.0, 1.0, 1.0, 1.0, -2.0], 4, ["y_true[4]", "-2.0"]),
    ("hinge", [1.0, 0.0, -1.0, 1.0, 1.0], None, ["mixes", "y_true[1] = 0", "y_true[2] = -1"]),
]


@pytest.mark.parametrize("name,y,index,words", BAD_LABELS)
@pytest.mark.parametrize("method", ["loss", "gradient", "loss_gradient", "gradient_hessian"])
def test_labels_outside_the_domain_name_the_first_offender(name, y, index, words, method):
    y = np.array(y)
    p = np.linspace(-1, 1, y.size)
    y0, p0 = y.copy(), p.copy()
    with pytest.raises(ValueError) as info:
        getattr(lf.get_loss(name), method)(y, p)
    for word in words:
        assert word in str(info.value), (word, str(info.value))
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(p, p0)


@pytest.mark.parametrize("n_threads", [1, 2])
def test_bad_label_far_into_a_large_input_is_found(n_threads):
    """The check rides along in the threaded kernel pass: the offender sits in the last chunk,
    the outputs given are written, and the error says where."""
    n = 300_001
    y = np.zeros(n)
    y[-2] = 3.0
    g = np.empty(n)
    with pytest.raises(ValueError, match=r"y_true\[299999\] = 3.0"):
        lf.get_loss("binary_cross_entropy").loss_gradient(y, np.zeros(n), gradient_out=g,
                                                          n_threads=n_threads)
    with pytest.raises(ValueError, match=r"y_true\[\(2, 1\)\] = 7.0"):
        yy = np.zeros((4, 3))
        yy[2, 1] = 7.0
        lf.get_loss("hinge").loss(yy, np.zeros((4, 3)), sample_weight=np.ones(4))


def test_nan_labels_propagate_instead_of_failing():
    for name in ("binary_cross_entropy", "hinge", "squared_hinge", "exponential"):
        lv, g = lf.get_loss(name).loss_gradient(np.array([np.nan, 1.0]), np.array([0.5, 0.5]),
                                                reduction="none")
        assert np.isnan(lv[0]) and np.isnan(g[0]) and not np.isnan(lv[1])


@pytest.mark.parametrize("value", [0.0, -1.0, float("nan"), float("inf")])
def test_pos_weight_must_be_positive_and_finite(value):
    with pytest.raises(ValueError, match="pos_weight"):
        lf.get_loss("binary_cross_entropy", pos_weight=value)
