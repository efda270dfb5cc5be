"""lossfuse.metrics against scikit-learn over a grid of hostile inputs: every argument of every
metric gets non-finite values, object, string, mixed, bool, complex and nullable dtypes, other
shapes and lengths, and other array types (pandas, torch, sparse, memoryview, ...).  For each
input either both libraries raise, lossfuse an instance of each builtin exception class
scikit-learn's is, or both return the same value."""

import array
import warnings

import mpmath as mp
import numpy as np
import pytest

from lossfuse import metrics
from reference import explained_score

sk = pytest.importorskip("sklearn.metrics")
pd = pytest.importorskip("pandas")
torch = pytest.importorskip("torch")
sparse = pytest.importorskip("scipy.sparse")

REGRESSION = [("mean_squared_error", {}), ("root_mean_squared_error", {}),
              ("mean_absolute_error", {}), ("mean_pinball_loss", {"alpha": 0.3}),
              ("mean_squared_log_error", {}), ("root_mean_squared_log_error", {}),
              ("mean_absolute_percentage_error", {}), ("r2_score", {}),
              ("explained_variance_score", {}), ("r2_score", {"force_finite": False}),
              ("median_absolute_error", {}), ("d2_pinball_score", {"alpha": 0.3}),
              ("d2_absolute_error_score", {})]
DEVIANCES = [("mean_tweedie_deviance", {"power": power}) for power in (-1, 0, 1, 1.5, 2, 3)] \
    + [("mean_poisson_deviance", {}), ("mean_gamma_deviance", {})] \
    + [("d2_tweedie_score", {"power": power}) for power in (-1, 0, 1, 1.5, 2, 3)]

Y = [1.0, 2.0, 0.5, 3.0]
P = [1.5, 2.0, 1.0, 2.5]
W = [1.0, 2.0, 0.5, 1.0]
Y2 = [[1.0, 2.0], [2.0, 0.5], [0.5, 1.0], [3.0, 2.0]]
P2 = [[1.5, 2.5], [2.0, 1.0], [1.0, 1.0], [2.5, 2.0]]


