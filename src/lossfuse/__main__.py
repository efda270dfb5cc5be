"""The ``lossfuse`` command (also ``python -m lossfuse``): ``lossfuse bench`` and ``lossfuse
score``.

The command line is defined here, in one place: the parsers, their help and the checks of
option values.  Each command's work is done by its module, given the parsed arguments:
``_bench.command``, ``_score.command`` and ``_load.command`` (``lossfuse bench --load``).
Whatever a command raises that the user can act on is said here on one line of stderr:
a missing optional dependency (exit status 2), an OS error, a lack of memory (1), an
interrupt (130); a closed stdout (``lossfuse bench | head``) ends the command quietly.
"""

from __future__ import annotations

import argparse
import decimal
import os
import re
import shutil
import sys
import textwrap
from typing import Callable, Dict, List, Optional, Protocol, Sequence, Tuple

import lossfuse as lf
from . import _bench, _load, _score
from ._bench_report import short_size
from ._losses import SPECS
from ._optional import MissingDependencyError
from ._threads import MAX_THREADS

HELP_WIDTH = 80        # the widest help, in columns (narrower on a narrower terminal)
LARGEST = 1 << 40      # the largest count an option takes (sizes, rounds, threads, chunks)


def _exit_status(failure: str) -> str:
    """The epilog section on exit statuses: 1 for `failure`."""
    return ("exit status:\n  0  success\n" + textwrap.fill(
        f"1  {failure}", HELP_WIDTH - 2, initial_indent="  ", subsequent_indent="     ")
        + "\n  2  wrong command line, or a missing optional dependency")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's help at most HELP_WIDTH columns wide, the description and epilog as they are
    written, and "(default: ...)" after the help of every option with a value whose default
    its help does not state already."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: Optional[int] = None, **kwargs: bool) -> None:
        # kwargs: those of newer Pythons' argparse (3.14: color), passed on
        if width is None:
            width = min(shutil.get_terminal_size().columns, HELP_WIDTH) - 2
        super().__init__(prog, indent_increment, max_help_position, width, **kwargs)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if ("(default" in text or not action.option_strings or action.nargs == 0
                or action.default in (None, argparse.SUPPRESS)):
            return text
        return text + " (default: %(default)s)"


# ------------------------------------------------------------------ the values of options
# Numbers are written as decimals, with an exponent if wished (1e6): no nan or inf, no
# digit separators, no digits of other scripts.
_DECIMAL = re.compile(r"\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*")


def _decimal(text: str) -> decimal.Decimal:
    if not _DECIMAL.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number")
    return decimal.Decimal(text.strip())


def count(high: int = LARGEST) -> Callable[[str], int]:
    """An argparse type: a whole number from 1 to `high`, in digits or with an exponent
    (``1e6``)."""
    def parse(text: str) -> int:
        value = _decimal(text)
        if value != value.to_integral_value():
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
        if not 1 <= value <= high:
            raise argparse.ArgumentTypeError(
                f"must be a whole number from 1 to {high:,}, got {text.strip()}")
        return int(value)
    return parse


def seconds(text: str) -> float:
    """An argparse type: a number of seconds, more than 0."""
    value = float(_decimal(text))
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds > 0, got {text.strip()}")
    return value


def fraction(text: str) -> float:
    """An argparse type: a number from 0 to 1."""
    value = float(_decimal(text))
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, got {text.strip()}")
    return value


def output_file(text: str) -> str:
    """An argparse type: the name of a file to write, in a directory that exists (checked
    before the work that the file is to hold)."""
    folder = os.path.dirname(text) or "."
    if not text or os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a file name")
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(f"cannot write {text}: no directory {folder}")
    return text


def _listing(title: str, rows: Sequence[Tuple[str, str]]) -> str:
    """An epilog section: `title`, then (term, text) rows, the text wrapped beside the terms
    (below a term too long for the column)."""
    width = min(20, max(len(term) for term, _ in rows))
    indent = " " * (2 + width + 2)
    lines = [title]
    for term, text in rows:
        head = f"  {term:{width}s}  "
        if len(head) > len(indent):
            lines.append(head.rstrip())
            head = indent
        lines.append(textwrap.fill(text, HELP_WIDTH - 2, initial_indent=head,
                                   subsequent_indent=indent) if text else head.rstrip())
    return "\n".join(lines)


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join("  " + line for line in lines)


