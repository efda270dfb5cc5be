"""``lossfuse score``: a loss over files too large for memory, streamed in chunks.

    lossfuse score LOSS --y-true SRC --y-pred SRC [--sample-weight SRC]
                   [--param NAME=VALUE ...] [--reduction mean|sum] [--chunk-size N] [--json]

The options, their help and their checks are defined in `lossfuse.__main__`; this module reads
the sources and scores them.  SRC is a ``.npy`` file, ``FILE.csv:COLUMN`` (a header row names
the columns) or ``FILE.parquet:COLUMN`` (needs pyarrow).  The inputs are read ``--chunk-size``
rows at a time (``.npy`` through plain reads, not a memory map, so that the pages read do not
stay in the process), each chunk is one kernel call, and the chunks' sums (and weights) are
added exactly (``math.fsum``): the result equals ``get_loss(LOSS).loss(...)`` on the whole
arrays to within a few ulp, whatever the file size, in memory proportional to the chunk.  A
progress bar goes to stderr, when it is a terminal, if the input spans more than a few chunks.
Wrong input -- a missing or malformed file, an unknown column, a field that is not a number,
inputs of different lengths, values outside the loss's domain -- gets one line on stderr and
exit code 1.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import inspect
import io
import itertools
import json
import math
import os
import re
import stat
import sys
import time
import tokenize
import warnings
from typing import (TYPE_CHECKING, Any, Iterable, Iterator, List, Mapping, Optional, Sequence,
                    TextIO, Tuple, Type, TypedDict, Union)

import numpy as np
from numpy.typing import NDArray

import lossfuse as lf
from ._api import _OP_LOSS
from ._optional import import_optional
from ._progress import ProgressBar

if TYPE_CHECKING:
    from _csv import Reader as CsvReader


class ScoreError(Exception):
    """Wrong input: reported as one line on stderr, exit code 1."""


# A CSV line this long (in characters) is refused rather than held in memory whole.
_LINE_LIMIT = 1 << 24
# CSV fields are converted to numbers this many rows at a time.
_CSV_BLOCK = 1 << 16
# The largest --chunk-size (pyarrow's batch size is a C long).
_CHUNK_LIMIT = 1 << 40
# What numpy's .npy header reader raises on a malformed header: it evaluates the header's text
# as a Python literal and builds a dtype from it.
_NPY_HEADER_ERRORS = (ValueError, TypeError, IndexError, SyntaxError, tokenize.TokenError,
                      RecursionError, MemoryError)


def _reason(error: BaseException, limit: int = 200) -> str:
    """A library's error message, on one line and at most `limit` characters."""
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _shown(cell: str, limit: int = 40) -> str:
    """`cell` as it is quoted in a message: its repr, shortened."""
    return repr(cell) if len(cell) <= limit else repr(cell[:limit]) + "..."


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


def _first_not_a_number(cells: Sequence[str]) -> int:
    """The index of the first of `cells` that `_parse_numbers` refuses (an error path: blocks
    of cells first, then the cells of the block that fails one by one)."""
    block = 4096
    for start in range(0, len(cells), block):
        part = cells[start:start + block]
        if _parse_numbers(part) is None:
            return start + next(i for i, c in enumerate(part) if _parse_numbers([c]) is None)
    raise AssertionError("every cell is a number")


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


