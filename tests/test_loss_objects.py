"""Loss objects are values: immutable (read-only params, no attribute can be set or deleted),
equal and hashing alike when made alike, and pickled, copied and repr'd into losses that are
equal and compute the same bits."""

import copy
import json
import pickle
from dataclasses import FrozenInstanceError

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lossfuse as lf

torch = pytest.importorskip("torch")

# a loss of every name, with parameters other than the defaults where it has any
MADE = [("squared_error", {}), ("absolute_error", {}), ("huber", {"delta": 2.5}),
        ("smooth_l1", {"beta": 0.0}), ("pseudo_huber", {"delta": 0.3}), ("log_cosh", {}),
        ("pinball", {"alpha": 0.9}), ("poisson", {}), ("gamma", {}), ("tweedie", {"power": 3}),
        ("binary_cross_entropy", {"pos_weight": 2.0}), ("hinge", {}), ("squared_hinge", {}),
        ("exponential", {}),
        ("cross_entropy", {"class_weight": np.array([1.0, 2.0, 0.5]), "ignore_index": -100,
                           "label_smoothing": 0.1}),
        ("cross_entropy", {})]
IDS = [f"{name}{'-params' if params else ''}" for name, params in MADE]


def data(name, seed=0):
    rng = np.random.default_rng(seed)
    if name == "cross_entropy":
        return rng.integers(0, 3, 40), rng.normal(size=(40, 3))
    p = rng.normal(size=40)
    y = {"poisson": rng.poisson(2.0, 40) * 1.0, "gamma": rng.gamma(2.0, 1.0, 40),
         "tweedie": rng.gamma(2.0, 1.0, 40), "binary_cross_entropy": rng.uniform(0, 1, 40),
         "hinge": rng.integers(0, 2, 40) * 1.0, "squared_hinge": rng.integers(0, 2, 40) * 1.0,
         "exponential": rng.integers(0, 2, 40) * 1.0}.get(name, rng.normal(size=40))
    return y, p


def assert_computes_the_same(a, b):
    y, p = data(a.name)
    w = np.linspace(0.5, 2.0, len(y))
    for method in ("loss", "gradient", "loss_gradient", "gradient_hessian"):
        for reduction in ("mean", "sum", "none"):
            got = getattr(a, method)(y, p, sample_weight=w, reduction=reduction)
            want = getattr(b, method)(y, p, sample_weight=w, reduction=reduction)
            for g, v in zip(got, want) if isinstance(got, tuple) else [(got, want)]:
                np.testing.assert_array_equal(g, v)


@pytest.mark.parametrize("name,params", MADE, ids=IDS)
def test_params_are_read_only(name, params):
    loss = lf.get_loss(name, **params)
    before = (repr(loss), hash(loss), dict(loss.params))
    key = next(iter(loss.params), "delta")
    for change in (lambda d: d.__setitem__(key, 3.0), lambda d: d.__delitem__(key),
                   lambda d: d.update({key: 3.0}), lambda d: d.pop(key),
                   lambda d: d.popitem(), lambda d: d.setdefault("other", 1.0),
                   lambda d: d.clear(), lambda d: d.__ior__({key: 3.0})):
        with pytest.raises(TypeError, match="read-only"):
            change(loss.params)
    assert (repr(loss), hash(loss), dict(loss.params)) == before
    assert json.loads(json.dumps(loss.params)) == json.loads(json.dumps(dict(loss.params)))
    free = loss.params.copy()                  # a plain dict, which the caller may change
    free["x"] = 1
    assert "x" not in loss.params


@pytest.mark.parametrize("name,params", MADE, ids=IDS)
def test_attributes_cannot_be_set_or_deleted(name, params):
    loss = lf.get_loss(name, **params)
    for attribute in ("name", "params", "_kernel", "_labels", "new_attribute"):
        with pytest.raises(FrozenInstanceError):
            setattr(loss, attribute, None)
        with pytest.raises(AttributeError):
            delattr(loss, attribute)
    assert isinstance(FrozenInstanceError(), AttributeError)
    assert_computes_the_same(loss, lf.get_loss(name, **params))


@pytest.mark.parametrize("name,params", MADE, ids=IDS)
def test_pickle_copy_deepcopy_and_repr_give_an_equal_loss_that_computes_the_same(name, params):
    loss = lf.get_loss(name, **params)
    clones = [pickle.loads(pickle.dumps(loss, protocol)) for protocol in
              range(pickle.HIGHEST_PROTOCOL + 1)]
    clones += [copy.copy(loss), copy.deepcopy(loss), eval(repr(loss), vars(lf))]
    for clone in clones:
        assert type(clone) is type(loss)
        assert clone == loss and hash(clone) == hash(loss) and repr(clone) == repr(loss)
        assert_computes_the_same(clone, loss)
        with pytest.raises(TypeError):
            clone.params["x"] = 1.0


