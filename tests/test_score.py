"""``lossfuse score``: streamed results equal the in-memory loss, memory stays flat, and wrong
input gets one line on stderr and exit code 1 (no traceback)."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

import lossfuse as lf
from lossfuse import _score


def run(capsys, *args):
    code = _score.main([*args, "--no-progress"])
    out = capsys.readouterr()
    return code, out.out, out.err


def ulps(a, b):
    return abs(a - b) / np.spacing(abs(b))


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    n = 10_007
    y = rng.normal(size=n)
    p = y + rng.normal(size=n)
    w = rng.uniform(0, 2, n)
    counts = rng.poisson(2.0, n).astype(float)
    labels = rng.integers(0, 2, n).astype(float)
    classes = rng.integers(0, 5, n)
    logits = rng.normal(size=(n, 5)).astype(np.float32)
    arrays = dict(y=y, p=p, w=w, counts=counts, labels=labels, classes=classes, logits=logits)
    for k, v in arrays.items():
        np.save(tmp_path / f"{k}.npy", v)
    with open(tmp_path / "d.csv", "w") as f:
        f.write("y_true, y_pred,weight\n")
        for a, b, c in zip(y, p, w):
            f.write(f"{float(a)!r},{float(b)!r},{float(c)!r}\n")
    return tmp_path, arrays


CASES = [("huber", "y", "p", {"delta": 2.0}), ("poisson", "counts", "p", {}),
         ("binary_cross_entropy", "labels", "p", {}), ("cross_entropy", "classes", "logits", {}),
         ("cross_entropy", "classes", "logits", {"ignore_index": 3}),
         ("tweedie", "counts", "p", {"power": 1.5})]


STREAMS = [(case, chunk, weighted, reduction) for case in CASES for chunk in (7, 1000, 1 << 20)
           for weighted in (False, True) for reduction in ("mean", "sum")]
STREAMS.append((CASES[0], 1, True, "mean"))                  # one-row chunks: once


@pytest.mark.parametrize("case,chunk,weighted,reduction", STREAMS)
def test_npy_streams_equal_the_in_memory_loss(files, capsys, case, chunk, weighted, reduction):
    name, yk, pk, params = case
    d, a = files
    args = [name, "--y-true", str(d / f"{yk}.npy"), "--y-pred", str(d / f"{pk}.npy"),
            "--reduction", reduction, "--chunk-size", str(chunk), "--json"]
    args += [f"--param={k}={v}" for k, v in params.items()]
    w = None
    if weighted:
        args += ["--sample-weight", str(d / "w.npy")]
        w = a["w"].astype(a[pk].dtype)
    code, out, err = run(capsys, *args)
    assert code == 0 and err == ""
    got = json.loads(out)
    want = lf.get_loss(name, **params).loss(a[yk], a[pk], sample_weight=w, reduction=reduction)
    assert got["n"] == len(a[pk]) and got["seconds"] >= 0 and got["name"] == name
    assert ulps(got["loss"], want) <= 4, (got, want)


def test_csv_columns_and_plain_output(files, capsys):
    d, a = files
    code, out, err = run(capsys, "huber", "--y-true", f"{d}/d.csv:y_true", "--y-pred",
                         f"{d}/d.csv:y_pred", "--sample-weight", f"{d}/d.csv:weight",
                         "--chunk-size", "999")
    assert code == 0 and err == ""
    want = lf.get_loss("huber").loss(a["y"], a["p"], sample_weight=a["w"])
    assert ulps(float(out), want) <= 4
    # a .npy source and a CSV column mix
    code, out, _ = run(capsys, "squared_error", "--y-true", f"{d}/y.npy", "--y-pred",
                       f"{d}/d.csv:y_pred")
    assert code == 0 and ulps(float(out), lf.get_loss("mse").loss(a["y"], a["p"])) <= 4


def test_parquet_columns(files, capsys):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    d, a = files
    pq.write_table(pa.table({"t": a["counts"], "p": a["p"]}), d / "d.parquet",
                   row_group_size=3000)
    code, out, err = run(capsys, "poisson", "--y-true", f"{d}/d.parquet:t", "--y-pred",
                         f"{d}/d.parquet:p", "--chunk-size", "2500")
    assert code == 0 and err == ""
    assert ulps(float(out), lf.get_loss("poisson").loss(a["counts"], a["p"])) <= 4
    code, _, err = run(capsys, "poisson", "--y-true", f"{d}/d.parquet:nope", "--y-pred",
                       f"{d}/d.parquet:p")
    assert code == 1 and "no column 'nope'" in err and "columns: t, p" in err


@pytest.mark.parametrize("what,args,says", [
    ("missing file", ["huber", "--y-true", "{d}/missing.npy", "--y-pred", "{d}/p.npy"],
     "No such file"),
    ("unknown column", ["huber", "--y-true", "{d}/d.csv:nope", "--y-pred", "{d}/p.npy"],
     "has no column 'nope' (columns: y_true, y_pred, weight)"),
    ("no column named", ["huber", "--y-true", "{d}/d.csv", "--y-pred", "{d}/p.npy"],
     "name the column"),
    ("length mismatch", ["huber", "--y-true", "{d}/y.npy", "--y-pred", "{d}/logits.npy",
                         "--sample-weight", "{d}/short.npy"], "different lengths"),
    ("length mismatch, csv", ["huber", "--y-true", "{d}/d.csv:y_true", "--y-pred",
                              "{d}/long.npy"],
     "y_true ({d}/d.csv:y_true) has 10,007 rows, y_pred ({d}/long.npy) has more"),
    ("bad value", ["poisson", "--y-true", "{d}/y.npy", "--y-pred", "{d}/p.npy",
                   "--chunk-size", "100"],
     "{d}/y.npy: y_true must hold values >= 0 for poisson; y_true[{i}]"),
    ("not a number", ["huber", "--y-true", "{d}/bad.csv:a", "--y-pred", "{d}/p.npy"],
     "bad.csv, row 1, column 'a': 'x' is not a number"),
    ("not a .npy", ["huber", "--y-true", "{d}/d.csv.npy", "--y-pred", "{d}/p.npy"],
     "is not a .npy file"),
    ("unknown loss", ["hubr", "--y-true", "{d}/y.npy", "--y-pred", "{d}/p.npy"],
     "unknown loss 'hubr'"),
    ("bad parameter", ["huber", "--y-true", "{d}/y.npy", "--y-pred", "{d}/p.npy",
                       "--param", "delta=-1"], "delta"),
    ("unknown source", ["huber", "--y-true", "{d}/y.txt", "--y-pred", "{d}/p.npy"],
     "not a .npy, FILE.csv:COLUMN, FILE.parquet:COLUMN or FILE.arrow:COLUMN source"),
])
def test_wrong_input_is_one_line_and_exit_code_1(files, what, args, says):
    d, a = files
    np.save(d / "short.npy", np.ones(10))
    np.save(d / "long.npy", np.ones(20_000))
    (d / "bad.csv").write_text("a,b\n1,2\nx,3\n")
    (d / "d.csv.npy").write_text("not numpy\n")
    first_negative = int(np.flatnonzero(a["y"] < 0)[0])
    args = [x.format(d=d) for x in args]
    res = subprocess.run([sys.executable, "-m", "lossfuse", "score", *args],
                         capture_output=True, text=True)
    assert res.returncode == 1, (what, res.stdout, res.stderr)
    assert res.stdout == "" and "Traceback" not in res.stderr
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("lossfuse score: error: ")
    assert says.format(d=d, i=first_negative) in res.stderr, (what, res.stderr)


def test_a_progress_bar_for_long_inputs_only(files):
    """With --progress (stderr is a pipe here, where the bar is off by default: see
    tests/test_cli.py for a terminal), a bar for inputs of more than four chunks only."""
    d, _ = files
    base = [sys.executable, "-m", "lossfuse", "score", "huber", "--y-true", f"{d}/y.npy",
            "--y-pred", f"{d}/p.npy"]
    long = subprocess.run(base + ["--chunk-size", "100", "--progress"], capture_output=True,
                          text=True)
    assert long.returncode == 0 and "100.0%" in long.stderr and "10,007 rows" in long.stderr
    short = subprocess.run(base + ["--progress"], capture_output=True, text=True)
    assert short.returncode == 0 and short.stderr == ""
    piped = subprocess.run(base + ["--chunk-size", "100"], capture_output=True, text=True)
    assert piped.stderr == "" and float(piped.stdout) == float(long.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_400_mb_of_npy_input_in_flat_memory(tmp_path):
    """Two 200 MB .npy files: the streaming process peaks below 200 MB of RSS, and its result
    equals the in-memory loss."""
    n = 25_000_000                                    # 200 MB of float64 each
    y = np.lib.format.open_memmap(tmp_path / "y.npy", mode="w+", dtype=np.float64, shape=(n,))
    p = np.lib.format.open_memmap(tmp_path / "p.npy", mode="w+", dtype=np.float64, shape=(n,))
    rng = np.random.default_rng(1)
    for i in range(0, n, 1 << 22):
        k = min(1 << 22, n - i)
        y[i:i + k] = rng.normal(size=k)
        p[i:i + k] = y[i:i + k] + rng.normal(size=k)
    y.flush()
    p.flush()
    want = lf.get_loss("pseudo_huber").loss(np.asarray(y), np.asarray(p))
    del y, p
    # VmHWM: this process's own peak (getrusage's ru_maxrss keeps the forking parent's
    # across exec on Linux)
    code = ("import sys\nfrom lossfuse._score import main\n"
            f"rc = main(['pseudo_huber', '--y-true', {str(tmp_path / 'y.npy')!r}, '--y-pred', "
            f"{str(tmp_path / 'p.npy')!r}, '--json', '--no-progress'])\n"
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
            "print(hwm.split()[1])\nsys.exit(rc)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    out, peak_kb = res.stdout.strip().split("\n")
    got = json.loads(out)
    # the in-memory kernel's own float64 sum of 25e6 terms is a few ulp off (the streamed
    # chunk sums are added exactly): 5 ulp measured
    assert got["n"] == n and ulps(got["loss"], want) <= 8
    assert int(peak_kb) < 200 * 1024, f"peak RSS {int(peak_kb) / 1024:.0f} MB"
    print(f"peak RSS {int(peak_kb) / 1024:.0f} MB")
    assert math.isfinite(got["seconds"])
