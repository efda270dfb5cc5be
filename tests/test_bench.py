"""``lossfuse bench`` as a tool: the JSON it saves, the comparison with a baseline and the exit
codes.  No timing is asserted: the comparisons below use synthetic speedups far from any real
one."""

import json
import re
import subprocess
import sys
import time

import numpy as np
import pytest

import lossfuse as lf
from lossfuse import _bench

RESULT_KEYS = {"loss", "op", "dtype", "n", "threads", "seconds", "numpy_seconds",
               "speedup_vs_numpy", "spread", "fraction_of_add", "gb_per_s"}
MACHINE_KEYS = {"cpu", "cpu_flags", "cores", "isa", "compiler", "python", "numpy", "cython",
                "lossfuse", "git_commit"}


def result(speedup, spread=0.02, loss="huber", n=1000, dtype="float64", rounds=5, **kw):
    """A saved row (schema 2) of lossfuse at `speedup` over NumPy, every round alike."""
    return dict({"loss": loss, "family": _bench.family(loss), "op": "loss_gradient",
                 "dtype": dtype, "n": n, "classes": 1, "threads": 1, "seconds": 1e-3,
                 "numpy_seconds": speedup * 1e-3, "add_seconds": 5e-4,
                 "speedup_vs_numpy": speedup, "fraction_of_add": 0.5, "gb_per_s": 1.0,
                 "spread": spread, "samples": {"seconds": [1e-3] * rounds,
                                               "speedup_vs_numpy": [speedup] * rounds}}, **kw)


def saved(path, rows, schema=_bench.SCHEMA):
    path.write_text(json.dumps({"schema": schema, "machine": {}, "results": rows}))
    return str(path)


# ------------------------------------------------------------------------------ timing
def test_rounds_fit_the_case_budget_within_their_bounds(monkeypatch):
    """A call lasting LONG_CALL is timed once per round after one warm-up call, and a case
    gets as many rounds as fit in CASE_SECONDS, at least ROUNDS[0], at most ROUNDS[1]."""
    calls = []

    def slow():
        calls.append(1)
        time.sleep(_bench.LONG_CALL * 1.05)
    for budget, rounds in ((0.0, _bench.ROUNDS[0]), (1e9, _bench.ROUNDS[1])):
        monkeypatch.setattr(_bench, "CASE_SECONDS", budget)
        calls.clear()
        med, spread = _bench._time_all({"a": slow})
        assert len(calls) == 1 + rounds
        assert med["a"] >= _bench.LONG_CALL and spread >= 0
    calls.clear()
    _bench._time_all({"a": slow}, rounds=2)                  # rounds given: exactly those
    assert len(calls) == 1 + 2


def test_the_problem_data_are_shared_read_only():
    y, p = _bench.problem("huber", np.float32, 100)
    assert _bench.problem("huber", np.float32, 100)[0] is y
    assert not y.flags.writeable and not p.flags.writeable and p.dtype == np.float32


# ------------------------------------------------------------------------------ main()
def run_main(capsys, *args):
    code = _bench.main(["--quick", "--no-progress", "--rounds", "1", *args])
    return code, capsys.readouterr().out


def test_save_writes_results_and_machine(tmp_path, capsys):
    path = tmp_path / "run.json"
    code, text = run_main(capsys, "--losses", "squared_error", "cross_entropy", "--dtypes",
                          "float64", "--threads", "2", "--save", str(path))
    assert code == 0 and "squared_error" in text and "x numpy" in text
    data = json.loads(path.read_text())
    assert MACHINE_KEYS <= set(data["machine"])
    assert data["machine"]["isa"] in data["machine"]["isa_available"]
    # 2 sizes + 2 cross_entropy shapes on one thread, and the larger of each on two, each
    # for every operation (the default)
    ops = sorted(_bench.OPS)
    assert sorted((r["loss"], r["n"], r["threads"], r["op"]) for r in data["results"]) == [
        (loss, n, threads, op)
        for loss, n, threads in [("cross_entropy", 16, 1), ("cross_entropy", 1000, 1),
                                 ("cross_entropy", 1000, 2), ("squared_error", 16, 1),
                                 ("squared_error", 1000, 1), ("squared_error", 1000, 2)]
        for op in ops]
    for r in data["results"]:
        assert RESULT_KEYS <= set(r), set(RESULT_KEYS) - set(r)
        assert r["seconds"] > 0 and r["numpy_seconds"] > 0 and r["spread"] >= 0
        assert r["speedup_vs_numpy"] == pytest.approx(r["numpy_seconds"] / r["seconds"])
    assert {r["loss"] for r in data["results"]} == {"squared_error", "cross_entropy"}