class CsvSource(Source):
    """A column of a CSV file: UTF-8 (a byte order mark is skipped), a header row naming
    the columns, a comma between fields, double quotes around fields that need them, every
    row as many fields as the header, blank lines skipped, each field of the column a number
    (`_parse_numbers`)."""

    def __init__(self, path: str, column: str) -> None:
        self.path, self.column = path, column
        with self._reader() as (f, reader):
            self.size = os.fstat(f.fileno()).st_size
            self.header = self._header(reader)
        self.index = _column_index(path, self.header, column)

    @contextlib.contextmanager
    def _reader(self) -> Iterator[Tuple[io.TextIOWrapper[io.BufferedReader], CsvReader]]:
        """The file, open, and a CSV reader of it; every read and format error of the file
        in the block becomes a ScoreError naming the line."""
        try:
            with io.TextIOWrapper(_open(self.path), encoding="utf-8-sig", newline="") as f:
                reader = csv.reader(self._lines(f), strict=True)
                try:
                    yield f, reader
                except csv.Error as e:
                    why = ("the file ends inside a quoted field"
                           if str(e) == "unexpected end of data" else str(e))
                    raise ScoreError(f"{self.path}, line {reader.line_num}: {why}") from None
        except OSError as e:
            raise _cannot_read(self.path, e) from None
        except UnicodeDecodeError:
            raise ScoreError(self._not_utf8()) from None

    def _lines(self, f: TextIO) -> Iterator[str]:
        """The lines of `f`, each read with a limit: a NUL byte or a line of _LINE_LIMIT
        characters is an error (not a text table)."""
        lines = iter(functools.partial(f.readline, _LINE_LIMIT), "")
        for number, line in enumerate(lines, 1):
            if len(line) == _LINE_LIMIT and line[-1] not in "\r\n":
                raise ScoreError(f"{self.path}, line {number}: longer than "
                                 f"{_LINE_LIMIT:,} characters")
            if "\0" in line:
                raise ScoreError(f"{self.path}, line {number}: a NUL byte (not a text file?)")
            yield line

    def _header(self, reader: Iterable[List[str]]) -> List[str]:
        """The column names: the first row that is not blank, each name stripped."""
        header = next(filter(None, reader), None)
        if header is None:
            raise ScoreError(f"{self.path} is empty: a header row naming the columns is "
                             "needed")
        return [h.strip() for h in header]

    def _not_utf8(self) -> str:
        """What to say of a file that is not UTF-8: the line and the byte (read again)."""
        try:
            with open(self.path, "rb") as f:
                lines = iter(functools.partial(f.readline, 4 * _LINE_LIMIT), b"")
                for number, line in enumerate(lines, 1):
                    try:
                        line.decode("utf-8")
                    except UnicodeDecodeError as e:
                        return (f"{self.path}, line {number}: byte {line[e.start]:#04x} is not "
                                "UTF-8 text; save the file as UTF-8")
        except OSError:
            pass
        return f"{self.path} is not UTF-8 text; save the file as UTF-8"

    def _line_of(self, record: int) -> int:
        """The line on which data row `record` (from 0) ends: the file read again (an error
        path)."""
        with self._reader() as (f, reader):
            self._header(reader)
            next(itertools.islice(filter(None, reader), record, None), None)
            return reader.line_num

    def _numbers(self, rows: Iterator[List[str]], reader: CsvReader, k: int,
                 record: int) -> NDArray[np.float64]:
        """The column's numbers in the next `k` of `rows` (fewer at the end), data rows
        `record` on."""
        width = len(self.header)
        cells: List[str] = []
        for row in itertools.islice(rows, k):
            if len(row) != width:
                raise ScoreError(f"{self.path}, line {reader.line_num}: {len(row)} field"
                                 f"{'s' * (len(row) != 1)}, the header has {width}")
            cells.append(row[self.index])
        values = _parse_numbers(cells)
        if values is None:
            i = _first_not_a_number(cells)
            raise ScoreError(f"{self.path}, line {self._line_of(record + i)}, column "
                             f"{self.column!r}: {_shown(cells[i])} is not a number")
        return values

    def chunks(self, n: int) -> Iterator[NDArray[Any]]:
        with self._reader() as (f, reader):
            if self._header(reader) != self.header:
                raise ScoreError(f"{self.path} changed while being read")
            rows = filter(None, reader)                    # blank lines are skipped
            record = 0                                     # data rows read
            while True:
                # strings of a block of rows at a time: a chunk is held as floats only
                parts: List[NDArray[np.float64]] = []
                left = n
                while left:
                    values = self._numbers(rows, reader, min(left, _CSV_BLOCK), record)
                    if not len(values):
                        break
                    parts.append(values)
                    record += len(values)
                    left -= len(values)
                self.done = f.buffer.tell()
                if not parts:
                    break
                yield parts[0] if len(parts) == 1 else np.concatenate(parts)
            if self.done != self.size or os.fstat(f.fileno()).st_size != self.size:
                raise ScoreError(f"{self.path} changed while being read")


