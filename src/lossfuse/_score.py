"""``lossfuse score``: a loss over files too large for memory, streamed in chunks.

    lossfuse score LOSS --y-true SRC --y-pred SRC [--sample-weight SRC]
                   [--param NAME=VALUE ...] [--reduction mean|sum] [--chunk-size N] [--json]

SRC is a ``.npy`` file, ``FILE.csv:COLUMN`` (a header row names the columns) or
``FILE.parquet:COLUMN`` (needs pyarrow).  The inputs are read ``--chunk-size`` rows at a time
(``.npy`` through plain reads, not a memory map, so that the pages read do not stay in the
process), each chunk is one kernel call, and the chunks' sums (and weights) are added exactly
(``math.fsum``): the result equals ``get_loss(LOSS).loss(...)`` on the whole arrays to within
a few ulp, whatever the file size, in memory proportional to the chunk.  A progress bar goes
to stderr when the input spans more than a few chunks.  Wrong input -- a missing file, an
unknown column, inputs of different lengths, values outside the loss's domain -- gets one line
on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
import sys
import time
from typing import Iterator, Optional

import numpy as np

import lossfuse as lf
from ._api import _OP_LOSS


class ScoreError(Exception):
    """Wrong input: reported as one line on stderr, exit code 1."""


# ---------------------------------------------------------------------------- the sources
class Source:
    """Chunks of rows of one input: `rows` (None when unknown up front), `size` in bytes (for
    the progress of sources whose rows are unknown), `chunks(n)` yields arrays of up to n
    rows, `done` the bytes read so far."""

    rows: Optional[int] = None
    size: int = 0
    done: int = 0

    def chunks(self, n: int) -> Iterator[np.ndarray]:
        raise NotImplementedError


class NpySource(Source):
    def __init__(self, path: str):
        self.path = path
        try:
            with open(path, "rb") as f:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
                elif version == (2, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
                else:
                    raise ValueError(f".npy format version {version} (1.0 and 2.0 are read)")
                self.offset = f.tell()
        except OSError as e:
            raise ScoreError(f"cannot read {path}: {e.strerror or e}") from None
        except ValueError as e:
            raise ScoreError(f"{path} is not a .npy file: {e}") from None
        if dtype.hasobject:
            raise ScoreError(f"{path} holds Python objects, not numbers")
        if fortran and len(shape) > 1:
            raise ScoreError(f"{path} is in Fortran order; save it in C order")
        if len(shape) == 0:
            raise ScoreError(f"{path} holds a scalar, not an array")
        self.shape, self.dtype = tuple(shape), dtype
        self.rows = shape[0]
        self.row_items = int(np.prod(shape[1:], dtype=np.int64))
        self.size = self.rows * self.row_items * dtype.itemsize

    def chunks(self, n):
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            left = self.rows
            while left > 0:
                k = min(n, left)
                a = np.fromfile(f, dtype=self.dtype, count=k * self.row_items)
                if a.size != k * self.row_items:
                    raise ScoreError(f"{self.path} is truncated: {self.rows} rows announced")
                self.done += a.nbytes
                left -= k
                yield a.reshape((k,) + self.shape[1:])


class CsvSource(Source):
    def __init__(self, path: str, column: str):
        self.path, self.column = path, column
        try:
            self.size = os.path.getsize(path)
            with open(path, newline="") as f:
                header = next(csv.reader(f), None)
        except OSError as e:
            raise ScoreError(f"cannot read {path}: {e.strerror or e}") from None
        if not header:
            raise ScoreError(f"{path} is empty: a header row naming the columns is needed")
        header = [h.strip() for h in header]
        if column not in header:
            raise ScoreError(f"{path} has no column {column!r} (columns: {', '.join(header)})")
        self.index = header.index(column)

    def _lines(self, f):
        for line in f:
            self.done += len(line)          # characters: bytes for ASCII, near enough
            yield line

    def chunks(self, n):
        with open(self.path, newline="") as f:
            reader = csv.reader(self._lines(f))
            next(reader)
            line = 1
            while True:
                values = []
                for row in reader:
                    line += 1
                    try:
                        values.append(float(row[self.index]))
                    except (IndexError, ValueError):
                        cell = row[self.index] if self.index < len(row) else "nothing"
                        raise ScoreError(f"{self.path}, line {line}, column {self.column!r}: "
                                         f"{cell!r} is not a number") from None
                    if len(values) == n:
                        break
                if not values:
                    return
                yield np.array(values)


class ParquetSource(Source):
    def __init__(self, path: str, column: str):
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise ScoreError("reading .parquet needs pyarrow (pip install pyarrow)") from None
        self.path, self.column = path, column
        try:
            self.file = pq.ParquetFile(path)
        except OSError as e:
            raise ScoreError(f"cannot read {path}: {e}") from None
        except Exception as e:            # noqa: BLE001 -- pyarrow's errors for bad files
            raise ScoreError(f"{path} is not a Parquet file: {e}") from None
        names = self.file.schema_arrow.names
        if column not in names:
            raise ScoreError(f"{path} has no column {column!r} (columns: {', '.join(names)})")
        self.rows = self.file.metadata.num_rows

    def chunks(self, n):
        for batch in self.file.iter_batches(batch_size=n, columns=[self.column]):
            a = batch.column(0).to_numpy(zero_copy_only=False)
            if a.dtype == object:
                raise ScoreError(f"{self.path}: column {self.column!r} is not numeric")
            yield a


def source(spec: str) -> Source:
    """A Source from SRC: ``X.npy``, ``X.csv:COLUMN`` or ``X.parquet:COLUMN``."""
    if spec.lower().endswith(".npy"):
        return NpySource(spec)
    path, sep, column = spec.rpartition(":")
    low = path.lower()
    if sep and column and low.endswith((".csv", ".parquet", ".pq")):
        return CsvSource(path, column) if low.endswith(".csv") else ParquetSource(path, column)
    if spec.lower().endswith((".csv", ".parquet", ".pq")):
        raise ScoreError(f"{spec}: name the column, as {spec}:COLUMN")
    raise ScoreError(f"{spec}: not a .npy, FILE.csv:COLUMN or FILE.parquet:COLUMN source")


# ------------------------------------------------------------------------------- scoring
class _Bar:
    """A progress bar on stderr: the fraction done of the largest known total."""

    def __init__(self, sources, stream=None):
        self.sources, self.stream = sources, stream or sys.stderr
        self.shown = False

    def update(self, rows_done: int) -> None:
        s = self.sources[0]
        if s.rows:
            frac = rows_done / s.rows
        else:
            frac = s.done / s.size if s.size else 0.0
        width = 30
        fill = int(width * min(frac, 1.0))
        self.stream.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {frac:6.1%} "
                          f"{rows_done:,} rows")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()


def score(loss, sources: dict, reduction: str = "mean", chunk_size: int = 1 << 20,
          progress: bool = True) -> dict:
    """Stream `sources` ("y_true", "y_pred", optionally "sample_weight") through `loss`."""
    names = list(sources)
    known = {k: s.rows for k, s in sources.items() if s.rows is not None}
    if len(set(known.values())) > 1:
        raise ScoreError("inputs of different lengths: "
                         + ", ".join(f"{k} has {v:,} rows" for k, v in known.items()))
    many = max(list(known.values()) + [0]) > 4 * chunk_size or any(
        s.rows is None and s.size > 4 * chunk_size * 8 for s in sources.values())
    bar = _Bar(list(sources.values())) if progress and many else None
    sums, weights, n = [], [], 0
    t0 = time.perf_counter()
    iters = {k: sources[k].chunks(chunk_size) for k in names}
    try:
        while True:
            got = {k: next(it, None) for k, it in iters.items()}
            ended = [k for k, v in got.items() if v is None]
            if ended:
                if len(ended) != len(names):
                    rows = {k: n + (0 if got[k] is None else len(got[k])) for k in names}
                    raise ScoreError("inputs of different lengths: " + ", ".join(
                        f"{k} ended after {v:,} rows" if k in ended else f"{k} has more"
                        for k, v in rows.items()))
                break
            longest = max(len(v) for v in got.values())
            if any(len(v) != longest for v in got.values()):
                raise ScoreError("inputs of different lengths: " + ", ".join(
                    f"{k} has {n + len(v):,} rows" if len(v) < longest else f"{k} has more"
                    for k, v in got.items()))
            y, p, w = got["y_true"], got["y_pred"], got.get("sample_weight")
            try:          # the chunk's loss sum and what "mean" divides it by: one call
                (total, denominator), _ = loss._sum_and_denominator(_OP_LOSS, y, p, w)
            except (ValueError, TypeError) as e:      # indices in the message: of the files
                raise ScoreError(re.sub(r"\[(\d+)\]", lambda m: f"[{n + int(m.group(1))}]",
                                        str(e))) from None
            sums.append(total)
            weights.append(denominator)
            n += len(p)
            if bar:
                bar.update(n)
    finally:
        if bar:
            bar.close()
    if n == 0:
        raise ScoreError("the inputs are empty")
    total = math.fsum(sums)
    if reduction == "mean":
        denominator = math.fsum(weights)
        if denominator == 0:
            raise ScoreError("reduction='mean' with sample weights that sum to zero")
        total /= denominator
    return {"loss": total, "n": n, "seconds": time.perf_counter() - t0, "name": loss.name,
            "params": loss.params, "reduction": reduction}


def _param(text: str):
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    try:
        return name, (int(value) if value.lstrip("-").isdigit() else float(value))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: {value!r} is not a number") from None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="lossfuse score", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("loss", help="a loss name (lossfuse.available_losses(), or an alias)")
    ap.add_argument("--y-true", required=True, metavar="SRC")
    ap.add_argument("--y-pred", required=True, metavar="SRC")
    ap.add_argument("--sample-weight", metavar="SRC")
    ap.add_argument("--param", action="append", type=_param, default=[], metavar="NAME=VALUE",
                    help="a parameter of the loss (repeatable), e.g. --param delta=2")
    ap.add_argument("--reduction", choices=["mean", "sum"], default="mean")
    ap.add_argument("--chunk-size", type=int, default=1 << 20, metavar="N",
                    help="rows per chunk (default 1048576)")
    ap.add_argument("--json", action="store_true",
                    help="print a JSON object (loss, n, seconds, ...) instead of the loss")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    args = ap.parse_args(argv)
    try:
        if args.chunk_size < 1:
            raise ScoreError(f"--chunk-size must be >= 1, got {args.chunk_size}")
        try:
            loss = lf.get_loss(args.loss, **dict(args.param))
        except (ValueError, TypeError) as e:
            raise ScoreError(str(e)) from None
        sources = {"y_true": source(args.y_true), "y_pred": source(args.y_pred)}
        if args.sample_weight:
            sources["sample_weight"] = source(args.sample_weight)
        result = score(loss, sources, args.reduction, args.chunk_size,
                       progress=not args.no_progress)
    except ScoreError as e:
        print(f"lossfuse score: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lossfuse score: interrupted", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(result))
    else:
        print(repr(result["loss"]))
    return 0
