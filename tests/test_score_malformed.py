"""``lossfuse score`` on malformed input: every reader (CSV, .npy, Parquet), at every stage
(opening, header, each chunk, the end), says what is wrong on one line of stderr naming the
file, with exit code 1 -- never a traceback, never exit 0 on a malformed file -- and ``--json``
prints RFC 8259 JSON.  A fuzz test corrupts valid files and checks the command against
independent readers (the csv module on the whole text, ``numpy.load``, ``pyarrow.parquet``)
and the in-memory loss."""

import csv
import io
import json
import math
import os
import random
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest

import lossfuse as lf
from lossfuse import _score


def run(*args):
    """Run ``lossfuse score`` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = _score.main([*map(str, args), "--no-progress"])
    finally:
        sys.stdout, sys.stderr = stdout, stderr
    return code, out.getvalue(), err.getvalue()


def fails(result, path, *says):
    """`result` is a failure: exit code 1, nothing on stdout, one line on stderr naming the
    file `path` and holding each of `says`."""
    code, out, err = result
    assert code == 1 and out == "", result
    assert err.startswith("lossfuse score: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and os.path.basename(str(path)) in err, err
    for s in says:
        assert s in err, (s, err)
    return err


def no_constant(name):
    raise ValueError(f"{name} is not JSON")


def loads(text):
    """RFC 8259 JSON: NaN, Infinity and -Infinity are refused."""
    return json.loads(text, parse_constant=no_constant)


def write(path, data):
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def squared_error_of(tmp_path, csv_bytes, want_y):
    """``lossfuse score squared_error`` of CSV column y against zeros: the mean of its
    squares, checked to equal that of `want_y`."""
    path = write(tmp_path / "d.csv", csv_bytes)
    np.save(tmp_path / "zeros.npy", np.zeros(len(want_y)))
    code, out, err = run("squared_error", "--y-true", f"{path}:y",
                         "--y-pred", tmp_path / "zeros.npy")
    assert code == 0 and err == "", err
    assert float(out) == np.mean(np.square(want_y))


# ------------------------------------------------------------------------------ CSV files
def test_csv_with_a_byte_that_is_not_utf8(tmp_path):
    path = write(tmp_path / "d.csv", b"y,p\n1,2\n3,4\n\xff5,6\n")
    fails(run("mse", "--y-true", f"{path}:y", "--y-pred", f"{path}:p"), path,
          "line 4: byte 0xff is not UTF-8")
    # in the header, in a column not read, in a later block of the file: the same
    write(path, b"y,p\xe9\n1,2\n")
    fails(run("mse", "--y-true", f"{path}:y", "--y-pred", f"{path}:y"), path, "line 1")
    write(path, b"y,note\n1,caf\xe9\n")
    fails(run("mse", "--y-true", f"{path}:y", "--y-pred", f"{path}:y"), path, "line 2")
    write(path, b"y,p\n" + b"1,2\n" * 100_000 + b"3,\xc3\n")      # a cut multi-byte character
    fails(run("mse", "--y-true", f"{path}:y", "--y-pred", f"{path}:y", "--chunk-size", 999),
          path, "line 100002: byte 0xc3")
    # UTF-16 (what Excel calls Unicode text)
    write(path, "y,p\n1,2\n".encode("utf-16"))
    fails(run("mse", "--y-true", f"{path}:y", "--y-pred", f"{path}:p"), path, "UTF-8")


def test_csv_field_over_the_csv_modules_limit(tmp_path):
    limit = csv.field_size_limit()
    path = write(tmp_path / "d.csv", f"y,p\n1,2\n{'1' * (limit + 1)},3\n")
    fails(run("mse", "--y-true", f"{path}:y", "--y-pred", f"{path}:p"), path,
          "line 3: field larger than field limit")
    # in a quoted field that spans lines, in a column not read
    write(path, f'y,note\n1,"{"x" * limit}\n{"x" * 10}"\n')
    fails(run("mse", "--y-true", f"{path}:y", "--y-pred", f"{path}:y"), path,
          "field larger than field limit")


def test_csv_line_longer_than_the_line_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(_score, "_LINE_LIMIT", 64)       # a line is read at most this long
    path = write(tmp_path / "d.csv", "y,p\n1,2\n" + "1," + "2" * 100 + "\n")
    fails(run("mse", "--y-true", f"{path}:y", "--y-pred", f"{path}:y"), path,
          "line 3: longer than 64 characters")
    write(path, "y,p\n1,2\n" + "3," + "4" * 50 + "\n")     # below the limit: read
    assert run("mse", "--y-true", f"{path}:y", "--y-pred", f"{path}:y")[0] == 0


@pytest.mark.parametrize("text,line", [
    ('y,p\n1,2\n3,"4\n', 3),                    # the last field
    ('y,p\n1,2\n"3,4\n5,6\n', 4),               # a field that swallows the rest of the file
    ('y,"p\n1,2\n', 2),                         # the header
])
def test_csv_ending_inside_an_open_quote(tmp_path, text, line):
    path = write(tmp_path / "d.csv", text)
    fails(run("mse", "--y-true", f"{path}:y", "--y-pred", f"{path}:y"), path,
          f"line {line}: the file ends inside a quoted field")


@pytest.mark.parametrize("text,says", [
    ('y,p\n"1"x,2\n', "line 2: ',' expected after '\"'"),
    ("y,p\n1,2\n3\n", "line 3: 1 field, the header has 2"),
    ("y,p\n1,2\n3,4,5\n", "line 3: 3 fields, the header has 2"),
    ("y,p\n1,2\n3,4\x00\n", "line 3: a NUL byte"),
    ("", "is empty"),
    ("\n\n", "is empty"),
    ("y,y\n1,2\n", "has 2 columns named 'y'"),
    ("a,b\n1,2\n", "has no column 'y' (columns: a, b)"),
])
def test_csv_malformed_structure(tmp_path, text, says):
    path = write(tmp_path / "d.csv", text)
    np.save(tmp_path / "p.npy", np.zeros(1))
    fails(run("mse", "--y-true", f"{path}:y", "--y-pred", tmp_path / "p.npy"), path, says)


NUMBERS = [  # (field, its value): numbers as numpy.loadtxt reads them
    ("1", 1.0), ("-2.5", -2.5), ("+3", 3.0), (".5", 0.5), ("5.", 5.0), ("1e3", 1e3),
    ("-1.5E-3", -1.5e-3), ("00012", 12.0), ("  7 ", 7.0), ("\t8\t", 8.0), ('"9"', 9.0),
    ("nan", math.nan), ("-NaN", math.nan), ("inf", math.inf), ("-Infinity", -math.inf),
    ("+INF", math.inf), ("1e999", math.inf),
]
NOT_NUMBERS = ["1_000", '"1,000"', "0x10", "", "  ", "١٢", "１２", "1e", ".", "e5", "1.2.3",
               "nan(1)", "1d5", "1#2", "true", "- 1", "1 2", "12abc", "infinit", '"\r1"',
               '"1\n2"', "\ufeff1", "\u00a0"]


@pytest.mark.parametrize("field,value", NUMBERS)
def test_csv_numbers(tmp_path, field, value):
    path = write(tmp_path / "d.csv", f"y,p\n{field},0\n")
    np.save(tmp_path / "p.npy", np.zeros(1))
    code, out, err = run("mse", "--y-true", f"{path}:y", "--y-pred", tmp_path / "p.npy")
    assert code == 0 and err == ""
    assert float(out) == value * value or math.isnan(value) and out.strip() == "nan"


@pytest.mark.parametrize("field", NOT_NUMBERS)
def test_csv_fields_that_are_not_numbers(tmp_path, field):
    """Not numbers, Python's float() would read some: digit separators, other digits."""
    path = write(tmp_path / "d.csv", f"y,p\n1,0\n{field},0\n2,0\n")
    np.save(tmp_path / "p.npy", np.zeros(3))
    shown = repr(next(csv.reader(io.StringIO(field, newline="")), [""])[0])
    line = 3 + len(re.findall(r"\r\n|\r|\n", field))       # the line the row ends on
    fails(run("mse", "--y-true", f"{path}:y", "--y-pred", tmp_path / "p.npy"), path,
          f"line {line}, column 'y': {shown} is not a number")


