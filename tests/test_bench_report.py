"""The summary, the README tables and the report of a saved run of ``lossfuse bench``: the
numbers they show (checked against the rows they come from), their shape (cells per Markdown
row, text width), empty cells for what a row lacks, and the errors on a malformed run."""

import copy
import importlib.util
import io
import json
import pathlib
import random
import re
import statistics

import pytest

from lossfuse import _bench, _bench_report as br

OPS = list(_bench.OPS)


def row(loss="huber", op="loss_gradient", dtype="float64", n=1000, classes=1, threads=1,
        seconds=1e-5, speedup=4.0, limit=0.5, dispatch=1.1, thread_speedup=None,
        spread=0.02):
    """A result row with every key of the saved schema, its ratios consistent with its
    times; at n <= 16 and on N threads no baseline, as `lossfuse bench` saves them."""
    baseline = threads == 1 and n > 16 and dispatch is not None
    return {"loss": loss, "family": _bench.family(loss), "op": op, "dtype": dtype, "n": n,
            "classes": classes, "threads": threads, "seconds": seconds,
            "numpy_seconds": speedup * seconds, "add_seconds": limit * seconds,
            "speedup_vs_numpy": speedup, "fraction_of_add": limit,
            "gb_per_s": 24 * n * classes / seconds / 1e9, "spread": spread,
            "baseline_seconds": dispatch * seconds if baseline else None,
            "baseline_isa": "avx2", "dispatch_speedup": dispatch if baseline else None,
            "thread_speedup": thread_speedup,
            "samples": {"seconds": [seconds] * 3, "speedup_vs_numpy": [speedup] * 3}}


MACHINE = {"cpu": "AMD EPYC", "cores": 2, "isa": "avx512", "python": "3.11.7",
           "numpy": "2.4.6", "cython": "3.3.1", "kernel_compiler": "gcc 12.2.0",
           "compiler": "gcc", "lossfuse": "0.1.0", "git_commit": "83e44438f689b8c5a72d"}


def run_of(rows, machine=MACHINE):
    return {"schema": 2, "machine": dict(machine), "results": rows}


def md_tables(text):
    """The Markdown tables of `text`: lists of rows, each a list of cells."""
    tables, current = [], None
    for line in text.splitlines():
        if line.startswith("|"):
            assert line.endswith("|"), line
            if current is None:
                current = []
                tables.append(current)
            current.append([c.strip() for c in line[1:-1].split("|")])
        else:
            current = None
    return tables


def check_well_formed(table):
    """Every row of a Markdown table has the header's number of cells, the second row is
    the alignment row."""
    assert {len(r) for r in table} == {len(table[0])}, table
    assert all(re.fullmatch(r"---:?", c) for c in table[1]), table[1]