def variants(base):
    """(what, factory) pairs: `base` (four positive numbers) and hostile versions of it.
    Factories build a fresh object per call."""
    b = np.array(base)
    out = [
        ("list", lambda: list(base)),
        ("tuple", lambda: tuple(base)),
        ("float32", lambda: b.astype(np.float32)),
        ("float16", lambda: b.astype(np.float16)),
        ("int64", lambda: np.round(b).astype(np.int64)),
        ("uint64", lambda: np.round(b).astype(np.uint64)),
        ("int8", lambda: np.round(b).astype(np.int8)),
        ("bool", lambda: b > 1.2),
        ("object numbers", lambda: b.astype(object)),
        ("object with None", lambda: np.array([base[0], None] + list(base[2:]), dtype=object)),
        ("list with None", lambda: [base[0], None] + list(base[2:])),
        ("numeric strings", lambda: [str(v) for v in base]),
        ("strings", lambda: ["a", "b", "c", "d"]),
        ("mixed str and number", lambda: [base[0], str(base[1])] + list(base[2:])),
        ("bytes", lambda: [str(v).encode() for v in base]),
        ("complex, zero imaginary", lambda: b.astype(complex)),
        ("complex", lambda: b + 1j),
        ("longdouble", lambda: b.astype(np.longdouble)),
        ("non-native byte order", lambda: b.astype(">f8")),
        ("strided", lambda: np.repeat(b, 2)[::2]),
        ("read-only", lambda: _readonly(b)),
        ("memoryview", lambda: memoryview(b.copy())),
        ("array.array", lambda: array.array("d", base)),
        ("numpy scalars", lambda: [np.float32(v) for v in base]),
        ("0-d", lambda: np.array(base[0])),
        ("scalar", lambda: base[0]),
        ("None", lambda: None),
        ("string", lambda: "1234"),
        ("dict", lambda: dict(enumerate(base))),
        ("set", lambda: set(base)),
        ("generator", lambda: (v for v in base)),
        ("empty", lambda: []),
        ("empty 2-d", lambda: np.zeros((4, 0))),
        ("column", lambda: b[:, None]),
        ("row", lambda: b[None, :]),
        ("3-d", lambda: b[:, None, None]),
        ("short", lambda: list(base[:3])),
        ("long", lambda: list(base) + [base[0]]),
        ("ragged", lambda: [[base[0]], [base[1], base[2]], [base[3]]]),
        ("matrix", lambda: np.asmatrix(b[:, None])),
        ("sparse", lambda: sparse.csr_matrix(b[:, None])),
        ("sparse array", lambda: sparse.csr_array(b[:, None])),
        ("Series", lambda: pd.Series(base)),
        ("Series Float64", lambda: pd.Series(base, dtype="Float64")),
        ("Series Float32", lambda: pd.Series(base, dtype="Float32")),
        ("Series Float64 with NA", lambda: pd.Series([base[0], None] + list(base[2:]),
                                                     dtype="Float64")),
        ("Series Int64", lambda: pd.Series(np.round(b).astype(int), dtype="Int64")),
        ("Series Int64 with NA", lambda: pd.Series([1, None, 2, 3], dtype="Int64")),
        ("Series boolean", lambda: pd.Series(b > 1.2, dtype="boolean")),
        ("Series boolean with NA", lambda: pd.Series([True, None, False, True],
                                                     dtype="boolean")),
        ("Series category", lambda: pd.Series(base).astype("category")),
        ("Series pyarrow", lambda: pd.Series(base, dtype="double[pyarrow]")),
        ("Series pyarrow with NA", lambda: pd.Series([base[0], None] + list(base[2:]),
                                                     dtype="double[pyarrow]")),
        ("Series of str", lambda: pd.Series([str(v) for v in base], dtype="str")),
        ("DataFrame", lambda: pd.DataFrame({"a": base})),
        ("DataFrame Float64", lambda: pd.DataFrame({"a": pd.array(base, dtype="Float64")})),
        ("tensor float32", lambda: torch.tensor(base, dtype=torch.float32)),
        ("tensor float64", lambda: torch.tensor(base, dtype=torch.float64)),
        ("tensor int", lambda: torch.tensor(np.round(b).astype(int))),
        ("tensor bool", lambda: torch.tensor(b > 1.2)),
        ("tensor column", lambda: torch.tensor(b[:, None])),
    ]
    for value in (np.inf, -np.inf, np.nan, 1e308):
        for where in (0, 3):
            def hostile(value=value, where=where):
                a = b.copy()
                a[where] = value
                return a
            out.append((f"{value} at {where}", hostile))
        out.append((f"{value} in float32", lambda value=value: _with(b.astype(np.float32), value)))
        out.append((f"{value} in list", lambda value=value: list(_with(b, value))))
        out.append((f"{value} in Series", lambda value=value: pd.Series(_with(b, value))))
    out.append(("negative", lambda: -b))
    out.append(("zero", lambda: np.where(b == b.min(), 0.0, b)))
    return out


def _readonly(a):
    a = a.copy()
    a.flags.writeable = False
    return a


def _with(a, value):
    a = a.copy()
    with np.errstate(over="ignore"):
        a[1] = value
    return a


