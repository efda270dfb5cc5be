"""``lossfuse bench --plot``: the throughput of a run's cases against n (needs matplotlib).

The figure has a panel per operation: the element-wise losses in one row of panels and
cross_entropy, whose sizes are shapes (n rows of K classes), in a row of its own.  In a panel,
each loss is a colour (the losses of a family in shades of one hue), each dtype a line style
and each thread count a marker; a line joins the sizes of one (loss, operation, dtype, thread
count) only.  Two references per dtype: np.add on the same data (two reads and a write: the
streaming limit) and NumPy's formulation of the operation (the median over the losses shown,
with their range shaded); both are timed on one thread.  Throughput is the bytes the operation
reads and writes over the time of a call, so that the references, timed on the same data,
share the unit.
"""

from __future__ import annotations

import colorsys
import itertools
import math
import numbers
import os
import statistics
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from lossfuse._optional import import_optional

if TYPE_CHECKING:                       # matplotlib is optional
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

#: A row of results (see `lossfuse._bench`)
Result = Dict[str, Any]
#: A series: the rows one line joins, by (name, op, dtype, threads)
_SeriesKey = Tuple[str, str, str, int]

#: The resolution of the saved figure (a figure is at least 12.5 inches wide: 1250 pixels)
DPI = 100
#: The order of the families, and the hue (0-1) of each: its losses are shades of it
HUES = {"regression": 0.60, "deviance": 0.07, "classification": 0.36, "multiclass": 0.78}
#: The line style of each dtype (another dtype gets the next of `_MORE_STYLES`)
STYLES = {"float32": "-", "float64": "--"}
_MORE_STYLES = (":", "-.")
#: The markers of the thread counts, in increasing order of threads
MARKERS = ("o", "^", "s", "D", "v")
#: With a single size in a panel, the series are spread over this many decades about it
_SPREAD = 0.8
NP_ADD = "np.add (streaming limit)"
NUMPY = "NumPy: median of the losses,\nband: their range"


def _is_name(v: object) -> bool:
    return isinstance(v, str) and v != ""


def _is_count(v: object) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool) and int(v) >= 1


def _is_positive(v: object) -> bool:
    return (isinstance(v, numbers.Real) and not isinstance(v, bool)
            and 0 < float(v) < math.inf)


#: The keys of a row the plot reads: what each must be (``classes`` is 1 where it is missing)
KEYS = {"loss": (_is_name, "a name"), "op": (_is_name, "a name"),
        "dtype": (_is_name, "a name"), "n": (_is_positive, "a positive finite number"),
        "classes": (_is_count, "a positive integer"),
        "threads": (_is_count, "a positive integer"),
        **{k: (_is_positive, "a positive finite number")
           for k in ("seconds", "gb_per_s", "numpy_seconds", "add_seconds")}}


def check_plot(path: str) -> None:
    """Check that matplotlib is installed and writes `path`, and set it to draw to files.

    Parameters
    ----------
    path : str
        The file to write; its suffix (``.png``, ``.svg``, ``.pdf``, ...) says the format.

    Raises
    ------
    lossfuse._optional.MissingDependencyError
        Without matplotlib; the message says what to install.
    ValueError
        When matplotlib does not write files with the suffix of `path`.
    """
    matplotlib = import_optional("matplotlib", "--plot")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    suffix = os.path.splitext(path)[1][1:].lower()
    types = plt.figure().canvas.get_supported_filetypes()
    plt.close("all")
    if suffix and suffix not in types:
        raise ValueError(f"matplotlib does not write .{suffix} files; it writes "
                         + ", ".join("." + t for t in sorted(types)))


