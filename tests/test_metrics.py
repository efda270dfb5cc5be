"""lossfuse.metrics against scikit-learn, the oracle: the same values (to rounding), the same
return types, and for wrong input the same exception with the same message."""

import doctest
import math
import re
import warnings

import numpy as np
import pytest

from lossfuse import metrics
from conftest import assert_builds_agree

sk = pytest.importorskip("sklearn.metrics")

REGRESSION = {
    "mean_squared_error": {},
    "root_mean_squared_error": {},
    "mean_absolute_error": {},
    "mean_pinball_loss": {"alpha": 0.5},
    "mean_squared_log_error": {},
    "root_mean_squared_log_error": {},
    "mean_absolute_percentage_error": {},
}
#: the metrics of log1p: every value above -1
LOGARITHMIC = ("mean_squared_log_error", "root_mean_squared_log_error")
PINBALL_ALPHAS = [0.0, 0.1, 0.5, 0.9, 1.0]


def cases():
    for name in REGRESSION:
        for alpha in (PINBALL_ALPHAS if name == "mean_pinball_loss" else [None]):
            yield name, ({} if alpha is None else {"alpha": alpha})


def data(shape, dtype, seed=0, weights=None, name=None):
    """y, p and weights of `shape`: values around 0 (sd 3), and p near y; for the logarithmic
    metrics (`name`) their absolute values and a few values in (-1, 0)."""
    rng = np.random.default_rng(seed)
    y = rng.normal(0, 3, shape)
    p = y + rng.normal(0, 1, shape)
    if name in LOGARITHMIC:
        y, p = np.abs(y), np.abs(p)
        y.flat[::7] = -rng.uniform(0, 0.999, y.flat[::7].shape)
    y, p = y.astype(dtype), p.astype(dtype)
    n = shape[0]
    w = {None: None, "positive": rng.uniform(0.1, 2, n), "zeros": rng.integers(0, 3, n) * 1.0,
         "mixed": np.r_[rng.uniform(0.5, 2, n - 1), -0.3]}[weights]
    if weights == "zeros":
        w[0] = 1.0
    return y, p, w