def test_csv_not_a_number_is_found_in_any_block_and_chunk(tmp_path):
    """The first field that is not a number, with its line, wherever it stands: after
    quoted fields that span lines, in a later chunk, in a later block of a chunk."""
    n = 200_000
    lines = ["y,note", '1,"two\nlines"'] + ["2,x"] * n
    bad = 150_000
    lines[bad] = "1_000,x"
    path = write(tmp_path / "d.csv", "\n".join(lines) + "\n")
    for chunk in (7, 100_000, 1 << 20):
        fails(run("mse", "--y-true", f"{path}:y", "--y-pred", f"{path}:y", "--chunk-size",
                  chunk), path, f"line {bad + 2}, column 'y': '1_000' is not a number")


def test_csv_bom_crlf_cr_blank_lines_and_quotes_are_read(tmp_path):
    y = [1.0, -2.0, 3.5]
    for text in ["\ufeffy,p\n1,0\n-2,0\n3.5,0\n",          # a BOM, as Excel writes it
                 "\ufeff\"y\",p\r\n1,0\r\n-2,0\r\n3.5,0\r\n",  # and a quoted name, CRLF
                 "y,p\r1,0\r-2,0\r3.5,0",                    # CR, no final line end
                 "\n\ny,p\n\n1,0\n-2,0\n\n3.5,0\n\n\n",     # blank lines
                 ' y ,note\n1,"a, ""quoted""\nfield"\n"-2",\n3.5,x\n']:  # spaces in a name
        squared_error_of(tmp_path, text.encode(), y)


