"""lossfuse.metrics.brier_score_loss and hinge_loss: scikit-learn's values, errors and warnings
(obtained from scikit-learn at run time) over a grid of binary and multiclass problems, an exact
reference for random inputs, and the kernels behind them (every instruction-set build, every
thread count, strided operands, inputs left as they were)."""

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from conftest import assert_builds_agree, assert_threads_give_serial_bits
from lossfuse import metrics

sk = pytest.importorskip("sklearn.metrics")

RNG = np.random.default_rng(2024)
N = 23


def outcome(f, args, kw):
    """(value or exception, warning messages) of f(*args, **kw)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = f(*args, **kw)
        except Exception as e:      # noqa: BLE001 -- compared with scikit-learn's below
            value = e
    return value, [(w.category, str(w.message)) for w in caught
                   if not issubclass(w.category, DeprecationWarning)]


def assert_same(name, args, kw, rtol):
    """lossfuse's function `name` gives scikit-learn's value (to `rtol`), or raises its
    exception class with its message; and warns as it does."""
    want, want_warnings = outcome(getattr(sk, name), args, kw)
    got, got_warnings = outcome(getattr(metrics, name), args, kw)
    if isinstance(want, Exception):
        if type(want).__name__ == "InvalidParameterError":      # scikit-learn's: lossfuse's
            assert type(got) is metrics.InvalidParameterError, (got, want)
        else:
            assert type(got) is type(want), (got, want)
        assert str(got) == str(want)
    else:
        assert not isinstance(got, Exception), got
        assert type(got) is float
        assert got == pytest.approx(want, rel=rtol, abs=1e-300), (got, want)
    assert got_warnings == want_warnings


def tolerance(*arrays):
    return 2e-6 if any(getattr(a, "dtype", None) == np.float32 for a in arrays) else 1e-12


# ------------------------------------------------------------------------ binary grid
BINARY_LABELS = {
    "01": np.array([0, 1] * 11 + [1]),
    "-11": np.array([-1, 1] * 11 + [1]),
    "12": np.array([1, 2] * 11 + [2]),
    "-10": np.array([-1, 0] * 11 + [0]),
    "floats": np.array([0.0, 1.0] * 11 + [1.0]),
    "strings": np.array(["ham", "spam"] * 11 + ["spam"]),
    "bools": np.array([False, True] * 11 + [True]),
    "one class 1": np.ones(N, int),
    "one class 0": np.zeros(N, int),
    "one class 7": np.full(N, 7),
    "one class -1": np.full(N, -1),
}
WEIGHTS = {"none": None, "unit": np.ones(N), "float": RNG.uniform(0, 3, N),
           "some zeros": np.r_[np.zeros(5), RNG.uniform(0, 3, N - 5)], "zeros": np.zeros(N),
           "ints": RNG.integers(0, 4, N), "negative": RNG.uniform(-1, 3, N)}


def binary_cases():
    p = RNG.uniform(0, 1, N)
    p[:3] = [0.0, 1.0, 1e-10]
    scores = RNG.normal(0, 2, N)
    for lname, y in BINARY_LABELS.items():
        for wname, w in WEIGHTS.items():
            for dt in (np.float64, np.float32):
                kw = {} if w is None else {"sample_weight": w if dt == np.float64 or w.dtype != float
                                           else w.astype(dt)}
                ids = f"{lname}-{wname}-{dt.__name__}"
                yield pytest.param("brier_score_loss", (y, p.astype(dt)), kw, id="brier-" + ids)
                yield pytest.param("hinge_loss", (y, scores.astype(dt)), kw, id="hinge-" + ids)
                yield pytest.param("hinge_loss", (list(y), scores.astype(dt).tolist()), kw,
                                   id="hinge-lists-" + ids)
        for pos_label in (1, 0, 2, -1, 7, "spam", "ham", True, False, 1.0, np.int64(2)):
            yield pytest.param("brier_score_loss", (y, p), {"pos_label": pos_label},
                               id=f"brier-{lname}-pos_label-{pos_label!r}")
        for scale in (True, False, "auto"):
            yield pytest.param("brier_score_loss", (y, p), {"scale_by_half": scale},
                               id=f"brier-{lname}-scale-{scale}")
        yield pytest.param("brier_score_loss", (y, p[:, None]), {}, id=f"brier-{lname}-column")
        yield pytest.param("brier_score_loss", (y, p), {"labels": [0, 1]},
                           id=f"brier-{lname}-labels-ignored")
        yield pytest.param("hinge_loss", (y, scores[:, None]), {}, id=f"hinge-{lname}-column")
        yield pytest.param("hinge_loss", (y, scores), {"labels": np.unique(y)[:2]},
                           id=f"hinge-{lname}-labels")
    # three classes in y_true with two labels: column 0 marks the smallest class
    yield pytest.param("hinge_loss", (np.arange(N) % 3, scores), {"labels": [0, 1]},
                       id="hinge-three-classes-two-labels")


@pytest.mark.parametrize("name,args,kw", list(binary_cases()))
def test_binary_problems_as_scikit_learn(name, args, kw):
    assert_same(name, args, kw, tolerance(*args, *kw.values()))


# -------------------------------------------------------------------- multiclass grid
def multiclass_cases():
    for k in range(3, 8):
        p = RNG.dirichlet(np.ones(k), N)
        scores = RNG.normal(0, 2, (N, k))
        y = np.arange(N) % k
        y_missing = np.where(y == k - 1, 0, y)          # the last class absent
        names = np.array([f"c{j}" for j in range(k)])
        for dt in (np.float64, np.float32):
            for wname in ("none", "float", "some zeros", "zeros"):
                w = WEIGHTS[wname]
                kw = {} if w is None else {"sample_weight": w.astype(dt)}
                ids = f"K{k}-{wname}-{dt.__name__}"
                yield pytest.param("brier_score_loss", (y, p.astype(dt)), kw,
                                   id="brier-" + ids)
                yield pytest.param("hinge_loss", (y, scores.astype(dt)), kw, id="hinge-" + ids)
            for lname, labels in (("given", list(range(k))), ("unordered", list(range(k))[::-1]),
                                  ("missing", None)):
                ids = f"K{k}-{lname}-{dt.__name__}"
                kw = {} if labels is None else {"labels": labels}
                yield pytest.param("brier_score_loss", (y_missing, p.astype(dt)), kw,
                                   id="brier-absent-class-" + ids)
                yield pytest.param("hinge_loss", (y_missing, scores.astype(dt)), kw,
                                   id="hinge-absent-class-" + ids)
            yield pytest.param("brier_score_loss", (names[y], p.astype(dt)), {},
                               id=f"brier-strings-K{k}-{dt.__name__}")
            yield pytest.param("hinge_loss", (names[y], scores.astype(dt)), {},
                               id=f"hinge-strings-K{k}-{dt.__name__}")
        for scale in (True, False, "auto"):
            yield pytest.param("brier_score_loss", (y, p), {"scale_by_half": scale},
                               id=f"brier-K{k}-scale-{scale}")
    # integer labels counted in a table (small ranges, negative ones) or sorted (wide ranges)
    for lname, classes in (("negative", np.array([-7, -3, -2, 0])),
                           ("wide", np.array([-2**62, 3, 10**12, 2**62])),
                           ("uint8", np.array([3, 4, 9, 200], np.uint8))):
        y = classes[np.arange(N) % 4]
        p = RNG.dirichlet(np.ones(4), N)
        scores = RNG.normal(0, 2, (N, 4))
        yield pytest.param("brier_score_loss", (y, p), {}, id=f"brier-{lname}-labels")
        yield pytest.param("hinge_loss", (y, scores), {}, id=f"hinge-{lname}-labels")
        yield pytest.param("brier_score_loss", (y[y != classes[1]], p[y != classes[1]]),
                           {"labels": classes}, id=f"brier-{lname}-labels-given")
        yield pytest.param("hinge_loss", (y[y != classes[1]], scores[y != classes[1]]),
                           {"labels": classes}, id=f"hinge-{lname}-labels-given")
        yield pytest.param("log_loss", (y, p), {}, id=f"log_loss-{lname}-labels")
    p2 = RNG.dirichlet(np.ones(2), N)
    yield pytest.param("brier_score_loss", (np.arange(N) % 2, p2), {}, id="brier-two-columns")
    yield pytest.param("brier_score_loss", (np.arange(N) % 2, p2), {"scale_by_half": False},
                       id="brier-two-columns-unscaled")
    yield pytest.param("brier_score_loss", (np.eye(3, dtype=int)[np.arange(N) % 3],
                                            RNG.dirichlet(np.ones(3), N)), {},
                       id="brier-indicator")


@pytest.mark.parametrize("name,args,kw", list(multiclass_cases()))
def test_multiclass_problems_as_scikit_learn(name, args, kw):
    assert_same(name, args, kw, tolerance(*args, *kw.values()))


@pytest.mark.parametrize("k", [2, 3, 5, 7, 8, 9, 20, 200])
@pytest.mark.parametrize("order", ["C", "F"])
def test_rows_that_do_not_sum_to_one_are_found_as_scikit_learn_finds_them(k, order):
    """Rows a rounding away from the tolerance: the row sums are NumPy's, to the bit."""
    rng = np.random.default_rng(k)
    for dt in (np.float64, np.float32):
        p = np.asarray(rng.dirichlet(np.ones(k), 200).astype(dt), order=order)
        tol = np.sqrt(np.finfo(dt).eps)
        p[:, 0] += dt(tol) * np.linspace(0.9, 1.1, 200).astype(dt)
        for rows in (slice(0, 100), slice(100, 200), slice(95, 105)):
            y = np.arange(200)[rows] % k
            assert_same("brier_score_loss", (y, p[rows]), {"labels": list(range(k))}, 2e-6)


