"""init_score, the constant raw score to boost from.  Where LightGBM has the loss, it is the
score LightGBM itself starts from: compared with a LightGBM model that cannot split (one
constant feature, a learning rate of 1e-300), whose raw prediction is that score, over label
sets, sample sizes and weights, and the edges where the plain formula is infinite (one class
only, a class that never occurs).  Elsewhere it is the exact minimiser of the weighted loss
over a constant: compared with a numerical minimisation of the loss itself (and with
scikit-learn for the exponential loss).  Labels are checked as the loss checks them (same
exceptions, same messages); what has no best constant (no labels, no weight, a log of 0) is a
ValueError; NaN propagates.  XGBoost's multiclass intercept is compared with XGBoost's."""

import numpy as np
import pytest

import lossfuse as lf

lgb = pytest.importorskip("lightgbm")
xgb = pytest.importorskip("xgboost")
optimize = pytest.importorskip("scipy.optimize")

from lossfuse import lightgbm as lfl  # noqa: E402
from lossfuse import xgboost as lfx  # noqa: E402


def lightgbm_start(objective, y, w=None, **params):
    """The raw score a LightGBM model of `objective` starts from: with one constant feature it
    cannot split, and a learning rate of 1e-300 keeps its one tree's output out of sight."""
    X = np.zeros((len(y), 1))
    model = lgb.train(dict(objective=objective, verbose=-1, learning_rate=1e-300, num_leaves=2,
                           min_data_in_leaf=1, **params), lgb.Dataset(X, y, weight=w), 1)
    return model.predict(X[:1], raw_score=True)[0]


def float32(a):
    """Values LightGBM stores exactly (it keeps labels and weights as float32)."""
    return np.asarray(a, np.float32).astype(np.float64)


rng = np.random.default_rng(0)
SIZES = [1, 2, 3, 10, 101]
WEIGHTS = {
    "none": lambda n: None,
    "uniform": lambda n: float32(rng.uniform(0.2, 3.0, n)),
    "integers": lambda n: np.arange(n) % 4 + 1.0,
    "all-two": lambda n: np.full(n, 2.0),
    "all-one": lambda n: np.ones(n),
    "some-zero": lambda n: np.where(np.arange(n) % 3 == 1, 0.0, 1.5),
}
# lossfuse loss and parameters, LightGBM objective and parameters, labels
LIGHTGBM = [
    ("squared_error", {}, "regression", {}, lambda n: float32(rng.normal(size=n))),
    ("huber", {"delta": 0.5}, "huber", {"alpha": 0.5}, lambda n: float32(rng.normal(size=n))),
    ("absolute_error", {}, "regression_l1", {}, lambda n: float32(rng.normal(size=n))),
    ("absolute_error", {}, "regression_l1", {}, lambda n: np.round(rng.normal(size=n))),
    ("pinball", {"alpha": 0.1}, "quantile", {"alpha": 0.1}, lambda n: float32(rng.normal(size=n))),
    ("pinball", {"alpha": 0.3}, "quantile", {"alpha": 0.3}, lambda n: float32(rng.normal(size=n))),
    ("pinball", {"alpha": 0.9}, "quantile", {"alpha": 0.9}, lambda n: np.round(rng.normal(size=n))),
    ("poisson", {}, "poisson", {}, lambda n: rng.poisson(2.0, n) + (np.arange(n) == 0) * 1.0),
    ("gamma", {}, "gamma", {}, lambda n: float32(rng.exponential(size=n) + 0.01)),
    ("tweedie", {"power": 1.5}, "tweedie", {"tweedie_variance_power": 1.5},
     lambda n: rng.poisson(1.0, n) + (np.arange(n) == 0) * 1.0),
    ("tweedie", {"power": 1.0}, "tweedie", {"tweedie_variance_power": 1.0},
     lambda n: rng.poisson(1.0, n) + (np.arange(n) == 0) * 1.0),
    ("binary_cross_entropy", {}, "binary", {}, lambda n: rng.integers(0, 2, n) * 1.0),
    ("binary_cross_entropy", {}, "binary", {}, lambda n: np.ones(n)),
    ("binary_cross_entropy", {}, "binary", {}, lambda n: np.zeros(n)),
    ("binary_cross_entropy", {}, "cross_entropy", {}, lambda n: float32(rng.uniform(size=n))),
]


