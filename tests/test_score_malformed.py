"""``lossfuse score`` on malformed input: every reader (CSV and Parquet through pyarrow,
.npy), at every stage (opening, header, each chunk, the end), says what is wrong on one line
of stderr naming the file (and the row, counted from 0, and the column where there is one),
with exit code 1 -- never a traceback, never exit 0 on a malformed file, never a number that
is not the field's -- and ``--json`` prints RFC 8259 JSON.  A fuzz test corrupts valid files
and checks the command against independent readers (Python's csv module and float() on plain
decimals, ``numpy.load``, ``pyarrow.parquet``) and the in-memory loss."""

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
from conftest import run_score as run
from lossfuse import _score


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


# ------------------------------------------------------------------------------ CSV files
# CSV is read by pyarrow's CSV reader: the header by this command (UTF-8, a BOM skipped, its
# names stripped), the values converted to float64 by pyarrow.  Rows in messages are counted
# from 0: the first row after the header is row 0.
def score_csv(path, *args):
    """``lossfuse score squared_error`` of columns y and p of the CSV file `path`."""
    return run("squared_error", "--y-true", f"{path}:y", "--y-pred", f"{path}:p", *args)


def read_column(path, column="y", chunk=1000):
    """The values the command reads from `column` of the table file `path`."""
    src = _score.TableSource(str(path), [column])
    return np.concatenate([values[column] for values, _ in src.batches(chunk)])


def test_csv_with_a_byte_that_is_not_utf8(tmp_path):
    path = tmp_path / "d.csv"
    # in the header: refused before any row is read, with the byte
    write(path, b"y,p\xe9\n1,2\n")
    fails(run("mse", "--y-true", f"{path}:y", "--y-pred", f"{path}:y"), path,
          "line 1: byte 0xe9 is not UTF-8 text")
    # in a scored field, also in a later chunk: not a number, with its row and column
    write(path, b"y,p\n1,2\n3,4\n\xff5,6\n")
    fails(score_csv(path), path, "row 2, column 'y':", "is not a number")
    write(path, b"y,p\n" + b"1,2\n" * 100_000 + b"3,\xc3\n")      # a cut multi-byte character
    fails(score_csv(path, "--chunk-size", 999), path, "row 100,000, column 'p':",
          "is not a number")
    # UTF-16 (what Excel calls Unicode text): its header is not UTF-8
    write(path, "y,p\n1,2\n".encode("utf-16"))
    fails(score_csv(path), path, "line 1: byte 0xff is not UTF-8")


def test_csv_bytes_that_are_not_utf8_in_a_column_not_read_are_ignored(tmp_path):
    """pyarrow converts only the columns read: text in others is not decoded, so the file
    is scored, and the values are those of the columns read."""
    path = write(tmp_path / "d.csv", b"y,p,note\n1,0,caf\xe9\n-2,0,\xff\xfe\n")
    code, out, err = score_csv(path)
    assert (code, err) == (0, "") and float(out) == (1 + 4) / 2


def test_csv_header_longer_than_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(_score, "_LINE_LIMIT", 64)       # the header is read at most this long
    path = write(tmp_path / "d.csv", "y,p," + ",".join(f"c{i}" for i in range(40)) + "\n1,2\n")
    fails(score_csv(path), path, "line 1: a header longer than 64 bytes")
    write(path, "y,p," + ",".join(f"c{i}" for i in range(10)) + "\n1,3" + ",0" * 10 + "\n")
    assert score_csv(path) == (0, "4.0\n", "")          # below the limit: read


@pytest.mark.parametrize("field,value", [
    ("1" * 20_000_000, math.inf),                        # 20 MB of digits: overflows
    ("0" * 10_000_000 + "1", 1.0),                       # leading zeros
    ("0." + "0" * 1_000_000 + "1", 0.0),                 # underflows
    (" " * 5_000_000 + "1", 1.0),                        # white space
    ("1." + "0" * 3_000_000 + "1", 1.0),                 # rounds to 1
])
def test_csv_very_long_fields_are_read_right(tmp_path, field, value):
    path = write(tmp_path / "d.csv", f"y,p\n2,0\n{field},0\n")
    assert read_column(path).tolist() == [2.0, value]
    code, out, err = score_csv(path, "--reduction", "sum")
    assert (code, err) == (0, "") and float(out) == 4.0 + value * value


