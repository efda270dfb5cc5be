"""PyTorch as the oracle of semantics: cross_entropy and binary_cross_entropy agree
with torch.nn.functional.cross_entropy and binary_cross_entropy_with_logits, loss and autograd
gradient, for every combination of their options.  Optional: skipped where torch (the CPU
build, `pip install torch==2.13.0`, the `torch` extra) is not installed; CI installs it."""

import itertools

import numpy as np
import pytest

import lossfuse as lf

torch = pytest.importorskip("torch")
F = torch.nn.functional

DTYPES = [np.float64, np.float32]
REDUCTIONS = ["none", "sum", "mean"]


def close(got, want, dtype):
    # torch and lossfuse round differently (torch: x - m - log(sum), lossfuse: log1p of the
    # sum without the max); both are a few ulp from the exact value
    rtol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * max(1.0, np.abs(want).max()))


def torch_ce(p, y, reduction, **kwargs):
    x = torch.tensor(p, requires_grad=True)
    out = F.cross_entropy(x, torch.tensor(y), reduction=reduction, **kwargs)
    out.sum().backward()                     # "none": the gradient of the sum of the rows
    return out.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("dtype,reduction,weighted,ignore,smoothing", list(itertools.product(
    DTYPES, REDUCTIONS, [False, True], [None, -100, 2], [0.0, 0.2])))
@pytest.mark.parametrize("K", [5, 300])        # blocks of rows; one row at a time
def test_cross_entropy_class_indices(dtype, reduction, weighted, ignore, smoothing, K):
    rng = np.random.default_rng(0)
    n = 40
    p = (rng.normal(size=(n, K)) * 2).astype(dtype)
    y = rng.integers(0, K, n)
    if ignore is not None:
        y[::3] = ignore
    cw = (rng.random(K) + 0.5).astype(dtype) if weighted else None
    kwargs = {"label_smoothing": smoothing}
    if cw is not None:
        kwargs["weight"] = torch.tensor(cw)
    if ignore is not None:
        kwargs["ignore_index"] = ignore
    want_l, want_g = torch_ce(p, y, reduction, **kwargs)
    loss = lf.get_loss("cross_entropy", class_weight=cw, ignore_index=ignore,
                       label_smoothing=smoothing)
    got_l, got_g = loss.loss_gradient(y, p, reduction=reduction)
    close(got_l, want_l, dtype)
    close(got_g, want_g, dtype)


@pytest.mark.parametrize("dtype,reduction,weighted,smoothing", list(itertools.product(
    DTYPES, REDUCTIONS, [False, True], [0.0, 0.2])))
def test_cross_entropy_probabilities(dtype, reduction, weighted, smoothing):
    rng = np.random.default_rng(1)
    n, K = 30, 7
    p = (rng.normal(size=(n, K)) * 2).astype(dtype)
    q = rng.random((n, K))
    q = (q / q.sum(axis=1, keepdims=True)).astype(dtype)
    cw = (rng.random(K) + 0.5).astype(dtype) if weighted else None
    kwargs = {"label_smoothing": smoothing}
    if cw is not None:
        kwargs["weight"] = torch.tensor(cw)
    want_l, want_g = torch_ce(p, q, reduction, **kwargs)
    loss = lf.get_loss("cross_entropy", class_weight=cw, label_smoothing=smoothing)
    got_l, got_g = loss.loss_gradient(q, p, reduction=reduction)
    close(got_l, want_l, dtype)
    close(got_g, want_g, dtype)


@pytest.mark.parametrize("dtype,reduction,pos_weight,soft", list(itertools.product(
    DTYPES, REDUCTIONS, [1.0, 3.5], [False, True])))
def test_binary_cross_entropy_with_logits(dtype, reduction, pos_weight, soft):
    rng = np.random.default_rng(2)
    n = 50
    p = (rng.normal(size=n) * 4).astype(dtype)
    y = (rng.random(n) if soft else rng.integers(0, 2, n)).astype(dtype)
    x = torch.tensor(p, requires_grad=True)
    out = F.binary_cross_entropy_with_logits(
        x, torch.tensor(y), pos_weight=torch.tensor(pos_weight, dtype=x.dtype),
        reduction=reduction)
    out.sum().backward()
    got_l, got_g = lf.get_loss("binary_cross_entropy", pos_weight=pos_weight).loss_gradient(
        y, p, reduction=reduction)
    close(got_l, out.detach().numpy(), dtype)
    close(got_g, x.grad.numpy(), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sample_weight_equals_torch_per_row_weights(dtype):
    """lossfuse's sample_weight with class weights: a row's weight is s_i * w_{y_i}, so the
    weighted sum equals torch's unreduced losses times s_i, summed."""
    rng = np.random.default_rng(3)
    n, K = 25, 4
    p = rng.normal(size=(n, K)).astype(dtype)
    y = rng.integers(0, K, n)
    s = (rng.random(n) + 0.2).astype(dtype)
    cw = np.array([1.0, 2.0, 0.5, 1.5], dtype)
    x = torch.tensor(p, requires_grad=True)
    rows = F.cross_entropy(x, torch.tensor(y), weight=torch.tensor(cw), reduction="none")
    mean = (rows * torch.tensor(s)).sum() / (torch.tensor(s) * torch.tensor(cw)[y]).sum()
    mean.backward()
    got_l, got_g = lf.get_loss("cross_entropy", class_weight=cw).loss_gradient(
        y, p, sample_weight=s)
    close(got_l, mean.item(), dtype)
    close(got_g, x.grad.numpy(), dtype)