def _progress_option(ap: argparse.ArgumentParser, when: str) -> None:
    ap.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                    help=f"draw a progress bar on stderr{when} (default: only when stderr "
                         "is a terminal, and not in CI, where the variable CI is set)")


def progress_by_default() -> bool:
    """Whether to draw progress bars unless told: when stderr is a terminal, and not in CI
    (the environment variable ``CI``, which CI services set, is unset, empty, 0 or false)."""
    in_ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return sys.stderr.isatty() and not in_ci


# ------------------------------------------------------------------------- lossfuse bench
BENCH_SUMMARY = "time every loss's kernels against NumPy"
BENCH_DESCRIPTION = """\
Time every loss's operations -- loss, gradient, the fused loss_gradient and
gradient_hessian -- against a plain NumPy formulation of what each returns,
and against np.add(a, b, out=c) on arrays of the same size (two reads and one
write: the streaming limit), interleaved round by round, and print a table.
Ratios are of medians over the rounds, so they carry across machines of
different speed where absolute times do not."""


def _bench_epilog() -> str:
    columns = _listing("columns:", [
        ("thr", "threads of the row: 1, or --threads N"),
        ("time", "lossfuse's time per call (at n = 16: the whole call, facade included)"),
        ("x numpy", "speedup over the NumPy formulation"),
        ("x limit", "speedup over np.add on the same size: the share of the streaming "
                    "limit reached (1: as fast as np.add)"),
        ("spread", "the largest relative spread of the candidates the row compares (twice "
                   "the median absolute deviation over the median)"),
    ]) + "\n" + _listing("with --wide:", [
        ("numpy, np.add", "their times per call"),
        ("GB/s", "the operation's inputs and outputs moved per second"),
        (f"x {_bench.NARROWER}", "speedup over the same call on the next narrower "
                                 "instruction-set build of the kernels: what run-time "
                                 "dispatch buys"),
        ("x N thr", "speedup of N threads over one"),
    ]) + "\n" + textwrap.fill(
        "A summary follows the table: per loss family, the median and worst speedups over "
        "NumPy and np.add and the thread scaling.", HELP_WIDTH - 2, initial_indent="  ",
        subsequent_indent="  ")
    examples = _examples(
        "lossfuse bench --quick",
        "lossfuse bench --losses huber poisson --ops loss_gradient --sizes 1e6 1e7",
        "lossfuse bench --losses cross_entropy --ce-shapes 1e5x10 1e4x1000",
        "lossfuse bench --save base.json       # on the reference commit",
        "lossfuse bench --compare base.json    # later: exit status 1 on a regression",
        "lossfuse bench --compare base.json new.json --format markdown",
        "lossfuse bench --report run.json --format markdown   # the README's tables",
        "lossfuse bench --quick --plot speed.png",
        "lossfuse bench --load --help")
    return "\n\n".join([columns, examples, _exit_status(
        "a significant regression (--compare), a file that cannot be written")])


def shape(text: str) -> Tuple[int, int]:
    """An argparse type: a shape ROWSxK (``1e5x10``): ROWS from 1, K from 1."""
    rows, sep, k = text.strip().lower().partition("x")
    try:
        if not sep:
            raise argparse.ArgumentTypeError("no x")
        return count()(rows), count(1 << 20)(k)
    except argparse.ArgumentTypeError as e:
        raise argparse.ArgumentTypeError(f"{text!r} is not a shape ROWSxK of whole numbers, "
                                         f"e.g. 1e5x10 ({e})" if sep else
                                         f"{text!r} is not a shape ROWSxK, e.g. 1e5x10"
                                         ) from None