class ParquetSource(Source):
    """A numeric column of a Parquet file, without nulls; page checksums, where the file
    has them, are verified."""

    rows: int

    def __init__(self, path: str, column: str) -> None:
        pq = import_optional("pyarrow.parquet", "reading .parquet")
        pa = import_optional("pyarrow", "reading .parquet")     # imported with pyarrow.parquet
        self.path, self.column = path, column
        # what pyarrow raises on a bad file (UnicodeDecodeError: names that are not UTF-8)
        self.errors: Tuple[Type[Exception], ...] = (OSError, pa.ArrowException,
                                                    UnicodeDecodeError)
        checksums = {"page_checksum_verification": True} if "page_checksum_verification" in \
            inspect.signature(pq.ParquetFile).parameters else {}   # pyarrow >= 14
        self.handle = _open(path)        # pyarrow's own errors for a path are not the OS's
        try:
            self.file = pq.ParquetFile(self.handle, **checksums)
            names = self.file.schema_arrow.names
            self.rows = self.file.metadata.num_rows
        except self.errors as e:
            self.handle.close()
            raise ScoreError(f"{path} is not a Parquet file: {_reason(e)}") from None
        _column_index(path, names, column)
        if self.rows < 0:
            raise ScoreError(f"{path} is not a Parquet file: its metadata says "
                             f"{self.rows:,} rows")

    def chunks(self, n: int) -> Iterator[NDArray[Any]]:
        done = 0
        with self.handle:
            try:
                for batch in self.file.iter_batches(batch_size=n, columns=[self.column]):
                    values = batch.column(0)
                    if values.null_count:
                        first = int(np.argmax(values.is_null().to_numpy(zero_copy_only=False)))
                        raise ScoreError(f"{self.path}, row {done + first:,}, column "
                                         f"{self.column!r}: a missing value (null)")
                    a = values.to_numpy(zero_copy_only=False)
                    _numeric(f"{self.path}: column {self.column!r}", a.dtype)
                    done += len(a)
                    yield a
            except self.errors as e:
                raise ScoreError(f"{self.path}: cannot read column {self.column!r} after row "
                                 f"{done:,}: {_reason(e)}") from None
        if done != self.rows:
            raise ScoreError(f"{self.path} holds {done:,} rows in column {self.column!r}, "
                             f"its metadata says {self.rows:,}")


def source(spec: str) -> Source:
    """A Source from SRC: ``X.npy``, ``X.csv:COLUMN`` or ``X.parquet:COLUMN``."""
    path, sep, column = spec.rpartition(":")
    low = path.lower()
    s: Source
    if spec.lower().endswith(".npy"):
        s = NpySource(spec)
    elif sep and column and low.endswith(".csv"):
        s = CsvSource(path, column)
    elif sep and column and low.endswith((".parquet", ".pq")):
        s = ParquetSource(path, column)
    elif spec.lower().endswith((".csv", ".parquet", ".pq")):
        raise ScoreError(f"{spec}: name the column, as {spec}:COLUMN")
    else:
        raise ScoreError(f"{spec}: not a .npy, FILE.csv:COLUMN or FILE.parquet:COLUMN source")
    s.name = spec
    return s


# ------------------------------------------------------------------------------- scoring
class _Bar:
    """A progress bar on stderr: the fraction done of the largest known total."""

    def __init__(self, sources: Sequence[Source], stream: Optional[TextIO] = None) -> None:
        self.sources, self.bar = sources, ProgressBar(30, stream)

    def update(self, rows_done: int) -> None:
        s = self.sources[0]
        if s.rows:
            frac = rows_done / s.rows
        else:
            frac = s.done / s.size if s.size else 0.0
        self.bar.draw(frac, f"{frac:6.1%} {rows_done:,} rows")

    def close(self) -> None:
        self.bar.close()


def _different_lengths(sources: Mapping[str, Source],
                       rows: Mapping[str, Optional[int]]) -> ScoreError:
    """The error for inputs of different lengths: `rows` maps an input to its rows (None: more
    than the others)."""
    return ScoreError("inputs of different lengths: " + ", ".join(
        f"{k} ({sources[k].name}) " + ("has more" if v is None else f"has {v:,} rows")
        for k, v in rows.items()))


class ScoreResult(TypedDict):
    """What `score` returns: the fields of ``lossfuse score --json``."""

    loss: float                     # the weighted mean or sum
    n: int                          # rows
    seconds: float
    name: str                       # the loss's canonical name
    params: Mapping[str, object]    # its parameters
    reduction: str