# ------------------------------------------------------------------ errors and warnings
Y3 = [0, 1, 2, 1]
P3 = [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3], [0.25, 0.25, 0.5]]
S3 = [[1.2, -0.3, 0.1], [0.1, 0.3, 0.6], [-2.0, 0.5, 0.3], [0.25, 0.25, 0.5]]

ERRORS = [
    # brier_score_loss, binary: scikit-learn's order of checks
    ("brier_score_loss", ([0, 1], [0.1, 0.2]), {"pos_label": [1]}),
    ("brier_score_loss", ([0, 1], [0.1, 0.2]), {"scale_by_half": "yes"}),
    ("brier_score_loss", ([0, 1], [0.1, 0.2]), {"scale_by_half": 1}),
    ("brier_score_loss", ([0, 1], [0.1, 0.2]), {"labels": 3}),
    ("brier_score_loss", (3, [0.1, 0.2]), {}),
    ("brier_score_loss", ([0, 1], [0.1, 0.2]), {"sample_weight": 1.0}),
    ("brier_score_loss", ([0, 1], np.array(0.5)), {}),
    ("brier_score_loss", ([0, 1], [[[0.5]]]), {}),
    ("brier_score_loss", ([0, 1], []), {}),
    ("brier_score_loss", ([0, 1, 1], [0.1, 0.2, np.nan]), {}),
    ("brier_score_loss", ([0, 1, 1], [0.1, 1.2, np.inf]), {}),
    ("brier_score_loss", ([0, 1, 1], np.array([0.1, 0.2, np.nan], np.float32)), {}),
    ("brier_score_loss", ([0, 1, np.nan], [0.1, 0.2, 0.3]), {}),
    ("brier_score_loss", ([0, 1, 1], [0.1, 0.2]), {}),
    ("brier_score_loss", ([0, 1, 1], [0.1, 0.2, 0.3]), {"sample_weight": [1, 2]}),
    ("brier_score_loss", ([0, 1, 1], [0.1, 0.2, 0.3]), {"sample_weight": [0, 0, 0]}),
    ("brier_score_loss", ([0, 1, 1], [0.1, 0.2, 0.3]), {"sample_weight": [1, -1, 0]}),
    ("brier_score_loss", ([0, 1, 1], [0.1, 0.2, 0.3]), {"sample_weight": [1, np.nan, 0]}),
    ("brier_score_loss", ([0, 1, 1], [0.1, 0.2, 0.3]), {"sample_weight": [[1, 1, 0]]}),
    ("brier_score_loss", ([0, 1, 2], [0.1, 0.2, 0.3]), {}),
    ("brier_score_loss", ([0, 1, 2], [1.1, 0.2, 0.3]), {}),
    ("brier_score_loss", ([0.5, 1, 1], [0.1, 0.2, 0.3]), {}),
    ("brier_score_loss", (["a", "b", "b"], [0.1, 0.2, 0.3]), {}),
    ("brier_score_loss", (["a", "b", "b"], [0.1, 0.2, 1.3]), {}),
    ("brier_score_loss", ([0, 1, 1], [0.1, 0.2, 1.3]), {}),
    ("brier_score_loss", ([0, 1, 1], [0.1, -0.2, 0.3]), {}),
    ("brier_score_loss", (np.array([0, 1, 1]), np.array([0.1, -0.2, 0.3])), {}),
    ("brier_score_loss", (np.array([0, 1, 1.0]), np.array([0.1, 1.5, 0.3])), {}),
    ("brier_score_loss", (np.array([0, 1, 1.0]), np.array([0.1, np.inf, 0.3])), {}),
    ("brier_score_loss", (np.array([0, 1, 2.0]), np.array([0.1, 0.5, 0.3])), {}),
    ("brier_score_loss", ([[0, 1], [1, 0]], [0.1, 0.2]), {}),
    ("brier_score_loss", ([0, 1, 1], ["a", "b", "c"]), {}),
    # brier_score_loss, multiclass
    ("brier_score_loss", (Y3, np.array(P3) + 0.5), {}),
    ("brier_score_loss", (Y3, np.array(P3) - 0.5), {}),
    ("brier_score_loss", (Y3, P3[:3]), {}),
    ("brier_score_loss", (Y3, P3), {"sample_weight": [0, 0, 0, 0]}),
    ("brier_score_loss", (Y3, P3), {"labels": [2, 1, 0]}),
    ("brier_score_loss", (Y3, P3), {"labels": [0, 1, 3]}),
    ("brier_score_loss", ([1, 1, 1, 1], P3), {}),
    ("brier_score_loss", ([1, 1, 1, 1], P3), {"labels": [1]}),
    ("brier_score_loss", (Y3, np.array(P3) * 0.5), {}),
    ("brier_score_loss", ([0, 1, 1, 0], P3), {}),
    ("brier_score_loss", (Y3, P3), {"labels": [0, 1, 2, 3]}),
    # hinge_loss
    ("hinge_loss", ([0, 1], [0.1, 0.2]), {"labels": 3}),
    ("hinge_loss", ([0, 1], 3), {}),
    ("hinge_loss", ([0, 1, 1], [0.1, 0.2]), {}),
    ("hinge_loss", ([0, 1, 1], [0.1, 0.2, 0.1]), {"sample_weight": [1, 2]}),
    ("hinge_loss", ([0, 1, 1], np.array(0.5)), {}),
    ("hinge_loss", ([0, 1, 1], ["a", "b", "c"]), {}),
    ("hinge_loss", ([0, 1, 1], [0.1, np.nan, 0.1]), {}),
    ("hinge_loss", ([0, 1, 1], [0.1, np.inf, 0.1]), {}),
    ("hinge_loss", (np.array([0, 1, 1.0]), np.array([0.1, np.inf, 0.1])), {}),
    ("hinge_loss", (np.array([0, 1, 1.0]), np.array([0.1, -np.inf, 0.1])), {}),
    ("hinge_loss", (np.array([0, 1, 1.0]), np.array([0.1, np.nan, 0.1], np.float32)), {}),
    ("hinge_loss", ([0, 1, 1], [0.1, 0.2, 0.1]), {"sample_weight": [0, 0, 0]}),
    ("hinge_loss", (np.array([0, 1, 1.0]), np.array([0.1, 0.2, 0.1])),
     {"sample_weight": np.array([1.0, -1.0, 0.0])}),
    ("hinge_loss", ([0, 1, 1], [0.1, 0.2, 0.1]), {"sample_weight": [[0, 0, 1]]}),
    ("hinge_loss", ([0.5, 1.5, 1.5], [0.1, 0.2, 0.1]), {}),
    ("hinge_loss", ([0, 1, 2], [0.1, 0.2, 0.3]), {}),
    ("hinge_loss", ([0, 1, 2], [[0.1, 0.2]] * 3), {}),
    ("hinge_loss", ([0, 1, 2], [[0.1, 0.2]] * 3), {"labels": [0, 1, 2]}),
    ("hinge_loss", ([0, 1, 5], [[0.1, 0.2, 0.3]] * 3), {"labels": [0, 1, 2]}),
    ("hinge_loss", (["a", "b", "z"], [[0.1, 0.2, 0.3]] * 3), {"labels": ["a", "b", "c"]}),
    ("hinge_loss", ([0, 1, 1], [[0.1, 0.2]] * 3), {}),
    ("hinge_loss", (Y3, S3), {"labels": [0, 1]}),
    ("hinge_loss", (Y3, [[np.nan, 0, 0]] * 4), {}),
]