def _bench_arguments(ap: argparse.ArgumentParser) -> None:
    shapes = " ".join(f"{short_size(n)}x{k}" for n, k in _bench.CE_CASES)
    quick_shapes = " ".join(f"{short_size(n)}x{k}" for n, k in _bench.CE_QUICK)
    quick = " ".join(map(str, _bench.QUICK_SIZES))
    chosen = ("; with --compare or --report: chooses among the cases of the saved run")
    ap.add_argument("--losses", nargs="+", choices=_bench.LOSSES, metavar="LOSS",
                    help="the losses to time, from: " + ", ".join(_bench.LOSSES)
                    + f" (default: all{chosen})")
    ap.add_argument("--ops", nargs="+", choices=list(_bench.OPS), metavar="OP",
                    help="the operations to time, from: " + ", ".join(_bench.OPS)
                    + f" (default: all{chosen})")
    ap.add_argument("--dtypes", nargs="+", choices=_bench.DTYPES, metavar="DTYPE",
                    help=f"the dtypes to time, from: {', '.join(_bench.DTYPES)} "
                         f"(default: both{chosen})")
    ap.add_argument("--sizes", nargs="+", type=count(), metavar="N",
                    help="elements per call, e.g. 1e6; for cross_entropy, without "
                         f"--ce-shapes: rows of {_bench.CE_CLASSES} classes (default: "
                    + " ".join(map(short_size, _bench.SIZES)) + f"; with --quick: {quick})")
    ap.add_argument("--ce-shapes", nargs="+", type=shape, metavar="ROWSxK",
                    help=f"cross_entropy's shapes, rows x classes (default: {shapes}; with "
                         f"--quick: {quick_shapes}; with --sizes: those rows x "
                         f"{_bench.CE_CLASSES})")
    ap.add_argument("--rounds", type=count(), metavar="N",
                    help="interleaved rounds per case (default: as many as fit in about "
                         f"{_bench.CASE_SECONDS:g} s, from {_bench.ROUNDS[0]} to "
                         f"{_bench.ROUNDS[1]}; with --quick: {_bench.QUICK_ROUNDS}; with "
                         f"--compare at least {_bench.COMPARE_ROUNDS}, what its "
                         "significance test needs)")
    ap.add_argument("--quick", action="store_true",
                    help="a smoke run of seconds over every loss: short timing loops, and "
                         "where --sizes, --ce-shapes or --rounds is not given, the smaller "
                         "default each states for --quick")
    ap.add_argument("--threads", type=count(MAX_THREADS), default=lf.get_num_threads(),
                    metavar="N",
                    help="also time lossfuse on N threads: rows of their own, and column "
                         "'x N thr' of --wide; 1: one thread only (default: %(default)s, the "
                         "default thread count, timed as n_threads=None; with --compare: "
                         "the saved run's)")
    ap.add_argument("--wide", action="store_true",
                    help="add the secondary columns to the table: NumPy's and np.add's "
                         "times, GB/s, the speedup over the narrower instruction-set build "
                         "and over N threads (default: the compact table, under 100 columns)")
    ap.add_argument("--save", "--json", dest="save", type=output_file, metavar="FILE",
                    help="write the results (with each round's times) and the machine they "
                         "ran on (CPU and flags, instruction set, compilers, versions, git "
                         "commit, thread count rule) to FILE as JSON; with --compare, its "
                         "verdict per case too (default: not saved)")
    ap.add_argument("--compare", nargs="+", metavar=("BASE.json", "NEW.json"),
                    help="time the cases of a run saved with --save "
                         "again (or, given NEW.json, take them from that saved run) and "
                         "compare the speedups over NumPy case by case, with a Mann-Whitney "
                         "U test on the rounds: exit status 1 where one fell significantly "
                         "by more than --max-slowdown (default: no comparison)")
    ap.add_argument("--max-slowdown", type=fraction, default=0.10, metavar="FRACTION",
                    help="with --compare: the fall of a speedup over NumPy tolerated")
    ap.add_argument("--all", action="store_true",
                    help="with --compare: list every case (default: the regressions, "
                         "improvements and cases in one run only; the rest counted)")
    ap.add_argument("--alpha", type=fraction, default=0.05, metavar="P",
                    help="with --compare: the significance level of the U test")
    ap.add_argument("--report", metavar="RUN.json",
                    help="time nothing: print the tables and summary of a run saved with "
                         "--save (default: time the cases)")
    ap.add_argument("--format", choices=["text", "markdown"], default="text",
                    help="how --report and --compare print: text for a terminal, or "
                         "Markdown (the README's tables; CI job summaries)")
    ap.add_argument("--plot", type=output_file, metavar="FILE.png",
                    help="plot throughput against n to FILE.png, one panel per operation "
                         "(needs matplotlib: pip install 'lossfuse[plot]'; default: no plot)")
    _progress_option(ap, "")
    ap.add_argument("--load", action="store_true",
                    help="instead of all this: the call latency of the default thread count "
                         "against one thread with the machine busy; its options: lossfuse "
                         "bench --load --help")


