"""``lossfuse score`` over tables (CSV, Parquet, Arrow IPC files, directories of parts, globs,
hive partitions), several losses in one pass, groups (``--by``), the outputs (a table,
``--json`` records, ``--output``) and `lossfuse.score`: every value checked against a
reference computed apart -- the per-row losses (``reduction="none"``, in float64) summed per
group by pandas and ``math.fsum``."""

import json
import math
import re

import numpy as np
import pytest

import lossfuse as lf
from conftest import run_score as run
from lossfuse import _score

pa = pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")
import pyarrow.csv as pcsv  # noqa: E402
import pyarrow.feather as feather  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402


def records(*args):
    """The records ``lossfuse score ... --json`` prints (exit code 0, nothing on stderr)."""
    code, out, err = run(*args, "--json")
    assert (code, err) == (0, ""), err
    return json.loads(out)


def fails(result, *says):
    code, out, err = result
    assert code == 1 and out == "" and err.count("\n") == 1, result
    assert err.startswith("lossfuse score: error: ") and "Traceback" not in err
    for s in says:
        assert s in err, (s, err)
    return err


def reference(df, losses, y="y", p="p", w=None, by=()):
    """The records of `losses` (label -> Loss) over the rows of the DataFrame `df`, per
    group of `by` (null a key of its own, groups in the order of their keys): the per-row
    losses summed exactly (math.fsum) per group."""
    by = list(by)
    out = []
    groups = df.groupby(by, dropna=False, sort=True) if by else [((), df)]
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        for label, loss in losses.items():
            weight = part[w].to_numpy(float) if w else np.ones(len(part))
            per_row = loss.loss(part[y].to_numpy(float), part[p].to_numpy(float),
                                reduction="none") * weight
            total = math.fsum(per_row)
            out.append({**{k: None if pd.isna(v) else v for k, v in zip(by, key)},
                        "loss": label, "rows": len(part), "weight": math.fsum(weight),
                        "sum": total, "mean": total / math.fsum(weight)})
    return out


def same(got, want, ulps=0):
    """Records equal: keys and counts exactly, sums and weights to the bit (a group's sum is
    correctly rounded; without groups, the sums of batches are added: within `ulps`), the
    mean within an ulp more (a quotient of the two)."""
    assert len(got) == len(want), (len(got), len(want))
    for g, w in zip(got, want):
        assert list(g) == list(w), (g, w)
        for k in w:
            if k in ("mean", "sum"):
                rel = (ulps + (k == "mean")) * 2 ** -52
                assert g[k] == pytest.approx(w[k], rel=rel, abs=0), (k, g, w)
            elif isinstance(w[k], float):
                assert g[k] == w[k], (k, g, w)
            else:
                assert g[k] == w[k] and type(g[k]) is type(w[k]) or \
                    isinstance(w[k], (int, np.integer)) and g[k] == w[k], (k, g, w)


MSE = {"squared_error": lf.get_loss("squared_error")}
TWO = {"squared_error": lf.get_loss("squared_error"),
       "huber:delta=0.5": lf.get_loss("huber", delta=0.5)}


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    n = 2_000
    return pd.DataFrame({"y": rng.normal(size=n), "p": rng.normal(size=n),
                         "w": rng.uniform(0, 2, n),
                         "region": rng.choice(["north", "south", "east"], n),
                         "k": rng.integers(0, 4, n)})


