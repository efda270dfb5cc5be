"""What ``lossfuse bench`` prints: the table of a run as it goes (compact, or ``--wide``),
its summary, and the report of a saved run (``--report``): as text, or as the Markdown tables
of the README's speed section.  Nothing here times anything: it formats result rows (see
`lossfuse._bench.Result`), and the same rows always give the same text.

Two rules hold in every table and in the summary:

* ``x limit`` (``fraction_of_add``, the share of ``np.add``'s speed reached) is shown for
  n > 16 only: at n = 16 the lossfuse time is the whole facade call, and np.add on 16
  elements is no limit for it;
* thread scaling (``thread_speedup``) is summarized from 1e5 elements on, where a second
  thread can pay for itself.

A value a row does not hold (no thread row, no narrower build, n <= 16) is an empty cell.
"""

from __future__ import annotations

import re
import statistics
import textwrap
from typing import Any, Callable, Container, Dict, List, Mapping, Optional, Sequence, Tuple

#: A row of results (see `lossfuse._bench`)
Result = Dict[str, Any]

SMALL = 16                 #: at n <= SMALL a row times the whole call: no np.add limit
THREAD_ELEMENTS = 100_000  #: thread scaling is summarized from this many elements on
WIDTH = 100                #: the text of a report fits in this many columns
FORMATS = ("text", "markdown")
FAMILIES = ("regression", "deviance", "classification", "multiclass")

_REQUIRED = ("loss", "dtype", "n", "seconds", "numpy_seconds", "speedup_vs_numpy")
_OPTIONAL_NUMBERS = ("add_seconds", "fraction_of_add", "gb_per_s", "spread",
                     "baseline_seconds", "dispatch_speedup", "thread_speedup")


# ------------------------------------------------------------------------------ cells
def size(r: Result) -> str:
    """A case's size as the tables show it: n, or ROWSxK for cross_entropy."""
    return f"{r['n']}x{r.get('classes', 1)}" if r["loss"] == "cross_entropy" else str(r["n"])


def short_size(n: int) -> str:
    """`n` as it is written on the command line: ``1e6`` for 1000000, ``2e5`` for 200000
    (from 1e4 on), else its digits."""
    mantissa, _, exponent = f"{n:.0e}".partition("e")
    return f"{mantissa}e{int(exponent)}" if n >= 10_000 and float(f"{n:.0e}") == n else str(n)


def duration(seconds: Optional[float]) -> str:
    """`seconds` in the unit that shows it with 3-4 significant digits: ``"812 ns"``,
    ``"12.3 us"``, ``"4.56 ms"``, ``"1.23 s"``; ``""`` for None."""
    if seconds is None:
        return ""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            break
    else:
        unit, scale = "ns", 1e-9
    v = seconds / scale
    return f"{v:#.3g} {unit}" if v < 100 else f"{v:.0f} {unit}"


def _us(seconds: Optional[float]) -> str:
    """`seconds` in microseconds, for the README's columns of one unit."""
    if seconds is None:
        return ""
    us = seconds * 1e6
    return f"{us:.2f}" if us < 10 else f"{us:.1f}" if us < 1e5 else f"{us:.0f}"


def _ratio(v: Optional[float]) -> str:
    return "" if v is None else f"{v:.2f}"


def _limit(r: Result) -> Optional[float]:
    """The row's ``x limit`` (speed as a share of np.add's), None at n <= SMALL."""
    return r.get("fraction_of_add") if r["n"] > SMALL else None


def _thread_scaling(r: Result) -> Optional[float]:
    """The row's speedup of N threads over one, None below THREAD_ELEMENTS elements."""
    return r.get("thread_speedup") if r["n"] * r.get("classes", 1) >= THREAD_ELEMENTS else None


def _case(r: Result) -> str:
    """The case a row times, in words: ``"huber loss_gradient float32 1e6"``,
    ``"cross_entropy loss float64 1e5x10"``."""
    n = short_size(r["n"])
    return f"{r['loss']} {r['op']} {r['dtype']} " + (
        f"{n}x{r['classes']}" if r["loss"] == "cross_entropy" else n)