@pytest.mark.parametrize("name,args,kw", ERRORS,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(ERRORS)])
def test_errors_and_warnings_as_scikit_learn(name, args, kw):
    assert_same(name, args, kw, 1e-12)


# --------------------------------------------------------------- exact references
def exact_mean(values, weights):
    """The exact weighted mean of float arrays (Fractions), each value times its weight rounded
    in their dtype first, as scikit-learn (and lossfuse) round it."""
    num = sum((Fraction(float(v * w)) for v, w in zip(values, weights)), Fraction(0))
    return num / sum((Fraction(float(w)) for w in weights), Fraction(0))


labels01 = hnp.arrays(np.int64, st.integers(1, 60), elements=st.integers(0, 1))


@settings(max_examples=150, deadline=None)
@given(data=st.data(), y=labels01, dtype=st.sampled_from([np.float64, np.float32]),
       weighted=st.booleans())
def test_binary_brier_matches_exact_reference(data, y, dtype, weighted):
    """Against the exact mean of scikit-learn's per-element terms.  Those are not the exact
    (t - p)^2: scikit-learn computes ((1 - t) - (1 - p))^2 + (t - p)^2 with 1 - p rounded
    (for t = 0 and p = 1e-10 the first term is off by 1e-7 relative), and lossfuse rounds each
    term as it does, so the reference is the exact sum of the rounded terms; scikit-learn's own
    mean differs from it by its summation's rounding."""
    n = y.shape[0]
    p = data.draw(hnp.arrays(dtype, n, elements=st.floats(0, 1, width=32)))
    w = data.draw(hnp.arrays(dtype, n, elements=st.floats(0, 10, width=32))) if weighted \
        else np.ones(n, dtype)
    if not w.any():
        w[0] = 1
    t = y.astype(dtype)
    terms = ((1 - t) - (1 - p)) ** 2 + (t - p) ** 2          # in dtype, as scikit-learn
    want = float(exact_mean(terms, w) / 2)
    got = metrics.brier_score_loss(y, p, sample_weight=w if weighted else None)
    assert got == pytest.approx(want, rel=1e-13, abs=1e-300)
    theirs = sk.brier_score_loss(y, p, sample_weight=w if weighted else None)
    assert got == pytest.approx(theirs, rel=1e-12 if dtype == np.float64 else 2e-6, abs=1e-300)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), y=labels01, dtype=st.sampled_from([np.float64, np.float32]))
