"""The contract as one grid: every loss x dtype x reduction x weights x threads x memory layout,
against long-double references written from the textbook formulas (tests/reference.py)."""

import numpy as np
import pytest

import lossfuse as lf
from conftest import LAYOUTS, assert_builds_agree, assert_close, has_fma, make_layout
from reference import PARAMS, deviance_atol, reference, sample

LOSSES = sorted(PARAMS)
N = 70_000          # more than two kernel chunks, so that 2 and 3 threads really split the work
RTOL = {np.float64: 2e-14, np.float32: 3e-6}
SUM_RTOL = {np.float64: 1e-13, np.float32: 1e-6}


# Absolute tolerance, relative to the largest reference value.  The soft-label gradient of
# binary_cross_entropy, (1 - y) s - pw y (1 - s), cancels where it crosses 0: its error there is
# that of its terms.
ATOL = {"binary_cross_entropy": 1.0}


def data(name, dtype, n=N, seed=0):
    rng = np.random.default_rng(seed)
    y, p = sample(name, rng, n)            # |p - y| (or |p|) on both sides of every kink
    w = rng.uniform(0.1, 2.0, n)
    return y.astype(dtype), p.astype(dtype), w.astype(dtype)


def check_close(got, ref, rtol, what, name=None, atol=None):
    scale = np.max(np.abs(ref)) if np.size(ref) else 1.0
    assert_close(got, ref, rtol, rtol * scale * ATOL.get(name, 1e-3) if atol is None else atol,
                 what)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("n_threads", [1, 2, 3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", LOSSES)
def test_grid(name, dtype, reduction, weighted, n_threads, layout):
    y, p, w = data(name, dtype)
    ref_loss, ref_grad, ref_hess = reference(name, y, p, w if weighted else None, reduction)
    y_in, p_in = make_layout(y, layout), make_layout(p, layout)
    w_in = make_layout(w, layout) if weighted else None
    saved = [a.copy() for a in (y_in, p_in) + ((w_in,) if weighted else ())]
    loss = lf.get_loss(name, **PARAMS[name])
    kw = dict(sample_weight=w_in, reduction=reduction, n_threads=n_threads)

    value = loss.loss(y_in, p_in, **kw)
    grad = loss.gradient(y_in, p_in, **kw)
    value2, grad2 = loss.loss_gradient(y_in, p_in, **kw)
    grad3, hess = loss.gradient_hessian(y_in, p_in, **kw)

    rtol = RTOL[dtype]
    atol_loss, atol_grad = deviance_atol(name, y, p, w if weighted else None, reduction, rtol)
    if reduction == "none":
        assert isinstance(value, np.ndarray) and value.dtype == dtype and value.shape == p.shape
        check_close(value, ref_loss, rtol, "loss", atol=atol_loss)
        np.testing.assert_array_equal(value2, value)
    else:
        assert type(value) is float and type(value2) is float
        assert value == value2                       # fused and unfused agree bitwise
        np.testing.assert_allclose(value, ref_loss, rtol=SUM_RTOL[dtype])
    for g in (grad, grad2, grad3):
        assert g.dtype == dtype and g.shape == p.shape
    check_close(grad, ref_grad, rtol, "gradient", name, atol=atol_grad)
    np.testing.assert_array_equal(grad2, grad)
    np.testing.assert_array_equal(grad3, grad)
    assert hess.dtype == dtype and hess.shape == p.shape
    check_close(hess, ref_hess, rtol, "hessian")
    for before, after in zip(saved, (y_in, p_in, w_in)):
        np.testing.assert_array_equal(before, after)  # inputs untouched


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("name", LOSSES)
def test_nd_inputs_weigh_rows(name, reduction, weighted):
    """Any shape; sample_weight weighs the rows (first axis); mean divides by sum(w) * row."""
    rng = np.random.default_rng(3)
    y, p = (a.reshape(50, 3, 4) for a in sample(name, rng, 600))
    w = rng.uniform(0.5, 2, 50) if weighted else None
    loss = lf.get_loss(name, **PARAMS[name])
    ref_loss, ref_grad, ref_hess = reference(name, y, p, w, reduction)
    value, grad = loss.loss_gradient(y, p, sample_weight=w, reduction=reduction)
    grad2, hess = loss.gradient_hessian(y, p, sample_weight=w, reduction=reduction)
    atol_loss, atol_grad = deviance_atol(name, y, p, w, reduction, 1e-13)
    check_close(value, ref_loss, 1e-13, "loss", atol=atol_loss)
    check_close(grad, ref_grad, 1e-13, "gradient", name, atol=atol_grad)
    check_close(hess, ref_hess, 1e-13, "hessian")
    assert grad.shape == y.shape and hess.shape == y.shape
    # a non-contiguous N-d view gives the same numbers
    big_y = np.zeros((50, 3, 8))
    big_p = np.zeros((50, 3, 8))
    big_y[..., ::2] = y
    big_p[..., ::2] = p
    value3, grad3 = loss.loss_gradient(big_y[..., ::2], big_p[..., ::2], sample_weight=w,
                                       reduction=reduction)
    np.testing.assert_array_equal(grad3, grad)
    np.testing.assert_array_equal(value3, value)


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_results_identical_for_every_thread_count(name, dtype):
    y, p, w = data(name, dtype, n=1_000_003, seed=1)
    loss = lf.get_loss(name, **PARAMS[name])
    results = []
    for nt in (1, 2, 3, 4, 7):
        v, g = loss.loss_gradient(y, p, sample_weight=w, n_threads=nt)
        g2, h = loss.gradient_hessian(y, p, n_threads=nt)
        results.append((v, g, h, loss.loss(y, p, reduction="sum", n_threads=nt)))
    for v, g, h, s in results[1:]:
        assert v == results[0][0] and s == results[0][3]
        np.testing.assert_array_equal(g, results[0][1])
        np.testing.assert_array_equal(h, results[0][2])


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_instruction_sets_agree(name, dtype):
    """The FMA builds (AVX2, AVX-512) round identically (explicit fused multiply-adds, no
    contraction by the compiler, fixed-order sums).  The SSE2 baseline rounds a * b + c twice:
    its results meet the same long-double references to the same tolerances as the grid's."""
    from lossfuse._kernels import available
    if len(available) < 2:
        pytest.skip("only one kernel build on this CPU")
    y, p, w = data(name, np.dtype(dtype), n=100_001, seed=2)
    kernel = lf.get_loss(name, **PARAMS[name])._kernel
    out = {}
    for isa, module in available.items():
        k = module.LossKernel(kernel.loss, kernel.params)
        run = getattr(k, f"run_{dtype}")
        g = np.empty_like(p)
        h = np.empty_like(p)
        lo = np.empty_like(p)
        total = run(module.OPERATIONS["loss_gradient"], y, p, w, 1, lo, g, None, 0.5, 2)
        run(module.OPERATIONS["gradient_hessian"], y, p, None, 1, None, np.empty_like(p), h,
            1.0, 1)
        out[isa] = (total, lo, g, h)
    assert_builds_agree({k: v for k, v in out.items() if has_fma(k)})
    rtol = RTOL[np.dtype(dtype).type]
    ref_loss, ref_grad, _ = reference(name, y, p, w, "none")
    _, _, ref_hess = reference(name, y, p, None, "none")
    atol_loss, atol_grad = deviance_atol(name, y, p, w, "none", rtol)
    for isa, (total, lo, g, h) in out.items():
        if has_fma(isa):
            continue
        check_close(lo, ref_loss, rtol, f"{isa} loss", atol=atol_loss)
        check_close(g, 0.5 * ref_grad, rtol, f"{isa} gradient", name,
                    atol=None if atol_grad is None else 0.5 * atol_grad)
        check_close(h, ref_hess, rtol, f"{isa} hessian")
        np.testing.assert_allclose(total, np.sum(ref_loss), rtol=SUM_RTOL[np.dtype(dtype).type])
