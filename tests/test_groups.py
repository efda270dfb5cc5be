"""Grouped losses: ``Loss.loss(..., groups=ids)`` and the accumulator behind it.

References: each group's sum is checked against ``math.fsum`` of the per-element losses
(the exact sum, correctly rounded), the means against pandas' groupby in float64, and against
lossfuse's own ungrouped loss on each group's rows.
"""

import math

import numpy as np
import pytest

import lossfuse as lf
from lossfuse._api import GroupAccumulator

LOSSES = [("squared_error", {}), ("huber", {"delta": 0.7}), ("absolute_error", {}),
          ("binary_cross_entropy", {}), ("poisson", {}), ("pinball", {"alpha": 0.3}),
          ("log_cosh", {})]


def data(name, n, n_groups, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.normal(0, 2, n).astype(dtype)
    if name == "binary_cross_entropy":
        y = rng.integers(0, 2, n).astype(dtype)
    elif name == "poisson":
        y = rng.poisson(2.0, n).astype(dtype)
        p = (p / 4).astype(dtype)
    else:
        y = (p + rng.normal(0, 1, n)).astype(dtype)
    groups = rng.integers(0, n_groups, n)
    w = rng.uniform(0.1, 3, n).astype(dtype)
    return y, p, groups, w


def fsum_by_group(values, groups, n_groups):
    return np.array([math.fsum(values[groups == g].astype(np.float64))
                     for g in range(n_groups)])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,params", LOSSES)
@pytest.mark.parametrize("weighted", [False, True])
def test_sums_are_the_exact_sums(name, params, dtype, weighted):
    loss = lf.get_loss(name, **params)
    y, p, groups, w = data(name, 20_000, 13, dtype)
    w = w if weighted else None
    got = loss.loss(y, p, sample_weight=w, groups=groups, reduction="sum")
    each = loss.loss(y, p, sample_weight=w, reduction="none")     # w * loss, in dtype
    assert got.dtype == np.float64 and got.shape == (13,)
    np.testing.assert_array_equal(got, fsum_by_group(each, groups, 13))
    means = loss.loss(y, p, sample_weight=w, groups=groups)
    weights = np.ones(len(p)) if w is None else w
    np.testing.assert_array_equal(means, got / fsum_by_group(weights, groups, 13))


@pytest.mark.parametrize("name,params", LOSSES)
def test_means_agree_with_pandas_and_the_ungrouped_loss(name, params):
    pd = pytest.importorskip("pandas")
    loss = lf.get_loss(name, **params)
    y, p, groups, w = data(name, 50_000, 100, seed=1)
    got = loss.loss(y, p, groups=groups)
    frame = pd.DataFrame({"l": loss.loss(y, p, reduction="none"), "g": groups})
    expected = frame.groupby("g")["l"].mean().to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    for g in range(0, 100, 9):
        own = loss.loss(y[groups == g], p[groups == g])
        assert abs(got[g] - own) <= 4 * np.spacing(abs(own))


def test_same_bits_for_any_split_and_thread_count():
    loss = lf.get_loss("huber")
    y, p, groups, w = data("huber", 300_000, 50, seed=2)
    whole = loss.loss(y, p, sample_weight=w, groups=groups, reduction="sum")
    for n_threads in (1, 2, 4):
        again = loss.loss(y, p, sample_weight=w, groups=groups, reduction="sum",
                          n_threads=n_threads)
        np.testing.assert_array_equal(again, whole)
    for size in (1, 1000, 4097, 65_536):
        acc = GroupAccumulator(loss)
        for start in range(0, len(p), size if size > 1 else 99_991):
            s = slice(start, start + size if size > 1 else start + 99_991)
            acc.grow(int(groups[s].max()) + 1)
            acc.add(y[s], p[s], w[s], np.ascontiguousarray(groups[s]))
        sums, weights, counts = acc.results()
        np.testing.assert_array_equal(sums, whole)
        np.testing.assert_array_equal(counts, np.bincount(groups, minlength=50))


def test_empty_groups_and_no_rows():
    loss = lf.get_loss("squared_error")
    got = loss.loss([1.0, 2.0], [0.0, 0.0], groups=[0, 3], reduction="sum")
    np.testing.assert_array_equal(got, [1.0, 0.0, 0.0, 4.0])
    mean = loss.loss([1.0, 2.0], [0.0, 0.0], groups=[0, 3], n_groups=5)
    assert mean[0] == 1.0 and mean[3] == 4.0 and np.isnan(mean[[1, 2, 4]]).all()
    assert loss.loss(np.zeros(0), np.zeros(0), groups=np.zeros(0, int)).shape == (0,)
    np.testing.assert_array_equal(
        loss.loss(np.zeros(0), np.zeros(0), groups=np.zeros(0, int), n_groups=2,
                  reduction="sum"), [0.0, 0.0])
    zero_weight = loss.loss([1.0, 2.0], [0.0, 0.0], sample_weight=[0.0, 1.0], groups=[0, 1])
    assert np.isnan(zero_weight[0]) and zero_weight[1] == 4.0


def test_one_group_and_a_million_groups():
    loss = lf.get_loss("absolute_error")
    y, p, _, _ = data("absolute_error", 2_000_000, 1, seed=3)
    one = loss.loss(y, p, groups=np.zeros(len(p), np.int64), reduction="sum")
    assert one.shape == (1,)
    assert one[0] == math.fsum(np.abs(p - y))
    ids = np.random.default_rng(4).permutation(len(p)) // 2     # 1,000,000 groups of 2
    many = loss.loss(y, p, groups=ids, reduction="sum")
    assert many.shape == (1_000_000,)
    expected = np.zeros(1_000_000)
    np.add.at(expected, ids, np.abs(p - y))    # two terms: one rounding, exact as fsum
    np.testing.assert_array_equal(many, expected)


def test_float32_with_a_parameter_beyond_its_range():
    """binary_cross_entropy's pos_weight = 1e50 does not fit float32: float32 data then runs
    in float64, grouped or not."""
    loss = lf.get_loss("binary_cross_entropy", pos_weight=1e50)
    y, p, groups, _ = data("binary_cross_entropy", 5000, 4, np.float32)
    got = loss.loss(y, p, groups=groups, reduction="sum")
    each = loss.loss(y.astype(np.float64), p.astype(np.float64), reduction="none")
    np.testing.assert_array_equal(got, fsum_by_group(each, groups, 4))
    assert np.isfinite(got).all() and got.max() > 1e40


def test_non_finite_losses_propagate():
    loss = lf.get_loss("squared_error")
    y = np.array([0.0, 1e200, 0.0, np.nan, 0.0, np.inf])
    got = loss.loss(y, np.zeros(6), groups=[0, 1, 1, 2, 2, 3], reduction="sum")
    assert got[0] == 0.0 and got[1] == np.inf and np.isnan(got[2]) and got[3] == np.inf


def test_rows_of_a_2d_input_share_their_group():
    loss = lf.get_loss("squared_error")
    y = np.arange(12.0).reshape(4, 3)
    p = np.zeros((4, 3))
    got = loss.loss(y, p, groups=[1, 0, 1, 0], sample_weight=[1.0, 2.0, 1.0, 2.0])
    sq = (y ** 2).sum(axis=1)
    assert got[0] == (2 * sq[1] + 2 * sq[3]) / 12 and got[1] == (sq[0] + sq[2]) / 6


@pytest.mark.parametrize("groups,n_groups,error,match", [
    ([0, -1, 2], None, ValueError, r"groups\[1\] = -1 is negative"),
    ([0, 5, 2], 3, ValueError, r"groups\[1\] = 5 is outside \[0, 3\)"),
    ([0.0, 1.0, 2.0], None, TypeError, "groups must hold integers"),
    ([True, False, True], None, TypeError, "groups must hold integers"),
    (["a", "b", "c"], None, TypeError, "groups must hold integers"),
    ([0, 1], None, ValueError, r"groups must have shape \(3,\)"),
    ([[0, 1, 2]], None, ValueError, r"groups must have shape \(3,\)"),
    ([0, 1, 2], -1, ValueError, "n_groups must be >= 0"),
    ([0, 1, 2], 2.5, TypeError, "n_groups"),
    (None, 3, TypeError, "n_groups is given without groups"),
])
def test_bad_groups(groups, n_groups, error, match):
    y = np.array([1.0, 2.0, 3.0])
    before = None if groups is None else np.array(groups, dtype=object).copy()
    with pytest.raises(error, match=match):
        lf.get_loss("squared_error").loss(y, y, groups=groups, n_groups=n_groups)
    if before is not None:
        assert (np.array(groups, dtype=object) == before).all()


def test_bad_combinations():
    loss = lf.get_loss("squared_error")
    y = np.ones(3)
    with pytest.raises(ValueError, match="not 'none'"):
        loss.loss(y, y, groups=[0, 0, 1], reduction="none")
    with pytest.raises(ValueError, match="loss_out"):
        loss.loss(y, y, groups=[0, 0, 1], loss_out=np.empty(3))
    with pytest.raises(ValueError, match="cross_entropy does not take groups"):
        lf.get_loss("cross_entropy").loss([0, 1, 0], np.zeros((3, 2)), groups=[0, 0, 1])
    with pytest.raises(ValueError, match=r"y_true\[1\]"):
        lf.get_loss("binary_cross_entropy").loss([0.0, 2.0, 1.0], y, groups=[0, 0, 1])
    with pytest.raises(ValueError, match="n_threads"):
        loss.loss(y, y, groups=[0, 0, 1], n_threads=-1)


def test_kernel_refuses_ids_out_of_range_and_bad_accumulators():
    """The kernel's own checks (memory safety): an id outside the accumulators stops it."""
    from lossfuse._kernels import kernels
    k = kernels.LossKernel(kernels.LOSSES["squared_error"][0], ())
    y = np.ones(5)
    acc, counts = np.zeros((4, 2)), np.zeros(2, np.int64)
    with pytest.raises(ValueError, match=r"groups\[3\] = 2 is outside \[0, 2\)"):
        k.group_float64(y, y, None, np.array([0, 1, 0, 2, 0]), acc, counts)
    assert counts.sum() == 3                     # stopped before the bad element
    with pytest.raises(ValueError, match="acc must be"):
        k.group_float64(y, y, None, np.zeros(5, np.int64), np.zeros((4, 2))[:, ::-1], counts)
    with pytest.raises(ValueError, match="one element each"):
        k.group_float64(y, y, None, np.zeros(4, np.int64), acc, counts)
    with pytest.raises(kernels.OverlapError):
        k.group_float64(y, y, None, np.zeros(5, np.int64), acc, acc[0].view(np.int64))


def test_table_codes_kernel():
    """The one-pass lookup of integer group keys: -1 (and counted) outside the table or
    where the table has no code yet; never a read outside the table."""
    from lossfuse._kernels import kernels
    table = np.array([5, -1, 7], np.int64)                 # values 10, 11, 12
    keys = np.array([10, 12, 11, 9, 13, -2**63, 2**63 - 1, 10], np.int64)
    out = np.empty_like(keys)
    assert kernels.table_codes(keys, table, 10, out) == 5
    np.testing.assert_array_equal(out, [5, 7, -1, -1, -1, -1, -1, 5])
    assert kernels.table_codes(keys[:0], table, 10, out[:0]) == 0
    with pytest.raises(ValueError, match="as long as keys"):
        kernels.table_codes(keys, table, 10, out[:3])
    with pytest.raises(ValueError, match="contiguous"):
        kernels.table_codes(keys[::2], table, 10, out[:4])
    with pytest.raises(kernels.OverlapError):
        kernels.table_codes(keys, table, 10, keys)
    with pytest.raises(TypeError):
        kernels.table_codes(keys.astype(np.int32), table, 10, out)
