"""``lossfuse score``: losses over files too large for memory, streamed in batches.

    lossfuse score LOSS DATA --y-true COL --y-pred COL [--sample-weight COL] [--by COL ...]
    lossfuse score LOSS --y-true SRC --y-pred SRC [--sample-weight SRC]
                   [--loss LOSS ...] [--param NAME=VALUE ...] [--reduction mean|sum]
                   [--chunk-size N] [--json] [--output FILE]

The options, their help and their checks are defined in `lossfuse.__main__`; this module reads
the inputs and scores them.  DATA is a CSV, Parquet or Arrow IPC file, a directory of them
(hive partitions ``KEY=VALUE`` are columns) or a glob, read with pyarrow file after file (see
`TableSource`): only the columns needed, at most ``--chunk-size`` rows at a time, in memory
that stays flat.  SRC is a ``.npy`` file (read through plain reads, not a memory map, so that the pages
read do not stay in the process) or ``FILE.csv:COLUMN`` (likewise Parquet and Arrow IPC), for
inputs split over files; the columns of one file are read in one pass.

Every batch is one kernel call per loss.  Without groups, the batches' sums (and weights) are
added exactly (``math.fsum``): the result equals ``get_loss(LOSS).loss(...)`` on the whole
arrays to within a few ulp.  With ``--by``, each batch's keys are mapped to dense group ids
once, and a kernel adds every row's loss to its group's sums, kept in twice float64's
precision (`lossfuse.Loss.loss`'s ``groups``).  A progress bar goes to stderr, when it is a
terminal, if the input spans more than a few batches.  Wrong input -- a missing or malformed
file, an unknown column, a null or a field that is not a number, inputs of different lengths,
values outside the loss's domain -- gets one line on stderr and exit code 1.

``--metric`` adds scikit-learn's metrics that running sums give (`METRICS`: R^2, the
explained variance, the logarithmic and percentage errors, the largest error), with the
values of `lossfuse.metrics` on the whole arrays (on each group's rows).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import glob
import io
import json
import math
import os
import re
import stat
import sys
import urllib.parse
import time
import tokenize
import warnings
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Mapping, NamedTuple, Optional,
                    Sequence, TextIO, Tuple, Type, TypedDict, Union)

import numpy as np
from numpy.typing import NDArray

import lossfuse as lf
from ._api import _OP_LOSS, GroupAccumulator
from .metrics import (_MAX_ABS, _MOMENTS, _PERCENTAGE, _SQUARED_LOG, _assemble, _floating_dtype,
                      _fractions, _kernel, _numeric_dtype, _recentred, _sum, _undefined)
from ._optional import import_optional
from ._progress import ProgressBar
from ._threads import resolve as _n_threads


class ScoreError(Exception):
    """Wrong input: reported as one line on stderr, exit code 1."""


class UsageError(Exception):
    """Options that do not go together: reported with the usage, exit code 2."""


# A CSV line this long (in characters) is refused rather than held in memory whole.
_LINE_LIMIT = 1 << 24
# The largest --chunk-size (pyarrow's batch size is a C long).
_CHUNK_LIMIT = 1 << 40
# What numpy's .npy header reader raises on a malformed header: it evaluates the header's text
# as a Python literal and builds a dtype from it.
_NPY_HEADER_ERRORS = (ValueError, TypeError, IndexError, SyntaxError, tokenize.TokenError,
                      RecursionError, MemoryError)


def _reason(error: object, limit: int = 200) -> str:
    """A library's error message, on one line and at most `limit` characters."""
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _numeric(what: str, dtype: np.dtype[Any]) -> None:
    """ScoreError unless `dtype` holds real numbers (bool, integer or float)."""
    if dtype.kind not in "biuf":
        raise ScoreError(f"{what} holds {dtype}, not numbers")


def _column_index(path: str, names: Sequence[str], column: str) -> int:
    """The index of `column` among the column `names` of `path`: exactly one must match."""
    found = [i for i, name in enumerate(names) if name == column]
    if len(found) == 1:
        return found[0]
    if found:
        raise ScoreError(f"{path} has {len(found)} columns named {column!r}")
    shown = ", ".join(map(str, names[:20])) + (", ..." if len(names) > 20 else "")
    raise ScoreError(f"{path} has no column {column!r} (columns: {shown})")


def _parse_numbers(cells: Sequence[str]) -> Optional[NDArray[np.float64]]:
    """`cells` (strings) as float64, or None if one of them is not a number.

    A number is what ``numpy.loadtxt`` reads: a decimal (``1``, ``-2.5``, ``.5``, ``1e-3``)
    or ``nan``/``inf``/``infinity`` in any case, signed or not, with white space around it.
    Empty cells, digit separators (``1_000``, ``1,000``), hexadecimal, non-ASCII digits and
    anything else are not numbers (Python's ``float`` would read some of them)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # loadtxt warns when every cell is empty
        try:
            # comments=None: "1#2" is not 1.  A cell holding the delimiter makes a second
            # column, refused by the shape test below, as a cell holding a line break is
            # refused by loadtxt; loadtxt skips empty cells, refused by the same test.
            values = np.loadtxt(cells, dtype=np.float64, delimiter=",", comments=None,
                                ndmin=1)
        except ValueError:
            return None
    return values if values.shape == (len(cells),) else None


# ---------------------------------------------------------------------------- the sources
class Source:
    """Chunks of rows of one input: `name` its SRC, `rows` (None when unknown up front),
    `size` in bytes (for the progress of sources whose rows are unknown), `chunks(n)` yields
    arrays of up to n rows, `done` the bytes read so far.  Every read or format error of the
    file, at opening or during the iteration, is raised as a ScoreError naming the file."""

    name: str = ""
    path: str = ""
    rows: Optional[int] = None
    size: int = 0
    done: int = 0

    def chunks(self, n: int) -> Iterator[NDArray[Any]]:
        raise NotImplementedError


def _cannot_read(path: str, error: OSError) -> ScoreError:
    return ScoreError(f"cannot read {path}: {error.strerror or error}")


def _open(path: str) -> io.BufferedReader:
    """`path` open for reading in binary, or a ScoreError: a file is read more than once (the
    header first), so a pipe or a device is refused (before open, which waits for a pipe's
    writer)."""
    try:
        kind = os.stat(path).st_mode
        if not (stat.S_ISREG(kind) or stat.S_ISDIR(kind)):   # open says "Is a directory"
            raise ScoreError(f"cannot read {path}: not a regular file (a pipe or a device; "
                             "the file is read more than once)")
        return open(path, "rb")
    except OSError as e:
        raise _cannot_read(path, e) from None


@contextlib.contextmanager
def _reading(path: str) -> Iterator[io.BufferedReader]:
    """`path` open for reading in binary; an OSError in the block is a ScoreError."""
    with _open(path) as f:
        try:
            yield f
        except OSError as e:
            raise _cannot_read(path, e) from None


class NpySource(Source):
    """A ``.npy`` file (format 1.0 or 2.0) of real numbers in C order; its size must be
    exactly what its header announces."""

    rows: int

    def __init__(self, path: str) -> None:
        self.path = path
        readers = {(1, 0): np.lib.format.read_array_header_1_0,
                   (2, 0): np.lib.format.read_array_header_2_0}
        with _reading(path) as f:
            try:
                version = np.lib.format.read_magic(f)
                if version not in readers:
                    raise ValueError(f"format version {version} (1.0 and 2.0 are read)")
                with warnings.catch_warnings():    # a header written by Python 2: no warning
                    warnings.simplefilter("ignore")
                    shape, fortran, dtype = readers[version](f)
            except _NPY_HEADER_ERRORS as e:
                raise ScoreError(f"{path} is not a .npy file: {_reason(e)}") from None
            self.offset = f.tell()
            stored = os.fstat(f.fileno()).st_size - self.offset
        if len(shape) == 0:
            raise ScoreError(f"{path} holds a scalar, not an array")
        if any(k < 0 for k in shape):
            raise ScoreError(f"{path} is not a .npy file: its header's shape is {shape}")
        _numeric(path, dtype)
        if fortran and sum(k > 1 for k in shape) > 1:     # else the same bytes as C order
            raise ScoreError(f"{path} is in Fortran order; save it in C order")
        self.shape, self.dtype = tuple(shape), dtype
        self.rows = shape[0]
        self.row_items = math.prod(shape[1:])
        if self.row_items == 0:
            raise ScoreError(f"{path} holds no values (shape {self.shape})")
        self.size = self.rows * self.row_items * dtype.itemsize
        if stored < self.size:
            raise ScoreError(f"{path} is truncated: its header announces {self.size:,} bytes "
                             f"of data ({self.shape} {dtype}), it holds {stored:,}")
        if stored > self.size:
            raise ScoreError(f"{path} has {stored - self.size:,} bytes after the "
                             f"{self.shape} {dtype} array its header announces")

    def chunks(self, n: int) -> Iterator[NDArray[Any]]:
        with _reading(self.path) as f:
            f.seek(self.offset)
            left = self.rows
            while left > 0:
                k = min(n, left)
                a = np.fromfile(f, dtype=self.dtype, count=k * self.row_items)
                if a.size != k * self.row_items:
                    raise ScoreError(f"{self.path} changed while being read: it ends after "
                                     f"row {self.rows - left + a.size // self.row_items:,} "
                                     f"of {self.rows:,}")
                self.done += a.nbytes
                left -= k
                yield a.reshape((k,) + self.shape[1:])
            if f.read(1):
                raise ScoreError(f"{self.path} changed while being read: it grew")


# ------------------------------------------------------------------- tables, through pyarrow
# File formats read through pyarrow.dataset, by suffix (any case).
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".arrow": "ipc",
           ".feather": "ipc", ".ipc": "ipc"}
# CSV is parsed in ranges of about this many bytes (cut at line ends), each by pyarrow's
# multi-threaded reader in blocks of _CSV_BLOCK bytes: memory stays flat (a few ranges).
_CSV_RANGE = 8 << 20
_CSV_BLOCK = 2 << 20


def _pyarrow(purpose: str) -> Any:
    """pyarrow, or the MissingDependencyError naming the extra."""
    return import_optional("pyarrow", purpose)


def _format_of(path: str) -> Optional[str]:
    return FORMATS.get(os.path.splitext(path)[1].lower())


def _data_files(spec: str) -> Tuple[str, List[str], Optional[str]]:
    """DATA as (format, its files, the directory whose subdirectories may be hive partitions
    ``KEY=VALUE``, or None): a file, a directory (its files of a known suffix, at any depth;
    names beginning with '.' or '_' skipped) or a glob pattern (``*``, ``?``, ``[...]``,
    ``**``)."""
    base = None
    if os.path.isdir(spec):
        base = spec
        files = []
        for root, dirs, names in os.walk(spec):
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
            files += [os.path.join(root, f) for f in sorted(names)
                      if not f.startswith((".", "_")) and _format_of(f)]
        if not files:
            raise ScoreError(f"{spec}: a directory without a file of a known suffix "
                             f"({', '.join(FORMATS)})")
    elif os.path.exists(spec) or not glob.has_magic(spec):
        _open(spec).close()                   # the OS's own error for a path that fails
        files = [spec]
    else:
        files = sorted(f for f in glob.glob(spec, recursive=True) if os.path.isfile(f))
        if not files:
            raise ScoreError(f"{spec}: no file matches")
    formats = {_format_of(f) for f in files}
    if None in formats:
        odd = next(f for f in files if _format_of(f) is None)
        raise ScoreError(f"{odd}: not a file of a known suffix ({', '.join(FORMATS)})")
    if len(formats) > 1:
        raise ScoreError(f"{spec}: files of more than one format "
                         f"({', '.join(sorted(f for f in formats if f))})")
    return formats.pop() or "", files, base


_HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


def _partitions(files: Sequence[str], base: Optional[str]) -> Dict[str, List[Any]]:
    """The hive partition keys of `files` under `base` (directories ``KEY=VALUE``): key ->
    its value for each file (integers where every value of the key is one, else text;
    ``__HIVE_DEFAULT_PARTITION__`` is null).  A key missing from a file's path is null there."""
    if base is None:
        return {}
    found: List[Dict[str, str]] = []
    for f in files:
        parts = os.path.relpath(os.path.dirname(f), base).split(os.sep)
        found.append(dict(urllib.parse.unquote(p).split("=", 1) for p in parts if "=" in p))
    keys: Dict[str, List[Any]] = {}
    for k in dict.fromkeys(k for d in found for k in d):
        values: List[Any] = [d.get(k) for d in found]
        values = [None if v == _HIVE_NULL else v for v in values]
        if all(v is None or re.fullmatch(r"[+-]?[0-9]{1,18}", v) for v in values):
            values = [None if v is None else int(v) for v in values]
        keys[k] = values
    return keys