def _outcome(f, kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return f(**{k: (v() if callable(v) else v) for k, v in kw.items()})
        except Exception as e:               # noqa: BLE001 -- compared with the oracle's
            return e


def _precision(kw):
    """The relative tolerance for comparing values: scikit-learn computes float32 and float16
    inputs in their own precision (lossfuse computes float16 in float32 and sums in float64),
    so its results are only that close."""
    rtol = 1e-12
    for v in kw.values():
        v = v() if callable(v) else v
        dt = getattr(v, "dtype", None)
        if dt is None and isinstance(v, list) and v and isinstance(v[0], np.generic):
            dt = v[0].dtype
        name = str(dt).lower()
        if "float16" in name:
            rtol = max(rtol, 3e-2)
        elif "float32" in name:
            rtol = max(rtol, 1e-5)
    return rtol


def _deviance(kw):
    """The mean Tweedie deviance of `kw` (y_true, y_pred, sample_weight, power) from its
    definition in 100-digit arithmetic, rounded to float64 (inf where it overflows)."""
    mp.mp.dps = 100
    power = kw.get("power", 0)
    y, mu = (np.asarray(kw[k]() if callable(kw[k]) else kw[k], float) for k in ("y_true",
                                                                               "y_pred"))
    w = kw.get("sample_weight")
    w = np.ones_like(y) if w is None else np.asarray(w() if callable(w) else w, float)
    p = mp.mpf(power)
    total = weight = mp.mpf(0)
    for yi, mi, wi in zip(y.tolist(), mu.tolist(), w.tolist()):
        yi, mi = mp.mpf(yi), mp.mpf(mi)
        if yi == mi:
            dev = mp.mpf(0)      # exactly; the formula's terms (1e900 and more) cancel
        elif power == 0:
            dev = (yi - mi) ** 2
        elif power == 1:
            dev = 2 * ((yi * mp.log(yi / mi) if yi else 0) - yi + mi)
        elif power == 2:
            dev = 2 * (mp.log(mi / yi) + yi / mi - 1)
        else:
            dev = 2 * (max(yi, 0) ** (2 - p) / ((1 - p) * (2 - p))
                       - yi * mi ** (1 - p) / (1 - p) + mi ** (2 - p) / (2 - p))
        total += wi * dev
        weight += wi
    value = total / weight
    if abs(value) >= mp.mpf(np.finfo(float).max):
        return float(mp.sign(value)) * np.inf
    return float(value)


def _values(kw, key):
    v = kw.get(key)
    return None if v is None else np.asarray(v() if callable(v) else v, float)


def _huge(kw):
    """Whether y_true, y_pred or sample_weight of `kw` hold a number whose square overflows."""
    return any(v is not None and np.max(np.abs(v)) > 1e150
               for v in (_values(kw, k) for k in ("y_true", "y_pred", "sample_weight")))


def _exact_score(name, kw):
    """r2_score or explained_variance_score of `kw` (all numbers) in exact arithmetic."""
    kw = {k: (v() if callable(v) else v) for k, v in kw.items()}
    return explained_score(name, _values(kw, "y_true"), _values(kw, "y_pred"),
                           _values(kw, "sample_weight"),
                           kw.get("multioutput", "uniform_average"),
                           kw.get("force_finite", True))


def _d2_tweedie(kw):
    """d2_tweedie_score of `kw` from the deviances in 100-digit arithmetic (`_deviance`),
    the constant model scikit-learn's weighted mean of y_true."""
    y = np.asarray(kw["y_true"]() if callable(kw["y_true"]) else kw["y_true"], float)
    w = kw.get("sample_weight")
    w = None if w is None else np.asarray(w() if callable(w) else w, float)
    with np.errstate(all="ignore"):
        mean = float(np.average(y.reshape(-1), weights=w))
    flat = {k: (np.asarray(v() if callable(v) else v, float).reshape(-1)
                if k in ("y_true", "y_pred") else v) for k, v in kw.items()}
    denominator = _deviance(dict(flat, y_pred=[mean] * y.size))
    return 1 - _deviance(flat) / denominator


def assert_like_scikit_learn(name, kw):
    want = _outcome(getattr(sk, name), kw)
    got = _outcome(getattr(metrics, name), kw)
    if isinstance(want, Exception):
        assert isinstance(got, Exception), f"scikit-learn raises {want!r}; lossfuse gives {got!r}"
        for cls in type(want).__mro__:
            if cls in (ValueError, TypeError, ZeroDivisionError):
                assert isinstance(got, cls), (got, want)
        assert str(got), got
        return
    if name == "d2_tweedie_score" and isinstance(got, ZeroDivisionError):
        # the deviance of a y_true constant (where weighted) at its mean is 0: scikit-learn's
        # formula leaves rounding residue there, and a score of it
        with pytest.raises(ZeroDivisionError):
            _d2_tweedie(kw)
        return
    assert not isinstance(got, Exception), f"scikit-learn gives {want!r}; lossfuse raises {got!r}"
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray) and got.shape == want.shape
    else:
        assert type(got) is float, type(got)
    if "deviance" in name and np.isnan(want):
        # scikit-learn loses an overflowing deviance to inf - inf; lossfuse gives the value
        assert got == pytest.approx(_deviance(kw), rel=8 * np.finfo(float).eps)
        return
    if name in ("r2_score", "explained_variance_score") and _huge(kw):
        # scikit-learn's sums of squares overflow (to inf / inf, or 1.0 where the weight
        # sum does too); lossfuse gives the score, which is that of the data scaled down
        want = _exact_score(name, kw)
    if name == "d2_tweedie_score" and not np.isclose(got, want, rtol=_precision(kw),
                                                     atol=1e-13, equal_nan=True):
        # scikit-learn's deviance formula loses its digits (at y_true near y_pred, or at
        # the constant mean); lossfuse gives the value
        assert got == pytest.approx(_d2_tweedie(kw), rel=1e-9, abs=1e-12, nan_ok=True)
        return
    np.testing.assert_allclose(got, want, rtol=_precision(kw), atol=1e-13, equal_nan=True)


