"""The public API: names, parameters, accepted inputs, outputs, and every wrong input."""

import os
import pickle
import tracemalloc

import numpy as np
import pytest

import lossfuse as lf
from reference import PARAMS, reference

ALIASES = {"mse": "squared_error", "l2": "squared_error", "mae": "absolute_error",
           "l1": "absolute_error", "quantile": "pinball", "log_loss": "binary_cross_entropy",
           "logistic": "binary_cross_entropy", "bce": "binary_cross_entropy",
           "softmax": "cross_entropy", "multinomial": "cross_entropy"}


def test_available_losses_sorted_canonical():
    names = lf.available_losses()
    assert names == sorted(list(PARAMS) + ["cross_entropy"])   # test_cross_entropy.py


@pytest.mark.parametrize("alias,name", sorted(ALIASES.items()))
def test_aliases(alias, name):
    assert lf.get_loss(alias).name == name
    assert lf.get_loss(alias.upper()) == lf.get_loss(name)


def test_call_is_mean_loss_and_repr_pickle():
    loss = lf.get_loss("huber", delta=2.0)
    y, p = np.array([0.0, 1.0]), np.array([3.0, 1.5])
    assert loss(y, p) == loss.loss(y, p) == reference("huber", y, p, params={"delta": 2.0})[0]
    assert repr(loss) == "Loss('huber', delta=2.0)"
    clone = pickle.loads(pickle.dumps(loss))
    assert clone == loss and clone(y, p) == loss(y, p)
    assert lf.get_loss("huber") != loss


def test_defaults():
    assert lf.get_loss("huber").params == {"delta": 1.0}
    assert lf.get_loss("smooth_l1").params == {"beta": 1.0}
    assert lf.get_loss("pinball").params == {"alpha": 0.5}


def test_smooth_l1_beta_zero_is_absolute_error():
    rng = np.random.default_rng(0)
    y, p = rng.normal(size=100), rng.normal(size=100)
    a = lf.get_loss("smooth_l1", beta=0.0).loss_gradient(y, p)
    b = lf.get_loss("absolute_error").loss_gradient(y, p)
    assert a[0] == b[0]
    np.testing.assert_array_equal(a[1], b[1])


# ------------------------------------------------------------------------ accepted inputs
def _expected(y, p):
    return reference("squared_error", np.asarray(y, float), np.asarray(p, float), params={})


def test_lists_tuples_and_ints():
    loss = lf.get_loss("mse")
    v, g = loss.loss_gradient([0, 1, 2], (1, 1, 4))
    assert v == pytest.approx(5 / 3) and g.dtype == np.float64
    np.testing.assert_allclose(g, [2 / 3, 0, 4 / 3])
    v, g = loss.loss_gradient(np.array([True, False]), np.array([1, 1], dtype=np.int8))
    assert v == 0.5


def test_float16_computes_in_float32():
    v, g = lf.get_loss("mse").loss_gradient(np.zeros(3, np.float16), np.ones(3, np.float16))
    assert g.dtype == np.float32 and v == 1.0


def test_mixed_dtypes_follow_y_pred():
    y = np.array([0.1, 0.2])
    p = np.array([1.0, 2.0], np.float32)
    v, g = lf.get_loss("mse").loss_gradient(y, p)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, 2 * (p - y.astype(np.float32)) / 2, rtol=1e-7)


def test_zero_d_and_empty():
    loss = lf.get_loss("mse")
    v, g = loss.loss_gradient(np.float64(1.0), np.float64(3.0))
    assert v == 4.0 and g.shape == () and g == 4.0
    assert loss.loss(np.zeros(0), np.zeros(0), reduction="sum") == 0.0
    lv, g = loss.loss_gradient(np.zeros(0), np.zeros(0), reduction="none")
    assert lv.shape == (0,) and g.shape == (0,)


