"""What the Loss methods take: every array type a user may hold gives what the same numbers
in a NumPy array give (pd.NA becomes NaN); what they refuse gets a TypeError or ValueError
naming the argument, with no warning on the way and the inputs left as they were."""

import array
import warnings

import numpy as np
import pytest

import lossfuse as lf

pd = pytest.importorskip("pandas")
torch = pytest.importorskip("torch")
sparse = pytest.importorskip("scipy.sparse")

Y = [0.0, 1.0, 2.0, 3.0, 0.5]
P = [0.5, 1.0, 1.0, 4.5, 0.25]
W = [1.0, 2.0, 0.5, 1.0, 3.0]
NAN_AT = 1                  # where the "with NA" variants hold pd.NA


class ArrayLike:
    """An xarray-like object: NumPy reads it through __array__ only."""

    def __init__(self, values):
        self._values = np.asarray(values)

    def __array__(self, dtype=None, copy=None):
        return self._values if dtype is None else self._values.astype(dtype)


def kinds(base):
    """(what, object, the same numbers as a NumPy array) for the 1-d `base`."""
    b = np.array(base)
    na = b.copy()
    na[NAN_AT] = np.nan
    ints = np.round(b).astype(np.int64)
    ints_na = ints.astype(float)
    ints_na[NAN_AT] = np.nan
    bools = b > 0.7
    bools_na = bools.astype(float)
    bools_na[NAN_AT] = np.nan
    with_na = [None if i == NAN_AT else v for i, v in enumerate(base)]
    return [
        ("list", list(base), b),
        ("tuple", tuple(base), b),
        ("numpy scalars", [np.float32(v) for v in base], b.astype(np.float32)),
        ("memoryview", memoryview(b.copy()), b),
        ("array.array", array.array("d", base), b),
        ("xarray-like", ArrayLike(b), b),
        ("Series", pd.Series(base), b),
        ("Series Float64", pd.Series(base, dtype="Float64"), b),
        ("Series Float64 with NA", pd.Series(with_na, dtype="Float64"), na),
        ("Series Float32 with NA", pd.Series(with_na, dtype="Float32"), na.astype(np.float32)),
        ("Series Int64", pd.Series(ints, dtype="Int64"), ints),
        ("Series Int64 with NA", pd.Series([None if i == NAN_AT else v
                                            for i, v in enumerate(ints.tolist())],
                                           dtype="Int64"), ints_na),
        ("Series boolean", pd.Series(bools, dtype="boolean"), bools),
        ("Series boolean with NA", pd.Series([None if i == NAN_AT else v
                                              for i, v in enumerate(bools.tolist())],
                                             dtype="boolean"), bools_na),
        ("Series category", pd.Series(base).astype("category"), b),
        ("Series pyarrow with NA", pd.Series(with_na, dtype="double[pyarrow]"), na),
        ("tensor float64", torch.tensor(b), b),
        ("tensor float32", torch.tensor(b, dtype=torch.float32), b.astype(np.float32)),
        ("tensor int", torch.tensor(ints), ints),
        ("read-only", _readonly(b), b),
    ]


def _readonly(a):
    a = a.copy()
    a.flags.writeable = False
    return a


def _same(got, want):
    """Equal to the bit, NaN where `want` has NaN; the same type, dtype and shape."""
    if isinstance(want, float):
        assert type(got) is float
        assert got == want or (np.isnan(got) and np.isnan(want)), (got, want)
        return
    assert type(got) is np.ndarray and got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def _calls(loss, y, p, w):
    """Every method and reduction, as (name, result)."""
    for reduction in ("mean", "sum", "none"):
        kw = dict(sample_weight=w, reduction=reduction)
        yield f"loss {reduction}", loss.loss(y, p, **kw)
        yield f"gradient {reduction}", loss.gradient(y, p, **kw)
        yield from zip((f"loss_gradient {reduction}", "and its gradient"),
                       loss.loss_gradient(y, p, **kw))
        yield from zip((f"gradient_hessian {reduction}", "and its hessian"),
                       loss.gradient_hessian(y, p, **kw))


