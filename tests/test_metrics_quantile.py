"""median_absolute_error and the D^2 scores (d2_pinball_score, d2_absolute_error_score,
d2_tweedie_score) against scikit-learn: the medians and quantiles are selections that return
the very order statistics scikit-learn's sorts pick, so median_absolute_error and the D^2
constants are equal to scikit-learn's bit for bit; the D^2 scores are quotients of sums that
lossfuse accumulates in float64, so they agree to rounding, and their special cases (constant
targets, fewer than two samples, zero denominators) exactly."""

import math
import re
import subprocess
import sys
import warnings
from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lossfuse import metrics

sk = pytest.importorskip("sklearn.metrics")
sk_regression = pytest.importorskip("sklearn.metrics._regression")
from sklearn.exceptions import UndefinedMetricWarning as SkUndefinedMetricWarning  # noqa: E402
from sklearn.utils.stats import _weighted_percentile  # noqa: E402
from test_deviance_accuracy import true_deviance  # noqa: E402

pd = pytest.importorskip("pandas")

D2 = ("d2_pinball_score", "d2_absolute_error_score")
UNDEFINED = "D^2 score is not well-defined with less than two samples."


def outcome(f, *args, **kw):
    """f(*args, **kw), or the exception it raises, with the warnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = f(*args, **kw)
        except Exception as e:               # noqa: BLE001 -- compared with the oracle's
            value = e
    return value, [(w.category, str(w.message)) for w in caught
                   if not issubclass(w.category, RuntimeWarning)]


def assert_same(got, want, exact=True, rtol=0.0):
    """The same type (Python float, or an ndarray of the same dtype and shape), and the same
    value: equal (NaN equal to NaN) when `exact`, else within `rtol`."""
    if isinstance(want, Exception):
        assert type(got) is type(want) and str(got) == str(want), (got, want)
        return
    assert not isinstance(got, Exception), (got, want)
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray) and got.dtype == want.dtype, (got, want)
        assert got.shape == want.shape
    else:
        assert type(got) is float, (type(got), got, want)
    if exact:
        assert np.array_equal(got, want, equal_nan=True), (got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol, equal_nan=True)


def make_weights(kind, n, rng):
    if kind == "none":
        return None
    w = {"unit": np.ones(n), "integer": rng.integers(0, 4, n).astype(float),
         "float": rng.uniform(0.1, 2.0, n), "zeros": rng.uniform(0.1, 2.0, n) * (rng.uniform(
             size=n) < 0.6), "negative": rng.uniform(0.1, 2.0, n)}[kind]
    if kind == "negative":
        w[rng.integers(n)] = -0.5
    if not np.any(w):
        w[0] = 1.0
    return w


def make_data(n, m, dtype, ties, rng):
    shape = (n,) if m == 0 else (n, m)
    if ties:
        y, p = rng.integers(-3, 4, shape), rng.integers(-3, 4, shape)
        return (y, p) if dtype == "int" else (y.astype(dtype), p.astype(dtype))
    y = rng.normal(0, 1, shape)
    p = y + rng.normal(0, 1, shape)
    if dtype == "int":
        return np.round(y * 10).astype(np.int64), np.round(p * 10).astype(np.int64)
    return y.astype(dtype), p.astype(dtype)


def grid():
    rng = np.random.default_rng(0)
    for n in list(range(1, 41)) + [1000]:
        for dtype in ("float64", "float32", "int"):
            for ties in (False, True):
                for m in (0, 1, 3):       # 0: a 1-d array
                    yield n, dtype, ties, m, int(rng.integers(2**31))


def multioutputs(m, rng):
    out = ["raw_values", "uniform_average"]
    if m > 1:
        out.append(rng.uniform(0, 1, m))
    return out


@pytest.mark.parametrize("n,dtype,ties,m,seed", list(grid()))
def test_median_absolute_error_equals_scikit_learns_bit_for_bit(n, dtype, ties, m, seed):
    rng = np.random.default_rng(seed)
    y, p = make_data(n, m, dtype, ties, rng)
    for kind in ("none", "unit", "integer", "float", "zeros", "negative"):
        w = make_weights(kind, n, rng)
        if w is not None and dtype == "float32" and kind == "float":
            w = w.astype(np.float32)
        for mo in multioutputs(max(m, 1), rng):
            want, _ = outcome(sk.median_absolute_error, y, p, sample_weight=w, multioutput=mo)
            got, _ = outcome(metrics.median_absolute_error, y, p, sample_weight=w,
                             multioutput=mo)
            assert_same(got, want)


ALPHAS = (0.0, 0.1, 0.5, 0.9, 1.0, 0.3141592653589793)


@pytest.mark.parametrize("n,dtype,ties,m,seed", list(grid()))
def test_d2_pinball_constant_is_scikit_learns_weighted_percentile_bit_for_bit(n, dtype, ties,
                                                                              m, seed):
    """The constant model's quantile, by selection (unit weights) or by scikit-learn's own
    computation (weights), is the number scikit-learn's `_weighted_percentile` gives."""
    if dtype == "int":
        return
    rng = np.random.default_rng(seed)
    y = make_data(n, 0, dtype, ties, rng)[0]
    for kind in ("none", "integer", "float", "zeros", "negative"):
        w = make_weights(kind, n, rng)
        w = None if w is None else w.astype(dtype)
        for alpha in ALPHAS + (float(rng.uniform()),):
            want = _weighted_percentile(y, np.ones(n, y.dtype) if w is None else w,
                                        percentile_rank=alpha * 100, average=True)
            got = metrics._quantile(y, w, alpha * 100)
            assert got.dtype == np.asarray(want).dtype
            assert np.array_equal(got, want, equal_nan=True), (alpha, kind, got, want)