def test_binary_hinge_matches_exact_reference(data, y, dtype):
    """Exact: the margin t * p and 1 - t * p in float64, as scikit-learn computes them (float32
    scores too), then the exact mean."""
    n = y.shape[0]
    p = data.draw(hnp.arrays(dtype, n, elements=st.floats(-1e3, 1e3, width=32)))
    t = np.where(y == 1, 1.0, -1.0) if len(np.unique(y)) == 2 else -np.ones(n)
    terms = np.maximum(0, 1 - t * p.astype(np.float64))
    want = float(exact_mean(terms, np.ones(n)))
    got = metrics.hinge_loss(y, p)
    assert got == pytest.approx(want, rel=1e-13, abs=1e-300)
    assert got == pytest.approx(sk.hinge_loss(y, p), rel=1e-12, abs=1e-300)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), k=st.integers(3, 7), n=st.integers(1, 40),
       dtype=st.sampled_from([np.float64, np.float32]))
def test_multiclass_rows_match_exact_reference(data, k, n, dtype):
    """The row losses rounded as scikit-learn rounds them (its np.sum order, in the dtype), then
    the exact mean; scikit-learn's to its rounding."""
    y = np.r_[np.arange(k), data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, k - 1)))]
    m = y.shape[0]
    raw = data.draw(hnp.arrays(dtype, (m, k), elements=st.floats(0.015625, 1, width=32)))
    p = (raw / raw.sum(axis=1, keepdims=True)).astype(dtype)
    s = data.draw(hnp.arrays(dtype, (m, k), elements=st.floats(-100, 100, width=32)))
    onehot = np.eye(k, dtype=dtype)[y]
    brier_rows = np.sum((onehot - p) ** 2, axis=1)
    others = np.where(onehot == 1, -np.inf, s).max(axis=1)
    hinge_rows = np.maximum(0, 1 - (s[np.arange(m), y] - others))
    rtol = 1e-12 if dtype == np.float64 else 2e-6
    for name, args, rows, scale in (("brier_score_loss", (y, p), brier_rows, 1),
                                    ("hinge_loss", (y, s), hinge_rows, 1)):
        got = getattr(metrics, name)(*args)
        assert got == pytest.approx(float(exact_mean(rows, np.ones(m))) * scale, rel=1e-13,
                                    abs=1e-300)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert got == pytest.approx(getattr(sk, name)(*args), rel=rtol, abs=1e-300)


