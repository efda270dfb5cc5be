"""lossfuse.dask against the in-memory methods, input for input: one grid over every kind of
loss (elementwise with and without a domain for y_true, 1-d to 3-d; cross_entropy with class
indices and with probabilities, class_weight, ignore_index, label_smoothing), both operations,
every reduction, sample weights (none, positive, some zero, summing to zero, negative, NaN,
infinite) and inputs chunked differently from each other, clean and with bad or NaN values in
one chunk or in several.  Where the in-memory call returns, the Dask result has its shape and
dtype and its values (elementwise outputs bitwise, sums to rounding); where it raises, Dask
raises the same exception with the same message (indices counted in the whole array).  Then
the inputs the grid does not vary: 0-d and empty arrays, float32 and integer predictions,
NumPy and list inputs, chunking of y_pred's other axes, and refusals made before anything is
computed."""

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

import lossfuse as lf  # noqa: E402
from lossfuse import dask as lfd  # noqa: E402

N = 23
P_ROWS = (5, 1, 9, 8)          # y_pred's row chunks; y_true and the weights differ from them
Y_ROWS = (7, 16)
W_ROWS = (11, 12)
LATE = 17                       # a row in y_pred's last chunk; 2 is in its first
K = 4


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def outcome(call):
    """(True, results) or (False, (exception type, message))."""
    try:
        return True, call()
    except (TypeError, ValueError) as e:
        return False, (type(e), str(e))


def lazy_then_computed(call):
    results = call()
    results = results if isinstance(results, tuple) else (results,)
    assert all(isinstance(r, da.Array) for r in results)          # lazy until asked
    return results, dask.compute(*results)


def as_dask(x, rows):
    """`x` as a Dask array chunked by `rows` along its first axis (whole along the others)."""
    return da.from_array(x, chunks=(rows,) + tuple((s,) for s in x.shape[1:])) if x.ndim \
        else da.from_array(x)


def check_agrees(name, params, y, p, w, reduction, chunks=(Y_ROWS, P_ROWS, W_ROWS)):
    """Both operations of lossfuse.dask against the in-memory ones, as the module docstring
    states it."""
    fn = lf.get_loss(name, **params)
    y_rows, p_rows, w_rows = chunks
    Y, P, W = (x if x is None or rows is None else as_dask(x, rows)
               for x, rows in ((y, y_rows), (p, p_rows), (w, w_rows)))
    for op in ("loss", "loss_gradient"):
        ok, want = outcome(lambda: getattr(fn, op)(y, p, sample_weight=w, reduction=reduction))
        got_ok, got = outcome(lambda: lazy_then_computed(
            lambda: getattr(lfd, op)(name, Y, P, sample_weight=W, reduction=reduction,
                                     **params)))
        assert got_ok == ok, (op, want, got)
        if not ok:
            assert got == want, op
            continue
        declared, values = got
        want = want if isinstance(want, tuple) else (want,)
        for k, (d, v, m) in enumerate(zip(declared, values, want)):
            if isinstance(m, float):
                assert d.shape == () and d.dtype == np.float64
                np.testing.assert_allclose(v, m, rtol=1e-11, atol=1e-13)
                continue
            assert d.shape == v.shape == m.shape and d.dtype == v.dtype == m.dtype, (op, k)
            if k == 1 and reduction == "mean":      # the sum's gradient over the denominator
                ulp = np.finfo(m.dtype).eps
                np.testing.assert_allclose(v, m, rtol=4 * ulp, atol=0)
            else:                                   # the same kernel on the same elements
                np.testing.assert_array_equal(v, m)


# ---------------------------------------------------------------------- the grid's cases
def regression(rng, shape):
    return rng.normal(size=shape)


def counts(rng, shape):
    return rng.poisson(1.0, shape).astype(float)


def positive(rng, shape):
    return rng.exponential(size=shape) + 0.1


def unit(rng, shape):
    y = rng.uniform(size=shape)
    y.reshape(-1)[:4] = [0.0, 1.0, 1.0, 0.0]
    return y


def zero_one(rng, shape):
    return rng.integers(0, 2, shape).astype(float)