@pytest.mark.parametrize("n,dtype,ties,m,seed", list(grid()))
@pytest.mark.parametrize("name", D2)
def test_d2_pinball_scores_as_scikit_learns(name, n, dtype, ties, m, seed):
    """Types exactly; the values to the rounding of the two sums (lossfuse's in float64),
    and exactly where scikit-learn's force_finite rules decide them (1.0, 0.0) or where
    there are fewer than two samples (NaN, with the warning).  Negative weights are left
    out: they can cancel a denominator to nothing, where either library's rounding decides."""
    rng = np.random.default_rng(seed)
    y, p = make_data(n, m, dtype, ties, rng)
    rtol = 1e-5 if dtype == "float32" else 1e-12
    for kind in ("none", "unit", "integer", "float", "zeros"):
        w = make_weights(kind, n, rng)
        alphas = ALPHAS if n <= 8 or n == 1000 else rng.choice(ALPHAS, 2).tolist()
        for alpha in (alphas if name == "d2_pinball_score" else (0.5,)):
            kw = {"alpha": alpha} if name == "d2_pinball_score" else {}
            for mo in multioutputs(max(m, 1), rng):
                want, want_warnings = outcome(getattr(sk, name), y, p, sample_weight=w,
                                              multioutput=mo, **kw)
                got, got_warnings = outcome(getattr(metrics, name), y, p, sample_weight=w,
                                            multioutput=mo, **kw)
                assert got_warnings == want_warnings
                exact = isinstance(want, float) and (math.isnan(want) or want in (0.0, 1.0))
                assert_same(got, want, exact=exact, rtol=rtol)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", D2)
def test_d2_pinball_force_finite_rules_exactly(name, dtype):
    """Per output: a constant y_true predicted perfectly scores 1.0, predicted otherwise 0.0;
    a perfect prediction of a varying y_true 1.0."""
    y = np.array([[2.0, 1.0, 5.0], [2.0, 2.0, 5.0], [2.0, 3.0, 5.0]], dtype)
    p = np.array([[2.0, 1.0, 4.0], [2.0, 2.0, 5.0], [2.0, 3.0, 5.0]], dtype)
    got = getattr(metrics, name)(y, p, multioutput="raw_values")
    assert got.dtype == np.dtype(dtype)
    assert got.tolist() == [1.0, 1.0, 0.0]
    assert got.tolist() == getattr(sk, name)(y, p, multioutput="raw_values").tolist()
    assert getattr(metrics, name)(y, p) == getattr(sk, name)(y, p)     # the mean in dtype


def test_d2_absolute_error_score_is_d2_pinball_score_at_one_half():
    rng = np.random.default_rng(3)
    y, p = rng.normal(size=(50, 2)), rng.normal(size=(50, 2))
    w = rng.uniform(size=50)
    assert metrics.d2_absolute_error_score(y, p, sample_weight=w, multioutput="raw_values") \
        .tolist() == metrics.d2_pinball_score(y, p, sample_weight=w,
                                              multioutput="raw_values").tolist()