@pytest.mark.parametrize("arg", ["y_true", "y_pred", "sample_weight"])
@pytest.mark.parametrize("what", [k[0] for k in kinds(Y)])
def test_every_array_type_gives_what_numpy_gives(arg, what):
    base = {"y_true": Y, "y_pred": P, "sample_weight": W}[arg]
    _, obj, arr = next(k for k in kinds(base) if k[0] == what)
    args = {"y_true": np.array(Y), "y_pred": np.array(P), "sample_weight": np.array(W)}
    want_args = dict(args)
    args[arg], want_args[arg] = obj, arr
    loss = lf.get_loss("huber", delta=1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = list(_calls(loss, args["y_true"], args["y_pred"], args["sample_weight"]))
    want = list(_calls(loss, want_args["y_true"], want_args["y_pred"],
                       want_args["sample_weight"]))
    for (name, g), (_, v) in zip(got, want):
        _same(g, v)
    if "NA" in what:                       # pd.NA became NaN, which propagates
        got = dict(got)
        assert np.isnan(got["loss mean"])
        assert np.isnan(got["loss none"][NAN_AT]) and not np.isnan(got["loss none"][0])


def test_data_frames_and_two_dimensional_inputs():
    y = pd.DataFrame({"a": pd.array([0.0, None, 2.0], dtype="Float64"),
                      "b": pd.array([1, 2, 3], dtype="Int64")})
    p = pd.DataFrame({"a": [0.5, 1.0, 1.5], "b": [1.0, 2.5, 3.0]})
    want_y = np.array([[0.0, 1.0], [np.nan, 2.0], [2.0, 3.0]])
    loss = lf.get_loss("squared_error")
    got = loss.loss(y, p, reduction="none")
    _same(got, loss.loss(want_y, p.to_numpy(), reduction="none"))
    assert np.isnan(got[1, 0]) and not np.isnan(got[1, 1])
    w = pd.Series([1.0, 0.0, 2.0], dtype="Float64")          # the NaN row weighs 0: still NaN
    assert np.isnan(loss.loss(y, p, sample_weight=w))


def test_zero_d_inputs_of_every_kind():
    loss = lf.get_loss("squared_error")
    for y, p in [(np.float64(1.0), np.array(3.0)), (1.0, 3), (np.array(1), torch.tensor(3.0)),
                 (np.array(1.0), np.float32(3.0))]:
        value, g = loss.loss_gradient(y, p)
        assert value == 4.0 and g.shape == () and g == 4.0


def test_cross_entropy_takes_every_array_type_for_logits_labels_and_class_weight():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5, 3))
    labels = np.array([0, 2, 1, 1, 0])
    want = lf.get_loss("cross_entropy", class_weight=[1.0, 2.0, 0.5]).loss_gradient(labels,
                                                                                   logits)
    for cw in ([1, 2, 0.5], np.array([1.0, 2.0, 0.5]), torch.tensor([1.0, 2.0, 0.5]),
               pd.Series([1.0, 2.0, 0.5], dtype="Float64"), (1, 2.0, np.float32(0.5))):
        loss = lf.get_loss("cross_entropy", class_weight=cw)
        for y, p in [(labels.tolist(), logits), (pd.Series(labels, dtype="Int64"),
                                                 pd.DataFrame(logits)),
                     (torch.tensor(labels), torch.tensor(logits)),
                     (memoryview(labels.copy()), logits.tolist())]:
            got = loss.loss_gradient(y, p)
            assert got[0] == want[0]
            np.testing.assert_array_equal(got[1], want[1])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int8, np.uint8,
                                   np.int64, np.uint64, bool])
@pytest.mark.parametrize("logits", [np.float64, np.float32])
def test_cross_entropy_labels_of_any_dtype_give_the_result_without_warnings(dtype, logits):
    rng = np.random.default_rng(1)
    p = rng.normal(size=(6, 2)).astype(logits)
    y = np.array([0, 1, 1, 0, 1, 0])
    want = lf.get_loss("cross_entropy").loss_gradient(y, p)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = lf.get_loss("cross_entropy").loss_gradient(y.astype(dtype), p)
    assert got[0] == want[0]
    np.testing.assert_array_equal(got[1], want[1])