# ----------------------------------------------------------------------------- kernels
def _binary_kernel_runs(module, dtype, n_threads=1, stride=1):
    y = np.repeat(np.tile(np.array([0.0, 1.0, 0.0, 1.0], dtype), 30000), stride)[::stride]
    rng = np.random.default_rng(1)
    p = np.repeat(rng.uniform(0, 1, 120000).astype(dtype), stride)[::stride]
    w = np.repeat(rng.uniform(0, 2, 120000).astype(dtype), stride)[::stride]
    out = []
    for name in ("brier_labels", "hinge_labels"):
        k = module.LossKernel(module.LOSSES[name][0], (1.0, 0.0, -1.0))
        run = k.run_float64 if dtype == np.float64 else k.run_float32
        lo = np.empty(y.shape[0], dtype)
        out.append(run(module.OPERATIONS["loss"], y, p, w, 1, lo, None, None, 1.0, n_threads))
        out.append(lo)
    return out


def _rows_runs(module, dtype, n_threads=1, order="C"):
    rng = np.random.default_rng(2)
    n, k = 40000, 5
    p = np.asarray(rng.dirichlet(np.ones(k), n).astype(dtype), order=order)
    y = rng.integers(0, k, n)
    w = rng.uniform(0, 2, n).astype(dtype)
    out = []
    for kind in ("brier", "hinge"):
        r = module.RowsKernel(module.ROW_METRICS[kind])
        run = r.run_float64 if dtype == np.float64 else r.run_float32
        checked = r.run_checked_float64 if dtype == np.float64 else r.run_checked_float32
        out.append(run(y, p, w, n_threads))
        out.append(run(y, p, None, n_threads))
        out.append(checked(y, p, w, n_threads, 1e-3))
    assert out[2] == out[0] and out[5] == out[3]    # checked runs: the same sums
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_build_gives_the_same_bits(dtype):
    from lossfuse._kernels import available
    outs = {name: tuple(_binary_kernel_runs(m, dtype)) + tuple(_rows_runs(m, dtype))
            for name, m in available.items()}
    # no exp or log here: the FMA and plain builds agree to the bit as well
    assert_builds_agree(outs, dtype, ulps=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_thread_counts_and_strides_give_the_same_bits(dtype):
    from lossfuse._kernels import kernels
    ref = _binary_kernel_runs(kernels, dtype, 1)
    ref_rows = _rows_runs(kernels, dtype, 1)
    for threads in (2, 3, 8):
        for a, b in zip(_binary_kernel_runs(kernels, dtype, threads), ref):
            np.testing.assert_array_equal(a, b)
        assert _rows_runs(kernels, dtype, threads) == ref_rows
    for a, b in zip(_binary_kernel_runs(kernels, dtype, 2, stride=3), ref):
        np.testing.assert_array_equal(a, b)
    assert _rows_runs(kernels, dtype, 2, order="F") == ref_rows


def test_kernels_check_labels_and_rows():
    from lossfuse._kernels import kernels as m
    op = m.OPERATIONS["loss"]
    p = np.array([0.2, 0.4, 0.6])
    hinge = m.LossKernel(m.LOSSES["hinge_labels"][0], (1.0, 0.0, -1.0))
    brier = m.LossKernel(m.LOSSES["brier_labels"][0], (1.0, 0.0, -1.0))
    for k in (hinge, brier):
        for y in ([0.0, 1.0, 2.0], [0.0, -1.0, 1.0], [np.nan, 1.0, 0.0]):
            with pytest.raises(m.LabelError):
                k.run_float64(op, np.array(y), p, None, 1, None, None, None, 1.0, 1)
        for other in ("gradient", "loss_gradient", "gradient_hessian"):
            with pytest.raises(ValueError, match="loss operation only"):
                k.run_float64(m.OPERATIONS[other], np.zeros(3), p, None, 1, None,
                              np.empty(3), np.empty(3), 1.0, 1)
    with pytest.raises(m.LabelError):       # the positive label alone: one class for hinge
        hinge.run_float64(op, np.ones(3), p, None, 1, None, None, None, 1.0, 1)
    assert brier.run_float64(op, np.ones(3), p, None, 1, None, None, None, 1.0, 1) > 0
    lo = np.empty(3)
    brier.run_float64(op, np.zeros(3), np.array([-0.1, 1.1, np.inf]), None, 1, lo, None, None,
                      1.0, 1)
    assert np.isnan(lo).all()
    hinge.run_float64(op, np.zeros(3), np.array([np.inf, -np.inf, 0.5]), None, 1, lo, None,
                      None, 1.0, 1)
    assert np.isnan(lo[:2]).all() and lo[2] == 1.5
    for kind in ("hinge", "brier"):
        r = m.RowsKernel(m.ROW_METRICS[kind])
        for bad in (np.nan, np.inf, -np.inf):
            for col in range(3):       # the row's own class and another
                x = np.full((3, 3), 0.25)
                x[1, col] = bad
                assert not np.isfinite(r.run_float64(np.array([0, 0, 1]), x, None, 1))
    rows = m.RowsKernel(m.ROW_METRICS["hinge"])
    # margins of at least 1 clip to +0.0 (not -0.0); a margin of 1 - 2**-52 leaves its bit
    x = np.array([[3.0, 0.0, 1.0], [0.0, 5.0, -2.0], [1.0 - 2.0**-52, 0.0, -1.0]])
    assert math.copysign(1, rows.run_float64(np.array([0, 1]), x[:2], None, 1)) == 1
    assert rows.run_float64(np.array([0]), x[2:], None, 1) == 2.0**-52
    with pytest.raises(m.TargetError) as e:
        rows.run_float64(np.array([0, 3, -1]), np.zeros((3, 3)), None, 1)
    assert e.value.index == 1
    with pytest.raises(ValueError):
        rows.run_float64(np.array([0, 1]), np.zeros((3, 3)), None, 1)
    # checked runs: the sum, or None unless every class 0 .. K-1 occurs (K <= 64) and, for
    # the Brier score, the probabilities lie in [0, 1] and each row sums to within tol of 1
    for kind in ("hinge", "brier"):
        r = m.RowsKernel(m.ROW_METRICS[kind])
        for k in (2, 3, 63, 64, 65):
            y = np.arange(2 * k) % k
            x = np.full((2 * k, k), 1.0 / k)
            want = r.run_float64(y, x, None, 1)
            assert r.run_checked_float64(y, x, None, 1, 1e-9) == (want if k <= 64 else None)
            assert r.run_checked_float64(np.where(y == k - 1, 0, y), x, None, 1, 1e-9) is None
            assert r.run_checked_float64(np.where(y == k - 1, k, y), x, None, 1, 1e-9) is None
            assert r.run_checked_float64(np.where(y == 0, -1, y), x, None, 1, 1e-9) is None
        y = np.array([0, 1, 2, 1])
        x = np.full((4, 3), 1 / 3)
        for value in (1.0 + 2.0**-52, -1e-300, np.nan, np.inf):
            bad = x.copy()
            bad[2, 1] = value
            got = r.run_checked_float64(y, bad, None, 1, 0.5)
            assert (got is None) if kind == "brier" else not math.isfinite(got) or got > 0
        off = x.copy()
        off[3] *= 1.5
        assert (r.run_checked_float64(y, off, None, 1, 0.4) is None) == (kind == "brier")
        assert r.run_checked_float64(y, off, None, 1, 0.6) is not None
        assert r.run_checked_float32(y, off.astype(np.float32), None, 1, 0.4 if kind == "hinge"
                                     else 0.6) is not None


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_inputs_are_not_modified_and_strided_inputs_agree(dtype):
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 2000).astype(dtype)
    p = rng.uniform(0, 1, 4000).astype(dtype)[::2]
    s = rng.normal(0, 1, (2000, 6)).astype(dtype)[:, ::2]
    q = rng.dirichlet(np.ones(3), 2000).astype(dtype)
    w = rng.uniform(0, 1, 2000).astype(dtype)
    y3 = rng.integers(0, 3, 2000)
    before = [a.copy() for a in (y, p, s, q, w, y3)]
    got = [metrics.brier_score_loss(y, p, sample_weight=w), metrics.hinge_loss(y, p),
           metrics.hinge_loss(y3, s, sample_weight=w),
           metrics.brier_score_loss(y3, np.asfortranarray(q))]
    want = [metrics.brier_score_loss(y, p.copy(), sample_weight=w),
            metrics.hinge_loss(y, p.copy()), metrics.hinge_loss(y3, s.copy(), sample_weight=w),
            metrics.brier_score_loss(y3, q)]
    assert got == want
    for a, b in zip((y, p, s, q, w, y3), before):
        np.testing.assert_array_equal(a, b)


