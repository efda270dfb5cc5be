"""``lossfuse bench --compare``'s statistics and report: the Mann-Whitney U test against SciPy
and against a count of every ordering, the verdict of each case of two runs, and the table.
The runs are synthetic rows of the shape ``lossfuse bench --save`` writes, with per-round
samples about 2% apart; a run and the same run with every sample scaled make the expected
verdicts known."""

import copy
import itertools
import json
import math
import re

import numpy as np
import pytest

from lossfuse import _bench_compare as bc

scipy_stats = pytest.importorskip("scipy.stats")

LONG = ("binary_cross_entropy", "gradient_hessian", "float32", 10_000_000)


def row(speedup=5.0, rounds=None, loss="huber", op="loss_gradient", dtype="float64", n=1000,
        classes=1, threads=1):
    """A result row whose per-round speedups over NumPy are `rounds` (by default five values
    around `speedup`; None in a list: no samples saved)."""
    if rounds is None:
        rounds = [speedup * f for f in (0.98, 0.99, 1.0, 1.01, 1.02)]
    r = {"loss": loss, "op": op, "dtype": dtype, "n": n, "classes": classes,
         "threads": threads, "speedup_vs_numpy": speedup, "spread": 0.02}
    if rounds != [None]:
        r["samples"] = {"seconds": [1e-6] * len(rounds), "speedup_vs_numpy": list(rounds)}
    return r


def run_of_every_case(rounds=5):
    """Rows of the shape of a quick run: 4 losses x 4 ops x 2 dtypes x 2 sizes, and N-thread
    rows, each with `rounds` rounds (a seeded spread of about 2%)."""
    rng = np.random.default_rng(0)
    rows = []
    for loss in ("huber", "poisson", "hinge", "cross_entropy"):
        for dtype in ("float32", "float64"):
            for n in (16, 1000):
                for op in ("loss", "gradient", "loss_gradient", "gradient_hessian"):
                    for threads in ((1,) if n == 16 else (1, 2)):
                        speedup = float(rng.uniform(1.0, 20.0))
                        samples = speedup * (1 + 0.02 * rng.standard_normal(rounds))
                        rows.append(row(speedup, list(samples), loss, op, dtype, n,
                                        10 if loss == "cross_entropy" else 1, threads))
    return rows


def scaled(rows, factor):
    """`rows` with every speedup over NumPy, median and rounds, times `factor`."""
    out = copy.deepcopy(rows)
    for r in out:
        r["speedup_vs_numpy"] *= factor
        r["samples"]["speedup_vs_numpy"] = [v * factor for v in r["samples"]["speedup_vs_numpy"]]
    return out


def case_line(table, c):
    """The line of `table` (text) that shows case `c`."""
    size = f"{c.n}x{c.classes}" if c.loss == "cross_entropy" else str(c.n)
    pattern = (rf"^{c.loss} +{c.op} +{c.dtype} +{size} +{c.threads}(?: |$)")
    lines = [line for line in table.splitlines() if re.match(pattern, line)]
    assert len(lines) == 1, (pattern, table)
    return lines[0]


# ------------------------------------------------------------------------------ U test
def u_counts_by_enumeration(m, n):
    """How many orderings of m x-values and n y-values give each U: every choice of the
    x-positions among m + n, U = the pairs with x after y."""
    counts = [0] * (m * n + 1)
    for xs in itertools.combinations(range(m + n), m):
        u = sum(sum(1 for j in range(x) if j not in xs) for x in xs)
        counts[u] += 1
    return counts


@pytest.mark.parametrize("m, n", [(1, 1), (1, 4), (2, 3), (3, 3), (4, 2), (3, 5), (5, 5),
                                  (2, 7)])
def test_exact_null_distribution_counts_every_ordering(m, n):
    assert list(bc._u_counts(min(m, n), max(m, n))) == u_counts_by_enumeration(m, n)
    assert sum(bc._u_counts(m, n)) == math.comb(m + n, m)