def score(loss: lf.Loss, sources: Mapping[str, Source], reduction: str = "mean",
          chunk_size: int = 1 << 20, progress: bool = True) -> ScoreResult:
    """Stream `sources` ("y_true", "y_pred", optionally "sample_weight") through `loss`."""
    names = list(sources)
    known = {k: s.rows for k, s in sources.items() if s.rows is not None}
    if len(set(known.values())) > 1:
        raise _different_lengths(sources, known)
    many = max(list(known.values()) + [0]) > 4 * chunk_size or any(
        s.rows is None and s.size > 4 * chunk_size * 8 for s in sources.values())
    bar = _Bar(list(sources.values())) if progress and many else None
    sums: List[float] = []
    weights: List[float] = []
    n = 0
    t0 = time.perf_counter()
    iters = {k: sources[k].chunks(chunk_size) for k in names}
    try:
        while True:
            chunks = {k: next(it, None) for k, it in iters.items()}
            got = {k: v for k, v in chunks.items() if v is not None}
            if len(got) < len(chunks):                      # an input ended
                if got:
                    raise _different_lengths(sources, {k: None if k in got else n
                                                       for k in chunks})
                break
            longest = max(len(v) for v in got.values())
            if any(len(v) != longest for v in got.values()):
                raise _different_lengths(
                    sources, {k: n + len(v) if len(v) < longest else None
                              for k, v in got.items()})
            y, p, w = got["y_true"], got["y_pred"], got.get("sample_weight")
            try:          # the chunk's loss sum and what "mean" divides it by: one call
                (total, denominator), _ = loss._sum_and_denominator(_OP_LOSS, y, p, w)
            except (ValueError, TypeError) as e:
                # the message names an input (first) and rows of the chunk: say which file,
                # and number the rows in the file
                message = re.sub(r"\[(\d+)\]", lambda m: f"[{n + int(m.group(1))}]", str(e))
                about = next((sources[k].name + ": " for k in names if message.startswith(k)), "")
                raise ScoreError(about + message) from None
            sums.append(total)
            weights.append(denominator)
            n += len(p)
            if bar:
                bar.update(n)
    finally:
        if bar:
            bar.close()
    if n == 0:
        raise ScoreError("the inputs have no rows: "
                         + ", ".join(f"{k} ({s.name})" for k, s in sources.items()))
    total = math.fsum(sums)
    if reduction == "mean":
        denominator = math.fsum(weights)
        if denominator == 0:
            raise ScoreError("reduction='mean' with sample weights that sum to zero")
        total /= denominator
    return {"loss": total, "n": n, "seconds": time.perf_counter() - t0, "name": loss.name,
            "params": loss.params, "reduction": reduction}


def to_json(result: ScoreResult) -> str:
    """`result` as a JSON object (RFC 8259: no NaN or Infinity): a loss that is not finite is
    ``null``, and ``loss_nonfinite`` says which (``"nan"``, ``"inf"`` or ``"-inf"``)."""
    loss = result["loss"]
    shown: Mapping[str, object] = result
    if not math.isfinite(loss):
        shown = {**result, "loss": None, "loss_nonfinite": repr(loss)}
    return json.dumps(shown, allow_nan=False)


def _param(text: str) -> Tuple[str, Union[int, float]]:
    """``NAME=VALUE`` as (name, number): an int when VALUE is whole digits, else a float
    (numbers as in CSV fields: `_parse_numbers`)."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    if re.fullmatch(r"\s*[+-]?[0-9]+\s*", value):
        return name, int(value)
    number = _parse_numbers([value])
    if number is None:
        raise argparse.ArgumentTypeError(f"{text!r}: {value!r} is not a number")
    return name, float(number[0])


def command(args: argparse.Namespace) -> int:
    """``lossfuse score`` on its parsed arguments (the command line is `lossfuse.__main__`'s):
    print the loss (or a JSON object) and return 0, or say on one line of stderr what is wrong
    and return 1."""
    try:
        try:
            loss = lf.get_loss(args.loss, **dict(args.param))
        except (ValueError, TypeError) as e:
            raise ScoreError(str(e)) from None
        sources = {"y_true": source(args.y_true), "y_pred": source(args.y_pred)}
        if args.sample_weight is not None:
            sources["sample_weight"] = source(args.sample_weight)
        result = score(loss, sources, args.reduction, args.chunk_size, progress=args.progress)
    except ScoreError as e:
        message = " ".join(str(e).splitlines())     # names from the files may hold newlines
        print(f"lossfuse score: error: {message}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"lossfuse score: error: out of memory with --chunk-size {args.chunk_size:,}; "
              "give a smaller one", file=sys.stderr)
        return 1
    print(to_json(result) if args.json else repr(result["loss"]))
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``lossfuse score ARGS``: `argv` are the arguments after ``score`` (default:
    ``sys.argv[1:]``); returns the exit status."""
    from .__main__ import main as lossfuse
    return lossfuse(["score", *(sys.argv[1:] if argv is None else argv)])