def _is_load(arg: str) -> bool:
    """Whether `arg` is bench's --load option (or an abbreviation argparse would take for
    it): the rest of the command line is then the load benchmark's."""
    return len(arg) > len("--lo") and "--load".startswith(arg)


# --------------------------------------------------------------------- lossfuse bench --load
LOAD_DESCRIPTION = f"""\
Call latency with the machine busy, the default thread count against one
thread. For each condition -- no load, then one busy process per CPU at nice
0, then the same at nice 19 -- it times single calls of loss_gradient
(float64, into a given output) with the default thread count and with
n_threads=1, interleaved call by call, and prints the 50th, 90th and 99th
percentiles of the call latency; a p90 ratio above {_load.BAR:g} is marked. Then code
that is parallel already: four Python threads calling with the default thread
count against two with n_threads=1, in calls per second. The load processes
end with their condition, on an interrupt, and on their own if the benchmark
dies."""


def _load_arguments(ap: argparse.ArgumentParser) -> None:
    elementwise = [n for n in _bench.LOSSES if n != "cross_entropy"]
    ap.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--sizes", nargs="+", type=count(), default=list(_load.SIZES),
                    metavar="N", help="elements per call, e.g. 1e6 (default: "
                    + " ".join(map(short_size, _load.SIZES)) + ")")
    ap.add_argument("--losses", nargs="+", default=list(_load.LOSSES), choices=elementwise,
                    metavar="LOSS", help="the losses to time: any of lossfuse bench's but "
                    "cross_entropy (default: " + " ".join(_load.LOSSES) + ")")
    ap.add_argument("--conditions", nargs="+", default=[c[0] for c in _load.CONDITIONS],
                    choices=[c[0] for c in _load.CONDITIONS], metavar="LOAD",
                    help="the load conditions, from: "
                    + ", ".join(repr(c[0]) for c in _load.CONDITIONS) + " (default: all)")
    ap.add_argument("--seconds", type=seconds, default=_load.CASE_SECONDS,
                    help="the timing budget of a case")
    ap.add_argument("--no-nested", action="store_true",
                    help="skip the parallel callers' throughput")
    ap.add_argument("--save", "--json", dest="save", type=output_file, metavar="FILE",
                    help="write the rows and the machine to FILE as JSON")


def _load_epilog() -> str:
    return "\n\n".join([_examples(
        "lossfuse bench --load",
        "lossfuse bench --load --sizes 1e5 1e6 --conditions idle 'nice 19'",
        "lossfuse bench --load --save load.json"),
        _exit_status("a file that cannot be written")])


# ------------------------------------------------------------------------- lossfuse score
SCORE_SUMMARY = "losses and metrics over CSV, Parquet, Arrow or .npy files, per group"
SCORE_DESCRIPTION = """\
Compute one or more losses, and scikit-learn's metrics that running sums give
(--metric), over data too large for memory, per group or over all rows, and
print them. DATA -- a file, a directory of files or a glob -- is read through
pyarrow, only the columns needed, --chunk-size rows at a time, in memory that
stays flat; each batch is one kernel call per loss. Over all rows, the
batches' sums are added exactly: the result equals lossfuse's in-memory loss
(and lossfuse.metrics' metric) on the whole arrays to within a few ulp. Per
group (--by), each group's sums are kept in twice float64's precision. Wrong
input -- a missing or malformed file, an unknown column, a null or a field
that is not a number, inputs of different lengths, a value outside the loss's
or the metric's domain -- gets one line on stderr and exit status 1."""