# ------------------------------------------------------------------------------ the rows
def _rows(results: Sequence[Mapping[str, Any]], what: str = "results") -> List[Result]:
    """Copies of `results` checked to hold what the tables show, with the defaults of
    older runs filled in (op ``loss_gradient``, one class, one thread, the loss's family);
    a ValueError names the row and the key that is wrong."""
    from lossfuse._bench import family

    if isinstance(results, (str, bytes)) or not isinstance(results, Sequence):
        raise TypeError(f"{what} must be a list of result rows, not {type(results).__name__}")
    rows = []
    for i, r in enumerate(results):
        if not isinstance(r, Mapping):
            raise ValueError(f"{what}[{i}] is a {type(r).__name__}, not a result row "
                             "(a mapping of loss, op, dtype, n, ... )")
        missing = [k for k in _REQUIRED if k not in r]
        if missing:
            raise ValueError(f"{what}[{i}] has no {', '.join(map(repr, missing))}")
        row = dict(r)
        row.setdefault("op", "loss_gradient")
        row.setdefault("classes", 1)
        row.setdefault("threads", 1)
        for k in ("loss", "op", "dtype"):
            if not isinstance(row[k], str) or not row[k]:
                raise ValueError(f"{what}[{i}]: {k} is {row[k]!r}, not a name")
        for k in ("n", "classes", "threads"):
            if not isinstance(row[k], int) or isinstance(row[k], bool) or row[k] < 1:
                raise ValueError(f"{what}[{i}]: {k} is {row[k]!r}, not a whole number >= 1")
        for k in _REQUIRED[3:] + _OPTIONAL_NUMBERS:
            v = row.get(k)
            number = isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
            if not number and (v is not None or k in _REQUIRED):
                raise ValueError(f"{what}[{i}]: {k} is {v!r}, not a number >= 0")
        row.setdefault("family", family(row["loss"]))
        rows.append(row)
    return rows


def _data(data: Mapping[str, Any]) -> Tuple[Dict[str, Any], List[Result]]:
    """The machine and the checked rows of a saved run; a run without rows is an error."""
    if not isinstance(data, Mapping):
        raise TypeError(f"data must be a saved run (a mapping with 'results'), not "
                        f"{type(data).__name__}")
    if "results" not in data:
        raise ValueError("data holds no 'results' (a file that lossfuse bench --save wrote "
                         "does)")
    rows = _rows(data["results"], "data['results']")
    if not rows:
        raise ValueError("data['results'] is empty: the run timed no case, there is nothing "
                         "to report")
    machine = data.get("machine") or {}
    if not isinstance(machine, Mapping):
        raise ValueError(f"data['machine'] is a {type(machine).__name__}, not a mapping")
    return dict(machine), rows


def _op_order(rows: Sequence[Result]) -> List[str]:
    """The operations of `rows` in the benchmark's order (then any other, by name)."""
    from lossfuse._bench import OPS

    present = {r["op"] for r in rows}
    return [op for op in OPS if op in present] + sorted(present - set(OPS))


def _threads(rows: Sequence[Result]) -> int:
    """The thread count of the run's N-thread rows (1 when it has none)."""
    return int(max(r["threads"] for r in rows))


def _narrower(rows: Sequence[Result]) -> Optional[str]:
    """The narrower instruction set the run compared with, if it did."""
    return next((r["baseline_isa"] for r in rows if r.get("baseline_isa")), None)


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(map(repr, FORMATS))}, not {fmt!r}")


# ------------------------------------------------------------------------------ layout
def _markdown(header: Sequence[str], rows: Sequence[Sequence[str]],
              words: Container[int]) -> List[str]:
    """A Markdown table: `header`, the alignment row (the columns `words` to the left, the
    others, numbers, to the right) and `rows`, one line each."""
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cells) + " |"
    return [line(header),
            "|" + "|".join("---" if i in words else "---:" for i in range(len(header))) + "|",
            *map(line, rows)]