def test_csv_very_long_quoted_fields_in_columns_not_read(tmp_path):
    path = write(tmp_path / "d.csv", 'y,p,note\n1,0,"' + "x" * 20_000_000 + '"\n2,0,x\n')
    assert score_csv(path) == (0, "2.5\n", "")
    write(path, 'y,p,note\n1,0,"' + "x\n" * 3_000_000 + '"\n2,0,x\n')
    assert score_csv(path) == (0, "2.5\n", "")


def test_csv_line_longer_than_two_blocks_is_a_clean_error(tmp_path):
    """pyarrow parses CSV in blocks (16 MiB); a line that spans more than two of them is
    refused with one line naming the file -- neither a traceback nor a hang."""
    path = write(tmp_path / "d.csv", "y,p\n1,2\n" + "1" * 40_000_000 + ",3\n")
    fails(score_csv(path), path)


def test_csv_line_longer_than_a_block_is_read(tmp_path, monkeypatch):
    """A line longer than a block of pyarrow's reader (which it refuses) is read: the range
    is parsed again as one block."""
    monkeypatch.setattr(_score, "_CSV_BLOCK", 1 << 10)
    path = write(tmp_path / "d.csv", "y,p\n1,2\n" + "1" * 5000 + ",3\n")
    assert score_csv(path)[0] == 0


def test_csv_quoted_line_breaks_across_block_boundaries(tmp_path, monkeypatch):
    """A field with line breaks in quotes (valid CSV) that straddles a block of pyarrow's
    reader: wherever the block boundary falls, the file is read whole and right."""
    monkeypatch.setattr(_score, "_CSV_RANGE", 1 << 10)
    monkeypatch.setattr(_score, "_CSV_BLOCK", 1 << 9)
    path = tmp_path / "d.csv"
    for k in range(0, 60, 3):
        rows = ["y,p,note"] + ["1,1,x"] * (150 + k) + ['1,1,"a\n5,6,z\nb"'] * 20 + \
            ["1,1,x"] * 100
        write(path, "\n".join(rows) + "\n")
        code, out, err = score_csv(path, "--json")
        assert (code, err) == (0, ""), (k, err)
        assert loads(out)["n"] == 270 + k and loads(out)["loss"] == 0.0


@pytest.mark.parametrize("text,says", [
    ('y,p\n1,2\n"3,4\n', "the file ends inside a quoted field"),   # would swallow the rest
    ('y,p\n1,2\n3,"4\n5,6\n', "the file ends inside a quoted field"),
    ('y,p,note\n1,2,a\n3,4,"open\n5,6,b\n', "the file ends inside a quoted field"),
    ('y,p\n1,2\n3,"5', "the file ends inside a quoted field"),
    ('y,"p\n1,2\n', "line 1"),                                    # in the header
])
def test_csv_ending_inside_an_open_quote(tmp_path, text, says):
    path = write(tmp_path / "d.csv", text)
    fails(score_csv(path), path, says)


def test_csv_quotes_inside_a_field_as_pyarrow_reads_them(tmp_path):
    """``"1"2`` is ``12`` (as Python's csv module, not strict, reads it): its quotes are
    even, so no quoted field is left open."""
    path = write(tmp_path / "d.csv", 'y,p\n"1"2,0\n')
    assert list(csv.reader(io.StringIO(path.read_text(), newline="")))[-1] == ["12", "0"]
    assert score_csv(path) == (0, "144.0\n", "")