def regression_grid():
    for name, params in REGRESSION + DEVIANCES:
        for arg, base in (("y_true", Y), ("y_pred", P), ("sample_weight", W)):
            for what, make in variants(base):
                kw = dict(y_true=Y, y_pred=P, **params)
                kw[arg] = make
                if arg == "sample_weight" or (what in ("column", "row")):
                    pass
                yield pytest.param(name, kw, id=f"{name}{params or ''}-{arg}-{what}")


def variants_2d(base):
    """(what, factory) pairs: 2-d `base` (four rows, two outputs) and hostile versions."""
    b = np.array(base)
    out = [
        ("list", lambda: [list(r) for r in base]),
        ("float32", lambda: b.astype(np.float32)),
        ("float16", lambda: b.astype(np.float16)),
        ("int64", lambda: np.round(b).astype(np.int64)),
        ("bool", lambda: b > 1.2),
        ("object numbers", lambda: b.astype(object)),
        ("strings", lambda: b.astype(str)),
        ("complex", lambda: b + 1j),
        ("Fortran order", lambda: np.asfortranarray(b)),
        ("transposed", lambda: b.T),
        ("three outputs", lambda: np.c_[b, b[:, :1]]),
        ("one output", lambda: b[:, :1]),
        ("no outputs", lambda: b[:, :0]),
        ("no rows", lambda: b[:0]),
        ("3-d", lambda: b[:, :, None]),
        ("DataFrame", lambda: pd.DataFrame(b, columns=["a", "b"])),
        ("DataFrame nullable", lambda: pd.DataFrame({"a": pd.array(b[:, 0], dtype="Float64"),
                                                     "b": pd.array(np.round(b[:, 1]),
                                                                   dtype="Int64")})),
        ("DataFrame with NA", lambda: pd.DataFrame({"a": pd.array([1.0, None, 2.0, 3.0],
                                                                  dtype="Float64"),
                                                    "b": b[:, 1]})),
        ("DataFrame of str", lambda: pd.DataFrame({"a": b[:, 0].astype(str), "b": b[:, 1]})),
        ("tensor", lambda: torch.tensor(b)),
        ("tensor float32", lambda: torch.tensor(b, dtype=torch.float32)),
    ]
    for value in (np.inf, -np.inf, np.nan, 1e308):
        for where in ((0, 0), (3, 1)):
            def hostile(value=value, where=where):
                a = b.copy()
                a[where] = value
                return a
            out.append((f"{value} at {where}", hostile))
    return out


def regression_grid_2d():
    for name, params in REGRESSION:
        for arg, base in (("y_true", Y2), ("y_pred", P2)):
            for what, make in variants_2d(base):
                for mo in ("uniform_average", "raw_values", [0.3, 0.7]):
                    kw = dict(y_true=Y2, y_pred=P2, multioutput=mo, **params)
                    kw[arg] = make
                    yield pytest.param(name, kw, id=f"{name}-{arg}-{what}-{mo}")
        for what, make in variants(W):
            kw = dict(y_true=Y2, y_pred=P2, sample_weight=make, multioutput="raw_values",
                      **params)
            yield pytest.param(name, kw, id=f"{name}-2-d-sample_weight-{what}")


def both_grid():
    """The same variant for y_true and y_pred (for the dtype the computation takes)."""
    for name, params in REGRESSION + DEVIANCES:
        for (what, make_y), (_, make_p) in zip(variants(Y), variants(P)):
            yield pytest.param(name, dict(y_true=make_y, y_pred=make_p, **params),
                               id=f"{name}{params or ''}-both-{what}")


@pytest.mark.parametrize("name,kw", list(regression_grid_2d()))
def test_regression_metrics_on_outputs_refuse_and_accept_what_scikit_learn_does(name, kw):
    assert_like_scikit_learn(name, kw)


@pytest.mark.parametrize("name,kw", list(both_grid()))
def test_regression_metrics_on_like_inputs_refuse_and_accept_what_scikit_learn_does(name, kw):
    assert_like_scikit_learn(name, kw)