def machine_title(machine: Mapping[str, Any]) -> str:
    """A figure title saying what a run ran on.

    Parameters
    ----------
    machine : mapping
        The ``"machine"`` of a saved run (`lossfuse._bench.machine_info`); missing keys are
        left out of the title.

    Returns
    -------
    str
        E.g. ``"lossfuse 0.1.0 on AMD EPYC, 2 cores: avx512 kernels, numpy 2.4.6"``.
    """
    where = ", ".join(str(part) for part in (
        machine.get("cpu"), machine.get("cores") and f"{machine['cores']} cores") if part)
    what = ", ".join(str(part) for part in (
        machine.get("isa") and f"{machine['isa']} kernels",
        machine.get("numpy") and f"numpy {machine['numpy']}") if part)
    return (f"lossfuse {machine.get('lossfuse', '')}".rstrip()
            + (f" on {where}" if where else "") + (f": {what}" if what else ""))


def plot(results: Sequence[Result], path: str, ops: Optional[Sequence[str]] = None,
         title: Optional[str] = None) -> "Figure":
    """Draw the throughput of a run's cases against n (`figure`) and save it to `path`.

    Parameters
    ----------
    results : sequence of dict
        The rows of a run (``lossfuse bench``; the ``"results"`` of a saved run).
    path : str
        The file to write; its suffix says the format (``.png``, ``.svg``, ``.pdf``, ...).
    ops : sequence of str, optional
        The operations to draw, a panel each, in that order; by default those of `results`.
    title : str, optional
        The figure's title, e.g. ``machine_title(machine)``.

    Returns
    -------
    matplotlib.figure.Figure
        The saved figure.

    Raises
    ------
    lossfuse._optional.MissingDependencyError
        Without matplotlib.
    ValueError
        For a file type matplotlib does not write, or as `figure` does.
    TypeError
        As `figure` does.
    """
    check_plot(path)
    fig = figure(results, ops, title)
    fig.savefig(path, dpi=DPI)
    return fig


def figure(results: Sequence[Result], ops: Optional[Sequence[str]] = None,
           title: Optional[str] = None) -> "Figure":
    """The throughput (GB/s) of a run's cases against n, a panel per operation.

    The element-wise losses share a row of panels and cross_entropy (n rows of K classes)
    has a row of its own.  Each loss is a colour, its family a hue; float32 is drawn solid
    and float64 dashed; the thread count is the marker.  np.add on the same data (the
    streaming limit) and NumPy's formulation, both on one thread, are the reference lines.
    With a single size in a panel, the series are spread a little along x about it.

    Parameters
    ----------
    results : sequence of dict
        The rows of a run; each needs the keys of `KEYS`: ``loss``, ``op``, ``dtype``, ``n``,
        ``threads``, ``seconds``, ``gb_per_s``, ``numpy_seconds``, ``add_seconds`` and
        ``classes`` (K for cross_entropy; 1 where it is missing).
    ops : sequence of str, optional
        The operations to draw, a panel each, in that order; by default those of `results`
        in the order of ``lossfuse._bench.OPS``.
    title : str, optional
        The figure's title; by default a description of what is drawn.

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot: nothing to close.  Its legend (``fig.subfigs[1].legends[0]``)
        names
        every loss, dtype and thread count drawn, and the references.

    Raises
    ------
    lossfuse._optional.MissingDependencyError
        Without matplotlib.
    TypeError
        If `results` is not a sequence of mappings, or `ops` not a sequence of names.
    ValueError
        If `results` is empty, a row lacks a key of `KEYS` or has a value that is not what
        it must be (a name, a positive integer, a positive finite number), a case appears
        twice, or `ops` is empty or names an unknown operation or one without results.
    """
    import_optional("matplotlib", "--plot")
    from matplotlib.figure import Figure
    from lossfuse import _bench
    rows = _checked(results)
    ops = _ops(rows, ops)
    multiclass = [_bench.family(r["loss"]) == "multiclass" for r in rows]
    ce = [r for r, m in zip(rows, multiclass) if m]
    panel_rows = [part for part in ([r for r, m in zip(rows, multiclass) if not m], ce) if part]
    colours = _colours(rows)
    threads = sorted({r["threads"] for r in rows})
    dtypes = sorted({r["dtype"] for r in rows}, key=lambda d: (d not in STYLES, d))
    more = itertools.cycle(_MORE_STYLES)
    styles = {d: STYLES[d] if d in STYLES else next(more) for d in dtypes}
    markers = {t: MARKERS[i % len(MARKERS)] for i, t in enumerate(threads)}
    width = max(12.5, 4.2 * len(ops) + 3.4)                   # inches, at DPI
    heights = [3.6 if part is ce else 5.0 for part in panel_rows]  # fewer lines, less room
    fig = Figure(figsize=(width, 1.0 + sum(heights)), layout="constrained")
    graphs, key = fig.subfigures(1, 2, squeeze=False, width_ratios=[width - 3.4, 3.4])[0]
    axes = graphs.subplots(len(panel_rows), len(ops), squeeze=False, sharey="row",
                           gridspec_kw={"height_ratios": heights})
    order = [name for names in colours.values() for name in names]
    for part, row_axes in zip(panel_rows, axes):
        for op, ax in zip(ops, row_axes):
            _panel(ax, [r for r in part if r["op"] == op], order, colours, styles, markers)
            ax.set_title(op + (" (cross_entropy)" if part is ce else ""), fontsize=11)
            ax.set_xlabel("n (rows of n x K)" if part is ce else "n (elements)")
        row_axes[0].set_ylabel("throughput (GB/s)")
    _legend(key, colours, styles, markers)
    fig.suptitle((title or "lossfuse bench") + "\nthroughput: the bytes an operation reads "
                 "and writes per second of a call (higher is faster)", fontsize=12)
    return fig