def quick_run(tmp_path, capsys, name="base.json", *extra):
    path = tmp_path / name
    code = _bench.main(["--quick", "--no-progress", "--losses", "huber", "poisson",
                        "--sizes", "1000", "--threads", "1", "--ops", "loss", "loss_gradient",
                        "--save", str(path), *extra])
    assert code == 0
    capsys.readouterr()
    return path


def test_a_run_compared_with_itself_has_no_significant_change(tmp_path, capsys):
    base = quick_run(tmp_path, capsys)
    assert _bench.main(["--compare", str(base), str(base), "--all"]) == 0
    out = capsys.readouterr().out
    assert "regressions: 0, improvements: 0, unchanged: 8" in out
    assert "SLOWER" not in out and "faster" not in out and " * " not in out
    # timed again: nothing beyond a generous threshold (a shared machine's noise is not
    # what this checks), and the rounds --compare needs
    new = tmp_path / "new.json"
    code = _bench.main(["--compare", str(base), "--no-progress", "--max-slowdown", "0.9",
                        "--save", str(new)])
    assert code == 0 and "regressions: 0, improvements: 0" in capsys.readouterr().out
    assert min(len(r["samples"]["seconds"])
               for r in json.loads(new.read_text())["results"]) >= _bench.COMPARE_ROUNDS


def test_a_baseline_30_percent_faster_everywhere_fails_naming_each_case(tmp_path, capsys):
    base = quick_run(tmp_path, capsys)
    data = json.loads(base.read_text())
    for r in data["results"]:
        r["speedup_vs_numpy"] *= 1.3
        r["samples"]["speedup_vs_numpy"] = [v * 1.3 for v in r["samples"]["speedup_vs_numpy"]]
    base.write_text(json.dumps(data))
    assert _bench.main(["--compare", str(base), "--no-progress"]) == 1
    out = capsys.readouterr().out
    out = out[out.index(" against "):]                  # the comparison, after the run's table
    assert f"regressions: {len(data['results'])}," in out
    for r in data["results"]:
        line = next(line for line in out.splitlines()
                    if line.split()[:5] == [r["loss"], r["op"], r["dtype"], str(r["n"]), "1"])
        assert f"{r['speedup_vs_numpy']:.2f}" in line.split() and "SLOWER" in line


def test_compare_in_markdown_for_a_ci_job_summary(tmp_path, capsys):
    base = quick_run(tmp_path, capsys)
    data = json.loads(base.read_text())
    data["results"][0]["samples"]["speedup_vs_numpy"] = [
        v * 2 for v in data["results"][0]["samples"]["speedup_vs_numpy"]]
    data["results"][0]["speedup_vs_numpy"] *= 2
    slow = tmp_path / "slow.json"
    slow.write_text(json.dumps(data))
    assert _bench.main(["--compare", str(slow), str(base), "--format", "markdown"]) == 1
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("|")]
    assert len(rows) == 3 and len({row.count("|") for row in rows}) == 1   # head, rule, case
    assert "SLOWER" in rows[2] and out.startswith(f"**{base} against {slow}**")


def test_compare_saves_its_verdicts_with_the_run(tmp_path, capsys):
    base = quick_run(tmp_path, capsys)
    data = json.loads(base.read_text())
    for r in data["results"]:
        r["samples"]["speedup_vs_numpy"] = [v * 2 for v in r["samples"]["speedup_vs_numpy"]]
        r["speedup_vs_numpy"] *= 2
    fast = tmp_path / "fast.json"
    fast.write_text(json.dumps(data))
    out = tmp_path / "out.json"
    assert _bench.main(["--compare", str(fast), str(base), "--save", str(out)]) == 1
    saved_run = json.loads(out.read_text())
    assert saved_run["results"] == json.loads(base.read_text())["results"]
    comparison = saved_run["comparison"]
    assert comparison["base"] == str(fast) and comparison["max_slowdown"] == 0.1
    assert len(comparison["changes"]) == len(data["results"])
    for c in comparison["changes"]:
        assert c["verdict"] == "regression" and c["significant"] and c["p"] < 0.05
        assert c["change"] == pytest.approx(-0.5)