def _loss_rows() -> List[Tuple[str, str]]:
    """(name, its parameters with their defaults and its aliases) of every loss."""
    rows = []
    for spec in SPECS:
        parts = [", ".join(f"{k}={v}" for k, v in spec.params.items())]
        if spec.aliases:
            parts.append(f"alias{'es' * (len(spec.aliases) > 1)} {', '.join(spec.aliases)}")
        rows.append((spec.name, "; ".join(filter(None, parts))))
    return rows


def _metric_rows() -> List[Tuple[str, str]]:
    """(name, what it is and its aliases) of every metric of --metric."""
    return [(spec.name, "; ".join([spec.about] + [
        f"alias{'es' * (len(spec.aliases) > 1)} {', '.join(spec.aliases)}"] * bool(spec.aliases)))
        for spec in _score.METRICS]


def _score_epilog() -> str:
    data = _listing("data (DATA) and columns (COL):", [
        ("FILE", "a .csv, .parquet (.pq) or .arrow (.feather, .ipc) file; CSV: UTF-8, a "
                 "header row naming the columns, commas between fields; an empty field is "
                 "not a number (in a --by column, the key \"\")"),
        ("DIRECTORY", "its files of those suffixes, at any depth (names beginning with . "
                      "or _ skipped), all of one format; subdirectories KEY=VALUE (hive "
                      "partitions) give a column KEY"),
        ("GLOB", "the files a pattern matches (*, ?, [...], ** for any depth)"),
        ("COL", "a column's name: scored columns hold numbers and no nulls; --by columns "
                "any values (null is a key of its own)"),
    ]) + "\n" + textwrap.fill(
        "Needs pyarrow: pip install 'lossfuse[score]'. Without DATA, --y-true, --y-pred and "
        "--sample-weight name a source (SRC) each, for inputs split over files:",
        HELP_WIDTH - 2, initial_indent="  ", subsequent_indent="  ")
    sources = _listing("sources (SRC):", [
        ("FILE.npy", "a .npy file (numpy.save) of booleans, integers or floats; its rows "
                     "are its first axis (cross_entropy's logits: an (n, K) array); needs "
                     "no pyarrow"),
        ("FILE.csv:COLUMN", "a column of a CSV file (also FILE.parquet:COLUMN, "
                            "FILE.arrow:COLUMN, ...); the columns taken from one file are "
                            "read in one pass"),
    ]) + "\n" + textwrap.fill(
        "Suffixes are matched in any case, and COLUMN is what follows the last colon. A .npy "
        "source is a regular file, read more than once: not standard input, a pipe or a "
        "device.", HELP_WIDTH - 2, initial_indent="  ", subsequent_indent="  ")
    outputs = _listing("output:", [
        ("one loss", "the loss (--reduction's), or with --json an object: loss, n (rows), "
                     "seconds, name, params, reduction"),
        ("one metric", "its value, or with --json an object: value, n, seconds, name"),
        ("more", "with several losses or --by: a table, a row per group and loss: the "
                 "--by columns, loss, rows, weight, sum, mean; --json prints its rows as a "
                 "JSON array of records, --output FILE writes them to FILE (.parquet, .csv "
                 "or .json). In JSON a value that is not finite is null, and "
                 "FIELD_nonfinite says which: nan, inf or -inf"),
        ("with metrics", "a row per group and metric too (loss: the metric's name; sum and "
                         "mean null), and a column value: a loss's --reduction, a metric's "
                         "value. R^2 of fewer than two rows is NaN (not well-defined), with "
                         "one warning line on stderr"),
    ])
    losses = _listing("losses, their parameters (LOSS:NAME=VALUE) and aliases:",
                      _loss_rows())
    metrics = _listing("metrics (--metric NAME; scikit-learn's, no parameters):",
                       _metric_rows()) + "\n" + textwrap.fill(
        "y_true and y_pred hold finite values (and --sample-weight). Over all rows the value "
        "is that on the whole arrays; per group, the sums of R^2 and the explained variance "
        "are shifted by the group's first value: exact to rounding, but within about (group "
        "rows) x 1e-16 relative where that value is extreme.", HELP_WIDTH - 2, initial_indent="  ",
        subsequent_indent="  ")
    examples = _examples(
        "lossfuse score huber data.parquet --y-true y --y-pred p",
        "lossfuse score squared_error,absolute_error,huber:delta=2 'runs/*.csv' \\",
        "    --y-true y --y-pred p --by region --by day --output scores.parquet",
        "lossfuse score poisson --y-true counts.npy --y-pred log_mu.npy --json",
        "lossfuse score bce --y-true t.parquet:label --y-pred t.parquet:logit \\",
        "    --sample-weight w.npy --reduction sum --chunk-size 5e5",
        "lossfuse score --metric r2,rmsle,max_error data.parquet \\",
        "    --y-true y --y-pred p --by region")
    return "\n\n".join([data, sources, outputs, losses, metrics, examples, _exit_status(
        "wrong input: a file that cannot be read, a malformed one, a value outside the "
        "loss's domain, ... (one line on stderr); an unknown metric exits with 2")])