@pytest.mark.parametrize("name,kw", list(regression_grid()))
def test_regression_metrics_refuse_and_accept_what_scikit_learn_does(name, kw):
    assert_like_scikit_learn(name, kw)


MULTIOUTPUT = [("raw_values", "raw_values"), ("uniform_average", "uniform_average"),
               ("variance_weighted", "variance_weighted"), ("unknown name", "foo"),
               ("None", None), ("number", 3), ("weights", [0.3, 0.7]),
               ("weights array", lambda: np.array([0.3, 0.7])), ("zero weights", [0, 0]),
               ("negative weights", [-1.0, 2.0]), ("NaN weight", [np.nan, 1.0]),
               ("inf weight", [np.inf, 1.0]), ("three weights", [0.2, 0.3, 0.5]),
               ("2-d weights", [[0.3, 0.7]]), ("string weights", ["0.3", "0.7"]),
               ("non-numeric weights", ["a", "b"]), ("complex weights", [1j, 1]),
               ("array of names", lambda: np.array(["raw_values"])),
               ("tensor weights", lambda: torch.tensor([0.3, 0.7])),
               ("Series weights", lambda: pd.Series([0.3, 0.7], dtype="Float64"))]


def multioutput_grid():
    for name, params in REGRESSION:
        for y, p in ((Y, P), (Y2, P2)):
            for what, mo in MULTIOUTPUT:
                yield pytest.param(name, dict(y_true=y, y_pred=p, multioutput=mo, **params),
                                   id=f"{name}-{len(np.shape(y))}d-{what}")


@pytest.mark.parametrize("name,kw", list(multioutput_grid()))
def test_multioutput_as_scikit_learn_takes_it(name, kw):
    assert_like_scikit_learn(name, kw)


# ------------------------------------------------------------------------------ log_loss
LABELS = [0, 1, 1, 0]
PROBA = [0.2, 0.7, 0.9, 0.4]
LABELS3 = [0, 2, 1, 2]
PROBA3 = [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3], [0.25, 0.25, 0.5]]


def label_variants():
    y = np.array(LABELS)
    return [
        ("list", lambda: list(LABELS)),
        ("floats", lambda: y.astype(float)),
        ("float16", lambda: y.astype(np.float16)),
        ("fractions", lambda: y + 0.5),
        ("bool", lambda: y.astype(bool)),
        ("uint64", lambda: y.astype(np.uint64)),
        ("huge", lambda: y * 2.0**70),
        ("strings", lambda: np.array(["ham", "spam"])[y]),
        ("object strings", lambda: np.array(["ham", "spam"], dtype=object)[y]),
        ("object numbers", lambda: y.astype(object)),
        ("object mixed", lambda: np.array(["a", 1, "a", 1], dtype=object)),
        ("list mixed", lambda: ["a", 1, "a", 1]),
        ("list with None", lambda: [0, None, 1, 0]),
        ("NaN", lambda: np.array([0, np.nan, 1, 0])),
        ("inf", lambda: np.array([0, np.inf, 1, 0])),
        ("bytes", lambda: [b"a", b"b", b"b", b"a"]),
        ("indicator", lambda: np.eye(2, dtype=int)[y]),
        ("indicator float", lambda: np.eye(2)[y]),
        ("2-d non-indicator", lambda: np.array([[0, 1], [2, 0], [1, 2], [0, 2]])),
        ("2-d three columns", lambda: np.array([[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 1, 2]])),
        ("column", lambda: y[:, None]),
        ("3-d", lambda: y[:, None, None]),
        ("0-d", lambda: np.array(1)),
        ("scalar", lambda: 1),
        ("empty", lambda: []),
        ("short", lambda: LABELS[:3]),
        ("one class", lambda: [1, 1, 1, 1]),
        ("three classes", lambda: [0, 1, 2, 0]),
        ("ragged", lambda: [[0], [1, 1], [0], [1]]),
        ("Series", lambda: pd.Series(LABELS)),
        ("Series Int64", lambda: pd.Series(LABELS, dtype="Int64")),
        ("Series Int64 with NA", lambda: pd.Series([0, None, 1, 0], dtype="Int64")),
        ("Series boolean", lambda: pd.Series(y.astype(bool), dtype="boolean")),
        ("Series category", lambda: pd.Series(["ham", "spam"])[y].astype("category")),
        ("Series str", lambda: pd.Series(np.array(["ham", "spam"])[y], dtype="str")),
        ("tensor", lambda: torch.tensor(LABELS)),
        ("sparse", lambda: sparse.csr_matrix(y[:, None])),
        ("matrix", lambda: np.asmatrix(y[:, None])),
    ]