def test_compare_with_an_unreadable_baseline_says_so(tmp_path, capsys):
    missing = tmp_path / "missing.json"
    code = _bench.main(["--compare", str(missing)])
    assert code == 2
    assert f"--compare: cannot read {missing}: No such file" in capsys.readouterr().err


ROW = '"loss": "huber", "dtype": "float64", "n": 16'
NUMBERS = ('"seconds": 1, "numpy_seconds": 2, "add_seconds": 1, "fraction_of_add": 1, '
           '"gb_per_s": 1')


@pytest.mark.parametrize("content,says", [
    ("not json", "it is not JSON (Expecting value"),
    ('{"runs": []}', "it holds no 'results'"),
    ('[]', "it holds no 'results'"),
    ('{"results": {}}', "'results' is not a list"),
    ('{"results": [1]}', "result 0 is not a case"),
    ('{"results": [{"loss": "huber"}]}', "result 0 is not a case"),
    ('{"results": [{"loss": "mse", "dtype": "float64", "n": 16, "speedup_vs_numpy": 2}]}',
     "result 0: no case 'mse' 'loss_gradient' 'float64' here"),
    ('{"results": [{"loss": "huber", "op": "hessian", "dtype": "float64", "n": 16}]}',
     "no case 'huber' 'hessian'"),
    ('{"results": [{"loss": "huber", "dtype": "float16", "n": 16}]}', "'float16'"),
    ('{"results": [{"loss": "huber", "op": [1], "dtype": "float64", "n": 16}]}', "[1]"),
    ('{"results": [{"loss": "huber", "dtype": "float64", "n": 0, "speedup_vs_numpy": 2}]}',
     "result 0: n is 0, not a whole number >= 1"),
    ('{"results": [{"loss": "huber", "dtype": "float64", "n": 1.5, "speedup_vs_numpy": 2}]}',
     "n is 1.5"),
    ('{"results": [{%s, "threads": 0, "speedup_vs_numpy": 2}]}' % ROW, "threads is 0"),
    ('{"results": [{%s, %s}]}' % (ROW, NUMBERS),
     "speedup_vs_numpy is None, not a number >= 0"),
    ('{"results": [{%s, %s, "speedup_vs_numpy": "2"}]}' % (ROW, NUMBERS),
     "speedup_vs_numpy is '2'"),
    ('{"results": [{%s, %s, "speedup_vs_numpy": 2, "spread": NaN}]}' % (ROW, NUMBERS),
     "spread is nan"),
    ('{"results": [{%s, "speedup_vs_numpy": 2}]}' % ROW, "seconds is None"),
    ('{"schema": 2, "results": [{%s, %s, "speedup_vs_numpy": 2}]}' % (ROW, NUMBERS),
     "samples is None, not lists of seconds and speedups"),
    ('{"schema": 2, "results": [{%s, %s, "speedup_vs_numpy": 2, "samples": {"seconds": [1], '
     '"speedup_vs_numpy": []}}]}' % (ROW, NUMBERS), "samples is"),
    ('{"schema": 99, "results": []}', "its schema is 99: written by a newer lossfuse bench"),
    ('{"schema": "2", "results": []}', "its schema is '2'"),
])
@pytest.mark.parametrize("option", ["--compare", "--report"])
def test_a_malformed_saved_run_is_refused_saying_what_is_wrong(tmp_path, capsys, content, says,
                                                               option):
    """Before any timing: one line naming the option, the file and what is wrong, exit status
    2."""
    base = tmp_path / "base.json"
    base.write_text(content.replace('{"results"', '{"schema": 2, "results"')
                    if option == "--compare" and '"schema"' not in content else content)
    code = _bench.main([option, str(base), "--no-progress"])
    out = capsys.readouterr()
    assert code == 2 and out.out == "" and out.err.count("\n") == 1
    assert out.err.startswith(f"lossfuse bench: error: {option}: cannot read {base}: ")
    assert says in out.err, out.err


