"""Weighted means with weights whose sums overflow or underflow: a weighted mean depends only on
the ratios of the weights, so weights of 1e308 or of 1e-320 define the same mean as moderate
ones.  Against a 100-digit reference from the per-element losses, and to the bit against the
same weights scaled by a power of two into the normal range."""

import math

import mpmath as mp
import numpy as np
import pytest

import lossfuse as lf
import lossfuse._api as api
from lossfuse import metrics

mp.mp.dps = 100
N = 50
HUGE = 2.0 ** 1020              # 50 weights of about this much: their sum overflows float64
TINY = 2.0 ** -1060             # subnormal: w * loss loses most bits, 1 / sum(w) overflows

LOSSES = [("squared_error", {}), ("huber", {"delta": 0.7}), ("pinball", {"alpha": 0.3}),
          ("poisson", {}), ("binary_cross_entropy", {"pos_weight": 1.5}),
          ("tweedie", {"power": 1.5})]


def problem(name, dtype, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.normal(size=N).astype(dtype)
    y = {"poisson": rng.poisson(2.0, N) * 1.0, "tweedie": rng.gamma(2.0, 1.0, N),
         "binary_cross_entropy": rng.uniform(0, 1, N)}.get(name, rng.normal(size=N))
    w = rng.uniform(0.5, 2.0, N)                    # moderate: the mean as usual
    return y.astype(dtype), p, w


def reference_mean(values, w):
    """sum(w * values) / sum(w) in 100-digit arithmetic, rounded to float64."""
    num = mp.fsum(mp.mpf(float(a)) * mp.mpf(float(b)) for a, b in zip(w, values))
    return float(num / mp.fsum(mp.mpf(float(b)) for b in w))


def all_results(loss, y, p, w):
    """Every reduced-to-mean quantity: loss, gradient, loss_gradient, gradient_hessian."""
    lg = loss.loss_gradient(y, p, sample_weight=w)
    gh = loss.gradient_hessian(y, p, sample_weight=w)
    return [loss.loss(y, p, sample_weight=w), loss.gradient(y, p, sample_weight=w), *lg, *gh]


def assert_bitwise(got, want):
    for g, v in zip(got, want):
        assert type(g) is type(v)
        np.testing.assert_array_equal(g, v)


@pytest.mark.parametrize("name,params", LOSSES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("scale", [HUGE, TINY, 2.0 ** 600, 2.0 ** -600],
                         ids=["huge", "subnormal", "2^600", "2^-600"])
def test_mean_with_extreme_weights_is_the_mean_of_their_ratios(name, params, dtype, scale):
    loss = lf.get_loss(name, **params)
    y, p, w = problem(name, dtype)
    with np.errstate(under="ignore"):
        scaled = w * scale                          # subnormal: rounded to fewer bits
    normal = scaled / scale                         # the same numbers, exactly, scaled back
    with np.errstate(all="raise"):                  # and no warning on the way
        got = all_results(loss, y, p, scaled)
    assert_bitwise(got, all_results(loss, y, p, normal))
    # and that is the weighted mean, from the per-element losses and gradients (float32
    # kernels multiply weight and loss in float32)
    elementwise = loss.loss_gradient(y, p, reduction="none")
    wd = normal.astype(dtype)                       # the weights the computation sees
    rtol = float(4 * np.finfo(dtype).eps)
    assert got[0] == pytest.approx(reference_mean(elementwise[0], wd), rel=rtol, abs=0)
    want_g = wd * elementwise[1].astype(np.float64) / math.fsum(wd)
    np.testing.assert_allclose(got[1], want_g, rtol=rtol, atol=0)


@pytest.mark.parametrize("weights", ["one huge", "huge and subnormal", "subnormals",
                                     "the largest", "float32 subnormals"])
def test_mixed_extreme_weights_against_the_reference(weights):
    rng = np.random.default_rng(3)
    y, p = rng.normal(size=N), rng.normal(size=N)
    w = rng.uniform(0.5, 2.0, N)
    dtype = np.float64
    if weights == "one huge":
        w[7] = 1e308                                 # the mean is nearly loss[7]
    elif weights == "huge and subnormal":
        w[:25] *= 1e300
        w[25:] *= 1e-300                             # nothing, next to the others
    elif weights == "subnormals":
        w = rng.integers(1, 2000, N) * 5e-324        # exact multiples of the smallest
    elif weights == "the largest":
        w[:] = np.finfo(np.float64).max
    else:
        dtype = np.float32
        w = (rng.integers(1, 200, N) * np.float32(1.4e-45)).astype(np.float32)
    loss = lf.get_loss("huber")
    y, p = y.astype(dtype), p.astype(dtype)
    got, g = loss.loss_gradient(y, p, sample_weight=w)
    elementwise, dl = loss.loss_gradient(y, p, reduction="none")
    assert got == pytest.approx(reference_mean(elementwise, w),
                                rel=float(4 * np.finfo(dtype).eps), abs=0)
    want_g = [float(mp.mpf(float(a)) * mp.mpf(float(b)) / mp.fsum(map(mp.mpf, w.tolist())))
              for a, b in zip(w, dl)]
    np.testing.assert_allclose(g, want_g, rtol=4 * np.finfo(dtype).eps,
                               atol=4 * np.finfo(dtype).smallest_subnormal)


def test_sum_and_none_keep_the_weights_as_they_are():
    """Only a mean is a ratio: a sum of 50 weights of 2^1020 times losses overflows, truly."""
    y, p, w = problem("squared_error", np.float64)
    loss = lf.get_loss("squared_error")
    with np.errstate(over="ignore"):
        assert loss.loss(y, p, sample_weight=w * HUGE, reduction="sum") == np.inf
    none = loss.loss(y, p, sample_weight=w * TINY, reduction="none")
    np.testing.assert_array_equal(none, (w * TINY) * loss.loss(y, p, reduction="none"))
    g = loss.gradient(y, p, sample_weight=w * 2.0 ** 900, reduction="sum")
    np.testing.assert_array_equal(g, (w * 2.0 ** 900) * loss.gradient(y, p, reduction="none"))


def test_weights_beyond_float32_weigh_a_float32_mean_and_are_an_error_elsewhere():
    y, p, w = problem("huber", np.float32)
    loss = lf.get_loss("huber")
    assert_bitwise(all_results(loss, y, p, w * 1e300), all_results(loss, y, p, w * 1e300 /
                                                                   2.0 ** 997))
    assert loss(y, p, sample_weight=w * 1e-300) == pytest.approx(loss(y, p, sample_weight=w),
                                                                 rel=1e-6)
    with pytest.raises(ValueError, match=r"sample_weight\[0\]"):
        loss.loss(y, p, sample_weight=w * 1e300, reduction="sum")


@pytest.mark.parametrize("bad", [np.inf, np.nan, -np.inf])
def test_weights_that_are_not_finite_are_not_rescued(bad):
    y, p, w = problem("huber", np.float64)
    w = w * HUGE
    w[3] = bad
    assert np.isnan(lf.get_loss("huber")(y, p, sample_weight=w))


def test_weights_that_cancel_are_still_the_zero_sum_error():
    y, p = np.ones(4), np.zeros(4)
    for w in ([HUGE, -HUGE, 0.0, 0.0], [TINY, -TINY, 0.0, 0.0], [0.0] * 4):
        with pytest.raises(ValueError, match="sum to zero"):
            lf.get_loss("huber")(y, p, sample_weight=np.array(w))


def test_the_normal_path_does_not_rescale(monkeypatch):
    """Moderate weights, or NaN in the data: the weights are not even looked at again; a loss
    that is infinite with weights near 1: they are, but not scaled (no second computation)."""
    calls = []

    def recorded(w):
        calls.append(scaled := scale(w))
        return scaled
    scale = api._power_of_two_scaled
    monkeypatch.setattr(api, "_power_of_two_scaled", recorded)
    y, p, w = problem("squared_error", np.float64)
    loss = lf.get_loss("squared_error")
    for weights in (w * 1e10, w * 1e-10, w):
        loss(y, p, sample_weight=weights)
        loss.gradient_hessian(y, p, sample_weight=weights)
    p[0] = np.nan
    assert np.isnan(loss(y, p, sample_weight=w))
    assert calls == []
    assert lf.get_loss("poisson")(np.ones(3), np.array([0.0, 1e3, 0.0]),
                                  sample_weight=np.array([1.0, 1.5, 1.0])) == np.inf
    assert calls == [None]


# ------------------------------------------------------------------------ cross_entropy
# With probabilities, class weights weigh the losses alone (torch divides by the sample
# weights): scaling them scales the mean, so only the sample weights are a ratio there.
@pytest.mark.parametrize("target,which", [("indices", "sample_weight"),
                                          ("indices", "class_weight"), ("indices", "both"),
                                          ("probabilities", "sample_weight")])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("scale", [HUGE, TINY], ids=["huge", "subnormal"])
def test_cross_entropy_mean_with_extreme_weights(target, dtype, which, scale):
    rng = np.random.default_rng(5)
    n, K = 40, 3
    p = rng.normal(size=(n, K)).astype(dtype)
    y = rng.integers(0, K, n) if target == "indices" else rng.dirichlet(np.ones(K), n)
    sw, cw = rng.uniform(0.5, 2, n), rng.uniform(0.5, 2, K)
    with np.errstate(under="ignore"):
        sw_big = sw * scale if which != "class_weight" else sw
        cw_big = cw * scale if which != "sample_weight" else cw
    sw, cw = sw_big / (scale if which != "class_weight" else 1.0), \
        cw_big / (scale if which != "sample_weight" else 1.0)     # what they hold, exactly
    loss, loss_big = (lf.get_loss("cross_entropy", class_weight=c, label_smoothing=0.1)
                      for c in (cw, cw_big))
    with np.errstate(all="raise"):
        got = all_results(loss_big, y, p, sw_big)
    assert_bitwise(got, all_results(loss, y, p, sw))
    rows = loss.loss(y, p, sample_weight=sw, reduction="none")   # weighted row losses
    if target == "indices":
        weight = sw * cw[y]
        assert got[0] == pytest.approx(float(mp.fsum(map(mp.mpf, rows.tolist()))
                                             / mp.fsum(map(mp.mpf, weight.tolist()))),
                                       rel=4e-15 if dtype == np.float64 else 1e-6)


def test_cross_entropy_sample_times_class_weights_that_underflow():
    """Subnormal sample weights times class weights of 1e-5: every product underflows to 0
    in float64, yet the weights define a mean -- that of the same weights scaled."""
    rng = np.random.default_rng(6)
    y, p = rng.integers(0, 2, 30), rng.normal(size=(30, 2))
    sw = rng.integers(1, 9, 30) * 5e-324 * 2.0**10          # exact: small integers of ulps
    cw = np.array([1e-5, 3e-5])
    got = all_results(lf.get_loss("cross_entropy", class_weight=cw), y, p, sw)
    want = all_results(lf.get_loss("cross_entropy", class_weight=cw * 2.0**20), y, p,
                       sw * 2.0**1000)
    assert_bitwise(got, want)
    loss = lf.get_loss("cross_entropy", class_weight=cw, ignore_index=-100)
    for labels, weights in ((y, np.zeros(30)), (np.full(30, -100), sw)):  # truly zero
        with pytest.raises(ValueError, match="total weight of zero"):
            loss(labels, p, sample_weight=weights)


# ------------------------------------------------------------------------------ metrics
@pytest.mark.parametrize("metric,kw", [("mean_squared_error", {}), ("mean_absolute_error", {}),
                                       ("root_mean_squared_error", {}),
                                       ("mean_pinball_loss", {"alpha": 0.2}),
                                       ("mean_poisson_deviance", {}),
                                       ("mean_gamma_deviance", {}),
                                       ("mean_tweedie_deviance", {"power": 3})])
@pytest.mark.parametrize("shape", [(N,), (N, 2)])
@pytest.mark.parametrize("scale", [HUGE, TINY, np.finfo(np.float64).max / 2],
                         ids=["huge", "subnormal", "near the largest"])
def test_metrics_with_extreme_weights(metric, kw, shape, scale):
    rng = np.random.default_rng(7)
    y = rng.gamma(2.0, 1.0, shape)
    p = y * rng.uniform(0.5, 1.5, shape)
    w = rng.uniform(0.5, 2.0, N)
    if "deviance" in metric and len(shape) == 2:
        shape, y, p = (N,), y[:, 0], p[:, 0]
    f = getattr(metrics, metric)
    outputs = ["uniform_average", "raw_values"] if len(shape) == 2 and "deviance" not in \
        metric else [None]
    for mo in outputs:
        extra = {} if mo is None else {"multioutput": mo}
        with np.errstate(under="ignore"):
            scaled = w / w.max() * scale
        with np.errstate(all="raise"):
            got = f(y, p, sample_weight=scaled, **kw, **extra)
        want = f(y, p, sample_weight=scaled / scale, **kw, **extra)
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)


def test_metrics_weighted_mean_against_the_reference():
    rng = np.random.default_rng(8)
    y, p = rng.normal(size=N), rng.normal(size=N)
    for w in (np.full(N, 1e308), rng.uniform(0.5, 2.0, N) * 1e-310, np.r_[1e308, np.ones(N - 1)]):
        want = reference_mean((y - p) ** 2, w)
        assert metrics.mean_squared_error(y, p, sample_weight=w) == pytest.approx(want,
                                                                                   rel=1e-14)


@pytest.mark.parametrize("normalize", [True, False])
def test_log_loss_with_extreme_weights(normalize):
    rng = np.random.default_rng(9)
    y = rng.integers(0, 2, N)
    q = rng.uniform(0.05, 0.95, N)
    w = rng.uniform(0.5, 2.0, N)
    for proba in (q, np.c_[1 - q, q], rng.dirichlet(np.ones(3), N)):
        labels = y if proba.ndim == 1 or proba.shape[1] == 2 else rng.integers(0, 3, N)
        if normalize:
            got = metrics.log_loss(labels, proba, sample_weight=w * HUGE)
            assert got == pytest.approx(metrics.log_loss(labels, proba, sample_weight=w),
                                        rel=1e-14)
            rows = proba if proba.ndim == 2 else np.c_[1 - proba, proba]
            assert got == pytest.approx(reference_mean(-np.log(rows[np.arange(N), labels]), w),
                                        rel=1e-13)
        else:                                        # a sum: overflows, as it should
            with np.errstate(over="ignore"):
                assert metrics.log_loss(labels, proba, sample_weight=w * HUGE,
                                        normalize=False) == np.inf