def _score_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("loss", metavar="LOSS", nargs="?",
                    help="the loss: a name or an alias from the list below, in any case, "
                         "with its parameters as NAME:PARAM=VALUE; a comma list for several "
                         "(may be left out when --loss is given)")
    ap.add_argument("data", metavar="DATA", nargs="?",
                    help="the data: a file, a directory or a glob (see below); without it, "
                         "the columns are sources (SRC)")
    ap.add_argument("--y-true", required=True, metavar="COL|SRC",
                    help="the true values: targets, labels or class indices")
    ap.add_argument("--y-pred", required=True, metavar="COL|SRC",
                    help="the predictions, raw as the loss takes them: values for "
                         "regression, log-means for poisson, gamma and tweedie, logits for "
                         "classification")
    ap.add_argument("--sample-weight", metavar="COL|SRC",
                    help="a weight for each row (default: every row weighs 1)")
    ap.add_argument("--loss", dest="losses", action="append", default=[], metavar="LOSS",
                    help="one more loss (or a comma list), computed in the same pass; "
                         "repeat it for more (default: LOSS alone)")
    ap.add_argument("--metric", dest="metrics", action="append", default=[], metavar="NAME",
                    help="a metric (or a comma list) from the list below, in any case, "
                         "computed in the same pass; repeat it for more; LOSS may then be "
                         "left out (default: none)")
    ap.add_argument("--by", action="append", default=[], metavar="COL",
                    help="a column of DATA to group by: each loss per group; repeat it for "
                         "groups of several columns (default: over all rows)")
    ap.add_argument("--param", action="append", type=_score._param, default=[],
                    metavar="NAME=VALUE",
                    help="a parameter of LOSS, e.g. --param delta=2; repeat it for more "
                         "(default: the loss's own, listed below)")
    ap.add_argument("--reduction", choices=["mean", "sum"], default="mean",
                    help="what a single loss prints: the weighted mean over the values, or "
                         "their weighted sum (tables show both)")
    ap.add_argument("--chunk-size", type=count(_score._CHUNK_LIMIT), default=1 << 20,
                    metavar="N", help="rows read and computed at a time: the memory used "
                                      "grows with it")
    ap.add_argument("--json", action="store_true",
                    help="print JSON instead of text (see output below)")
    ap.add_argument("--output", metavar="FILE",
                    help="write the table to FILE (.parquet, .csv or .json) instead of "
                         "printing it (default: print)")
    _progress_option(ap, " when the inputs span more than four chunks")