def test_exact_distribution_is_symmetric_and_sums_at_the_largest_size():
    c = bc._u_counts(bc.EXACT_MAX, bc.EXACT_MAX)
    assert sum(c) == math.comb(2 * bc.EXACT_MAX, bc.EXACT_MAX) and c == c[::-1]
    assert min(c) >= 1


def random_pairs(ties, count=300, largest=12):
    rng = np.random.default_rng(12345 if ties else 54321)
    for _ in range(count):
        m, n = rng.integers(1, largest + 1, size=2)
        if ties:
            yield rng.integers(0, 4, m).astype(float), rng.integers(0, 4, n).astype(float)
        else:
            yield rng.standard_normal(m), rng.standard_normal(n) + rng.uniform(-2, 2)


def test_exact_p_matches_scipy_on_random_samples_without_ties():
    for x, y in random_pairs(ties=False):
        u, p = bc.mann_whitney_u(x, y)
        ref = scipy_stats.mannwhitneyu(x, y, alternative="two-sided", method="exact")
        assert u == ref.statistic
        assert p == pytest.approx(ref.pvalue, rel=1e-12, abs=1e-15)


def test_asymptotic_p_matches_scipy_with_ties_and_without():
    for x, y in itertools.chain(random_pairs(ties=True), random_pairs(ties=False, count=100)):
        ref = scipy_stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic")
        u, p = bc.mann_whitney_u(x, y, method="asymptotic")
        assert u == ref.statistic
        assert p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-15)


def test_auto_is_exact_without_ties_and_asymptotic_with_ties_or_beyond_the_exact_sizes():
    x, y = [1.0, 2.0, 5.0], [3.0, 4.0, 6.0, 7.0]
    assert bc.mann_whitney_u(x, y) == bc.mann_whitney_u(x, y, method="exact")
    tied = [1.0, 2.0, 3.0]
    assert bc.mann_whitney_u(tied, y) == bc.mann_whitney_u(tied, y, method="asymptotic")
    rng = np.random.default_rng(3)
    big_x, big_y = rng.standard_normal(bc.EXACT_MAX + 1), rng.standard_normal(60) + 0.4
    ref = scipy_stats.mannwhitneyu(big_x, big_y, alternative="two-sided", method="asymptotic")
    assert bc.mann_whitney_u(big_x, big_y)[1] == pytest.approx(ref.pvalue, rel=1e-9)
    at_limit_x, at_limit_y = big_x[:bc.EXACT_MAX], big_y[:bc.EXACT_MAX]
    ref = scipy_stats.mannwhitneyu(at_limit_x, at_limit_y, alternative="two-sided",
                                   method="exact")
    assert bc.mann_whitney_u(at_limit_x, at_limit_y)[1] == pytest.approx(ref.pvalue, rel=1e-9)


@pytest.mark.parametrize("method", ["auto", "asymptotic"])
def test_equal_samples_and_constant_samples_give_p_one(method):
    x = [3.0, 1.0, 2.0, 5.0]
    assert bc.mann_whitney_u(x, list(x), method=method) == (8.0, 1.0)      # ties: m*n/2
    assert bc.mann_whitney_u([2.0] * 3, [2.0] * 4, method=method) == (6.0, 1.0)
    assert bc.mann_whitney_u([2.0], [2.0], method=method) == (0.5, 1.0)


def test_tiny_samples():
    assert bc.mann_whitney_u([1.0], [2.0]) == (0.0, 1.0)
    assert bc.mann_whitney_u([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]) == (0.0, pytest.approx(0.1))
    assert bc.mann_whitney_u([4.0, 5.0, 6.0], [1.0, 2.0, 3.0]) == (9.0, pytest.approx(0.1))


def test_the_test_is_symmetric_and_leaves_its_inputs_alone():
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal(6), rng.standard_normal(4)
    kept = x.copy(), y.copy()
    u_xy, p_xy = bc.mann_whitney_u(x, y)
    u_yx, p_yx = bc.mann_whitney_u(y, x)
    assert u_xy + u_yx == 24 and p_xy == p_yx
    assert np.array_equal(x, kept[0]) and np.array_equal(y, kept[1])