def exact_d2_pinball(y, p, w, alpha):
    """1 - L(y, p) / L(y, q) in exact arithmetic, q scikit-learn's constant."""
    w = np.ones(len(y)) if w is None else w
    q = _weighted_percentile(y, w, percentile_rank=alpha * 100, average=True)

    def loss(pred):
        a = Fraction(alpha)
        return sum(Fraction(wi) * (a * (Fraction(yi) - Fraction(pi)) if yi >= pi else
                                   (1 - a) * (Fraction(pi) - Fraction(yi)))
                   for yi, pi, wi in zip(y.tolist(), pred, w.tolist()))
    num, den = loss(p.tolist()), loss([float(q)] * len(y))
    if num == 0:
        return 1.0
    if den == 0:
        return 0.0
    score = 1 - num / den                # infinite where the fraction overflows float64
    return float(score) if abs(score) < 2 ** 1024 else (math.inf if score > 0 else -math.inf)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_hypothesis_median_and_d2_pinball_as_scikit_learn(data):
    n = data.draw(st.integers(1, 30))
    m = data.draw(st.integers(1, 3))
    # no subnormals: a loss that underflows has no relative accuracy left, in either library
    values = st.one_of(st.integers(-5, 5).map(float),
                       st.floats(-1e6, 1e6, allow_subnormal=False))
    y = np.array(data.draw(st.lists(st.lists(values, min_size=m, max_size=m), min_size=n,
                                    max_size=n)))
    p = np.array(data.draw(st.lists(st.lists(values, min_size=m, max_size=m), min_size=n,
                                    max_size=n)))
    weight = st.just(0.0) | st.floats(1e-3, 10)
    w = data.draw(st.none() | st.lists(weight, min_size=n, max_size=n)
                  .filter(lambda v: any(v)).map(np.array))
    alpha = data.draw(st.sampled_from(ALPHAS) | st.floats(1e-200, 1))
    mo = data.draw(st.sampled_from(["raw_values", "uniform_average"]))
    want, _ = outcome(sk.median_absolute_error, y, p, sample_weight=w, multioutput=mo)
    got, _ = outcome(metrics.median_absolute_error, y, p, sample_weight=w, multioutput=mo)
    assert_same(got, want)
    want, want_warnings = outcome(sk.d2_pinball_score, y, p, sample_weight=w, alpha=alpha,
                                  multioutput="raw_values")
    got, got_warnings = outcome(metrics.d2_pinball_score, y, p, sample_weight=w, alpha=alpha,
                                multioutput="raw_values")
    assert got_warnings == want_warnings
    if isinstance(want, float):
        assert_same(got, want)
        return
    assert isinstance(got, np.ndarray) and got.dtype == want.dtype
    for j in range(m):               # against the exact score: scikit-learn's sums round
        exact = exact_d2_pinball(y[:, j], p[:, j], w, alpha)
        assert got[j] == pytest.approx(exact, rel=1e-12, abs=1e-12)


# ------------------------------------------------------------------------------- d2_tweedie
def tweedie_data(power, n, rng):
    mu = np.exp(rng.normal(0, 1, n))
    if power >= 2:
        y = rng.gamma(2.0, mu / 2)
    elif power >= 1:
        y = rng.poisson(mu).astype(float)
    else:
        y = rng.normal(0, 2, n)
    return y, mu


POWERS = [-1.5, -1, 0, 1, 1.4, 1.5, 2, 3]