def test_csv_bom_inside_the_file_is_not_skipped(tmp_path):
    path = write(tmp_path / "d.csv", "y,p\n1,0\n\ufeff2,0\n")
    fails(run("mse", "--y-true", f"{path}:y", "--y-pred", f"{path}:p"), path,
          "line 3, column 'y': '\\ufeff2' is not a number")


def test_csv_that_changes_while_being_read(tmp_path):
    """Rows added or removed after the file was opened: found at the end."""
    path = tmp_path / "d.csv"
    for change in ("grow", "shrink"):
        write(path, "y,p\n" + "1,2\n" * 1000)
        sources = {"y_true": _score.source(f"{path}:y"), "y_pred": _score.source(f"{path}:p")}
        with open(path, "r+b") as f:
            f.seek(0, os.SEEK_END)
            f.write(b"3,4\n") if change == "grow" else f.truncate(f.tell() - 40)
        with pytest.raises(_score.ScoreError, match="changed while being read"):
            _score.score(lf.get_loss("mse"), sources, chunk_size=100, progress=False)


# ------------------------------------------------------------------------------ .npy files
def npy_bytes(array):
    f = io.BytesIO()
    np.save(f, array)
    return f.getvalue()


def header(text, data=b""):
    """A .npy 1.0 file with header `text` (padded as numpy pads it) and then `data`."""
    h = text.encode("latin1") + b"\n"
    h += b" " * (-(len(h) + 10) % 64)
    return b"\x93NUMPY\x01\x00" + len(h).to_bytes(2, "little") + h + data


def test_npy_truncated_anywhere(tmp_path):
    data = npy_bytes(np.arange(10.0))
    offset = len(data) - 80
    np.save(tmp_path / "p.npy", np.zeros(10))
    path = tmp_path / "y.npy"
    for k in range(len(data)):
        write(path, data[:k])
        says = "is not a .npy file" if k < offset else f"is truncated: its header announces " \
            f"80 bytes of data ((10,) float64), it holds {k - offset}"
        fails(run("mse", "--y-true", path, "--y-pred", tmp_path / "p.npy"), path, says)


@pytest.mark.parametrize("text,says", [
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (10,", "not a .npy file"),
    ("{'descr': ((),), 'fortran_order': False, 'shape': (10,), }", "not a .npy file"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': {[1]: 2}, }", "not a .npy file"),
    ("{'descr': 'f99', 'fortran_order': False, 'shape': (10,), }", "not a .npy file"),
    ("{'descr': '<f8', 'fortran_order': 0, 'shape': (10,), }", "not a .npy file"),
    ("{'descr': '<f8', 'shape': (10,), }", "not a .npy file"),
    ("[1, 2]", "not a .npy file"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }", "shape is (-1,)"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (2**62, 4), }", "not a .npy file"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }",
     "is truncated"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (10, 0), }", "holds no values"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", "scalar"),
    ("{'descr': '<f8', 'fortran_order': True, 'shape': (5, 2), }", "Fortran order"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (9,), }", "8 bytes after the (9,)"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (11,), }", "is truncated"),
    ("{'descr': '|O', 'fortran_order': False, 'shape': (10,), }", "holds object"),
    ("{'descr': '<U2', 'fortran_order': False, 'shape': (10,), }", "holds <U2, not numbers"),
    ("{'descr': '<c8', 'fortran_order': False, 'shape': (10,), }", "not numbers"),
    ("{'descr': '<M8[s]', 'fortran_order': False, 'shape': (10,), }", "not numbers"),
    ("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (10,), }", "not numbers"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (10,), }" + " " * 10_000,
     "not a .npy file: Header info length"),
])
def test_npy_malformed_header(tmp_path, text, says):
    path = write(tmp_path / "y.npy", header(text, np.zeros(10).tobytes()))
    np.save(tmp_path / "p.npy", np.zeros(10))
    fails(run("mse", "--y-true", path, "--y-pred", tmp_path / "p.npy"), path, says)