@pytest.mark.parametrize("x, y, says", [
    ([], [1.0], "x is empty"), ([1.0], [], "y is empty"),
    ([1.0, float("nan")], [2.0], "x holds a value that is not finite"),
    ([1.0], [2.0, float("inf")], "y holds a value that is not finite"),
    ([[1.0, 2.0]], [3.0], "x must be one-dimensional")])
def test_bad_samples_are_named(x, y, says):
    with pytest.raises(ValueError, match=says):
        bc.mann_whitney_u(x, y)


@pytest.mark.parametrize("bad", [["1.0", "2.0"], [True, False], [1 + 2j]])
def test_samples_of_other_than_real_numbers_are_refused(bad):
    with pytest.raises(TypeError, match="x must hold real numbers"):
        bc.mann_whitney_u(bad, [1.0, 2.0])
    with pytest.raises(TypeError, match="y must hold real numbers"):
        bc.mann_whitney_u([1.0, 2.0], bad)


def test_bad_method_and_exact_with_ties_are_refused():
    with pytest.raises(ValueError, match="method must be"):
        bc.mann_whitney_u([1.0], [2.0], method="permutation")
    with pytest.raises(ValueError, match="without ties"):
        bc.mann_whitney_u([1.0, 2.0], [2.0, 3.0], method="exact")


@pytest.mark.parametrize("m, n", [(1, 1), (1, 5), (3, 3), (3, 4), (4, 4), (3, 5), (5, 5),
                                  (7, 7), (2, 60)])
def test_smallest_p_is_that_of_samples_that_do_not_overlap(m, n):
    x, y = np.arange(m, dtype=float), np.arange(m, m + n, dtype=float)
    method = "exact" if max(m, n) <= bc.EXACT_MAX else "asymptotic"
    ref = scipy_stats.mannwhitneyu(x, y, alternative="two-sided", method=method).pvalue
    assert bc.min_p_value(m, n) == pytest.approx(ref, rel=1e-12)
    if method == "exact":
        assert bc.min_p_value(m, n) == pytest.approx(min(1.0, 2 / math.comb(m + n, m)))
    rng = np.random.default_rng(m * 100 + n)         # no ordering of such samples goes lower
    for _ in range(50):
        assert bc.mann_whitney_u(rng.standard_normal(m), rng.standard_normal(n))[1] >= \
            bc.min_p_value(m, n) * (1 - 1e-12)


def test_three_rounds_a_side_can_never_be_significant_at_five_percent():
    assert bc.min_p_value(3, 3) == pytest.approx(0.1)
    assert bc.min_p_value(3, 4) > 0.05 > bc.min_p_value(4, 4)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3"])
def test_smallest_p_refuses_sizes_that_are_not_counts(bad):
    with pytest.raises(ValueError, match="n_x must be a whole number"):
        bc.min_p_value(bad, 3)
    with pytest.raises(ValueError, match="n_y must be a whole number"):
        bc.min_p_value(3, bad)


# ------------------------------------------------------------------------------ compare()
def test_a_run_compared_with_itself_changes_nothing():
    rows = run_of_every_case()
    changes = bc.compare(rows, copy.deepcopy(rows))
    assert len(changes) == len(rows)
    assert all(c.verdict == "unchanged" and not c.significant and c.p == 1.0
               and c.change == 0.0 for c in changes)
    assert bc.regressions(changes) == []


@pytest.mark.parametrize("rounds", [5, 7])
def test_a_baseline_thirty_percent_faster_is_a_regression_in_every_case(rounds):
    new = run_of_every_case(rounds)
    changes = bc.compare(scaled(new, 1.3), new)
    assert [c.verdict for c in changes] == ["regression"] * len(new)
    assert bc.regressions(changes) == changes
    for c, r in zip(changes, new):
        assert c.key == (r["loss"], r["op"], r["dtype"], r["n"], r["classes"], r["threads"])
        assert c.old == pytest.approx(1.3 * r["speedup_vs_numpy"])
        assert c.new == r["speedup_vs_numpy"] and c.change == pytest.approx(1 / 1.3 - 1)
        assert c.p == pytest.approx(bc.min_p_value(rounds, rounds)) and c.significant
    table = bc.compare_table(changes)
    for c in changes:
        line = case_line(table, c)
        assert f" {c.old:.2f} " in line and f" {c.new:.2f} " in line
        assert "-23.1%" in line and line.endswith("SLOWER")
    assert f"regressions: {len(new)}," in table and "improvements: 0," in table