def test_memmap_misaligned_and_fortran(tmp_path):
    rng = np.random.default_rng(1)
    y, p = rng.normal(size=1000), rng.normal(size=1000)
    want = _expected(y, p)
    mm = np.memmap(tmp_path / "p.dat", dtype=np.float64, mode="w+", shape=(1000,))
    mm[:] = p
    v, g = lf.get_loss("mse").loss_gradient(y, mm)
    assert v == pytest.approx(want[0], rel=1e-14)
    raw = np.zeros(8001, np.uint8)
    mis = raw[1:].view(np.float64)            # data pointer not a multiple of 8
    mis[:] = p
    assert not mis.flags.aligned
    v2, g2 = lf.get_loss("mse").loss_gradient(y, mis)
    assert v2 == v
    np.testing.assert_array_equal(g2, g)
    yf = np.asfortranarray(np.tile(y[:, None], (1, 3)))
    pf = np.asfortranarray(np.tile(p[:, None], (1, 3)))
    v3 = lf.get_loss("mse")(yf, pf)
    assert v3 == pytest.approx(want[0], rel=1e-14)


def test_pandas_series():
    pd = pytest.importorskip("pandas")
    y = pd.Series([0.0, 1.0, 2.0])
    p = pd.Series([1.0, 1.0, 1.0])
    assert lf.get_loss("mae")(y, p) == pytest.approx(2 / 3)


# --------------------------------------------------------------------------------- outputs
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_out_arrays_are_filled_and_returned(dtype):
    rng = np.random.default_rng(2)
    y, p = rng.normal(size=50).astype(dtype), rng.normal(size=50).astype(dtype)
    loss = lf.get_loss("huber")
    lo, go, ho = (np.empty(50, dtype) for _ in range(3))
    v, g = loss.loss_gradient(y, p, reduction="none", loss_out=lo, gradient_out=go)
    assert v is lo and g is go
    g2, h = loss.gradient_hessian(y, p, gradient_out=go, hessian_out=ho)
    assert g2 is go and h is ho
    assert loss.gradient(y, p, gradient_out=go) is go
    assert loss.loss(y, p, reduction="none", loss_out=lo) is lo
    np.testing.assert_array_equal(lo, loss.loss(y, p, reduction="none"))


def test_strided_and_nd_out_arrays():
    rng = np.random.default_rng(3)
    y, p = rng.normal(size=(20, 3)), rng.normal(size=(20, 3))
    want = lf.get_loss("mse").gradient(y, p)
    strided = np.zeros((20, 6))[:, ::2]
    got = lf.get_loss("mse").gradient(y, p, gradient_out=strided)
    assert got is strided
    np.testing.assert_array_equal(strided, want)
    flat = np.zeros(40)[::2]
    got = lf.get_loss("mse").gradient(y[:, 0], p[:, 0], gradient_out=flat)
    np.testing.assert_allclose(flat, want[:, 0] * 3, rtol=1e-15)


def test_gradient_out_may_be_y_pred_itself_or_overlap_it():
    rng = np.random.default_rng(4)
    y, p = rng.normal(size=100), rng.normal(size=101)
    want = lf.get_loss("mse").gradient(y, p[1:].copy(), reduction="sum")
    q = p[1:].copy()
    lf.get_loss("mse").gradient(y, q, reduction="sum", gradient_out=q)      # in place
    np.testing.assert_array_equal(q, want)
    buf = p.copy()
    lf.get_loss("mse").gradient(y, buf[1:], reduction="sum", gradient_out=buf[:-1])  # shifted
    np.testing.assert_array_equal(buf[:-1], want)
    rev = p[1:][::-1].copy()
    lf.get_loss("mse").gradient(y, rev[::-1], reduction="sum", gradient_out=rev)   # reversed
    np.testing.assert_array_equal(rev, want)
    yy = y.copy()
    got = lf.get_loss("mse").loss_gradient(yy, p[1:], reduction="sum", gradient_out=yy)
    np.testing.assert_array_equal(got[1], want)                       # gradient_out is y_true
    assert got[1] is yy


def test_n_threads_beyond_any_machine_is_fine():
    y, p = np.zeros(10), np.ones(10)
    assert lf.get_loss("mse").loss(y, p, n_threads=2**40) == 1.0
    assert lf.get_loss("mse").loss(y, p, n_threads=np.int64(2**40), sample_weight=y + 1) == 1.0


def test_no_allocation_proportional_to_n_when_outputs_given():
    n = 1_000_000
    y, p = np.zeros(n), np.ones(n)
    g = np.empty(n)
    w = np.ones(n)
    loss = lf.get_loss("huber")
    loss.loss_gradient(y, p, gradient_out=g)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        loss.loss_gradient(y, p, gradient_out=g)
        loss.loss_gradient(y, p, gradient_out=g, sample_weight=w)
        peak = tracemalloc.get_traced_memory()[1]
        # the same call without gradient_out does allocate n doubles, which tracemalloc sees
        tracemalloc.reset_peak()
        loss.loss_gradient(y, p)
        peak_alloc = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024
    assert peak_alloc >= 8 * n