@pytest.mark.parametrize("weights", WEIGHTS)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("case", LIGHTGBM, ids=[f"{c[0]}{c[1] or ''}-{c[2]}-{i}"
                                                for i, c in enumerate(LIGHTGBM)])
def test_lightgbm_starts_from_it(case, n, weights):
    name, params, objective, lgb_params, labels = case
    y, w = labels(n), WEIGHTS[weights](n)
    if w is not None and w.sum() == 0:
        w[0] = 1.0
    got = lfl.init_score(name, y, w, **params)
    assert isinstance(got, float)
    # LightGBM rounds its percentiles to float32
    np.testing.assert_allclose(got, lightgbm_start(objective, y, w, **lgb_params), rtol=1e-7,
                               atol=1e-7)


@pytest.mark.parametrize("weights", ["none", "uniform", "some-zero"])
@pytest.mark.parametrize("labels", ["all-present", "one-class-absent", "top-class-absent",
                                    "one-class-only", "one-sample"])
def test_lightgbm_multiclass_starts_from_it(labels, weights):
    n = 60
    y = {"all-present": rng.integers(0, 4, n), "one-class-absent": rng.choice([0, 1, 3], n),
         "top-class-absent": rng.integers(0, 3, n), "one-class-only": np.full(n, 2),
         "one-sample": np.array([1])}[labels].astype(float)
    w = WEIGHTS[weights](len(y))
    got = lfl.init_score("cross_entropy", y, w, num_class=4)
    want = lightgbm_start("multiclass", y, w, num_class=4)
    assert got.shape == want.shape == (4,)
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-7)
    assert np.all(np.isfinite(got))


# ------------------------------------------------------------ exact minimisers elsewhere
def total_loss(name, params, y, w, c):
    return lf.get_loss(name, **params).loss(y, np.full(len(y), c), sample_weight=w,
                                            reduction="sum")


def both_classes(n, negative=0.0):
    """Labels 1 and `negative`, both present, about one in five positive."""
    y = np.r_[1.0, 0.0, (rng.uniform(size=n - 2) < 0.2) * 1.0]
    return rng.permutation(np.where(y == 1, 1.0, negative))


MINIMISED = [
    ("smooth_l1", {"beta": 0.5}, lambda n: rng.standard_t(2, n)),
    ("smooth_l1", {"beta": 3.0}, lambda n: rng.normal(size=n)),
    ("pseudo_huber", {"delta": 0.3}, lambda n: rng.standard_t(2, n)),
    ("pseudo_huber", {"delta": 5.0}, lambda n: rng.normal(size=n) * 10),
    ("log_cosh", {}, lambda n: rng.standard_t(3, n)),
    ("log_cosh", {}, lambda n: rng.normal(size=n) * 1e3),
    ("hinge", {}, both_classes),
    ("hinge", {}, lambda n: both_classes(n, -1.0)),
    ("hinge", {}, lambda n: np.arange(n) % 2 * 1.0),               # a tie: 0 is best too
    ("squared_hinge", {}, both_classes),
    ("exponential", {}, lambda n: both_classes(n, -1.0)),
    ("binary_cross_entropy", {"pos_weight": 3.0}, both_classes),
    ("binary_cross_entropy", {"pos_weight": 0.2}, lambda n: rng.uniform(size=n)),
]


@pytest.mark.parametrize("weights", ["none", "uniform", "some-zero"])
@pytest.mark.parametrize("n", [2, 7, 200])
@pytest.mark.parametrize("case", MINIMISED, ids=[f"{c[0]}{c[1] or ''}-{i}"
                                                 for i, c in enumerate(MINIMISED)])