@pytest.mark.parametrize("name,params", MADE, ids=IDS)
def test_equal_losses_hash_alike_and_differ_from_others(name, params):
    loss = lf.get_loss(name, **params)
    assert loss == lf.get_loss(name.upper(), **params)
    assert len({loss, lf.get_loss(name, **params)}) == 1
    assert {loss: 1}[lf.get_loss(name, **params)] == 1
    others = [lf.get_loss(n, **p) for n, p in MADE if n != name or p.keys() != params.keys()]
    assert len(others) == len(MADE) - 1
    assert all(o != loss for o in others)
    assert loss != name and not (loss == 3) and loss != dict(loss.params)


def test_losses_made_alike_are_equal():
    """Aliases, ints for floats, and class weights as a list, tuple, array or tensor."""
    same = [[lf.get_loss("huber", delta=2), lf.get_loss("HUBER", delta=2.0),
             lf.Loss("huber", delta=np.float32(2.0)), lf.Loss("huber", delta=np.int64(2))],
            [lf.get_loss("mse"), lf.get_loss("l2"), lf.Loss("squared_error")],
            [lf.get_loss("softmax", class_weight=[1, 2]),
             lf.get_loss("cross_entropy", class_weight=(1.0, 2.0)),
             lf.get_loss("multinomial", class_weight=np.array([1.0, 2.0])),
             lf.CrossEntropyLoss(class_weight=torch.tensor([1.0, 2.0])),
             lf.CrossEntropyLoss(class_weight=np.array([1, 2], np.uint8),
                                 label_smoothing=-0.0)],
            [lf.CrossEntropyLoss(class_weight=[-0.0, 1.0]),
             lf.CrossEntropyLoss(class_weight=[0, 1])],
            [lf.get_loss("tweedie", power=-0.0), lf.get_loss("tweedie", power=0)],
            [lf.get_loss("cross_entropy", ignore_index=np.int16(-100)),
             lf.CrossEntropyLoss(ignore_index=-100)]]
    for group in same:
        for loss in group:
            assert loss == group[0] and hash(loss) == hash(group[0])
            assert repr(loss) == repr(group[0])
    assert lf.get_loss("huber", delta=2) != lf.get_loss("huber", delta=2.5)
    assert lf.get_loss("cross_entropy", class_weight=[1, 2]) != lf.get_loss("cross_entropy")
    assert lf.get_loss("cross_entropy", class_weight=[1, 2]) != lf.get_loss(
        "cross_entropy", class_weight=[2, 1])


def test_the_constructors_are_what_repr_shows():
    assert repr(lf.get_loss("pinball", alpha=0.25)) == "Loss('pinball', alpha=0.25)"
    assert repr(lf.get_loss("cross_entropy", class_weight=[1, 2])) == \
        "CrossEntropyLoss(class_weight=(1.0, 2.0), ignore_index=None, label_smoothing=0.0)"
    assert lf.Loss("quantile", alpha=0.25) == lf.get_loss("pinball", alpha=0.25)
    with pytest.raises(TypeError, match="CrossEntropyLoss"):
        lf.Loss("cross_entropy")
    with pytest.raises(TypeError, match="delta"):
        lf.CrossEntropyLoss(delta=1.0)
    with pytest.raises(ValueError, match="unknown loss"):
        lf.Loss("nope")


def test_a_class_weight_array_changed_after_the_loss_is_made_changes_nothing():
    cw = np.array([1.0, 2.0])
    loss = lf.get_loss("cross_entropy", class_weight=cw)
    y, p = np.array([0, 1, 1]), np.zeros((3, 2))
    before = (loss.loss(y, p), hash(loss), repr(loss))
    cw[:] = 100.0
    assert (loss.loss(y, p), hash(loss), repr(loss)) == before
    with pytest.raises(ValueError):
        loss._class_weight[0] = 5.0               # its private copy is read-only too


@settings(max_examples=50, deadline=None)
@given(delta=st.floats(min_value=1e-300, max_value=1e300),
       alpha=st.floats(min_value=1e-9, max_value=1 - 1e-9, exclude_min=True),
       power=st.one_of(st.floats(min_value=-50, max_value=0), st.floats(min_value=1,
                                                                      max_value=50)),
       cw=st.lists(st.floats(min_value=0, max_value=1e300), min_size=1, max_size=5),
       smoothing=st.floats(min_value=0, max_value=1))
def test_repr_and_pickle_round_trip_any_parameter_value(delta, alpha, power, cw, smoothing):
    for loss in (lf.get_loss("huber", delta=delta), lf.get_loss("pinball", alpha=alpha),
                 lf.get_loss("tweedie", power=power),
                 lf.get_loss("cross_entropy", class_weight=cw, label_smoothing=smoothing)):
        for clone in (eval(repr(loss), vars(lf)), pickle.loads(pickle.dumps(loss))):
            assert clone == loss and hash(clone) == hash(loss)
            assert clone.params == loss.params