def _checked(results: Sequence[Result]) -> List[Result]:
    """The rows of `results`, checked as `figure` says (with ``classes`` filled in)."""
    if isinstance(results, (str, bytes, Mapping)) or not isinstance(results, Sequence):
        raise TypeError("results must be a sequence of result rows (the \"results\" of a "
                        f"saved run), not {type(results).__name__}")
    if not results:
        raise ValueError("results is empty: nothing to plot")
    rows, seen = [], set()
    for i, r in enumerate(results):
        if not isinstance(r, Mapping):
            raise TypeError(f"results[{i}] must be a mapping, not {type(r).__name__}")
        row = dict(r, classes=r.get("classes", 1))
        missing = [k for k in KEYS if k not in row]
        if missing:
            raise ValueError(f"results[{i}] lacks {', '.join(map(repr, missing))}")
        for k, (ok, what) in KEYS.items():
            if not ok(row[k]):
                raise ValueError(f"results[{i}][{k!r}] must be {what}, not {row[k]!r}")
        key = tuple(row[k] for k in ("loss", "op", "dtype", "n", "classes", "threads"))
        if key in seen:
            raise ValueError(f"results[{i}]: the case {key} (loss, op, dtype, n, classes, "
                             "threads) appears twice")
        seen.add(key)
        rows.append(row)
    return rows


def _ops(rows: Sequence[Result], ops: Optional[Sequence[str]]) -> List[str]:
    """The operations to draw: `ops` checked against the known ones and `rows`, or by
    default those of `rows` in the order of ``_bench.OPS``."""
    from lossfuse._bench import OPS
    present = {r["op"] for r in rows}
    if ops is None:
        return [op for op in OPS if op in present] + sorted(present - set(OPS))
    if isinstance(ops, str) or not isinstance(ops, Sequence):
        raise TypeError(f"ops must be a sequence of operation names, not {ops!r}")
    if not ops:
        raise ValueError(f"ops is empty; choose from {', '.join(OPS)}")
    unknown = [op for op in ops if op not in OPS]
    if unknown:
        raise ValueError(f"ops: unknown operation {', '.join(map(repr, unknown))}; choose "
                         f"from {', '.join(OPS)}")
    absent = [op for op in ops if op not in present]
    if absent:
        raise ValueError(f"ops: results has no rows of {', '.join(map(repr, absent))} (it has "
                         f"{', '.join(op for op in OPS if op in present)})")
    return list(dict.fromkeys(ops))