def minus_one_one(rng, shape):
    return rng.integers(0, 2, shape) * 2.0 - 1


# name, params, labels, trailing shape, label values outside the domain (first the one
# that is checked last, when the loss orders its checks)
ELEMENTWISE = [
    ("squared_error", {}, regression, (), []),
    ("huber", {"delta": 0.7}, regression, (), []),
    ("pinball", {"alpha": 0.3}, regression, (), []),
    ("log_cosh", {}, regression, (), []),
    ("tweedie", {"power": -1.0}, regression, (), []),
    ("poisson", {}, counts, (), [-1.0]),
    ("gamma", {}, positive, (), [0.0, -2.0]),
    ("tweedie", {"power": 1.5}, counts, (), [-0.5]),
    ("tweedie", {"power": 3.0}, positive, (), [0.0]),
    ("binary_cross_entropy", {}, unit, (), [1.5, -0.25]),
    ("binary_cross_entropy", {"pos_weight": 3.0}, unit, (), [2.0]),
    ("hinge", {}, zero_one, (), [-1.0, 2.0]),          # -1 mixes the sets; 2 is no label
    ("hinge", {}, minus_one_one, (), [0.0, 0.5]),
    ("squared_hinge", {}, zero_one, (), [-1.0, 3.0]),
    ("exponential", {}, minus_one_one, (), [0.0, -3.0]),
    ("squared_error", {}, regression, (3,), []),
    ("poisson", {}, counts, (3,), [-1.0]),
    ("hinge", {}, zero_one, (2,), [-1.0, 2.0]),
    ("gamma", {}, positive, (2, 2), [0.0]),
]


def elementwise_variants():
    """(id, name, params, y, p) for every elementwise case: clean, NaN in y and in y_pred, and
    each bad label in the first chunk, in the last, and both (the later one checked first)."""
    rng = np.random.default_rng(1)
    for name, params, labels, trailing, bad in ELEMENTWISE:
        shape = (N,) + trailing
        y, p = labels(rng, shape), rng.normal(size=shape)
        case = f"{name}{params or ''}-{labels.__name__}{trailing or ''}"
        yield case + "-clean", name, params, y, p
        y_nan, p_nan = y.copy(), p.copy()
        y_nan[LATE], p_nan[2] = np.nan, np.nan
        rows = (N, -1)                      # each row's elements, as a view
        yield case + "-nan", name, params, y_nan, p_nan
        for i, value in enumerate(bad):
            late = y.copy()
            late.reshape(rows)[LATE, -1] = value
            yield case + f"-bad{i}-late", name, params, late, p
            both = late.copy()
            both.reshape(rows)[2, 0] = bad[0] if i else value
            yield case + f"-bad{i}-early-and-late", name, params, both, p
        if labels in (zero_one, minus_one_one):      # each chunk one label set, the two mixed
            first_chunk = (np.arange(N) < P_ROWS[0]).reshape((N,) + (1,) * len(trailing))
            mixed = np.where(y == 1, 1.0, np.where(first_chunk, 0.0, -1.0))
            yield case + "-sets-mixed-across-chunks", name, params, mixed, p


def class_indices(rng, ignore=None):
    y = rng.integers(0, K, N)
    if ignore is not None:
        y[[1, 8, 20]] = ignore
    return y


CROSS_ENTROPY = [
    ({}, None),
    ({"class_weight": [1.0, 3.0, 0.5, 0.0]}, None),
    ({"ignore_index": -100}, -100),
    ({"label_smoothing": 0.2}, None),
    ({"ignore_index": 2, "class_weight": [0.5, 2.0, 1.0, 1.5], "label_smoothing": 0.1}, 2),
]