def write_table(df, path):
    """`df` to `path` in the format of its suffix."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    if path.suffix == ".csv":
        pcsv.write_csv(table, path)
    elif path.suffix == ".parquet":
        pq.write_table(table, path, row_group_size=300)
    else:
        feather.write_feather(table, path)
    return path


SUFFIXES = [".csv", ".parquet", ".feather", ".arrow"]


def keys_as_read(df, suffix, by):
    """`df` with its key columns `by` as the command reads them from a file of `suffix`: from
    CSV, keys are text (and an empty field is the key ""), but for a column whose keys are
    all whole numbers written plainly, which are integers."""
    if suffix != ".csv":
        return df
    out = {}
    for b in by:
        text = df[b].map(lambda v: "" if pd.isna(v) else str(v))
        plain = text.map(lambda t: re.fullmatch(r"-?(0|[1-9][0-9]{0,17})", t) is not None)
        out[b] = text.map(int) if len(text) and plain.all() else text
    return df.assign(**out)


# ----------------------------------------------------------------- formats and layouts
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_every_format_as_a_file(tmp_path, frame, suffix):
    path = write_table(frame, tmp_path / f"d{suffix}")
    got = records("squared_error,huber:delta=0.5", path, "--y-true", "y", "--y-pred", "p",
                  "--sample-weight", "w", "--by", "region")
    same(got, reference(frame, TWO, w="w", by=["region"]))
    # one loss without --by: the bare number, the fsum of the weighted losses over weight
    code, out, err = run("squared_error", path, "--y-true", "y", "--y-pred", "p",
                         "--sample-weight", "w")
    want = reference(frame, MSE, w="w")[0]["mean"]
    assert (code, err) == (0, "") and float(out) == pytest.approx(want, rel=2 ** -52, abs=0)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_a_directory_of_parts_and_a_glob(tmp_path, frame, suffix):
    (tmp_path / "parts" / "sub").mkdir(parents=True)
    cuts = [0, 1, 700, 1500, len(frame)]                # a part of one row among them
    for i, (a, b) in enumerate(zip(cuts, cuts[1:])):
        where = tmp_path / "parts" / ("sub" if i == 2 else "")
        write_table(frame.iloc[a:b], where / f"part{i}{suffix}")
    # skipped: hidden and underscore files, files of another suffix
    (tmp_path / "parts" / f".hidden{suffix}").write_bytes(b"garbage")
    (tmp_path / "parts" / f"_SUCCESS{suffix}").write_bytes(b"")
    (tmp_path / "parts" / "notes.txt").write_text("not data")
    want = reference(keys_as_read(frame, suffix, ["k"]), TWO, by=["k"])
    args = ("--y-true", "y", "--y-pred", "p", "--by", "k")
    same(records("squared_error,huber:delta=0.5", tmp_path / "parts", *args), want)
    same(records("squared_error,huber:delta=0.5", f"{tmp_path}/parts/**/part*{suffix}",
                 *args), want)
    # a glob of some of the parts: only their rows
    part = pd.concat([frame.iloc[0:1], frame.iloc[1:700]])
    same(records("squared_error,huber:delta=0.5", f"{tmp_path}/parts/part[01]{suffix}", *args),
         reference(keys_as_read(part, suffix, ["k"]), TWO, by=["k"]))


@pytest.mark.parametrize("suffix", [
    ".csv", ".parquet", ".feather"])
def test_hive_partitions_are_columns(tmp_path, frame, suffix):
    for (region, k), part in frame.groupby(["region", "k"]):
        where = tmp_path / "data" / f"region={region}" / f"k={k}"
        where.mkdir(parents=True)
        write_table(part.drop(columns=["region", "k"]), where / f"part{suffix}")
    for by in (["region"], ["k"], ["region", "k"]):
        got = records("squared_error,huber:delta=0.5", tmp_path / "data", "--y-true", "y",
                      "--y-pred", "p", "--by", *sum((["--by", b] for b in by), [])[1:])
        want = reference(frame, TWO, by=by)
        same(got, want)
    # the integer partition key as a value column (its values from the path)
    got = records("squared_error", tmp_path / "data", "--y-true", "k", "--y-pred", "p")
    ordered = pd.concat([part for _, part in frame.groupby(["region", "k"])])
    want = reference(ordered, MSE, y="k")[0]
    assert got["n"] == len(frame) and got["loss"] == pytest.approx(want["mean"], rel=1e-15)


def test_mixed_sources_npy_and_table_columns(tmp_path, frame):
    """The SRC syntax: y_true from a .npy file, y_pred and the weight from a CSV (read in
    one pass), and from a Parquet file."""
    np.save(tmp_path / "y.npy", frame["y"].to_numpy())
    write_table(frame[["p", "w"]], tmp_path / "pw.csv")
    write_table(frame[["p", "w"]], tmp_path / "pw.parquet")
    want = reference(frame, MSE, w="w")[0]
    for table in ("pw.csv", "pw.parquet"):
        for chunk in (7, 1000, 1 << 20):
            code, out, err = run("squared_error", "--y-true", tmp_path / "y.npy", "--y-pred",
                                 f"{tmp_path / table}:p", "--sample-weight",
                                 f"{tmp_path / table}:w", "--reduction", "sum",
                                 "--chunk-size", chunk)
            assert (code, err) == (0, "")
            assert float(out) == pytest.approx(want["sum"], rel=4 * 2 ** -52, abs=0)
    # of different lengths: an error naming both
    np.save(tmp_path / "short.npy", frame["y"].to_numpy()[:-1])
    fails(run("squared_error", "--y-true", tmp_path / "short.npy", "--y-pred",
              f"{tmp_path / 'pw.csv'}:p"), "inputs of different lengths", "short.npy")


# ------------------------------------------------------------------- columns and nulls
@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("option", ["--y-true", "--y-pred", "--sample-weight", "--by"])
def test_a_missing_column_is_named_with_the_columns(tmp_path, frame, suffix, option):
    path = write_table(frame, tmp_path / f"d{suffix}")
    args = {"--y-true": "y", "--y-pred": "p", "--sample-weight": "w", "--by": "region"}
    args[option] = "nope"
    fails(run("squared_error", path, *[a for kv in args.items() for a in kv]),
          str(path), "no column 'nope' (columns: y, p, w, region, k)")


def test_extra_columns_are_not_read(tmp_path, frame):
    """Columns other than those named may hold anything, even text in a Parquet file."""
    df = frame.assign(note="text", other=[[1]] * len(frame))
    path = tmp_path / "d.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)
    same(records("squared_error", path, "--y-true", "y", "--y-pred", "p", "--by", "k"),
         reference(frame, MSE, by=["k"]))


@pytest.mark.parametrize("suffix", [".parquet", ".feather"])
@pytest.mark.parametrize("column", ["y", "p", "w"])
def test_a_null_in_a_scored_column_names_file_column_and_row(tmp_path, frame, suffix,
                                                              column):
    df = frame.copy()
    df[column] = df[column].astype(object)
    df.loc[1234, column] = None
    path = write_table(df, tmp_path / f"d{suffix}")
    for chunk in (7, 1000, 1 << 20):
        fails(run("squared_error", path, "--y-true", "y", "--y-pred", "p", "--sample-weight",
                  "w", "--chunk-size", chunk),
              f"{path}, row 1,234, column '{column}': a missing value (null)")


def test_a_null_in_a_scored_column_of_a_later_part(tmp_path, frame):
    """Rows are counted from 0 in each file: the part that holds the null is named."""
    (tmp_path / "parts").mkdir()
    write_table(frame.iloc[:1000], tmp_path / "parts" / "a.parquet")
    df = frame.iloc[1000:].reset_index(drop=True)
    df["y"] = df["y"].astype(object)
    df.loc[10, "y"] = None
    write_table(df, tmp_path / "parts" / "b.parquet")
    fails(run("squared_error", tmp_path / "parts", "--y-true", "y", "--y-pred", "p",
              "--chunk-size", 300),
          f"{tmp_path / 'parts' / 'b.parquet'}, row 10, column 'y': a missing value")


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_null_keys_are_a_group_of_their_own(tmp_path, frame, suffix):
    df = frame.copy()
    df["region"] = df["region"].astype(object)
    df.loc[df.index % 7 == 0, "region"] = None
    path = write_table(df, tmp_path / f"d{suffix}")
    got = records("squared_error,huber:delta=0.5", path, "--y-true", "y", "--y-pred", "p",
                  "--by", "region")
    if suffix == ".csv":
        # CSV has no nulls: the empty field is the key "" (first in order)
        want = reference(keys_as_read(df, suffix, ["region"]), TWO, by=["region"])
    else:
        want = reference(df, TWO, by=["region"])          # null last
        assert got[-1]["region"] is None
    same(got, want)


def test_group_keys_of_many_types(tmp_path, frame):
    """Keys of string, integer, float, boolean, date and null type, a dictionary
    (categorical) column, and two of them at once."""
    n = len(frame)
    table = pa.table({
        "y": frame["y"], "p": frame["p"],
        "s": frame["region"], "i": pa.array(frame["k"], pa.int16()),
        "f": frame["k"] * 0.5, "b": frame["k"] % 2 == 0,
        "d": pa.array((frame["k"].to_numpy() * 365).astype("int32"), pa.date32()),
        "nothing": pa.nulls(n),
        "cat": pa.array(frame["region"]).dictionary_encode()})
    path = tmp_path / "d.parquet"
    pq.write_table(table, path)
    df = table.to_pandas()
    df["cat"] = df["cat"].astype(str)
    for by in (["s"], ["i"], ["f"], ["b"], ["d"], ["nothing"], ["cat"], ["s", "i"],
               ["i", "s"], ["cat", "b"]):
        got = records("squared_error", path, "--y-true", "y", "--y-pred", "p",
                      *sum((["--by", b] for b in by), []))
        want = reference(df, MSE, by=by)
        for g, w in zip(got, want):
            for b in by:       # dates and other types print as their text in JSON
                w[b] = None if w[b] is None else (str(w[b]) if b == "d" else w[b])
        same(got, want)


def test_one_group(tmp_path, frame):
    path = write_table(frame.assign(g="all"), tmp_path / "d.parquet")
    got = records("squared_error", path, "--y-true", "y", "--y-pred", "p", "--by", "g")
    same(got, reference(frame.assign(g="all"), MSE, by=["g"]))
    assert got[0]["rows"] == len(frame)


def test_a_million_groups(tmp_path):
    n = 1_000_000
    rng = np.random.default_rng(1)
    y, p = rng.normal(size=n), rng.normal(size=n)
    keys = np.arange(n)[::-1].copy()                  # appear in the reverse of key order
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"y": y, "p": p, "g": keys}), path)
    out = tmp_path / "out.parquet"
    code, stdout, err = run("squared_error", path, "--y-true", "y", "--y-pred", "p", "--by",
                            "g", "--output", out, "--chunk-size", 100_000)
    assert (code, stdout, err) == (0, "", "")
    got = pq.read_table(out)
    assert got.num_rows == n and got.column_names == ["g", "loss", "rows", "weight", "sum",
                                                      "mean"]
    assert got.column("g").to_numpy().tolist() == list(range(n))      # in key order
    assert set(got.column("rows").to_numpy().tolist()) == {1}
    where = np.argsort(keys)                 # the row of each key
    for g in (0, 1, 4321, 500_000, n - 1):
        i = where[g]
        assert got.column("sum")[g].as_py() == (y[i] - p[i]) ** 2
    assert math.fsum(got.column("sum").to_numpy()) == pytest.approx(
        math.fsum((y - p) ** 2), rel=1e-15)


# ------------------------------------------------------------------------ empty inputs
def test_empty_inputs(tmp_path, frame):
    header_only = tmp_path / "h.csv"
    header_only.write_text("y,p,region\n")
    zero = write_table(frame.iloc[:0], tmp_path / "z.parquet")
    zero_ipc = write_table(frame.iloc[:0], tmp_path / "z.feather")
    for path in (header_only, zero, zero_ipc):
        fails(run("squared_error", path, "--y-true", "y", "--y-pred", "p"),
              "the inputs have no rows")
        fails(run("squared_error", path, "--y-true", "y", "--y-pred", "p", "--by",
                  "region"), "the inputs have no rows")
    # empty parts among others: 0 rows of them
    for suffix in (".csv", ".parquet"):
        d = tmp_path / f"parts{suffix}"
        d.mkdir()
        write_table(frame.iloc[:0], d / f"a{suffix}")
        write_table(frame, d / f"b{suffix}")
        write_table(frame.iloc[:0], d / f"c{suffix}")
        same(records("squared_error", d, "--y-true", "y", "--y-pred", "p", "--by",
                     "region"), reference(frame, MSE, by=["region"]))


# ---------------------------------------------------------------------- several losses
LOSSES = ["squared_error", "absolute_error", "huber:delta=2", "pinball:alpha=0.9",
          "poisson"]


def test_several_losses_equal_their_single_runs(tmp_path, frame):
    df = frame.assign(y=np.abs(frame["y"]))                     # counts for poisson
    path = write_table(df, tmp_path / "d.parquet")
    args = ("--y-true", "y", "--y-pred", "p", "--sample-weight", "w", "--by", "region")
    together = records(",".join(LOSSES[:3]), path, *args, "--loss", LOSSES[3], "--loss",
                       LOSSES[4])
    assert [r["loss"] for r in together[:5]] == LOSSES
    for i, spec in enumerate(LOSSES):
        alone = records(spec, path, *args)
        assert together[i::len(LOSSES)] == alone
    # the values: the losses with their parameters
    want = reference(df, {"pinball:alpha=0.9": lf.get_loss("pinball", alpha=0.9)},
                     w="w", by=["region"])
    same(together[3::len(LOSSES)], want)


@pytest.mark.parametrize("specs,labels,params", [
    (["huber:delta=2"], ["huber:delta=2"], [{"delta": 2.0}]),
    (["huber:delta=2,mse"], ["huber:delta=2", "mse"], [{"delta": 2.0}, {}]),
    (["huber, delta=3, mse"], ["huber:delta=3", "mse"], [{"delta": 3.0}, {}]),
    (["pinball:alpha=0.25", "--loss", "huber:delta=1e-1"],
     ["pinball:alpha=0.25", "huber:delta=1e-1"], [{"alpha": 0.25}, {"delta": 0.1}]),
    (["tweedie:power=1.5"], ["tweedie:power=1.5"], [{"power": 1.5}]),
])
def test_loss_specs(tmp_path, frame, specs, labels, params):
    df = frame.assign(y=np.abs(frame["y"]))
    path = write_table(df, tmp_path / "d.parquet")
    got = records(specs[0], path, "--y-true", "y", "--y-pred", "p", "--by", "k", *specs[1:])
    assert [r["loss"] for r in got[:len(labels)]] == labels
    losses = {}
    for label, param in zip(labels, params):
        name = label.partition(":")[0]
        losses[label] = lf.get_loss({"mse": "squared_error"}.get(name, name), **param)
    same(got, reference(df, losses, by=["k"]))


@pytest.mark.parametrize("spec,says", [
    ("nope", "nope"),
    ("huber:delta=x", "'delta=x': 'x' is not a number"),
    ("huber:delta", "is not NAME=VALUE"),
    ("huber:nope=1", "nope"),
    ("huber:delta=-1", "delta"),
    ("mse,,huber", "an empty loss in the list"),
    ("mse,", "an empty loss in the list"),
])
def test_bad_loss_specs(tmp_path, frame, spec, says):
    path = write_table(frame, tmp_path / "d.parquet")
    fails(run(spec, path, "--y-true", "y", "--y-pred", "p"), says)
    fails(run("mse", path, "--y-true", "y", "--y-pred", "p", "--loss", spec), says)
    with pytest.raises(ValueError, match="nope|number|NAME=VALUE|delta|empty"):
        lf.score(frame, spec, y_true="y", y_pred="p")


# ----------------------------------------------------------------------------- outputs
def test_json_records_with_values_that_are_not_finite(tmp_path):
    path = tmp_path / "d.parquet"               # NaN a value, not a null
    pq.write_table(pa.table({"y": np.array([1.0, math.nan, 1.0, math.inf, 2.0]),
                             "p": np.array([0.0, 0.0, 0.0, 0.0, 1.0]),
                             "w": np.array([1.0, 1.0, 0.0, 1.0, 1.0]),
                             "g": ["a", "b", "c", "d", "e"]}), path)
    code, out, err = run("squared_error", path, "--y-true", "y", "--y-pred", "p",
                         "--sample-weight", "w", "--by", "g", "--json")
    assert (code, err) == (0, "")
    got = json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    by_key = {r["g"]: r for r in got}
    assert by_key["a"] == {"g": "a", "loss": "squared_error", "rows": 1, "weight": 1.0,
                           "sum": 1.0, "mean": 1.0}
    assert by_key["b"]["sum"] is None and by_key["b"]["sum_nonfinite"] == "nan"
    assert by_key["b"]["mean"] is None and by_key["b"]["mean_nonfinite"] == "nan"
    assert by_key["c"]["weight"] == 0.0 and by_key["c"]["sum"] == 0.0
    assert by_key["c"]["mean"] is None and by_key["c"]["mean_nonfinite"] == "nan"
    assert by_key["d"]["sum_nonfinite"] == "inf" and by_key["d"]["mean_nonfinite"] == "inf"
    assert "sum_nonfinite" not in by_key["e"] and by_key["e"]["mean"] == 1.0


def test_the_plain_table(tmp_path, frame):
    path = write_table(frame, tmp_path / "d.parquet")
    code, out, err = run("squared_error,mse", path, "--y-true", "y", "--y-pred", "p",
                         "--by", "region")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["region", "loss", "rows", "weight", "sum", "mean"]
    want = reference(frame, {"squared_error": lf.get_loss("mse"), "mse": lf.get_loss("mse")},
                     by=["region"])
    assert len(lines) == 1 + len(want)
    for line, w in zip(lines[1:], want):
        cells = line.split()
        assert cells[:3] == [w["region"], w["loss"], str(w["rows"])]
        assert [float(c) for c in cells[3:]] == [w["weight"], w["sum"],
                                                  pytest.approx(w["mean"], rel=2 ** -52)]


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".json"])
def test_output_files_read_back(tmp_path, frame, suffix):
    df = frame.copy()
    df["region"] = df["region"].astype(object)
    df.loc[::11, "region"] = None
    path = write_table(df, tmp_path / "d.parquet")
    out = tmp_path / f"out{suffix}"
    code, stdout, err = run("squared_error,huber:delta=0.5", path, "--y-true", "y",
                            "--y-pred", "p", "--sample-weight", "w", "--by", "region",
                            "--output", out)
    assert (code, stdout, err) == (0, "", "")
    want = reference(df, TWO, w="w", by=["region"])
    if suffix == ".parquet":
        got = pq.read_table(out).to_pylist()
    elif suffix == ".csv":
        got = pcsv.read_csv(out).to_pylist()              # the null key: an empty field
        for w in want:
            w["region"] = w["region"] or ""
    else:
        got = json.loads(out.read_text())
    same(got, want)


def test_output_of_one_loss_without_groups(tmp_path, frame):
    path = write_table(frame, tmp_path / "d.parquet")
    out = tmp_path / "out.json"
    code, stdout, err = run("squared_error", path, "--y-true", "y", "--y-pred", "p",
                            "--output", out)
    assert (code, stdout, err) == (0, "", "")
    same(json.loads(out.read_text()), reference(frame, MSE), ulps=4)


def test_output_of_an_unknown_kind_is_a_usage_error(tmp_path, frame, capsys):
    path = write_table(frame, tmp_path / "d.parquet")
    with pytest.raises(SystemExit) as exit:
        _score.main(["mse", str(path), "--y-true", "y", "--y-pred", "p", "--output",
                     str(tmp_path / "out.txt")])
    assert exit.value.code == 2
    assert "--output" in capsys.readouterr().err and not (tmp_path / "out.txt").exists()


# ------------------------------------------------------------------------- chunk sizes
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_chunk_sizes_give_the_same_bits(tmp_path, frame, suffix):
    path = write_table(frame, tmp_path / f"d{suffix}")
    args = ("squared_error,huber:delta=0.5", path, "--y-true", "y", "--y-pred", "p",
            "--sample-weight", "w", "--by", "region", "--by", "k")
    runs = [records(*args, "--chunk-size", chunk) for chunk in (1, 7, 1000, 1 << 20)]
    assert all(r == runs[0] for r in runs[1:])
    same(runs[0], reference(keys_as_read(frame, suffix, ["k"]), TWO, w="w",
                            by=["region", "k"]))


# ---------------------------------------------------------------------- the Python API
def test_api_on_a_pandas_dataframe(frame):
    got = lf.score(frame, ["squared_error", lf.get_loss("huber", delta=0.5)], y_true="y",
                   y_pred="p", sample_weight="w", by="region")
    assert isinstance(got, pd.DataFrame)
    assert list(got.columns) == ["region", "loss", "rows", "weight", "sum", "mean"]
    want = reference(frame, {"squared_error": lf.get_loss("squared_error"),
                             repr(lf.get_loss("huber", delta=0.5)):
                             lf.get_loss("huber", delta=0.5)}, w="w", by=["region"])
    same(got.to_dict("records"), want)
    assert list(frame.columns) == ["y", "p", "w", "region", "k"]     # not modified


def test_api_on_a_pyarrow_table(frame):
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for data in (table, table.to_batches()[0]):
        got = lf.score(data, "squared_error,huber:delta=0.5", y_true="y", y_pred="p",
                       by=["region", "k"])
        assert isinstance(got, pa.Table)
        assert got.column_names == ["region", "k", "loss", "rows", "weight", "sum", "mean"]
        same(got.to_pylist(), reference(frame, TWO, by=["region", "k"]))
    got = lf.score(table, "squared_error", y_true="y", y_pred="p")
    same(got.to_pylist(), reference(frame, MSE), ulps=4)
    # a categorical (dictionary) key column
    cat = frame.assign(region=frame["region"].astype("category"))
    same(lf.score(cat, "squared_error", y_true="y", y_pred="p", by="region")
         .assign(region=lambda d: d["region"].astype(str)).to_dict("records"),
         reference(frame, MSE, by=["region"]))


def test_api_errors(frame):
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for data in (frame, table):
        with pytest.raises(ValueError, match=r"no column 'nope' \(columns: y, p, w, region"):
            lf.score(data, "mse", y_true="nope", y_pred="p")
        with pytest.raises(ValueError, match="no column 'nope'"):
            lf.score(data, "mse", y_true="y", y_pred="p", by="nope")
        with pytest.raises(ValueError, match="no column 'nope'"):
            lf.score(data, "mse", y_true="y", y_pred="p", sample_weight="nope")
        with pytest.raises(ValueError):
            lf.score(data, "no_such_loss", y_true="y", y_pred="p")
        with pytest.raises(ValueError, match="empty"):
            lf.score(data, [], y_true="y", y_pred="p")
        with pytest.raises(TypeError, match="losses"):
            lf.score(data, [3], y_true="y", y_pred="p")
    for data in (frame.to_numpy(), frame.to_dict(), [1, 2], "d.parquet"):
        with pytest.raises(TypeError, match="data must be"):
            lf.score(data, "mse", y_true="y", y_pred="p")
    nulls = table.set_column(0, "y", pa.array([None] + frame["y"].tolist()[1:]))
    with pytest.raises(ValueError, match="'y'.*null"):
        lf.score(nulls, "mse", y_true="y", y_pred="p")
    with pytest.raises((TypeError, ValueError)):
        lf.score(table, "mse", y_true="region", y_pred="p")
    with pytest.raises(ValueError, match="poisson"):
        lf.score(frame, "poisson", y_true="y", y_pred="p")
