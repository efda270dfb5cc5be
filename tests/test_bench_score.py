"""bench/score.py: `lossfuse score` and the pyarrow/NumPy reference agree on every format, and
the script reports a row per format (no timing is asserted); a reference that computes
something else is caught before anything is timed."""

import importlib.util
import json
import pathlib
import subprocess
import sys

import pytest

pytest.importorskip("pyarrow")
SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "bench" / "score.py"
_spec = importlib.util.spec_from_file_location("bench_score", SCRIPT)
bench_score = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_score)


def test_a_run_reports_every_format_and_both_agree(tmp_path):
    out = tmp_path / "score.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--rows", "3000", "--repeat", "1",
                           "--dir", str(tmp_path), "--json", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    saved = json.loads(out.read_text())
    assert saved["rows"] == 3000
    assert [r["format"] for r in saved["results"]] == ["csv", "parquet", "npy"]
    losses = [r["loss"] for r in saved["results"]]
    assert max(losses) - min(losses) <= 1e-12 * losses[0] and 0.5 < losses[0] < 2
    for r in saved["results"]:
        assert r["lossfuse_s"] > 0 and r["reference_s"] > 0 and r["lossfuse_rss"] > 0
        assert r["format"] in done.stdout
    assert list(tmp_path.iterdir()) == [out]         # the data files are removed


def test_a_reference_that_disagrees_stops_the_run(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_score, "NPY_REFERENCE", bench_score.NPY_REFERENCE.replace(
        "np.mean((p - y) ** 2)", "np.mean((p - y) ** 2) * (1 + 1e-6)"))
    files = bench_score.write_files(str(tmp_path), 1000)
    with pytest.raises(RuntimeError, match="npy: lossfuse gives"):
        bench_score.case("npy", files["npy"], 1)


@pytest.mark.parametrize("args", [["--rows", "0"], ["--repeat", "0"]])
def test_bad_arguments_exit_2(args):
    done = subprocess.run([sys.executable, str(SCRIPT)] + args, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "must be at least 1" in done.stderr