def test_csv_not_a_number_is_found_in_any_block_and_chunk(tmp_path, monkeypatch):
    """The first field that is not a number, with its row, wherever it stands: after
    quoted fields that span lines, in a later chunk, in a later block of the file."""
    n = 200_000
    lines = ["y,p,note", '1,2,"two\nlines"'] + ["2,3,x"] * n
    bad = 150_000
    lines[bad] = "1_000,3,x"
    path = write(tmp_path / "d.csv", "\n".join(lines) + "\n")
    for chunk in (7, 100_000, 1 << 20):
        fails(score_csv(path, "--chunk-size", chunk), path,
              f"row {bad - 1:,}, column 'y': '1_000' is not a number")
    monkeypatch.setattr(_score, "_CSV_RANGE", 1 << 16)               # many ranges
    monkeypatch.setattr(_score, "_CSV_BLOCK", 1 << 12)               # and blocks
    fails(score_csv(path, "--chunk-size", 1000), path,
          f"row {bad - 1:,}, column 'y': '1_000' is not a number")


@pytest.mark.parametrize("text", [
    "\ufeffy,p\n1,0\n-2,0\n3.5,0\n",                   # a BOM, as Excel writes it
    "\ufeff\"y\",p\r\n1,0\r\n-2,0\r\n3.5,0\r\n",        # and a quoted name, CRLF
    "y,p\r1,0\r-2,0\r3.5,0",                            # CR, no final line end
    "y,p\n1,0\n\n-2,0\n\r\n\n3.5,0\n\n\n",              # blank lines between rows
    ' y ,p,note\n1,0,"a, ""quoted""\nfield"\n"-2",0,\n3.5,"0",x\n',  # quotes, a spaced name
    "p,y\n0,1\n0,-2\n0,3.5\n",                          # columns in another order
])
def test_csv_bom_crlf_cr_blank_lines_and_quotes_are_read(tmp_path, text):
    path = write(tmp_path / "d.csv", text)
    assert read_column(path).tolist() == [1.0, -2.0, 3.5]
    assert score_csv(path) == (0, f"{(1 + 4 + 3.5 ** 2) / 3!r}\n", "")


def test_csv_blank_lines_before_the_header(tmp_path):
    path = write(tmp_path / "d.csv", "\n\ny,p\n1,0\n-2,0\n")
    assert score_csv(path) == (0, "2.5\n", "")


def test_csv_bom_inside_the_file_is_not_skipped(tmp_path):
    path = write(tmp_path / "d.csv", "y,p\n1,0\n\ufeff2,0\n")
    fails(score_csv(path), path, "row 1, column 'y': '\\ufeff2' is not a number")


def test_csv_that_changes_while_being_read(tmp_path):
    """Rows added or removed after the file was opened are not detected (pyarrow reads the
    file as it is when the rows are scanned): no crash, and the rows read are those the file
    holds then."""
    path = tmp_path / "d.csv"
    for change, rows in (("grow", 1001), ("shrink", 990)):
        write(path, "y,p\n" + "1,2\n" * 1000)
        src = _score.TableSource(str(path), ["y", "p"])
        with open(path, "r+b") as f:
            f.seek(0, os.SEEK_END)
            f.write(b"3,4\n") if change == "grow" else f.truncate(f.tell() - 40)
        scorer = _score.Scorer(_score.parse_losses(["mse"]))
        _score.run(scorer, _score.Inputs([(src, {"y_true": "y", "y_pred": "p"})], src),
                   chunk_size=100, progress=False)
        assert scorer.records()[0]["rows"] == rows


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
        src = _score.NpySource(str(tmp_path / "y.npy"))
        src.name = str(tmp_path / "y.npy")
        with open(tmp_path / "y.npy", "r+b") as f:
            f.seek(0, os.SEEK_END)
            f.write(b"\0" * 8) if change == "grow" else f.truncate(f.tell() - 800)
        inputs = _score.Inputs([(src, {"y_true": "", "y_pred": ""})])
        with pytest.raises(_score.ScoreError, match="changed while being read"):
            _score.run(_score.Scorer(_score.parse_losses(["mse"])), inputs, chunk_size=100,
                       progress=False)


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


def rows_from(err):
    """The first row a read error names: "cannot read it (rows N on)"."""
    return int(re.search(r"cannot read it \(rows ([\d,]+) on\)", err).group(1).replace(",", ""))