def test_a_baseline_thirty_percent_slower_gives_improvements_only():
    new = run_of_every_case()
    changes = bc.compare(scaled(new, 1 / 1.3), new)
    assert {c.verdict for c in changes} == {"improvement"}
    assert bc.regressions(changes) == []
    table = bc.compare_table(changes)
    assert "regressions: 0," in table and f"improvements: {len(new)}," in table
    assert all(case_line(table, c).endswith("faster") for c in changes)


def test_mixed_changes_get_their_own_verdicts_and_the_worst_is_listed_first():
    base = run_of_every_case()
    factors = [1.5, 1.3, 1 / 1.3, 1 / 1.6, 1.0, 1.03]          # base / new
    new = copy.deepcopy(base)
    for i, r in enumerate(new):
        f = 1 / factors[i % len(factors)]
        r["speedup_vs_numpy"] *= f
        r["samples"]["speedup_vs_numpy"] = [v * f * 1.0001 for v in
                                            r["samples"]["speedup_vs_numpy"]]
    changes = bc.compare(base, new)
    expect = ["regression", "regression", "improvement", "improvement", "unchanged",
              "unchanged"]
    assert [c.verdict for c in changes] == [expect[i % 6] for i in range(len(base))]
    assert [c.key for c in bc.regressions(changes)] == \
        [c.key for i, c in enumerate(changes) if i % 6 < 2]
    listed = [line for line in bc.compare_table(changes).splitlines()
              if line.endswith(("SLOWER", "faster"))]
    marks = [line.split()[-1] for line in listed]
    assert marks == sorted(marks, key=["SLOWER", "faster"].index)
    drops = [float(line.split()[-3].rstrip("%")) for line in listed if line.endswith("SLOWER")]
    rises = [float(line.split()[-3].rstrip("%")) for line in listed if line.endswith("faster")]
    assert drops == sorted(drops) and drops[0] == pytest.approx(-33.3, abs=0.05)
    assert rises == sorted(rises, reverse=True) and rises[0] == pytest.approx(60.0, abs=0.05)


def test_a_significant_change_under_the_threshold_is_unchanged_but_marked():
    base = [row(10.0), row(10.0, loss="poisson")]
    new = [row(9.5), row(10.0, loss="poisson")]                   # 5% down, rounds apart
    changes = bc.compare(base, new, max_slowdown=0.10)
    assert [(c.verdict, c.significant) for c in changes] == [("unchanged", True),
                                                               ("unchanged", False)]
    assert bc.compare(base, new, max_slowdown=0.05)[0].verdict == "regression"
    table = bc.compare_table(changes, show_all=True)
    assert case_line(table, changes[0]).endswith(" *") and "*: a significant change" in table
    assert "(1 of them with a significant change under 10%)" in bc.compare_table(changes)


@pytest.mark.parametrize("old, new, verdict", [(10.0, 9.0, "regression"),
                                               (3.0, 2.7, "regression"),
                                               (3.0, 3.3, "improvement"),
                                               (10.0, 11.0, "improvement")])
def test_a_change_of_the_threshold_exactly_counts(old, new, verdict):
    base = [row(old, [old * f for f in (0.99, 1.0, 1.01, 1.005, 0.995)])]
    (c,) = bc.compare(base, [row(new, [new * f for f in (0.99, 1.0, 1.01, 1.005, 0.995)])],
                      max_slowdown=0.10)
    assert c.verdict == verdict


