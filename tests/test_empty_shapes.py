"""Inputs with no elements, whatever their shape ((0,), (0, 3), (5, 0), (2, 3, 0)): a sum is
0.0, per-element results and gradients are empty arrays of that shape, and a mean is the
documented zero-samples error -- never an internal error."""

import numpy as np
import pytest

import lossfuse as lf

SHAPES = [(0,), (0, 3), (5, 0), (2, 3, 0)]
LOSSES = ["squared_error", "absolute_error", "huber", "binary_cross_entropy", "hinge",
          "poisson", "gamma", "tweedie", "pinball", "log_cosh"]


def _loss(name):
    return lf.get_loss(name, power=1.5) if name == "tweedie" else lf.get_loss(name)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", LOSSES)
def test_no_elements(name, shape, dtype, weighted):
    y = np.ones(shape, dtype)
    p = np.zeros(shape, dtype)
    kw = {"sample_weight": np.ones(shape[0], dtype)} if weighted else {}
    loss = _loss(name)
    assert loss.loss(y, p, reduction="sum", **kw) == 0.0
    value, g = loss.loss_gradient(y, p, reduction="sum", **kw)
    assert value == 0.0 and g.shape == shape and g.dtype == dtype
    per_element, g = loss.loss_gradient(y, p, reduction="none", **kw)
    assert per_element.shape == g.shape == shape and per_element.dtype == dtype
    g, h = loss.gradient_hessian(y, p, reduction="none", **kw)
    assert g.shape == h.shape == shape
    with pytest.raises(ValueError, match="zero samples"):
        loss.loss(y, p, **kw)
    with pytest.raises(ValueError, match="zero samples"):
        loss.gradient(y, p, reduction="mean", **kw)


# ------------------------------------------------- arguments NumPy cannot read, named as such
RAGGED = [[1.0, 2.0], [3.0]]


@pytest.mark.parametrize("argument", ["y_true", "y_pred", "sample_weight"])
def test_a_ragged_list_is_named(argument):
    kw = {"y_true": np.zeros(2), "y_pred": np.zeros(2), "sample_weight": None}
    kw[argument] = RAGGED
    with pytest.raises(ValueError, match=f"^{argument} cannot be read as an array"):
        lf.get_loss("mse").loss(kw["y_true"], kw["y_pred"], sample_weight=kw["sample_weight"])


@pytest.mark.parametrize("argument", ["y_true", "y_pred", "class_weight"])
def test_a_ragged_list_is_named_by_cross_entropy(argument):
    y, p, cw = [0, 1], np.zeros((2, 2)), None
    if argument == "y_true":
        y = RAGGED
    elif argument == "y_pred":
        p = RAGGED
    else:
        cw = RAGGED
    with pytest.raises(ValueError, match=f"^{argument} cannot be read as an array"):
        lf.get_loss("cross_entropy", class_weight=cw).loss(y, p)


@pytest.mark.parametrize("reduction", [np.array(["mean", "sum"]), np.array("mean"), ["mean"],
                                       None, 1])
def test_a_reduction_that_is_not_a_name_is_named(reduction):
    for n in (3, 100_000):                 # the short path and the general one
        with pytest.raises(ValueError, match="^reduction must be one of"):
            lf.get_loss("mse").loss(np.zeros(n), np.ones(n), reduction=reduction)
