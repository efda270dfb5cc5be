"""r2_score, explained_variance_score and max_error: values against scikit-learn and against
exact rational arithmetic, the accuracy of the shifted one-pass sums where the variance is
tiny next to the mean, the kernels (every build, every thread count, strides), scikit-learn's
errors and warnings, and the documented differences (max_error on integers, a constant
y_true)."""

import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lossfuse import metrics
from lossfuse._kernels import available, kernels
from reference import explained_score as exact
from conftest import assert_threads_give_serial_bits

sk = pytest.importorskip("sklearn.metrics")

SCORES = ["r2_score", "explained_variance_score"]
MULTIOUTPUT = ["raw_values", "uniform_average", "variance_weighted", [0.2, 0.5, 0.3]]


def data(n, m, dt, seed=0, offset=0.0):
    rng = np.random.default_rng(seed)
    shape = (n,) if m == 1 else (n, m)
    y = (offset + rng.normal(size=shape)).astype(dt)
    p = (y + rng.normal(0, 0.7, size=shape)).astype(dt)
    return y, p, rng.uniform(0, 2, n).astype(dt)


# ----------------------------------------------------------------- values against scikit-learn
@pytest.mark.parametrize("name", SCORES)
@pytest.mark.parametrize("dt", [np.float64, np.float32])
@pytest.mark.parametrize("m", [1, 3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("multioutput", MULTIOUTPUT)
@pytest.mark.parametrize("n", [2, 5, 1000, 70_000])
def test_scores_equal_scikit_learns(name, dt, m, weighted, multioutput, n):
    y, p, w = data(n, m, dt, seed=n + m)
    w = w if weighted else None
    kw = dict(sample_weight=w, multioutput=multioutput)
    if m == 1 and not isinstance(multioutput, str):
        with pytest.raises(ValueError, match="Custom weights are useful only in multi-output"):
            getattr(metrics, name)(y, p, **kw)
        return
    got, want = getattr(metrics, name)(y, p, **kw), getattr(sk, name)(y, p, **kw)
    assert type(got) is type(want)
    if isinstance(want, np.ndarray):
        assert got.dtype == want.dtype and got.shape == want.shape
    # scikit-learn sums float32 in float32; lossfuse in float64
    rtol = 1e-4 if dt == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)
    if dt == np.float64 and n <= 1000:
        np.testing.assert_allclose(got, exact(name, y, p, w, multioutput), rtol=1e-13,
                                   atol=1e-15)


@pytest.mark.parametrize("name", SCORES)
@pytest.mark.parametrize("force_finite", [True, False])
def test_constant_outputs_follow_force_finite(name, force_finite):
    y = np.array([[2.0, 1.0, 3.0], [2.0, 1.0, 4.0], [2.0, 1.0, 5.0]])
    p = np.array([[2.0, 1.5, 3.5], [2.0, 1.0, 4.0], [2.0, 1.0, 4.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = getattr(metrics, name)(y, p, multioutput="raw_values", force_finite=force_finite)
        want = getattr(sk, name)(y, p, multioutput="raw_values", force_finite=force_finite)
    np.testing.assert_array_equal(got, want)
    # the two constant outputs: a perfect prediction and an imperfect one
    if force_finite:
        assert (got[0], got[1]) == (1.0, 0.0)
    else:
        assert np.isnan(got[0]) and got[1] == -np.inf


def test_a_constant_whose_mean_is_inexact_is_constant():
    """scikit-learn's mean of [0.1] * 3 is not 0.1, so its 'constant' test fails and it
    returns a huge negative number; lossfuse's shifted sums are exactly 0 (documented)."""
    y, p = [0.1] * 3, [0.2, 0.1, 0.1]
    assert metrics.r2_score(y, p) == 0.0
    assert sk.r2_score(y, p) < -1e30
    assert metrics.r2_score(y, p, force_finite=False) == -np.inf
    assert metrics.explained_variance_score(y, p) == 0.0


@pytest.mark.parametrize("name", SCORES)
def test_multioutput_none_is_uniform_for_r2_only(name):
    y, p, _ = data(20, 2, np.float64)
    if name == "r2_score":
        assert metrics.r2_score(y, p, multioutput=None) == metrics.r2_score(y, p)
    else:
        with pytest.raises(metrics.InvalidParameterError, match=r"or an array-like\. Got None"):
            metrics.explained_variance_score(y, p, multioutput=None)


@pytest.mark.parametrize("name", SCORES)
def test_variance_weighted_with_every_output_constant_is_uniform(name):
    y = np.array([[1.0, 2.0], [1.0, 2.0]])
    p = np.array([[1.0, 3.0], [1.0, 2.0]])
    got = getattr(metrics, name)(y, p, multioutput="variance_weighted")
    assert got == getattr(sk, name)(y, p, multioutput="variance_weighted") == 0.5


# -------------------------------------------------------------------------------- accuracy
def _integer_reference(yi, pi, unit):
    """r2 of y = yi / unit and p = pi / unit (int64 arrays) exactly: Python integers."""
    n = len(yi)
    c = int(yi[0])
    dy = (yi - c).astype(object)
    d = (yi - pi).astype(object)
    s1, s2, nn = sum(dy), sum(v * v for v in dy), sum(v * v for v in d)
    return 1 - Fraction(nn * n, s2 * n - s1 * s1)


@pytest.mark.parametrize("order", ["random", "sorted", "reversed"])
def test_r2_keeps_full_accuracy_when_the_variance_is_tiny_next_to_the_mean(order):
    """y = 1e8 + N(0, 1), n = 1e6: within 1e-9 of the exact value (the textbook one-pass
    formula is 25-40% off there)."""
    rng = np.random.default_rng(7)
    unit = 2 ** 26                       # y * unit and p * unit are integers: exact reference
    yi = np.round((1e8 + rng.normal(size=10 ** 6)) * unit).astype(np.int64)
    pi = yi + np.round(rng.normal(0, 0.5, size=10 ** 6) * unit).astype(np.int64)
    if order != "random":
        idx = np.argsort(yi)[:: 1 if order == "sorted" else -1]
        yi, pi = yi[idx], pi[idx]
    y, p = yi / unit, pi / unit
    assert np.array_equal(y * unit, yi) and np.array_equal(p * unit, pi)
    want = float(_integer_reference(yi, pi, unit))
    got = metrics.r2_score(y, p)
    assert abs(got - want) <= 1e-9 * abs(want)
    n = len(y)                           # the textbook formula, for the record
    with np.errstate(divide="ignore"):
        naive = 1 - np.sum((y - p) ** 2) / (np.sum(y * y) - np.sum(y) ** 2 / n)
    assert abs(naive - want) > 1e-3 * abs(want)


@pytest.mark.parametrize("name", SCORES)
def test_heavy_weights_far_from_the_shift_keep_full_accuracy(name):
    """A few weights dominate, so the weighted mean lies far from the shift the kernel chose
    from the first block: the sums are taken again around the mean."""
    rng = np.random.default_rng(3)
    y = 1e6 + rng.normal(size=3000)
    y[2500:] += 50
    p = y + rng.normal(0, 0.1, size=3000)
    w = np.full(3000, 1e-9)
    w[2500:] = 1.0
    np.testing.assert_allclose(getattr(metrics, name)(y, p, sample_weight=w),
                               exact(name, y, p, w), rtol=1e-12)


@pytest.mark.parametrize("name", SCORES)
@pytest.mark.parametrize("scale", [1e-170, 1e170, 1e300])
def test_squares_that_over_or_underflow_give_the_score_of_the_scaled_data(name, scale):
    y, p, w = data(50, 2, np.float64, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = getattr(metrics, name)(y * scale, p * scale, sample_weight=w,
                                     multioutput="raw_values")
    np.testing.assert_allclose(got, exact(name, y, p, w, "raw_values"), rtol=1e-12)


def test_a_prediction_whose_error_overflows_scores_minus_infinity():
    y, p = [1.0, 2.0, 0.5, 3.0], [1e308, 2.0, 1.0, 2.5]
    assert metrics.r2_score(y, p) == -np.inf
    assert metrics.r2_score(y, p, force_finite=False) == -np.inf


# Numbers whose squares neither overflow nor underflow (those are tested apart above), and
# weights 0 or not tiny.
finite = st.one_of(st.just(0.0), st.floats(1e-100, 1e6), st.floats(-1e6, -1e-100))


@st.composite
def problems(draw):
    n = draw(st.integers(2, 40))
    m = draw(st.integers(1, 3))
    y = np.array(draw(st.lists(finite, min_size=n * m, max_size=n * m))).reshape(n, m)
    kind = draw(st.sampled_from(["free", "near", "constant"]))
    if kind == "free":
        p = np.array(draw(st.lists(finite, min_size=n * m, max_size=n * m))).reshape(n, m)
    else:
        noise = np.array(draw(st.lists(st.floats(-1e-6, 1e-6), min_size=n * m,
                                       max_size=n * m))).reshape(n, m)
        p = y + noise
        if kind == "constant":
            y[:, 0] = y[0, 0]
    w = None
    if draw(st.booleans()):
        w = np.array(draw(st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 10)), min_size=n,
                                   max_size=n)))
        assume(np.sum(w) > 0 and np.count_nonzero(w) > 0)
    how = draw(st.sampled_from(["raw_values", "uniform_average", "variance_weighted"]))
    return y, p, w, how


@given(problems(), st.sampled_from(SCORES))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_scores_agree_with_exact_arithmetic_on_random_inputs(problem, name):
    """Within 1e-12 of the exact value, and of scikit-learn's wherever scikit-learn itself is
    (it is not everywhere: a near-constant y loses its digits in its mean)."""
    y, p, w, how = problem
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = getattr(metrics, name)(y, p, sample_weight=w, multioutput=how)
        theirs = getattr(sk, name)(y, p, sample_weight=w, multioutput=how)
    want = exact(name, y, p, w, how)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    with np.errstate(invalid="ignore"):
        close = np.all(np.isfinite(want)) and np.all(
            np.abs(np.asarray(theirs) - want) <= 1e-13 * np.abs(want) + 1e-15)
    if close:
        np.testing.assert_allclose(got, theirs, rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------------------ the kernels
@pytest.mark.parametrize("dt", [np.float64, np.float32])
@pytest.mark.parametrize("residuals", [False, True])
def test_moments_kernel_sums_what_it_says(dt, residuals):
    y, p, w = data(5000, 1, dt, seed=11, offset=3.0)
    run = kernels.moments_float64 if dt == np.float64 else kernels.moments_float32
    W, U, UU, DD, E, EE, K, Ke = run(y, p, w, np.nan, np.nan, residuals, 1)
    assert K in y.astype(float)                 # a data value
    yd, pd, wd = (a.astype(float) for a in (y, p, w))
    u, d = yd - K, yd - pd
    np.testing.assert_allclose([W, U, UU, DD], [wd.sum(), (wd * u).sum(), (wd * u * u).sum(),
                                                (wd * d * d).sum()], rtol=1e-12)
    if residuals:
        assert Ke in (yd - pd)
        e = d - Ke
        np.testing.assert_allclose([E, EE], [(wd * e).sum(), (wd * e * e).sum()], rtol=1e-10,
                                   atol=1e-9)
    else:
        assert (E, EE) == (0.0, 0.0)
    # a shift given is used as given
    assert run(y, p, w, 1.5, 0.25, residuals, 1)[6:] == (1.5, 0.25)


@pytest.mark.parametrize("dt", [np.float64, np.float32])
def test_moments_are_the_same_bits_for_every_build_thread_count_and_stride(dt):
    y, p, w = data(300_001, 1, dt, seed=2, offset=1e4)
    name = "moments_float64" if dt == np.float64 else "moments_float32"
    want = getattr(kernels, name)(y, p, w, np.nan, np.nan, True, 1)
    for module in available.values():
        for nt in (1, 2, 4):
            assert getattr(module, name)(y, p, w, np.nan, np.nan, True, nt) == want
    wide = np.empty((len(y), 3), dt)
    wide[:, 0], wide[:, 1], wide[:, 2] = y, p, w
    assert getattr(kernels, name)(wide[:, 0], wide[:, 1], wide[:, 2], np.nan, np.nan, True,
                                  2) == want


@pytest.mark.parametrize("dt", [np.float64, np.float32])
def test_max_abs_kernel_finds_the_largest_and_reports_nan_and_infinity(dt):
    rng = np.random.default_rng(4)
    y, p = rng.normal(size=(2, 200_003)).astype(dt)
    name = "max_abs_error_float64" if dt == np.float64 else "max_abs_error_float32"
    want = float(np.max(np.abs(y - p)))
    for module in available.values():
        for nt in (1, 2):
            assert getattr(module, name)(y, p, nt) == want
            assert getattr(module, name)(y[::3], p[::3], nt) == float(
                np.max(np.abs(y[::3] - p[::3])))
    for bad in (np.nan, np.inf, -np.inf):
        for at in (0, 7, 100_000, len(y) - 1):       # vector body and tail
            yb = y.copy()
            yb[at] = bad
            assert np.isnan(getattr(kernels, name)(yb, p, 2))
    assert getattr(kernels, name)(y[:0], p[:0], 1) == 0.0


@pytest.mark.parametrize("name", ["moments_float64", "max_abs_error_float64"])
def test_kernels_refuse_unequal_lengths_and_wrong_dtypes(name):
    f = getattr(kernels, name)
    args = (np.nan, np.nan, False, 1) if name.startswith("moments") else (1,)
    extra = (None,) if name.startswith("moments") else ()
    with pytest.raises(ValueError):
        f(np.zeros(3), np.zeros(4), *extra, *args)
    with pytest.raises(TypeError):
        f(np.zeros(3, np.float32), np.zeros(3), *extra, *args)


# -------------------------------------------------------------------- checks and messages
def _raised(f, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            f(*args, **kw)
        except Exception as e:                  # noqa: BLE001 -- compared with scikit-learn's
            return e
    return None


BAD = [
    dict(multioutput="foo"), dict(multioutput=3), dict(force_finite=1), dict(force_finite="yes"),
    dict(sample_weight=[1, 2]), dict(sample_weight=[1.0, np.nan, 1.0]),
    dict(sample_weight=[0.0, 0.0, 0.0]), dict(sample_weight=[1.0, -1.0, 0.0]),
    dict(y_true=[1.0, np.nan, 2.0]), dict(y_pred=[1.0, np.inf, 2.0]), dict(y_pred=[1.0, 2.0]),
    dict(y_true=[[1.0, 2.0], [2.0, 1.0], [3.0, 0.0]]), dict(multioutput=[0.5, 0.5]),
    dict(y_true=[[[1.0]], [[2.0]], [[3.0]]]), dict(y_true="abc"),
    dict(y_true=[["a"], ["b"], ["c"]]), dict(y_true=np.zeros((3, 0))),
]


@pytest.mark.parametrize("name", SCORES)
@pytest.mark.parametrize("bad", BAD, ids=[str(b) for b in BAD])
def test_bad_input_is_refused_as_scikit_learn_refuses_it(name, bad):
    kw = dict(y_true=[1.0, 2.0, 3.0], y_pred=[1.5, 2.0, 2.0]) | bad
    want, got = _raised(getattr(sk, name), **kw), _raised(getattr(metrics, name), **kw)
    assert (want is None) == (got is None), (want, got)
    if want is not None:
        for cls in (ValueError, TypeError, ZeroDivisionError):
            if isinstance(want, cls):     # lossfuse's may be both a ValueError and a TypeError
                assert isinstance(got, cls), (want, got)
        if isinstance(want, ZeroDivisionError):
            assert str(got) == str(want)
        elif "parameter of" in str(want):
            # the same message, but for the order scikit-learn prints its set of strings in
            assert sorted(str(got)) == sorted(str(want))


def test_r2_of_one_sample_warns_and_is_nan_after_the_checks():
    """scikit-learn is imported here, so the warning is its UndefinedMetricWarning."""
    from sklearn.exceptions import UndefinedMetricWarning
    with pytest.warns(UndefinedMetricWarning,
                      match=r"R\^2 score is not well-defined with less than two samples\."):
        assert np.isnan(metrics.r2_score([1.0], [2.0]))
    with pytest.raises(ValueError, match="Input contains NaN"):
        metrics.r2_score([np.nan], [2.0])
    # explained variance has no such case: one sample is a perfect score
    assert metrics.explained_variance_score([1.0], [2.0]) == \
        sk.explained_variance_score([1.0], [2.0]) == 1.0


@pytest.mark.parametrize("name", SCORES)
def test_inputs_are_not_modified_and_any_array_type_is_taken(name):
    pd = pytest.importorskip("pandas")
    y, p, w = data(30, 2, np.float64, seed=9)
    copies = [a.copy() for a in (y, p, w)]
    want = getattr(metrics, name)(y, p, sample_weight=w)
    assert getattr(metrics, name)(y.tolist(), pd.DataFrame(p), sample_weight=list(w)) == want
    assert getattr(metrics, name)(np.asfortranarray(y), p, sample_weight=w) == want
    for a, c in zip((y, p, w), copies):
        assert np.array_equal(a, c)


# -------------------------------------------------------------------------------- max_error
@pytest.mark.parametrize("dt", [np.float64, np.float32, np.int64, np.int32, np.float16])
@pytest.mark.parametrize("n", [1, 7, 16, 1000, 100_001])
def test_max_error_equals_scikit_learns(dt, n):
    rng = np.random.default_rng(n)
    y = (rng.normal(size=n) * 100).astype(dt)
    p = (rng.normal(size=n) * 100).astype(dt)
    got, want = metrics.max_error(y, p), sk.max_error(y, p)
    if dt == np.float16:
        # scikit-learn rounds the differences to float16; lossfuse computes float16 in
        # float32, where they are exact
        want = float(np.max(np.abs(y.astype(float) - p.astype(float))))
    assert type(got) is float and got == want
    assert metrics.max_error(y.reshape(-1, 1), p.tolist()) == sk.max_error(y.reshape(-1, 1),
                                                                            p.tolist())


def test_max_error_on_integers_is_the_true_difference():
    """scikit-learn subtracts integers in their dtype, which wraps around (documented)."""
    y, p = np.array([-128], np.int8), np.array([127], np.int8)
    assert metrics.max_error(y, p) == 255.0
    assert sk.max_error(y, p) == 1.0
    assert metrics.max_error(np.array([1], np.uint8), np.array([2], np.uint8)) == 1.0


@pytest.mark.parametrize("bad", [
    dict(y_true=[[1.0, 2.0], [2.0, 1.0], [3.0, 0.0]], y_pred=[[1.0, 2.0], [2.0, 1.0], [3.0, 0.0]]),
    dict(y_true=["a", "b", "c"]), dict(y_true=[1.0, np.nan, 2.0]), dict(y_pred=[1.0, np.inf, 2.0]),
    dict(y_pred=[1.0, 2.0]), dict(y_true=[]), dict(y_pred=3.0),
    dict(y_true=np.array([1j, 2, 3])),
    dict(y_true=[[[1.0]], [[2.0]], [[3.0]]]), dict(y_true=np.array([True, False, True]),
                                                   y_pred=np.array([True, True, True])),
])
def test_max_error_refuses_what_scikit_learn_refuses(bad):
    kw = dict(y_true=[1.0, 2.0, 3.0], y_pred=[1.5, 2.0, 2.0]) | bad
    want, got = _raised(sk.max_error, **kw), _raised(metrics.max_error, **kw)
    assert want is not None and got is not None, (want, got)
    for cls in (ValueError, TypeError):
        if isinstance(want, cls):
            assert isinstance(got, cls), (want, got)
    if "Multioutput" in str(want) or "NaN" in str(want) or "numeric" in str(want):
        assert str(got) == str(want)


def test_max_error_of_nan_in_the_short_path_is_scikit_learns_error():
    y = np.array([1.0, np.nan, 3.0])
    with pytest.raises(ValueError, match="Input contains NaN."):
        metrics.max_error(y, np.ones(3))
    with pytest.raises(ValueError, match="Input contains infinity"):
        metrics.max_error(np.ones(3, np.float32), np.array([1, np.inf, 2], np.float32))


def test_the_one_sample_warning_points_at_the_callers_line():
    with pytest.warns(UserWarning) as record:
        metrics.r2_score([1.0], [2.0])
    assert record[0].filename == __file__


@pytest.mark.parametrize("name", ["root_mean_squared_error", "root_mean_squared_log_error"])
def test_a_float32_root_is_rounded_to_float32_on_every_path(name):
    """The short path (1-d arrays, no weights) gives the bits of the full one."""
    rng = np.random.default_rng(2)
    y, p = rng.uniform(0, 3, (2, 101)).astype(np.float32)
    f = getattr(metrics, name)
    short, full = f(y, p), f(y, p, sample_weight=np.ones(101, np.float32))
    assert short == full == float(np.float32(short))
    assert full == pytest.approx(getattr(sk, name)(y, p), rel=1e-6)


def test_calls_from_many_python_threads_give_the_serial_bits():
    """Several Python threads at once, each call threaded too: every result is the bits of
    the same call made alone."""
    y, p, w = data(300_000, 1, np.float64, seed=21, offset=50.0)
    calls = [lambda: metrics.r2_score(y, p), lambda: metrics.explained_variance_score(y, p),
             lambda: metrics.r2_score(y, p, sample_weight=w), lambda: metrics.max_error(y, p)]
    assert_threads_give_serial_bits(calls)