def test_an_older_baseline_is_refused_by_compare_and_read_by_report(tmp_path, capsys):
    row = result(3.0)
    del row["samples"], row["family"], row["classes"]
    path = saved(tmp_path / "old.json", [row], schema=1)
    assert _bench.main(["--compare", path, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "older lossfuse bench (schema 1)" in err and "save the baseline again" in err
    assert _bench.main(["--report", path]) == 0
    assert "huber" in capsys.readouterr().out


# ------------------------------------------------------------------ options that compose
def cases_of(path):
    return sorted({(r["loss"], r["n"], r["classes"], len(r["samples"]["seconds"]))
                   for r in json.loads(path.read_text())["results"]})


@pytest.mark.parametrize("extra,want", [
    # --quick lowers only what is not given: the sizes given are timed, cross_entropy on
    # those rows of CE_CLASSES classes, with --quick's rounds
    (["--sizes", "1e5"], [("cross_entropy", 100_000, _bench.CE_CLASSES, _bench.QUICK_ROUNDS),
                          ("huber", 100_000, 1, _bench.QUICK_ROUNDS)]),
    (["--rounds", "3"], [("cross_entropy", n, k, 3) for n, k in _bench.CE_QUICK]
     + [("huber", n, 1, 3) for n in _bench.QUICK_SIZES]),
    (["--ce-shapes", "50x3", "7X2"], [("cross_entropy", 7, 2, 5), ("cross_entropy", 50, 3, 5)]
     + [("huber", n, 1, 5) for n in _bench.QUICK_SIZES]),
    (["--sizes", "200", "--ce-shapes", "50x3"], [("cross_entropy", 50, 3, 5),
                                                 ("huber", 200, 1, 5)]),
])
def test_quick_lowers_only_what_is_not_given(tmp_path, capsys, extra, want):
    path = tmp_path / "run.json"
    code = _bench.main(["--quick", "--no-progress", "--losses", "huber", "cross_entropy",
                        "--ops", "loss", "--dtypes", "float64", "--threads", "1",
                        "--save", str(path), *extra])
    assert code == 0, capsys.readouterr().err
    assert cases_of(path) == sorted(want)


def test_sizes_apply_to_every_loss_without_quick(tmp_path, capsys):
    path = tmp_path / "run.json"
    code = _bench.main(["--no-progress", "--losses", "poisson", "cross_entropy", "--ops", "loss",
                        "--dtypes", "float32", "--threads", "1", "--sizes", "300",
                        "--rounds", "3", "--save", str(path)])
    assert code == 0
    assert cases_of(path) == [("cross_entropy", 300, _bench.CE_CLASSES, 3),
                              ("poisson", 300, 1, 3)]


@pytest.mark.parametrize("shape", ["10", "10x", "x3", "10x0", "1.5x3", "10x3x2", "ax3"])
def test_a_malformed_shape_is_a_usage_error(capsys, shape):
    with pytest.raises(SystemExit) as e:
        _bench.main(["--ce-shapes", shape])
    err = capsys.readouterr().err
    assert e.value.code == 2 and f"argument --ce-shapes: {shape!r} is not a shape ROWSxK" in err


@pytest.mark.parametrize("option", ["--losses", "--ops", "--dtypes", "--sizes", "--rounds",
                                    "--ce-shapes", "--threads", "--max-slowdown", "--alpha",
                                    "--format", "--quick", "--wide", "--save", "--compare",
                                    "--report", "--plot"])
def test_every_option_says_its_default(capsys, option):
    with pytest.raises(SystemExit):
        _bench.main(["--help"])
    text = capsys.readouterr().out
    text = text[text.index("\noptions:"):text.index("\ncolumns:")]
    entries = {e.split()[0].rstrip(","): " ".join(e.split())
               for e in re.split(r"\n(?=  -)", text)[1:]}
    assert "default" in entries[option], entries[option]


def test_report_and_compare_choose_among_the_saved_cases(tmp_path, capsys):
    rows = [result(3.0, loss=loss, n=n, dtype=dt) for loss in ("huber", "poisson")
            for n in (16, 1000) for dt in ("float32", "float64")]
    path = saved(tmp_path / "run.json", rows)
    assert _bench.main(["--report", path, "--losses", "poisson", "--sizes", "1000",
                        "--dtypes", "float32"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines()
             if line.startswith(("huber", "poisson"))]
    assert len(lines) == 1 and lines[0].split()[:4] == ["poisson", "loss_gradient", "float32",
                                                       "1000"]
    assert _bench.main(["--report", path, "--losses", "gamma"]) == 2
    assert "holds no case that --losses" in capsys.readouterr().err


def test_report_with_compare_is_a_usage_error(tmp_path, capsys):
    path = saved(tmp_path / "run.json", [result(3.0)])
    assert _bench.main(["--report", path, "--compare", path]) == 2
    assert "--compare BASE.json NEW.json" in capsys.readouterr().err
    assert _bench.main(["--compare", path, path, path]) == 2
    assert "at most NEW.json" in capsys.readouterr().err


def test_the_table_fits_in_100_columns_for_every_case():
    """The widest cases a run can have: every loss and op, the default sizes and shapes and
    the largest a user would give."""
    import argparse
    args = argparse.Namespace(losses=None, ops=None, dtypes=None, quick=False, ce_shapes=None,
                              sizes=None)
    cases = _bench._cases(args) + [("binary_cross_entropy", "gradient_hessian", "float32",
                                    10 ** 9, 1), ("cross_entropy", "gradient_hessian",
                                                  "float64", 10 ** 7, 100_000)]
    from lossfuse._bench_report import Table
    table = Table(cases, 256, _bench.NARROWER)
    r = result(1234.5678, spread=12.345, loss="binary_cross_entropy", n=10 ** 9, threads=256,
               op="gradient_hessian", seconds=123.456, thread_speedup=None)
    lines = table.header() + [table.row(r)]
    assert max(map(len, lines)) <= 100, lines


def test_a_default_run_prints_under_100_columns(capsys):
    """Every line of a run over every loss, table and summary."""
    code = _bench.main(["--quick", "--no-progress", "--rounds", "1", "--threads", "2"])
    out = capsys.readouterr().out
    assert code == 0 and len(out.splitlines()) > 100
    assert max(map(len, out.splitlines())) <= 100


def test_command_line_entry_points():
    run = [sys.executable, "-m", "lossfuse"]
    assert subprocess.run(run + ["bench", "--help"], capture_output=True).returncode == 0
    res = subprocess.run(run + ["frobnicate"], capture_output=True, text=True)
    assert res.returncode == 2 and "unknown command" in res.stderr
    assert subprocess.run(run, capture_output=True).returncode == 2
    res = subprocess.run(run + ["bench", "--losses", "nope"], capture_output=True, text=True)
    assert res.returncode == 2 and "invalid choice" in res.stderr


def test_the_asv_benchmarks_run_the_same_definitions():
    """bench/benchmarks/losses.py (airspeed velocity's suite) sets up and runs each of its
    benchmarks on one case per class, without asv."""
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).parent.parent / "bench" / "benchmarks" / "losses.py"
    spec = importlib.util.spec_from_file_location("lossfuse_asv_losses", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert set(mod.ELEMENTWISE) == set(_bench.NUMPY)
    for cls, args in ((mod.LossGradient, ("poisson", "float32", 10_000)),
                      (mod.CrossEntropy, (mod.CrossEntropy.params[0][0], "float64"))):
        bench = cls()
        bench.setup(*args)
        for name in dir(cls):
            if name.startswith(("time_", "track_")):
                value = getattr(bench, name)(*args)
                if name.startswith("track_"):
                    assert value > 0


def test_plot_writes_a_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "speed.png"
    code, _ = run_main(capsys, "--losses", "huber", "poisson", "--plot", str(path))
    assert code == 0 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", sorted(_bench.NUMPY) + ["cross_entropy"])
@pytest.mark.parametrize("op", list(_bench.OPS))
def test_numpy_references_compute_what_lossfuse_does(name, op):
    """The NumPy side of every case is the same mean loss, gradient or hessian (else its time
    would not be a fair reference)."""
    import lossfuse as lf
    if name == "cross_entropy":
        rng = np.random.default_rng(1)
        p = rng.normal(0, 2, (300, 7))
        y = rng.integers(0, 7, 300)
        got = _bench._np_cross_entropy(y, p, _bench.OPS[op])
    else:
        y, p = _bench.problem(name, np.float64, 500)
        got = _bench.NUMPY[name](y, p, _bench.OPS[op])
    loss = lf.get_loss(name)
    want = {"loss": lambda: (loss.loss(y, p),), "gradient": lambda: (loss.gradient(y, p),),
            "loss_gradient": lambda: loss.loss_gradient(y, p),
            "gradient_hessian": lambda: loss.gradient_hessian(y, p)}[op]()
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_ops_are_timed_and_saved(tmp_path, capsys):
    path = tmp_path / "ops.json"
    code, text = run_main(capsys, "--losses", "huber", "--dtypes", "float32", "--threads", "1",
                          "--ops", "loss", "gradient_hessian", "--save", str(path))
    assert code == 0 and "gradient_hessian" in text
    data = json.loads(path.read_text())
    assert sorted({(r["op"], r["n"]) for r in data["results"]}) == [
        ("gradient_hessian", 16), ("gradient_hessian", 1000), ("loss", 16), ("loss", 1000)]


def test_readme_tables_from_a_saved_run(tmp_path, capsys):
    """bench/tables.py turns a saved run into the README's three tables."""
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).parent.parent / "bench" / "tables.py"
    spec = importlib.util.spec_from_file_location("lossfuse_bench_tables", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    run = tmp_path / "run.json"
    code, _ = run_main(capsys, "--losses", "huber", "cross_entropy", "--dtypes", "float32",
                       "--sizes", "16", "1000", "--threads", "2", "--save", str(run))
    assert code == 0
    assert mod.main([str(run), "--n", "1000"]) == 0
    text = capsys.readouterr().out
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert "| huber | float32 | 16 |" in text and "| huber | float32 | 1000 |" in text
    assert "| loss | dtype | loss | gradient | loss_gradient | gradient_hessian |" in text
    assert sum(line.startswith("| float32 | 1000 x 10 |") for line in rows) == 4  # each op
    assert len(rows) == (1 + 2) + (1 + 1) + (1 + 4)     # each table: its header and rows


def test_the_readme_speed_section_is_the_report_of_a_saved_default_run(capsys):
    """README.md's speed tables are, to the character, what --report prints of the run kept in
    the repository, and that run is a whole default run: every case of ``lossfuse bench``."""
    import argparse
    import pathlib
    root = pathlib.Path(__file__).parent.parent
    run = root / "bench" / "results" / "readme.json"
    readme = (root / "README.md").read_text(encoding="utf-8")
    begin = ("<!-- lossfuse bench --report bench/results/readme.json --format markdown: "
             "begin -->\n")
    end = "<!-- lossfuse bench --report: end -->"
    block = readme[readme.index(begin) + len(begin):readme.index(end)]
    assert _bench.main(["--report", str(run), "--format", "markdown"]) == 0
    assert capsys.readouterr().out == block
    data = _bench.read_run(str(run), samples=True)
    default = argparse.Namespace(losses=None, ops=None, dtypes=None, quick=False,
                                 ce_shapes=None, sizes=None)
    assert _bench._cases_of(data["results"]) == _bench._cases(default)
    assert {r["threads"] for r in data["results"]} == {1, data["machine"]["num_threads"]}


# ------------------------------------------------------------------------ lossfuse bench --load
def _busy_children():
    """Pids of this process's children still running the load's busy loop."""
    out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(__import__("os").getpid())],
                         capture_output=True, text=True)
    return [line for line in out.stdout.splitlines() if "getppid" in line]


def test_load_benchmark_reports_percentiles_and_stops_its_load(tmp_path, capsys):
    from lossfuse import _load
    path = tmp_path / "load.json"
    code = _bench.main(["--load", "--sizes", "1e4", "7e4", "--losses", "squared_error",
                        "--conditions", "idle", "nice 19", "--seconds", "0.05", "--no-nested",
                        "--save", str(path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "p90 ratio" in out and "worst p90 ratio" in out
    rows = json.loads(path.read_text())["results"]
    assert [(r["load"], r["n"]) for r in rows] == [("idle", 10000), ("idle", 70000),
                                                   ("nice 19", 10000), ("nice 19", 70000)]
    for r in rows:
        assert r["calls"] >= _load.MIN_CALLS
        assert 0 < r["default_us"][0] <= r["default_us"][1] <= r["default_us"][2]
        assert 0 < r["one_thread_us"][0] <= r["one_thread_us"][1] <= r["one_thread_us"][2]
        assert r["p90_ratio"] == pytest.approx(r["default_us"][1] / r["one_thread_us"][1])
    assert _busy_children() == []                    # the load processes are gone


def test_load_processes_end_with_the_block_even_on_an_error():
    from lossfuse import _load
    procs = []
    with pytest.raises(RuntimeError):
        with _load.Load(2, 19) as load:
            procs = list(load.procs)
            assert len(procs) == 2 and all(p.poll() is None for p in procs)
            raise RuntimeError
    assert all(p.returncode is not None for p in procs)
    assert _busy_children() == []


def test_parallel_callers_throughput(capsys):
    from lossfuse import _load
    rows = _load.run_nested(sizes=(70_000,), losses=("squared_error",), seconds=0.05, rounds=1)
    (r,) = rows
    assert r["four_default"] > 0 and r["two_single"] > 0 and r["four_single"] > 0
    assert r["ratio"] == pytest.approx(r["four_default"] / r["two_single"])
    assert "aggregate calls/s" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["squared_error", "cross_entropy"])
def test_both_sides_of_the_isa_column_go_through_the_facade(monkeypatch, name):
    """``x <narrower build>`` compares like with like: the narrower build's kernels are
    called through the same facade method as the dispatched ones, with the same outputs."""
    calls = []
    real = lf.Loss.loss_gradient

    def counted(self, *args, **kwargs):
        calls.append(self)
        return real(self, *args, **kwargs)
    monkeypatch.setattr(lf.Loss, "loss_gradient", counted)
    if name == "cross_entropy":
        cands = _bench.cross_entropy_candidates(np.float64, 1000, 4)
    else:
        cands = _bench.candidates(name, np.float64, 1000)
    cands["lossfuse"]()
    cands["baseline"]()
    assert len(calls) == 2 and calls[0] is not calls[1]
    module = _bench.available[_bench.NARROWER]
    twin = calls[1]
    kernel = twin._ce if name == "cross_entropy" else twin._kernel
    assert type(kernel).__module__ == module.__name__
    assert twin == calls[0]                               # the same loss, other kernels


def test_each_row_has_its_own_spread_and_samples():
    samples = {"lossfuse": [2.0, 2.0, 2.0], "baseline": [2.0, 2.0, 2.0],
               "numpy": [4.0, 4.4, 3.6], "np.add": [1.0, 1.0, 1.0], "threads": [1.0, 1.5, 0.5]}
    one, two = _bench._result("huber", np.float64, 10, samples, 80, threads=2)
    assert one["spread"] == pytest.approx(0.2) and two["spread"] == pytest.approx(1.0)
    assert (one["threads"], two["threads"]) == (1, 2)
    assert one["samples"]["seconds"] == [2.0, 2.0, 2.0]
    assert one["samples"]["speedup_vs_numpy"] == pytest.approx([2.0, 2.2, 1.8])
    assert two["samples"]["speedup_vs_numpy"] == pytest.approx([4.0, 4.4 / 1.5, 7.2])
    assert one["thread_speedup"] == 2.0 and two["thread_speedup"] is None
    assert one["dispatch_speedup"] == 1.0 and two["dispatch_speedup"] is None
    assert two["speedup_vs_numpy"] == 4.0 and two["gb_per_s"] == 2 * one["gb_per_s"]
    del samples["threads"]
    (one,) = _bench._result("huber", np.float64, 10, samples, 80, threads=2)
    assert one["thread_speedup"] is None and one["family"] == "regression"


def test_machine_information_says_what_built_the_kernels():
    from lossfuse._kernels import available, kernels
    info = _bench.machine_info()
    assert info["cython"] and info["cython"].count(".") == 2
    assert info["kernel_compiler"] and info["kernel_compiler"] != "unknown"
    for module in available.values():            # one build, one build information
        assert (module.COMPILER, module.CYTHON_VERSION, module.GIT_COMMIT) == \
            (info["kernel_compiler"], info["cython"], kernels.GIT_COMMIT)
        assert module.GIT_COMMIT == "" or len(module.GIT_COMMIT) == 40


def test_the_thread_count_rule_reads_the_environment_as_the_default_does(monkeypatch):
    monkeypatch.delenv("LOSSFUSE_NUM_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "+3,2")          # int() takes it: so does the rule
    assert "from OMP_NUM_THREADS=+3,2" in _bench.threads_rule()
    monkeypatch.setenv("OMP_NUM_THREADS", "three")         # invalid: skipped, as by the default
    assert "the CPUs this process may use" in _bench.threads_rule()