# ------------------------------------------------------------------------ wrong inputs
Y = np.array([0.0, 1.0, 2.0])
P = np.array([0.5, 1.0, 3.0])


def call(**kw):
    return lf.get_loss("huber").loss_gradient(kw.pop("y", Y), kw.pop("p", P), **kw)


BAD = [
    # (kwargs, exception, words the message must contain)
    (dict(p=np.ones(4)), ValueError, ["y_true", "y_pred", "shape"]),
    (dict(p=np.ones((3, 1))), ValueError, ["shape"]),
    (dict(p=P.astype(complex)), TypeError, ["y_pred", "complex"]),
    (dict(y=Y.astype(complex)), TypeError, ["y_true", "complex"]),
    (dict(p=np.array(["a", "b", "c"])), TypeError, ["y_pred"]),
    (dict(y=np.array([object(), 1, 2], dtype=object)), TypeError, ["y_true"]),
    (dict(p=P.astype(np.longdouble)), TypeError, ["y_pred", "float64"]),
    (dict(sample_weight=np.ones(4)), ValueError, ["sample_weight", "shape"]),
    (dict(sample_weight=np.ones((3, 1))), ValueError, ["sample_weight"]),
    (dict(sample_weight=np.ones(3) * 1j), TypeError, ["sample_weight"]),
    (dict(sample_weight=np.zeros(3)), ValueError, ["weight", "zero"]),
    (dict(y=np.zeros(0), p=np.zeros(0)), ValueError, ["mean", "zero"]),
    (dict(reduction="avg"), ValueError, ["reduction", "'none'", "'sum'", "'mean'"]),
    (dict(reduction=["mean"]), ValueError, ["reduction"]),
    (dict(reduction=None), ValueError, ["reduction"]),
    (dict(n_threads=-1), ValueError, ["n_threads"]),
    (dict(n_threads=0), ValueError, ["n_threads"]),
    (dict(n_threads=1.5), TypeError, ["n_threads"]),
    (dict(n_threads=True), TypeError, ["n_threads"]),
    (dict(gradient_out=np.empty(4)), ValueError, ["gradient_out", "shape"]),
    (dict(gradient_out=np.empty(3, np.float32)), TypeError, ["gradient_out", "dtype"]),
    (dict(gradient_out=[0.0, 0.0, 0.0]), TypeError, ["gradient_out", "ndarray"]),
    (dict(gradient_out=np.broadcast_to(np.empty(1), (3,))), ValueError,
     ["gradient_out", "writeable"]),
    (dict(loss_out=np.empty(3)), ValueError, ["loss_out", "reduction"]),
    (dict(loss_out=np.empty(2), reduction="none"), ValueError, ["loss_out", "shape"]),
]


