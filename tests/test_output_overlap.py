"""Outputs that share memory with each other: refused with a ValueError naming both, before
anything is written; outputs that are views of one buffer without a common element compute
exactly what fresh outputs do."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lossfuse as lf

ELEMENTWISE = ["squared_error", "huber", "binary_cross_entropy", "poisson", "tweedie"]
# (method, reduction, first output, second output)
PAIRS = [("loss_gradient", "none", "loss_out", "gradient_out"),
         ("gradient_hessian", "mean", "gradient_out", "hessian_out"),
         ("gradient_hessian", "none", "gradient_out", "hessian_out"),
         ("gradient_hessian", "sum", "gradient_out", "hessian_out")]


def _data(name, n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if name == "binary_cross_entropy":
        y = rng.integers(0, 2, n)
    elif name in ("poisson", "tweedie"):
        y = rng.poisson(2.0, n)
    else:
        y = rng.normal(size=n)
    return y.astype(dtype), rng.normal(size=n).astype(dtype)


def _overlapping_views(kind, buf, n):
    """Two length-n views of `buf` that share at least one element."""
    if kind == "same":
        return buf[:n], buf[:n]
    if kind == "shifted":
        return buf[:n], buf[n - 1:2 * n - 1]            # one element in common
    if kind == "reversed":
        return buf[:n], buf[:n][::-1]
    if kind == "strided":
        return buf[:2 * n:2], buf[n - n % 2:3 * n - n % 2:2][:n]  # every other, half of them
    raise ValueError(kind)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["same", "shifted", "reversed", "strided"])
@pytest.mark.parametrize("method, reduction, first, second", PAIRS)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_overlapping_outputs_are_refused(name, method, reduction, first, second, kind, dtype):
    n = 11
    y, p = _data(name, n, dtype)
    y0, p0 = y.copy(), p.copy()
    buf = np.full(4 * n, 7.0, dtype)
    a, b = _overlapping_views(kind, buf, n)
    assert np.shares_memory(a, b)
    loss = lf.get_loss(name, power=1.5) if name == "tweedie" else lf.get_loss(name)
    with pytest.raises(ValueError, match=f"{first} and {second} share memory"):
        getattr(loss, method)(y, p, reduction=reduction, **{first: a, second: b})
    assert (buf == 7.0).all()                           # nothing written
    assert np.array_equal(y, y0) and np.array_equal(p, p0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_large_overlapping_outputs_are_refused_on_the_short_path_too(dtype):
    # 1-d, unweighted, reduced: the call that goes straight to the kernel
    n = 200_000
    y, p = _data("huber", n, dtype)
    buf = np.full(n + 5, 7.0, dtype)
    with pytest.raises(ValueError, match="gradient_out and hessian_out share memory"):
        lf.get_loss("huber").gradient_hessian(y, p, gradient_out=buf[:n], hessian_out=buf[5:])
    assert (buf == 7.0).all()


@pytest.mark.parametrize("method, reduction, first, second",
                         [("loss_gradient", "none", "loss_out", "gradient_out"),
                          ("gradient_hessian", "mean", "gradient_out", "hessian_out")])
def test_cross_entropy_overlapping_outputs_are_refused(method, reduction, first, second):
    n, K = 6, 3
    rng = np.random.default_rng(0)
    labels, logits = rng.integers(0, K, n), rng.normal(size=(n, K))
    buf = np.full(n * K + n, 7.0)
    g = buf[:n * K].reshape(n, K)
    if first == "loss_out":
        other = buf[n * K - 2:n * K - 2 + n]            # two elements inside gradient_out
    else:
        other = buf[n:n + n * K].reshape(n, K)
    kw = {first: other, second: g} if first == "loss_out" else {first: g, second: other}
    with pytest.raises(ValueError, match=f"{first} and {second} share memory"):
        getattr(lf.get_loss("cross_entropy"), method)(labels, logits, reduction=reduction, **kw)
    assert (buf == 7.0).all()


@settings(max_examples=300, deadline=None)
@given(data=st.data(), n=st.integers(1, 12), dtype=st.sampled_from([np.float64, np.float32]),
       pair=st.sampled_from(PAIRS), name=st.sampled_from(ELEMENTWISE))
def test_views_of_one_buffer_are_refused_exactly_when_they_share_an_element(data, n, dtype,
                                                                          pair, name):
    method, reduction, first, second = pair
    size = 40
    views = []
    for _ in range(2):
        sl = data.draw(st.integers(0, size - 1).flatmap(
            lambda start: st.sampled_from([-3, -2, -1, 1, 2, 3]).map(
                lambda step: slice(start, start + step * n if start + step * n >= 0 else None,
                                   step))))
        views.append(sl)
    buf = np.full(size, 7.0, dtype)
    a, b = buf[views[0]], buf[views[1]]
    if a.size != n or b.size != n:
        return                                  # ran off the buffer: not a case
    y, p = _data(name, n, dtype, seed=n)
    loss = lf.get_loss(name, power=1.5) if name == "tweedie" else lf.get_loss(name)
    fn = getattr(loss, method)
    if np.shares_memory(a, b):
        with pytest.raises(ValueError, match=f"{first} and {second} share memory"):
            fn(y, p, reduction=reduction, **{first: a, second: b})
        assert (buf == 7.0).all()
    else:
        want = fn(y, p, reduction=reduction)
        got = fn(y, p, reduction=reduction, **{first: a, second: b})
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
        assert np.array_equal(a, want[0]) and np.array_equal(b, want[1])   # written in place