@pytest.mark.parametrize("chunk", [7, 500, 1000, 1 << 20])
def test_parquet_with_a_corrupt_page_header(parquet, chunk):
    """A read error while iterating (the second row group, rows 1,000 on): named, with the
    row the reading stopped at -- no later than the first row that cannot be read (pyarrow
    decodes ahead, so it may be earlier)."""
    pa, pq, path = parquet
    offset = pq.ParquetFile(path).metadata.row_group(1).column(1).data_page_offset
    data = bytearray(path.read_bytes())
    data[offset:offset + 8] = b"\xff" * 8
    write(path, bytes(data))
    err = fails(run("mse", "--y-true", f"{path}:t", "--y-pred", f"{path}:p", "--chunk-size",
                    chunk), path, "page header")
    assert 0 <= rows_from(err) <= 1000


@pytest.mark.parametrize("chunk", [7, 500, 1 << 20])
def test_parquet_with_a_corrupt_data_page(parquet, chunk):
    """A flipped byte in the values of a page (the third row group): found by the page
    checksum."""
    pytest.importorskip("pyarrow", minversion="14")
    pa, pq, path = parquet
    column = pq.ParquetFile(path).metadata.row_group(2).column(0)
    data = bytearray(path.read_bytes())
    data[column.data_page_offset + column.total_compressed_size - 5] ^= 0xFF
    write(path, bytes(data))
    err = fails(run("mse", "--y-true", f"{path}:t", "--y-pred", f"{path}:p", "--chunk-size",
                    chunk), path, "checksum")
    assert 0 <= rows_from(err) <= 2000
    # the same file in DATA form, and a column of it that is intact: read
    fails(run("mse", path, "--y-true", "t", "--y-pred", "p"), path, "checksum")
    code, out, err = run("mse", path, "--y-true", "p", "--y-pred", "p")
    assert (code, out, err) == (0, "0.0\n", "")


def test_parquet_truncated_anywhere(parquet):
    pa, pq, path = parquet
    data = path.read_bytes()
    for k in range(0, len(data), 97):
        write(path, data[:k])
        fails(run("mse", "--y-true", f"{path}:t", "--y-pred", f"{path}:p"), path)
        fails(run("mse", path, "--y-true", "t", "--y-pred", "p"), path)


@pytest.fixture
def typed_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({
        "p": [1.0, 2.0, 3.0], "null": [1.0, None, 3.0], "text": ["1", "2", "3"],
        "time": pa.array([1, 2, 3], pa.timestamp("s")), "day": pa.array([1, 2, 3],
                                                                        pa.date32()),
        "dec": pa.array([1, 2, 3], pa.decimal128(5, 2)), "list": [[1.0], [2.0], [3.0]],
        "i": pa.array([1, 2, -3], pa.int8()), "u": pa.array([1, 2, 3], pa.uint64()),
        "b": [True, False, True], "f16": pa.array(np.array([1, 2, 3], np.float16)),
        "f32": pa.array(np.array([1, 2, 3], np.float32))}), path)
    return pa, pq, path


@pytest.mark.parametrize("column,says", [
    ("null", "row 1, column 'null': a missing value (null)"),
    ("text", "column 'text' holds string, not numbers"),
    ("time", "column 'time' holds timestamp"),
    ("day", "column 'day' holds date32"),
    ("dec", "column 'dec' holds decimal128(5, 2), not numbers"),
    ("list", "column 'list' holds list"),
    ("nope", "has no column 'nope' (columns: p, null, text, time, day, dec, list, i, u, b,"),
])
def test_parquet_columns_that_are_not_numbers_or_missing(typed_parquet, column, says):
    pa, pq, path = typed_parquet
    fails(run("mse", "--y-true", f"{path}:{column}", "--y-pred", f"{path}:p"), path, says)
    fails(run("mse", path, "--y-true", column, "--y-pred", "p"), path, says)
    fails(run("mse", path, "--y-true", "p", "--y-pred", "p", "--sample-weight", column), path,
          says)