def proba_variants():
    p = np.array(PROBA)
    out = [
        ("list", lambda: list(PROBA)),
        ("float32", lambda: p.astype(np.float32)),
        ("float16", lambda: p.astype(np.float16)),
        ("float16 near 1", lambda: np.array([0.0, 0.9995, 1.0, 0.5], np.float16)),
        ("float32 near 0", lambda: np.array([1e-9, 0.5, 1.0, 0.0], np.float32)),
        ("ints", lambda: np.array([0, 1, 1, 0])),
        ("bool", lambda: p > 0.5),
        ("object", lambda: p.astype(object)),
        ("numeric strings", lambda: [str(v) for v in PROBA]),
        ("strings", lambda: ["a", "b", "c", "d"]),
        ("complex", lambda: p + 0j),
        ("column", lambda: p[:, None]),
        ("two columns", lambda: np.stack([1 - p, p], axis=1)),
        ("three columns", lambda: np.full((4, 3), 1 / 3)),
        ("not summing to one", lambda: np.stack([p, p], axis=1)),
        ("3-d", lambda: p[:, None, None]),
        ("0-d", lambda: np.array(0.5)),
        ("empty", lambda: []),
        ("no columns", lambda: np.zeros((4, 0))),
        ("short", lambda: PROBA[:3]),
        ("above 1", lambda: p + 0.5),
        ("below 0", lambda: p - 0.5),
        ("None", lambda: None),
        ("Series Float64", lambda: pd.Series(PROBA, dtype="Float64")),
        ("Series Float64 with NA", lambda: pd.Series([0.2, None, 0.9, 0.4], dtype="Float64")),
        ("tensor", lambda: torch.tensor(PROBA)),
        ("sparse", lambda: sparse.csr_matrix(p[:, None])),
        ("memoryview", lambda: memoryview(p.copy())),
    ]
    for value in (np.inf, -np.inf, np.nan):
        out.append((f"{value}", lambda value=value: _with(p, value)))
        out.append((f"{value} in float32", lambda value=value: _with(p.astype(np.float32),
                                                                     value)))
    return out


LABELS_ARG = [("sorted", [0, 1]), ("unsorted", [1, 0]), ("extra class", [0, 1, 2]),
              ("one", [1]), ("strings", ["ham", "spam"]), ("mixed", [0, "a"]),
              ("2-d", [[0, 1]]), ("array", lambda: np.array([0, 1])), ("duplicates", [0, 0, 1]),
              ("scalar", 1), ("set", {0, 1}), ("floats", [0.0, 1.0]), ("missing", [0, 2]),
              ("empty", []), ("NaN", [0, np.nan])]


def log_loss_grid():
    base = dict(y_true=LABELS, y_proba=PROBA)
    for what, make in label_variants():
        yield pytest.param(dict(base, y_true=make), id=f"y_true-{what}")
        yield pytest.param(dict(y_true=make, y_proba=np.stack([1 - np.array(PROBA),
                                                               np.array(PROBA)], axis=1)),
                           id=f"y_true-{what}-two-columns")
    for what, make in proba_variants():
        yield pytest.param(dict(base, y_proba=make), id=f"y_proba-{what}")
    for what, make in variants(W):
        yield pytest.param(dict(base, sample_weight=make), id=f"sample_weight-{what}")
    for what, labels in LABELS_ARG:
        yield pytest.param(dict(base, labels=labels), id=f"labels-{what}")
        yield pytest.param(dict(y_true=LABELS3, y_proba=PROBA3, labels=labels),
                           id=f"labels-{what}-three-columns")
    for normalize in (False, np.True_, 1, "yes", None):
        yield pytest.param(dict(base, normalize=normalize), id=f"normalize-{normalize!r}")
    for what, make in variants(W):
        yield pytest.param(dict(base, sample_weight=make, normalize=False),
                           id=f"sample_weight-{what}-sum")
    for what, make in label_variants():
        yield pytest.param(dict(y_true=make, y_proba=PROBA3), id=f"y_true-{what}-three-classes")
        yield pytest.param(dict(y_true=make, y_proba=PROBA3, labels=[0, 1, 2]),
                           id=f"y_true-{what}-three-classes-labels")
        yield pytest.param(dict(y_true=make, y_proba=PROBA, labels=["ham", "spam"]),
                           id=f"y_true-{what}-labels-ham-spam")
    yield pytest.param(dict(y_true=LABELS3, y_proba=PROBA3), id="three classes")
    yield pytest.param(dict(y_true=[0, 1], y_proba=[0.2, 0.7], y_pred=[0.2, 0.7]),
                       id="y_pred and y_proba")