def cross_entropy_variants():
    rng = np.random.default_rng(2)
    p = rng.normal(size=(N, K))
    for params, ignore in CROSS_ENTROPY:
        case = f"cross_entropy{params}"
        y = class_indices(rng, ignore)
        yield case + "-clean", "cross_entropy", params, y, p
        as_float = y.astype(float)
        for bad in ([K, 1.5], [-5, np.nan], [2.0**64, 2.5], [K + 3, 2.0**70]):
            late = as_float.copy()
            late[LATE] = bad[0]
            yield case + f"-{bad[0]}-late", "cross_entropy", params, late, p
            both = late.copy()
            both[2], both[LATE] = bad[0], bad[1]      # the later one is checked first
            yield case + f"-{bad[0]}-early-{bad[1]}-late", "cross_entropy", params, both, p
        big = y.astype(np.uint64)
        big[LATE] = 2**64 - 1
        yield case + "-uint64-max", "cross_entropy", params, big, p
        if ignore is not None:
            every = np.full(N, ignore)
            yield case + "-every-row-ignored", "cross_entropy", params, every, p
        p_nan = p.copy()
        p_nan[LATE, 1] = np.nan
        yield case + "-nan-logit", "cross_entropy", params, y, p_nan
    probs = rng.dirichlet(np.ones(K), N)
    for params in ({}, {"label_smoothing": 0.3, "class_weight": [1.0, 2.0, 0.0, 1.0]}):
        case = f"cross_entropy-probabilities{params}"
        yield case + "-clean", "cross_entropy", params, probs, p
        bad = probs.copy()
        bad[LATE, 2], bad[3, 1] = 1.5, -0.1
        yield case + "-outside-unit-interval", "cross_entropy", params, bad, p


VARIANTS = list(elementwise_variants()) + list(cross_entropy_variants())


def weights(kind):
    rng = np.random.default_rng(3)
    if kind == "cancelling":                # zero sum, exactly: +1 and -1 across the chunks
        return np.where(np.arange(N) < N // 2, 1.0, np.where(np.arange(N) < N - 1, -1.0, 0.0))
    return {"none": None, "positive": rng.uniform(0.1, 2.0, N), "zeros": np.zeros(N),
            "some-zero": np.where(np.arange(N) % 3 == 0, 0.0, 1.5),
            "negative": rng.uniform(-1.0, 2.0, N),
            "nan": np.where(np.arange(N) == LATE, np.nan, 1.0),
            "inf": np.where(np.arange(N) == 2, np.inf, 1.0)}[kind]


WEIGHTS = ["none", "positive", "some-zero", "zeros", "cancelling", "negative", "nan", "inf"]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight_kind", WEIGHTS)
@pytest.mark.parametrize("variant", VARIANTS, ids=[v[0] for v in VARIANTS])
def test_agrees_with_the_in_memory_call(variant, weight_kind, reduction):
    _, name, params, y, p = variant
    check_agrees(name, params, y, p, weights(weight_kind), reduction)


# ------------------------------------------------------------ what the grid does not vary
LAYOUTS = {
    "one-chunk": ((N,), (N,), (N,)),
    "numpy-y-and-weights": (None, P_ROWS, None),
    "numpy-y-pred": (Y_ROWS, None, W_ROWS),
    "one-row-chunks": ((1,) * N, (1,) * N, (1,) * N),
    "empty-chunks": ((0, 7, 0, 16), (5, 0, 18, 0), (11, 0, 12)),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", ["poisson-bad", "hinge-mixed", "cross_entropy-bad",
                                  "cross_entropy-ignored", "huber-clean"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_chunking_does_not_matter(layout, case, reduction):
    variant = {"poisson-bad": "poisson-counts-bad0-early-and-late",
               "hinge-mixed": "hinge-zero_one-sets-mixed-across-chunks",
               "cross_entropy-bad": "cross_entropy{}-4-early-1.5-late",
               "cross_entropy-ignored": "cross_entropy{'ignore_index': -100}-every-row-ignored",
               "huber-clean": "huber{'delta': 0.7}-regression-clean"}[case]
    _, name, params, y, p = next(v for v in VARIANTS if v[0] == variant)
    check_agrees(name, params, y, p, weights("positive"), reduction, LAYOUTS[layout])


def test_y_pred_chunked_along_its_classes():
    rng = np.random.default_rng(4)
    y, p, w = rng.integers(0, 6, 40), rng.normal(size=(40, 6)), rng.uniform(size=40)
    P = da.from_array(p, chunks=(13, 2))
    value, grad = lfd.loss_gradient("cross_entropy", y, P, sample_weight=w, reduction="sum")
    assert grad.chunks == ((13, 13, 13, 1), (6,))
    want_v, want_g = lf.get_loss("cross_entropy").loss_gradient(y, p, sample_weight=w,
                                                                 reduction="sum")
    np.testing.assert_allclose(value.compute(), want_v, rtol=1e-13)
    np.testing.assert_array_equal(grad.compute(), want_g)
    losses = lfd.loss("squared_error", p, P[::-1], reduction="none")     # elementwise 2-d
    np.testing.assert_array_equal(losses.compute(), (p - p[::-1]) ** 2)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", ["0-d", "0-d-weight-0-d", "0-d-weight-(1,)", "empty",
                                  "empty-rows", "no-columns", "float32", "float16",
                                  "int-y_pred", "bool-y_true", "lists",
                                  "cross_entropy-empty", "cross_entropy-float32"])