def _text(header: Sequence[str], rows: Sequence[Sequence[str]],
          words: Container[int]) -> List[str]:
    """A text table: `header`, a rule and `rows`, each column as wide as its widest cell
    (the columns `words` to the left, numbers to the right), no trailing blanks."""
    widths = [max(len(c) for c in col) for col in zip(header, *rows)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i in words else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    head = line(header)
    return [head, "-" * len(head), *map(line, rows)]


# ------------------------------------------------------------------------------ the live table
class Table:
    """The table `lossfuse bench` prints row by row while it runs.

    Compact (the default, under 100 columns): loss, op, dtype, n, threads, lossfuse's time
    per call, the speedups over NumPy and over np.add (``x limit``: 1.0 is the streaming
    limit; empty at n <= 16) and the spread.  `wide` adds NumPy's and np.add's times, GB/s,
    the speedup over the narrower instruction-set build and over N threads.

    Parameters
    ----------
    cases : sequence of tuple
        The cases the table will show, ``(loss, op, dtype, n, classes)``: they size its
        columns.
    threads : int
        The thread count of the N-thread rows (1: none; no ``x N thr`` column).
    narrower : str
        The narrower instruction set's name, for the ``x <isa>`` column.
    wide : bool, default False
        Whether to add the secondary columns.
    """

    def __init__(self, cases: Sequence[Tuple[Any, ...]], threads: int, narrower: str,
                 wide: bool = False) -> None:
        losses = [c[0] for c in cases] or ["loss"]
        ops = [c[1] for c in cases] or ["op"]
        sizes = [f"{c[3]}x{c[4]}" if c[0] == "cross_entropy" else str(c[3]) for c in cases]
        self.cols: List[Tuple[str, int]] = [
            ("loss", max(map(len, losses + ["loss"]))), ("op", max(map(len, ops + ["op"]))),
            ("dtype", 7), ("n", max(map(len, sizes + ["n"]))), ("thr", 3),
            ("time", 9)]
        if wide:
            self.cols += [("numpy", 9), ("np.add", 9)]
        self.cols += [("x numpy", 7), ("x limit", 7), ("spread", 6)]
        if wide:
            self.cols += [("GB/s", 6), (f"x {narrower}", max(6, 2 + len(narrower)))]
            if threads > 1:
                self.cols.append((f"x {threads} thr", 4 + len(str(threads)) + 2))

    def _line(self, cells: Sequence[str]) -> str:
        return " ".join(c.ljust(w) if i < 3 else c.rjust(w)
                        for i, (c, (_, w)) in enumerate(zip(cells, self.cols))).rstrip()

    def header(self) -> List[str]:
        """The header line and the rule under it."""
        head = self._line([name for name, _ in self.cols])
        return [head, "-" * len(head)]

    def row(self, r: Result) -> str:
        """The line of result row `r` (a value it lacks is an empty cell)."""
        spread, gb = r.get("spread"), r.get("gb_per_s")
        cells = {"loss": r["loss"], "op": r.get("op", "loss_gradient"), "dtype": r["dtype"],
                 "n": size(r), "thr": str(r.get("threads", 1)),
                 "time": duration(r["seconds"]), "numpy": duration(r.get("numpy_seconds")),
                 "np.add": duration(r.get("add_seconds")),
                 "x numpy": _ratio(r.get("speedup_vs_numpy")), "x limit": _ratio(_limit(r)),
                 "spread": "" if spread is None else f"{spread:.2f}",
                 "GB/s": "" if gb is None else f"{gb:.1f}"}
        for name, _ in self.cols:
            if name not in cells:            # x <narrower isa>, x N thr
                key = "thread_speedup" if name.endswith(" thr") else "dispatch_speedup"
                cells[name] = _ratio(r.get(key))
        return self._line([cells[name] for name, _ in self.cols])


# ------------------------------------------------------------------------------ summary
#: The summary's ratios: label, what a row shows for it (None: not counted), and the rows
#: it is over, in words.
_METRICS: Tuple[Tuple[str, Callable[[Result], Optional[float]], str], ...] = (
    ("x numpy", lambda r: r["speedup_vs_numpy"], "every size"),
    ("x limit", _limit, f"n > {SMALL}"),
    ("x {} thr", _thread_scaling, f"from {short_size(THREAD_ELEMENTS)} elements"),
)


def _sort_key(r: Result) -> Tuple[Any, ...]:
    fam = FAMILIES.index(r["family"]) if r["family"] in FAMILIES else len(FAMILIES)
    return (fam, r["family"], r["loss"], r["op"], r["dtype"], r["n"] * r["classes"],
            r["n"], r["threads"])


def summary(results: Sequence[Mapping[str, Any]], fmt: str = "text") -> str:
    """The summary of a run: per family of losses, how many cases were timed and the median
    and the worst (named) of each ratio over the cases on one thread.

    The ratios are ``x numpy`` (speedup over NumPy, every case), ``x limit`` (the share of
    ``np.add``'s speed reached, n > 16) and ``x N thr`` (the speedup of N threads over one,
    from 1e5 elements on).  A ratio no row holds is left out, and a note says why.

    Parameters
    ----------
    results : sequence of dict
        The rows of a run (``lossfuse._bench.Result``).
    fmt : {"text", "markdown"}, default "text"
        Text (at most 100 columns) or a Markdown table.

    Returns
    -------
    str
        The summary, without a final newline; for no rows, a line saying so.

    Raises
    ------
    ValueError
        If `fmt` is unknown or a row lacks a key the summary needs (the message names it).
    TypeError
        If `results` is not a list of rows.
    """
    _check_format(fmt)
    every = _rows(results)
    rows = sorted((r for r in every if r["threads"] == 1), key=_sort_key)
    if not rows:
        return "summary: no results (the run timed no case)"
    threads = _threads(every)
    metrics = [(label.format(threads if threads > 1 else "N"), value, scope)
               for label, value, scope in _METRICS]
    lines, notes = [], []
    for fam in dict.fromkeys(r["family"] for r in rows):
        first = True
        for label, value, _ in metrics:
            got = [(v, r) for r in rows if r["family"] == fam
                   for v in [value(r)] if v is not None]
            if got:
                worst, case = min(got, key=lambda vr: vr[0])
                lines.append([fam if first else "", label, str(len(got)),
                              _ratio(statistics.median(v for v, _ in got)), _ratio(worst),
                              _case(case)])
                first = False
    for label, value, scope in metrics:
        if all(value(r) is None for r in rows):
            sizes = ", ".join(map(short_size, sorted({r["n"] * r["classes"] for r in rows})))
            untimed = value is _thread_scaling and all(r.get("thread_speedup") is None
                                                       for r in rows)
            notes.append(f"{label}: not timed (lossfuse bench --threads N)" if untimed else
                         f"{label}: no case has it ({scope}; elements timed: {sizes})")
    title = (f"Summary of {len(rows)} cases on one thread: the median and worst ratio per "
             "family (" + "; ".join(f"{label}: {scope}" for label, _, scope in metrics) + ")")
    table = (_markdown if fmt == "markdown" else _text)(
        ["family", "ratio", "cases", "median", "worst", "worst case"], lines, (0, 1, 5))
    if fmt == "markdown":
        return "\n".join([title, "", *table] + ["", *(f"- {n}" for n in notes)] * bool(notes))
    return "\n".join([textwrap.fill(title, WIDTH), *table, *notes])


# ------------------------------------------------------------------------------ README tables
def machine_line(machine: Mapping[str, Any]) -> str:
    """What a run ran on, in one sentence: CPU, cores, instruction set, Python, NumPy,
    Cython, the kernels' compiler, lossfuse and the git commit (what `machine` lacks is left
    out)."""
    def get(key: str) -> Optional[str]:
        v = machine.get(key)
        return None if v is None or v == "" else str(v)

    where = ", ".join(p for p in (
        get("cpu"), get("cores") and f"{get('cores')} cores",
        get("isa") and f"{get('isa')} kernels") if p)
    built = ", ".join(p for p in (
        get("python") and f"Python {get('python')}", get("numpy") and f"NumPy {get('numpy')}",
        get("cython") and f"Cython {get('cython')}",
        get("kernel_compiler") or get("compiler")) if p)
    commit = get("git_commit")
    what = ", ".join(p for p in (get("lossfuse") and f"lossfuse {get('lossfuse')}",
                                 commit and f"commit {commit[:10]}") if p)
    parts = [p for p in (where, built, what) if p]
    return "Run on " + "; ".join(parts) + "." if parts else "Run on an unrecorded machine."


def readme_tables(data: Mapping[str, Any], n_ops: int = 1_000_000,
                  collapsed: bool = False) -> str:
    """The Markdown tables of the README's speed section, from a saved run.

    1. The fused ``loss_gradient`` of every elementwise loss at every size, one thread: the
       times of lossfuse and NumPy (µs) and the ratios ``x NumPy``, ``x np.add`` (n > 16),
       ``x <narrower isa>`` and ``x N thr``;
    2. every operation's speedup over NumPy at n = `n_ops`, one thread;
    3. ``cross_entropy``'s shapes (n > 16), every operation.

    A line under the tables says what the run ran on (`machine_line`).  A table the run
    has no rows for is left out, a ratio it lacks is an empty cell.

    Parameters
    ----------
    data : dict
        A saved run: ``{"schema", "machine", "results"}`` (``lossfuse bench --save``).
    n_ops : int, default 1_000_000
        The size of the every-operation table.
    collapsed : bool, default False
        Each table in a ``<details>`` block, its caption the block's summary (GitHub shows
        the captions, and a table on a click).

    Returns
    -------
    str
        The Markdown, ending with a newline.

    Raises
    ------
    ValueError
        If the run holds no rows, or a row lacks a key the tables need; if `n_ops` < 1.
    TypeError
        If `data` is not a mapping or `n_ops` not an integer.
    """
    if not isinstance(n_ops, int) or isinstance(n_ops, bool):
        raise TypeError(f"n_ops must be an integer, not {type(n_ops).__name__}")
    if n_ops < 1:
        raise ValueError(f"n_ops must be >= 1, not {n_ops}")
    machine, rows = _data(data)
    one = [r for r in rows if r["threads"] == 1]
    threads, narrower = _threads(rows), _narrower(rows)
    ops = _op_order(rows)
    extras = ([("x " + narrower.upper(), "dispatch_speedup")] if narrower else []) \
        + ([(f"x {threads} thr", "thread_speedup")] if threads > 1 else [])
    ratios = ["x NumPy"] + [name for name, _ in extras]

    def extra(r: Result) -> List[str]:
        return [_ratio(r.get(key)) for _, key in extras]

    out: List[str] = []

    def section(table: List[str], caption: str) -> None:
        if collapsed:
            title = re.sub(r"`([^`]*)`", r"<code>\1</code>", caption)     # HTML: no Markdown
            out.extend([f"<details><summary>{title}</summary>", "", *table, "", "</details>",
                        ""])
        else:
            out.extend([*table, "", caption, ""])
    lg = sorted((r for r in one if r["op"] == "loss_gradient" and r["loss"] != "cross_entropy"),
                key=lambda r: (r["loss"], r["dtype"], r["n"]))
    if lg:
        section(_markdown(
            ["loss", "dtype", "n", "lossfuse µs", "NumPy µs", ratios[0], "x np.add",
             *ratios[1:]],
            [[r["loss"], r["dtype"], short_size(r["n"]), _us(r["seconds"]),
              _us(r["numpy_seconds"]), _ratio(r["speedup_vs_numpy"]), _ratio(_limit(r)),
              *extra(r)] for r in lg],
            range(3)), (
            "The fused `loss_gradient` of every elementwise loss, one thread (at n = "
            f"{SMALL} a time is the whole call, lossfuse's facade against "
            "`np.mean((p - y) ** 2)`)."))

    at = [r for r in one if r["n"] == n_ops and r["loss"] != "cross_entropy"]
    if at:
        by = {(r["loss"], r["dtype"], r["op"]): r for r in at}
        section(_markdown(
            ["loss", "dtype", *_op_order(at)],
            [[loss, dtype, *(_ratio(by[loss, dtype, op]["speedup_vs_numpy"])
                             if (loss, dtype, op) in by else "" for op in _op_order(at))]
             for loss, dtype in sorted({(r["loss"], r["dtype"]) for r in at})],
            range(2)),
            f"Speedup over NumPy of every operation at n = {short_size(n_ops)}, one thread.")

    ce = sorted((r for r in one if r["loss"] == "cross_entropy" and r["n"] > SMALL),
                key=lambda r: (r["dtype"], r["n"] * r["classes"], r["n"], ops.index(r["op"])))
    if ce:
        section(_markdown(
            ["dtype", "rows x classes", "op", "lossfuse µs", "NumPy µs", *ratios],
            [[r["dtype"], f"{short_size(r['n'])} x {r['classes']}", r["op"], _us(r["seconds"]),
              _us(r["numpy_seconds"]), _ratio(r["speedup_vs_numpy"]), *extra(r)]
             for r in ce],
            range(3)), "`cross_entropy` on its shapes, every operation, one thread.")
    out.append(machine_line(machine))
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------ report
def report(data: Mapping[str, Any], fmt: str = "text", wide: bool = False) -> str:
    """The report of a saved run (``lossfuse bench --report FILE``).

    Text: what the run ran on, the table of every row (as `lossfuse bench` prints it while
    it runs; `wide`: with the secondary columns) and the summary.  Markdown: the summary, then
    the README's tables (`readme_tables`), each in a ``<details>`` block.  The same run gives the same report.

    Parameters
    ----------
    data : dict
        A saved run: ``{"schema", "machine", "results"}`` (``lossfuse bench --save``).
    fmt : {"text", "markdown"}, default "text"
        The form of the report.
    wide : bool, default False
        Text only: the table with NumPy's and np.add's times, GB/s and the speedups over the
        narrower build and of N threads (wider than 100 columns).

    Returns
    -------
    str
        The report, ending with a newline.

    Raises
    ------
    ValueError
        If `fmt` is unknown, the run holds no rows, or a row lacks a key (named).
    TypeError
        If `data` is not a mapping.
    """
    _check_format(fmt)
    machine, rows = _data(data)
    if fmt == "markdown":
        return summary(rows, "markdown") + "\n\n" + readme_tables(data, collapsed=True)
    cases = list(dict.fromkeys((r["loss"], r["op"], r["dtype"], r["n"], r["classes"])
                               for r in rows))
    table = Table(cases, _threads(rows), _narrower(rows) or "narrower", wide)
    return "\n".join([textwrap.fill(machine_line(machine), WIDTH), "", *table.header(),
                      *map(table.row, rows), "", summary(rows, "text")]) + "\n"
