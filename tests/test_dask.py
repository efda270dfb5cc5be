"""lossfuse.dask on a real dask.distributed cluster (two worker processes on 127.0.0.1):
lazy, one kernel call per chunk, equal to the in-memory result to 1e-14 relative with uneven
chunks, and raising its error for bad labels."""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import lossfuse as lf  # noqa: E402
from lossfuse import dask as lfd  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 20_011
    y = rng.normal(size=n)
    return dict(y=y, p=y + rng.normal(size=n), w=rng.uniform(0, 2, n),
                counts=rng.poisson(2.0, n).astype(float), labels=rng.integers(0, 2, n) * 1.0,
                classes=np.where(rng.random(n) < 0.1, -100, rng.integers(0, 6, n)),
                logits=rng.normal(size=(n, 6)))


CASES = [("huber", "y", "p", {"delta": 0.7}), ("poisson", "counts", "p", {}),
         ("binary_cross_entropy", "labels", "p", {}),
         ("cross_entropy", "classes", "logits", {"ignore_index": -100}),
         ("cross_entropy", "classes", "logits",
          {"ignore_index": -100, "class_weight": [1.0, 3.0, 0.5, 2.0, 1.0, 0.25]})]
UNEVEN = ((5000, 1, 9000, 6010), (3001, 17000, 10))


@pytest.mark.parametrize("name,yk,pk,params", CASES,
                         ids=[c[0] + ("-class_weight" if "class_weight" in c[3] else "")
                              for c in CASES])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_equal_to_the_in_memory_result_on_a_cluster(client, data, name, yk, pk, params,
                                                    reduction, weighted):
    y, p = data[yk], data[pk]
    w = data["w"] if weighted else None
    Y = da.from_array(y, chunks=(UNEVEN[0],))
    P = da.from_array(p, chunks=(UNEVEN[1],) + p.shape[1:])
    W = None if w is None else da.from_array(w, chunks=4099)
    value, grad = lfd.loss_gradient(name, Y, P, sample_weight=W, reduction=reduction,
                                    **params)
    only = lfd.loss(name, Y, P, sample_weight=W, reduction=reduction, **params)
    assert isinstance(value, da.Array) and isinstance(grad, da.Array)      # lazy
    assert grad.chunks[0] == P.chunks[0] and grad.shape == p.shape
    v, g, o = client.compute([value, grad, only], sync=True)
    want_v, want_g = lf.get_loss(name, **params).loss_gradient(y, p, sample_weight=w,
                                                               reduction=reduction)
    assert rel(v, want_v) <= 1e-14 and rel(o, want_v) <= 1e-14
    assert rel(g, want_g) <= 1e-14


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_an_error_on_a_cluster_is_the_in_memory_one(client, data, reduction):
    y = data["counts"].copy()
    y[[12_000, 19_000]] = [-1.0, -2.0]           # in two chunks; the first is reported
    Y, P = da.from_array(y, chunks=(UNEVEN[0],)), da.from_array(data["p"], chunks=(UNEVEN[1],))
    value, grad = lfd.loss_gradient("poisson", Y, P, reduction=reduction)
    with pytest.raises(ValueError) as got:
        client.compute([value, grad], sync=True)
    with pytest.raises(ValueError) as want:
        lf.get_loss("poisson").loss_gradient(y, data["p"], reduction=reduction)
    assert str(got.value) == str(want.value) == \
        "y_true must hold values >= 0 for poisson; y_true[12000] = -1.0"


def test_one_kernel_call_per_chunk(data):
    Y = da.from_array(data["y"], chunks=5000)
    P = da.from_array(data["p"], chunks=5000)
    value, grad = lfd.loss_gradient("squared_error", Y, P)
    calls = [k for k in dict(grad.__dask_graph__()) if "_block" in str(k)]
    assert len(calls) == P.numblocks[0] == 5


def test_wrong_shapes_are_refused():
    y = da.zeros(10, chunks=5)
    with pytest.raises(ValueError, match="must have the same shape"):
        lfd.loss("squared_error", y, da.zeros(11, chunks=5))
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(10,\)"):
        lfd.loss("squared_error", y, y, sample_weight=da.ones(9, chunks=5))
    with pytest.raises(ValueError, match="reduction must be one of"):
        lfd.loss("squared_error", y, y, reduction="avg")
    with pytest.raises(ValueError, match="unknown loss"):
        lfd.loss("nope", y, y)


def test_docstring_example():
    import doctest
    assert doctest.testmod(lfd).failed == 0