def _csv_header(path: str) -> Tuple[List[str], int]:
    """The column names of a CSV file -- its first line that is not blank (UTF-8, a byte
    order mark skipped; lines end with LF, CRLF or CR), parsed as CSV, each name stripped --
    and the offset of the line after it."""
    try:
        with open(path, "rb") as f:
            head = f.read(_LINE_LIMIT)
    except OSError as e:
        raise _cannot_read(path, e) from None
    start = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    for number, m in enumerate(re.finditer(rb"([^\r\n]*)(\r\n|\r|\n|$)", head[start:]), 1):
        raw = m.group(1)
        if not raw.strip():
            if not m.group(2):
                break
            continue
        if not m.group(2) and len(head) == _LINE_LIMIT:
            raise ScoreError(f"{path}, line {number}: a header longer than {_LINE_LIMIT:,} "
                             "bytes")
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ScoreError(f"{path}, line {number}: byte {raw[e.start]:#04x} is not UTF-8 "
                             "text; save the file as UTF-8") from None
        if "\0" in line:
            raise ScoreError(f"{path}, line {number}: a NUL byte (not a text file?)")
        try:
            return [h.strip() for h in next(csv.reader([line], strict=True))], start + m.end()
        except csv.Error as e:
            raise ScoreError(f"{path}, line {number}: {e}") from None
    raise ScoreError(f"{path} is empty: a header row naming the columns is needed")


def _csv_problem(path: str, names: Sequence[str], error: BaseException, first: int) -> str:
    """What pyarrow's CSV reader says of a malformed file, in the words of this command: the
    file, the row (counted from 0, the header not included: pyarrow's row #1 is row `first`),
    the column."""
    text = str(error).strip()
    m = re.search(r"In CSV column #(\d+): Row #(\d+): CSV conversion error to \w+: invalid "
                  r"value '(.*)'$", text, re.S)
    if m:
        column, row, value = int(m.group(1)), int(m.group(2)) - 1 + first, m.group(3)
        name = names[column] if column < len(names) else f"#{column}"
        return f"{path}, row {row:,}, column {name!r}: {_quoted(value)} is not a number"
    m = re.search(r"Row #(\d+): Expected (\d+) columns, got (\d+)", text)
    if m:
        got = int(m.group(3))
        return (f"{path}, row {int(m.group(1)) - 1 + first:,}: {got} field"
                f"{'s' * (got != 1)}, the header has {m.group(2)}")
    m = re.search(r"Row #(\d+): (.*)$", text, re.S)
    if m:
        return f"{path}, row {int(m.group(1)) - 1 + first:,}: {_reason(m.group(2))}"
    return f"{path}, rows {first:,} on: {_reason(text.rpartition('Invalid: ')[2] or text)}"


def _quoted(value: str, limit: int = 40) -> str:
    """A field as a message quotes it: its repr, shortened."""
    return repr(value) if len(value) <= limit else repr(value[:limit]) + "..."


