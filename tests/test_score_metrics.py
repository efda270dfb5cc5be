"""``lossfuse score --metric``: scikit-learn's metrics streamed over files, over all rows and
per group, equal `lossfuse.metrics` on the whole arrays (on each group's rows), whatever the
chunk size, with one line on stderr for wrong input."""

import json
import math

import numpy as np
import pytest

import lossfuse as lf
from lossfuse import _score, metrics

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

METRICS = {"r2_score": metrics.r2_score,
           "explained_variance_score": metrics.explained_variance_score,
           "mean_squared_log_error": metrics.mean_squared_log_error,
           "root_mean_squared_log_error": metrics.root_mean_squared_log_error,
           "mean_absolute_percentage_error": metrics.mean_absolute_percentage_error,
           "max_error": metrics.max_error}
ALL = ",".join(METRICS)


def run(capsys, *args):
    code = _score.main([*args, "--no-progress"])
    out = capsys.readouterr()
    return code, out.out, out.err


def reference(name, y, p, w):
    fn = METRICS[name]
    return fn(y, p) if name == "max_error" else fn(y, p, sample_weight=w)


def close(got, want, rel=1e-12):
    if math.isnan(want):
        return math.isnan(got)
    return got == want or abs(got - want) <= rel * abs(want)


def data(n=301, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.gamma(2.0, 1.5, n) + 0.25
    p = np.maximum(y + rng.normal(0, 0.7, n), -0.5)
    w = rng.uniform(0, 2, n)
    g = rng.integers(0, 4, n)
    return y.astype(dtype), p.astype(dtype), w.astype(dtype), g


def write(tmp_path, kind, y, p, w, g=None):
    """The columns as DATA (csv, parquet) or as .npy sources: the arguments naming them."""
    columns = {k: v for k, v in dict(y=y, p=p, w=w).items() if v is not None}
    if kind == "npy":
        for k, v in columns.items():
            np.save(tmp_path / f"{k}.npy", v)
        return [], {c: str(tmp_path / f"{c}.npy") for c in "ypw"}
    if g is not None:
        columns["g"] = g
    table = pa.table(columns)
    path = tmp_path / f"d.{kind}"
    if kind == "csv":
        with open(path, "w") as f:
            f.write(",".join(columns) + "\n")
            for row in zip(*columns.values()):
                f.write(",".join(repr(v.item()) for v in row) + "\n")
    else:
        pq.write_table(table, path, row_group_size=97)
    return [str(path)], {c: c for c in "ypw"}


def score(capsys, tmp_path, kind, y, p, w, chunk, by=None, extra=()):
    files, cols = write(tmp_path, kind, y, p, w, by)
    args = ["--metric", ALL, *files, "--y-true", cols["y"], "--y-pred", cols["p"],
            "--chunk-size", str(chunk), "--json", *extra]
    if w is not None:
        args += ["--sample-weight", cols["w"]]
    if by is not None:
        args += ["--by", "g"]
    code, out, err = run(capsys, *args)
    assert code == 0 and err == "", err
    return json.loads(out)


def value(record):
    return math.nan if record["value"] is None else record["value"]


# ------------------------------------------------------------------------- over all rows
@pytest.mark.parametrize("kind", ["csv", "parquet", "npy"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_every_metric_over_all_rows_equals_lossfuse_metrics(capsys, tmp_path, kind, dtype,
                                                            weighted):
    if kind == "csv" and dtype == np.float32:
        pytest.skip("CSV fields are read as float64")
    y, p, w, _ = data(dtype=dtype)
    w = w if weighted else None
    seen = {}
    for chunk in (1, 7, 1000):
        records = score(capsys, tmp_path, kind, y, p, w, chunk)
        assert [r["loss"] for r in records] == list(METRICS)
        for r in records:
            want = reference(r["loss"], y, p, w)
            assert r["rows"] == len(y) and r["sum"] is None and r["mean"] is None
            assert r["weight"] == pytest.approx(len(y) if w is None else w.sum(dtype=float),
                                                rel=1e-12)
            if r["loss"] == "max_error":
                assert r["value"] == want
            else:
                assert close(r["value"], want), (r, want, chunk)
            seen.setdefault(r["loss"], []).append(r["value"])
    for name, values in seen.items():           # independent of the chunk size
        assert all(close(v, values[0]) for v in values), (name, values)


def test_one_metric_prints_a_number_and_a_json_object(capsys, tmp_path):
    y, p, w, _ = data()
    files, _ = write(tmp_path, "csv", y, p, w)
    code, out, err = run(capsys, "--metric", "R2", *files, "--y-true", "y", "--y-pred", "p")
    assert code == 0 and err == ""
    assert float(out) == metrics.r2_score(y, p) or close(float(out), metrics.r2_score(y, p))
    code, out, err = run(capsys, "--metric", "rmsle", *files, "--y-true", "y", "--y-pred", "p",
                         "--sample-weight", "w", "--json")
    got = json.loads(out)
    assert code == 0 and set(got) == {"value", "n", "seconds", "name"}
    assert got["name"] == "root_mean_squared_log_error" and got["n"] == len(y)
    assert close(got["value"], metrics.root_mean_squared_log_error(y, p, sample_weight=w))


def test_aliases_and_case_and_repeats(capsys, tmp_path):
    y, p, w, _ = data()
    files, _ = write(tmp_path, "csv", y, p, w)
    code, out, _ = run(capsys, *files, "--y-true", "y", "--y-pred", "p", "--metric", "R2,MSLE",
                       "--metric", "Explained_Variance", "--metric", "mape,rmsle",
                       "--metric", "max_error,r2_score", "--json")
    names = [r["loss"] for r in json.loads(out)]
    assert code == 0 and names == ["r2_score", "mean_squared_log_error",
                                   "explained_variance_score",
                                   "mean_absolute_percentage_error",
                                   "root_mean_squared_log_error", "max_error"]


def test_far_from_the_first_rows_takes_a_second_pass(capsys, tmp_path, monkeypatch):
    # the first rows sit far from the rest: the first batch's shift makes the totals cancel
    rng = np.random.default_rng(3)
    y = np.concatenate([np.zeros(10), 1e8 + rng.normal(size=5000)])
    p = y + rng.normal(size=len(y))
    passes = []
    again = _score._Moments.again
    monkeypatch.setattr(_score._Moments, "again", lambda self: passes.append(again(self))
                        or passes[-1])
    files, _ = write(tmp_path, "npy", y, p, None)
    code, out, err = run(capsys, "--metric", "r2,explained_variance", "--y-true",
                         str(tmp_path / "y.npy"), "--y-pred", str(tmp_path / "p.npy"),
                         "--chunk-size", "10", "--json")
    assert code == 0 and err == ""
    assert True in passes
    r2, ev = json.loads(out)
    assert close(r2["value"], metrics.r2_score(y, p), 1e-12)
    assert close(ev["value"], metrics.explained_variance_score(y, p), 1e-12)


# ------------------------------------------------------------------------------ per group
@pytest.mark.parametrize("kind", ["csv", "parquet"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_every_metric_per_group_equals_lossfuse_metrics_on_the_group(capsys, tmp_path, kind,
                                                                     dtype, weighted):
    if kind == "csv" and dtype == np.float32:
        pytest.skip("CSV fields are read as float64")
    y, p, w, g = data(dtype=dtype)
    w = w if weighted else None
    runs = []
    for chunk in (1, 3, 50, 1000):              # 3 and 50 split the groups between batches
        records = score(capsys, tmp_path, kind, y, p, w, chunk, by=g)
        assert [(r["g"], r["loss"]) for r in records] == [
            (k, m) for k in range(4) for m in METRICS]
        for r in records:
            rows = g == r["g"]
            want = reference(r["loss"], y[rows], p[rows], None if w is None else w[rows])
            assert r["rows"] == rows.sum()
            if r["loss"] == "max_error":
                assert r["value"] == want
            else:
                assert close(r["value"], want), (r, want, chunk)
        runs.append([r["value"] for r in records])
    assert all(r == runs[0] for r in runs)       # the same bits for every chunk size


def test_tiny_spread_far_from_zero_per_group(capsys, tmp_path):
    rng = np.random.default_rng(1)
    n = 4000
    g = rng.integers(0, 5, n)
    y = 1e8 + rng.normal(size=n)
    p = y + rng.normal(0, 0.5, n)
    records = score(capsys, tmp_path, "parquet", y, p, None, 333, by=g)
    for r in records:
        if r["loss"] in ("r2_score", "explained_variance_score"):
            rows = g == r["g"]
            want = METRICS[r["loss"]](y[rows], p[rows])
            assert abs(r["value"] - want) <= 1e-9, (r, want)
    ungrouped = score(capsys, tmp_path, "parquet", y, p, None, 333)
    assert abs(ungrouped[0]["value"] - metrics.r2_score(y, p)) <= 1e-9


def test_constant_y_in_a_group_is_forced_finite(capsys, tmp_path):
    # group 0: y constant, predicted exactly; 1: y constant, predicted wrongly; 2: both
    # constant with a constant bias (explained variance 1, R^2 0)
    y = np.array([0.1, 0.1, 0.1, 7.3, 7.3, 7.3, 2.0, 2.0])
    p = np.array([0.1, 0.1, 0.1, 7.0, 7.5, 7.3, 2.5, 2.5])
    g = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    w = np.array([1.0, 2.0, 0.5, 1.0, 1.0, 3.0, 1.0, 1.0])
    for chunk in (1, 2, 100):
        records = score(capsys, tmp_path, "csv", y, p, w, chunk, by=g)
        got = {(r["g"], r["loss"]): r["value"] for r in records}
        assert got[0, "r2_score"] == 1.0 and got[0, "explained_variance_score"] == 1.0
        assert got[1, "r2_score"] == 0.0 and got[1, "explained_variance_score"] == 0.0
        assert got[2, "r2_score"] == 0.0 and got[2, "explained_variance_score"] == 1.0
        for key, v in got.items():
            rows = g == key[0]
            assert v == reference(key[1], y[rows], p[rows], w[rows]), key


def test_a_first_row_of_weight_zero_does_not_shift_a_group(capsys, tmp_path):
    # the group's first row weighs 0 and is far off: a constant group must still be exact
    y = np.array([1e9, 0.3, 0.3, 0.3, 5.0, 6.0])
    p = np.array([0.0, 0.3, 0.3, 0.3, 5.5, 6.0])
    w = np.array([0.0, 1.0, 2.0, 3.0, 1.0, 1.0])
    g = np.array([0, 0, 0, 0, 1, 1])
    for chunk in (1, 4):
        got = {(r["g"], r["loss"]): r["value"]
               for r in score(capsys, tmp_path, "csv", y, p, w, chunk, by=g)}
        assert got[0, "r2_score"] == 1.0 == metrics.r2_score(y[:4], p[:4], sample_weight=w[:4])


def test_one_row_makes_r2_nan_with_one_warning_line(capsys, tmp_path):
    y, p = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.5, 2.0, 2.5, 4.5])
    g = np.array([0, 1, 1, 2])
    files, _ = write(tmp_path, "csv", y, p, np.ones(4), g)
    code, out, err = run(capsys, "--metric", "r2,explained_variance", *files, "--y-true", "y",
                         "--y-pred", "p", "--by", "g", "--json")
    records = json.loads(out)
    assert code == 0
    assert err == ("lossfuse score: warning: r2_score is not well-defined with fewer than "
                   "two rows: NaN for 2 groups\n")
    r2 = {r["g"]: r for r in records if r["loss"] == "r2_score"}
    assert r2[0]["value"] is None and r2[0]["value_nonfinite"] == "nan"
    assert r2[1]["value"] == metrics.r2_score(y[1:3], p[1:3])
    ev = {r["g"]: r["value"] for r in records if r["loss"] == "explained_variance_score"}
    assert ev[0] == metrics.explained_variance_score(y[:1], p[:1]) == 1.0
    # over all rows: the bare number, and one line on stderr
    np.save(tmp_path / "y1.npy", y[:1])
    np.save(tmp_path / "p1.npy", p[:1])
    code, out, err = run(capsys, "--metric", "r2", "--y-true", str(tmp_path / "y1.npy"),
                         "--y-pred", str(tmp_path / "p1.npy"))
    assert code == 0 and out == "nan\n"
    assert err == ("lossfuse score: warning: r2_score is not well-defined with fewer than "
                   "two rows: NaN\n")
    code, out, err = run(capsys, "--metric", "r2", "--y-true", str(tmp_path / "y1.npy"),
                         "--y-pred", str(tmp_path / "p1.npy"), "--json")
    got = json.loads(out)
    assert got["value"] is None and got["value_nonfinite"] == "nan" and got["n"] == 1


# ------------------------------------------------------------------------ losses and metrics
@pytest.mark.parametrize("by", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_losses_with_metrics_keep_their_rows_and_gain_a_value(capsys, tmp_path, by,
                                                               reduction):
    y, p, w, g = data()
    files, _ = write(tmp_path, "csv", y, p, w, g)
    base = ["mse,huber:delta=2", *files, "--y-true", "y", "--y-pred", "p", "--sample-weight",
            "w", "--json", "--reduction", reduction, "--chunk-size", "40"]
    base += ["--by", "g"] if by else []
    code, out, _ = run(capsys, *base)
    alone = json.loads(out)
    assert code == 0 and all("value" not in r for r in alone)
    code, out, _ = run(capsys, *base, "--metric", "r2,max_error")
    mixed = json.loads(out)
    losses = [r for r in mixed if r["loss"] in ("mse", "huber:delta=2")]
    assert [{k: v for k, v in r.items() if k != "value"} for r in losses] == alone
    assert all(r["value"] == r[reduction] for r in losses)
    assert len(mixed) == len(alone) * 2


def test_metric_rows_in_text_parquet_and_python(capsys, tmp_path):
    y, p, w, g = data()
    files, _ = write(tmp_path, "csv", y, p, w, g)
    out_file = tmp_path / "o.parquet"
    code, out, _ = run(capsys, "huber", *files, "--y-true", "y", "--y-pred", "p", "--metric",
                       "r2", "--output", str(out_file))
    table = pq.read_table(out_file).to_pylist()
    assert code == 0 and table[1]["loss"] == "r2_score" and table[1]["sum"] is None
    assert close(table[1]["value"], metrics.r2_score(y, p))
    code, out, _ = run(capsys, "huber", *files, "--y-true", "y", "--y-pred", "p", "--metric",
                       "r2")
    lines = out.splitlines()
    assert lines[0].split() == ["loss", "rows", "weight", "sum", "mean", "value"]
    assert lines[2].split()[:5] == ["r2_score", str(len(y)), f"{float(len(y))!r}", "null",
                                    "null"]
    # the Python API
    t = pa.table({"y": y, "p": p, "w": w, "g": g})
    got = lf.score(t, metrics=["r2", "max_error"], y_true="y", y_pred="p",
                   sample_weight="w", by="g").to_pylist()
    for r in got:
        rows = g == r["g"]
        assert close(r["value"], reference(r["loss"], y[rows], p[rows], w[rows]))
    df = t.to_pandas()
    got = lf.score(df, "mse", metrics="rmsle", y_true="y", y_pred="p")
    assert list(got["loss"]) == ["mse", "root_mean_squared_log_error"]
    assert close(got["value"][1], metrics.root_mean_squared_log_error(y, p))
    with pytest.raises(ValueError, match="unknown metric 'nope'"):
        lf.score(df, metrics="nope", y_true="y", y_pred="p")
    with pytest.raises(ValueError, match="a loss or a metric"):
        lf.score(df, y_true="y", y_pred="p")


def test_python_api_warns_once_for_undefined_r2():
    import pandas as pd
    df = pd.DataFrame({"y": [1.0, 2.0, 3.0], "p": [1.0, 2.5, 3.0], "g": ["a", "b", "b"]})
    with pytest.warns(UserWarning, match="fewer than two rows") as caught:
        got = lf.score(df, metrics="r2", y_true="y", y_pred="p", by="g")
    assert len(caught) == 1 and math.isnan(got["value"][0])
    assert got["value"][1] == metrics.r2_score([2.0, 3.0], [2.5, 3.0])


# ------------------------------------------------------------------------------ bad input
def one_line_error(code, out, err, status):
    assert code == status and out == "", (code, out, err)
    assert err.count("\n") == 1 and err.startswith("lossfuse score: error: "), err
    assert "Traceback" not in err


@pytest.mark.parametrize("spec", ["nope", "r2,bogus", "R2,,mape"])
def test_unknown_metric_exits_2_with_the_list(capsys, tmp_path, spec):
    files, _ = write(tmp_path, "csv", *data()[:3])
    code, out, err = run(capsys, "--metric", spec, *files, "--y-true", "y", "--y-pred", "p")
    one_line_error(code, out, err, 2)
    if "bogus" in spec or "nope" in spec:
        assert "unknown metric" in err and "r2_score" in err and "rmsle" in err


@pytest.mark.parametrize("metric", list(METRICS))
@pytest.mark.parametrize("where,value", [("y", math.nan), ("p", math.inf), ("w", math.nan),
                                         ("y", -math.inf)])
@pytest.mark.parametrize("by", [False, True])
def test_nan_or_infinity_is_one_line_naming_file_and_row(capsys, tmp_path, metric, where,
                                                         value, by):
    y, p, w, g = data(n=40)
    {"y": y, "p": p, "w": w}[where][23] = value
    files, _ = write(tmp_path, "csv", y, p, w, g)
    code, out, err = run(capsys, "--metric", metric, *files, "--y-true", "y", "--y-pred", "p",
                         "--sample-weight", "w", "--chunk-size", "10",
                         *(["--by", "g"] if by else []))
    one_line_error(code, out, err, 1)
    name = {"y": "y_true", "p": "y_pred", "w": "sample_weight"}[where]
    assert f"d.csv: {name} must hold finite values" in err and f"{name}[23] = " in err


@pytest.mark.parametrize("metric", ["msle", "rmsle"])
@pytest.mark.parametrize("where", ["y", "p"])
@pytest.mark.parametrize("bad", [-1.0, -3.5])
@pytest.mark.parametrize("by", [False, True])
def test_log_error_values_at_most_minus_one_are_one_line(capsys, tmp_path, metric, where, bad,
                                                          by):
    y, p, w, g = data(n=40)
    {"y": y, "p": p}[where][31] = bad
    files, _ = write(tmp_path, "parquet", y, p, w, g)
    code, out, err = run(capsys, "--metric", metric, *files, "--y-true", "y", "--y-pred", "p",
                         "--chunk-size", "8", *(["--by", "g"] if by else []))
    one_line_error(code, out, err, 1)
    name = "y_true" if where == "y" else "y_pred"
    assert f"{name} must hold values > -1" in err and f"{name}[31] = {bad!r}" in err
    with pytest.raises(ValueError):
        METRICS[_score._METRIC_NAMES[metric].name](y, p)


def test_param_and_metric_parameters_are_refused(capsys, tmp_path):
    files, _ = write(tmp_path, "csv", *data()[:3])
    with pytest.raises(SystemExit) as e:
        run(capsys, "--metric", "r2", "--param", "delta=2", *files, "--y-true", "y",
            "--y-pred", "p")
    err = capsys.readouterr().err
    assert e.value.code == 2 and "--param is for LOSS (metrics take no parameters)" in err
    code, out, err = run(capsys, "--metric", "r2:delta=2", *files, "--y-true", "y",
                         "--y-pred", "p")
    one_line_error(code, out, err, 2)
    assert "metric r2_score takes no parameters" in err
    code, out, err = run(capsys, "--metric", "mse", *files, "--y-true", "y", "--y-pred", "p")
    one_line_error(code, out, err, 2)
    assert "'mse' is a loss" in err


def test_two_column_predictions_are_refused_for_metrics(capsys, tmp_path):
    np.save(tmp_path / "c.npy", np.arange(6) % 3)
    np.save(tmp_path / "l.npy", np.zeros((6, 3)))
    code, out, err = run(capsys, "cross_entropy", "--metric", "r2", "--y-true",
                         str(tmp_path / "c.npy"), "--y-pred", str(tmp_path / "l.npy"))
    one_line_error(code, out, err, 1)
    assert "y_pred must be one column for r2_score, got shape (6, 3)" in err


def test_help_lists_the_metrics_and_their_aliases(capsys):
    with pytest.raises(SystemExit):
        _score.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--metric NAME" in text
    for spec in _score.METRICS:
        assert spec.name in text
        for alias in spec.aliases:
            assert f"alias {alias}" in text


# --------------------------------------------------------------------- Brier and hinge
def labelled(n=600, negative=0.0, seed=5):
    rng = np.random.default_rng(seed)
    y = np.where(rng.integers(0, 2, n) == 1, 1.0, negative)
    g = rng.integers(0, 4, n)
    y[g == 3] = 1.0                       # a group of one class
    return y, rng.uniform(0, 1, n), rng.normal(0, 1.5, n), rng.uniform(0, 2, n), g


def binary(capsys, tmp_path, metric, y, p, w, g, chunk, by):
    files, _ = write(tmp_path, "parquet", y, p, w, g)
    args = ["--metric", metric, *files, "--y-true", "y", "--y-pred", "p", "--json",
            "--chunk-size", str(chunk), *(["--sample-weight", "w"] if w is not None else []),
            *(["--by", "g"] if by else [])]
    code, out, err = run(capsys, *args)
    assert code == 0 and err == "", err
    return json.loads(out)


@pytest.mark.parametrize("metric", ["brier_score_loss", "hinge_loss"])
@pytest.mark.parametrize("negative", [0.0, -1.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_brier_and_hinge_equal_lossfuse_metrics_over_all_rows_and_per_group(
        capsys, tmp_path, metric, negative, weighted):
    y, prob, scores, w, g = labelled(negative=negative)
    p = prob if metric == "brier_score_loss" else scores
    w = w if weighted else None
    f = getattr(metrics, metric)
    for chunk in (1, 7, 1000):
        got = binary(capsys, tmp_path, metric, y, p, w, None, chunk, False)
        assert close(got["value"], f(y, p, sample_weight=w)), (chunk, got)
        groups = binary(capsys, tmp_path, metric, y, p, w, g, chunk, True)
        assert sorted(r["g"] for r in groups) == [0, 1, 2, 3]
        for r in groups:
            sel = g == r["g"]
            want = f(y[sel], p[sel], sample_weight=None if w is None else w[sel])
            assert close(r["value"], want), (chunk, r, want)


def test_hinge_of_one_class_takes_it_as_the_negative_one(capsys, tmp_path):
    """scikit-learn's LabelBinarizer makes a single class the negative one, and a stream
    learns that only at its end."""
    y = np.ones(50)
    p = np.linspace(-2, 2, 50)
    got = binary(capsys, tmp_path, "hinge_loss", y, p, None, None, 7, False)
    assert close(got["value"], metrics.hinge_loss(y, p))
    assert close(got["value"], float(np.mean(np.maximum(0, 1 + p))))


@pytest.mark.parametrize("metric", ["brier", "hinge_loss"])
@pytest.mark.parametrize("by", [False, True])
def test_labels_a_stream_cannot_take_are_one_line(capsys, tmp_path, metric, by):
    y, prob, scores, w, g = labelled(n=40)
    p = prob if metric == "brier" else scores
    for bad, words in ((2.0, "y_true must hold the labels 0 and 1, or -1 and 1"),
                       (-1.0, "it holds both 0 and -1")):
        yb = y.copy()
        yb[0], yb[30] = 0.0, bad          # 0 in the first batch, the other in a later one
        files, _ = write(tmp_path, "csv", yb, p, w, g)
        code, out, err = run(capsys, "--metric", metric, *files, "--y-true", "y",
                             "--y-pred", "p", "--chunk-size", "10",
                             *(["--by", "g"] if by else []))
        one_line_error(code, out, err, 1)
        assert words in err, err
    if metric == "brier":
        pb = p.copy()
        pb[17] = 1.5
        files, _ = write(tmp_path, "csv", y, pb, w, g)
        code, out, err = run(capsys, "--metric", metric, *files, "--y-true", "y",
                             "--y-pred", "p", *(["--by", "g"] if by else []))
        one_line_error(code, out, err, 1)
        assert "y_pred must hold probabilities in [0, 1] for brier_score_loss" in err
        assert "y_pred[17] = 1.5" in err