def test_large_inputs_as_scikit_learn():
    """n > 65536: the threaded chunks."""
    rng = np.random.default_rng(4)
    n = 200_000
    y = rng.integers(0, 2, n)
    p = rng.uniform(0, 1, n)
    y5 = rng.integers(0, 5, n)
    q = rng.dirichlet(np.ones(5), n)
    s = rng.normal(0, 1, (n, 5))
    assert metrics.brier_score_loss(y, p) == pytest.approx(sk.brier_score_loss(y, p), rel=1e-12)
    assert metrics.hinge_loss(y, p) == pytest.approx(sk.hinge_loss(y, p), rel=1e-12)
    assert metrics.brier_score_loss(y5, q) == pytest.approx(sk.brier_score_loss(y5, q),
                                                            rel=1e-12)
    assert metrics.hinge_loss(y5, s) == pytest.approx(sk.hinge_loss(y5, s), rel=1e-12)


# --------------------------------------------------- the multiclass short path's decisions
def short_path_cases():
    """NumPy arrays of the shapes the multiclass short path takes (integer class indices, 2-d
    float64/float32 scores or probabilities): inputs it computes, and inputs of every kind it
    must leave to the full path (a class absent or out of range, probabilities outside [0, 1]
    or not finite, rows off their sum, weights that are not finite or sum to zero, K > 64)."""
    rng = np.random.default_rng(77)
    n = 40
    for k in (2, 3, 5, 8, 9, 20, 64, 65):
        y = np.arange(n) % k if k <= n else np.arange(k)
        m = y.shape[0]
        p = rng.dirichlet(np.ones(k), m)
        s = rng.normal(0, 2, (m, k))
        for dt in (np.float64, np.float32):
            cases = {"plain": (y, p, s, None)}
            if k == 5:
                w = rng.uniform(0, 3, m)
                cases.update({
                    "weights": (y, p, s, w), "zero weights": (y, p, s, np.zeros(m)),
                    "some zero weights": (y, p, s, np.r_[np.zeros(3), w[3:]]),
                    "negative weights": (y, p, s, w - 1),
                    "nan weight": (y, p, s, np.r_[np.nan, w[1:]]),
                    "inf weight": (y, p, s, np.r_[np.inf, w[1:]]),
                    "huge weights": (y, p, s, w * 1e300), "tiny weights": (y, p, s, w * 1e-310),
                    "float64 weights": (y, p, s, w),
                    "int8": (y.astype(np.int8), p, s, None),
                    "uint8": (y.astype(np.uint8), p, s, None),
                    "uint64": (y.astype(np.uint64), p, s, None),
                    "int32": (y.astype(np.int32), p, s, None),
                    "fortran": (y, np.asfortranarray(p), np.asfortranarray(s), None),
                    "strided": (y, np.repeat(p, 2, axis=1)[:, ::2] * 1,
                                np.repeat(s, 2, axis=1)[:, ::2], None),
                    "absent class": (np.where(y == 4, 0, y), p, s, None),
                    "class out of range": (np.where(y == 4, 5, y), p, s, None),
                    "negative class": (np.where(y == 4, -1, y), p, s, None),
                    "classes from one": (y + 1, p, s, None),
                    "huge uint64 class": (np.where(y == 4, 2**63 + 4, y).astype(np.uint64),
                                          p, s, None),
                })
                for name, value in (("above one", 1.0 + 1e-6), ("below zero", -1e-9),
                                    ("nan", np.nan), ("inf", np.inf), ("-inf", -np.inf)):
                    bad_p, bad_s = p.copy(), s.copy()
                    bad_p[7, 2] = value
                    bad_s[7, 2 if name != "nan" else 1] = value if name != "above one" else 9.0
                    cases[name] = (y, bad_p, bad_s, None)
                off = p.copy()
                off[11] *= 0.5
                cases["row off its sum"] = (y, off, s, None)
            for name, (yy, pp, ss, ww) in cases.items():
                pp, ss = pp.astype(dt, copy=False), ss.astype(dt, copy=False)
                if ww is not None and name != "float64 weights":
                    with np.errstate(over="ignore"):
                        ww = ww.astype(dt)
                kw = {} if ww is None else {"sample_weight": ww}
                ids = f"K{k}-{name}-{dt.__name__}"
                # whether the short path decides (None: it may or may not, by the rounding)
                taken = k <= 64 and (name in TAKEN or (name == "float64 weights"
                                                       and dt == np.float64))
                if name in ("huge weights", "tiny weights", "negative weights"):
                    taken = None
                yield pytest.param("brier_score_loss", (yy, pp), kw,
                                   taken and name not in BRIER_DECLINES, id="brier-" + ids)
                if k >= 3:
                    yield pytest.param("hinge_loss", (yy, ss), kw, taken, id="hinge-" + ids)
                if name == "plain":
                    for scale in (True, False):
                        yield pytest.param("brier_score_loss", (yy, pp),
                                           {"scale_by_half": scale}, taken,
                                           id=f"brier-{ids}-{scale}")