@pytest.mark.parametrize("y,words", [
    (np.array([0, 1e300, 1]), ["y_true[1] = 1e+300", "[0, 2)"]),
    (np.array([0, -1e300, 1]), ["y_true[1]", "[0, 2)"]),
    (np.array([0, 2.0**64, 1]), ["y_true[1]", "[0, 2)"]),
    (np.array([0, 2**64 - 1, 1], np.uint64), ["y_true[1] = 18446744073709551615"]),
    (np.array([0, 2**63, 1], np.uint64), ["y_true[1]", "[0, 2)"]),
    (np.array([0, np.inf, 1], np.float16), ["y_true[1] = inf", "integers"]),
    (np.array([0, 60000, 1], np.float16), ["y_true[1] = 60000.0", "[0, 2)"]),
    (np.array([0, 0.5, 1], np.float16), ["y_true[1] = 0.5", "integers"]),
    (np.array([0, np.nan, 1], np.float32), ["y_true[1] = nan", "integers"]),
])
def test_cross_entropy_labels_out_of_range_are_named_without_warnings(y, words):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError) as info:
            lf.get_loss("cross_entropy").loss(y, np.zeros((3, 2)))
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_cross_entropy_object_labels_are_a_type_error_naming_y_true():
    for y in (np.array([0, 1, 1], dtype=object), [0, None, 1], ["a", "b", "a"]):
        with pytest.raises(TypeError, match="y_true"):
            lf.get_loss("cross_entropy").loss(y, np.zeros((3, 2)))


@pytest.mark.parametrize("arg", ["y_true", "y_pred", "sample_weight"])
@pytest.mark.parametrize("bad,exc,words", [
    (lambda a: torch.tensor(a, requires_grad=True), TypeError, ["requires grad", ".detach()"]),
    (lambda a: sparse.csr_matrix(np.asarray(a)[:, None]), TypeError, ["sparse", ".toarray()"]),
    (lambda a: sparse.csr_array(np.asarray(a)[None, :]), TypeError, ["sparse", ".toarray()"]),
    (lambda a: [[a[0]], list(a[1:3])] + [[v] for v in a[3:]], ValueError, ["array"]),
    (lambda a: np.asarray(a).astype(object), TypeError, ["real", "object"]),
    (lambda a: [str(v) for v in a], TypeError, ["real"]),
    (lambda a: pd.Series([str(v) for v in a], dtype="str"), TypeError, ["real"]),
    (lambda a: np.asarray(a) + 1j, TypeError, ["real", "complex"]),
    (lambda a: [v if i else None for i, v in enumerate(a)], TypeError, ["real"]),
])
def test_what_is_refused_is_named(arg, bad, exc, words):
    args = {"y_true": np.array(Y), "y_pred": np.array(P), "sample_weight": np.array(W)}
    copies = {k: v.copy() for k, v in args.items()}
    args[arg] = bad({"y_true": Y, "y_pred": P, "sample_weight": W}[arg])
    loss = lf.get_loss("huber")
    for method in (loss.loss, loss.gradient, loss.loss_gradient, loss.gradient_hessian):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(exc) as info:
                method(args["y_true"], args["y_pred"], sample_weight=args["sample_weight"])
        message = str(info.value)
        assert arg in message and all(w in message for w in words), message
    for k, v in copies.items():
        if k != arg:
            np.testing.assert_array_equal(args[k], v)