def test_npy_headers_that_are_read(tmp_path):
    """A header numpy reads: big-endian, Fortran order of one non-trivial axis, version 2,
    a header written by Python 2 (without a warning on stderr)."""
    y = np.arange(10.0)
    np.save(tmp_path / "p.npy", np.zeros(10))
    for data in [header("{'descr': '>f8', 'fortran_order': False, 'shape': (10,), }",
                        y.astype(">f8").tobytes()),
                 header("{'descr': '<f8', 'fortran_order': True, 'shape': (10,), }",
                        y.tobytes()),
                 header("{'descr': '<f8', 'fortran_order': False, 'shape': (10L,), }",
                        y.tobytes())]:
        path = write(tmp_path / "y.npy", data)
        code, out, err = run("mse", "--y-true", path, "--y-pred", tmp_path / "p.npy")
        assert code == 0 and err == "" and float(out) == np.mean(y * y)
    f = io.BytesIO()
    np.lib.format.write_array(f, y, version=(2, 0))
    path = write(tmp_path / "y.npy", f.getvalue())
    code, out, err = run("mse", "--y-true", path, "--y-pred", tmp_path / "p.npy")
    assert code == 0 and err == "" and float(out) == np.mean(y * y)


def test_npy_that_changes_while_being_read(tmp_path):
    y = np.arange(1000.0)
    for change in ("grow", "shrink"):
        np.save(tmp_path / "y.npy", y)
        sources = {"y_true": _score.source(str(tmp_path / "y.npy")),
                   "y_pred": _score.source(str(tmp_path / "y.npy"))}
        with open(tmp_path / "y.npy", "r+b") as f:
            f.seek(0, os.SEEK_END)
            f.write(b"\0" * 8) if change == "grow" else f.truncate(f.tell() - 800)
        with pytest.raises(_score.ScoreError, match="changed while being read"):
            _score.score(lf.get_loss("mse"), sources, chunk_size=100, progress=False)


# ------------------------------------------------------------------------- Parquet files
@pytest.fixture
def parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    checksums = {"write_page_checksum": True} if int(pa.__version__.split(".")[0]) >= 14 \
        else {}
    n = 3000
    table = pa.table({"t": np.arange(n, dtype=float), "p": np.linspace(-1, 1, n)})
    path = tmp_path / "d.parquet"
    pq.write_table(table, path, row_group_size=1000, compression="none",
                   use_dictionary=False, **checksums)
    return pa, pq, path


def test_parquet_with_a_corrupt_page_header(parquet):
    """A read error while iterating (the second row group): named, with the row."""
    pa, pq, path = parquet
    offset = pq.ParquetFile(path).metadata.row_group(1).column(1).data_page_offset
    data = bytearray(path.read_bytes())
    data[offset:offset + 8] = b"\xff" * 8
    write(path, bytes(data))
    fails(run("mse", "--y-true", f"{path}:t", "--y-pred", f"{path}:p", "--chunk-size", 500),
          path, "cannot read column 'p' after row 1,000: ")


def test_parquet_with_a_corrupt_data_page(parquet):
    """A flipped byte in the values of a page: found by the page checksum."""
    pytest.importorskip("pyarrow", minversion="14")
    pa, pq, path = parquet
    column = pq.ParquetFile(path).metadata.row_group(2).column(0)
    data = bytearray(path.read_bytes())
    data[column.data_page_offset + column.total_compressed_size - 5] ^= 0xFF
    write(path, bytes(data))
    fails(run("mse", "--y-true", f"{path}:t", "--y-pred", f"{path}:p", "--chunk-size", 500),
          path, "cannot read column 't' after row 2,000: ", "checksum")


def test_parquet_truncated_anywhere(parquet):
    pa, pq, path = parquet
    data = path.read_bytes()
    for k in range(0, len(data), 97):
        write(path, data[:k])
        fails(run("mse", "--y-true", f"{path}:t", "--y-pred", f"{path}:p"), path)


