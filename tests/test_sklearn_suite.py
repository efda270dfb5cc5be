"""scikit-learn's own tests of its metrics, run on lossfuse.metrics' functions put in the place
of scikit-learn's (`sklearn_swap.py`): no test fails or errs that does not also fail or err on
scikit-learn's own functions, and the tests that ran are the same."""

import os
import pathlib
import re
import subprocess
import sys

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("scipy")

HERE = pathlib.Path(__file__).parent
MODULES = ["sklearn.metrics.tests.test_regression", "sklearn.metrics.tests.test_common",
           "sklearn.metrics.tests.test_classification"]


def run(tmp_path, swap):
    env = dict(os.environ, LOSSFUSE_SKLEARN_SWAP="1" if swap else "0")
    inherited = [os.path.abspath(p) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), *inherited])     # the run is elsewhere
    out = subprocess.run([sys.executable, "-m", "pytest", "-rfE", "-p", "sklearn_swap",
                          "-p", "no:cacheprovider", "--pyargs", *MODULES],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=1200)
    assert out.stdout.strip(), out.stderr[-3000:]
    failed = set(re.findall(r"^(?:FAILED|ERROR) (\S+)", out.stdout, re.M))
    counts = dict((k, int(v)) for v, k in re.findall(r"(\d+) (passed|skipped|failed|error)",
                                                      out.stdout.splitlines()[-1]))
    return out, failed, counts


def test_scikit_learns_metric_tests_pass_on_lossfuses_functions(tmp_path):
    from sklearn_swap import SWAPPED
    theirs, failed_theirs, counts_theirs = run(tmp_path, swap=False)
    ours, failed_ours, counts_ours = run(tmp_path, swap=True)
    assert "scikit-learn's metrics: its own" in theirs.stdout
    assert f"scikit-learn's metrics: lossfuse's {len(SWAPPED)}: " in ours.stdout, \
        ours.stdout[:2000]                             # every function was swapped
    assert counts_ours.get("passed", 0) > 1000, ours.stdout[-3000:]
    assert failed_ours <= failed_theirs, (failed_ours - failed_theirs, ours.stdout[-5000:])
    assert counts_ours.get("passed") == counts_theirs.get("passed")
    assert counts_ours.get("skipped") == counts_theirs.get("skipped")