@pytest.mark.parametrize("kw", list(log_loss_grid()))
def test_log_loss_refuses_and_accepts_what_scikit_learn_does(kw):
    assert_like_scikit_learn("log_loss", kw)


@pytest.mark.parametrize("labels", [lambda: torch.tensor([0, 1, 2]),
                                    lambda: pd.Series([0, 1, 2], dtype="Int64"),
                                    lambda: np.array([0, 1, 2], np.uint8), lambda: (0, 1, 2)])
def test_log_loss_takes_labels_of_every_array_type(labels):
    """As a list.  (scikit-learn's log_loss compares a tensor of labels to its classes with
    ``==``, gets a tensor back, and fails to reduce it with np.all: a TypeError of its own.)"""
    kw = dict(y_true=[0, 1, 1, 0], y_proba=PROBA3)
    assert metrics.log_loss(labels=labels(), **kw) == pytest.approx(
        sk.log_loss(labels=[0, 1, 2], **kw), rel=1e-12)


@pytest.mark.parametrize("make,eps", [
    (lambda p: np.asarray(p, np.float64), np.finfo(np.float64).eps),
    (lambda p: np.asarray(p, np.float32), np.finfo(np.float32).eps),
    (lambda p: np.asarray(p, np.float16), np.finfo(np.float16).eps),
    (lambda p: list(p), np.finfo(np.float64).eps),
    (lambda p: np.asarray(p, np.int64), np.finfo(np.float64).eps),
    (lambda p: pd.DataFrame({"0": 1 - np.float32(p), "1": np.float32(p)}),
     np.finfo(np.float32).eps),
    (lambda p: pd.Series(p, dtype="float16"), np.finfo(np.float16).eps),
    (lambda p: pd.Series(p, dtype="Float32"), np.finfo(np.float64).eps),
    (lambda p: torch.tensor(p, dtype=torch.float32), np.finfo(np.float64).eps),
])
def test_log_loss_clips_at_the_eps_scikit_learn_uses_for_the_dtype_given(make, eps):
    """Probabilities of exactly 0 and 1 on the wrong side: every loss is -log(eps) of the
    dtype scikit-learn keeps (float64, float32, float16 as given; float64 for the rest)."""
    p = [1.0, 0.0, 1.0, 0.0]
    y = [0, 1, 0, 1]
    proba = make(p)
    got = metrics.log_loss(y, proba)
    assert got == pytest.approx(-np.log(float(eps)), rel=1e-6)
    assert got == pytest.approx(sk.log_loss(y, proba), rel=1e-3)   # float16: its arithmetic


@pytest.mark.parametrize("arg", ["y_true", "y_pred", "sample_weight"])
@pytest.mark.parametrize("name", ["mean_squared_error", "mean_tweedie_deviance", "log_loss"])
def test_ragged_inputs_are_refused_by_name(name, arg):
    kw = dict(y_true=[0, 1, 1, 0], y_pred=[0.2, 0.7, 0.9, 0.4], sample_weight=[1, 2, 1, 1])
    kw[arg] = [[1.0], [2.0, 0.5], [1.0], [1.0]]
    if name == "log_loss":
        kw["y_proba"] = kw.pop("y_pred")
        arg = "y_proba" if arg == "y_pred" else arg
    with pytest.raises(ValueError, match=arg):
        getattr(metrics, name)(**kw)
    with pytest.raises(ValueError):
        getattr(sk, name)(**kw)


# ------------------------------------------------------------------ brier_score_loss, hinge_loss
SCORES = [-1.5, 0.3, 2.0, -0.2]
SCORES3 = [[1.2, -0.3, 0.1], [0.1, 0.3, 0.6], [-2.0, 0.5, 0.3], [0.25, 0.25, 0.5]]