def test_cases_in_one_run_only_are_listed_and_never_a_regression():
    base = [row(10.0), row(10.0, loss="poisson")]
    new = [row(2.0), row(1.0, loss="hinge")]
    changes = bc.compare(base, new)
    assert [(c.loss, c.verdict, c.old, c.new) for c in changes] == [
        ("huber", "regression", 10.0, 2.0), ("hinge", "new", None, 1.0),
        ("poisson", "missing", 10.0, None)]
    assert all(c.p is None and c.change is None for c in changes[1:])
    assert [c.loss for c in bc.regressions(changes)] == ["huber"]
    table = bc.compare_table(changes)
    assert case_line(table, changes[1]).split()[-2:] == ["1.00", "new"]
    assert case_line(table, changes[2]).split()[-2:] == ["10.00", "missing"]
    assert "new: 1, missing: 1" in table


def test_cases_are_matched_by_op_dtype_size_classes_and_threads():
    base = [row(10.0), row(10.0, op="loss"), row(10.0, dtype="float32"), row(10.0, n=16),
            row(10.0, loss="cross_entropy", classes=10), row(10.0, threads=2)]
    new = [row(2.0), row(2.0, op="gradient"), row(2.0, dtype="float32", op="loss"),
           row(2.0, n=17), row(2.0, loss="cross_entropy", classes=2), row(2.0, threads=3)]
    changes = bc.compare(base, new)
    assert sorted(c.verdict for c in changes) == ["missing"] * 5 + ["new"] * 5 + ["regression"]
    (bad,) = bc.regressions(changes)
    assert bad.key == ("huber", "loss_gradient", "float64", 1000, 1, 1)


def test_too_few_rounds_are_reported_as_such_never_as_no_change():
    base = [row(10.0, [9.9, 10.0, 10.1]), row(10.0, [9.9, 10.0, 10.1], loss="poisson")]
    new = [row(5.0, [4.9, 5.0, 5.1]), row(10.0, [9.9, 10.0, 10.1], loss="poisson")]
    changes = bc.compare(base, new)
    assert [(c.verdict, c.p, c.significant, c.rounds) for c in changes] == \
        [("inconclusive", None, False, (3, 3))] * 2
    assert changes[0].change == pytest.approx(-0.5)
    assert bc.regressions(changes) == []
    table = bc.compare_table(changes)
    assert "too few rounds to test, not listed: 2 cases, e.g. 3 vs 3 rounds, whose p is never " \
        "below 0.1\n  (p < 0.05 takes 4 rounds a side or more)\n" in table
    assert "unchanged: 0" in table
    md = bc.compare_table(changes, fmt="markdown")
    assert "\n- too few rounds to test, not listed: 2 cases, e.g. 3 vs 3 rounds, whose p is " \
        "never below 0.1 (p < 0.05 takes 4 rounds a side or more)\n" in md
    assert "too few rounds: 2" in table
    full = bc.compare_table(changes, show_all=True)
    assert case_line(full, changes[0]).split()[-5:] == ["10.00", "5.00", "-50.0%", "too",
                                                        "few"]
    # a laxer level is within reach of 3 rounds a side: then the test decides
    assert bc.compare(base, new, alpha=0.2)[0].verdict == "regression"


def test_rounds_that_can_reach_the_level_are_tested_however_uneven():
    base = [row(10.0, [9.9, 10.0, 10.1])]
    new = [row(5.0, [4.9, 5.0, 5.1, 5.05, 4.95])]                 # 3 vs 5: p down to 0.036
    (c,) = bc.compare(base, new)
    assert c.verdict == "regression" and c.p == pytest.approx(2 / math.comb(8, 3))


def test_a_run_without_rounds_saved_is_not_tested():
    changes = bc.compare([row(10.0, [None])], [row(5.0)])
    assert [(c.verdict, c.p, c.rounds) for c in changes] == [("inconclusive", None, (0, 5))]
    assert bc.regressions(changes) == []
    assert "no per-round samples in a run, not listed: 1 case" in bc.compare_table(changes)
    assert case_line(bc.compare_table(changes, show_all=True), changes[0]).endswith("no rounds")