def test_parquet_columns_that_are_not_numbers_or_missing(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"p": [1.0, 2.0, 3.0], "null": [1.0, None, 3.0],
                             "text": ["1", "2", "3"], "time": pa.array([1, 2, 3],
                                                                      pa.timestamp("s"))}),
                   path)
    for column, says in [("null", "row 1, column 'null': a missing value (null)"),
                         ("text", "column 'text' holds object, not numbers"),
                         ("time", "column 'time' holds datetime64"),
                         ("nope", "has no column 'nope' (columns: p, null, text, time)")]:
        fails(run("mse", "--y-true", f"{path}:{column}", "--y-pred", f"{path}:p"), path, says)
    pq.write_table(pa.table([pa.array([1.0]), pa.array([2.0])], names=["x", "x"]), path)
    fails(run("mse", "--y-true", f"{path}:x", "--y-pred", f"{path}:x"), path,
          "has 2 columns named 'x'")
    write(path, b"PAR1")
    fails(run("mse", "--y-true", f"{path}:x", "--y-pred", f"{path}:x"), path,
          "is not a Parquet file")
    pq.write_table(pa.table({"p": [1.0, 2.0], "qqq": [3.0, 4.0]}), path)
    write(path, path.read_bytes().replace(b"qqq", b"q\xffq"))       # a name not UTF-8
    fails(run("mse", "--y-true", f"{path}:p", "--y-pred", f"{path}:p"), path,
          "is not a Parquet file: 'utf-8' codec can't decode byte 0xff")


# -------------------------------------------------------------- paths, arguments, output
@pytest.mark.parametrize("spec", ["{d}/missing.npy", "{d}/missing.csv:y",
                                  "{d}/missing.parquet:y", "{d}/dir.npy", "{d}/dir.csv:y",
                                  "{d}/dir.parquet:y"])
def test_paths_that_cannot_be_read(tmp_path, spec):
    if "parquet" in spec:
        pytest.importorskip("pyarrow")
    (tmp_path / "dir.npy").mkdir()
    (tmp_path / "dir.csv").mkdir()
    (tmp_path / "dir.parquet").mkdir()
    spec = spec.format(d=tmp_path)
    fails(run("mse", "--y-true", spec, "--y-pred", spec), spec.rpartition(":y")[0] or spec,
          "cannot read")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