def test_cross_entropy_names_what_it_refuses():
    p = np.zeros((3, 2))
    cases = [(dict(y_true=torch.tensor([0.0, 1.0, 1.0], requires_grad=True)), "y_true"),
             (dict(y_pred=torch.zeros((3, 2), requires_grad=True)), "y_pred"),
             (dict(y_pred=sparse.csr_matrix(p)), "y_pred"),
             (dict(sample_weight=sparse.csr_matrix(np.ones((3, 1)))), "sample_weight"),
             (dict(y_true=[[0], [1, 1], [0]]), "y_true")]
    for kw, name in cases:
        args = dict(dict(y_true=[0, 1, 1], y_pred=p, sample_weight=None), **kw)
        with pytest.raises((TypeError, ValueError), match=name):
            lf.get_loss("cross_entropy").loss(args["y_true"], args["y_pred"],
                                              sample_weight=args["sample_weight"])
    with pytest.raises(TypeError, match="class_weight"):
        lf.get_loss("cross_entropy", class_weight=sparse.csr_matrix(np.ones((1, 2))))
    with pytest.raises(TypeError, match="class_weight"):
        lf.get_loss("cross_entropy", class_weight=torch.ones(2, requires_grad=True))


@pytest.mark.parametrize("reduction", [np.array(["mean"]), np.array("mean"), ["mean"],
                                       ("sum",), None, b"mean", "MEAN", 1, {"mean"}])
@pytest.mark.parametrize("name", ["huber", "cross_entropy"])
def test_reduction_that_is_not_one_of_the_names_is_named(name, reduction):
    y, p = ([0, 1], np.zeros((2, 2))) if name == "cross_entropy" else (Y, P)
    loss = lf.get_loss(name)
    for method in (loss.loss, loss.gradient, loss.loss_gradient, loss.gradient_hessian):
        with pytest.raises(ValueError, match="reduction must be one of 'none', 'sum', 'mean'"):
            method(y, p, reduction=reduction)


@pytest.mark.parametrize("name", ["y_true", "sample_weight"])
@pytest.mark.parametrize("reduction", ["sum", "none"])
def test_values_beyond_float32_for_float32_predictions_are_named(name, reduction):
    """float32 y_pred computes in float32, where 1e300 is infinite: no right answer there, so
    an error naming the element (and no overflow warning) instead of a silent inf."""
    y, p, w = np.array(Y), np.array(P, np.float32), np.array(W)
    (y if name == "y_true" else w)[3] = -1e300
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError) as info:
            lf.get_loss("squared_error").loss(y, p, sample_weight=w, reduction=reduction)
    assert f"{name}[3] = -1e+300" in str(info.value) and "float64" in str(info.value)


def test_values_that_round_into_float32_are_fine():
    y = np.array([3.4028235e38, -3.4028234e38, 1e-50, -1e-46])
    p = np.zeros(4, np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = lf.get_loss("absolute_error").loss(y, p, reduction="none")
    np.testing.assert_array_equal(got, np.abs(y.astype(np.float32)))


def test_the_conversion_leaves_inputs_as_they_were():
    y = pd.Series([0.0, None, 2.0], dtype="Float64")
    p = torch.tensor([0.5, 1.0, 1.5])
    w = pd.Series([1, 2, 3], dtype="Int64")
    lf.get_loss("huber").loss_gradient(y, p, sample_weight=w, reduction="none")
    assert y.isna().tolist() == [False, True, False] and y.dtype == "Float64"
    assert p.tolist() == [0.5, 1.0, 1.5] and p.dtype == torch.float32
    assert w.tolist() == [1, 2, 3] and w.dtype == "Int64"


@pytest.mark.parametrize("name", ["binary_cross_entropy", "hinge", "exponential", "poisson"])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.int8, np.uint8, np.uint64, bool])
@pytest.mark.parametrize("logits", [np.float64, np.float32])
def test_labels_of_any_dtype_for_the_label_losses_give_the_result_without_warnings(
        name, dtype, logits):
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.3, -1.2, 2.0, 0.1, 0.5], logits)
    loss = lf.get_loss(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = loss.loss_gradient(y.astype(dtype), p)
        huge = np.array([0, 1, -1e300, 0, 1])               # outside every domain
        with pytest.raises(ValueError, match=r"y_true\[2\]"):
            loss.loss(huge, p)
    want = loss.loss_gradient(y.astype(logits), p)
    assert got[0] == want[0]
    np.testing.assert_array_equal(got[1], want[1])