def test_compare_leaves_its_inputs_alone():
    base, new = run_of_every_case(), scaled(run_of_every_case(), 0.5)
    kept = copy.deepcopy(base), copy.deepcopy(new)
    bc.compare(base, new)
    assert (base, new) == kept


@pytest.mark.parametrize("kw, says", [({"max_slowdown": -0.1}, "max_slowdown must be"),
                                      ({"max_slowdown": 1.0}, "max_slowdown must be"),
                                      ({"max_slowdown": float("nan")}, "max_slowdown must be"),
                                      ({"alpha": 0.0}, "alpha must be"),
                                      ({"alpha": 1.5}, "alpha must be"),
                                      ({"alpha": "0.05"}, "alpha must be")])
def test_thresholds_out_of_range_are_named(kw, says):
    with pytest.raises(ValueError, match=says):
        bc.compare([row()], [row()], **kw)
    with pytest.raises(ValueError, match=says):
        bc.compare_table([], **kw)


@pytest.mark.parametrize("mangle, says", [
    (lambda r: r.pop("loss"), r"new_rows\[0\] is not a result row"),
    (lambda r: r.update(speedup_vs_numpy=0.0), "speedup_vs_numpy is 0.0, not a number > 0"),
    (lambda r: r.update(speedup_vs_numpy=None), "speedup_vs_numpy is None"),
    (lambda r: r.update(speedup_vs_numpy=float("nan")), "speedup_vs_numpy is nan"),
    (lambda r: r["samples"].update(speedup_vs_numpy=[1.0, "2"]), r"samples\['speedup_vs_numpy'\]"),
    (lambda r: r["samples"].update(speedup_vs_numpy=[1.0, -2.0]), r"samples\['speedup_vs_n"),
    (lambda r: r["samples"].update(speedup_vs_numpy=3.0), r"samples\['speedup_vs_numpy'\]")])
def test_malformed_rows_are_named(mangle, says):
    new = [row()]
    mangle(new[0])
    with pytest.raises(ValueError, match=says):
        bc.compare([row()], new)


def test_a_case_twice_in_a_run_is_refused():
    with pytest.raises(ValueError, match=r"base_rows\[1\] repeats the case huber"):
        bc.compare([row(), row()], [row()])


# ------------------------------------------------------------------------------ the table
def markdown_rows(text):
    return [line for line in text.splitlines() if line.startswith("|")]


def cells(line):
    return [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]


def mixed_changes():
    base = run_of_every_case()
    new = scaled(base, 1.0)
    for i, r in enumerate(new):
        f = (0.7, 1.4, 1.0)[i % 3]
        r["speedup_vs_numpy"] *= f
        r["samples"]["speedup_vs_numpy"] = [v * f for v in r["samples"]["speedup_vs_numpy"]]
    return bc.compare(base[:-1], new[1:] + [row(3.0, loss="poisson", n=77)])


@pytest.mark.parametrize("show_all", [False, True])
def test_markdown_table_is_well_formed(show_all):
    changes = mixed_changes()
    text = bc.compare_table(changes, fmt="markdown", show_all=show_all)
    rows = markdown_rows(text)
    head, rule, body = rows[0], rows[1], rows[2:]
    assert cells(head) == ["loss", "op", "dtype", "n", "threads", "old x NumPy",
                           "new x NumPy", "change", "p", "verdict"]
    assert all(re.fullmatch(r"---:?", c) for c in cells(rule))
    assert {len(cells(line)) for line in rows} == {10}
    listed = len(changes) if show_all else sum(c.verdict in ("regression", "improvement",
                                                            "new", "missing") for c in changes)
    assert len(body) == listed
    lines = text.splitlines()
    start = lines.index(head)
    assert lines[start - 1] == "" and lines[start + len(rows)] == ""   # a table stands alone
    assert "**compared:" in text