@pytest.mark.parametrize("column", ["i", "u", "b", "f16", "f32"])
def test_parquet_columns_of_other_numbers_are_read(typed_parquet, column):
    pa, pq, path = typed_parquet
    y = pq.read_table(path, columns=[column]).column(column).to_numpy().astype(np.float64)
    want = lf.get_loss("mse").loss(y, np.array([1.0, 2.0, 3.0]))
    code, out, err = run("mse", path, "--y-true", column, "--y-pred", "p")
    assert (code, err) == (0, "") and float(out) == want


def test_parquet_that_is_not_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    path = tmp_path / "d.parquet"
    for data in (b"", b"PAR1", b"PAR1" + b"\0" * 100 + b"PAR1", b"y,p\n1,2\n"):
        write(path, data)
        fails(run("mse", "--y-true", f"{path}:x", "--y-pred", f"{path}:x"), path,
              "is not a Parquet file")
    pq.write_table(pa.table({"p": [1.0, 2.0], "qqq": [3.0, 4.0]}), path)
    write(path, path.read_bytes().replace(b"qqq", b"q\xffq"))       # a name not UTF-8
    fails(run("mse", "--y-true", f"{path}:p", "--y-pred", f"{path}:p"), path,
          "is not a Parquet file: 'utf-8' codec can't decode byte 0xff")


def test_parquet_with_two_columns_of_one_name(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table([pa.array([1.0]), pa.array([2.0])], names=["x", "x"]), path)
    fails(run("mse", "--y-true", f"{path}:x", "--y-pred", f"{path}:x"), path)


def test_parquet_with_two_columns_of_one_name_says_so(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table([pa.array([1.0]), pa.array([2.0])], names=["x", "x"]), path)
    fails(run("mse", "--y-true", f"{path}:x", "--y-pred", f"{path}:x"), path,
          "has 2 columns named 'x'")