TAKEN = {"plain", "weights", "some zero weights", "int8", "uint8", "uint64", "int32", "fortran",
         "strided", "above one", "below zero", "row off its sum"}
BRIER_DECLINES = {"above one", "below zero", "row off its sum"}


@pytest.mark.parametrize("name,args,kw,taken", list(short_path_cases()))
def test_multiclass_short_path_gives_the_full_paths_bits(name, args, kw, taken):
    """The public function on NumPy arrays gives the full path's value to the bit, or its
    exception and warnings; and scikit-learn's.  The short path decides the valid inputs and
    leaves every other to the full path."""
    y, p = args
    w = kw.get("sample_weight")
    rows = metrics._BRIER_ROWS if name == "brier_score_loss" else metrics._HINGE_ROWS
    tol = metrics._row_sum_tolerance(p.dtype, p.shape[1])
    decided = metrics._rows_fast(rows, y, p, w, tol) is not None
    if taken is not None:
        assert decided == taken
    if name == "brier_score_loss":
        full = lambda: metrics._brier(y, p, w, None, None,  # noqa: E731
                                      kw.get("scale_by_half", "auto"))
    else:
        full = lambda: metrics._hinge(y, p, None, w)  # noqa: E731
    got, got_warnings = outcome(getattr(metrics, name), args, kw)
    want, want_warnings = outcome(lambda: full(), (), {})
    if isinstance(want, Exception):
        assert type(got) is type(want) and str(got) == str(want), (got, want)
    else:
        assert type(got) is float and (got == want or (math.isnan(got) and math.isnan(want))), \
            (got, want)
    assert got_warnings == want_warnings
    if w is None or (np.all(np.isfinite(w)) and float(np.max(np.abs(w))) < 1e300):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)     # scikit-learn's own
            assert_same(name, args, kw, tolerance(p, w))