def brier_grid():
    base = dict(y_true=LABELS, y_proba=PROBA)
    for what, make in label_variants():
        yield pytest.param(dict(base, y_true=make), id=f"y_true-{what}")
        yield pytest.param(dict(base, y_true=make, pos_label=1), id=f"y_true-{what}-pos_label")
        yield pytest.param(dict(y_true=make, y_proba=PROBA3), id=f"y_true-{what}-three-classes")
        yield pytest.param(dict(y_true=make, y_proba=PROBA3, labels=[0, 1, 2]),
                           id=f"y_true-{what}-three-classes-labels")
    for what, make in proba_variants():
        yield pytest.param(dict(base, y_proba=make), id=f"y_proba-{what}")
    for what, make in variants(W):
        yield pytest.param(dict(base, sample_weight=make), id=f"sample_weight-{what}")
        yield pytest.param(dict(y_true=LABELS3, y_proba=PROBA3, sample_weight=make),
                           id=f"sample_weight-{what}-three-classes")
    for what, labels in LABELS_ARG:
        yield pytest.param(dict(base, labels=labels), id=f"labels-{what}")
        yield pytest.param(dict(y_true=LABELS3, y_proba=PROBA3, labels=labels),
                           id=f"labels-{what}-three-columns")
    for pos_label in (0, 1, 2, 1.0, True, np.int64(1), np.float32(0), "ham", None, [1],
                      np.array(1), 1j):
        yield pytest.param(dict(base, pos_label=pos_label), id=f"pos_label-{pos_label!r}")
    for scale in (True, False, "auto", np.True_, 1, 0, "yes", None):
        yield pytest.param(dict(base, scale_by_half=scale), id=f"scale_by_half-{scale!r}")
        yield pytest.param(dict(y_true=LABELS3, y_proba=PROBA3, scale_by_half=scale),
                           id=f"scale_by_half-{scale!r}-three-classes")


@pytest.mark.parametrize("kw", list(brier_grid()))
def test_brier_score_loss_refuses_and_accepts_what_scikit_learn_does(kw):
    assert_like_scikit_learn("brier_score_loss", kw)


def hinge_grid():
    base = dict(y_true=LABELS, pred_decision=SCORES)
    for what, make in label_variants():
        yield pytest.param(dict(base, y_true=make), id=f"y_true-{what}")
        yield pytest.param(dict(y_true=make, pred_decision=SCORES3),
                           id=f"y_true-{what}-three-classes")
        yield pytest.param(dict(y_true=make, pred_decision=SCORES3, labels=[0, 1, 2]),
                           id=f"y_true-{what}-three-classes-labels")
    for what, make in proba_variants():
        if what not in ("None",):
            yield pytest.param(dict(base, pred_decision=make), id=f"pred_decision-{what}")
    for what, make in variants(W):
        if what.startswith("complex") or what == "Series boolean with NA":
            continue        # deliberately refused: see test_hinge_loss_refuses_complex_weights
        yield pytest.param(dict(base, sample_weight=make), id=f"sample_weight-{what}")
        yield pytest.param(dict(y_true=LABELS3, pred_decision=SCORES3, sample_weight=make),
                           id=f"sample_weight-{what}-three-classes")
    for what, labels in LABELS_ARG:
        yield pytest.param(dict(base, labels=labels), id=f"labels-{what}")
        yield pytest.param(dict(y_true=LABELS3, pred_decision=SCORES3, labels=labels),
                           id=f"labels-{what}-three-columns")


@pytest.mark.parametrize("kw", list(hinge_grid()))
def test_hinge_loss_refuses_and_accepts_what_scikit_learn_does(kw):
    assert_like_scikit_learn("hinge_loss", kw)


@pytest.mark.parametrize("weights", [np.array(W) + 0j, np.array(W) + 1j,
                                     pd.Series([1.0, None, 0.5, 1.0], dtype="Float64")])
def test_hinge_loss_refuses_complex_weights(weights):
    """scikit-learn's hinge_loss averages with complex weights and drops the imaginary part of
    the result (a ComplexWarning); lossfuse refuses them, as its other metrics do.  A missing
    value (pd.NA) among nullable weights is NaN to lossfuse, which NumPy's average (and so
    scikit-learn) turns into NaN as well, where scikit-learn raises instead."""
    kw = dict(y_true=LABELS, pred_decision=SCORES, sample_weight=weights)
    if weights.dtype.kind == "c":
        with pytest.raises(ValueError, match="Complex data not supported"):
            metrics.hinge_loss(**kw)
    else:
        assert np.isnan(metrics.hinge_loss(**kw))