# NumPy dtypes of the Arrow types whose values NumPy can view in place (no nulls).
_VIEWS = {"double": np.float64, "float": np.float32, "halffloat": np.float16,
          "int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64,
          "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32, "uint64": np.uint64}


def _numpy(column: Any) -> NDArray[Any]:
    """A pyarrow array of numbers without nulls as a NumPy array: a view of its values where
    NumPy can take them as they are (``to_numpy`` would import pandas, 0.2 s)."""
    dtype = _VIEWS.get(str(column.type))
    if dtype is None:
        return np.asarray(column.to_numpy(zero_copy_only=False))
    return np.frombuffer(column.buffers()[1], dtype, count=len(column),
                         offset=column.offset * np.dtype(dtype).itemsize)


class TableSource:
    """Columns of DATA (`_data_files`): CSV, Parquet or Arrow IPC (Feather) files, read with
    pyarrow file after file -- only the columns needed, batch by batch, in memory that stays
    flat.  `values` are the columns scored (real numbers, no nulls), `keys` those grouped by
    (any type; a hive partition's key is a column too).

    CSV is read in byte ranges of about ``_CSV_RANGE`` bytes cut at line ends (a range is
    extended while it ends inside a quoted field), each parsed by pyarrow's multi-threaded
    reader; Parquet row group by row group (page checksums, where written, verified); Arrow
    IPC record batch by record batch."""

    def __init__(self, spec: str, values: Sequence[str], keys: Sequence[str] = ()) -> None:
        self.pa = _pyarrow("reading CSV, Parquet and Arrow files")
        self.name = self.path = spec
        self.values, self.keys = list(dict.fromkeys(values)), list(dict.fromkeys(keys))
        self.format, self.files, base = _data_files(spec)
        self.partitions = _partitions(self.files, base)
        self.errors: Tuple[Type[Exception], ...] = (OSError, self.pa.ArrowException,
                                                    UnicodeDecodeError)
        self.size = sum(os.path.getsize(f) for f in self.files)
        self.done = 0
        self.rows: Optional[int] = None
        self.header: Dict[str, Tuple[List[str], int]] = {}
        names = self._columns(self.files[0])
        if self.format == "csv":
            for f in self.files[1:]:
                if self._columns(f) != names:
                    raise ScoreError(f"{f}: its header differs from that of {self.files[0]}")
        else:
            self.rows = 0
            for f in self.files:
                self._columns(f)
        for column in self.values + self.keys:
            _column_index(self.files[0], names + list(self.partitions), column)

    # ------------------------------------------------------------------- per file format
    def _columns(self, path: str) -> List[str]:
        """The column names of file `path` (and, but for CSV, add its rows to `rows`)."""
        if self.format == "csv":
            self.header[path] = _csv_header(path)
            return self.header[path][0]
        try:
            with self._open_table(path) as (names, rows, _):
                self.rows = None if rows is None or self.rows is None else self.rows + rows
                return names
        except self.errors as e:
            raise self._problem(e, path) from None

    @contextlib.contextmanager
    def _open_table(self, path: str) -> Iterator[Tuple[List[str], Optional[int],
                                                        Callable[[int], Iterator[Any]]]]:
        """A Parquet or IPC file open: (its column names, its rows (None: unknown before
        reading, IPC), batches(n) of the columns needed)."""
        handle = _open(path)
        try:
            if self.format == "parquet":
                import pyarrow.parquet as pq
                file = pq.ParquetFile(handle, page_checksum_verification=True)
                names = file.schema_arrow.names
                wanted = [c for c in dict.fromkeys(self.values + self.keys) if c in names]

                def row_groups(n: int) -> Iterator[Any]:
                    # a row group at a time: over the whole file, pyarrow decodes every
                    # row group ahead (452 MB of peak memory at 20M rows, against 167)
                    for i in range(file.num_row_groups):
                        rows = 0
                        for batch in file.iter_batches(batch_size=n, row_groups=[i],
                                                       columns=wanted):
                            rows += batch.num_rows
                            yield batch
                        said = file.metadata.row_group(i).num_rows
                        if rows != said:
                            raise ScoreError(f"{path}: row group {i} holds {rows:,} rows, "
                                             f"its metadata says {said:,}")
                    said = file.metadata.num_rows
                    total = sum(file.metadata.row_group(i).num_rows
                                for i in range(file.num_row_groups))
                    if total != said:
                        raise ScoreError(f"{path} holds {total:,} rows, its metadata says "
                                         f"{said:,}")
                yield names, file.metadata.num_rows, row_groups
            else:
                import pyarrow.ipc as ipc
                reader = ipc.open_file(handle)
                names = reader.schema.names
                wanted = [c for c in dict.fromkeys(self.values + self.keys) if c in names]

                def batches(n: int) -> Iterator[Any]:
                    for i in range(reader.num_record_batches):
                        yield reader.get_batch(i).select(wanted)
                yield names, None, batches
        finally:
            handle.close()

    def _problem(self, error: BaseException, path: str, row: Optional[int] = None
                 ) -> ScoreError:
        """The ScoreError for an error of pyarrow reading `path` (from `row` on)."""
        kind = {"parquet": "a Parquet", "ipc": "an Arrow IPC", "csv": "a CSV"}[self.format]
        if row is None:
            return ScoreError(f"{path} is not {kind} file: {_reason(error)}")
        return ScoreError(f"{path}: cannot read it (rows {row:,} on): {_reason(error)}")

    def _csv_batches(self, path: str) -> Iterator[Any]:
        """The tables of the byte ranges of CSV file `path`."""
        import pyarrow.csv as pcsv
        pa = self.pa
        names, start = self.header[path]
        for column in self.values + self.keys:
            if column not in self.partitions:
                _column_index(path, names, column)
        types = {c: pa.string() for c in self.keys if c not in self.partitions}
        types.update({c: pa.float64() for c in self.values if c not in self.partitions})
        convert = pcsv.ConvertOptions(include_columns=list(types), column_types=types,
                                      null_values=[], strings_can_be_null=False,
                                      quoted_strings_can_be_null=False)
        row = 0
        with _reading(path) as f:
            f.seek(start)
            carry = b""
            while True:
                block = f.read(_CSV_RANGE)
                data = carry + block if carry else block
                if block:
                    cut = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
                    quotes = data.count(b'"', 0, cut)
                    if cut == 0 or quotes % 2:        # no line end, or inside quotes: more
                        if len(data) > _LINE_LIMIT + _CSV_RANGE and cut == 0:
                            raise ScoreError(f"{path}, row {row:,}: longer than "
                                             f"{_LINE_LIMIT:,} bytes")
                        carry = data
                        continue
                    part, carry = data[:cut], data[cut:]
                else:
                    part, carry, quotes = data, b"", data.count(b'"')
                    if quotes % 2:
                        raise ScoreError(f"{path}, row {row:,} or later: the file ends inside "
                                         "a quoted field (or holds a stray double quote)")
                if part.startswith(b"\xef\xbb\xbf"):       # pyarrow would skip it
                    raise ScoreError(f"{path}, row {row:,}: a byte order mark (U+FEFF) "
                                     "begins the row: not a number")
                if part.strip():
                    read = functools.partial(
                        pcsv.read_csv, pa.py_buffer(part), convert_options=convert,
                        parse_options=pcsv.ParseOptions(newlines_in_values=quotes > 0))
                    try:
                        table = read(read_options=pcsv.ReadOptions(
                            column_names=names, block_size=_CSV_BLOCK, use_threads=True))
                    except self.errors:
                        # again as one block on one thread: its errors number the rows, and
                        # a line longer than a block, which pyarrow refuses, is read
                        try:
                            table = read(read_options=pcsv.ReadOptions(
                                column_names=names, block_size=len(part) + 1,
                                use_threads=False))
                        except self.errors as e:
                            raise ScoreError(_csv_problem(path, names, e, row)) from None
                    row += table.num_rows
                    yield table
                if not block:
                    return

    # ------------------------------------------------------------------------- batches
    def batches(self, n: int) -> Iterator[Tuple[Dict[str, NDArray[Any]], List[Any]]]:
        """Batches of the files, file after file: the value columns as arrays, the key
        columns as pyarrow arrays.  A null or a column that is not of numbers is a
        ScoreError naming the file, the column and the row."""
        for i, path in enumerate(self.files):
            row = 0
            try:
                with contextlib.ExitStack() as stack:
                    if self.format == "csv":
                        parts: Iterator[Any] = self._csv_batches(path)
                    else:
                        _, _, batches = stack.enter_context(self._open_table(path))
                        parts = batches(n)
                    for part in parts:
                        for start in range(0, part.num_rows, n):
                            piece = part.slice(start, n) if part.num_rows > n else part
                            yield self._batch(piece, path, i, row)
                            row += piece.num_rows
            except self.errors as e:
                raise self._problem(e, path, row) from None
            self.done += os.path.getsize(path)

    def _batch(self, batch: Any, path: str, file: int, row: int
               ) -> Tuple[Dict[str, NDArray[Any]], List[Any]]:
        pa = self.pa
        names = batch.schema.names

        def column(c: str) -> Any:
            if c in names:
                found = batch.column(c)
                return found.combine_chunks() if hasattr(found, "combine_chunks") else found
            if c in self.partitions:
                return pa.array([self.partitions[c][file]] * batch.num_rows)
            raise ScoreError(f"{path} has no column {c!r} (columns: "
                             f"{', '.join(names[:20])})")
        values = {c: self._numbers(column(c), path, c, row) for c in self.values}
        return values, [column(c) for c in self.keys]

    def _numbers(self, column: Any, path: str, name: str, row: int) -> NDArray[Any]:
        """A column of numbers without nulls as an array (a view of its values where NumPy
        can take them as they are)."""
        pa = self.pa
        if column.null_count:
            first = int(np.argmax(column.is_null().to_numpy(zero_copy_only=False)))
            raise ScoreError(f"{path}, row {row + first:,}, column {name!r}: a missing value "
                             "(null)")
        kind = column.type
        if str(kind) in _VIEWS or pa.types.is_boolean(kind):
            return _numpy(column)
        raise ScoreError(f"{path}: column {name!r} holds {kind}, not numbers")


# ------------------------------------------------------------------------------- scoring
def parse_losses(specs: Iterable[str]) -> List[Tuple[str, lf.Loss]]:
    """Losses from ``NAME[:PARAM=VALUE[:PARAM=VALUE...]]`` specs, each possibly a comma
    list (a ``PARAM=VALUE`` item of a comma list is one more parameter of the loss before
    it): (the spec as written, the loss)."""
    out: List[Tuple[str, lf.Loss]] = []
    items: List[List[str]] = []
    for spec in specs:
        for item in spec.split(","):
            item = item.strip()
            if not item:
                raise ScoreError(f"{spec!r}: an empty loss in the list")
            if "=" in item and ":" not in item and items:
                items[-1].append(item)
            else:
                items.append(item.split(":"))
    for name, *params in items:
        try:
            values = dict(_param(p) for p in params)
        except argparse.ArgumentTypeError as e:
            raise ScoreError(f"loss {name!r}: {e}") from None
        label = ":".join([name.strip(), *params])
        try:
            out.append((label, lf.get_loss(name.strip(), **values)))
        except (ValueError, TypeError) as e:
            raise ScoreError(str(e)) from None
    return out


_NAN = math.nan      # every NaN key as this one object: NaN == NaN is False, `is` is True
# Integer keys spanning at most this many values are coded through a table over their range.
_TABLE_RANGE = 1 << 22
_SIGNED = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32")


class _Codes:
    """The values of one key -> codes 0, 1, ... in the order of their first appearance,
    stable from batch to batch (`values[code]`).  Integers without nulls over a range of at
    most ``_TABLE_RANGE`` go through a table indexed by value (a few passes of NumPy over a
    batch); other keys through pyarrow's hash (``dictionary_encode``), looking up only each
    batch's distinct values."""

    def __init__(self, pa: Any) -> None:
        self.pa = pa
        self.values: List[Any] = []
        self.index: Dict[Any, int] = {}
        self.lo = 0
        self.table: Optional[NDArray[np.int64]] = np.empty(0, np.int64)   # None: hashed

    def _new(self, value: Any) -> int:
        code = self.index[value] = len(self.values)
        self.values.append(value)
        return code

    def __call__(self, column: Any) -> NDArray[np.int64]:
        """The code of each value of `column` (a pyarrow array, or an int64 array)."""
        if self.table is not None:
            ints = column if isinstance(column, np.ndarray) else \
                _numpy(column) if str(column.type) in _SIGNED and not column.null_count \
                else None
            codes = None if ints is None else self._by_table(ints)
            if codes is not None:
                return codes
            self.table = None
        return self._by_hash(column)

    def _by_table(self, v: NDArray[Any]) -> Optional[NDArray[np.int64]]:
        from ._kernels import kernels
        assert self.table is not None
        keys = np.ascontiguousarray(v, dtype=np.int64)
        codes = np.empty(len(keys), np.int64)
        if not len(keys) or self.values and \
                kernels.table_codes(keys, self.table, self.lo, codes) == 0:
            return codes                     # one pass: every key has its code already
        # values not seen before: the table over their range too, then their codes
        lo, hi = int(keys.min()), int(keys.max())
        if self.values:
            lo, hi = min(lo, self.lo), max(hi, self.lo + len(self.table) - 1)
        if hi - lo >= _TABLE_RANGE:
            return None
        if not self.values or lo != self.lo or hi - lo + 1 != len(self.table):
            table = np.full(hi - lo + 1, -1, np.int64)
            if self.values:
                table[self.lo - lo:self.lo - lo + len(self.table)] = self.table
            self.table, self.lo = table, lo
        if kernels.table_codes(keys, self.table, self.lo, codes):
            seen = np.bincount(keys[codes < 0] - lo, minlength=len(self.table))
            for x in np.flatnonzero(seen).tolist():      # in the order of their values
                self.table[x] = self._new(x + lo)
            kernels.table_codes(keys, self.table, self.lo, codes)
        return codes

    def _by_hash(self, column: Any) -> NDArray[np.int64]:
        import pyarrow.compute as pc
        if isinstance(column, np.ndarray):
            column = self.pa.array(column)
        if self.pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        encoded = pc.dictionary_encode(column, null_encoding="encode")
        distinct = encoded.dictionary.to_pylist()
        lookup = np.empty(len(distinct), np.int64)
        for i, value in enumerate(distinct):
            if isinstance(value, float) and value != value:
                value = _NAN
            code = self.index.get(value)
            lookup[i] = self._new(value) if code is None else code
        return lookup[_numpy(encoded.indices).astype(np.int64)]


class _Keys:
    """Group keys (one or more columns) -> dense group ids, as the batches arrive: each
    column's values get codes (`_Codes`), and each combination of codes one more (the codes
    so far and the next column's, paired as one integer, coded in turn)."""

    _PAIR = 1 << 31          # codes of a column stay below this

    def __init__(self, names: Sequence[str]) -> None:
        pa = _pyarrow("--by")
        self.columns = [_Codes(pa) for _ in names]
        self.pairs = [_Codes(pa) for _ in names[1:]]

    def __call__(self, columns: Sequence[Any]) -> NDArray[np.int64]:
        """The group id of each row of a batch (`columns`: its key columns)."""
        code = self.columns[0](columns[0])
        for coder, pair, column in zip(self.columns[1:], self.pairs, columns[1:]):
            code = pair(code * self._PAIR + coder(column))
        return code

    def __len__(self) -> int:
        return len((self.pairs or self.columns)[-1].values)

    def key(self, g: int) -> Tuple[Any, ...]:
        """The values of group `g`'s key columns."""
        out = []
        for k in range(len(self.pairs) - 1, -1, -1):
            g, c = divmod(self.pairs[k].values[g], self._PAIR)
            out.append(self.columns[k + 1].values[c])
        out.append(self.columns[0].values[g])
        return tuple(reversed(out))

    def finish(self) -> None:
        """Keys read as text (CSV) that are all whole numbers written plainly (``-3``, not
        ``007`` or ``+3``) become integers, to be shown and sorted as numbers."""
        for coder in self.columns:
            v = coder.values
            if v and all(type(x) is str and re.fullmatch(r"-?(0|[1-9][0-9]{0,17})", x)
                         for x in v):
                coder.values = [int(x) for x in v]

    def order(self) -> List[int]:
        """The group ids in the order of their keys (nulls last; keys of mixed types in the
        order they first appeared)."""
        n = len(self)
        try:
            if not self.pairs:                 # one column: its values, compared as they are
                values = self.columns[0].values
                nulls = [g for g in range(n) if values[g] is None]
                return sorted((g for g in range(n) if values[g] is not None),
                              key=values.__getitem__) + nulls
            keys = [tuple((v is None, 0 if v is None else v) for v in self.key(g))
                    for g in range(n)]
            return sorted(range(n), key=keys.__getitem__)
        except TypeError:
            return list(range(n))


# ------------------------------------------------------------------------------- metrics
# scikit-learn's metrics that running sums give, with the values of `lossfuse.metrics` on the
# whole arrays (scikit-learn's defaults: one output, force_finite=True).  A metric is a row
# of METRICS: its tallies make a batch's sums (`add`), merge them with those of the batches
# before, and finish the value from them (`result`) -- over all rows (`_Tally`) or per group
# (`_GroupTally`).  Over all rows, sums are added exactly (math.fsum); per group, each row's
# terms go to its group's float64 pairs (TwoSum) in the order of the rows, the same bits
# however the rows are batched.

class _Tally:
    """A metric over all rows: `add` a batch (1-d arrays, finite: `_metric_inputs`), then
    `again` (True: `add` the same rows once more), then `result`."""

    undefined = 0        # after `result`: 1 if the value is NaN as not well-defined

    def add(self, y: NDArray[Any], p: NDArray[Any], w: Optional[NDArray[Any]]) -> None:
        raise NotImplementedError

    def again(self) -> bool:
        """Whether the value needs another pass over the same rows; if so, `add` them again
        (the sums start over)."""
        return False

    def result(self) -> Tuple[float, float, int]:
        """(the value, the weight of the rows, the rows)."""
        raise NotImplementedError


class _GroupTally:
    """A metric per group: `add` a batch with its rows' group ids (`n` groups so far), then
    `result`."""

    undefined = 0        # after `result`: the groups whose value is NaN as not well-defined

    def add(self, y: NDArray[Any], p: NDArray[Any], w: Optional[NDArray[Any]],
            ids: NDArray[np.int64], n: int) -> None:
        raise NotImplementedError

    def result(self) -> Tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
        """Per group: (the value, the weight of its rows, its rows)."""
        raise NotImplementedError


def _cast(dt: np.dtype[Any], *arrays: Optional[NDArray[Any]]) -> List[Any]:
    """`arrays` (None stays None) as contiguous arrays of `dt`, as the kernels take them."""
    return [None if a is None else np.ascontiguousarray(a, dtype=dt) for a in arrays]


def _dtype(y: NDArray[Any], p: NDArray[Any], w: Optional[NDArray[Any]]) -> np.dtype[Any]:
    """The dtype `lossfuse.metrics` computes in: float32 where every floating input is
    float32 or narrower, else float64."""
    return _floating_dtype(*((a, a) for a in (y, p, w) if a is not None))


def _first(name: str, bad: NDArray[np.bool_], a: NDArray[Any], rule: str) -> ValueError:
    """The error for input `name` (`a`), whose rows `bad` break `rule`: its first such row."""
    i = int(np.argmax(bad))
    return ValueError(f"{name} must hold {rule}; {name}[{i}] = {float(a[i])!r}")


def _above_minus_one(fname: str) -> Callable[[NDArray[Any], NDArray[Any]], None]:
    """The domain of the logarithmic errors (log1p): every value above -1."""
    def check(y: NDArray[Any], p: NDArray[Any]) -> None:
        for name, a in (("y_true", y), ("y_pred", p)):
            if a.size and float(np.min(a)) <= -1:
                raise _first(name, a <= -1, a, f"values > -1 for {fname}")
    return check


class _Mean(_Tally):
    """A weighted mean of a metric kernel's values (its square root with `root`)."""

    def __init__(self, kernel: Any, root: bool = False,
                 domain: Optional[Callable[[NDArray[Any], NDArray[Any]], None]] = None,
                 check: Optional[Callable[[NDArray[Any], NDArray[Any]], None]] = None,
                 scale: float = 1.0) -> None:
        self.kernel, self.root, self.domain, self.check = kernel, root, domain, check
        self.scale = scale
        self.parts: List[Tuple[float, float]] = []
        self.rows = 0
        self.dt = np.dtype(np.float64)

    def add(self, y: NDArray[Any], p: NDArray[Any], w: Optional[NDArray[Any]]) -> None:
        self.dt = _dtype(y, p, w)
        y, p, w = _cast(self.dt, y, p, w)
        if self.check is not None:
            self.check(y, p)
        run = self.kernel.run_float64 if self.dt == np.float64 else self.kernel.run_float32
        total = run(_OP_LOSS, y, p, w, 1, None, None, None, 1.0, _n_threads(None))
        if self.domain is not None and not math.isfinite(total):
            self.domain(y, p)
        self.parts.append((total, float(len(p)) if w is None else _sum(w)))
        self.rows += len(p)

    def result(self) -> Tuple[float, float, int]:
        total, weight = (math.fsum(part[k] for part in self.parts) for k in (0, 1))
        mean = total / weight * self.scale if weight else math.nan
        if self.root:
            mean = float(np.sqrt(mean).astype(self.dt))
        return mean, weight, self.rows


class _MeanGroups(_GroupTally):
    """`_Mean` per group: the kernel's grouped sums."""

    def __init__(self, kernel: Any, root: bool = False,
                 domain: Optional[Callable[[NDArray[Any], NDArray[Any]], None]] = None,
                 scale: float = 1.0) -> None:
        self.sums, self.root, self.domain = _KernelSums(kernel), root, domain
        self.scale = scale
        self.dt = np.dtype(np.float64)

    def add(self, y: NDArray[Any], p: NDArray[Any], w: Optional[NDArray[Any]],
            ids: NDArray[np.int64], n: int) -> None:
        self.dt = _dtype(y, p, w)
        y, p, w = _cast(self.dt, y, p, w)
        if self.domain is not None:
            self.domain(y, p)
        self.sums.grow(n)
        self.sums.add(y, p, w, ids)

    def result(self) -> Tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
        sums, weights, rows = self.sums.results()
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.where(weights != 0, sums / weights * self.scale, math.nan)
        if self.root:
            mean = np.sqrt(mean).astype(self.dt).astype(np.float64)
        return mean, weights, rows


class _KernelSums(GroupAccumulator):
    """Per group, the sums of ``w * f(y_true, y_pred)`` of a kernel f (a LossKernel) and of
    the weights, in float64 pairs (`GroupAccumulator`'s, here for any kernel), added row by
    row in order."""

    def __init__(self, kernel: Any) -> None:
        self.kernel = kernel
        self.acc = np.zeros((4, 0))
        self.count = np.zeros(0, np.int64)
        self.weighted = False
        self.row_len = 1

    def add(self, y_true: Any, y_pred: Any, sample_weight: Any,
            ids: NDArray[np.int64]) -> None:
        """Add 1-d contiguous float64 (or float32) rows to the groups `ids`."""
        run = self.kernel.group_float64 if y_pred.dtype == np.float64 else \
            self.kernel.group_float32
        self.weighted = self.weighted or sample_weight is not None
        run(y_true, y_pred, sample_weight, ids, self.acc, self.count)


def _fraction_scores(numerator: NDArray[Any], denominator: NDArray[Any],
                     dt: np.dtype[Any]) -> NDArray[np.float64]:
    """``1 - numerator / denominator`` with force_finite, in `dt`, as `lossfuse.metrics`."""
    scores = _assemble(numerator.astype(dt), denominator.astype(dt), "raw_values", True)
    return np.asarray(scores, np.float64)


class _Moments(_Tally):
    """r2_score (`explained` False) or explained_variance_score: the moments kernel's shifted
    sums (W, U, UU, DD, E, EE), its shifts chosen on the first batch and kept; if the totals
    cancelled (the shifts were far from the means), another pass around the means found."""

    def __init__(self, explained: bool) -> None:
        self.explained = explained
        self.shifts = (math.nan, math.nan)
        self.parts: List[Tuple[float, ...]] = []
        self.rows = 0
        self.passes = 0
        self.dt = np.dtype(np.float64)

    def add(self, y: NDArray[Any], p: NDArray[Any], w: Optional[NDArray[Any]]) -> None:
        self.dt = _dtype(y, p, w)
        y, p, w = _cast(self.dt, y, p, w)
        sums = _MOMENTS[self.dt](y, p, w, *self.shifts, self.explained, _n_threads(None))
        if len(p):
            self.shifts = sums[6], sums[7]
        self.parts.append(sums[:6])
        self.rows += len(p)

    def _totals(self) -> Tuple[float, ...]:
        return tuple(math.fsum(part[k] for part in self.parts) for k in range(6)) + \
            self.shifts

    def again(self) -> bool:
        totals = self._totals()
        if self.passes == 3 or self.rows < 2 or not totals[0]:    # three more at most,
            return False                                       # as `lossfuse.metrics`
        shifts = _recentred(totals, self.explained)
        if shifts is None:
            return False
        self.shifts, self.parts, self.rows = shifts, [], 0
        self.passes += 1
        return True

    def result(self) -> Tuple[float, float, int]:
        sums = self._totals()
        weight = sums[0]
        self.undefined = int(self.rows < 2 and not self.explained)
        if self.undefined or not weight:
            return math.nan, weight, self.rows
        numerator, denominator = _fractions(sums, self.explained)
        score = _fraction_scores(np.array([numerator]), np.array([denominator]), self.dt)
        return float(score[0]), weight, self.rows


# Kernels of the grouped moments: squared_error's (p - y)^2 and pinball's at alpha 0 and 1,
# max(p - y, 0) and max(y - p, 0), whose difference is the signed y - p.
_SQUARE = _kernel("squared_error")
_ABOVE, _BELOW = _kernel("pinball", 0.0), _kernel("pinball", 1.0)


class _MomentGroups(_GroupTally):
    """`_Moments` per group: the sums of w, w u, w u^2, w d^2 (and w e, w e^2) with
    u = y - K_g, where K_g is the group's first y of weight other than 0 (e = d - Ke_g
    likewise, d = y - y_pred), each in the group's float64 pairs (`_KernelSums`)."""

    def __init__(self, explained: bool) -> None:
        self.explained = explained
        self.K = np.zeros(0)
        self.Ke = np.zeros(0)
        self.anchored = np.zeros(0, bool)       # K_g is a row's of weight other than 0
        terms = 7 if explained else 4           # UU, U+, U-, DD [, EE, E+, E-]
        kernels = [_SQUARE, _BELOW, _ABOVE, _SQUARE] + [_SQUARE, _BELOW, _ABOVE]
        self.sums = [_KernelSums(k) for k in kernels[:terms]]
        self.dt = np.dtype(np.float64)

    def _anchor(self, y: NDArray[np.float64], d: NDArray[np.float64],
                w: Optional[NDArray[np.float64]], ids: NDArray[np.int64], n: int) -> None:
        """Shifts for the groups of `ids` without one of a row of weight other than 0: that
        of their first such row (else of their first row, kept only while all their weights
        are 0, so that every sum of theirs is still 0)."""
        old = len(self.K)
        if n > old:
            self.K = np.concatenate([self.K, np.full(n - old, math.nan)])
            self.Ke = np.concatenate([self.Ke, np.full(n - old, math.nan)])
            self.anchored = np.concatenate([self.anchored, np.zeros(n - old, bool)])
        loose = np.flatnonzero(~self.anchored[ids])
        if not len(loose):
            return
        heavy = loose if w is None else loose[w[loose] != 0]
        for rows, anchors in ((heavy, True), (loose, False)):
            groups, first = np.unique(ids[rows], return_index=True)
            if not anchors:
                fresh = np.isnan(self.K[groups])
                groups, first = groups[fresh], first[fresh]
            self.K[groups] = y[rows[first]]
            self.Ke[groups] = d[rows[first]]
            self.anchored[groups] |= anchors

    def add(self, y: NDArray[Any], p: NDArray[Any], w: Optional[NDArray[Any]],
            ids: NDArray[np.int64], n: int) -> None:
        self.dt = _dtype(y, p, w)
        y, p, w = _cast(self.dt, y, p, w)
        y, p, w = _cast(np.dtype(np.float64), y, p, w)
        assert y is not None and p is not None
        d = y - p
        self._anchor(y, d, w, ids, n)
        k = self.K[ids]
        operands = [(y, k), (y, k), (y, k), (y, p)]
        if self.explained:
            ke = self.Ke[ids]
            operands += [(d, ke), (d, ke), (d, ke)]
        for sums, (a, b) in zip(self.sums, operands):
            sums.grow(n)
            sums.add(a, b, w, ids)

    def result(self) -> Tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
        parts = [s.results() for s in self.sums]
        weight, rows = parts[0][1], parts[0][2]
        uu, u, dd = parts[0][0], parts[1][0] - parts[2][0], parts[3][0]
        ee, e = (parts[4][0], parts[5][0] - parts[6][0]) if self.explained else (dd, dd)
        with np.errstate(divide="ignore", invalid="ignore"):
            numerator, denominator = _fractions((weight, u, uu, dd, e, ee), self.explained)
            scores = _fraction_scores(numerator, denominator, self.dt)
        few = rows < 2 if not self.explained else np.zeros(len(rows), bool)
        self.undefined = int(np.count_nonzero(few))
        scores[few | (weight == 0)] = math.nan
        return scores, weight, rows


class _Max(_Tally):
    """max_error: the largest |y - p| (no weights: scikit-learn's takes none)."""

    def __init__(self) -> None:
        self.top = 0.0
        self.rows = 0
        self.weight: List[float] = []

    def add(self, y: NDArray[Any], p: NDArray[Any], w: Optional[NDArray[Any]]) -> None:
        dt = _numeric_dtype(y, p)
        y, p = _cast(dt, y, p)
        w = _cast(np.dtype(np.float64), w)[0]
        self.top = max(self.top, float(_MAX_ABS[dt](y, p, _n_threads(None))))
        self.weight.append(float(len(p)) if w is None else _sum(w))
        self.rows += len(p)

    def result(self) -> Tuple[float, float, int]:
        return self.top, math.fsum(self.weight), self.rows


class _MaxGroups(_GroupTally):
    """max_error per group."""

    def __init__(self) -> None:
        self.top = np.zeros(0)
        self.weights = _KernelSums(_SQUARE)     # only its weights and counts are used

    def add(self, y: NDArray[Any], p: NDArray[Any], w: Optional[NDArray[Any]],
            ids: NDArray[np.int64], n: int) -> None:
        dt = _numeric_dtype(y, p)
        y, p = _cast(dt, y, p)
        assert y is not None and p is not None
        if n > len(self.top):
            self.top = np.concatenate([self.top, np.zeros(n - len(self.top))])
        np.maximum.at(self.top, ids, np.abs(y - p))
        zeros = np.zeros(len(p))
        self.weights.grow(n)
        self.weights.add(zeros, zeros, _cast(np.dtype(np.float64), w)[0], ids)

    def result(self) -> Tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
        _, weights, rows = self.weights.results()
        return self.top.copy(), weights, rows


class _BinaryLabels:
    """The labels brier_score_loss and hinge_loss take in a stream, checked batch by batch:
    0 and 1, or -1 and 1 (1 the positive class, as scikit-learn's default for those sets;
    a stream cannot infer another), and with `probabilities` a y_pred in [0, 1].  Remembers
    which negative label it saw."""

    def __init__(self, fname: str, probabilities: bool) -> None:
        self.fname, self.probabilities = fname, probabilities
        self.zero = self.minus = False

    def __call__(self, y: NDArray[Any], p: NDArray[Any]) -> None:
        labels = (y == 1) | (y == 0) | (y == -1)
        if not labels.all():
            raise _first("y_true", ~labels, y, f"the labels 0 and 1, or -1 and 1, for "
                         f"{self.fname}")
        self.zero = self.zero or bool(np.any(y == 0))
        self.minus = self.minus or bool(np.any(y == -1))
        if self.zero and self.minus:
            raise ValueError(f"y_true must hold the labels 0 and 1, or -1 and 1, for "
                             f"{self.fname}: it holds both 0 and -1")
        if self.probabilities:
            outside = (p < 0) | (p > 1)
            if outside.any():
                raise _first("y_pred", outside, p, f"probabilities in [0, 1] for {self.fname}")


_BRIER = _kernel("brier_labels", 1.0, 0.0, -1.0)
# hinge_loss's terms max(0, 1 - t p), t = +1 for the label 1 and -1 for the others: for the
# labels {0, 1}, for {-1, 1}, and with every row taken as the negative class (one class in all:
# scikit-learn's LabelBinarizer makes it the negative one); in float64, as scikit-learn's margin
_HINGE = {False: _kernel("hinge_labels", 1.0, 0.0, 0.0),
          True: _kernel("hinge_labels", 1.0, -1.0, -1.0)}
_HINGE_NEGATIVE = _kernel("hinge_labels", 2.0, 1.0, 1.0)


class _Hinge(_Tally):
    """hinge_loss over all rows: the weighted mean of its terms, and of the terms with every
    row of label 1 taken as negative -- the value where no other label ever comes."""

    def __init__(self) -> None:
        self.labels = _BinaryLabels("hinge_loss", False)
        self.parts: List[Tuple[float, float, float]] = []
        self.rows = 0

    def add(self, y: NDArray[Any], p: NDArray[Any], w: Optional[NDArray[Any]]) -> None:
        y, p, w = _cast(np.dtype(np.float64), y, p, w)
        self.labels(y, p)
        nt = _n_threads(None)
        total = _HINGE[self.labels.minus].run_float64(_OP_LOSS, y, p, w, 1, None, None, None,
                                                      1.0, nt)
        one = y == 1
        alone = _HINGE_NEGATIVE.run_float64(_OP_LOSS, y[one], p[one],
                                            None if w is None else w[one], 1, None, None,
                                            None, 1.0, nt)
        self.parts.append((total, alone, float(len(p)) if w is None else _sum(w)))
        self.rows += len(p)

    def result(self) -> Tuple[float, float, int]:
        total, alone, weight = (math.fsum(part[k] for part in self.parts) for k in (0, 1, 2))
        if not (self.labels.zero or self.labels.minus):
            total = alone
        return (total / weight if weight else math.nan), weight, self.rows


class _HingeGroups(_GroupTally):
    """`_Hinge` per group: a group whose rows all have the label 1 is one class, negative."""

    def __init__(self) -> None:
        self.labels = _BinaryLabels("hinge_loss", False)
        self.sums, self.alone = _KernelSums(_HINGE[False]), _KernelSums(_HINGE_NEGATIVE)
        self.negative = np.zeros(0, bool)

    def add(self, y: NDArray[Any], p: NDArray[Any], w: Optional[NDArray[Any]],
            ids: NDArray[np.int64], n: int) -> None:
        y, p, w = _cast(np.dtype(np.float64), y, p, w)
        self.labels(y, p)
        self.sums.kernel = _HINGE[self.labels.minus]
        for sums in (self.sums, self.alone):
            sums.grow(n)
        self.sums.add(y, p, w, ids)
        one = y == 1
        self.alone.add(y[one], p[one], None if w is None else w[one],
                       np.ascontiguousarray(ids[one]))
        self.negative = np.r_[self.negative, np.zeros(n - len(self.negative), bool)]
        self.negative[ids[~one]] = True

    def result(self) -> Tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
        sums, weights, rows = self.sums.results()
        alone = self.alone.results()[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.where(weights != 0, np.where(self.negative, sums, alone) / weights,
                            math.nan)
        return mean, weights, rows


class MetricSpec(NamedTuple):
    """A metric of ``lossfuse score --metric``: its name (that of `lossfuse.metrics` and
    scikit-learn), aliases, what ``--help`` says of it, and its tallies over all rows and
    per group."""

    name: str
    aliases: Tuple[str, ...]
    about: str
    total: Callable[[], _Tally]
    grouped: Callable[[], _GroupTally]


_MSLE_DOMAIN = _above_minus_one("mean_squared_log_error")
_RMSLE_DOMAIN = _above_minus_one("root_mean_squared_log_error")

METRICS: Tuple[MetricSpec, ...] = (
    MetricSpec("r2_score", ("r2",), "the coefficient of determination R^2",
               lambda: _Moments(False), lambda: _MomentGroups(False)),
    MetricSpec("explained_variance_score", ("explained_variance",), "the explained variance",
               lambda: _Moments(True), lambda: _MomentGroups(True)),
    MetricSpec("mean_squared_log_error", ("msle",), "of log1p: values above -1",
               lambda: _Mean(_SQUARED_LOG, domain=_MSLE_DOMAIN),
               lambda: _MeanGroups(_SQUARED_LOG, domain=_MSLE_DOMAIN)),
    MetricSpec("root_mean_squared_log_error", ("rmsle",), "the root of msle",
               lambda: _Mean(_SQUARED_LOG, True, _RMSLE_DOMAIN),
               lambda: _MeanGroups(_SQUARED_LOG, True, _RMSLE_DOMAIN)),
    MetricSpec("mean_absolute_percentage_error", ("mape",),
               "|y_pred - y_true| / max(|y_true|, eps), not in percent",
               lambda: _Mean(_PERCENTAGE), lambda: _MeanGroups(_PERCENTAGE)),
    MetricSpec("max_error", (), "the largest |y_true - y_pred|; ignores the weights",
               _Max, _MaxGroups),
    MetricSpec("brier_score_loss", ("brier",),
               "binary: labels 0 and 1 (or -1 and 1), y_pred the probability of 1; halved",
               lambda: _Mean(_BRIER, check=_BinaryLabels("brier_score_loss", True),
                             scale=0.5),
               lambda: _MeanGroups(_BRIER, domain=_BinaryLabels("brier_score_loss", True),
                                   scale=0.5)),
    MetricSpec("hinge_loss", (),
               "binary: labels 0 and 1 (or -1 and 1), y_pred decision scores",
               _Hinge, _HingeGroups),
)
_METRIC_NAMES = {n: spec for spec in METRICS for n in (spec.name, *spec.aliases)}


class UnknownName(ScoreError):
    """A metric the command line names wrongly: one line on stderr, exit code 2."""


def _as_loss(name: str) -> str:
    """A hint where `name` is a loss's rather than a metric's."""
    try:
        lf.get_loss(name.strip())
    except (ValueError, TypeError):
        return ""
    return f" ({name.strip()!r} is a loss: give it as LOSS or --loss)"


def parse_metrics(specs: Iterable[str]) -> List[Tuple[str, MetricSpec]]:
    """Metrics from names or aliases (any case), each spec possibly a comma list: (the
    metric's name, its spec), each metric once."""
    out: Dict[str, MetricSpec] = {}
    for spec in specs:
        for item in spec.split(","):
            name, sep, params = item.strip().partition(":")
            found = _METRIC_NAMES.get(name.strip().lower())
            if not name.strip():
                raise UnknownName(f"{spec!r}: an empty metric in the list")
            if found is None:
                raise UnknownName(f"unknown metric {name.strip()!r}; valid names: "
                                  + ", ".join(sorted(_METRIC_NAMES)) + _as_loss(name))
            if sep:
                raise UnknownName(f"metric {found.name} takes no parameters, got {params!r}")
            out[found.name] = found
    return list(out.items())


def _metric_inputs(y: NDArray[Any], p: NDArray[Any], w: Optional[NDArray[Any]],
                   names: str) -> None:
    """ValueError unless `y`, `p` (and `w`) are one column of finite numbers each, as
    scikit-learn's regression metrics take them (`names`: the metrics, for the message)."""
    for name, a in (("y_true", y), ("y_pred", p), ("sample_weight", w)):
        if a is None:
            continue
        if a.ndim != 1:
            raise ValueError(f"{name} must be one column for {names}, got shape {a.shape}")
        if a.dtype.kind == "f" and not math.isfinite(float(np.add.reduce(a, dtype=np.float64))):
            bad = ~np.isfinite(a)
            if bad.any():
                raise _first(name, bad, a, f"finite values for {names}")


Record = Dict[str, Any]


class Scorer:
    """The sums of several losses and metrics over batches of rows, per group or over all
    rows."""

    def __init__(self, losses: Sequence[Tuple[str, lf.Loss]], by: Sequence[str] = (),
                 metrics: Sequence[Tuple[str, MetricSpec]] = (), reduction: str = "mean"
                 ) -> None:
        self.losses = list(losses)
        self.metrics = list(metrics)
        self.by = list(by)
        self.reduction = reduction
        self.keys = _Keys(by) if by else None
        self.groups = [GroupAccumulator(loss) for _, loss in self.losses] if by else []
        self.parts: List[List[Tuple[float, float]]] = [[] for _ in self.losses]
        self.tallies: List[Any] = [spec.grouped() if by else spec.total()
                                   for _, spec in self.metrics]
        self.repeat: Optional[List[Any]] = None      # in another pass: the tallies fed
        self.notes: List[str] = []                  # what `records` warns of
        self.n = 0
        self.weighted = False

    def add(self, y: NDArray[Any], p: NDArray[Any], w: Optional[NDArray[Any]],
            keys: Sequence[Any] = ()) -> None:
        """Add a batch: `y`, `p`, `w` (None: no weights) and, with groups, its key columns.
        A loss's or a metric's ValueError or TypeError propagates."""
        if self.metrics:
            _metric_inputs(y, p, w, ", ".join(label for label, _ in self.metrics))
        if self.repeat is not None:                   # another pass, for some metrics
            for tally in self.repeat:
                tally.add(y, p, w)
            return
        self.weighted = self.weighted or w is not None
        if self.keys is not None:
            ids = self.keys(keys)
            for acc in self.groups:
                acc.grow(len(self.keys))
                acc.add(y, p, w, ids)
            for tally in self.tallies:
                tally.add(y, p, w, ids, len(self.keys))
        else:
            for parts, (_, loss) in zip(self.parts, self.losses):
                parts.append(loss._sum_and_denominator(_OP_LOSS, y, p, w)[0])
            for tally in self.tallies:
                tally.add(y, p, w)
        self.n += len(p)

    def again(self) -> bool:
        """Whether some metrics need another pass over the same rows (`_Tally.again`): then
        `add` every batch again, which feeds those only."""
        if self.keys is not None:
            return False
        self.repeat = [t for t in self.tallies if t.again()]
        return bool(self.repeat)

    def records(self) -> List[Record]:
        """A record per group and loss or metric (per loss and metric without groups): the
        group's keys by column, then loss (as given; a metric's name), rows, weight (the
        denominator of the mean: the weight of the rows' elements), sum (of w * loss) and
        mean; with metrics, value (a loss's mean or sum, as `reduction` says; the metric's
        value), sum and mean None for a metric.  `notes` then says which metrics are not
        well-defined somewhere."""
        out: List[Record] = []
        results = [t.result() for t in self.tallies]
        self.notes = [f"{label} is not well-defined with fewer than two rows: NaN"
                      + (f" for {t.undefined:,} group{'s' * (t.undefined > 1)}"
                         if self.keys is not None else "")
                      for (label, _), t in zip(self.metrics, self.tallies) if t.undefined]
        if self.keys is None:
            for (label, loss), parts in zip(self.losses, self.parts):
                total = math.fsum(s for s, _ in parts)
                weight = math.fsum(d for _, d in parts)
                out.append(self._record({}, label, self.n, weight, total))
            for (label, _), (value, weight, rows) in zip(self.metrics, results):
                out.append(self._metric({}, label, rows, weight, value))
            return out
        sums = [acc.results() for acc in self.groups]
        self.keys.finish()
        for g in self.keys.order():
            key = dict(zip(self.by, self.keys.key(g)))
            for (label, loss), (totals, weights, counts) in zip(self.losses, sums):
                out.append(self._record(key, label, int(counts[g]), float(weights[g]),
                                        float(totals[g])))
            for (label, _), (values, weights, counts) in zip(self.metrics, results):
                out.append(self._metric(key, label, int(counts[g]), float(weights[g]),
                                        float(values[g])))
        return out

    def _record(self, key: Mapping[str, Any], label: str, rows: int, weight: float,
                total: float) -> Record:
        mean = total / weight if weight else math.nan
        record = {**key, "loss": label, "rows": rows, "weight": weight, "sum": total,
                  "mean": mean}
        if self.metrics:
            record["value"] = mean if self.reduction == "mean" else total
        return record

    @staticmethod
    def _metric(key: Mapping[str, Any], label: str, rows: int, weight: float,
                value: float) -> Record:
        return {**key, "loss": label, "rows": rows, "weight": weight, "sum": None,
                "mean": None, "value": value}


# ------------------------------------------------------------------ the inputs of a score
Chunk = Dict[str, NDArray[Any]]             # an input's name ("y_true", ...) -> its rows
_INPUTS = ("y_true", "y_pred", "sample_weight")


class Inputs:
    """Where the rows come from: `batches(n)` yields (values by input name, key columns),
    batches of up to n rows whose inputs have one length; `rows` (None when unknown),
    `size`, `done` (bytes) for the progress bar; `names` says which input is where."""

    rows: Optional[int]
    size: int

    def __init__(self, parts: Sequence[Tuple[Union[NpySource, TableSource], Dict[str, str]]],
                 keys: Optional[TableSource] = None) -> None:
        # parts: (a source, {input name: its column in the source (or "" for .npy)})
        self.parts, self.keyed = list(parts), keys
        names = {k: src.name + (f":{col}" if col and len(parts) > 1 else "")
                 for src, m in parts for k, col in m.items()}
        self.names = {k: names[k] for k in _INPUTS if k in names}
        known = {k: src.rows for src, m in parts for k in m if src.rows is not None}
        if len(set(known.values())) > 1:
            raise self._different({k: v for k, v in known.items()})
        self.rows = next(iter(known.values()), None)
        self.size = sum(src.size for src, _ in parts)

    @property
    def done(self) -> int:
        return sum(src.done for src, _ in self.parts)

    def _different(self, rows: Mapping[str, Optional[int]]) -> ScoreError:
        """The error for inputs of different lengths: `rows` maps an input to its rows
        (None: more than the others)."""
        return ScoreError("inputs of different lengths: " + ", ".join(
            f"{k} ({self.names[k]}) " + ("has more" if rows[k] is None
                                         else f"has {rows[k]:,} rows")
            for k in self.names if k in rows))

    def _stream(self, src: Union[NpySource, TableSource], columns: Dict[str, str],
                n: int) -> Iterator[Tuple[Chunk, List[Any]]]:
        if isinstance(src, NpySource):
            for a in src.chunks(n):
                yield {k: a for k in columns}, []
        else:
            for values, keys in src.batches(n):
                yield {k: values[c] for k, c in columns.items()}, keys

    def batches(self, n: int) -> Iterator[Tuple[Chunk, List[Any]]]:
        if len(self.parts) == 1:
            yield from self._stream(*self.parts[0], n)
            return
        # inputs from several sources: cut each into chunks of exactly n rows, side by side
        streams = [_exact(self._stream(src, m, n), n) for src, m in self.parts]
        done = 0
        while True:
            got = [next(s, None) for s in streams]
            ended = [g is None for g in got]
            if all(ended):
                return
            lengths = {k: len(v) for g in got if g is not None for k, v in g.items()}
            if any(ended) or len(set(lengths.values())) > 1:
                longest = max(lengths.values())
                rows: Dict[str, Optional[int]] = {}
                for (_, m), g in zip(self.parts, got):
                    for k in m:
                        size = len(g[k]) if g is not None else 0
                        rows[k] = None if g is not None and size == longest else done + size
                raise self._different(rows)
            chunk: Chunk = {}
            for g in got:
                chunk.update(g or {})
            done += next(iter(lengths.values()))
            yield chunk, []


def _exact(stream: Iterator[Tuple[Chunk, List[Any]]], n: int) -> Iterator[Chunk]:
    """The chunks of `stream` (key columns dropped) re-cut into chunks of exactly n rows
    (the last one shorter)."""
    held: List[Chunk] = []
    count = 0
    for chunk, _ in stream:
        held.append(chunk)
        count += len(next(iter(chunk.values())))
        while count >= n:
            joined = {k: np.concatenate([c[k] for c in held]) if len(held) > 1 else held[0][k]
                      for k in held[0]}
            yield {k: v[:n] for k, v in joined.items()}
            rest = {k: v[n:] for k, v in joined.items()}
            count -= n
            held = [rest] if count else []
    if count:
        yield {k: np.concatenate([c[k] for c in held]) for k in held[0]}


def _source_parts(specs: Mapping[str, str]) -> List[Tuple[Union[NpySource, TableSource],
                                                           Dict[str, str]]]:
    """The sources of SRC arguments (input name -> SRC): a .npy file each, and one
    TableSource per table file holding every column the inputs take from it (a file is read
    once)."""
    parts: List[Tuple[Union[NpySource, TableSource], Dict[str, str]]] = []
    tables: Dict[str, Dict[str, str]] = {}
    for name, spec in specs.items():
        path, sep, column = spec.rpartition(":")
        if spec.lower().endswith(".npy"):
            src = NpySource(spec)
            src.name = spec
            parts.append((src, {name: ""}))
        elif sep and column and _format_of(path) is not None and not glob.has_magic(path):
            tables.setdefault(path, {})[name] = column
        elif _format_of(spec) is not None:
            raise ScoreError(f"{spec}: name the column, as {spec}:COLUMN")
        else:
            raise ScoreError(f"{spec}: not a .npy, FILE.csv:COLUMN, FILE.parquet:COLUMN or "
                             "FILE.arrow:COLUMN source")
    for path, columns in tables.items():
        parts.append((TableSource(path, list(columns.values())), columns))
    return parts


# ------------------------------------------------------------------------------- the score
class _Bar:
    """A progress bar on stderr: the fraction of the rows (or bytes) done."""

    def __init__(self, inputs: Inputs, stream: Optional[TextIO] = None) -> None:
        self.inputs, self.bar = inputs, ProgressBar(30, stream)

    def update(self, rows_done: int) -> None:
        i = self.inputs
        frac = rows_done / i.rows if i.rows else (i.done / i.size if i.size else 0.0)
        self.bar.draw(frac, f"{frac:6.1%} {rows_done:,} rows")

    def close(self) -> None:
        self.bar.close()


def _feed(scorer: Scorer, inputs: Inputs, chunk_size: int, bar: Optional[_Bar]) -> None:
    """One pass of `inputs` through `scorer`; a ValueError or TypeError of a batch becomes
    the ScoreError naming its file and row."""
    start = 0
    for chunk, keys in inputs.batches(chunk_size):
        try:
            scorer.add(chunk["y_true"], chunk["y_pred"], chunk.get("sample_weight"), keys)
        except (ValueError, TypeError) as e:
            # the message names an input (first) and rows of the chunk: say which file,
            # and number the rows from the start
            message = re.sub(r"\[(\d+)\]", lambda m: f"[{start + int(m.group(1))}]", str(e))
            about = next((inputs.names[k] + ": " for k in inputs.names
                          if message.startswith(k)), "")
            raise ScoreError(about + message) from None
        start += len(chunk["y_pred"])
        if bar:
            bar.update(start)


def run(scorer: Scorer, inputs: Inputs, chunk_size: int = 1 << 20,
        progress: bool = True) -> float:
    """Stream `inputs` through `scorer` (again where a metric asks for another pass:
    `Scorer.again`); return the seconds taken."""
    many = (inputs.rows or 0) > 4 * chunk_size or \
        (inputs.rows is None and inputs.size > 4 * chunk_size * 8)
    bar = _Bar(inputs) if progress and many else None
    t0 = time.perf_counter()
    try:
        _feed(scorer, inputs, chunk_size, bar)
    finally:
        if bar:
            bar.close()
    if scorer.n == 0:
        raise ScoreError("the inputs have no rows: " + ", ".join(
            f"{k} ({v})" for k, v in inputs.names.items()))
    while scorer.again():
        _feed(scorer, inputs, chunk_size, None)
    return time.perf_counter() - t0


class ScoreResult(TypedDict):
    """What ``lossfuse score --json`` prints for one loss over all rows."""

    loss: float                     # the weighted mean or sum
    n: int                          # rows
    seconds: float
    name: str                       # the loss's canonical name
    params: Mapping[str, object]    # its parameters
    reduction: str


class MetricResult(TypedDict):
    """What ``lossfuse score --json`` prints for one metric over all rows."""

    value: float                    # the metric
    n: int                          # rows
    seconds: float
    name: str                       # the metric's name (scikit-learn's)


def _finite(record: Mapping[str, Any], fields: Sequence[str]) -> Dict[str, Any]:
    """`record` for JSON (RFC 8259: no NaN or Infinity): a field of `fields` that is not
    finite is null, and FIELD_nonfinite says which (``"nan"``, ``"inf"`` or ``"-inf"``);
    keys of other types than JSON's are their text."""
    out: Dict[str, Any] = {}
    for k, v in record.items():
        if k in fields and v is not None and not math.isfinite(v):
            out[k] = None
            out[f"{k}_nonfinite"] = repr(float(v))
        elif v is None or isinstance(v, (str, int, float, bool)):
            out[k] = v
        elif isinstance(v, Mapping):
            out[k] = _finite(v, ())
        else:
            out[k] = str(v)
    return out


def to_json(result: Union[ScoreResult, MetricResult]) -> str:
    """`result` as a JSON object (RFC 8259: no NaN or Infinity): a loss (a metric's value)
    that is not finite is ``null``, and ``loss_nonfinite`` (``value_nonfinite``) says which
    (``"nan"``, ``"inf"`` or ``"-inf"``)."""
    return json.dumps(_finite(result, ["loss", "value"]), allow_nan=False)


_FLOATS = ("weight", "sum", "mean", "value")


def table_text(records: Sequence[Record]) -> str:
    """`records` as a table: a header, then a line per record, columns aligned (numbers to
    the right, floats as repr: the shortest text that reads back to the same float)."""
    if not records:
        return ""
    names = list(records[0])
    cells = [[("null" if v is None else repr(v) if isinstance(v, float) else str(v))
              for v in r.values()] for r in records]
    widths = [max(len(n), *(len(c[i]) for c in cells)) for i, n in enumerate(names)]
    right = [any(isinstance(r[n], (int, float)) and not isinstance(r[n], bool) for r in records)
             for n in names]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if r else v.ljust(w)
                         for v, w, r in zip(values, widths, right)).rstrip()
    return "\n".join([line(names)] + [line(c) for c in cells])


def write_records(records: Sequence[Record], path: str) -> None:
    """`records` to a .parquet, .csv or .json file (a JSON array of records)."""
    kind = os.path.splitext(path)[1].lower()
    if kind == ".json":
        with open(path, "w") as f:
            json.dump([_finite(r, _FLOATS) for r in records], f, allow_nan=False)
            f.write("\n")
        return
    pa = _pyarrow(f"writing {path}")
    table = pa.Table.from_pylist(list(records))
    if kind == ".csv":
        import pyarrow.csv as pcsv
        pcsv.write_csv(table, path)
    else:
        import pyarrow.parquet as pq
        pq.write_table(table, path)


_OUTPUTS = (".parquet", ".csv", ".json")


def _param(text: str) -> Tuple[str, Union[int, float]]:
    """``NAME=VALUE`` as (name, number): an int when VALUE is whole digits, else a float
    (numbers as in CSV fields: `_parse_numbers`)."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    if re.fullmatch(r"\s*[+-]?[0-9]+\s*", value):
        return name.strip(), int(value)
    number = _parse_numbers([value])
    if number is None:
        raise argparse.ArgumentTypeError(f"{text!r}: {value!r} is not a number")
    return name.strip(), float(number[0])


def take_positionals(args: argparse.Namespace, extra: List[str]) -> List[str]:
    """LOSS and DATA given after an option (``lossfuse score huber --param delta=2 d.csv``,
    which argparse leaves over): into `args`, where not given before; the rest is
    returned."""
    rest = []
    for word in extra:
        if not word.startswith("-") and args.loss is None:
            args.loss = word
        elif not word.startswith("-") and args.data is None:
            args.data = word
        else:
            rest.append(word)
    return rest


def _plan(args: argparse.Namespace
          ) -> Tuple[List[Tuple[str, lf.Loss]], List[Tuple[str, MetricSpec]], Inputs]:
    """The losses, the metrics and the inputs of a command line."""
    loss, data = args.loss, args.data
    if (args.losses or args.metrics) and data is None and loss is not None and (
            os.path.exists(loss) or glob.has_magic(loss) or _format_of(loss)):
        loss, data = None, loss                       # LOSS left out: the one is DATA
    specs = ([loss] if loss else []) + list(args.losses)
    if not specs and not args.metrics:
        raise UsageError("give a loss: LOSS or --loss (or a metric: --metric)")
    metrics = parse_metrics(args.metrics)
    losses = parse_losses(specs)
    if args.param:
        if not loss:
            raise UsageError("--param is for LOSS (metrics take no parameters); give the "
                             "parameters of --loss as LOSS:NAME=VALUE")
        label, first = losses[0]
        label = ":".join([label] + [f"{k}={v}" for k, v in args.param])
        try:
            losses[0] = (label, lf.get_loss(first.name, **{**first.params, **dict(args.param)}))
        except (ValueError, TypeError) as e:
            raise ScoreError(str(e)) from None
    columns = {"y_true": args.y_true, "y_pred": args.y_pred}
    if args.sample_weight is not None:
        columns["sample_weight"] = args.sample_weight
    if data is None:
        if args.by:
            raise UsageError("--by needs DATA: lossfuse score LOSS DATA --by COL ...")
        return losses, metrics, Inputs(_source_parts(columns))
    src = TableSource(data, list(columns.values()), args.by)
    return losses, metrics, Inputs([(src, columns)], src)


def command(args: argparse.Namespace) -> int:
    """``lossfuse score`` on its parsed arguments (the command line is `lossfuse.__main__`'s):
    print the loss (or a JSON object, or a table) and return 0, or say on one line of stderr
    what is wrong and return 1."""
    if args.output and os.path.splitext(args.output)[1].lower() not in _OUTPUTS:
        args.parser.error(f"argument --output: {args.output}: not a .parquet, .csv or .json "
                          "file")
    if args.output and not args.output.lower().endswith(".json"):
        _pyarrow(f"writing {args.output}")        # said before any work
    try:
        try:
            losses, metrics, inputs = _plan(args)
        except UsageError as e:
            args.parser.error(str(e))
        scorer = Scorer(losses, args.by, metrics, args.reduction)
        seconds = run(scorer, inputs, args.chunk_size, progress=args.progress)
        records = scorer.records()
    except ScoreError as e:
        message = " ".join(str(e).splitlines())     # names from the files may hold newlines
        print(f"lossfuse score: error: {message}", file=sys.stderr)
        return 2 if isinstance(e, UnknownName) else 1
    except MemoryError:
        print(f"lossfuse score: error: out of memory with --chunk-size {args.chunk_size:,}; "
              "give a smaller one", file=sys.stderr)
        return 1
    for note in scorer.notes:
        print(f"lossfuse score: warning: {note}", file=sys.stderr)
    if args.output:
        write_records(records, args.output)
    elif len(records) == 1 and not args.by and metrics:     # one metric: one number too
        r = records[0]
        one: MetricResult = {"value": r["value"], "n": r["rows"], "seconds": seconds,
                             "name": r["loss"]}
        print(to_json(one) if args.json else repr(r["value"]))
    elif len(records) == 1 and not args.by:                 # one number, as it always was
        r = records[0]
        loss = losses[0][1]
        value = r["mean"] if args.reduction == "mean" else r["sum"]
        if args.reduction == "mean" and r["weight"] == 0:
            print("lossfuse score: error: reduction='mean' with sample weights that sum to "
                  "zero", file=sys.stderr)
            return 1
        result: ScoreResult = {"loss": value, "n": r["rows"], "seconds": seconds,
                               "name": loss.name, "params": loss.params,
                               "reduction": args.reduction}
        print(to_json(result) if args.json else repr(value))
    elif args.json:
        print(json.dumps([_finite(r, _FLOATS) for r in records], allow_nan=False))
    else:
        print(table_text(records))
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``lossfuse score ARGS``: `argv` are the arguments after ``score`` (default:
    ``sys.argv[1:]``); returns the exit status."""
    from .__main__ import main as lossfuse
    return lossfuse(["score", *(sys.argv[1:] if argv is None else argv)])


# ------------------------------------------------------------------------- the Python API
def score(data: Any, losses: Union[str, lf.Loss, Sequence[Union[str, lf.Loss]], None] = None,
          *, y_true: str, y_pred: str, sample_weight: Optional[str] = None,
          by: Union[str, Sequence[str], None] = None,
          metrics: Union[str, Sequence[str], None] = None) -> Any:
    """Several losses and metrics over the columns of a table, per group, in one pass.

    Parameters
    ----------
    data : pyarrow.Table, pyarrow.RecordBatch, pyarrow.dataset.Dataset or pandas.DataFrame
        The rows.
    losses : str, Loss or a list of them, optional
        The losses: `Loss` objects, or names as ``lossfuse score`` takes them (``"huber"``,
        ``"huber:delta=2"``, ``"squared_error,absolute_error"``).  May be left out when
        `metrics` are given.
    y_true, y_pred : str
        The columns of the true values and of the predictions.
    sample_weight : str, optional
        The column of the rows' weights (default: every row weighs 1).
    by : str or list of str, optional
        The columns to group by (keys of any type; null is a key of its own).
    metrics : str or list of str, optional
        The metrics of scikit-learn to compute, by name or alias in any case, as ``lossfuse score --metric``
        takes them: ``"r2_score"`` (``"r2"``), ``"explained_variance_score"``
        (``"explained_variance"``), ``"mean_squared_log_error"`` (``"msle"``),
        ``"root_mean_squared_log_error"`` (``"rmsle"``), ``"mean_absolute_percentage_error"``
        (``"mape"``), ``"max_error"``; a comma list for several.  Each is what
        `lossfuse.metrics` gives on the rows (of each group), with scikit-learn's defaults
        (``force_finite=True``); max_error ignores the weights.

    Returns
    -------
    pyarrow.Table or pandas.DataFrame
        Of the kind of `data` (a pyarrow table for pyarrow data): a row per group (in the
        order of the keys) and loss, with the key columns, then ``loss`` (its name as
        given, or the Loss's repr), ``rows``, ``weight`` (the weight of the rows'
        elements: their number without weights), ``sum`` (of ``w * loss``) and ``mean``
        (sum over weight; NaN for a weight of zero).  With `metrics`, a row per group and
        metric after the losses' (``loss``: the metric's name; ``sum`` and ``mean`` null)
        and a column ``value``: a loss's mean, a metric's value.

    Raises
    ------
    ValueError
        For a column that `data` lacks, a null in a scored column, values outside a loss's
        or a metric's domain (for a metric: NaN or infinity anywhere), an unknown loss or
        metric, neither losses nor metrics.

    Warns
    -----
    UndefinedMetricWarning
        Once per metric not well-defined somewhere: R^2 of a group (or data) of fewer
        than two rows, whose value is NaN.
    TypeError
        For `data` of another type, a scored column that is not of numbers.

    Notes
    -----
    A group's sums are kept in twice float64's precision and rounded once (see
    `Loss.loss`'s ``groups``): the same bits however the rows are batched.  Without `by`,
    each loss is one sum over all rows.  Per group, the sums of R^2 and the explained
    variance are shifted by the group's first value of weight other than 0: exact to
    rounding unless that value is extreme within its group, and then within about the
    group's rows times float64's epsilon, relative.

    Examples
    --------
    >>> import pandas as pd, lossfuse as lf
    >>> df = pd.DataFrame({"y": [0.0, 1.0, 2.0], "p": [0.5, 1.0, 1.0], "g": ["a", "a", "b"]})
    >>> lf.score(df, ["squared_error", "absolute_error"], y_true="y", y_pred="p", by="g")
       g            loss  rows  weight   sum   mean
    0  a   squared_error     2     2.0  0.25  0.125
    1  a  absolute_error     2     2.0  0.50  0.250
    2  b   squared_error     1     1.0  1.00  1.000
    3  b  absolute_error     1     1.0  1.00  1.000
    """
    keys = [by] if isinstance(by, str) else list(by or [])
    if losses is None:
        items: List[Any] = []
    elif isinstance(losses, (str, lf.Loss)):
        items = [losses]
    elif isinstance(losses, Iterable):
        items = list(losses)
    else:
        raise TypeError(f"losses must be a name, a Loss or a list of them, not "
                        f"{type(losses).__name__}")
    parsed: List[Tuple[str, lf.Loss]] = []
    for item in items:
        if isinstance(item, lf.Loss):
            parsed.append((repr(item) if item.params else item.name, item))
        elif isinstance(item, str):
            try:
                parsed += parse_losses([item])
            except ScoreError as e:
                raise ValueError(str(e)) from None
        else:
            raise TypeError(f"losses must be names or Loss objects, not {type(item).__name__}")
    if isinstance(metrics, str):
        metrics = [metrics]
    elif metrics is not None and not (isinstance(metrics, Iterable)
                                      and all(isinstance(m, str) for m in metrics)):
        raise TypeError(f"metrics must be a name or a list of names, not {metrics!r}")
    try:
        chosen = parse_metrics(metrics or [])
    except ScoreError as e:
        raise ValueError(str(e)) from None
    if not parsed and not chosen:
        raise ValueError("give a loss or a metric: losses and metrics are empty")
    columns = {"y_true": y_true, "y_pred": y_pred}
    if sample_weight is not None:
        columns["sample_weight"] = sample_weight
    pandas = type(data).__module__.startswith("pandas") and hasattr(data, "columns")
    pa: Any = _pyarrow("lossfuse.score") if keys or not pandas else None
    needed = list(dict.fromkeys(list(columns.values()) + keys))
    if pandas:
        names = [str(c) for c in data.columns]
    elif isinstance(data, (pa.Table, pa.RecordBatch)):
        names = data.schema.names
    elif type(data).__module__.startswith("pyarrow") and hasattr(data, "to_batches"):
        names = data.schema.names           # a pyarrow.dataset.Dataset
    else:
        raise TypeError("data must be a pyarrow Table, RecordBatch or Dataset or a pandas "
                        f"DataFrame, not {type(data).__name__}")
    for c in list(columns.values()) + keys:
        if c not in names:
            raise ValueError(f"data has no column {c!r} (columns: {', '.join(names[:20])})")
    scorer = Scorer(parsed, keys, chosen)

    def batches() -> Iterator[Tuple[Dict[str, NDArray[Any]], List[Any]]]:
        if pandas:
            yield ({k: data[c].to_numpy() for k, c in columns.items()},
                   [pa.array(data[k], from_pandas=True) for k in keys])
            return
        for batch in ([data] if isinstance(data, pa.RecordBatch) else
                      data.select(needed).to_batches() if isinstance(data, pa.Table) else
                      data.to_batches(columns=needed)):
            values = {}
            for k, c in columns.items():
                column = batch.column(c)
                if column.null_count:
                    raise ValueError(f"column {c!r} holds a null")
                values[k] = _numpy(column)
            yield values, [batch.column(k) for k in keys]

    def feed() -> None:
        for values, key_columns in batches():
            scorer.add(values["y_true"], values["y_pred"], values.get("sample_weight"),
                       key_columns)
    feed()
    while scorer.again():             # another pass, where a metric's totals cancelled
        feed()
    records = scorer.records()
    for note in scorer.notes:
        _undefined(note, stacklevel=2)
    return type(data)(records) if pandas else pa.Table.from_pylist(records)