# ------------------------------------------------------------------------------ the parsers
class _Command(Protocol):
    """The module doing a command's work: `_bench`, `_score` or `_load`."""

    def command(self, args: argparse.Namespace) -> int:
        """Run the command on its parsed arguments; return the exit status."""


_Arguments = Callable[[argparse.ArgumentParser], None]    # adds a command's options to a parser

# name: (module doing the work, summary, description, epilog, arguments)
COMMANDS: Dict[str, Tuple[_Command, str, str, Callable[[], str], _Arguments]] = {
    "bench": (_bench, BENCH_SUMMARY, BENCH_DESCRIPTION, _bench_epilog, _bench_arguments),
    "score": (_score, SCORE_SUMMARY, SCORE_DESCRIPTION, _score_epilog, _score_arguments),
}


def _configure(ap: argparse.ArgumentParser, module: _Command,
               arguments: _Arguments) -> argparse.ArgumentParser:
    arguments(ap)
    ap.set_defaults(command=module.command, parser=ap)
    return ap


def build_parser() -> argparse.ArgumentParser:
    """The parser of the ``lossfuse`` command and its subcommands."""
    ap = argparse.ArgumentParser(
        prog="lossfuse", formatter_class=HelpFormatter,
        description="Fused loss, gradient and hessian kernels for NumPy arrays: time them "
                    "against\nNumPy (bench), or compute a loss over files too large for "
                    "memory (score).",
        epilog="Run 'lossfuse COMMAND --help' for the options of a command.\n\n" + _examples(
            "lossfuse score huber data.parquet --y-true y --y-pred p --by region",
            "lossfuse bench --quick") + "\n\n" + _exit_status(
                "failure: wrong input, a file that cannot be read or written, a "
                "regression"))
    ap.add_argument("--version", action="version", version=f"lossfuse {lf.__version__}",
                    help="print the version (lossfuse X.Y.Z) and exit")
    commands = ap.add_subparsers(title="commands", dest="name", metavar="COMMAND",
                                 required=True)
    for name, (module, summary, description, epilog, arguments) in COMMANDS.items():
        _configure(commands.add_parser(name, help=summary, description=description,
                                       epilog=epilog(), formatter_class=HelpFormatter),
                   module, arguments)
    return ap


def build_load_parser() -> argparse.ArgumentParser:
    """The parser of ``lossfuse bench --load``."""
    return _configure(argparse.ArgumentParser(
        prog="lossfuse bench --load", description=LOAD_DESCRIPTION, epilog=_load_epilog(),
        formatter_class=HelpFormatter), _load, _load_arguments)


# ------------------------------------------------------------------------------ the command
def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``lossfuse ARGS``.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 on success, 1 on a failure, 2 on a wrong command line (argparse
        exits with 2 itself, as it does with 0 after ``--help`` and ``--version``) or a
        missing optional dependency, 130 on an interrupt.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    if argv and not argv[0].startswith("-") and argv[0] not in COMMANDS:
        parser.error(f"unknown command {argv[0]!r} (choose from {', '.join(COMMANDS)})")
    if argv[:1] == ["bench"] and any(map(_is_load, argv[1:])):
        args, extra = build_load_parser().parse_known_args(argv[1:])
    else:
        args, extra = parser.parse_known_args(argv)
    # set by _configure: the command's own parser, and the function doing its work
    command_parser: argparse.ArgumentParser = args.parser
    command: Callable[[argparse.Namespace], int] = args.command
    if extra and getattr(args, "name", None) == "score":     # LOSS or DATA after an option
        extra = _score.take_positionals(args, extra)
    if extra:                     # said by the command's parser, with the command's usage
        command_parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if getattr(args, "progress", False) is None:        # neither --progress nor --no-progress
        args.progress = progress_by_default()
    try:
        return command(args)
    except MissingDependencyError as e:
        print(f"{command_parser.prog}: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:            # the reader (head, less) went away: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        print(f"{command_parser.prog}: error: {where}{e.strerror or e}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"{command_parser.prog}: error: out of memory", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{command_parser.prog}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