def test_shapes_and_dtypes(case, reduction):
    rng = np.random.default_rng(5)
    name, w, y, p = "poisson", None, counts(rng, (N,)), rng.normal(size=N)
    chunks = (Y_ROWS, P_ROWS, W_ROWS)
    if case.startswith("0-d"):
        y, p, chunks = np.array(3.0), np.array(0.5), ((), (), (1,))
        w = {"0-d": None, "0-d-weight-0-d": np.array(2.0),
             "0-d-weight-(1,)": np.array([2.0])}[case]
    elif case == "empty":
        y, p, chunks = y[:0], p[:0], ((0,), (0,), (0,))
    elif case == "empty-rows":
        y, p, chunks = np.zeros((0, 3)), np.zeros((0, 3)), ((0,), (0,), (0,))
    elif case == "no-columns":
        y, p, w = np.zeros((N, 0)), np.zeros((N, 0)), np.ones(N)
    elif case == "float32":
        p = p.astype(np.float32)
        w = rng.uniform(size=N).astype(np.float32)
    elif case == "float16":
        p = p.astype(np.float16)
    elif case == "int-y_pred":
        p = rng.integers(-2, 3, N)
    elif case == "bool-y_true":
        name, y = "binary_cross_entropy", rng.integers(0, 2, N).astype(bool)
    elif case == "lists":
        fn = lf.get_loss(name)
        got = lfd.loss(name, list(y), list(p), sample_weight=list(np.ones(N)),
                       reduction=reduction).compute()
        want = fn.loss(list(y), list(p), sample_weight=list(np.ones(N)), reduction=reduction)
        np.testing.assert_allclose(got, want, rtol=1e-12)
        return
    elif case.startswith("cross_entropy"):
        name, y, p = "cross_entropy", rng.integers(0, K, N), rng.normal(size=(N, K))
        if case == "cross_entropy-empty":
            y, p, chunks = y[:0], p[:0], ((0,), (0,), (0,))
        else:
            p = p.astype(np.float32)
    check_agrees(name, {}, y, p, w, reduction, chunks)