@pytest.mark.parametrize("k", [2, 3, 5, 7, 8, 9, 20, 64])
@pytest.mark.parametrize("dt", [np.float64, np.float32])
def test_short_path_finds_rows_off_their_sum_as_scikit_learn(k, dt):
    """Rows a rounding away from scikit-learn's tolerance, with class indices (the short
    path): its row sums are not NumPy's, so rows near the tolerance go to the full path, which
    decides with NumPy's sums; the warning comes where scikit-learn gives it."""
    rng = np.random.default_rng(k + 100)
    p = rng.dirichlet(np.ones(k), 300).astype(dt)
    tol = np.sqrt(np.finfo(dt).eps)
    p[:, 0] += dt(tol) * np.linspace(0.9, 1.1, 300).astype(dt)
    y = np.arange(300) % k
    for rows in (slice(0, 150), slice(150, 300), slice(145, 155), slice(0, 140)):
        yy, pp = y[rows], p[rows]
        if len(np.unique(yy)) == k:
            assert_same("brier_score_loss", (yy, pp), {}, 2e-6)


def test_short_paths_from_many_python_threads_give_the_serial_bits():
    """Several Python threads at once, each call threaded too (the checked row runs, the
    deviances' short path): every result is the bits of the same call made alone."""
    rng = np.random.default_rng(31)
    n = 200_000
    y = np.arange(n) % 5
    q = rng.dirichlet(np.ones(5), n)
    s = rng.normal(0, 1, (n, 5))
    w = rng.uniform(0, 2, n)
    cnt = rng.poisson(2.0, n).astype(float)
    mu = rng.uniform(0.5, 4, n)
    calls = [lambda: metrics.brier_score_loss(y, q), lambda: metrics.hinge_loss(y, s),
             lambda: metrics.brier_score_loss(y, q, sample_weight=w),
             lambda: metrics.mean_poisson_deviance(cnt, mu),
             lambda: metrics.d2_tweedie_score(cnt, mu, power=1.5)]
    assert_threads_give_serial_bits(calls, n_threads=10, rounds=4)
