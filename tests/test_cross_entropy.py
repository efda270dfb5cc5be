"""cross_entropy (softmax over logits (n, K)) against first principles: a 200-bit mpmath
reference of torch's semantics, finite differences for gradient and hessian, exact results at
extreme logits, target checks (which element, what is wrong, nothing written), determinism
across thread counts, layouts and outputs.  The PyTorch oracle is in test_torch_oracle.py."""

import itertools

import mpmath
import numpy as np
import pytest

import lossfuse as lf
from conftest import assert_builds_agree, make_layout

mpmath.mp.prec = 200


def mp_reference(p, y=None, q=None, class_weight=None, ignore_index=None, label_smoothing=0.0,
                 sample_weight=None):
    """Per-row losses, the mean's denominator, and per-element gradient and hessian of the
    *sum* of the (weighted) row losses, as mpf, from the definition:
    loss_i = -sum_c a_c log softmax(p_i)_c with a_c the (smoothed) target times w_c
    (terms with a_c = 0 dropped), weight of the mean = s_i w_{y_i} over non-ignored rows
    (class indices) or s_i (probabilities)."""
    n, K = p.shape
    w = [mpmath.mpf(1)] * K if class_weight is None else [mpmath.mpf(float(v))
                                                          for v in class_weight]
    eps = mpmath.mpf(label_smoothing)
    losses, grads, hess = [], [], []
    denominator = mpmath.mpf(0)
    for i in range(n):
        s = mpmath.mpf(1) if sample_weight is None else mpmath.mpf(float(sample_weight[i]))
        x = [mpmath.mpf(float(v)) for v in p[i]]
        if q is None:
            if ignore_index is not None and y[i] == ignore_index:
                losses.append(mpmath.mpf(0))
                grads.append([mpmath.mpf(0)] * K)
                hess.append([mpmath.mpf(0)] * K)
                continue
            a = [eps / K * w[c] + ((1 - eps) * w[c] if c == y[i] else 0) for c in range(K)]
            denominator += s * w[y[i]]
        else:
            a = [w[c] * ((1 - eps) * mpmath.mpf(float(q[i, c])) + eps / K) for c in range(K)]
            denominator += s
        m = max(x)
        lse = m + mpmath.log(mpmath.fsum(mpmath.exp(v - m) for v in x))
        prob = [mpmath.exp(v - lse) for v in x]
        A = mpmath.fsum(a)
        losses.append(s * -mpmath.fsum(a[c] * (x[c] - lse) for c in range(K) if a[c] != 0))
        grads.append([s * (A * prob[c] - a[c]) for c in range(K)])
        hess.append([s * A * prob[c] * (1 - prob[c]) for c in range(K)])
    return losses, denominator, grads, hess


def as_float(rows):
    return np.array([[float(v) for v in r] for r in rows])


def problem(rng, n, K, dtype, target):
    p = (rng.normal(size=(n, K)) * 3).astype(dtype)
    if target == "probabilities":
        q = rng.random((n, K)) ** 3
        q /= q.sum(axis=1, keepdims=True)
        return p, q.astype(dtype)
    return p, rng.integers(0, K, n)


CASES = list(itertools.product(
    [np.float64, np.float32], ["indices", "probabilities"], [False, True],   # class weights
    [0.0, 0.3], [None, 1], [False, True]))                                 # smoothing, ignore, sw