def _name(r: Result) -> str:
    """What a row's colour stands for: its loss, and its K when it has classes."""
    return r["loss"] if r["classes"] == 1 else f"{r['loss']} (K={r['classes']})"


def _colours(rows: Sequence[Result]) -> Dict[str, Dict[str, Tuple[float, float, float]]]:
    """The colour of each name (`_name`) by family, in the order of `HUES`: the names of a
    family in shades (lightness and a little hue) of the family's hue."""
    from lossfuse._bench import family
    names: Dict[str, Set[str]] = {}
    for r in rows:
        names.setdefault(family(r["loss"]), set()).add(_name(r))
    colours = {}
    for fam in [f for f in HUES if f in names] + sorted(set(names) - set(HUES)):
        hue, k = HUES.get(fam, 0.0), len(names[fam])
        saturation = 0.8 if fam in HUES else 0.0                  # an unknown family: greys
        # of hue: more losses, more room to differ; the whole cool or warm side for one family
        span = min(0.16 if len(names) > 1 else 0.4, 0.06 * (k - 1))
        colours[fam] = {
            name: colorsys.hls_to_rgb((hue + span * (t - 0.5)) % 1, 0.25 + 0.4 * t, saturation)
            for name, t in zip(sorted(names[fam]), _steps(k))}
    return colours


def _steps(k: int) -> List[float]:
    """`k` evenly spaced numbers from 0 to 1 (0.5 for one)."""
    return [i / (k - 1) for i in range(k)] if k > 1 else [0.5]


def _panel(ax: "Axes", rows: Sequence[Result], order: Sequence[str],
           colours: Mapping[str, Mapping[str, Any]], styles: Mapping[str, str],
           markers: Mapping[int, str]) -> None:
    """One operation's rows on log-log axes: per dtype, a line per series (by the `order` of
    the names, then thread count) and the references.  With a single size, each dtype has a
    share of the x range about it, its series spread over it and its references across it."""
    colour = {name: c for family in colours.values() for name, c in family.items()}
    series: Dict[_SeriesKey, List[Result]] = {}
    for r in rows:
        series.setdefault((_name(r), r["op"], r["dtype"], r["threads"]), []).append(r)
    sizes = sorted({r["n"] for r in rows})
    single = len(sizes) == 1
    dtypes = [d for d in styles if any(k[2] == d for k in series)]
    if not rows:                        # the op was run for the other row of panels only
        ax.text(0.5, 0.5, "not run", transform=ax.transAxes, ha="center", color="0.4")
    ticks = []
    for j, dtype in enumerate(dtypes):
        keys = sorted((k for k in series if k[2] == dtype),
                      key=lambda k: (order.index(k[0]), k[3]))
        lo, hi = (_SPREAD * ((j + f) / len(dtypes) - 0.5) for f in (0.08, 0.92))  # decades
        for t, key in zip(_steps(len(keys)), keys):
            name, _, _, threads = key
            rs = sorted(series[key], key=lambda r: r["n"])
            shift = 10 ** (lo + (hi - lo) * t) if single else 1
            ax.plot([r["n"] * shift for r in rs], [r["gb_per_s"] for r in rs],
                    linestyle=styles[dtype], color=colour[name], alpha=0.85, gid="lossfuse",
                    label=f"{name}, {dtype}, {_threads(threads)}", **_marks(threads, markers))
        _references(ax, [r for r in rows if r["dtype"] == dtype], styles[dtype],
                    (10 ** lo, 10 ** hi) if single else None)
        ticks.append(sizes[0] * 10 ** ((lo + hi) / 2))
    ax.set_xscale("log")
    ax.set_yscale("log")
    if single:
        ax.set_xlim(sizes[0] * 10 ** (-0.6 * _SPREAD), sizes[0] * 10 ** (0.6 * _SPREAD))
        ax.set_xticks(ticks, [f"{sizes[0]:,}\n{d}" for d in dtypes])
        ax.minorticks_off()
    ax.grid(True, which="major", color="0.88", linewidth=0.8)
    ax.grid(True, which="minor", axis="y", color="0.94", linewidth=0.5)