def test_the_exact_minimiser_otherwise(case, n, weights):
    name, params, labels = case
    y, w = labels(n), WEIGHTS[weights](n)
    got = lfl.init_score(name, y, w, **params)
    lo, hi = float(y.min()) - 2.0, float(y.max()) + 2.0
    best = optimize.minimize_scalar(lambda c: total_loss(name, params, y, w, c),
                                    bounds=(lo, hi), method="bounded",
                                    options={"xatol": 1e-12 * max(1.0, hi - lo)}).x
    f_got, f_best = (total_loss(name, params, y, w, c) for c in (got, best))
    assert f_got <= f_best * (1 + 1e-12) + 1e-300
    assert lfx.init_score(name, y, w, **params) == got          # shared by both adapters
    if name in ("pseudo_huber", "log_cosh", "smooth_l1"):      # differentiable and convex:
        loss = lf.get_loss(name, **params)                      # the gradient changes sign
        ulp = np.spacing(abs(got))
        g = [loss.gradient(y, np.full(n, c), sample_weight=w, reduction="none")
             for c in (got - 8 * ulp, got + 8 * ulp)]
        noise = 1e-13 * np.abs(g[0]).sum()
        assert g[0].sum() <= noise and g[1].sum() >= -noise


def test_the_minimiser_of_a_strictly_convex_loss_to_the_last_bits():
    y = np.array([-3.0, 0.5, 1.0, 2.0, 40.0])
    c = lfl.init_score("log_cosh", y)
    gradient = lf.get_loss("log_cosh").gradient(y, np.full(5, c), reduction="sum")
    step = np.spacing(abs(c))
    below, above = (lf.get_loss("log_cosh").gradient(y, np.full(5, c + d), reduction="sum")
                    for d in (-4 * step, 4 * step))
    assert below.sum() <= 0 <= above.sum() and abs(gradient.sum()) < 1e-13


@pytest.mark.parametrize("weights", ["none", "uniform"])
@pytest.mark.parametrize("labels", ["both", "positives-only", "negatives-only"])
def test_exponential_starts_where_scikit_learn_does(labels, weights):
    loss_module = pytest.importorskip("sklearn._loss.loss")
    n = 30
    y = {"both": rng.integers(0, 2, n), "positives-only": np.ones(n, int),
         "negatives-only": np.zeros(n, int)}[labels] * 1.0
    w = WEIGHTS[weights](n)
    want = loss_module.ExponentialLoss().fit_intercept_only(y, sample_weight=w)
    for labels_used in (y, 2 * y - 1):                   # {0, 1} and {-1, 1}
        got = lfl.init_score("exponential", labels_used, w)
        assert np.isfinite(got)
        np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("labels", ["positives-only", "negatives-only"])
@pytest.mark.parametrize("name,want", [("hinge", 1.0), ("squared_hinge", 1.0)])
def test_one_class_hinge_is_at_the_margin(name, want, labels):
    y = np.ones(5) if labels == "positives-only" else -np.ones(5)
    sign = 1.0 if labels == "positives-only" else -1.0
    assert lfl.init_score(name, y) == sign * want
    assert total_loss(name, {}, y, None, sign * want) == 0.0


CLASS_PARAMS = [
    {"class_weight": [1.0, 3.0, 0.5, 2.0]},
    {"label_smoothing": 0.3},
    {"ignore_index": -100},
    {"ignore_index": 1, "class_weight": [0.5, 1.0, 2.0, 1.0], "label_smoothing": 0.1},
    {"class_weight": [1.0, 0.0, 2.0, 1.0]},
]


CLASS_CASES = [(params, targets) for params in CLASS_PARAMS
               for targets in ("indices", "probabilities")
               if targets == "indices" or "ignore_index" not in params]   # indices only


@pytest.mark.parametrize("weights", ["none", "uniform"])
@pytest.mark.parametrize("params,targets", CLASS_CASES,
                         ids=[f"{p}-{t}" for p, t in CLASS_CASES])
def test_cross_entropy_with_parameters_is_the_minimiser(params, targets, weights):
    n, K = 80, 4
    y = rng.integers(0, K, n)
    if targets == "probabilities":
        y = rng.dirichlet(np.ones(K), n)
    elif "ignore_index" in params:
        y[:7] = params["ignore_index"]
    w = WEIGHTS[weights](n)
    loss = lf.get_loss("cross_entropy", **params)

    def f(c):
        return loss.loss(y, np.tile(c, (n, 1)), sample_weight=w, reduction="sum")

    got = lfl.init_score("cross_entropy", y, w, num_class=K, **params)
    best = optimize.minimize(f, np.zeros(K), method="BFGS", options={"gtol": 1e-10}).x
    assert f(got) <= f(best) + 1e-9 * abs(f(best))
    finite = np.asarray(params.get("class_weight", [1.0] * K)) > 0
    shift = got[finite] - best[finite]        # logits are defined up to a constant
    np.testing.assert_allclose(shift, shift.mean(), atol=1e-4)