@pytest.mark.parametrize("dtype,target,weighted,smoothing,ignore,sw", CASES)
@pytest.mark.parametrize("K", [1, 3, 10, 37])
def test_against_mpmath(dtype, target, weighted, smoothing, ignore, sw, K):
    rng = np.random.default_rng(K)
    n = 21
    p, y = problem(rng, n, K, dtype, target)
    cw = (rng.random(K) + 0.25).round(3) if weighted else None
    s = (rng.random(n) + 0.5).astype(dtype) if sw else None
    if target == "indices" and ignore is not None:
        ignore = min(ignore, K - 1) if K > 1 else 7
        y[::4] = ignore
    loss = lf.get_loss("cross_entropy", class_weight=cw, ignore_index=ignore,
                       label_smoothing=smoothing)
    kw = {"q": y} if target == "probabilities" else {"y": y}
    ref_l, den, ref_g, ref_h = mp_reference(p, class_weight=cw, ignore_index=ignore,
                                            label_smoothing=smoothing, sample_weight=s, **kw)
    rtol = 1e-13 if dtype == np.float64 else 8 * np.finfo(np.float32).eps
    if den == 0:
        with pytest.raises(ValueError, match="total weight of zero"):
            loss(y, p, sample_weight=s)
        return
    # reduction="none": one loss per row
    none = loss.loss(y, p, sample_weight=s, reduction="none")
    assert none.shape == (n,) and none.dtype == dtype
    want = np.array([float(v) for v in ref_l])
    np.testing.assert_allclose(none, want, rtol=rtol, atol=rtol * 1e-3)
    # sum and mean
    total = float(mpmath.fsum(ref_l))
    np.testing.assert_allclose(loss(y, p, sample_weight=s, reduction="sum"), total, rtol=rtol)
    np.testing.assert_allclose(loss(y, p, sample_weight=s), total / float(den), rtol=rtol)
    # gradient and hessian of the mean: those of the sum over the denominator
    g, h = loss.gradient_hessian(y, p, sample_weight=s)
    assert g.shape == h.shape == p.shape and g.dtype == h.dtype == dtype
    gw, hw = as_float(ref_g) / float(den), as_float(ref_h) / float(den)
    scale = max(np.abs(gw).max(), 1e-300)
    np.testing.assert_allclose(g, gw, rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(h, hw, rtol=rtol, atol=rtol * max(np.abs(hw).max(), 1e-300))
    # loss_gradient agrees with loss and gradient
    value, g2 = loss.loss_gradient(y, p, sample_weight=s)
    assert value == loss(y, p, sample_weight=s)
    assert np.array_equal(g2, g) and np.array_equal(loss.gradient(y, p, sample_weight=s), g)


@pytest.mark.parametrize("dtype,target,smoothing", list(itertools.product(
    [np.float64, np.float32], ["indices", "probabilities"], [0.0, 0.3])))
@pytest.mark.parametrize("K", [256, 300, 640])
def test_many_classes_against_mpmath(dtype, target, smoothing, K):
    """K >= 256 takes the one-row-at-a-time path (classes as lanes): same numbers."""
    rng = np.random.default_rng(K)
    n = 5
    p, y = problem(rng, n, K, dtype, target)
    p[1, :7] = -np.inf                       # fine where the target is 0
    if target == "indices":
        y[1] = 9
    else:
        y[1, :7] = 0
    cw = (rng.random(K) + 0.25).round(3)
    s = (rng.random(n) + 0.5).astype(dtype)
    loss = lf.get_loss("cross_entropy", class_weight=cw, label_smoothing=smoothing)
    kw = {"q": y} if target == "probabilities" else {"y": y}
    ref_l, den, ref_g, ref_h = mp_reference(p, class_weight=cw, label_smoothing=smoothing,
                                            sample_weight=s, **kw)
    rtol = 1e-13 if dtype == np.float64 else 8 * np.finfo(np.float32).eps
    rows = loss.loss(y, p, sample_weight=s, reduction="none")
    want = np.array([float(v) for v in ref_l])
    if smoothing:                            # -inf logits with a_c > 0: infinite, as in torch
        assert np.isinf(rows[1])
        rows, want = np.delete(rows, 1), np.delete(want, 1)
    np.testing.assert_allclose(rows, want, rtol=rtol)
    g, h = loss.gradient_hessian(y, p, sample_weight=s, reduction="sum")
    gw, hw = as_float(ref_g), as_float(ref_h)
    np.testing.assert_allclose(g, gw, rtol=rtol, atol=rtol * np.abs(gw).max())
    np.testing.assert_allclose(h, hw, rtol=rtol, atol=rtol * np.abs(hw).max())


@pytest.mark.parametrize("target", ["indices", "probabilities"])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_gradient_and_hessian_by_finite_differences(target, reduction):
    """4th-order central differences of the returned loss (float64)."""
    rng = np.random.default_rng(3)
    n, K = 6, 5
    p, y = problem(rng, n, K, np.float64, target)
    loss = lf.get_loss("cross_entropy", class_weight=[1.0, 0.5, 2.0, 1.5, 0.25],
                       label_smoothing=0.1)
    s = rng.random(n) + 0.5
    g, h = loss.gradient_hessian(y, p, sample_weight=s, reduction=reduction)
    step = 1e-3
    for i, c in itertools.product(range(n), range(K)):
        def f(t):
            q = p.copy()
            q[i, c] += t
            return loss(y, q, sample_weight=s, reduction=reduction)

        def gc(t):
            q = p.copy()
            q[i, c] += t
            return loss.gradient(y, q, sample_weight=s, reduction=reduction)[i, c]
        fd = (f(-2 * step) - 8 * f(-step) + 8 * f(step) - f(2 * step)) / (12 * step)
        fd2 = (gc(-2 * step) - 8 * gc(-step) + 8 * gc(step) - gc(2 * step)) / (12 * step)
        assert abs(g[i, c] - fd) <= 1e-9 * max(1.0, abs(fd))
        assert abs(h[i, c] - fd2) <= 1e-8 * max(1.0, abs(fd2))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extreme_logits_exact(dtype):
    loss = lf.get_loss("cross_entropy")
    p = np.array([[1e4, -1e4], [1e4, -1e4], [-1e4, 1e4]], dtype)
    y = np.array([0, 1, 1])
    rows = loss.loss(y, p, reduction="none")
    assert list(rows) == [0.0, 2e4, 0.0]
    g = loss.gradient(y, p, reduction="sum")
    assert np.array_equal(g, np.array([[0, 0], [1, -1], [0, 0]], dtype))
    # -inf for a class that is not the target: finite loss, zero gradient there
    p = np.array([[-np.inf, 0.5, 2.0], [1.0, -np.inf, -np.inf]], dtype)
    y = np.array([2, 0])
    rows, g = loss.loss_gradient(y, p, reduction="none")
    assert np.isfinite(rows).all() and rows[1] == 0
    assert g[0, 0] == 0 and np.array_equal(g[1], np.zeros(3, dtype))
    want = float(-(mpmath.mpf(2.0) - mpmath.log(mpmath.exp(0.5) + mpmath.exp(2.0))))
    assert abs(rows[0] - want) <= 2 * np.spacing(dtype(want))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_confident_rows_keep_relative_accuracy(dtype):
    """loss = log1p(S') with S' = sum of the other exps, gradient at the label = -S'/S: no
    cancellation even when S' is far below the precision of 1."""
    loss = lf.get_loss("cross_entropy")
    for big in (5.0, 15.0, 30.0, 60.0):
        p = np.array([[big, 0.0, -1.0]], dtype)
        rows, g = loss.loss_gradient(np.array([0]), p, reduction="none")
        sp = mpmath.exp(-mpmath.mpf(big)) + mpmath.exp(-mpmath.mpf(big) - 1)
        want_l, want_g = mpmath.log1p(sp), -sp / (1 + sp)
        assert abs(rows[0] - float(want_l)) <= 4 * np.spacing(dtype(float(want_l)))
        assert abs(g[0, 0] - float(want_g)) <= 4 * abs(np.spacing(dtype(float(want_g))))


def test_nan_propagates_to_its_row_only():
    loss = lf.get_loss("cross_entropy")
    p = np.array([[0.0, np.nan, 1.0], [0.5, 0.2, 0.1]])
    rows, g = loss.loss_gradient(np.array([0, 1]), p, reduction="none")
    assert np.isnan(rows[0]) and np.isnan(g[0]).all()
    assert np.isfinite(rows[1]) and np.isfinite(g[1]).all()


def test_ignore_index_and_weights_follow_torch_denominator():
    # mean = sum of w_{y_i} l_i / sum of w_{y_i} over the rows not ignored
    p = np.array([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = np.array([0, -100, 1])
    loss = lf.get_loss("cross_entropy", class_weight=[2.0, 3.0], ignore_index=-100)
    l0 = np.log1p(np.exp(-2.0))
    l2 = np.log(2.0)
    assert loss(y, p) == pytest.approx((2 * l0 + 3 * l2) / 5, rel=1e-15)
    assert loss(y, p, reduction="sum") == pytest.approx(2 * l0 + 3 * l2, rel=1e-15)
    assert list(loss.loss(y, p, reduction="none"))[1] == 0.0
    with pytest.raises(ValueError, match="total weight of zero"):
        loss(np.array([-100, -100, -100]), p)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bitwise_identical_for_every_thread_count(dtype):
    rng = np.random.default_rng(9)
    for n, K in ((20000, 13), (3000, 300)):        # blocks of rows; one row at a time
        p, y = problem(rng, n, K, dtype, "indices")
        s = rng.random(n).astype(dtype)
        loss = lf.get_loss("cross_entropy", label_smoothing=0.05)
        results = [loss.loss_gradient(y, p, sample_weight=s, n_threads=t) for t in (1, 2, 3)]
        for value, g in results[1:]:
            assert value == results[0][0] and np.array_equal(g, results[0][1])


@pytest.mark.parametrize("layout", ["strided", "readonly", "byteswapped", "fortran", "list"])
def test_layouts_give_the_same_numbers(layout):
    rng = np.random.default_rng(2)
    p, y = problem(rng, 30, 4, np.float64, "indices")
    loss = lf.get_loss("cross_entropy")
    want = loss.loss_gradient(y, p)
    if layout == "fortran":
        pl = np.asfortranarray(p)
    elif layout == "list":
        pl = p.tolist()
    else:
        pl = make_layout(p, layout)
    got = loss.loss_gradient(list(y) if layout == "list" else y, pl)
    assert got[0] == want[0] and np.array_equal(got[1], want[1])


def test_outputs_given_are_filled_and_returned():
    rng = np.random.default_rng(4)
    p, y = problem(rng, 12, 5, np.float32, "indices")
    loss = lf.get_loss("cross_entropy")
    g = np.empty_like(p)
    lo = np.empty(12, np.float32)
    rows, g_ret = loss.loss_gradient(y, p, reduction="none", loss_out=lo, gradient_out=g)
    assert rows is lo and g_ret is g
    want_rows, want_g = loss.loss_gradient(y, p, reduction="none")
    assert np.array_equal(lo, want_rows) and np.array_equal(g, want_g)
    gf = np.empty((12, 5), np.float32, order="F")        # not C-contiguous: copied back
    assert loss.gradient(y, p, gradient_out=gf) is gf
    assert np.array_equal(gf, loss.gradient(y, p))


LABEL_ERRORS = [
    (np.array([0, 1, 5, 2, -3]), r"in \[0, 3\); y_true\[2\] = 5"),
    (np.array([0, 1, 2, 2, -3]), r"y_true\[4\] = -3"),
    (np.array([0.0, 1.0, 2.5, 0.0, 1.0]), r"must be integers; y_true\[2\] = 2.5"),
    (np.array([0.0, np.nan, 1.0, 0.0, 1.0]), r"must be integers; y_true\[1\] = nan"),
    (np.array([0, 1, 2**64 - 1, 0, 1], dtype=np.uint64), r"y_true\[2\] = 18446744073709551615"),
    (np.array([0.0, 1.0, 1e300, 0.0, 1.0]), r"y_true\[2\] = 1e\+300"),
]


@pytest.mark.parametrize("y,match", LABEL_ERRORS)
def test_bad_class_indices_name_the_first_offender_and_write_nothing(y, match):
    p = np.zeros((5, 3))
    g = np.full((5, 3), 7.0)
    y0, p0 = y.copy(), p.copy()
    with pytest.raises(ValueError, match=match):
        lf.get_loss("cross_entropy").loss_gradient(y, p, gradient_out=g)
    assert np.array_equal(g, np.full((5, 3), 7.0))
    assert np.array_equal(y, y0, equal_nan=True) and np.array_equal(p, p0)


def test_ignore_index_is_allowed_and_named_in_the_message():
    loss = lf.get_loss("cross_entropy", ignore_index=-1)
    p = np.zeros((3, 2))
    assert loss(np.array([0, -1, 1]), p) == pytest.approx(np.log(2))
    with pytest.raises(ValueError, match=r"or ignore_index=-1\); y_true\[1\] = -2"):
        loss(np.array([0, -2, 1]), p)


def test_bad_probabilities_name_row_and_class():
    q = np.array([[0.5, 0.5], [0.2, 1.5], [0.0, 1.0]])
    with pytest.raises(ValueError, match=r"\[0, 1\]; y_true\[1, 1\] = 1.5"):
        lf.get_loss("cross_entropy")(q, np.zeros((3, 2)))


@pytest.mark.parametrize("kwargs,error,match", [
    ({"label_smoothing": 1.5}, ValueError, "label_smoothing"),
    ({"label_smoothing": "x"}, TypeError, "label_smoothing"),
    ({"class_weight": [1.0, -1.0]}, ValueError, "class_weight"),
    ({"class_weight": [[1.0]]}, TypeError, "class_weight"),
    ({"ignore_index": 1.5}, TypeError, "ignore_index"),
    ({"ignore_index": True}, TypeError, "ignore_index"),
    ({"delta": 1.0}, TypeError, "unexpected parameter"),
])
def test_bad_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        lf.get_loss("cross_entropy", **kwargs)


@pytest.mark.parametrize("y,p,match", [
    (np.array([0, 1]), np.zeros(2), r"shape \(n, K\)"),
    (np.array([0, 1, 1]), np.zeros((2, 3)), r"shape \(2,\)"),
    (np.zeros((2, 4)), np.zeros((2, 3)), r"shape \(2,\)"),
    (np.array([0, 1]), np.zeros((2, 0)), "at least one class"),
])
def test_bad_shapes(y, p, match):
    with pytest.raises(ValueError, match=match):
        lf.get_loss("cross_entropy")(y, p)


def test_class_weight_length_and_sample_weight_shape():
    loss = lf.get_loss("cross_entropy", class_weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="class_weight has 2 elements"):
        loss(np.array([0, 1]), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="sample_weight must have shape"):
        lf.get_loss("cross_entropy")(np.array([0, 1]), np.zeros((2, 3)),
                                     sample_weight=np.ones(3))
    with pytest.raises(TypeError, match="y_true"):
        lf.get_loss("cross_entropy")(np.array(["a", "b"]), np.zeros((2, 3)))


def test_repr_equality_and_pickle():
    import pickle
    loss = lf.get_loss("softmax", class_weight=[1, 2], ignore_index=-100, label_smoothing=0.1)
    assert loss.name == "cross_entropy" and isinstance(loss, lf.CrossEntropyLoss)
    assert loss == pickle.loads(pickle.dumps(loss))
    assert "label_smoothing=0.1" in repr(loss)
    assert loss != lf.get_loss("cross_entropy")


def test_kernel_never_reads_outside_the_labels_it_is_given():
    """The kernel layer itself (bypassing the facade) refuses out-of-range labels before
    computing anything, whatever the facade would have done."""
    from lossfuse._kernels import kernels
    k = kernels.CrossEntropyKernel(None, 0.0)
    p = np.zeros((4, 3))
    g = np.full((4, 3), 5.0)
    for bad in (3, -1, 2**62, -2**63):
        y = np.array([0, 1, bad, 2], dtype=np.int64)
        with pytest.raises(kernels.TargetError) as info:
            k.run_float64(2, y, None, p, None, np.ones(3), True, None, g, None, 1)
        assert info.value.index == 2 and np.array_equal(g, np.full((4, 3), 5.0))
    with pytest.raises(ValueError, match="class_weight"):
        k.run_float64(0, np.zeros(4, np.int64), None, p, None, np.ones(2), True, None, None,
                      None, 1)
    with pytest.raises(ValueError, match="labels"):
        k.run_float64(0, np.zeros(3, np.int64), None, p, None, np.ones(3), True, None, None,
                      None, 1)
    with pytest.raises(kernels.OverlapError):
        k.run_float64(1, np.zeros(4, np.int64), None, p, None, np.ones(3), True, None, p, None,
                      1)


def test_gradient_out_aliasing_the_logits_is_still_right():
    """gradient_out = y_pred itself: the kernel refuses the overlap, the facade computes into a
    temporary and copies back; the numbers are those of a separate output."""
    rng = np.random.default_rng(5)
    p, y = problem(rng, 9, 4, np.float64, "indices")
    loss = lf.get_loss("cross_entropy")
    want = loss.gradient(y, p)
    q = p.copy()
    assert loss.gradient(y, q, gradient_out=q) is q
    assert np.array_equal(q, want)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("target", ["indices", "probabilities"])
def test_every_instruction_set_gives_the_same_bits(dtype, target):
    """The FMA builds agree bit for bit, row sums included; the SSE2 baseline within 4 ulp,
    or 4 ulp of 1 in the gradient and hessian (p - 1 where p is near 1; see
    `assert_builds_agree`)."""
    from lossfuse._kernels import available
    if len(available) < 2:
        pytest.skip("one instruction set on this CPU")
    results = {}
    for isa in sorted(available):
        kernel = available[isa].CrossEntropyKernel(None, 0.1)
        run = kernel.run_float64 if dtype == np.float64 else kernel.run_float32
        for K in (1, 3, 10, 37, 300):
            p, y = problem(np.random.default_rng(K), 130, K, dtype, target)
            labels, q = (y.astype(np.int64), None) if target == "indices" else (None, y)
            g, h, lo = np.empty_like(p), np.empty_like(p), np.empty(130, dtype)
            s = run(3, labels, q, p, None, np.ones(K, dtype), True, None, g, h, 1)
            t = run(0, labels, q, p, None, np.ones(K, dtype), False, lo, None, None, 1)
            results.setdefault(isa, []).extend((s, t, g, h, lo))
    assert_builds_agree(results, dtype, ulps=4, atol=4 * np.finfo(dtype).eps)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("target", ["indices", "probabilities"])
def test_vector_transposes_move_the_data_exactly(dtype, target):
    """Blocks of contiguous rows go through the in-register transposes of tiles.h (every class
    count, the last rows of the array and of each thread's chunk through the element-wise
    loops); strided logits always take the element-wise loops.  Both give the same bits, in
    every instruction-set build (the builds agree with each other as `assert_builds_agree`
    says), and nothing is written past the rows of the output."""
    from lossfuse._kernels import available
    rng = np.random.default_rng(11)
    sentinel = -7.25
    for K in [*range(1, 19), 23, 31, 32, 33, 64, 100, 255]:
        for n in (64, 131, 2100 if K >= 32 else 7000):      # the last: 2+ thread chunks
            p, y = problem(rng, n, K, dtype, target)
            wide = np.empty((n, 2 * K), dtype)
            wide[:, ::2] = p
            strided = wide[:, ::2]                           # column stride 2: no tiles
            labels, q = (y.astype(np.int64), None) if target == "indices" else (None, y)
            by_isa = {}
            for isa, module in sorted(available.items()):
                want = None
                kernel = module.CrossEntropyKernel(None, 0.0)
                run = kernel.run_float64 if dtype == np.float64 else kernel.run_float32
                for logits, threads in ((p, 1), (p, 2), (strided, 1)):
                    g = np.full((n + 2, K), sentinel, dtype)
                    h = np.full((n + 2, K), sentinel, dtype)
                    lo = np.empty(n, dtype)
                    s = run(3, labels, q, logits, None, np.ones(K, dtype), True, None,
                            g[:n], h[:n], threads)
                    t = run(2, labels, q, logits, None, np.ones(K, dtype), True, lo,
                            g[:n], None, threads)
                    assert np.all(g[n:] == sentinel) and np.all(h[n:] == sentinel), (isa, K, n)
                    got = (s, t, g.tobytes(), h.tobytes(), lo.tobytes())
                    if want is None:
                        want = got
                        by_isa[isa] = (s, t, g, h, lo)
                    assert got == want, (isa, K, n, threads, logits is strided)
            assert_builds_agree(by_isa, dtype, ulps=4, atol=4 * np.finfo(dtype).eps)
