"""bench/metrics.py: lossfuse.metrics against scikit-learn, its report, and README.md's table
of a saved run (every metric, both dtypes, the three sizes)."""

import importlib.util
import json
import pathlib

import pytest

pytest.importorskip("sklearn")

ROOT = pathlib.Path(__file__).parent.parent
BEGIN = "<!-- python bench/metrics.py --report bench/results/metrics.json: begin -->\n"
END = "<!-- python bench/metrics.py --report: end -->"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("lossfuse_bench_metrics",
                                                  ROOT / "bench" / "metrics.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_a_short_run_times_both_and_saves_what_it_printed(bench, tmp_path, capsys):
    out = tmp_path / "run.json"
    assert bench.main(["--metrics", "r2_score", "median_absolute_error", "--sizes", "16",
                       "--dtypes", "float32", "--save", str(out)]) == 0
    text = capsys.readouterr().out
    run = json.loads(out.read_text())
    assert [(r["metric"], r["dtype"], r["n"]) for r in run["results"]] == [
        ("r2_score", "float32", 16), ("median_absolute_error", "float32", 16)]
    for r in run["results"]:
        assert r["seconds"] > 0 and r["sklearn_seconds"] > 0
        assert r["speedup_vs_sklearn"] == pytest.approx(r["sklearn_seconds"] / r["seconds"])
        assert f"{r['metric']:28s} float32         16" in text
    assert run["machine"]["sklearn"] and run["machine"]["isa"]
    assert "one-pass metrics below the bars" in text


def _run(results):
    return {"machine": {"cpu": "CPU", "isa": "avx2", "sklearn": "1.9.1"},
            "results": [dict(metric=m, dtype=d, n=n, seconds=s, sklearn_seconds=s * x,
                             speedup_vs_sklearn=x, spread=0.01)
                        for m, d, n, s, x in results]}


def test_the_report_names_every_one_pass_metric_below_its_bar_and_no_other(bench):
    run = _run([("r2_score", "float64", 16, 1e-6, 150.0),
                ("r2_score", "float64", 1_000_000, 2e-4, 4.9),
                ("max_error", "float32", 16, 1e-6, 99.0),
                ("max_error", "float32", 10_000, 1e-5, 1.5),      # no bar at 1e4
                ("median_absolute_error", "float64", 16, 1e-5, 10.0)])   # a selection
    text = bench.report(run)
    assert "`r2_score` float64 n = 1e6 (4.9x)" in text
    assert "`max_error` float32 n = 16 (99.0x)" in text
    assert "10000" not in text.split("Below the bars")[1]
    assert "median_absolute_error` float64 n" not in text
    assert "| `median_absolute_error` (selection) | float64 | 10.0x (10.00 us) |" in text
    assert "| `r2_score` | float64 | 150.0x (1.00 us) |  | 4.9x (200.00 us) |" in text
    met = bench.report(_run([("r2_score", "float64", 16, 1e-6, 150.0)]))
    assert "Every one-pass metric is at least 100x" in met


def test_the_readme_metrics_table_is_the_report_of_a_whole_saved_run(bench, capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index(BEGIN) + len(BEGIN):readme.index(END)]
    path = ROOT / "bench" / "results" / "metrics.json"
    assert bench.main(["--report", str(path)]) == 0
    assert capsys.readouterr().out == block
    run = json.loads(path.read_text())
    cases = {(r["metric"], r["dtype"], r["n"]) for r in run["results"]}
    assert cases == {(m, d, n) for m in bench.METRICS for d in ("float64", "float32")
                     for n in (16, 10_000, 1_000_000)}