def test_cross_entropy_without_parameters_is_lightgbm_also_for_probabilities():
    y = rng.integers(0, 3, 40)
    probabilities = np.eye(3)[y]
    np.testing.assert_allclose(lfl.init_score("cross_entropy", probabilities),
                               lfl.init_score("cross_entropy", y), rtol=1e-14)


def test_the_number_of_classes():
    y = np.array([0.0, 0.0, 2.0])
    assert lfl.init_score("cross_entropy", y).shape == (3,)
    assert lfl.init_score("cross_entropy", y, num_class=5).shape == (5,)
    assert lfl.init_score("cross_entropy", y, class_weight=[1.0] * 4).shape == (4,)
    assert lfl.init_score("cross_entropy", np.array([0, 255, 1]), ignore_index=255).shape == (2,)
    assert lfl.init_score("cross_entropy", rng.dirichlet(np.ones(6), 5)).shape == (6,)


ALL_EQUAL = [
    ("squared_error", {}, 2.5, 2.5), ("mse", {}, -1.0, -1.0), ("huber", {}, 2.5, 2.5),
    ("absolute_error", {}, 2.5, 2.5), ("quantile", {"alpha": 0.05}, 2.5, 2.5),
    ("smooth_l1", {"beta": 0.0}, 2.5, 2.5), ("smooth_l1", {}, 2.5, 2.5),
    ("pseudo_huber", {}, -7.0, -7.0), ("log_cosh", {}, 1e6, 1e6),
    ("poisson", {}, 3.0, np.log(3.0)), ("gamma", {}, 0.5, np.log(0.5)),
    ("tweedie", {"power": 2.5}, 4.0, np.log(4.0)), ("tweedie", {"power": -0.5}, 4.0, np.log(4.0)),
    ("bce", {}, 0.3, np.log(0.3 / 0.7)), ("bce", {"pos_weight": 4.0}, 0.2, 0.0),
    ("hinge", {}, 0.0, -1.0), ("squared_hinge", {}, -1.0, -1.0),
]


@pytest.mark.parametrize("weights", ["none", "uniform"])
@pytest.mark.parametrize("name,params,label,want", ALL_EQUAL,
                         ids=[f"{a[0]}{a[1] or ''}" for a in ALL_EQUAL])
def test_all_equal_labels(name, params, label, want, weights):
    y = np.full(9, label)
    got = lfl.init_score(name, y, WEIGHTS[weights](9), **params)
    assert got == pytest.approx(want, rel=1e-12, abs=1e-12)


# ------------------------------------------------------------- labels, as the loss checks them
# loss, parameters, labels, the prediction shape to give the loss itself
BAD_LABELS = [
    ("poisson", {}, [1.0, 2.0, -1.0, 3.0], (4,)),
    ("gamma", {}, [1.0, 0.0, 2.0], (3,)),
    ("tweedie", {"power": 1.5}, [1.0, -0.5], (2,)),
    ("tweedie", {"power": 3.0}, [1.0, 0.0], (2,)),
    ("binary_cross_entropy", {}, [0.0, 1.5, 1.0], (3,)),
    ("binary_cross_entropy", {"pos_weight": 2.0}, [0.0, -0.1], (2,)),
    ("hinge", {}, [0.0, 1.0, 2.0], (3,)),
    ("hinge", {}, [0.0, 1.0, -1.0], (3,)),
    ("squared_hinge", {}, [1.0, 0.5], (2,)),
    ("exponential", {}, [-1.0, 1.0, 0.0], (3,)),
    ("squared_error", {}, ["a", "b"], (2,)),
    ("squared_error", {}, [1 + 1j, 2.0], (2,)),
    ("squared_error", {}, [[1.0], [2.0, 3.0]], (2,)),
    ("cross_entropy", {}, [0.0, 1.5, 1.0], (3, 2)),
    ("cross_entropy", {}, [0.0, np.nan, 1.0], (3, 2)),
    ("cross_entropy", {}, [0, -1, 1], (3, 2)),
    ("cross_entropy", {"ignore_index": -100}, [0, -100, -2], (3, 2)),
    ("cross_entropy", {}, [0.0, 2.0**64], (2, 2)),
    ("cross_entropy", {}, [[0.5, 0.5], [1.5, -0.5]], (2, 2)),
    ("cross_entropy", {}, [[[0.0]]], (1, 2)),
    ("cross_entropy", {}, ["a"], (1, 2)),
]