def both(name, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # scikit-learn's overflow warnings
        return getattr(metrics, name)(*args, **kw), getattr(sk, name)(*args, **kw)


@pytest.mark.parametrize("name,params", list(cases()))
@pytest.mark.parametrize("shape", [(1,), (16,), (1000,), (500, 1), (300, 3)])
@pytest.mark.parametrize("weights", [None, "positive", "zeros", "mixed"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_equal_scikit_learns(name, params, shape, weights, dtype):
    y, p, w = data(shape, dtype, weights=weights, name=name)
    outputs = ["uniform_average", "raw_values"] + ([[0.2, 0.3, 0.5]] if len(shape) == 2
                                                   and shape[1] == 3 else [])
    rtol = 1e-12 if dtype == np.float64 else 2e-5   # scikit-learn sums float32 in float32
    for mo in outputs:
        got, want = both(name, y, p, sample_weight=w, multioutput=mo, **params)
        if isinstance(want, np.ndarray):
            assert isinstance(got, np.ndarray) and got.dtype == want.dtype
            assert got.shape == want.shape
        else:
            assert type(got) is float
        np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-300)


@pytest.mark.parametrize("name,params", list(cases()))
def test_lists_ints_and_mixed_dtypes_as_scikit_learn_takes_them(name, params):
    y = [3, 0, 2, 7] if name in LOGARITHMIC else [3, -1, 2, 7]
    for p in ([2.5, 0.0, 2, 8], np.array([2.5, 0.0, 2, 8], np.float32), [1, 2, 3, 4]):
        for yy in (y, np.array(y, np.float32), np.array(y, np.int8), [str(v) for v in y]):
            got, want = both(name, yy, p, **params)
            # float32: a difference of two logarithms of float32 keeps fewer digits
            assert got == pytest.approx(want, rel=1e-5 if name in LOGARITHMIC else 1e-6)
    got, want = both(name, [[1, 2], [3, 4]], [[1, 3], [2, 2]],
                     multioutput=np.array([0.5, 1.5]), **params)
    assert got == pytest.approx(want, rel=1e-12)


def test_the_short_path_and_the_full_path_agree_to_the_bit():
    for name, params in cases():
        y, p, _ = data((1001,), np.float64, seed=3, name=name)
        f = getattr(metrics, name)
        fast = f(y, p, **params)
        full = f(list(y), list(p), **params)
        strided = f(np.repeat(y, 2)[::2], np.repeat(p, 2)[::2], **params)
        assert fast == full == strided


def test_inputs_are_not_changed_and_overflow_is_inf_not_an_error():
    y, p, w = data((100,), np.float64, weights="positive")
    copies = y.copy(), p.copy(), w.copy()
    metrics.mean_squared_error(y, p, sample_weight=w, multioutput="raw_values")
    for a, b in zip((y, p, w), copies):
        np.testing.assert_array_equal(a, b)
    big = np.array([1e200, -1e200])
    assert metrics.mean_squared_error(big, -big) == np.inf
    assert metrics.root_mean_squared_error(big, -big, multioutput="raw_values")[0] == np.inf


BAD = [
    ("y_pred length", dict(y_true=[1, 2], y_pred=[1, 2, 3])),
    ("NaN in y_true", dict(y_true=[1, np.nan], y_pred=[1, 2])),
    ("NaN in y_pred", dict(y_true=[1, 2], y_pred=np.array([1, np.nan]))),
    ("inf in y_pred", dict(y_true=np.array([1.0, 2.0]), y_pred=np.array([1, np.inf]))),
    ("-inf float32", dict(y_true=np.float32([1, 2]), y_pred=np.float32([1, -np.inf]))),
    ("inf in 2-d", dict(y_true=[[1, 2], [3, np.inf]], y_pred=[[1, 2], [3, 4]])),
    ("NaN in weights", dict(y_true=[1, 2], y_pred=[1, 3], sample_weight=[np.nan, 2])),
    ("inf in weights", dict(y_true=[1, 2], y_pred=[1, 3], sample_weight=[np.inf, 2])),
    ("empty", dict(y_true=[], y_pred=[])),
    ("3-d", dict(y_true=[[[1]]], y_pred=[[[1]]])),
    ("strings", dict(y_true=["a", "b"], y_pred=[1, 2])),
    ("weights length", dict(y_true=[1, 2], y_pred=[1, 2], sample_weight=[1, 2, 3])),
    ("2-d weights", dict(y_true=[1, 2], y_pred=[1, 2], sample_weight=[[1], [2]])),
    ("zero weights", dict(y_true=[1, 2], y_pred=[1, 3], sample_weight=[0, 0])),
    ("weights sum to 0", dict(y_true=[1, 2], y_pred=[1, 3], sample_weight=[1, -1])),
    ("scalar weight", dict(y_true=[1, 2], y_pred=[1, 3], sample_weight=2.0)),
    ("scalar y_true", dict(y_true=1.0, y_pred=[1.0])),
    ("string y_pred", dict(y_true=[1.0], y_pred="1")),
    ("multioutput name", dict(y_true=[1, 2], y_pred=[1, 3], multioutput="foo")),
    ("multioutput number", dict(y_true=[1, 2], y_pred=[1, 3], multioutput=3)),
    ("weights, 1 output", dict(y_true=[1, 2], y_pred=[1, 3], multioutput=[0.5, 0.5])),
    ("weights count", dict(y_true=[[1, 2]], y_pred=[[1, 3]], multioutput=[0.5, 0.5, 1])),
    ("output weights sum to 0", dict(y_true=[[1, 2], [3, 4]], y_pred=[[1, 3], [2, 2]],
                                     multioutput=[0, 0])),
    ("outputs differ", dict(y_true=[[1, 2], [3, 4]], y_pred=[1, 3])),
    ("complex", dict(y_true=np.array([1 + 1j, 2]), y_pred=[1, 3])),
]


def _raised(f, kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            f(**kw)
        except Exception as e:               # noqa: BLE001 -- the oracle's exception
            return e
    return None


def _normalized(message):
    """scikit-learn prints the options of a parameter as a set, in hash order."""
    return re.sub(r"\{[^{}]*\}", lambda m: str(sorted(m.group(0)[1:-1].split(", "))), message)


def assert_same_error(name, what, kw, message_of=None):
    """lossfuse.metrics' `name` refuses `kw` as scikit-learn's does: an instance of each
    builtin exception class scikit-learn's is (its InvalidParameterError is a ValueError and
    a TypeError), with the same message (scikit-learn's function `message_of`'s, if given)."""
    want = _raised(getattr(sk, name), kw)
    assert want is not None, f"scikit-learn accepts {what}"
    got = _raised(getattr(metrics, name), kw)
    assert got is not None, f"lossfuse accepts {what}"
    for cls in type(want).__mro__:
        if cls in (ValueError, TypeError, ZeroDivisionError):
            assert isinstance(got, cls), (what, got, want)
    if message_of is not None:
        want = _raised(getattr(sk, message_of), kw)
    assert _normalized(str(got)) == _normalized(str(want)), what


@pytest.mark.parametrize("name,params", list(cases())[:4])
@pytest.mark.parametrize("what,kw", BAD, ids=[b[0] for b in BAD])
def test_wrong_input_gets_scikit_learns_exception_and_message(name, params, what, kw):
    # scikit-learn's root_mean_squared_error lets np.average refuse the output weights ("Axis
    # must be specified when shapes of a and weights differ."); lossfuse says what
    # mean_squared_error says
    clearer = name == "root_mean_squared_error" and what in ("weights, 1 output",
                                                              "weights count")
    assert_same_error(name, what, dict(kw, **params),
                      "mean_squared_error" if clearer else None)


@pytest.mark.parametrize("alpha", [-0.1, 1.5, "0.5", None, np.nan, True, 1, np.int64(0),
                                   np.float32(0.25)])
def test_pinball_alpha_is_checked_as_scikit_learn_checks_it(alpha):
    kw = dict(y_true=[1, 2, 5], y_pred=[1, 3, 2], alpha=alpha)
    want = _raised(sk.mean_pinball_loss, kw)
    got = _raised(metrics.mean_pinball_loss, kw)
    if want is None:
        assert got is None
        assert metrics.mean_pinball_loss(**kw) == pytest.approx(sk.mean_pinball_loss(**kw))
    else:
        assert isinstance(got, ValueError) and isinstance(got, TypeError)
        assert str(got) == str(want)


# ----------------------------------------------------------------------------- deviances
POWERS = [-1.5, -1, 0, 1, 1.2, 1.5, 2, 2.5, 3]


def deviance_case(power, n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    mu = np.exp(rng.normal(0, 1, n))
    y = rng.gamma(2.0, mu / 2) if power >= 2 else rng.poisson(mu).astype(float)
    if power <= 0:
        y = y - 1.5                                      # any real y
    return y.astype(dtype), mu.astype(dtype)


@pytest.mark.parametrize("power", POWERS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weights", [None, "positive"])
def test_deviances_equal_scikit_learns(power, dtype, weights):
    y, mu = deviance_case(power, 2000, dtype)
    w = None if weights is None else np.random.default_rng(2).uniform(0.1, 2, 2000)
    got, want = both("mean_tweedie_deviance", y, mu, sample_weight=w, power=power)
    assert type(got) is float
    assert got == pytest.approx(want, rel=1e-11 if dtype == np.float64 else 1e-5)
    if power in (1, 2):
        name = "mean_poisson_deviance" if power == 1 else "mean_gamma_deviance"
        assert getattr(metrics, name)(y, mu, sample_weight=w) == got


DEVIANCE_BAD = [
    ("power between 0 and 1", dict(y_true=[1, 2], y_pred=[1, 3], power=0.5)),
    ("power a string", dict(y_true=[1, 2], y_pred=[1, 3], power="a")),
    ("power NaN", dict(y_true=[1, 2], y_pred=[1, 3], power=np.nan)),
    ("power inf", dict(y_true=[1, 2], y_pred=[1, 3], power=np.inf)),
    ("two outputs", dict(y_true=[[1, 2], [1, 2]], y_pred=[[1, 3], [1, 3]], power=1)),
    ("poisson y < 0", dict(y_true=[-1, 2], y_pred=[1, 3], power=1)),
    ("poisson mu = 0", dict(y_true=[1, 2], y_pred=[0, 3], power=1)),
    ("compound y < 0", dict(y_true=[-1, 2], y_pred=[1, 3], power=1.5)),
    ("gamma y = 0", dict(y_true=[0, 2], y_pred=[1, 3], power=2)),
    ("power 3 y = 0", dict(y_true=[0, 2], y_pred=[1, 3], power=3)),
    ("power -1 mu = 0", dict(y_true=[-5, 2], y_pred=[0, 3], power=-1)),
    ("NaN y", dict(y_true=[np.nan, 2], y_pred=[1, 3], power=1.5)),
    ("inf mu", dict(y_true=[1, 2], y_pred=[np.inf, 3], power=2)),
    ("lengths", dict(y_true=[1, 2, 3], y_pred=[1, 3], power=1)),
]


@pytest.mark.parametrize("what,kw", DEVIANCE_BAD, ids=[b[0] for b in DEVIANCE_BAD])
def test_deviance_wrong_input_gets_scikit_learns_exception_and_message(what, kw):
    assert_same_error("mean_tweedie_deviance", what, kw)


# ------------------------------------------------------------------------------ log_loss
def binary_case(n, labels, dtype, seed=0, shape="1d"):
    rng = np.random.default_rng(seed)
    y = np.asarray(labels, dtype=object)[rng.integers(0, 2, n)]
    y = np.array(list(y))                                  # the labels' own dtype
    p = rng.uniform(0, 1, n).astype(dtype)
    p[: n // 10] = np.array([0.0, 1.0], dtype)[rng.integers(0, 2, n // 10)]   # clipped
    if shape == "column":
        p = p[:, None]
    elif shape == "two":
        p = np.stack([1 - p, p], axis=1)
    return y, p


@pytest.mark.parametrize("labels", [[0, 1], [-1, 1], [2, 5], ["ham", "spam"], [False, True],
                                    [0.0, 1.0]])
@pytest.mark.parametrize("shape", ["1d", "column", "two"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weights", [None, "positive"])
@pytest.mark.parametrize("normalize", [True, False])
def test_binary_log_loss_equals_scikit_learns(labels, shape, dtype, weights, normalize):
    y, p = binary_case(1000, labels, dtype, shape=shape)
    w = None if weights is None else np.random.default_rng(1).uniform(0.1, 2, 1000).astype(dtype)
    got, want = both("log_loss", y, p, sample_weight=w, normalize=normalize)
    assert type(got) is float
    assert got == pytest.approx(want, rel=1e-12 if dtype == np.float64 else 1e-5)


@pytest.mark.parametrize("k", [3, 10])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_multiclass_log_loss_equals_scikit_learns(k, dtype):
    rng = np.random.default_rng(k)
    n = 500
    p = rng.dirichlet(np.ones(k), n).astype(dtype)
    p[:5] = np.eye(k, dtype=dtype)[rng.integers(0, k, 5)]             # exact 0 and 1
    y = rng.integers(0, k, n)
    w = rng.uniform(0, 2, n)
    for kw in ({}, {"sample_weight": w}, {"normalize": False}):
        got, want = both("log_loss", y, p, **kw)
        assert got == pytest.approx(want, rel=1e-12 if dtype == np.float64 else 1e-5)
    # classes absent from y_true, named by labels; string classes
    names = np.array([f"c{i:02d}" for i in range(k)])
    got, want = both("log_loss", names[y[y < k - 1]], p[y < k - 1], labels=list(names))
    assert got == pytest.approx(want, rel=1e-12 if dtype == np.float64 else 1e-5)


def test_log_loss_warnings_and_the_deprecated_keyword():
    y, p = [0, 1, 1], [[0.9, 0.2], [0.2, 0.8], [0.1, 0.9]]            # a row sums to 1.1
    with pytest.warns(UserWarning, match="do not sum to one"):
        got = metrics.log_loss(y, p)
    assert got == pytest.approx(both("log_loss", y, p)[1], rel=1e-15)
    with pytest.warns(FutureWarning, match="renamed to `y_proba`"):
        assert metrics.log_loss([0, 1], y_pred=[0.2, 0.7]) == both("log_loss", [0, 1],
                                                                    [0.2, 0.7])[0]
    with pytest.warns(UserWarning, match="ordered lexicographically"):
        metrics.log_loss([0, 1, 2], np.full((3, 3), 1 / 3), labels=[2, 1, 0])
    with pytest.raises(ValueError, match="Cannot use both"):
        metrics.log_loss([0, 1], [0.2, 0.7], y_pred=[0.2, 0.7])


def test_binary_log_loss_short_and_full_paths_agree_to_the_bit():
    for labels in ([0, 1], [3, 7]):
        y, p = binary_case(999, labels, np.float64, seed=4)
        assert metrics.log_loss(y, p) == metrics.log_loss(list(y), list(p))
        w = np.linspace(0.5, 1.5, 999)
        assert metrics.log_loss(y, p, sample_weight=w) == metrics.log_loss(
            y, list(p), sample_weight=w)


LOG_LOSS_BAD = [
    ("fractional labels", dict(y_true=[0.5, 1, 1], y_proba=[0.1, 0.8, 0.9])),
    ("one label", dict(y_true=[1, 1, 1], y_proba=[0.1, 0.8, 0.9])),
    ("one label in labels", dict(y_true=[1, 1, 1], y_proba=[0.1, 0.8, 0.9], labels=[1])),
    ("three labels, 1-d", dict(y_true=[0, 2, 1], y_proba=[0.1, 0.8, 0.9])),
    ("probability > 1", dict(y_true=[0, 1, 1], y_proba=[0.1, 1.8, 0.9])),
    ("probability < 0", dict(y_true=[0, 1, 1], y_proba=np.array([0.1, -0.8, 0.9]))),
    ("NaN", dict(y_true=[0, 1, 1], y_proba=[0.1, np.nan, 0.9])),
    ("inf", dict(y_true=np.array([0, 1, 1]), y_proba=np.array([0.1, np.inf, 0.9]))),
    ("lengths", dict(y_true=[0, 1], y_proba=[0.1, 0.8, 0.9])),
    ("weights length", dict(y_true=[0, 1], y_proba=[0.1, 0.8], sample_weight=[1, 2, 3])),
    ("zero weights", dict(y_true=[0, 1], y_proba=[0.1, 0.8], sample_weight=[0, 0])),
    ("NaN weight", dict(y_true=[0, 1], y_proba=[0.1, 0.8], sample_weight=[np.nan, 1])),
    ("classes vs columns", dict(y_true=[0, 1, 2], y_proba=[[0.1, 0.9], [0.8, 0.2],
                                                           [0.9, 0.1]])),
    ("labels vs columns", dict(y_true=[0, 1, 1], y_proba=[[0.1, 0.8, 0.1], [0.8, 0.1, 0.1],
                                                          [0.9, 0.05, 0.05]], labels=[0, 1])),
    ("label not in labels", dict(y_true=[0, 1, 3], y_proba=[[0.1, 0.9], [0.8, 0.2],
                                                            [0.9, 0.1]], labels=[0, 1])),
    ("normalize not bool", dict(y_true=[0, 1], y_proba=[0.1, 0.8], normalize="yes")),
    ("3-d", dict(y_true=[0, 1], y_proba=[[[0.1]], [[0.8]]])),
    ("empty", dict(y_true=[], y_proba=[])),
]


@pytest.mark.parametrize("what,kw", LOG_LOSS_BAD, ids=[b[0] for b in LOG_LOSS_BAD])
def test_log_loss_wrong_input_gets_scikit_learns_exception_and_message(what, kw):
    assert_same_error("log_loss", what, kw)


def test_docstring_examples():
    assert doctest.testmod(metrics).failed == 0


def test_the_probability_log_loss_kernel_and_builds():
    """The kernel behind log_loss: -log of the clipped probability of the label, labels other
    than its two refused, every instruction-set build agrees (see `assert_builds_agree`); the
    metrics' kernels run the loss operation only, and refuse the others."""
    from lossfuse._kernels import available
    rng = np.random.default_rng(5)
    y = rng.choice([2.0, 7.0], 4000)
    p = rng.uniform(0.01, 0.99, 4000)
    p[:10] = [0.0, 1.0, 1e-17, 1 - 1e-17, 0.5, np.nan, 0.0, 1.0, 0.3, 0.7]
    outs = {}
    for name, module in available.items():
        k = module.LossKernel(module.LOSSES["proba_log_loss"][0],
                              (7.0, 2.0, np.finfo(float).eps, 1 - np.finfo(float).eps))
        lo = np.empty_like(p)
        total = k.run_float64(module.OPERATIONS["loss"], y, p, None, 1, lo, None, None, 1.0, 1)
        assert np.isnan(total)
        outs[name] = (lo,)
        with pytest.raises(module.LabelError):
            k.run_float64(module.OPERATIONS["loss"], np.r_[y[:5], 3.0], p[:6], None, 1,
                          None, None, None, 1.0, 1)
        for kernel in ["proba_log_loss", "poisson_deviance", "gamma_deviance",
                       "tweedie_deviance", "squared_log_error", "absolute_percentage_error",
                       "brier_labels", "hinge_labels"]:
            k2 = module.LossKernel(module.LOSSES[kernel][0],
                                   (1.5,) if kernel == "tweedie_deviance" else k.params
                                   if kernel == "proba_log_loss" else (1e-3,)
                                   if kernel == "absolute_percentage_error" else (7.0, 2.0, 2.0)
                                   if kernel.endswith("_labels") else ())
            for op in ["gradient", "loss_gradient", "gradient_hessian"]:
                g, h = np.empty_like(p), np.empty_like(p)
                with pytest.raises(ValueError, match="loss operation only"):
                    k2.run_float64(module.OPERATIONS[op], y, p, None, 1, None, g, h, 1.0, 1)
    assert_builds_agree(outs)
    lo, = next(iter(outs.values()))
    q = np.where(y == 7.0, p, 1 - p)
    np.testing.assert_allclose(lo[10:], -np.log(q[10:]), rtol=4e-16)
    eps = np.finfo(float).eps
    clipped = (q < eps) | (q > 1 - eps)
    assert clipped.sum() == 6
    np.testing.assert_allclose(lo[clipped], -np.log(np.where(q[clipped] < eps, eps, 1 - eps)),
                               rtol=4e-16)
    assert np.isnan(lo[5])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_logarithm_of_the_log_error_is_accurate_over_its_domain(dtype):
    """(log1p(p) - log1p(0))^2 per element, against mpmath: near -1, across (-1, -1/2) and
    [-1/2, 0), for tiny |p|, up to the largest finite values; within a few ulp of the square
    (computed in the dtype, as scikit-learn computes it)."""
    mpmath = pytest.importorskip("mpmath")
    rng = np.random.default_rng(7)
    info = np.finfo(dtype)
    p = np.concatenate([
        -1 + np.logspace(np.log10(info.eps), -0.31, 60),      # just above -1 to -0.5
        -np.logspace(-0.3, np.log10(info.tiny), 60),           # -0.5 to the smallest normal
        np.logspace(np.log10(info.tiny), np.log10(info.max) - 1, 120),
        rng.uniform(-0.999, 3, 100), [0.0, -0.5, 0.41421356, 2.0 ** -30]]).astype(dtype)
    p = p[p > -1]
    zero = np.zeros(1, dtype)
    with mpmath.workdps(40):
        for v in p:
            got = metrics.mean_squared_log_error(zero, np.array([v], dtype))
            want = float(mpmath.log1p(mpmath.mpf(float(v))) ** 2)
            # a square below the smallest normal number is rounded to a subnormal of the dtype
            assert got == pytest.approx(want, rel=8 * float(info.eps),
                                        abs=2 * float(info.smallest_subnormal)), v


def test_the_logarithmic_errors_refuse_values_at_most_minus_one_after_nan():
    for name, metric in (("Mean Squared", "mean_squared_log_error"),
                         ("Root Mean Squared", "root_mean_squared_log_error")):
        f = getattr(metrics, metric)
        for y, p in (([0.0, -1.0], [1.0, 1.0]), ([0.0, 1.0], [1.0, -2.0])):
            with pytest.raises(ValueError, match=f"^{name} Logarithmic Error cannot be used "
                                                 "when targets contain values less than or "
                                                 "equal to -1.$"):
                f(np.array(y), np.array(p))
        with pytest.raises(ValueError, match="Input contains NaN"):   # NaN is said first
            f(np.array([np.nan, -2.0]), np.array([1.0, 1.0]))
        with pytest.raises(ValueError, match="Input contains infinity"):
            f(np.array([-np.inf, 1.0]), np.array([1.0, 1.0]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_percentage_error_divides_by_epsilon_at_zero_and_overflows_to_inf(dtype):
    y = np.array([1.0, 0.0, 2.4, 7.0, -0.0, 1e-300 if dtype == np.float64 else 1e-40], dtype)
    p = np.array([1.2, 0.1, 2.4, 8.0, -3.0, 1.0], dtype)
    got, want = both("mean_absolute_percentage_error", y, p)
    assert got == pytest.approx(want, rel=1e-12 if dtype == np.float64 else 1e-6)
    big = np.array([0.0, 1.0], dtype)
    huge = np.array([np.finfo(dtype).max, 1.0], dtype)
    got, want = both("mean_absolute_percentage_error", big, huge)
    assert got == want == np.inf                  # not an error: scikit-learn's value


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_log_and_percentage_error_kernels_and_builds(dtype):
    """Per element: (log1p(p) - log1p(y))^2 and |p - y| / max(|y|, eps), against NumPy in
    float64, with -1 and values below -1 and NaN (NaN), infinity; every instruction-set
    build agrees."""
    from lossfuse._kernels import available
    rng = np.random.default_rng(11)
    y = np.r_[rng.uniform(-0.99, 50, 3000), rng.normal(0, 1e-3, 1000)].astype(dtype)
    p = np.r_[rng.uniform(-0.99, 50, 3000), rng.normal(0, 1e-3, 1000)].astype(dtype)
    y[:6] = [-1.0, -2.0, np.nan, np.inf, 0.0, 3.0]
    p[:6] = [0.5, 0.5, 0.5, 0.5, np.inf, -1.0]
    eps = float(np.finfo(np.float64).eps)
    outs = {}
    for name, module in available.items():
        got = []
        for kernel, params in (("squared_log_error", ()), ("absolute_percentage_error", (eps,))):
            k = module.LossKernel(module.LOSSES[kernel][0], params)
            lo = np.empty_like(p)
            run = k.run_float64 if dtype == np.float64 else k.run_float32
            run(module.OPERATIONS["loss"], y, p, None, 1, lo, None, None, 1.0, 1)
            got.append(lo)
        outs[name] = tuple(got)
    assert_builds_agree(outs, dtype, ulps=4)
    log_err, pct = next(iter(outs.values()))
    with np.errstate(all="ignore"):
        y64, p64 = y.astype(np.float64), p.astype(np.float64)
        want_log = (np.log1p(p64) - np.log1p(y64)) ** 2
        want_pct = np.abs(p64 - y64) / np.maximum(np.abs(y64), eps)
        scale = np.maximum(np.abs(np.log1p(p64)), np.abs(np.log1p(y64)))
    # at most -1 (out of the domain) or NaN: NaN; an infinite value in the domain: infinity
    assert np.isnan(log_err[0]) and np.isnan(log_err[1]) and np.isnan(log_err[2])
    assert np.isnan(log_err[5]) and log_err[3] == log_err[4] == np.inf
    ok = np.arange(p.size) >= 6
    tol = 1e-6 if dtype == np.float32 else 1e-13        # the dtype's logarithms, squared
    scale = scale[ok]
    assert np.all(np.abs(log_err[ok] - want_log[ok])
                  <= tol * (want_log[ok] + scale * np.sqrt(want_log[ok]) + scale ** 2 * tol))
    np.testing.assert_allclose(pct[ok], want_pct[ok], rtol=4 * np.finfo(dtype).eps)
    assert np.isnan(pct[2]) and np.isnan(pct[3]) and pct[4] == np.inf


# ------------------------------------------------------- the deviances' short path
def outcome_of(f):
    """(the value of f() or its exception, the warnings it gave)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = f()
        except Exception as e:      # noqa: BLE001 -- compared by assert_same_outcome
            value = e
    return value, [(c.category, str(c.message)) for c in caught]


def assert_same_outcome(got, want):
    """Two `outcome_of`: the same float to the bit (NaN as NaN), or the same exception class
    and message; and the same warnings."""
    (value, warned), (expected, expected_warned) = got, want
    if isinstance(expected, Exception):
        assert type(value) is type(expected) and str(value) == str(expected), (value, expected)
    else:
        assert type(value) is float and (value == expected or (
            math.isnan(value) and math.isnan(expected))), (value, expected)
    assert warned == expected_warned


def _deviance_cases():
    """NumPy arrays of the shapes the deviances' short path takes (1-d, y_pred float64 or
    float32, y_true of its dtype or integers, weights of its dtype): inputs inside each
    power's domain, and inputs of every kind outside it or not finite, which it must leave
    to the full path (that raises scikit-learn's errors)."""
    rng = np.random.default_rng(41)
    n = 16
    for power in (0, 1, 2, 1.5, 3, -1, -0.5, 1.0, 2.0, np.float64(1.5)):
        y = rng.poisson(2, n).astype(float) + (1.0 if power >= 2 else 0.0)
        if power < 0:
            y[:3] = [-2.0, -0.5, 0.0]
        mu = rng.uniform(0.1, 5, n)
        for dt in (np.float64, np.float32):
            yd, md = y.astype(dt), mu.astype(dt)
            w = rng.uniform(0, 2, n).astype(dt)
            cases = {"plain": (yd, md, None), "weights": (yd, md, w),
                     "int y": (np.round(np.abs(y)).astype(np.int64) + (power >= 2), md, None),
                     "zero weights": (yd, md, np.zeros(n, dt)),
                     "nan weight": (yd, md, np.r_[np.nan, w[1:]].astype(dt)),
                     "float64 weights": (yd, md, w.astype(np.float64)),
                     "float64 y": (y, md, None)}
            for name, value in (("mu 0", 0.0), ("mu -0", -0.0), ("mu < 0", -1.0),
                                ("mu inf", np.inf), ("mu nan", np.nan)):
                bad = md.copy()
                bad[5] = value
                cases[name] = (yd, bad, None)
            for name, value in (("y 0", 0.0), ("y < 0", -1.0), ("y inf", np.inf),
                                ("y -inf", -np.inf), ("y nan", np.nan)):
                bad = yd.copy()
                bad[5] = value
                cases[name] = (bad, md, None)
            for name, (a, b, ww) in cases.items():
                declined = name in ("zero weights", "nan weight", "mu inf", "mu nan", "y inf",
                                    "y -inf", "y nan") \
                    or (name in ("float64 weights", "float64 y") and dt == np.float32) \
                    or (name.startswith("mu ") and power != 0) \
                    or (name == "y 0" and power >= 2) or (name == "y < 0" and power >= 1)
                yield pytest.param(power, a, b, ww, not declined,
                                   id=f"{power!r}-{dt.__name__}-{name}")


@pytest.mark.parametrize("power,y,mu,w,taken", list(_deviance_cases()))
def test_deviance_short_path_gives_the_full_paths_bits(power, y, mu, w, taken):
    """mean_tweedie_deviance (and the Poisson and gamma ones) on NumPy arrays gives the full
    path's value to the bit, or raises its error; and scikit-learn's.  The short path decides
    the valid inputs and leaves every other to the full path."""
    ops = metrics._labels_fast(y, mu, w, mu.dtype, "iu")
    assert (ops is not None and metrics._labels_sums(metrics._deviance_kernel(power), ops[0],
                                                      mu, ops[1]) is not None) == taken
    def full(power=power):
        yy, pp, ww = metrics._one_output("mean_tweedie_deviance", y, mu, w)
        return metrics._mean_deviance(yy, pp, ww, power)

    calls = [(lambda: metrics.mean_tweedie_deviance(y, mu, sample_weight=w, power=power),
              outcome_of(full))]
    if power in (1, 2):
        f = metrics.mean_poisson_deviance if power == 1 else metrics.mean_gamma_deviance
        calls.append((lambda: f(y, mu, sample_weight=w), outcome_of(lambda: full(int(power)))))
    for call, want in calls[::-1]:           # the tweedie call's outcome last
        got = outcome_of(call)
        assert_same_outcome(got, want)
        got = got[0]
    sk = pytest.importorskip("sklearn.metrics")
    ref = outcome_of(lambda: sk.mean_tweedie_deviance(y, mu, sample_weight=w, power=power))[0]
    if isinstance(ref, Exception):
        assert isinstance(got, Exception)
        if not isinstance(ref, ZeroDivisionError):
            assert str(got) == str(ref)
    else:
        assert not isinstance(got, Exception), got
        assert got == pytest.approx(ref, rel=2e-6 if mu.dtype == np.float32 else 1e-12,
                                    nan_ok=True)


def _d2_cases():
    for param in _deviance_cases():
        power, y, mu, w, _ = param.values
        if w is None:
            yield pytest.param(power, y, mu, id=param.id)
    for dt in (np.float64, np.float32):
        for power in (0, 1, 1.5, 2, 3, -1):
            yield pytest.param(power, np.full(5, 0.1, dt), np.linspace(0.1, 1, 5).astype(dt),
                               id=f"constant-{power}-{dt.__name__}")
            yield pytest.param(power, np.array([2.0], dt), np.array([1.0], dt),
                               id=f"one sample-{power}-{dt.__name__}")
            yield pytest.param(power, np.zeros(4, dt), np.ones(4, dt),
                               id=f"zeros-{power}-{dt.__name__}")
            rng = np.random.default_rng(5)          # more than 256: a broadcast constant model
            mu = np.exp(rng.normal(0, 1, 1000))
            y = rng.poisson(mu) + (1.0 if power >= 2 else 0.0)
            yield pytest.param(power, y.astype(dt), mu.astype(dt),
                               id=f"n=1000-{power}-{dt.__name__}")


@pytest.mark.parametrize("power,y,mu", list(_d2_cases()))
def test_d2_tweedie_short_path_gives_the_full_paths_bits(power, y, mu):
    """d2_tweedie_score on NumPy arrays gives the full path's value to the bit, or its error
    and warnings (means outside the domain, constant y_true, a single sample included)."""
    assert_same_outcome(outcome_of(lambda: metrics.d2_tweedie_score(y, mu, power=power)),
                        outcome_of(lambda: metrics._d2_tweedie(y, mu, None, power)))