@pytest.mark.parametrize("kw,exc,words", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_input_gets_a_clear_error_and_leaves_inputs_alone(kw, exc, words):
    y0, p0 = Y.copy(), P.copy()
    kw_copy = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    with pytest.raises(exc) as info:
        call(**kw)
    msg = str(info.value)
    for word in words:
        assert word in msg, (word, msg)
    np.testing.assert_array_equal(Y, y0)
    np.testing.assert_array_equal(P, p0)
    for k, v in kw.items():
        if isinstance(v, np.ndarray) and v.dtype.kind != "O" and k.endswith("_out") is False:
            np.testing.assert_array_equal(v, kw_copy[k])


@pytest.mark.parametrize("name,params,exc,words", [
    ("nope", {}, ValueError, ["unknown loss", "squared_error", "mse", "huber"]),
    ("huber", {"delta": 0.0}, ValueError, ["delta", "> 0"]),
    ("huber", {"delta": -1.0}, ValueError, ["delta"]),
    ("huber", {"delta": float("nan")}, ValueError, ["delta"]),
    ("huber", {"delta": float("inf")}, ValueError, ["delta"]),
    ("huber", {"delta": "1"}, TypeError, ["delta"]),
    ("huber", {"alpha": 0.5}, TypeError, ["alpha", "delta"]),
    ("pseudo_huber", {"delta": 0}, ValueError, ["delta"]),
    ("smooth_l1", {"beta": -0.1}, ValueError, ["beta", ">= 0"]),
    ("pinball", {"alpha": 0.0}, ValueError, ["alpha", "(0, 1)"]),
    ("pinball", {"alpha": 1.0}, ValueError, ["alpha"]),
    ("pinball", {"alpha": 1.5}, ValueError, ["alpha"]),
    ("mse", {"delta": 1.0}, TypeError, ["delta", "none"]),
])
def test_bad_loss_parameters(name, params, exc, words):
    with pytest.raises(exc) as info:
        lf.get_loss(name, **params)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_name_must_be_a_string():
    with pytest.raises(TypeError, match="name"):
        lf.get_loss(3)


def test_parameters_are_keyword_only():
    with pytest.raises(TypeError):
        lf.get_loss("huber", 2.0)
    with pytest.raises(TypeError):
        lf.get_loss("huber").loss(Y, P, None)


def test_kernel_layer_checks_memory_safety_itself():
    """The private kernel entry refuses what could read or write out of bounds, even when
    called directly with inconsistent operands."""
    from lossfuse._kernels import available
    for module in available.values():
        k = module.LossKernel(module.LOSSES["huber"][0], (1.0,))
        op = module.OPERATIONS["loss_gradient"]
        y, p, g = np.zeros(10), np.zeros(10), np.zeros(10)
        with pytest.raises(ValueError):
            k.run_float64(op, y, p[:5], None, 1, None, g, None, 1.0, 1)
        with pytest.raises(ValueError):
            k.run_float64(op, y, p, None, 1, None, g[:9], None, 1.0, 1)
        with pytest.raises(ValueError):
            k.run_float64(op, y, p, None, 1, None, None, None, 1.0, 1)
        with pytest.raises(ValueError):
            k.run_float64(op, y, p, np.ones(3), 3, None, g, None, 1.0, 1)
        with pytest.raises(ValueError):
            k.run_float64(op, y, p, None, 0, None, g, None, 1.0, 1)
        with pytest.raises(TypeError):
            k.run_float64(op, y, p.astype(np.float32), None, 1, None, g, None, 1.0, 1)
        with pytest.raises(TypeError):
            k.run_float64(op, y, p.astype(">f8"), None, 1, None, g, None, 1.0, 1)
        with pytest.raises(ValueError):
            k.run_float64(op, y.reshape(2, 5), p, None, 1, None, g, None, 1.0, 1)
        with pytest.raises(ValueError):
            ro = np.zeros(10)
            ro.flags.writeable = False
            k.run_float64(op, y, p, None, 1, None, ro, None, 1.0, 1)
        with pytest.raises(ValueError):
            k.run_float64(99, y, p, None, 1, None, g, None, 1.0, 1)
        with pytest.raises(ValueError):
            module.LossKernel(99, ())
        buf = np.zeros(11)
        for pred, out in [(buf[:10], buf[1:]), (buf[1:], buf[:-1]), (buf[:10], buf[::-1][:10]),
                          (p, p[::-1])]:                       # overlapping, not identical
            with pytest.raises(module.OverlapError):
                k.run_float64(op, y, pred, None, 1, None, out, None, 1.0, 1)
        k.run_float64(op, y, p, None, 1, None, p, None, 1.0, 1)           # identical: fine


def test_dispatch_takes_the_widest_build_the_cpu_runs_and_obeys_lossfuse_isa():
    """Without LOSSFUSE_ISA the widest available build runs; LOSSFUSE_ISA picks another one,
    and naming one this CPU cannot run is an ImportError that lists the available ones."""
    import subprocess
    import sys
    from lossfuse._kernels import available
    assert lf.kernel_info()["module"] == list(available.values())[-1].__name__
    probe = "import lossfuse; print(lossfuse.kernel_info()['module'])"
    for isa, module in available.items():
        env = dict(os.environ, LOSSFUSE_ISA=isa)
        out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                             text=True, check=True).stdout.strip()
        assert out == module.__name__
    env = dict(os.environ, LOSSFUSE_ISA="avx1024")
    res = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert res.returncode != 0
    assert "LOSSFUSE_ISA='avx1024' is not available" in res.stderr and "baseline" in res.stderr
