"""lossfuse.lightgbm and lossfuse.xgboost with the real libraries: the objectives plus
init_score reproduce the built-in regression, binary and multiclass models (raw predictions
to 1e-4 relative) through the native and the scikit-learn APIs, every lossfuse loss trains,
and gradients and hessians follow each library's conventions."""

import numpy as np
import pytest

import lossfuse as lf

lgb = pytest.importorskip("lightgbm")
xgb = pytest.importorskip("xgboost")

from lossfuse import lightgbm as lfl  # noqa: E402
from lossfuse import xgboost as lfx  # noqa: E402

N = 1500


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, 5))
    return dict(X=X, w=rng.uniform(0.5, 2, N),
                regression=X[:, 0] * 2 + X[:, 1] + rng.normal(size=N),
                binary=(X[:, 0] + rng.normal(size=N) > 0).astype(float),
                multiclass=(rng.integers(0, 3, N) + (X[:, 0] > 1)).astype(float))


def rel(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


LGB = dict(verbose=-1, num_leaves=15, learning_rate=0.1, min_data_in_leaf=20, seed=1,
           deterministic=True, force_row_wise=True)
BUILTIN = {"regression": ("squared_error", "regression", "reg:squarederror"),
           "binary": ("binary_cross_entropy", "binary", "binary:logistic"),
           "multiclass": ("cross_entropy", "multiclass", "multi:softprob")}


def init_of(module, name, y, w):
    s = module.init_score(name, y, w)
    return np.tile(s, (N, 1)) if np.ndim(s) else np.full(N, s)


@pytest.mark.parametrize("task", list(BUILTIN))
@pytest.mark.parametrize("weighted", [False, True])
def test_lightgbm_native_reproduces_the_builtin_objective(data, task, weighted):
    name, builtin, _ = BUILTIN[task]
    X, y, w = data["X"], data[task], data["w"] if weighted else None
    extra = {"num_class": 4} if task == "multiclass" else {}
    ref = lgb.train(dict(LGB, objective=builtin, **extra), lgb.Dataset(X, y, weight=w), 25)
    init = init_of(lfl, name, y, w)
    ours = lgb.train(dict(LGB, objective=lfl.objective(name), **extra),
                     lgb.Dataset(X, y, weight=w, init_score=init), 25)
    want = ref.predict(X, raw_score=True)
    assert rel(ours.predict(X, raw_score=True) + init, want) < 1e-4


@pytest.mark.parametrize("task", list(BUILTIN))
def test_lightgbm_sklearn_api_reproduces_the_builtin_objective(data, task):
    name, builtin, _ = BUILTIN[task]
    X, y, w = data["X"], data[task], data["w"]
    cls = lgb.LGBMRegressor if task == "regression" else lgb.LGBMClassifier
    kw = dict(n_estimators=25, **LGB)
    ref = cls(objective=builtin, **kw).fit(X, y, sample_weight=w)
    init = init_of(lfl, name, y, w)
    ours = cls(objective=lfl.objective(name), **kw).fit(X, y, sample_weight=w, init_score=init)
    assert rel(ours.predict(X, raw_score=True) + init, ref.predict(X, raw_score=True)) < 1e-4


XGB = dict(max_depth=4, eta=0.1, seed=1, tree_method="hist")


@pytest.mark.parametrize("task", list(BUILTIN))
@pytest.mark.parametrize("weighted", [False, True])
def test_xgboost_native_reproduces_the_builtin_objective(data, task, weighted):
    name, _, builtin = BUILTIN[task]
    X, y, w = data["X"], data[task], data["w"] if weighted else None
    extra = {"num_class": 4} if task == "multiclass" else {}
    d = xgb.DMatrix(X, y, weight=w)
    ref = xgb.train(dict(XGB, objective=builtin, **extra), d, 25)
    init = init_of(lfx, name, y, w)
    dm = xgb.DMatrix(X, y, weight=w, base_margin=init)
    ours = xgb.train(dict(XGB, **extra), dm, 25, obj=lfx.objective(name))
    assert rel(ours.predict(dm, output_margin=True), ref.predict(d, output_margin=True)) < 1e-4


@pytest.mark.parametrize("task", list(BUILTIN))
def test_xgboost_sklearn_api_reproduces_the_builtin_objective(data, task):
    name, _, builtin = BUILTIN[task]
    X, y, w = data["X"], data[task], data["w"]
    cls = xgb.XGBRegressor if task == "regression" else xgb.XGBClassifier
    kw = dict(n_estimators=25, max_depth=4, learning_rate=0.1, random_state=1)
    ref = cls(objective=builtin, **kw).fit(X, y, sample_weight=w)
    init = init_of(lfx, name, y, w)
    ours = cls(objective=lfx.objective(name), **kw).fit(X, y, sample_weight=w,
                                                        base_margin=init)
    got = ours.predict(X, output_margin=True, base_margin=init)
    assert rel(got, ref.predict(X, output_margin=True)) < 1e-4


def targets(name, data):
    y = data["regression"]
    if name in ("binary_cross_entropy", "hinge", "squared_hinge", "exponential"):
        return data["binary"]
    if name in ("poisson", "tweedie"):
        return np.round(np.exp(y / 3))
    if name == "gamma":
        return np.exp(y / 3)
    if name == "cross_entropy":
        return data["multiclass"]
    return y


@pytest.mark.parametrize("name", lf.available_losses())
@pytest.mark.parametrize("library", ["lightgbm", "xgboost"])
def test_every_loss_trains_and_lowers_its_loss(data, name, library):
    X, w = data["X"], data["w"]
    y = targets(name, data)
    module = lfl if library == "lightgbm" else lfx
    init = init_of(module, name, y, w)
    extra = {"num_class": 4} if name == "cross_entropy" else {}
    if library == "lightgbm":        # lambda_l2 = 1 as XGBoost's default: see the docstring
        params = dict(LGB, lambda_l2=1.0, objective=module.objective(name), **extra)
        booster = lgb.train(params, lgb.Dataset(X, y, weight=w, init_score=init), 15)
        raw = booster.predict(X, raw_score=True) + init
    else:
        dm = xgb.DMatrix(X, y, weight=w, base_margin=init)
        booster = xgb.train(dict(XGB, **extra), dm, 15, obj=module.objective(name))
        raw = booster.predict(dm, output_margin=True).astype(np.float64)
    loss = lf.get_loss(name)
    yk = y.astype(np.int64) if name == "cross_entropy" else y
    assert loss(yk, raw, sample_weight=w) < loss(yk, init.astype(np.float64), sample_weight=w)


def test_gradient_and_hessian_conventions():
    y = np.array([0.0, 1.0, 2.0])
    p = np.array([0.5, 1.0, -1.0])
    w = np.array([1.0, 2.0, 0.5])
    g, h = lfl.objective("squared_error").grad_hess(y, p, w)          # p - y, 1; weighted
    np.testing.assert_array_equal(g, (p - y) * w)
    np.testing.assert_array_equal(h, w)
    g, h = lfx.objective("absolute_error").grad_hess(y, p)            # hessian 0 -> 1
    np.testing.assert_array_equal(h, [1.0, 1.0, 1.0])
    g, h = lfl.objective("huber", delta=0.6).grad_hess(y, p)           # 1 inside and out
    np.testing.assert_array_equal(h, [1.0, 1.0, 1.0])
    raw = np.array([[0.1, 0.5, -0.2], [1.0, 0.0, 0.0]])
    labels = np.array([2.0, 0.0])
    gl, hl = lfl.objective("cross_entropy").grad_hess(labels, raw)
    gx, hx = lfx.objective("cross_entropy").grad_hess(labels, raw)
    s = np.exp(raw) / np.exp(raw).sum(1, keepdims=True)
    np.testing.assert_allclose(gl, s - np.eye(3)[[2, 0]], rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(hl, 1.5 * s * (1 - s), rtol=1e-14)       # K / (K - 1)
    np.testing.assert_allclose(hx, 2.0 * s * (1 - s), rtol=1e-14)
    np.testing.assert_array_equal(gl, gx)
    with pytest.raises(ValueError, match="num_class"):
        lfl.objective("cross_entropy").grad_hess(labels, raw[:, 0])
    assert "objective('huber', delta=0.6)" in repr(lfl.objective("huber", delta=0.6))
