"""lossfuse.metrics against scikit-learn, the oracle: the same values (to rounding), the same
return types, and for wrong input the same exception with the same message."""

import doctest
import re
import warnings

import numpy as np
import pytest

from lossfuse import metrics

sk = pytest.importorskip("sklearn.metrics")

REGRESSION = {
    "mean_squared_error": {},
    "root_mean_squared_error": {},
    "mean_absolute_error": {},
    "mean_pinball_loss": {"alpha": 0.5},
}
PINBALL_ALPHAS = [0.0, 0.1, 0.5, 0.9, 1.0]


def cases():
    for name in REGRESSION:
        for alpha in (PINBALL_ALPHAS if name == "mean_pinball_loss" else [None]):
            yield name, ({} if alpha is None else {"alpha": alpha})


def data(shape, dtype, seed=0, weights=None):
    rng = np.random.default_rng(seed)
    y = rng.normal(0, 3, shape).astype(dtype)
    p = (y + rng.normal(0, 1, shape)).astype(dtype)
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
    y, p, w = data(shape, dtype, weights=weights)
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
    y = [3, -1, 2, 7]
    for p in ([2.5, 0.0, 2, 8], np.array([2.5, 0.0, 2, 8], np.float32), [1, 2, 3, 4]):
        for yy in (y, np.array(y, np.float32), np.array(y, np.int8), [str(v) for v in y]):
            got, want = both(name, yy, p, **params)
            assert got == pytest.approx(want, rel=1e-6)
    got, want = both(name, [[1, 2], [3, 4]], [[1, 3], [2, 2]],
                     multioutput=np.array([0.5, 1.5]), **params)
    assert got == pytest.approx(want, rel=1e-12)


def test_the_short_path_and_the_full_path_agree_to_the_bit():
    y, p, _ = data((1001,), np.float64, seed=3)
    for name, params in cases():
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


@pytest.mark.parametrize("name,params", list(cases())[:4])
@pytest.mark.parametrize("what,kw", BAD, ids=[b[0] for b in BAD])
def test_wrong_input_gets_scikit_learns_exception_and_message(name, params, what, kw):
    want = _raised(getattr(sk, name), dict(kw, **params))
    assert want is not None, f"scikit-learn accepts {what}"
    got = _raised(getattr(metrics, name), dict(kw, **params))
    assert got is not None, f"lossfuse accepts {what}"
    for cls in type(want).__mro__:              # InvalidParameterError: ValueError, TypeError
        if cls in (ValueError, TypeError, ZeroDivisionError):
            assert isinstance(got, cls), (what, got, want)
    if name == "root_mean_squared_error" and what in ("weights, 1 output", "weights count"):
        # scikit-learn lets np.average refuse the weights ("Axis must be specified when shapes
        # of a and weights differ."); lossfuse says what mean_squared_error says
        want = _raised(sk.mean_squared_error, kw)
    assert _normalized(str(got)) == _normalized(str(want)), what


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


def test_docstring_examples():
    assert doctest.testmod(metrics).failed == 0