def summary_lines(text):
    """The rows of a text summary by (family, ratio): [cases, median, worst, worst case]
    (a family is named on its first row only)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("family"))
    assert set(lines[start + 1]) == {"-"}
    got, family = {}, None
    for line in lines[start + 2:]:
        m = re.fullmatch(r"(\S*)\s+(x \S+(?: thr)?)\s+(\d+)\s+(\S+)\s+(\S+)\s+(.+)", line)
        if m is None:
            break
        family = m[1] or family
        got[family, m[2]] = [int(m[3]), float(m[4]), float(m[5]), m[6]]
    return got


# ------------------------------------------------------------------------------ summary
def hand_made():
    """Regression: x numpy 2, 4, 10, 3 (1 thread) and a 2-thread row that does not count;
    x limit at n > 16: 0.5, 0.8, 0.2 (0.01 at n = 16 does not count); thread scaling from
    1e5 elements: 1.8 and 1.2 (0.5 at n = 1000 does not count).  Classification: one row."""
    return [
        row("huber", n=16, speedup=2.0, limit=0.01),
        row("huber", n=1000, speedup=4.0, limit=0.5, thread_speedup=0.5),
        row("huber", n=1000, threads=2, speedup=0.1, limit=0.001),
        row("squared_error", "loss", n=100_000, speedup=10.0, limit=0.8, thread_speedup=1.8),
        row("squared_error", "loss", n=100_000, threads=2, speedup=18.0, limit=1.4),
        row("absolute_error", "gradient", "float32", n=1_000_000, speedup=3.0, limit=0.2,
            thread_speedup=1.2),
        row("absolute_error", "gradient", "float32", n=1_000_000, threads=2, speedup=3.6,
            limit=0.24),
        row("hinge", "gradient_hessian", n=1000, speedup=7.0, limit=0.3),
    ]


def test_summary_medians_and_worsts_on_a_hand_made_set():
    got = summary_lines(br.summary(hand_made()))
    assert got == {
        ("regression", "x numpy"): [4, 3.5, 2.0, "huber loss_gradient float64 16"],
        ("regression", "x limit"): [3, 0.5, 0.2, "absolute_error gradient float32 1e6"],
        ("regression", "x 2 thr"): [2, 1.5, 1.2, "absolute_error gradient float32 1e6"],
        ("classification", "x numpy"): [1, 7.0, 7.0, "hinge gradient_hessian float64 1000"],
        ("classification", "x limit"): [1, 0.3, 0.3, "hinge gradient_hessian float64 1000"],
    }


def test_summary_title_counts_the_one_thread_cases_and_says_the_sizes():
    text = br.summary(hand_made())
    title = " ".join(text.split("\nfamily")[0].splitlines())
    assert title.startswith("Summary of 5 cases on one thread")
    assert "x limit: n > 16" in title and "x 2 thr: from 1e5 elements" in title


def test_summary_families_in_their_order_whatever_the_rows_order():
    rows = [row("cross_entropy", n=1000, classes=10, speedup=3.0), row("poisson", speedup=2.0),
            row("hinge", speedup=5.0), row("huber", speedup=6.0)]
    for order in (rows, rows[::-1]):
        text = br.summary(order)
        assert [f for f, r in summary_lines(text) if r == "x numpy"] == [
            "regression", "deviance", "classification", "multiclass"]
        assert text == br.summary(rows)


def test_thread_scaling_counts_the_elements_of_cross_entropy():
    """1e4 rows x 10 classes is 1e5 elements: counted; 1e3 x 10 is not."""
    rows = [row("cross_entropy", n=10_000, classes=10, thread_speedup=1.7),
            row("cross_entropy", n=10_000, classes=10, threads=2),
            row("cross_entropy", n=1_000, classes=10, thread_speedup=0.9),
            row("cross_entropy", n=1_000, classes=10, threads=2)]
    got = summary_lines(br.summary(rows))
    assert got["multiclass", "x 2 thr"] == [1, 1.7, 1.7,
                                            "cross_entropy loss_gradient float64 1e4x10"]


def test_a_summary_without_thread_rows_says_so():
    rows = [row(n=1000), row(n=100_000)]
    text = br.summary(rows)
    assert not any(k[1].endswith("thr") for k in summary_lines(text))
    assert text.splitlines()[-1] == "x N thr: not timed (lossfuse bench --threads N)"
    assert "None" not in text


def test_a_summary_of_small_sizes_says_which_sizes_it_had():
    rows = [row(n=16, thread_speedup=None), row(n=1000, thread_speedup=1.1),
            row(n=1000, threads=2)]
    text = br.summary(rows)
    assert text.splitlines()[-1] == ("x 2 thr: no case has it (from 1e5 elements; elements "
                                     "timed: 16, 1000)")


def test_only_n_16_has_no_limit_row():
    text = br.summary([row(n=16), row("hinge", n=16)])
    assert set(summary_lines(text)) == {("regression", "x numpy"),
                                        ("classification", "x numpy")}
    assert "x limit: no case has it (n > 16; elements timed: 16)" in text


def test_an_empty_run_has_a_clear_summary():
    assert br.summary([]) == "summary: no results (the run timed no case)"
    assert br.summary([], "markdown") == "summary: no results (the run timed no case)"
    assert br.summary([row(threads=2)]) == "summary: no results (the run timed no case)"


def test_markdown_summary_holds_the_text_summary_values():
    rows = hand_made()
    text = summary_lines(br.summary(rows))
    (table,) = md_tables(br.summary(rows, "markdown"))
    check_well_formed(table)
    assert table[0] == ["family", "ratio", "cases", "median", "worst", "worst case"]
    assert table[1] == ["---", "---", "---:", "---:", "---:", "---"]
    family = None
    got = {}
    for cells in table[2:]:
        family = cells[0] or family
        got[family, cells[1]] = [int(cells[2]), float(cells[3]), float(cells[4]), cells[5]]
    assert got == text


def test_summary_text_fits_100_columns_with_the_longest_names():
    rows = [row("binary_cross_entropy", "gradient_hessian", "float32", 10_000_000,
                speedup=123.45, limit=0.5, thread_speedup=1.9),
            row("cross_entropy", "gradient_hessian", "float32", 100_000, classes=1000,
                speedup=100.5, thread_speedup=1.5),
            *[row("pseudo_huber", "gradient_hessian", "float64", 10_000_000 + i,
                  thread_speedup=1.2) for i in range(1200)],
            row(threads=16)]
    text = br.summary(rows)
    assert max(map(len, text.splitlines())) <= 100
    got = summary_lines(text)
    assert got["classification", "x numpy"][3] == ("binary_cross_entropy gradient_hessian "
                                                   "float32 1e7")
    assert got["multiclass", "x 16 thr"][3] == "cross_entropy gradient_hessian float32 1e5x1000"
    assert got["regression", "x numpy"][0] == 1200      # not the 16-thread row


def test_summary_rejects_an_unknown_format():
    with pytest.raises(ValueError, match="fmt must be one of 'text', 'markdown', not 'html'"):
        br.summary([row()], "html")


# ------------------------------------------------------------------------------ live table
def test_table_row_values_and_empty_cells():
    table = br.Table([("huber", "loss_gradient", "float64", 1000, 1)], 2, "avx2", wide=True)
    head = table.header()[0].split()
    assert head[:6] == ["loss", "op", "dtype", "n", "thr", "time"]
    one = row(seconds=12.3e-6, speedup=4.56, limit=0.78, dispatch=1.23, thread_speedup=1.9)
    cells = table.row(one).split()
    assert cells == ["huber", "loss_gradient", "float64", "1000", "1", "12.3", "us", "56.1",
                     "us", "9.59", "us", "4.56", "0.78", "0.02", "2.0", "1.23", "1.90"]
    two = row(threads=2, seconds=1e-3, speedup=2.0, limit=0.5)     # no baseline, no scaling
    line = table.row(two)
    assert line.split() == ["huber", "loss_gradient", "float64", "1000", "2", "1.00", "ms",
                            "2.00", "ms", "500", "us", "2.00", "0.50", "0.02", "0.0"]
    assert "None" not in line and len(line) < len(table.header()[0])


def test_table_has_no_limit_at_n_16():
    table = br.Table([("huber", "loss", "float32", 16, 1)], 1, "avx2")
    cells = table.row(row("huber", "loss", "float32", 16, seconds=5e-7, speedup=7.3,
                          limit=0.52)).split()
    assert cells == ["huber", "loss", "float32", "16", "1", "500", "ns", "7.30", "0.02"]


def test_table_fits_100_columns_with_the_longest_names():
    cases = [("binary_cross_entropy", "gradient_hessian", "float32", 10_000_000, 1),
             ("cross_entropy", "gradient_hessian", "float64", 100_000, 1000)]
    table = br.Table(cases, 16, "avx2")
    lines = table.header() + [table.row(row(*c[:4], classes=c[4], seconds=12.5))
                              for c in cases]
    assert max(map(len, lines)) <= 100
    assert "100000x1000" in lines[3] and "12.5 s" in lines[3]


def test_duration_picks_the_unit():
    assert [br.duration(s) for s in (8.12e-7, 1.234e-5, 4.561e-3, 1.234, 123.4, None)] == [
        "812 ns", "12.3 us", "4.56 ms", "1.23 s", "123 s", ""]


# ------------------------------------------------------------------------------ README tables
def synthetic_run():
    """huber and poisson at 16, 1000 and 1e6 (one and two threads, every op at 1e6),
    cross_entropy at 16x10 and 1e5x10, two dtypes."""
    rows = []
    for dtype in ("float32", "float64"):
        for loss, k in (("huber", 1.0), ("poisson", 2.0)):
            rows.append(row(loss, "loss_gradient", dtype, 16, seconds=8e-7, speedup=4 * k))
            rows += [row(loss, "loss_gradient", dtype, 1000, seconds=1.5e-6, speedup=10 * k,
                         limit=0.4, dispatch=1.05, thread_speedup=1.1),
                     row(loss, "loss_gradient", dtype, 1000, threads=2, seconds=1.4e-6)]
            for i, op in enumerate(OPS):
                rows += [row(loss, op, dtype, 1_000_000, seconds=2e-4 * (i + 1),
                             speedup=20 * k + i, limit=0.9, dispatch=1.2, thread_speedup=1.8),
                         row(loss, op, dtype, 1_000_000, threads=2, seconds=1e-4)]
        for op in OPS:
            rows.append(row("cross_entropy", op, dtype, 16, classes=10, speedup=3.0))
            rows += [row("cross_entropy", op, dtype, 100_000, classes=10, seconds=2e-3,
                         speedup=5.0, dispatch=1.5, thread_speedup=1.9),
                     row("cross_entropy", op, dtype, 100_000, classes=10, threads=2)]
    return run_of(rows)


def test_readme_tables_rows_columns_and_values():
    text = br.readme_tables(synthetic_run())
    first, ops, ce = md_tables(text)
    for t in (first, ops, ce):
        check_well_formed(t)
    assert first[0] == ["loss", "dtype", "n", "lossfuse µs", "NumPy µs", "x NumPy",
                        "x np.add", "x AVX2", "x 2 thr"]
    assert [r[:3] for r in first[2:]] == [[loss, dt, n] for loss in ("huber", "poisson")
                                          for dt in ("float32", "float64")
                                          for n in ("16", "1000", "1e6")]
    by = {tuple(r[:3]): r[3:] for r in first[2:]}
    assert by["huber", "float32", "16"] == ["0.80", "3.20", "4.00", "", "", ""]
    assert by["poisson", "float64", "1000"] == ["1.50", "30.0", "20.00", "0.40", "1.05", "1.10"]
    assert by["huber", "float64", "1e6"] == ["600.0", "13200.0", "22.00", "0.90", "1.20", "1.80"]

    assert ops[0] == ["loss", "dtype", *OPS]
    assert ops[2:] == [["huber", "float32", "20.00", "21.00", "22.00", "23.00"],
                       ["huber", "float64", "20.00", "21.00", "22.00", "23.00"],
                       ["poisson", "float32", "40.00", "41.00", "42.00", "43.00"],
                       ["poisson", "float64", "40.00", "41.00", "42.00", "43.00"]]

    assert ce[0] == ["dtype", "rows x classes", "op", "lossfuse µs", "NumPy µs", "x NumPy",
                     "x AVX2", "x 2 thr"]
    assert [r[:3] for r in ce[2:]] == [[dt, "1e5 x 10", op] for dt in ("float32", "float64")
                                       for op in OPS]       # 16 x 10: no table row
    assert ce[2][3:] == ["2000.0", "10000.0", "5.00", "1.50", "1.90"]
    assert "None" not in text


def test_readme_tables_machine_line():
    text = br.readme_tables(synthetic_run())
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert text.splitlines()[-1] == (
        "Run on AMD EPYC, 2 cores, avx512 kernels; Python 3.11.7, NumPy 2.4.6, Cython 3.3.1, "
        "gcc 12.2.0; lossfuse 0.1.0, commit 83e44438f6.")


def test_machine_line_leaves_out_what_the_run_lacks():
    assert br.machine_line({"cpu": "Xeon", "cores": None, "isa": "avx2", "python": "3.12",
                            "compiler": "msvc", "git_commit": None}) == (
        "Run on Xeon, avx2 kernels; Python 3.12, msvc.")
    assert br.machine_line({}) == "Run on an unrecorded machine."


def test_readme_tables_every_op_at_the_size_asked():
    run = synthetic_run()
    _, ops, _ = md_tables(br.readme_tables(run, n_ops=1000))
    assert ops[0] == ["loss", "dtype", "loss_gradient"]        # only this op at 1000
    assert [r[2] for r in ops[2:]] == ["10.00", "10.00", "20.00", "20.00"]
    assert "every operation at n = 1000" in br.readme_tables(run, n_ops=1000)
    assert len(md_tables(br.readme_tables(run, n_ops=12345))) == 2    # no such size


def test_readme_tables_an_op_the_run_lacks_is_an_empty_cell():
    rows = [row("huber", "loss", n=10**6, speedup=3.0), row("hinge", "gradient", n=10**6)]
    (ops,) = md_tables(br.readme_tables(run_of(rows)))     # no loss_gradient: no table 1
    assert ops[0] == ["loss", "dtype", "loss", "gradient"]
    assert ops[2:] == [["hinge", "float64", "", "4.00"], ["huber", "float64", "3.00", ""]]


def test_readme_tables_without_thread_rows_or_baseline_have_no_such_column():
    rows = [row(n=1000, dispatch=None), row(n=16)]
    for r in rows:
        r.update(baseline_isa=None, dispatch_speedup=None, baseline_seconds=None)
    text = br.readme_tables(run_of(rows))
    (first,) = md_tables(text)
    check_well_formed(first)
    assert first[0] == ["loss", "dtype", "n", "lossfuse µs", "NumPy µs", "x NumPy",
                        "x np.add"]
    assert "None" not in text and "x 2 thr" not in text


def test_readme_tables_with_thread_rows_but_cells_missing_are_empty():
    rows = [row(n=1000), row(n=1000, threads=4)]          # a 1-thread row without scaling
    (first,) = md_tables(br.readme_tables(run_of(rows)))
    assert first[0][-1] == "x 4 thr" and first[2][-1] == "" and first[2][-2] == "1.10"


def test_readme_tables_do_not_depend_on_the_rows_order():
    run = synthetic_run()
    shuffled = copy.deepcopy(run)
    random.Random(0).shuffle(shuffled["results"])
    assert br.readme_tables(shuffled) == br.readme_tables(run)
    assert br.report(shuffled, "markdown") == br.report(run, "markdown")


def test_older_rows_without_family_op_classes_threads_are_read_with_defaults():
    r = row("poisson", n=1000)
    for k in ("family", "op", "classes", "threads", "samples", "baseline_isa",
              "baseline_seconds", "dispatch_speedup", "thread_speedup", "gb_per_s"):
        del r[k]
    text = br.report(run_of([r]), "markdown")
    first, = md_tables(text.split("<details>")[1])
    assert first[2] == ["poisson", "float64", "1000", "10.0", "40.0", "4.00", "0.50"]
    assert summary_lines(br.summary([r]))["deviance", "x numpy"][0] == 1


# ------------------------------------------------------------------------------ report
def test_text_report_machine_table_and_summary():
    run = synthetic_run()
    text = br.report(run)
    lines = text.splitlines()
    assert lines[0].startswith("Run on AMD EPYC, 2 cores, avx512 kernels;")
    head = next(i for i, line in enumerate(lines) if line.startswith("loss "))
    assert lines[head].split() == ["loss", "op", "dtype", "n", "thr", "time", "x", "numpy",
                                   "x", "limit", "spread"]
    body = lines[head + 2:head + 2 + len(run["results"])]
    for r, line in zip(run["results"], body):                     # in the run's order
        assert line.split()[:5] == [r["loss"], r["op"], r["dtype"], br.size(r),
                                    str(r["threads"])]
    assert lines[head + 2 + len(run["results"])] == ""
    assert summary_lines(text) == summary_lines(br.summary(run["results"]))
    assert max(map(len, lines)) <= 100
    assert text == br.report(copy.deepcopy(run))                  # deterministic


def test_wide_text_report_has_the_secondary_columns():
    text = br.report(synthetic_run(), wide=True)
    head = next(line for line in text.splitlines() if line.startswith("loss "))
    assert "numpy" in head and "np.add" in head and "GB/s" in head
    assert head.rstrip().endswith("x avx2 x 2 thr")


def test_markdown_report_is_the_tables_and_the_summary():
    run = synthetic_run()
    text = br.report(run, "markdown")
    assert text == (br.summary(run["results"], "markdown") + "\n\n"
                    + br.readme_tables(run, collapsed=True))
    tables = br.readme_tables(run)
    assert text.count("<details><summary>") == text.count("</details>") == 3
    assert md_tables(text) == md_tables(br.summary(run["results"], "markdown")) + md_tables(
        tables)        # the same tables, collapsed
    tables = md_tables(text)
    assert len(tables) == 4
    for t in tables:
        check_well_formed(t)


def test_report_of_long_names_fits_100_columns():
    rows = [row("binary_cross_entropy", "gradient_hessian", "float32", 10_000_000,
                thread_speedup=1.9),
            row("binary_cross_entropy", "gradient_hessian", "float32", 10_000_000, threads=2),
            row("cross_entropy", "gradient_hessian", "float64", 100_000, classes=1000,
                thread_speedup=1.5),
            row("cross_entropy", "gradient_hessian", "float64", 100_000, classes=1000,
                threads=2)]
    machine = dict(MACHINE, cpu="Intel(R) Xeon(R) Platinum 8480+ CPU @ 2.00GHz " * 2)
    text = br.report(run_of(rows, machine))
    assert max(map(len, text.splitlines())) <= 100
    assert "100000x1000" in text and "10000000" in text


def test_report_does_not_modify_its_input():
    run = synthetic_run()
    del run["results"][0]["family"]
    before = copy.deepcopy(run)
    br.report(run)
    br.report(run, "markdown")
    br.summary(run["results"])
    assert run == before


@pytest.mark.parametrize("data, exc, message", [
    ([], TypeError, "data must be a saved run"),
    ({"machine": {}}, ValueError, "data holds no 'results'"),
    ({"results": []}, ValueError, r"data\['results'\] is empty"),
    ({"results": "abc"}, TypeError, r"data\['results'\] must be a list"),
    ({"results": [1]}, ValueError, r"data\['results'\]\[0\] is a int, not a result row"),
    ({"results": [{"loss": "huber"}]}, ValueError,
     r"data\['results'\]\[0\] has no 'dtype', 'n', 'seconds'"),
    ({"results": [dict(row(), n=0)]}, ValueError, r"\[0\]: n is 0, not a whole number"),
    ({"results": [dict(row(), n=1.5)]}, ValueError, r"\[0\]: n is 1.5, not a whole number"),
    ({"results": [row(), dict(row(), classes=True)]}, ValueError, r"\[1\]: classes is True"),
    ({"results": [dict(row(), seconds="fast")]}, ValueError,
     r"\[0\]: seconds is 'fast', not a number >= 0"),
    ({"results": [dict(row(), thread_speedup=-1.0)]}, ValueError,
     r"\[0\]: thread_speedup is -1.0"),
    ({"results": [dict(row(), loss=None)]}, ValueError, r"\[0\]: loss is None, not a name"),
    ({"results": [row()], "machine": [1]}, ValueError, r"data\['machine'\] is a list"),
])
def test_a_malformed_run_is_named(data, exc, message):
    for call in (br.report, br.readme_tables, lambda d: br.report(d, "markdown")):
        with pytest.raises(exc, match=message):
            call(data)


def test_report_and_tables_reject_bad_arguments():
    with pytest.raises(ValueError, match="fmt must be one of"):
        br.report(synthetic_run(), "md")
    with pytest.raises(TypeError, match="n_ops must be an integer, not float"):
        br.readme_tables(synthetic_run(), 1e6)
    with pytest.raises(ValueError, match="n_ops must be >= 1, not 0"):
        br.readme_tables(synthetic_run(), 0)
    with pytest.raises(TypeError, match="results must be a list of result rows"):
        br.summary(None)


# ------------------------------------------------------------------------------ a real run
@pytest.fixture(scope="module")
def real_run():
    """A short real run: huber and poisson (16 and 1000) and cross_entropy (16x10, 1000x10),
    two ops, on one and two threads, saved as `lossfuse bench --save` saves it."""
    saved = _bench.SAMPLE_SECONDS
    _bench.SAMPLE_SECONDS = 2e-4
    try:
        cases = [(loss, op, "float32", n, k) for loss, sizes in (
            ("huber", ((16, 1), (1000, 1))), ("poisson", ((16, 1), (1000, 1))),
            ("cross_entropy", ((16, 10), (1000, 10)))) for n, k in sizes
            for op in ("loss", "loss_gradient")]
        results = _bench.run(cases, rounds=3, threads=2, out=io.StringIO(), progress=False)
    finally:
        _bench.SAMPLE_SECONDS = saved
    data = {"schema": _bench.SCHEMA, "machine": _bench.machine_info(), "results": results}
    return json.loads(json.dumps(data))               # as read back from the file


def test_real_run_readme_tables(real_run):
    res = real_run["results"]
    text = br.readme_tables(real_run, n_ops=1000)
    first, ops, ce = md_tables(text)
    for t in (first, ops, ce):
        check_well_formed(t)
    assert len(first) == 2 + 4 and len(ops) == 2 + 2 and len(ce) == 2 + 2
    r = next(r for r in res if (r["loss"], r["op"], r["n"], r["threads"]) ==
             ("poisson", "loss_gradient", 1000, 1))
    cells = next(c for c in first[2:] if c[:3] == ["poisson", "float32", "1000"])
    assert float(cells[5]) == pytest.approx(r["speedup_vs_numpy"], abs=0.005)
    assert float(cells[6]) == pytest.approx(r["fraction_of_add"], abs=0.005)
    assert float(cells[7]) == pytest.approx(r["dispatch_speedup"], abs=0.005)
    assert float(cells[8]) == pytest.approx(r["thread_speedup"], abs=0.005)
    assert float(cells[3]) == pytest.approx(r["seconds"] * 1e6, rel=0.01)
    small = next(c for c in first[2:] if c[:3] == ["huber", "float32", "16"])
    assert small[6:] == ["", "", ""]                # n = 16: no limit, baseline or threads
    assert ops[0] == ["loss", "dtype", "loss", "loss_gradient"]
    assert [c[:3] for c in ce[2:]] == [["float32", "1000 x 10", "loss"],
                                       ["float32", "1000 x 10", "loss_gradient"]]
    assert real_run["machine"]["isa"] in text.splitlines()[-1]
    assert "None" not in text


def test_real_run_report_and_summary(real_run):
    text = br.report(real_run)
    assert max(map(len, text.splitlines())) <= 100
    assert sum(line.startswith(("huber ", "poisson ", "cross_entropy ")) for line in
               text.splitlines()) == len(real_run["results"])
    got = summary_lines(text)
    one = [r for r in real_run["results"] if r["threads"] == 1]
    for fam, loss in (("regression", "huber"), ("deviance", "poisson"),
                      ("multiclass", "cross_entropy")):
        mine = [r["speedup_vs_numpy"] for r in one if r["loss"] == loss]
        assert got[fam, "x numpy"][:3] == [len(mine), pytest.approx(statistics.median(mine),
                                                                    abs=0.006),
                                           pytest.approx(min(mine), abs=0.006)]
    assert text.splitlines()[-1].startswith("x 2 thr: no case has it")
    assert br.report(real_run) == text


# ------------------------------------------------------------------------------ bench/tables.py
def tables_script():
    path = pathlib.Path(__file__).parent.parent / "bench" / "tables.py"
    spec = importlib.util.spec_from_file_location("lossfuse_bench_tables", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_tables_script_prints_the_package_tables(tmp_path, capsys):
    run = synthetic_run()
    path = tmp_path / "run.json"
    path.write_text(json.dumps(run))
    assert tables_script().main([str(path), "--n", "1e3"]) == 0
    assert capsys.readouterr().out == br.readme_tables(run, 1000)


def test_tables_script_names_a_bad_file(tmp_path, capsys):
    path = tmp_path / "empty.json"
    path.write_text('{"results": []}')
    assert tables_script().main([str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "is empty" in err and "Traceback" not in err
