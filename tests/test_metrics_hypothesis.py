"""The logarithmic and percentage errors on random valid inputs (hypothesis): within 1e-12 of
their definitions evaluated exactly (mpmath at 50 digits, rational arithmetic), and of
scikit-learn's values wherever scikit-learn is itself that close (its difference of two
log1p loses the digits of nearly equal values, which lossfuse keeps).  R^2, the explained
variance, the medians, the D^2 scores, Brier and hinge have theirs in their own files."""

from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lossfuse import metrics

sk = pytest.importorskip("sklearn.metrics")

# Values above -1 (the logarithmic errors' domain), 0 or at least 1e-100 in magnitude: the
# square of a smaller error underflows float64, to 0 in both libraries (a mean of squares is
# not rescaled).
amounts = st.one_of(st.floats(-0.999, -1e-100), st.floats(1e-100, 1e6), st.just(0.0))
reals = st.one_of(st.floats(-1e6, -1e-100), st.floats(1e-100, 1e6), st.just(0.0))


@st.composite
def problems(draw, values):
    n = draw(st.integers(1, 40))
    m = draw(st.integers(1, 3))
    y = np.array(draw(st.lists(values, min_size=n * m, max_size=n * m))).reshape(n, m)
    if draw(st.booleans()):          # nearly equal predictions: where the errors cancel
        rel = np.array(draw(st.lists(st.floats(-1e-9, 1e-9), min_size=n * m,
                                     max_size=n * m))).reshape(n, m)
        p = y * (1 + rel)
    else:
        p = np.array(draw(st.lists(values, min_size=n * m, max_size=n * m))).reshape(n, m)
    w = None
    if draw(st.booleans()):
        w = np.array(draw(st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 10)), min_size=n,
                                   max_size=n)))
        assume(np.any(w > 0))
    how = draw(st.sampled_from(["raw_values", "uniform_average", [0.3, 0.2, 0.5][:m]]))
    assume(m > 1 or isinstance(how, str))
    return y, p, w, how


def _average(columns, w, how, num, root=False):
    """scikit-learn's averaging of per-element values (a list per output) in the arithmetic
    of `num` (Fraction or mpmath's mpf)."""
    w = [num(1)] * len(columns[0]) if w is None else [num(float(v)) for v in w]
    means = [sum(a * b for a, b in zip(w, c)) / sum(w) for c in columns]
    values = [float(mp.sqrt(v)) if root else float(v) for v in means]
    if isinstance(how, str) and how == "raw_values":
        return np.array(values)
    return float(np.average(values, weights=None if isinstance(how, str) else how))


def exact_msle(y, p, w, how, root=False):
    mp.mp.dps = 50
    cols = [[(mp.log1p(mp.mpf(float(b))) - mp.log1p(mp.mpf(float(a)))) ** 2
             for a, b in zip(y[:, j], p[:, j])] for j in range(y.shape[1])]
    return _average(cols, w, how, mp.mpf, root)


def exact_mape(y, p, w, how):
    eps = Fraction(float(np.finfo(np.float64).eps))
    cols = [[abs(Fraction(float(b)) - Fraction(float(a))) / max(abs(Fraction(float(a))), eps)
             for a, b in zip(y[:, j], p[:, j])] for j in range(y.shape[1])]
    return _average(cols, w, how, Fraction)


def _agrees(got, want, theirs):
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)
    if np.all(np.abs(np.asarray(theirs) - want) <= 1e-13 * np.abs(want)):
        np.testing.assert_allclose(got, theirs, rtol=1e-12, atol=1e-300)


@given(problems(amounts), st.booleans())
@settings(max_examples=200, deadline=None)
def test_logarithmic_errors_agree_with_their_definition(problem, root):
    y, p, w, how = problem
    name = "root_mean_squared_log_error" if root else "mean_squared_log_error"
    got = getattr(metrics, name)(y, p, sample_weight=w, multioutput=how)
    _agrees(got, exact_msle(y, p, w, how, root),
            getattr(sk, name)(y, p, sample_weight=w, multioutput=how))


@given(problems(reals))
@settings(max_examples=200, deadline=None)
def test_percentage_error_agrees_with_its_definition(problem):
    y, p, w, how = problem
    got = metrics.mean_absolute_percentage_error(y, p, sample_weight=w, multioutput=how)
    _agrees(got, exact_mape(y, p, w, how),
            sk.mean_absolute_percentage_error(y, p, sample_weight=w, multioutput=how))


@given(st.lists(st.tuples(reals, reals), min_size=1, max_size=60))
@settings(max_examples=200, deadline=None)
def test_max_error_is_the_exact_largest_difference(pairs):
    y, p = (np.array(v) for v in zip(*pairs))
    want = max(abs(Fraction(float(a)) - Fraction(float(b))) for a, b in pairs)
    got = metrics.max_error(y, p)
    assert got == sk.max_error(y, p)               # the same rounding of y - p
    assert abs(Fraction(got) - want) <= want * Fraction(2) ** -53


@pytest.mark.parametrize("dt", [np.float64, np.float32])
@pytest.mark.parametrize("root", [False, True])
def test_a_quotient_that_overflows_gives_the_difference_of_the_logs(dt, root):
    """y just above -1 and a huge y_pred: the kernel's (hi - lo) / (1 + lo) overflows, and
    the facade computes NumPy's log1p of each instead."""
    lo = np.nextafter(dt(-1), dt(0))
    y = np.array([lo, 1.0, 2.0], dt)
    p = np.array([np.finfo(dt).max / 2, 1.0, 2.5], dt)
    name = "root_mean_squared_log_error" if root else "mean_squared_log_error"
    got = getattr(metrics, name)(y, p)
    with np.errstate(all="ignore"):
        want = getattr(sk, name)(y.astype(float), p.astype(float))
    assert np.isfinite(got)
    np.testing.assert_allclose(got, want, rtol=1e-6 if dt == np.float32 else 1e-12)