@pytest.mark.parametrize("name", ["y.npy", "y.csv:y"])
def test_a_named_pipe_is_refused_without_waiting(tmp_path, name):
    """Read twice (the header first), a source must be a file: a pipe is refused before it is
    opened, which would wait for a writer."""
    os.mkfifo(tmp_path / name.partition(":")[0])
    res = subprocess.run([sys.executable, "-m", "lossfuse", "score", "mse", "--y-true",
                          f"{tmp_path}/{name}", "--y-pred", f"{tmp_path}/{name}"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and "not a regular file" in res.stderr
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads files without read permission")
def test_a_file_without_read_permission(tmp_path):
    np.save(tmp_path / "y.npy", np.zeros(3))
    os.chmod(tmp_path / "y.npy", 0)
    fails(run("mse", "--y-true", tmp_path / "y.npy", "--y-pred", tmp_path / "y.npy"),
          tmp_path / "y.npy", "cannot read", "Permission denied")


@pytest.mark.parametrize("spec", ["-", "{d}/y.npz", "{d}/y.txt", "{d}/y.csv"])
def test_sources_that_are_not_read(tmp_path, spec):
    spec = spec.format(d=tmp_path)
    fails(run("mse", "--y-true", spec, "--y-pred", spec), spec)


@pytest.mark.parametrize("y,w,shown", [([1.0, math.nan], [1, 1], "nan"),
                                       ([1.0, -math.inf], [1, 1], "inf"),
                                       ([1.0, math.inf], [2, -1], "-inf")])
def test_json_when_the_loss_is_not_finite(tmp_path, y, w, shown):
    """Not finite (NaN in, NaN out; an infinite value; a negative weight on it): null and
    loss_nonfinite, never NaN or Infinity."""
    np.save(tmp_path / "y.npy", np.array(y))
    np.save(tmp_path / "p.npy", np.zeros(2))
    np.save(tmp_path / "w.npy", np.array(w, dtype=float))
    for reduction in ("mean", "sum"):
        args = ("mse", "--y-true", tmp_path / "y.npy", "--y-pred", tmp_path / "p.npy",
                "--sample-weight", tmp_path / "w.npy", "--reduction", reduction)
        code, out, err = run(*args, "--json")
        got = loads(out)
        assert code == 0 and err == "" and got["loss"] is None
        assert got["loss_nonfinite"] == shown and got["n"] == 2
        assert run(*args)[1] == shown + "\n"                        # the plain output
    code, out, _ = run("mse", "--y-true", tmp_path / "p.npy", "--y-pred", tmp_path / "p.npy",
                       "--json")
    assert loads(out)["loss"] == 0.0 and "loss_nonfinite" not in loads(out)


def test_json_on_errors_prints_nothing_on_stdout(tmp_path):
    path = write(tmp_path / "d.csv", "y,p\n1_000,2\n")
    fails(run("mse", "--y-true", f"{path}:y", "--y-pred", f"{path}:p", "--json"), path,
          "'1_000' is not a number")


def test_kernel_errors_name_the_file(tmp_path):
    path = write(tmp_path / "d.csv", "y,p\n1,2\n-3,4\n")
    fails(run("poisson", "--y-true", f"{path}:y", "--y-pred", f"{path}:p", "--chunk-size", 1),
          path, f"{path}:y: y_true must hold values >= 0 for poisson; y_true[1] = -3.0")


@pytest.mark.parametrize("args,says", [
    (["--param", "delta=1_000"], "'delta=1_000': '1_000' is not a number"),
    (["--param", "delta=0x10"], "is not a number"),
    (["--param", "delta=\u0662"], "is not a number"),               # an Arabic-Indic 2
    (["--param", "delta"], "is not NAME=VALUE"),
    (["--chunk-size", "2.5"], "argument --chunk-size: '2.5' is not a whole number"),
    (["--chunk-size", "nan"], "argument --chunk-size: 'nan' is not a number"),
    (["--chunk-size", "1_000"], "argument --chunk-size: '1_000' is not a number"),
    (["--reduction", "none"], "argument --reduction: invalid choice: 'none'"),
])
def test_wrong_arguments_get_argparse_errors(tmp_path, args, says):
    np.save(tmp_path / "y.npy", np.zeros(3))
    res = subprocess.run([sys.executable, "-m", "lossfuse", "score", "huber", "--y-true",
                          tmp_path / "y.npy", "--y-pred", tmp_path / "y.npy", *args],
                         capture_output=True, text=True)
    assert res.returncode == 2 and res.stdout == "" and "Traceback" not in res.stderr
    assert says in res.stderr


@pytest.mark.parametrize("chunk", ["0", "-1", str((1 << 40) + 1), "1e30"])
def test_chunk_sizes_out_of_range(tmp_path, capsys, chunk):
    np.save(tmp_path / "y.npy", np.zeros(3))
    with pytest.raises(SystemExit) as exit:
        _score.main(["mse", "--y-true", str(tmp_path / "y.npy"), "--y-pred",
                     str(tmp_path / "y.npy"), "--chunk-size", chunk])
    out = capsys.readouterr()
    assert exit.value.code == 2 and out.out == ""
    assert (f"argument --chunk-size: must be a whole number from 1 to 1,099,511,627,776, got "
            f"{chunk}") in out.err


def test_chunk_sizes_in_exponent_notation(tmp_path):
    np.save(tmp_path / "y.npy", np.arange(5.0))
    np.save(tmp_path / "p.npy", np.zeros(5))
    args = ("mse", "--y-true", tmp_path / "y.npy", "--y-pred", tmp_path / "p.npy")
    assert run(*args, "--chunk-size", "2e0") == run(*args, "--chunk-size", "2") == \
        (0, "6.0\n", "")                        # (0 + 1 + 4 + 9 + 16) / 5


def test_param_numbers(tmp_path):
    np.save(tmp_path / "y.npy", np.arange(3.0))
    np.save(tmp_path / "p.npy", np.zeros(3))
    for value in ("2", " 2 ", "2.0", "+2e0"):
        code, out, _ = run("huber", "--y-true", tmp_path / "y.npy", "--y-pred",
                           tmp_path / "p.npy", "--param", f"delta={value}")
        assert code == 0 and float(out) == lf.get_loss("huber", delta=2.0).loss(
            np.arange(3.0), np.zeros(3))


def test_a_reader_that_goes_away_gets_no_traceback(tmp_path):
    np.save(tmp_path / "y.npy", np.zeros(3))
    proc = subprocess.Popen([sys.executable, "-m", "lossfuse", "score", "mse", "--y-true",
                             tmp_path / "y.npy", "--y-pred", tmp_path / "y.npy"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait() in (0, 1) and "Traceback" not in err


# ------------------------------------------------------------------------------ the fuzz
# Independent readers: what a well-formed file holds, or None.  Numbers in CSV fields are
# what numpy.loadtxt reads: a decimal or nan/inf/infinity, whitespace around it, and one line
# end at its end (loadtxt is given each field as a line).
NUMBER = re.compile(r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
                    r"|nan|inf|infinity)", re.IGNORECASE)


def number(field):
    body = re.sub(r"(?:\r\n|\r|\n)\Z", "", field)
    if "\r" in body or "\n" in body or not NUMBER.fullmatch(body.strip()):
        return None
    return float(body.strip())


def read_csv(path, columns):
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return None
    text = text[1:] if text.startswith("\ufeff") else text
    if "\0" in text:
        return None
    try:
        rows = [r for r in csv.reader(io.StringIO(text, newline=""), strict=True) if r]
    except csv.Error:
        return None
    if not rows:
        return None
    names = [h.strip() for h in rows[0]]
    if any(names.count(c) != 1 for c in columns) or any(len(r) != len(names) for r in rows):
        return None
    values = [[number(r[names.index(c)]) for r in rows[1:]] for c in columns]
    return None if any(v is None for col in values for v in col) else \
        [np.array(col, dtype=np.float64) for col in values]


def read_npy(path):
    """Format 1.0 or 2.0 (numpy writes 3.0 only for structured dtypes), real numbers, not
    empty, C order, nothing after the data."""
    try:
        with open(path, "rb") as f:
            if np.lib.format.read_magic(f) not in ((1, 0), (2, 0)):
                return None
        with warnings.catch_warnings():        # a header as Python 2 wrote it
            warnings.simplefilter("ignore")
            a = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception:              # noqa: BLE001 -- whatever numpy refuses
        return None
    if a.ndim == 0 or a.dtype.kind not in "biuf" or a.size == 0 or not a.flags.c_contiguous \
            or os.path.getsize(path) != a.offset + a.nbytes:
        return None
    return [np.array(a)]


def read_parquet(path, columns):
    """The whole columns, read by each of pyarrow's two readers: its file reader and the
    dataset reader of ``read_table``.  They disagree on some files whose metadata contradicts
    itself (the dataset reader checks the type of each column chunk against the schema, the
    file reader does not, and reads some of them right, others wrong), so each gives a
    reading."""
    import pyarrow.parquet as pq
    readings = []
    for read in (lambda: pq.ParquetFile(path, page_checksum_verification=True).read(columns),
                 lambda: pq.read_table(path, columns=columns, page_checksum_verification=True)):
        try:
            table, rows = read(), pq.ParquetFile(path).metadata.num_rows
        except Exception:          # noqa: BLE001 -- whatever pyarrow refuses
            readings.append(None)
            continue
        arrays = [table.column(c).to_numpy() for c in columns
                  if table.schema.names.count(c) == 1 and not table.column(c).null_count]
        well_formed = table.num_rows == rows and len(arrays) == len(columns) and all(
            a.dtype.kind in "biuf" for a in arrays)
        readings.append(arrays if well_formed else None)
    return readings


def mutate(data: bytes, r: random.Random) -> bytes:
    """`data` with one to three random corruptions."""
    data = bytearray(data)
    for _ in range(r.randint(1, 3)):
        at = r.randrange(len(data) + 1)
        kind = r.randrange(12)
        if kind == 0:                                            # flip bytes
            for _ in range(r.randint(1, 4)):
                if data:
                    data[r.randrange(len(data))] = r.randrange(256)
        elif kind == 1:                                          # truncate
            del data[at:]
        elif kind == 2:                                          # insert random bytes
            data[at:at] = bytes(r.randrange(256) for _ in range(r.randint(1, 16)))
        elif kind == 3:                                          # a quote
            data[at:at] = b'"'
        elif kind == 4:                                          # a BOM, often at the start
            at = 0 if r.random() < .5 else at
            data[at:at] = b"\xef\xbb\xbf"
        elif kind == 5:                                          # a NUL
            data[at:at] = b"\0"
        elif kind == 6:                                          # a long field
            data[at:at] = b"7" * r.choice([100, 140_000])
        elif kind == 7:                                          # digit separators etc.
            data[at:at] = r.choice([b"_", b"1_0", b"0x", b",", b"\n", b"\r", b"\r\n", b" ",
                                    b"nan", b"-inf", b"e", b".", b"\xc3", b"\xff"])
        elif kind == 8:                                          # line ends
            data = bytearray(bytes(data).replace(b"\n", r.choice([b"\r\n", b"\r", b"\n\n"])))
        elif kind == 9:                                          # delete a span
            del data[at:at + r.randint(1, 20)]
        elif kind == 10 and data:                                # a byte in the second half
            data[r.randrange(len(data) // 2, len(data))] ^= 1 << r.randrange(8)
        else:                                                    # random bytes
            data = bytearray(r.randbytes(r.randrange(200)))
    return bytes(data)


def check(args, path, readings, loss="squared_error"):
    """Run ``lossfuse score`` with `args`.  `readings`: what independent readers make of the
    files, each (y_true, y_pred) or None (refused).  The command must exit 0 only if a
    reader accepts the files and the in-memory loss of its arrays is the one printed, and 1
    (with one line naming the file) only if a reader or the in-memory loss refuses them."""
    code, out, err = run(loss, *args)
    assert "Traceback" not in err
    wants = []
    for arrays in readings:
        try:
            wants.append(None if arrays is None else lf.get_loss(loss).loss(*arrays))
        except (ValueError, TypeError):
            wants.append(None)
    if code == 0:
        assert err == "", err
        got = float(out)
        assert any(w is not None and (got == w or abs(got - w) <= 4 * np.spacing(abs(w)) or
                                      math.isnan(got) and math.isnan(w)) for w in wants), \
            (got, wants)
    else:
        fails((code, out, err), path)
        assert None in wants, (err, wants)
    return code


def fuzz(r, folder, suffix, cases, make, args, read):
    """`cases` corruptions of the contents of valid files `make(r)` gives, each written to a
    new file of `folder` (rewriting one file is slow on some file systems) and checked by
    `check` against the readings `read(path)`; some of them are still well-formed, some
    not."""
    codes = []
    for case in range(cases):
        original = make(r)
        path = write(folder / f"{case}{suffix}", mutate(original, r))
        chunk = r.choice([1, 3, 7, 1000, 1 << 20])
        try:
            codes.append(check([*args(path), "--chunk-size", chunk], path, read(path)))
        except AssertionError as e:
            raise AssertionError(f"case {case}: {mutate.__name__} of {original!r:.300} gave "
                                 f"{path.read_bytes()!r:.300}") from e
    assert 0 < codes.count(0) < len(codes)


def test_fuzz_csv(tmp_path):
    r = random.Random(1)
    ys = ["1", "-2.5", " 3 ", "4e-1", ".5", "6."]
    ps = ["0", "1.5", "-7"]
    notes = ["a", "", '"b, c"', '"d\ne"', '"""f"""']

    def make(r):
        rows = ["y,p,note"] + [f"{r.choice(ys)},{r.choice(ps)},{r.choice(notes)}"
                               for _ in range(r.randint(1, 12))]
        return ("\n".join(rows) + r.choice(["\n", ""])).encode()

    fuzz(r, tmp_path, ".csv", 5000, make,
         lambda path: ["--y-true", f"{path}:y", "--y-pred", f"{path}:p"],
         lambda path: [read_csv(path, ["y", "p"])])


def test_fuzz_npy(tmp_path):
    r = random.Random(2)
    np.save(tmp_path / "p.npy", np.zeros(10))

    def make(r):
        y = np.random.default_rng(r.randrange(1 << 30)).normal(size=10)
        return npy_bytes(y.astype(r.choice(["<f8", "<f4", ">f8", "<i4", "|u1", "|b1"])))

    def read(path):
        y = read_npy(path)
        return [y and y + [np.zeros(10)]]

    fuzz(r, tmp_path, ".npy", 4000, make,
         lambda path: ["--y-true", path, "--y-pred", tmp_path / "p.npy"], read)


def test_fuzz_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow", minversion="14")       # page checksums
    import pyarrow.parquet as pq
    r = random.Random(3)

    def make(r):
        n = r.randint(1, 50)
        rng = np.random.default_rng(r.randrange(1 << 30))
        table = pa.table({"y": rng.normal(size=n), "p": rng.normal(size=n),
                          "s": [r.choice(["a", "b"]) for _ in range(n)]})
        f = io.BytesIO()
        pq.write_table(table, f, row_group_size=r.randint(1, 20),
                       compression=r.choice(["none", "snappy", "zstd"]),
                       write_page_checksum=r.random() < .5)
        return f.getvalue()

    fuzz(r, tmp_path, ".parquet", 2500, make,
         lambda path: ["--y-true", f"{path}:y", "--y-pred", f"{path}:p"],
         lambda path: read_parquet(path, ["y", "p"]))


@pytest.mark.parametrize("seed", range(4))
def test_fuzz_through_the_command(tmp_path, seed):
    """A few corrupt files through ``python -m lossfuse``: one line, exit code 0 or 1."""
    r = random.Random(seed)
    y = np.arange(20.0)
    np.save(tmp_path / "p.npy", np.zeros(20))
    original = npy_bytes(y) if seed % 2 else \
        ("y\n" + "".join(f"{v}\n" for v in y)).encode()
    path = write(tmp_path / ("y.npy" if seed % 2 else "y.csv"), mutate(original, r))
    spec = str(path) if seed % 2 else f"{path}:y"
    res = subprocess.run([sys.executable, "-m", "lossfuse", "score", "mse", "--y-true", spec,
                          "--y-pred", tmp_path / "p.npy", "--json"],
                         capture_output=True, text=True)
    assert "Traceback" not in res.stderr and res.returncode in (0, 1)
    if res.returncode == 0:
        assert res.stderr == "" and loads(res.stdout)["n"] == 20
    else:
        assert res.stdout == "" and res.stderr.count("\n") == 1 and path.name in res.stderr