def _references(ax: "Axes", rows: Sequence[Result], style: str,
                span: Optional[Tuple[float, float]]) -> None:
    """np.add's throughput and NumPy's (median and range over the losses) on the data of
    `rows` (one dtype) at each of their sizes, a loss counted once (its row on the fewest
    threads: the references are timed on one); with a single size, a level across `span`
    (the factors of n its series are spread over)."""
    sizes = sorted({r["n"] for r in rows})
    add, numpy = [], []
    for n in sizes:
        fewest = {_name(r): r for r in sorted((r for r in rows if r["n"] == n),
                                              key=lambda r: -r["threads"])}
        at = list(fewest.values())
        add.append(statistics.median(_moved(r) / r["add_seconds"] for r in at))
        numpy.append(sorted(_moved(r) / r["numpy_seconds"] for r in at))
    x = sizes
    if span is not None:
        x = [sizes[0] * f for f in span]
        add, numpy = add * 2, numpy * 2
    ax.plot(x, add, linestyle=style, color="black", linewidth=2.2, alpha=0.75, gid="np.add",
            label=NP_ADD)
    ax.plot(x, [statistics.median(v) for v in numpy], linestyle=style, color="0.45",
            linewidth=1.8, gid="numpy", label=NUMPY)
    ax.fill_between(x, [v[0] for v in numpy], [v[-1] for v in numpy], color="0.5",
                    alpha=0.12, linewidth=0)


def _marks(threads: int, markers: Mapping[int, str]) -> Dict[str, Any]:
    """How a thread count draws: one thread, filled markers on a line of full width; more,
    open markers on a thinner line (so that where they meet the one-thread points, both
    show)."""
    if threads == 1:
        return dict(marker=markers[threads], markersize=5, linewidth=1.4)
    return dict(marker=markers[threads], markersize=6.5, markerfacecolor="none",
                markeredgewidth=1.2, linewidth=0.9)


def _moved(r: Result) -> float:
    """The gigabytes a row's operation reads and writes in a call."""
    return float(r["gb_per_s"] * r["seconds"])


def _threads(n: int) -> str:
    return f"{n} thread" + ("s" if n != 1 else "")


def _legend(fig: "SubFigure", colours: Mapping[str, Mapping[str, Any]],
            styles: Mapping[str, Any], markers: Mapping[int, str]) -> None:
    """The figure's legend, in `fig` (its part at the right): the losses by family (colour),
    the dtypes (line style), the thread counts (marker) and the references, each group under
    a heading."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    entries: List[Tuple[Any, str]] = []

    def group(heading: str, items: Sequence[Tuple[Any, str]]) -> None:
        entries.append((Patch(visible=False), heading))
        entries.extend(items)

    for fam, names in colours.items():
        group(f"{fam} (colour)", [(Line2D([], [], color=c, linewidth=2.5), name)
                                  for name, c in names.items()])
    group("dtype (line style)", [(Line2D([], [], color="0.2", linestyle=s), d)
                                 for d, s in styles.items()])
    group("threads (marker)", [(Line2D([], [], color="0.2", linestyle="", **_marks(n, markers)),
                                _threads(n)) for n in markers])
    group("references (1 thread)", [
        (Line2D([], [], color="black", linewidth=2.2, alpha=0.75), NP_ADD),
        ((Patch(color="0.5", alpha=0.12, linewidth=0), Line2D([], [], color="0.45",
                                                                 linewidth=1.8)), NUMPY)])
    legend = fig.legend(*zip(*entries), loc="upper left", fontsize=9,
                        frameon=False, handlelength=2.6)
    headings = {label for handle, label in entries if isinstance(handle, Patch)
                and not handle.get_visible()}
    for text in legend.get_texts():
        if text.get_text() in headings:
            text.set_fontweight("bold")
