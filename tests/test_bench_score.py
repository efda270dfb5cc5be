"""bench/score.py: `lossfuse score` and its references agree on every case, and the script
reports a row per case (no timing is asserted); a reference that computes something else is
caught before anything is timed."""

import importlib.util
import json
import pathlib
import subprocess
import sys

import pytest

pytest.importorskip("pyarrow")
pytest.importorskip("pandas")
SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "bench" / "score.py"
_spec = importlib.util.spec_from_file_location("bench_score", SCRIPT)
bench_score = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_score)


def test_a_run_reports_every_case_and_the_answers_agree(tmp_path):
    out = tmp_path / "score.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--rows", "3000", "--repeat", "1",
                           "--dir", str(tmp_path), "--json", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    run, = json.loads(out.read_text())["runs"]
    assert run["rows"] == 3000
    names = [r["case"] for r in run["results"]]
    assert names[:6] == ["csv", "parquet", "parquet, 8 parts", "npy", "csv, 3 losses",
                         "parquet, by g"]
    losses = [r["loss"] for r in run["results"][:4]]
    assert max(losses) - min(losses) <= 1e-12 * losses[0] and 0.5 < losses[0] < 2
    assert 900 < run["groups"]["groups"] <= 1000      # some of 1,000 keys draw no row
    assert run["groups"]["max_relative_vs_pandas"] <= 1e-12
    assert run["groups"]["max_ulps_vs_ungrouped"] <= 8
    for r in run["results"]:
        assert r["lossfuse_s"] > 0 and r["reference_s"] > 0 and r["lossfuse_rss"] > 0
        assert r["case"] in done.stdout
    assert list(tmp_path.iterdir()) == [out]         # the data files are removed


def test_a_reference_that_disagrees_stops_the_run(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_score, "NPY_REFERENCE", bench_score.NPY_REFERENCE.replace(
        "np.mean((p - y) ** 2)", "np.mean((p - y) ** 2) * (1 + 1e-6)"))
    paths = bench_score.write_files(str(tmp_path), 1000)
    ours, theirs, _ = bench_score.cases(paths)["npy"]
    with pytest.raises(RuntimeError, match="npy: lossfuse gives"):
        bench_score.check("npy", ours, theirs)


@pytest.mark.parametrize("args", [["--rows", "0"], ["--repeat", "0"]])
def test_bad_arguments_exit_2(args):
    done = subprocess.run([sys.executable, str(SCRIPT)] + args, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "must be at least 1" in done.stderr