@pytest.mark.parametrize("name,params,y,shape", BAD_LABELS,
                         ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD_LABELS)])
def test_labels_are_checked_as_the_loss_checks_them(name, params, y, shape):
    with pytest.raises((ValueError, TypeError)) as want:
        lf.get_loss(name, **params).loss(y, np.zeros(shape))
    classes = {"num_class": shape[1]} if name == "cross_entropy" else {}
    with pytest.raises(want.type) as got:
        lfl.init_score(name, y, **params, **classes)
    assert str(got.value) == str(want.value)
    with pytest.raises(want.type, match="y_true"):              # K from the labels
        lfx.init_score(name, y, **params)


def test_cross_entropy_labels_at_or_above_num_class():
    with pytest.raises(ValueError, match=r"must be in \[0, 3\); y_true\[2\] = 3"):
        lfl.init_score("cross_entropy", [0, 2, 3], num_class=3)


def test_sample_weight_is_checked_as_the_loss_checks_it():
    for w, error in [([1.0, 2.0], ValueError), (np.ones((3, 1)), ValueError),
                     (["a", "b", "c"], TypeError)]:
        with pytest.raises(error) as want:
            lf.get_loss("squared_error").loss([1.0, 2.0, 3.0], np.zeros(3), sample_weight=w)
        with pytest.raises(error) as got:
            lfl.init_score("squared_error", [1.0, 2.0, 3.0], w)
        assert str(got.value) == str(want.value) and "sample_weight" in str(got.value)


# ------------------------------------------------------------- where no constant is best
NO_BEST = [
    ("squared_error", {}, [], None, "y is empty"),
    ("cross_entropy", {}, [], None, "y is empty"),
    ("absolute_error", {}, [1.0, 2.0], [1.0, -0.5], r"sample_weight\[1\] = -0.5"),
    ("cross_entropy", {}, [0, 1], [-1.0, 2.0], r"sample_weight\[0\] = -1.0"),
    ("squared_error", {}, [1.0, 2.0], [0.0, 0.0], "sample_weight sums to zero"),
    ("binary_cross_entropy", {}, [1.0, 0.0], [0.0, 0.0], "sample_weight sums to zero"),
    ("poisson", {}, [0.0, 0.0, 0.0], None, "weighted mean of y is 0.0"),
    ("poisson", {}, [0.0, 3.0], [1.0, 0.0], "weighted mean of y is 0.0"),
    ("tweedie", {"power": 1.5}, [0.0, 0.0], None, "weighted mean of y is 0.0"),
    ("tweedie", {"power": -1.0}, [-1.0, 0.5], None, "weighted mean of y is -0.25"),
    ("tweedie", {"power": 0.0}, [-1.0, 1.0], None, "weighted mean of y is 0.0"),
    ("cross_entropy", {"ignore_index": -1}, [-1, -1], None, "no label carries weight"),
    ("cross_entropy", {"class_weight": [0.0, 1.0]}, [0, 0], None, "no label carries weight"),
    ("cross_entropy", {}, [0, 1], [0.0, 0.0], "sample_weight sums to zero"),
    ("squared_error", {}, [[1.0], [2.0]], None, r"one label per sample \(1-d\)"),
    ("squared_error", {}, 3.0, None, r"one label per sample \(1-d\)"),
]


@pytest.mark.parametrize("name,params,y,w,match", NO_BEST,
                         ids=[f"{b[0]}-{i}" for i, b in enumerate(NO_BEST)])
def test_no_best_constant_is_a_value_error(name, params, y, w, match):
    for module in (lfl, lfx):
        with pytest.raises(ValueError, match=match):
            module.init_score(name, y, w, **params)