def test_markdown_escapes_the_cells():
    c = bc.compare([row(10.0, [9.99, 10.0, 10.01, 10.0, 10.0])],
                   [row(10.2, [10.19, 10.2, 10.21, 10.2, 10.2])], max_slowdown=0.5)
    text = bc.compare_table(c, fmt="markdown", show_all=True)
    assert c[0].significant and cells(markdown_rows(text)[2])[-1] == "\\*"


@pytest.mark.parametrize("show_all", [False, True])
def test_text_fits_in_100_columns_with_the_longest_names(show_all):
    loss, op, dtype, n = LONG
    rng = np.random.default_rng(1)
    base = [row(123.45, list(123.45 + rng.standard_normal(60)), loss, op, dtype, n, threads=64),
            row(1.0, [1.0, 1.01, 0.99], "cross_entropy", op, dtype, 100_000, 1000, 64),
            row(1.0, [1.0, 1.01, 0.99, 1.02], "cross_entropy", op, dtype, 10_000, 1000, 2),
            row(1.0, [1.0, 1.01], "squared_hinge", op, dtype, n, threads=2),
            row(1.0, [1.0], "exponential", op, dtype, n, threads=2),
            row(1.0, [None], "absolute_error", op, dtype, n, threads=2),
            row(5.0, None, "binary_cross_entropy", "loss_gradient", dtype, n, threads=2)]
    new = [row(0.01, list(0.01 + 1e-4 * rng.standard_normal(60)), loss, op, dtype, n,
               threads=64),
           row(99.99, [99.9, 99.99, 100.0], "cross_entropy", op, dtype, 100_000, 1000, 64),
           row(1.0, [1.0, 1.01, 0.99], "cross_entropy", op, dtype, 10_000, 1000, 2),
           row(1.0, [1.0, 1.01, 0.99], "squared_hinge", op, dtype, n, threads=2),
           row(1.0, [1.0, 1.01, 0.99], "exponential", op, dtype, n, threads=2),
           row(1.0, None, "absolute_error", op, dtype, n, threads=2),
           row(5.0, None, "binary_cross_entropy", "gradient", dtype, n, threads=2)]
    changes = bc.compare(base, new, max_slowdown=0.125, alpha=0.001)
    assert changes[0].verdict == "regression" and changes[0].p < 1e-10
    text = bc.compare_table(changes, max_slowdown=0.125, alpha=0.001, show_all=show_all)
    assert max(map(len, text.splitlines())) <= 100, text
    assert case_line(text, changes[0]).split()[-5:] == ["123.5", "0.01", "-100.0%",
                                                         f"{changes[0].p:.2g}", "SLOWER"]
    if show_all:
        assert case_line(text, changes[1]).split()[-5:] == ["1.00", "99.99", "+9899%", "too",
                                                             "few"]
    assert "a change of 12.5% or more in x NumPy at p < 0.001" in text


def test_a_comparison_with_nothing_to_list_has_no_empty_table():
    rows = run_of_every_case()
    text = bc.compare_table(bc.compare(rows, rows))
    assert "loss " not in text and "---" not in text
    assert f"unchanged, not listed: {len(rows)} cases" in text
    assert f"compared: {len(rows)} cases; regressions: 0, improvements: 0," in text
    md = bc.compare_table(bc.compare(rows, rows), fmt="markdown")
    assert markdown_rows(md) == []


def test_the_verdict_lines_state_the_thresholds():
    text = bc.compare_table(mixed_changes(), max_slowdown=0.2, alpha=0.01)
    assert "a change of 20% or more in x NumPy at p < 0.01" in text
    assert "Mann-Whitney U" in text


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="fmt must be 'text' or 'markdown'"):
        bc.compare_table([], fmt="html")


def test_a_saved_run_of_the_benchmark_compares_with_itself(tmp_path):
    """The rows of a JSON file as ``lossfuse bench --save`` writes it."""
    rows = run_of_every_case()
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"schema": 2, "machine": {}, "results": rows}))
    loaded = json.loads(path.read_text())["results"]
    changes = bc.compare(loaded, loaded)
    assert bc.regressions(changes) == [] and len(changes) == len(rows)