def test_arrow_ipc_files_malformed(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.feather as feather
    path = tmp_path / "d.feather"
    feather.write_feather(pa.table({"y": [1.0, None], "p": [1.0, 2.0], "s": ["a", "b"]}), path)
    fails(run("mse", path, "--y-true", "y", "--y-pred", "p"), path,
          "row 1, column 'y': a missing value (null)")
    fails(run("mse", path, "--y-true", "s", "--y-pred", "p"), path,
          "column 's' holds string, not numbers")
    data = path.read_bytes()
    for k in (0, 6, 100, len(data) - 10):
        write(path, data[:k])
        fails(run("mse", path, "--y-true", "p", "--y-pred", "p"), path,
              "is not an Arrow IPC file")


# -------------------------------------------------------------- paths, arguments, output
@pytest.mark.parametrize("spec,says", [
    ("{d}/missing.npy", "cannot read {d}/missing.npy: No such file or directory"),
    ("{d}/missing.csv:y", "cannot read {d}/missing.csv: No such file or directory"),
    ("{d}/missing.parquet:y", "cannot read {d}/missing.parquet: No such file or directory"),
    ("{d}/missing.feather:y", "cannot read {d}/missing.feather: No such file or directory"),
    ("{d}/dir.npy", "cannot read {d}/dir.npy: Is a directory"),
    # a directory named like a file is DATA: a directory of parts, here of none
    ("{d}/dir.csv:y", "{d}/dir.csv: a directory without a file of a known suffix"),
    ("{d}/dir.parquet:y", "{d}/dir.parquet: a directory without a file of a known suffix"),
])
def test_paths_that_cannot_be_read(tmp_path, spec, says):
    if "parquet" in spec or "feather" in spec:
        pytest.importorskip("pyarrow")
    (tmp_path / "dir.npy").mkdir()
    (tmp_path / "dir.csv").mkdir()
    (tmp_path / "dir.parquet").mkdir()
    spec, says = spec.format(d=tmp_path), says.format(d=tmp_path)
    fails(run("mse", "--y-true", spec, "--y-pred", spec), spec.rpartition(":y")[0] or spec,
          says)
    if ":" in spec:                              # the same path as DATA
        fails(run("mse", spec[:-2], "--y-true", "y", "--y-pred", "y"), spec[:-2], says)


@pytest.mark.parametrize("spec,says", [
    ("{d}/nothing*.csv", "{d}/nothing*.csv: no file matches"),
    ("{d}/mixed", "files of more than one format (csv, parquet)"),
    ("{d}/odd/*", "not a file of a known suffix"),
])
def test_data_that_cannot_be_read(tmp_path, spec, says):
    pytest.importorskip("pyarrow")
    (tmp_path / "mixed").mkdir()
    write(tmp_path / "mixed" / "a.csv", "y\n1\n")
    write(tmp_path / "mixed" / "b.parquet", b"PAR1")
    (tmp_path / "odd").mkdir()
    write(tmp_path / "odd" / "a.txt", "y\n1\n")
    spec, says = spec.format(d=tmp_path), says.format(d=tmp_path)
    code, out, err = run("mse", spec, "--y-true", "y", "--y-pred", "y")
    assert code == 1 and out == "" and err.count("\n") == 1 and says in err, err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
@pytest.mark.parametrize("args", [["--y-true", "{d}/y.npy", "--y-pred", "{d}/y.npy"],
                                  ["--y-true", "{d}/y.csv:y", "--y-pred", "{d}/y.csv:y"],
                                  ["{d}/y.csv", "--y-true", "y", "--y-pred", "y"],
                                  ["{d}/y.parquet", "--y-true", "y", "--y-pred", "y"]])
def test_a_named_pipe_is_refused_without_waiting(tmp_path, args):
    """Read twice (the header first), a source must be a file: a pipe is refused before it is
    opened, which would wait for a writer."""
    for name in ("y.npy", "y.csv", "y.parquet"):
        os.mkfifo(tmp_path / name)
    res = subprocess.run([sys.executable, "-m", "lossfuse", "score", "mse",
                          *(a.format(d=tmp_path) for a in args)],
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
    """The loss's own error, with the file it read, and the row counted from the first row
    of the input (not of the chunk)."""
    path = write(tmp_path / "d.csv", "y,p,g\n1,2,a\n2,2,b\n-3,4,a\n")
    says = f"{path}: y_true must hold values >= 0 for poisson; y_true[2] = -3.0"
    for chunk in (1, 2, 1000):
        fails(run("poisson", "--y-true", f"{path}:y", "--y-pred", f"{path}:p",
                  "--chunk-size", chunk), path, says)
        fails(run("poisson", path, "--y-true", "y", "--y-pred", "p", "--chunk-size", chunk),
              path, says)
        fails(run("poisson", path, "--y-true", "y", "--y-pred", "p", "--by", "g",
                  "--chunk-size", chunk), path, says)
    np.save(tmp_path / "y.npy", np.array([1.0, 2.0, -3.0]))      # the .npy of y_true
    fails(run("poisson", "--y-true", tmp_path / "y.npy", "--y-pred", f"{path}:p",
              "--chunk-size", 2), tmp_path / "y.npy",
          f"{tmp_path / 'y.npy'}: y_true must hold values >= 0 for poisson; y_true[2] = -3.0")
    # y_pred from the .npy, a bad y_true from the CSV: the CSV is named
    fails(run("poisson", "--y-true", f"{path}:y", "--y-pred", tmp_path / "y.npy"), path,
          f"{path}:y: y_true must hold values >= 0 for poisson; y_true[2] = -3.0")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_column_scored_and_grouped_by(tmp_path, suffix):
    """--by a column that is also y_true, y_pred or the weight: grouped by its values."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq
    table = pa.table({"y": [1.0, 3.0, 3.0], "p": [2.0, 2.0, 5.0]})
    path = tmp_path / f"d{suffix}"
    pcsv.write_csv(table, path) if suffix == ".csv" else pq.write_table(table, path)
    code, out, err = run("mse", path, "--y-true", "y", "--y-pred", "p", "--by", "y", "--json")
    assert (code, err) == (0, "")
    assert [(r["y"], r["rows"], r["sum"]) for r in loads(out)] == [(1.0, 1, 1.0),
                                                                 (3.0, 2, 5.0)]


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
# Independent readers: what a well-formed file holds, or None.  CSV as the command reads it:
# a header line (the first that is not blank, UTF-8, a BOM skipped, one line of CSV), then
# rows as Python's csv module reads them (not strict: pyarrow's reader also reads ``"1"2`` as
# ``12``; a file with an odd number of quotes may be refused), blank lines skipped, every row
# as long as the header; a number in a field is a plain decimal or nan/inf/infinity, with
# spaces or tabs around it, as float() reads it.
NUMBER = re.compile(r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
                    r"|nan|inf|infinity)", re.IGNORECASE)      # no backtracking: long fields


def number(field):
    body = field.strip(" \t")
    return float(body) if NUMBER.fullmatch(body) else None


def read_csv(path, columns):
    data = path.read_bytes()
    data = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    lines = re.split(rb"(\r\n|\r|\n)", data)
    blank = 0
    while blank < len(lines) and not lines[blank].strip():
        blank += 2                                   # a line and its line end
    if blank >= len(lines):
        return None
    try:
        line = lines[blank].decode("utf-8")
        names = [h.strip() for h in next(csv.reader([line], strict=True))]
    except (UnicodeDecodeError, csv.Error, StopIteration):
        return None
    if "\0" in line or any(names.count(c) != 1 for c in columns):
        return None
    body = b"".join(lines[blank + 2:]).decode("utf-8", "surrogateescape")
    limit = csv.field_size_limit(sys.maxsize)      # pyarrow has no limit of its own
    try:
        rows = [r for r in csv.reader(io.StringIO(body, newline="")) if r]
    except csv.Error:
        return None
    finally:
        csv.field_size_limit(limit)
    if any(len(r) != len(names) for r in rows):
        return None
    values = [[number(r[names.index(c)]) for r in rows] for c in columns]
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


def check(args, path, readings, loss="squared_error", may_refuse=False):
    """Run ``lossfuse score`` with `args`.  `readings`: what independent readers make of the
    files, each (y_true, y_pred) or None (refused).  The command must exit 0 only if a
    reader accepts the files and the in-memory loss of its arrays is the one printed, and 1
    (with one line naming the file) only if a reader or the in-memory loss refuses them --
    or, where the command is known to be stricter than the readers (`may_refuse`), with
    one line naming the file whatever they say."""
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
        assert may_refuse or None in wants, (err, wants)
    return code


def fuzz(r, folder, suffix, cases, make, args, read, may_refuse=lambda path: False):
    """`cases` corruptions of the contents of valid files `make(r)` gives, each written to a
    new file of `folder` (rewriting one file is slow on some file systems) and checked by
    `check` against the readings `read(path)` (and `may_refuse(path)`); some of them are
    still well-formed, some not."""
    codes = []
    for case in range(cases):
        original = make(r)
        path = write(folder / f"{case}{suffix}", mutate(original, r))
        chunk = r.choice([1, 3, 7, 1000, 1 << 20])
        try:
            codes.append(check([*args(path), "--chunk-size", chunk], path, read(path),
                               may_refuse=may_refuse(path)))
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

    def odd_quotes(path):
        """Quotes that are not well formed -- an odd number of them (the file ends inside a
        quoted field: see test_csv_ending_inside_an_open_quote), or quoting that Python's
        csv module refuses in strict mode (a stray quote, which pyarrow's reader and the
        csv module, not strict, take apart differently) -- may be refused."""
        data = path.read_bytes()
        body = re.split(rb"\r\n|\r|\n", data, maxsplit=1)[-1]
        if body.count(b'"') % 2:                       # the quotes after the header
            return True
        try:
            text = data.decode("utf-8-sig")
            list(csv.reader(io.StringIO(text, newline=""), strict=True))
        except (csv.Error, UnicodeDecodeError):
            return True
        return False

    fuzz(r, tmp_path, ".csv", 3000, make,
         lambda path: ["--y-true", f"{path}:y", "--y-pred", f"{path}:p"],
         lambda path: [read_csv(path, ["y", "p"])], odd_quotes)


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