@pytest.mark.parametrize("num_class,error,match", [
    (True, TypeError, "num_class must be an int, got bool"),
    (2.0, TypeError, "num_class must be an int, got float"),
    (0, ValueError, r"num_class must be in \[1, 2\*\*31 - 1\], got 0"),
    (3, ValueError, "num_class is 3 but class_weight has 2 elements"),
])
def test_num_class_is_checked(num_class, error, match):
    with pytest.raises(error, match=match):
        lfl.init_score("cross_entropy", [0, 1], num_class=num_class, class_weight=[1.0, 1.0])


def test_num_class_is_for_cross_entropy_only():
    with pytest.raises(TypeError, match="num_class applies to cross_entropy only"):
        lfl.init_score("squared_error", [0.0, 1.0], num_class=2)


# --------------------------------------------------------------------------------- NaN
@pytest.mark.parametrize("name", ["squared_error", "absolute_error", "pinball", "poisson",
                                  "binary_cross_entropy", "log_cosh", "hinge", "exponential"])
@pytest.mark.parametrize("where", ["y", "sample_weight"])
def test_nan_propagates(name, where):
    y = np.array([1.0, 0.0, 1.0, 1.0])
    w = np.ones(4)
    (y if where == "y" else w)[2] = np.nan
    assert np.isnan(lfl.init_score(name, y, w))


def test_nan_weights_propagate_for_cross_entropy():
    got = lfl.init_score("cross_entropy", [0, 1, 1], [1.0, np.nan, 1.0])
    assert got.shape == (2,) and np.all(np.isnan(got))


def test_inputs_are_not_modified():
    y, w = rng.integers(0, 3, 20) * 1.0, rng.uniform(size=20)
    copies = y.copy(), w.copy()
    for name in ("absolute_error", "pinball", "log_cosh", "cross_entropy"):
        lfl.init_score(name, y, w)
    np.testing.assert_array_equal(y, copies[0])
    np.testing.assert_array_equal(w, copies[1])


# ------------------------------------------------------------------------------ XGBoost
def xgboost_intercept(objective, y, w=None, **params):
    model = xgb.train(dict(objective=objective, **params),
                      xgb.DMatrix(np.zeros((len(y), 1)), y, weight=w), 1)
    import json
    config = json.loads(model.save_config())["learner"]["learner_model_param"]
    return np.array(json.loads(config["base_score"]), dtype=np.float64)


@pytest.mark.parametrize("weights", ["none", "uniform"])
@pytest.mark.parametrize("labels", ["all-present", "one-class-absent", "one-class-only"])
def test_xgboost_multiclass_intercept(labels, weights):
    n = 50
    y = {"all-present": rng.integers(0, 4, n), "one-class-absent": rng.choice([0, 1, 3], n),
         "one-class-only": np.full(n, 2)}[labels].astype(float)
    w = WEIGHTS[weights](n)
    got = lfx.init_score("cross_entropy", y, w, num_class=4)
    want = xgboost_intercept("multi:softprob", y, w, num_class=4)
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=2e-6)     # XGBoost's is float32


def test_xgboost_regression_and_binary_intercepts():
    y, w = rng.normal(size=40), rng.uniform(0.5, 2, 40)
    np.testing.assert_allclose(lfx.init_score("squared_error", y, w),
                               xgboost_intercept("reg:squarederror", y, w), rtol=1e-6)
    labels = rng.integers(0, 2, 40) * 1.0
    p = 1 / (1 + np.exp(-lfx.init_score("binary_cross_entropy", labels, w)))
    np.testing.assert_allclose(p, xgboost_intercept("binary:logistic", labels, w), rtol=1e-6)


# ------------------------------------------------------------------- the objectives' labels
def test_objectives_check_labels_as_the_loss_does():
    raw = np.zeros((3, 3))
    with pytest.raises(ValueError) as want:
        lf.get_loss("cross_entropy").gradient_hessian([0.0, 1.5, 2.0], raw)
    for module in (lfl, lfx):
        with pytest.raises(ValueError) as got:
            module.objective("cross_entropy").grad_hess(np.array([0.0, 1.5, 2.0]), raw)
        assert str(got.value) == str(want.value)
        with pytest.raises(ValueError, match=r"y_true\[1\] = -1.0"):
            module.objective("poisson").grad_hess(np.array([1.0, -1.0]), np.zeros(2))