@pytest.mark.parametrize("power", POWERS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("weights", ["none", "unit", "integer", "float", "zeros"])
def test_d2_tweedie_score_as_scikit_learns(power, dtype, weights):
    rng = np.random.default_rng(int(power * 10) + 20)
    for n in list(range(1, 25)) + [1000]:
        y, p = tweedie_data(power, n, rng)
        y, p = y.astype(dtype), p.astype(dtype)
        w = make_weights(weights, n, rng)
        weighted = y if w is None else y[w != 0]
        if n > 1 and np.all(weighted == weighted[0]):
            continue                         # constant: see the tests below
        want, want_warnings = outcome(sk.d2_tweedie_score, y, p, sample_weight=w, power=power)
        got, got_warnings = outcome(metrics.d2_tweedie_score, y, p, sample_weight=w,
                                    power=power)
        assert got_warnings == want_warnings
        exact = isinstance(want, Exception) or math.isnan(want)
        assert_same(got, want, exact=exact, rtol=2e-4 if dtype == "float32" else 1e-10)


def test_d2_tweedie_score_at_power_0_is_r2():
    rng = np.random.default_rng(5)
    y, p = rng.normal(size=100), rng.normal(size=100)
    w = rng.uniform(size=100)
    assert metrics.d2_tweedie_score(y, p, sample_weight=w) == pytest.approx(
        sk.r2_score(y, p, sample_weight=w), rel=1e-13)


@pytest.mark.parametrize("power", [0, 1, 2])
def test_d2_tweedie_score_of_a_constant_raises_zero_division_as_scikit_learn(power):
    """A constant y_true whose mean is that constant: the denominator is 0, in Python floats,
    as in scikit-learn (whose formula finds the 0 too at these powers)."""
    for y in ([2.0, 2.0, 2.0], [0.5] * 7):
        for f in (sk.d2_tweedie_score, metrics.d2_tweedie_score):
            with pytest.raises(ZeroDivisionError, match="float division by zero"):
                f(y, [1.0, 2.0, 3.0, 1.0, 1.0, 1.0, 1.0][:len(y)], power=power)


@pytest.mark.parametrize("power", [-1, 1.4, 3])
def test_d2_tweedie_score_of_a_constant_is_undefined_at_every_power(power):
    """The deviance of y at its own mean is 0 exactly (the kernels' deviance is), so the
    score of a constant y_true is a ZeroDivisionError at every power.  scikit-learn's
    formula leaves rounding residue there (a score of +-1e16 or so): lossfuse does not
    reproduce it."""
    y = [2.0, 2.0, 2.0]
    with pytest.raises(ZeroDivisionError, match="float division by zero"):
        metrics.d2_tweedie_score(y, [1.0, 2.0, 3.0], power=power)


def test_d2_tweedie_score_of_a_mean_off_the_constant_is_the_exact_quotient():
    """np.mean([0.1] * 3) is not 0.1: the denominator is the (tiny) deviance at that rounded
    mean, the score a large negative number, as in scikit-learn."""
    y, p = [0.1] * 3, [0.2, 0.1, 0.1]
    mean = np.mean(y)
    assert mean != 0.1
    den = Fraction(3) * (Fraction(0.1) - Fraction(float(mean))) ** 2 / 3
    num = (Fraction(0.2) - Fraction(0.1)) ** 2 / 3
    got = metrics.d2_tweedie_score(y, p)
    assert got == pytest.approx(float(1 - num / den), rel=1e-14)
    assert got == pytest.approx(sk.d2_tweedie_score(y, p), rel=1e-12)


@pytest.mark.parametrize("power", [1, 1.5, 1.9])
def test_d2_tweedie_score_of_all_zero_targets_as_scikit_learn(power):
    """y_true all 0: the constant mean is 0, outside the deviance's domain; scikit-learn's
    formula gives 0 at power 1 (a ZeroDivisionError) and NaN between 1 and 2."""
    y, p = [0.0, 0.0, 0.0], [0.5, 1.0, 2.0]
    want, _ = outcome(sk.d2_tweedie_score, y, p, power=power)
    got, _ = outcome(metrics.d2_tweedie_score, y, p, power=power)
    assert_same(got, want)


def test_d2_tweedie_score_with_weights_summing_to_zero():
    y, p, w = [1.0, 2.0, 3.0], [1.0, 2.0, 2.0], [1.0, -1.0, 0.0]
    for f in (sk.d2_tweedie_score, metrics.d2_tweedie_score):
        with pytest.raises(ZeroDivisionError, match="Weights sum to zero"):
            f(y, p, sample_weight=w)


# ------------------------------------------------------------------- errors and warnings
def error_cases():
    y, p = [1.0, 2.0, 3.0], [1.5, 2.0, 2.0]
    return [
        ("y_true not array-like", dict(y_true=1.0, y_pred=p)),
        ("y_pred not array-like", dict(y_true=y, y_pred="abc")),
        ("sample_weight not array-like", dict(y_true=y, y_pred=p, sample_weight=3)),
        ("multioutput name", dict(y_true=y, y_pred=p, multioutput="variance_weighted")),
        ("multioutput number", dict(y_true=y, y_pred=p, multioutput=3)),
        ("y_true bad, multioutput bad", dict(y_true=1.0, y_pred=p, multioutput="foo")),
        ("multioutput bad, sample_weight bad", dict(y_true=y, y_pred=p, multioutput="foo",
                                                    sample_weight=3)),
        ("lengths", dict(y_true=y, y_pred=p[:2])),
        ("weight length", dict(y_true=y, y_pred=p, sample_weight=[1.0, 2.0])),
        ("NaN in y_true", dict(y_true=[1.0, np.nan, 3.0], y_pred=p)),
        ("inf in y_pred", dict(y_true=y, y_pred=[1.0, np.inf, 3.0])),
        ("NaN in both", dict(y_true=[np.nan, 1.0, 2.0], y_pred=[1.0, np.inf, 3.0])),
        ("inf in y_pred, NaN weight", dict(y_true=y, y_pred=[1.0, np.inf, 3.0],
                                           sample_weight=[1.0, np.nan, 1.0])),
        ("NaN in y_true, zero weights", dict(y_true=[1.0, np.nan, 3.0], y_pred=p,
                                             sample_weight=[0.0, 0.0, 0.0])),
        ("empty", dict(y_true=[], y_pred=[])),
        ("3-d", dict(y_true=np.ones((3, 1, 1)), y_pred=np.ones((3, 1, 1)))),
        ("outputs", dict(y_true=np.ones((3, 2)), y_pred=np.ones((3, 3)))),
        ("2-d weights", dict(y_true=y, y_pred=p, sample_weight=[[1.0, 2.0, 3.0]])),
        ("NaN weight", dict(y_true=y, y_pred=p, sample_weight=[1.0, np.nan, 1.0])),
        ("inf weight", dict(y_true=y, y_pred=p, sample_weight=[1.0, np.inf, 1.0])),
        ("zero weights", dict(y_true=y, y_pred=p, sample_weight=[0.0, 0.0, 0.0])),
        ("weights summing to zero", dict(y_true=y, y_pred=p, sample_weight=[1.0, -1.0, 0.0])),
        ("output weights, one output", dict(y_true=y, y_pred=p, multioutput=[0.5])),
        ("output weights, too many", dict(y_true=np.ones((3, 2)), y_pred=np.ones((3, 2)),
                                          multioutput=[0.2, 0.3, 0.5])),
        ("output weights summing to zero", dict(y_true=np.ones((3, 2)) + [[0, 1]],
                                                y_pred=np.ones((3, 2)),
                                                multioutput=[1.0, -1.0])),
        ("strings", dict(y_true=["1", "2", "3"], y_pred=p)),
        ("complex", dict(y_true=np.array(y) + 1j, y_pred=p)),
        ("one sample", dict(y_true=[1.0], y_pred=[2.0])),
        ("one sample, raw", dict(y_true=[[1.0, 2.0]], y_pred=[[2.0, 2.0]],
                                 multioutput="raw_values")),
        ("one sample, NaN", dict(y_true=[np.nan], y_pred=[2.0])),
        ("alpha", dict(y_true=y, y_pred=p, alpha=1.5)),
        ("alpha NaN", dict(y_true=y, y_pred=p, alpha=np.nan)),
        ("alpha string", dict(y_true=y, y_pred=p, alpha="0.5")),
        ("alpha bad, sample_weight bad", dict(y_true=y, y_pred=p, alpha=2, sample_weight=3)),
        ("alpha bad, multioutput bad", dict(y_true=y, y_pred=p, alpha=2, multioutput="foo")),
        ("power", dict(y_true=y, y_pred=p, power=0.5)),
        ("power inf", dict(y_true=y, y_pred=p, power=np.inf)),
        ("power bad, sample_weight bad", dict(y_true=y, y_pred=p, power=0.5,
                                              sample_weight=3)),
        ("power 1, negative y", dict(y_true=[-1.0, 2.0, 3.0], y_pred=p, power=1)),
        ("power 2, zero y", dict(y_true=[0.0, 2.0, 3.0], y_pred=p, power=2)),
        ("power 1.5, zero y_pred", dict(y_true=y, y_pred=[0.0, 2.0, 3.0], power=1.5)),
        ("power -1, negative y_pred", dict(y_true=y, y_pred=[-1.0, 2.0, 3.0], power=-1)),
        ("power 2, one sample out of domain", dict(y_true=[-1.0], y_pred=[-2.0], power=2)),
        ("tweedie outputs", dict(y_true=np.ones((3, 2)), y_pred=np.ones((3, 2)))),
        ("unknown keyword", dict(y_true=y, y_pred=p, foo=1)),
    ]


PARAMS = {"median_absolute_error": {"multioutput", "sample_weight"},
          "d2_pinball_score": {"multioutput", "sample_weight", "alpha"},
          "d2_absolute_error_score": {"multioutput", "sample_weight"},
          "d2_tweedie_score": {"sample_weight", "power"}}


def normalise(message):
    """Set order in scikit-learn's messages is hash order."""
    return re.sub(r"\{[^}]*\}", "{...}", message)


@pytest.mark.parametrize("what,kw", error_cases(), ids=[c[0] for c in error_cases()])
@pytest.mark.parametrize("name", sorted(PARAMS))
def test_errors_and_warnings_as_scikit_learns(name, what, kw):
    """The same exception class and message, in scikit-learn's order of checks (the first
    failing check decides), or the same value and warnings.  Where lossfuse words a message
    of its own (a clearer one for an unknown keyword), the exception's classes are checked."""
    extra = set(kw) - {"y_true", "y_pred"}
    if extra - PARAMS[name] - {"foo"} or (name == "d2_tweedie_score" and what == "outputs"):
        pytest.skip("not a parameter of this metric")
    if name != "d2_tweedie_score" and what == "tweedie outputs":
        pytest.skip("for d2_tweedie_score")
    want, want_warnings = outcome(getattr(sk, name), **kw)
    got, got_warnings = outcome(getattr(metrics, name), **kw)
    assert got_warnings == want_warnings
    if isinstance(want, Exception) and what == "unknown keyword":
        assert isinstance(got, TypeError)
        return
    if isinstance(want, Exception):
        assert isinstance(got, Exception), (got, want)
        for cls in (ValueError, TypeError, ZeroDivisionError):
            assert isinstance(got, cls) or not isinstance(want, cls), (got, want)
        assert normalise(str(got)) == normalise(str(want))
        return
    assert_same(got, want, exact=False, rtol=1e-12)


@pytest.mark.parametrize("name", D2 + ("d2_tweedie_score",))
def test_undefined_warning_is_scikit_learns_when_it_is_imported(name):
    with pytest.warns(SkUndefinedMetricWarning, match=re.escape(UNDEFINED)) as record:
        assert math.isnan(getattr(metrics, name)([1.0], [2.0]))
    assert record[0].filename == __file__          # it points at the call
    assert issubclass(metrics.UndefinedMetricWarning, UserWarning)
    assert "UndefinedMetricWarning" in metrics.__all__


def test_undefined_warning_is_lossfuses_without_scikit_learn():
    """scikit-learn is never imported by lossfuse: without it, lossfuse's own class."""
    code = ("import sys, warnings\n"
            "from lossfuse import metrics\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    r = metrics.d2_pinball_score([1.0], [2.0])\n"
            "assert r != r and w[0].category is metrics.UndefinedMetricWarning, w\n"
            "assert str(w[0].message) == " + repr(UNDEFINED) + "\n"
            "assert 'sklearn' not in sys.modules\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_undefined_helper_takes_any_message_and_stacklevel():
    def metric():
        metrics._undefined("R^2 score is not well-defined with less than two samples.")

    with pytest.warns(SkUndefinedMetricWarning, match=r"R\^2 score") as record:
        metric()
    assert record[0].filename == __file__ and record[0].lineno == sys._getframe().f_lineno - 1


# ----------------------------------------------------------------------------- _assemble
@pytest.mark.parametrize("multioutput", ["raw_values", "uniform_average", "variance_weighted",
                                         None, np.array([0.2, 0.5, 0.3])])
@pytest.mark.parametrize("force_finite", [True, False])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("denominator", [[0.0, 2.0, 3.0], [0.0, 0.0, 0.0], [1.0, 4.0, 0.5]])
def test_assemble_as_scikit_learns(multioutput, force_finite, dtype, denominator):
    numerator = np.array([0.0, 1.0, 0.25], dtype)
    for num in (numerator, np.array([1.5, 0.0, 0.25], dtype)):
        den = np.array(denominator, dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = sk_regression._assemble_fraction_of_explained_deviance(
                num, den, 3, multioutput, force_finite, np, "cpu")
            got = metrics._assemble(num, den, multioutput, force_finite)
        assert_same(got, want)


# ------------------------------------------------------------ median_absolute_error, more
def test_median_absolute_error_keeps_the_dtype():
    y = np.array([1, 2, 4, 7], np.float32)
    p = np.array([2, 2, 3, 3], np.float32)
    assert metrics.median_absolute_error(y, p, multioutput="raw_values").dtype == np.float32
    assert metrics.median_absolute_error(y.astype(int), p.astype(int),
                                         multioutput="raw_values").dtype == np.float64
    assert metrics.median_absolute_error(y.astype(np.int8), p,
                                         multioutput="raw_values").dtype == np.float32
    assert metrics.median_absolute_error(y.astype(np.int64), p,
                                         multioutput="raw_values").dtype == np.float64
    assert type(metrics.median_absolute_error(y, p)) is float


def test_median_absolute_error_of_integers_does_not_wrap():
    """scikit-learn subtracts integers in their dtype (int8: -128 and 127 differ by 1 after
    wrapping; uint8: 2 - 1 is 255 the other way round); lossfuse gives the true error."""
    assert metrics.median_absolute_error(np.array([-128], np.int8),
                                         np.array([127], np.int8)) == 255.0
    assert metrics.median_absolute_error(np.array([2], np.uint8),
                                         np.array([1], np.uint8)) == 1.0
    assert sk.median_absolute_error(np.array([2], np.uint8), np.array([1], np.uint8)) == 255.0


def test_median_absolute_error_of_two_booleans_is_a_type_error():
    y = np.array([True, False, True])
    with pytest.raises(TypeError):
        sk.median_absolute_error(y, y)
    with pytest.raises(TypeError, match="y_true and y_pred are both boolean"):
        metrics.median_absolute_error(y, y)
    assert metrics.median_absolute_error(y, [1, 1, 0]) == sk.median_absolute_error(y, [1, 1, 0])


def test_median_absolute_error_of_even_float32_averages_in_float32():
    """(a + b) / 2 in float32: 2**24 + 1 is not a float32 sum."""
    y = np.zeros(2, np.float32)
    p = np.array([2**24, 2**24 + 2], np.float32)
    got = metrics.median_absolute_error(y, p, multioutput="raw_values")
    assert got.tolist() == sk.median_absolute_error(y, p, multioutput="raw_values").tolist()
    big = np.array([3e38, 3e38], np.float32)             # the float32 sum overflows, as NumPy's
    with np.errstate(over="ignore"):
        assert np.isinf(sk.median_absolute_error(y, big, multioutput="raw_values")[0])
    assert np.isinf(metrics.median_absolute_error(y, big, multioutput="raw_values")[0])


def test_median_absolute_error_of_differences_that_overflow():
    y, p = [-1e308, 0.0, 1.0], [1e308, 0.0, 1.0]
    with np.errstate(over="ignore"):
        want = sk.median_absolute_error(y, p, multioutput="raw_values")
    assert_same(metrics.median_absolute_error(y, p, multioutput="raw_values"), want)
    y, p = [-1e308, 0.0], [1e308, 0.0]                   # the median is the overflow
    assert metrics.median_absolute_error(y, p) == math.inf


@pytest.mark.parametrize("n", [16, 10_001, 1_000_000])
def test_median_absolute_error_at_size(n):
    rng = np.random.default_rng(n)
    for dtype in ("float64", "float32"):
        y = rng.normal(size=n).astype(dtype)
        p = (y + rng.normal(size=n)).astype(dtype)
        w = rng.uniform(size=n)
        for sample_weight in (None, w):
            assert_same(metrics.median_absolute_error(y, p, sample_weight=sample_weight,
                                                      multioutput="raw_values"),
                        sk.median_absolute_error(y, p, sample_weight=sample_weight,
                                                 multioutput="raw_values"))
        if n <= 10_001:
            assert_same(metrics.d2_pinball_score(y, p, alpha=0.9, multioutput="raw_values"),
                        sk.d2_pinball_score(y, p, alpha=0.9, multioutput="raw_values"),
                        exact=False, rtol=1e-5 if dtype == "float32" else 1e-12)


# ---------------------------------------------------------------------- inputs as given
def input_kinds(y, p, w):
    yield "lists", y.tolist(), p.tolist(), w.tolist()
    yield "float32", y.astype(np.float32), p.astype(np.float32), w.astype(np.float32)
    yield "strided", np.repeat(y, 2, axis=0)[::2], np.repeat(p, 2, axis=0)[::2], \
        np.repeat(w, 2)[::2]
    yield "Fortran", np.asfortranarray(y), np.asfortranarray(p), w
    yield "pandas", pd.DataFrame(y), pd.DataFrame(p), pd.Series(w)
    yield "read-only", *(readonly(a) for a in (y, p, w))


def readonly(a):
    a = a.copy()
    a.flags.writeable = False
    return a


@pytest.mark.parametrize("name,kw", [("median_absolute_error", {}),
                                     ("d2_pinball_score", {"alpha": 0.9}),
                                     ("d2_absolute_error_score", {})])
def test_inputs_of_every_kind_and_never_modified(name, kw):
    rng = np.random.default_rng(11)
    y = np.round(rng.normal(size=(31, 2)), 1)
    p = np.round(y + rng.normal(size=(31, 2)), 1)
    w = rng.uniform(size=31)
    for what, yy, pp, ww in input_kinds(y, p, w):
        copies = [np.array(a, copy=True) for a in (yy, pp, ww)]
        for sample_weight in (None, ww):
            got = getattr(metrics, name)(yy, pp, sample_weight=sample_weight,
                                         multioutput="raw_values", **kw)
            want = getattr(sk, name)(yy, pp, sample_weight=sample_weight,
                                     multioutput="raw_values", **kw)
            assert_same(got, want, exact=name == "median_absolute_error",
                        rtol=1e-5 if what == "float32" else 1e-12)
        for before, after in zip(copies, (yy, pp, ww)):
            assert np.array_equal(before, np.asarray(after)), what


def test_d2_tweedie_inputs_never_modified():
    y, p, w = np.array([1.0, 2.0, 0.0, 4.0]), np.array([1.5, 2.0, 0.5, 3.0]), np.ones(4)
    copies = [a.copy() for a in (y, p, w)]
    for power in (0, 1, 1.5, -1):
        metrics.d2_tweedie_score(y, p, sample_weight=w, power=power)
    for before, after in zip(copies, (y, p, w)):
        assert np.array_equal(before, after)


def exact_d2_tweedie(y, p, w, power):
    """(1 - N/D, N/D) from the deviances in 50-digit arithmetic, the constant model
    scikit-learn's rounded weighted mean of y."""
    w = np.ones(len(y)) if w is None else w
    mean = float(np.average(y, weights=w))
    with mp.workdps(50):
        num = mp.fsum(mp.mpf(wi) * true_deviance(yi, pi, power) for yi, pi, wi in zip(y, p, w))
        den = mp.fsum(mp.mpf(wi) * true_deviance(yi, mean, power) for yi, wi in zip(y, w))
        return float(1 - num / den), float(num / den)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_hypothesis_d2_tweedie_score_against_exact_deviances(data):
    """scikit-learn's naive deviance formula loses digits where y_true is near y_pred, so the
    reference is exact; where the numbers are well-conditioned scikit-learn agrees too."""
    power = data.draw(st.sampled_from([-1.0, 0, 1, 1.5, 2, 3]))
    n = data.draw(st.integers(2, 30))
    low = 0.0 if 1 <= power < 2 else (-100.0 if power < 1 else 1e-3)
    y = np.array(data.draw(st.lists(st.floats(low, 100, allow_subnormal=False), min_size=n,
                                    max_size=n)))
    p = np.array(data.draw(st.lists(st.floats(1e-3, 100), min_size=n, max_size=n)))
    w = data.draw(st.none() | st.lists(st.floats(0.5, 10), min_size=n, max_size=n)
                  .map(np.array))
    if np.all(y == y[0]):
        return                                  # constant: the tests above
    got = metrics.d2_tweedie_score(y, p, sample_weight=w, power=power)
    exact, ratio = exact_d2_tweedie(y.tolist(), p.tolist(), w, power)
    assert abs(got - exact) <= 1e-12 * max(1.0, abs(ratio))