# ------------------------------------------------- refused before anything is computed
REFUSED = [
    ("squared_error", {}, np.zeros(10), np.zeros(11), None, "mean"),
    ("squared_error", {}, np.zeros((10, 2)), np.zeros((10, 3)), None, "sum"),
    ("squared_error", {}, np.zeros(10), np.zeros(10), np.ones(9), "mean"),
    ("squared_error", {}, np.zeros(10), np.zeros(10), np.ones((10, 1)), "none"),
    ("squared_error", {}, np.zeros(10), np.zeros(10), None, "avg"),
    ("squared_error", {}, np.zeros(10), np.zeros(10), None, ["mean"]),
    ("squared_error", {}, np.zeros(10), np.zeros(10, complex), None, "mean"),
    ("squared_error", {}, np.zeros(10, complex), np.zeros(10), None, "mean"),
    ("squared_error", {}, np.zeros(10), np.zeros(10), np.array(["a"] * 10), "mean"),
    ("squared_error", {}, np.zeros(10), np.zeros(10, np.longdouble), None, "mean"),
    ("squared_error", {}, np.zeros(0), np.zeros(0), None, "mean"),
    ("squared_error", {}, np.zeros((4, 0)), np.zeros((4, 0)), np.ones(4), "mean"),
    ("poisson", {}, np.zeros(()), np.zeros(()), np.ones(2), "mean"),
    ("cross_entropy", {}, np.zeros(10), np.zeros(10), None, "mean"),
    ("cross_entropy", {}, np.zeros(10), np.zeros((10, 0)), None, "mean"),
    ("cross_entropy", {}, np.zeros(10), np.zeros((10, 3, 1)), None, "mean"),
    ("cross_entropy", {"class_weight": [1.0, 2.0]}, np.zeros(10), np.zeros((10, 3)), None,
     "mean"),
    ("cross_entropy", {}, np.zeros(9), np.zeros((10, 3)), None, "mean"),
    ("cross_entropy", {}, np.zeros((10, 2)), np.zeros((10, 3)), None, "mean"),
    ("cross_entropy", {}, np.zeros(10, complex), np.zeros((10, 3)), None, "mean"),
    ("cross_entropy", {}, np.zeros(10), np.zeros((10, 3)), np.ones(3), "mean"),
    ("cross_entropy", {}, np.zeros(0), np.zeros((0, 3)), None, "mean"),
]


def threes(x):
    """Chunks of 3 rows along the first axis of `x`."""
    n = x.shape[0] if x.ndim else 0
    return tuple(min(3, n - i) for i in range(0, n, 3)) or (0,)


@pytest.mark.parametrize("name,params,y,p,w,reduction", REFUSED,
                         ids=[f"{r[0]}-{i}" for i, r in enumerate(REFUSED)])
def test_refused_when_called_as_in_memory(name, params, y, p, w, reduction):
    ok, want = outcome(lambda: lf.get_loss(name, **params).loss(y, p, sample_weight=w,
                                                                reduction=reduction))
    assert not ok
    Y, P, W = (None if x is None else as_dask(x, threes(x)) for x in (y, p, w))
    for op in (lfd.loss, lfd.loss_gradient):
        got_ok, got = outcome(lambda: op(name, Y, P, sample_weight=W, reduction=reduction,
                                         **params))   # raised at once: nothing is computed
        assert (got_ok, got) == (False, want)


def test_arguments_named_when_unreadable_or_of_unknown_size():
    with pytest.raises(ValueError, match="y_true cannot be read as an array"):
        lfd.loss("squared_error", [[1.0], [1.0, 2.0]], np.zeros(2))
    x = da.from_array(np.arange(10.0), chunks=5)
    unknown = x[x > 3]
    with pytest.raises(ValueError, match="y_pred has chunks of unknown size"):
        lfd.loss("squared_error", unknown, unknown)
    known = unknown.compute_chunk_sizes()
    assert float(lfd.loss("squared_error", known, known + 1).compute()) == 1.0


def test_inputs_are_not_modified():
    rng = np.random.default_rng(6)
    y, p, w = rng.normal(size=N), rng.normal(size=N), rng.uniform(size=N)
    copies = [a.copy() for a in (y, p, w)]
    value, grad = lfd.loss_gradient("huber", y, p, sample_weight=w)
    dask.compute(value, grad)
    for a, b in zip((y, p, w), copies):
        np.testing.assert_array_equal(a, b)


def test_a_bad_label_fails_every_result_of_the_call():
    """A chunk of a "none" loss or of a gradient is not returned for inputs the in-memory call
    refuses, even when that chunk's own labels are fine."""
    y, p = counts(np.random.default_rng(7), (N,)), np.zeros(N)
    y[LATE] = -1.0
    value, grad = lfd.loss_gradient("poisson", da.from_array(y, chunks=5), p, reduction="none")
    for first_chunk in (value[:5], grad[:5]):
        with pytest.raises(ValueError, match=rf"y_true\[{LATE}\] = -1.0"):
            first_chunk.compute()
