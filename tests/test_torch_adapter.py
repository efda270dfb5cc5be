"""lossfuse.torch: values and gradients equal PyTorch's own losses, gradcheck passes, and wrong
tensors are refused clearly."""

import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from lossfuse.torch import loss  # noqa: E402

RED = ["mean", "sum", "none"]


def make(kind, dtype, n=257, k=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    if kind == "classes":
        x = torch.randn(n, k, generator=g, dtype=dtype) * 3
        t = torch.randint(0, k, (n,), generator=g)
    elif kind == "probabilities":
        x = torch.randn(n, k, generator=g, dtype=dtype) * 3
        t = torch.softmax(torch.randn(n, k, generator=g, dtype=dtype), 1)
    else:
        x = torch.randn(n, generator=g, dtype=dtype) * 2
        t = (torch.rand(n, generator=g, dtype=dtype) if kind == "soft labels"
             else torch.randn(n, generator=g, dtype=dtype))
    return x.requires_grad_(True), t


PAIRS = [
    ("squared_error", {}, lambda x, t, r: F.mse_loss(x, t, reduction=r), "values"),
    ("absolute_error", {}, lambda x, t, r: F.l1_loss(x, t, reduction=r), "values"),
    ("huber", {"delta": 0.5}, lambda x, t, r: F.huber_loss(x, t, reduction=r, delta=0.5),
     "values"),
    ("huber", {"delta": 2.0}, lambda x, t, r: F.huber_loss(x, t, reduction=r, delta=2.0),
     "values"),
    ("binary_cross_entropy", {},
     lambda x, t, r: F.binary_cross_entropy_with_logits(x, t, reduction=r), "soft labels"),
    ("binary_cross_entropy", {"pos_weight": 2.5},
     lambda x, t, r: F.binary_cross_entropy_with_logits(
         x, t, reduction=r, pos_weight=torch.tensor(2.5, dtype=x.dtype)), "soft labels"),
    ("cross_entropy", {}, lambda x, t, r: F.cross_entropy(x, t, reduction=r), "classes"),
    ("cross_entropy", {"label_smoothing": 0.1},
     lambda x, t, r: F.cross_entropy(x, t, reduction=r, label_smoothing=0.1), "classes"),
    ("cross_entropy", {}, lambda x, t, r: F.cross_entropy(x, t, reduction=r), "probabilities"),
]


@pytest.mark.parametrize("name,params,theirs,kind", PAIRS,
                         ids=[f"{p[0]}-{p[3]}-{p[1]}" for p in PAIRS])
@pytest.mark.parametrize("reduction", RED)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_values_and_gradients_equal_pytorchs(name, params, theirs, kind, reduction, dtype):
    x, t = make(kind, dtype)
    ours = loss(name, reduction=reduction, **params)(x, t)
    v = torch.linspace(0.5, 1.5, ours.numel(), dtype=dtype).reshape(ours.shape)
    (ours * v).sum().backward()
    g_ours, x.grad = x.grad.clone(), None
    want = theirs(x, t, reduction)
    (want * v).sum().backward()
    tol = dict(rtol=1e-12, atol=1e-15) if dtype == torch.float64 else dict(rtol=2e-5, atol=1e-7)
    assert ours.dtype == dtype and ours.shape == want.shape
    torch.testing.assert_close(ours, want.detach(), **tol)
    torch.testing.assert_close(g_ours, x.grad, **tol)


def test_cross_entropy_class_weights_and_pytorchs_ignore_index():
    x, t = make("classes", torch.float64)
    t[::7] = -100                                  # PyTorch's default ignore_index
    w = torch.tensor([1.0, 2.0, 0.5, 1.5, 3.0], dtype=torch.float64)
    ours = loss("cross_entropy", class_weight=w)(x, t)
    ours.backward()
    g, x.grad = x.grad.clone(), None
    want = F.cross_entropy(x, t, weight=w)
    want.backward()
    torch.testing.assert_close(ours, want.detach(), rtol=1e-12, atol=0)
    torch.testing.assert_close(g, x.grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name,params,theirs,kind", PAIRS,
                         ids=[f"{p[0]}-{p[3]}-{p[1]}" for p in PAIRS])
@pytest.mark.parametrize("reduction", RED)
def test_gradcheck(name, params, theirs, kind, reduction):
    x, t = make(kind, torch.float64, n=9, k=3, seed=1)
    if name == "absolute_error":                   # away from the kink at d = 0
        x = (t + torch.sign(x - t) * (0.1 + (x - t).abs())).detach().requires_grad_(True)
    if name == "huber":                            # away from the switch at |d| = delta
        d = x - t
        x = (t + torch.where((d.abs() - params["delta"]).abs() < 0.05, d * 1.2, d)) \
            .detach().requires_grad_(True)
    fn = loss(name, reduction=reduction, **params)
    assert torch.autograd.gradcheck(lambda a: fn(a, t), (x,))


def test_backward_twice_and_no_gradient_and_weights():
    x, t = make("values", torch.float64)
    out = loss("squared_error")(x, t)
    out.backward(retain_graph=True)
    first = x.grad.clone()
    out.backward()
    torch.testing.assert_close(x.grad, 2 * first)             # the saved gradient is intact
    with torch.no_grad():
        assert loss("squared_error")(x, t).item() == pytest.approx(F.mse_loss(x, t).item())
    w = torch.rand(x.shape[0], dtype=torch.float64)
    x.grad = None
    loss("squared_error", reduction="sum")(x, t, sample_weight=w).backward()
    torch.testing.assert_close(x.grad, 2 * w * (x - t).detach(), rtol=1e-14, atol=0)


def test_wrong_tensors_are_refused_clearly():
    x, t = make("values", torch.float32)
    with pytest.raises(TypeError, match="CPU tensors; input is on meta"):
        loss("squared_error")(torch.empty(3, device="meta"), torch.empty(3))
    with pytest.raises(TypeError, match="target is on meta"):
        loss("squared_error")(torch.zeros(3), torch.empty(3, device="meta"))
    with pytest.raises(ValueError, match="no gradient for target"):
        loss("squared_error")(x, t.clone().requires_grad_(True))
    with pytest.raises(TypeError, match="float32 or float64"):
        loss("squared_error")(x.detach().half(), t.half())
    with pytest.raises(ValueError, match="reduction must be one of"):
        loss("squared_error", reduction="avg")
    with pytest.raises(ValueError, match="y_true and y_pred must have the same shape"):
        loss("squared_error")(x, t[:-1])
    assert "reduction='sum'" in repr(loss("huber", reduction="sum", delta=2.0))


def test_docstring_example():
    import doctest
    import lossfuse.torch
    assert doctest.testmod(lossfuse.torch).failed == 0
