"""``lossfuse bench --compare``: two runs compared case by case, with a significance test.

What is compared is each case's speedup over NumPy: a ratio taken within one run, so it
carries across machines of different speed where absolute times do not.  A run saves, for
every case, the ratio of each timed round (``samples["speedup_vs_numpy"]``); the rounds of the
base run and of the new one are compared with a two-sided Mann-Whitney U test, which assumes
nothing of the shape of timing noise (long-tailed, skewed by interruptions).  A case has
*regressed* when its change is significant (p < `alpha`) and its speedup over NumPy fell by
`max_slowdown` or more; it has *improved* when the change is significant and it rose by that
much.  The test needs enough rounds: with 3 rounds a side no ordering of the rounds is rarer
than p = 0.1, so such a case is reported as untestable, never as unchanged.

Nothing here times anything: it reads result rows (see `lossfuse._bench.Result`).
"""

from __future__ import annotations

import collections
import functools
import math
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from lossfuse._bench_report import size

#: A row of results (see `lossfuse._bench`)
Result = Dict[str, Any]
#: A case and its thread count: (loss, op, dtype, n, classes, threads)
Key = Tuple[Any, ...]

#: The exact null distribution of U is used when there are no ties and both samples have at
#: most this many values; the normal approximation otherwise.
EXACT_MAX = 50

REGRESSION, IMPROVEMENT, UNCHANGED = "regression", "improvement", "unchanged"
#: Both runs hold the case but the test cannot decide: too few rounds, or none saved.
INCONCLUSIVE = "inconclusive"
#: The case is only in the new run (NEW) or only in the base run (MISSING).
NEW, MISSING = "new", "missing"
#: How far within a threshold a change still counts as reaching it (rounding, not timing)
_SLACK = 1e-9
#: The order in which `compare_table` lists the verdicts.
VERDICTS = (REGRESSION, IMPROVEMENT, NEW, MISSING, INCONCLUSIVE, UNCHANGED)


# ------------------------------------------------------------------------------ the U test
def _sample(values: Any, name: str) -> np.ndarray:
    a = np.asarray(values)
    if a.size and a.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers, not {a.dtype}")
    a = a.astype(float)
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, not of shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name} is empty: the test needs at least one value a side")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} holds a value that is not finite (NaN or infinity)")
    return a


@functools.lru_cache(maxsize=256)
def _u_counts(m: int, n: int) -> Tuple[int, ...]:
    """How many of the C(m + n, m) equally likely orderings of two untied samples of sizes m
    and n give U = 0, 1, ..., m*n: the coefficients of the Gaussian binomial
    [m + n, m]_q = prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i), in exact integers."""
    top = m * n
    c = [1] + [0] * top
    for i in range(1, m + 1):
        for k in range(top, n + i - 1, -1):      # times (1 - q^(n+i)), cut at degree m*n ...
            c[k] -= c[k - n - i]
        for k in range(i, top + 1):              # ... over (1 - q^i): a polynomial again
            c[k] += c[k - i]
    return tuple(c)


def _exact_p(u: float, m: int, n: int) -> float:
    """Two-sided exact p of U = `u` (the larger of U1 and U2): twice P(U >= u), at most 1."""
    counts = _u_counts(min(m, n), max(m, n))
    tail = sum(counts[math.ceil(u):])
    return min(1.0, 2.0 * tail / math.comb(m + n, m))


def _normal_p(u: float, m: int, n: int, ties: np.ndarray) -> float:
    """Two-sided p of U = `u` (the larger of U1 and U2) by the normal approximation, its
    variance corrected for `ties` (the sizes of the groups of equal values) and with a
    continuity correction of 1/2."""
    total = m + n
    tie_term = float(np.sum(ties ** 3 - ties))
    var = m * n / 12.0 * ((total + 1) - tie_term / (total * (total - 1)))
    if var <= 0.0:                       # every value equal: nothing to tell the runs apart
        return 1.0
    z = (u - m * n / 2.0 - 0.5) / math.sqrt(var)
    return min(1.0, math.erfc(z / math.sqrt(2.0)))


def mann_whitney_u(x: Sequence[float], y: Sequence[float], method: str = "auto"
                   ) -> Tuple[float, float]:
    """Two-sided Mann-Whitney U test of two independent samples.

    Parameters
    ----------
    x, y : sequence of float
        The two samples (one-dimensional, not empty, finite).
    method : {"auto", "exact", "asymptotic"}, default "auto"
        "exact": the p-value from the exact distribution of U, which holds for samples
        without ties.  "asymptotic": the normal approximation, with tie and continuity
        corrections.  "auto": exact when there are no ties and neither sample has more than
        `EXACT_MAX` values, asymptotic otherwise.

    Returns
    -------
    U : float
        The statistic of `x`: the number of pairs (x_i, y_j) with x_i > y_j, plus half the
        number of ties.  ``len(x) * len(y) - U`` is that of `y`.
    p : float
        The two-sided p-value: the probability, were both samples drawn from one
        distribution, of a U at least as far from ``len(x) * len(y) / 2``.

    Raises
    ------
    TypeError
        A sample that holds other than real numbers (strings, booleans, complex numbers).
    ValueError
        A sample that is empty, not one-dimensional or not finite; an unknown `method`;
        ``method="exact"`` on samples with ties.

    Notes
    -----
    The same test as ``scipy.stats.mannwhitneyu(x, y, alternative="two-sided")`` with
    ``method="exact"`` or ``method="asymptotic"``, in NumPy alone.
    """
    if method not in ("auto", "exact", "asymptotic"):
        raise ValueError(f"method must be 'auto', 'exact' or 'asymptotic', not {method!r}")
    a, b = _sample(x, "x"), _sample(y, "y")
    m, n = a.size, b.size
    values, inverse, ties = np.unique(np.concatenate([a, b]), return_inverse=True,
                                      return_counts=True)
    # the rank of each value: the mean of the ranks its group of equal values spans
    ranks = (np.cumsum(ties) - (ties - 1) / 2.0)[inverse]
    u1 = float(ranks[:m].sum() - m * (m + 1) / 2.0)
    u = max(u1, m * n - u1)
    tied = values.size < m + n
    if method == "exact" and tied:
        raise ValueError("method='exact' needs samples without ties (equal values); "
                         "use 'asymptotic' or 'auto'")
    if method == "exact" or (method == "auto" and not tied and max(m, n) <= EXACT_MAX):
        return u1, _exact_p(u, m, n)
    return u1, _normal_p(u, m, n, ties.astype(float))


def min_p_value(n_x: int, n_y: int) -> float:
    """The smallest p-value `mann_whitney_u` gives for samples of `n_x` and `n_y` values
    without ties: that of two samples that do not overlap.

    Parameters
    ----------
    n_x, n_y : int
        The sample sizes, at least 1.

    Returns
    -------
    float
        ``2 / comb(n_x + n_y, n_x)`` (at most 1) where the exact test applies; e.g. 0.1 for 3
        against 3 values, so that no difference between such samples is significant at
        p < 0.1.

    Raises
    ------
    ValueError
        A size that is not a whole number >= 1.
    """
    for name, value in (("n_x", n_x), ("n_y", n_y)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1, not {value!r}")
    return mann_whitney_u(range(n_x), range(n_x, n_x + n_y))[1]


# ------------------------------------------------------------------------------ comparison
@dataclass(frozen=True)
class Change:
    """One case of two runs compared.

    Attributes
    ----------
    loss, op, dtype, n, classes, threads
        The case: what `lossfuse._bench` timed, on how many threads.
    old, new : float or None
        The speedup over NumPy in the base run and in the new run (None: not in that run).
    change : float or None
        ``new / old - 1``: -0.3 is 30% less fast against NumPy than before.
    p : float or None
        The two-sided Mann-Whitney U p-value of the per-round speedups of the two runs; None
        where a run has no rounds saved or too few for p to go below the significance level.
    significant : bool
        ``p < alpha``.
    verdict : str
        "regression", "improvement", "unchanged", "inconclusive" (too few rounds, or none
        saved), "new" (in the new run only) or "missing" (in the base run only).
    rounds : tuple of int
        The rounds of the base run and of the new run (0: none saved, or not in that run).
    """

    loss: str
    op: str
    dtype: str
    n: int
    classes: int
    threads: int
    old: Optional[float]
    new: Optional[float]
    change: Optional[float]
    p: Optional[float]
    significant: bool
    verdict: str
    rounds: Tuple[int, int]

    @property
    def key(self) -> Key:
        """(loss, op, dtype, n, classes, threads)."""
        return (self.loss, self.op, self.dtype, self.n, self.classes, self.threads)


def _key(r: Result) -> Key:
    """A row's case and thread count: what matches it with the other run's."""
    return (r["loss"], r.get("op", "loss_gradient"), r["dtype"], r["n"], r.get("classes", 1),
            r.get("threads", 1))


def _by_key(rows: Sequence[Result], name: str) -> Dict[Key, Result]:
    out: Dict[Key, Result] = {}
    for i, r in enumerate(rows):
        try:
            k = _key(r)
        except (KeyError, TypeError, AttributeError):
            raise ValueError(f"{name}[{i}] is not a result row (loss, op, dtype, n, "
                             "classes, threads)") from None
        if k in out:
            raise ValueError(f"{name}[{i}] repeats the case {' '.join(map(str, k))}")
        out[k] = r
    return out


def _speedup(r: Result, where: str) -> float:
    value = r.get("speedup_vs_numpy")
    if not isinstance(value, (int, float)) or isinstance(value, bool) or \
            not 0 < value < math.inf:
        raise ValueError(f"{where}: speedup_vs_numpy is {value!r}, not a number > 0")
    return float(value)


def _rounds(r: Result, where: str) -> List[float]:
    """The per-round speedups over NumPy of row `r` ([] where it has none saved)."""
    samples = r.get("samples")
    values = samples.get("speedup_vs_numpy") if isinstance(samples, dict) else None
    if values is None:
        return []
    if not isinstance(values, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < math.inf
            for v in values):
        raise ValueError(f"{where}: samples['speedup_vs_numpy'] is not a list of numbers > 0")
    return [float(v) for v in values]


def _check_thresholds(max_slowdown: float, alpha: float) -> None:
    if not isinstance(max_slowdown, (int, float)) or not 0 <= max_slowdown < 1:
        raise ValueError(f"max_slowdown must be a fraction in [0, 1), not {max_slowdown!r}")
    if not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise ValueError(f"alpha must be a probability in (0, 1), not {alpha!r}")


def compare(base_rows: Sequence[Result], new_rows: Sequence[Result],
            max_slowdown: float = 0.10, alpha: float = 0.05) -> List[Change]:
    """Compare two runs case by case.

    Parameters
    ----------
    base_rows, new_rows : sequence of dict
        The result rows of the base run and of the new run (as ``lossfuse bench --save``
        writes them), matched by (loss, op, dtype, n, classes, threads).
    max_slowdown : float, default 0.10
        The relative change of the speedup over NumPy that counts: a significant fall of at
        least this much is a regression, a significant rise of at least this much an
        improvement.
    alpha : float, default 0.05
        The significance level of the two-sided Mann-Whitney U test of the two runs'
        per-round speedups over NumPy.

    Returns
    -------
    list of Change
        The cases of `new_rows` in their order, then those only in `base_rows` ("missing").

    Raises
    ------
    ValueError
        A row that is not a result, repeats a case of its run or holds no positive speedup;
        a threshold out of range.
    """
    _check_thresholds(max_slowdown, alpha)
    base, new = _by_key(base_rows, "base_rows"), _by_key(new_rows, "new_rows")
    out = []
    for k in list(new) + [k for k in base if k not in new]:
        b, r, case = base.get(k), new.get(k), " ".join(map(str, k))
        old = None if b is None else _speedup(b, f"base_rows, case {case}")
        now = None if r is None else _speedup(r, f"new_rows, case {case}")
        xs = [] if b is None else _rounds(b, f"base_rows, case {case}")
        ys = [] if r is None else _rounds(r, f"new_rows, case {case}")
        change = p = None
        significant = False
        if old is None or now is None:
            verdict = NEW if old is None else MISSING
        else:
            change = now / old - 1.0
            if xs and ys and min_p_value(len(xs), len(ys)) < alpha:
                p = mann_whitney_u(xs, ys)[1]
                significant = p < alpha
            # a change at a threshold counts (10 -> 9 is a fall of 10%, though 9/10 - 1 is
            # -0.09999999999999998 in floating point): hence the slack, far below any timing
            verdict = (INCONCLUSIVE if p is None
                       else REGRESSION if significant and change <= _SLACK - max_slowdown
                       else IMPROVEMENT if significant and change >= max_slowdown - _SLACK
                       else UNCHANGED)
        loss, op, dtype, n, classes, threads = k
        out.append(Change(loss, op, dtype, n, classes, threads, old, now, change, p,
                          significant, verdict, (len(xs), len(ys))))
    return out


def regressions(changes: Sequence[Change]) -> List[Change]:
    """The changes whose verdict is "regression": what makes ``lossfuse bench --compare``
    exit with status 1 (cases in one run only, or too few rounds to test, never do)."""
    return [c for c in changes if c.verdict == REGRESSION]


# ------------------------------------------------------------------------------ the report
#: The columns of `compare_table`: text header, Markdown header, right-aligned
_COLUMNS = (("loss", "loss", False), ("op", "op", False), ("dtype", "dtype", False),
            ("n", "n", False), ("thr", "threads", True), ("old", "old x NumPy", True),
            ("new", "new x NumPy", True), ("change", "change", True), ("p", "p", True),
            ("", "verdict", False))
#: The verdicts `compare_table` lists row by row even when it does not list every case
_LISTED = (REGRESSION, IMPROVEMENT, NEW, MISSING)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _marker(c: Change) -> str:
    """The last cell of a row: what became of the case, in a word."""
    if c.verdict == INCONCLUSIVE:
        return "too few" if min(c.rounds) else "no rounds"
    if c.verdict == UNCHANGED:
        return "*" if c.significant else ""
    return {REGRESSION: "SLOWER", IMPROVEMENT: "faster"}.get(c.verdict, c.verdict)


def _cells(c: Change) -> List[str]:
    def ratio(v: Optional[float]) -> str:          # 3-4 significant digits, 6 characters
        return "" if v is None else f"{v:.2f}" if v < 100 else f"{v:.1f}"
    change = ("" if c.change is None else f"{c.change:+.1%}" if abs(c.change) < 1
              else f"{c.change:+.0%}")
    return [c.loss, c.op, c.dtype, size({"loss": c.loss, "n": c.n, "classes": c.classes}),
            str(c.threads), ratio(c.old), ratio(c.new), change,
            "" if c.p is None else f"{c.p:.2g}", _marker(c)]


def _percent(fraction: float) -> str:
    return f"{fraction * 100:g}%"


def _markdown_escape(cell: str) -> str:
    return cell.replace("|", "\\|").replace("*", "\\*")


def _rounds_needed(alpha: float) -> int:
    """The fewest rounds a side (the same in both runs) that can give p < `alpha`."""
    r = 1
    while min_p_value(r, r) >= alpha:
        r += 1
    return r


def _notes(changes: Sequence[Change], listed: Sequence[Change], max_slowdown: float,
           alpha: float) -> List[str]:
    """What the rows do not say: the cases left out of them, why a case went untested, what
    the markers mean (a note a line, or a line and its indented continuation)."""
    out = []
    hidden = [c for c in changes if c not in listed]
    same = [c for c in hidden if c.verdict == UNCHANGED]
    if same:
        small = sum(c.significant for c in same)
        out.append(f"unchanged, not listed: {_plural(len(same), 'case')}" + (
            f" ({small} of them with a significant change under {_percent(max_slowdown)})"
            if small else ""))
    if any(c.verdict == UNCHANGED and c.significant for c in listed):
        out.append(f"*: a significant change (p < {alpha:g}) under {_percent(max_slowdown)}")
    few = [c for c in changes if c.verdict == INCONCLUSIVE and min(c.rounds)]
    if few:
        (a, b), _ = collections.Counter(c.rounds for c in few).most_common(1)[0]
        out.append(f"too few rounds to test{', not listed' if few[0] in hidden else ''}: "
                   f"{_plural(len(few), 'case')}, e.g. {a} vs {b} rounds, whose p is never "
                   f"below {min_p_value(a, b):.2g}\n  (p < {alpha:g} takes "
                   f"{_rounds_needed(alpha)} rounds a side or more)")
    bare = [c for c in changes if c.verdict == INCONCLUSIVE and not min(c.rounds)]
    if bare:
        out.append(f"no per-round samples in a run{', not listed' if bare[0] in hidden else ''}"
                   f": {_plural(len(bare), 'case')} (not tested)")
    return out


def _totals(changes: Sequence[Change], max_slowdown: float, alpha: float) -> List[str]:
    """The verdict lines: the cases compared and what became of them, and the thresholds."""
    count = {v: sum(c.verdict == v for c in changes) for v in VERDICTS}
    lines = [(f"compared: {_plural(len(changes) - count[NEW] - count[MISSING], 'case')}; "
              f"regressions: {count[REGRESSION]}, improvements: {count[IMPROVEMENT]}, "
              f"unchanged: {count[UNCHANGED]}, too few rounds: {count[INCONCLUSIVE]}")]
    if count[NEW] or count[MISSING]:
        lines.append(f"in one run only (never a regression): new: {count[NEW]}, "
                     f"missing: {count[MISSING]}")
    lines.append(f"thresholds: a change of {_percent(max_slowdown)} or more in x NumPy at p < "
                 f"{alpha:g} (two-sided Mann-Whitney U test)")
    return lines


def compare_table(changes: Sequence[Change], fmt: str = "text", max_slowdown: float = 0.10,
                  alpha: float = 0.05, show_all: bool = False) -> str:
    """The comparison of two runs as a table, for a terminal or a CI job summary.

    Parameters
    ----------
    changes : sequence of Change
        What `compare` returned.
    fmt : {"text", "markdown"}, default "text"
        Plain text within 100 columns, or a GitHub-flavoured Markdown table.
    max_slowdown, alpha : float
        The thresholds `compare` was given (the table states them).
    show_all : bool, default False
        List every case.  By default the rows are the regressions, improvements and cases in
        one run only, and the unchanged cases and those with too few rounds to test are
        counted in a line each.

    Returns
    -------
    str
        A header line, the rows (regressions first, the worst first, then improvements, the
        best first, then the cases in one run only, then the rest), lines on what the rows
        leave out, and the verdict lines: cases compared, regressions, improvements, the
        thresholds.  It ends with a newline.

    Raises
    ------
    ValueError
        An unknown `fmt`, or a threshold out of range.
    """
    if fmt not in ("text", "markdown"):
        raise ValueError(f"fmt must be 'text' or 'markdown', not {fmt!r}")
    _check_thresholds(max_slowdown, alpha)
    order = {v: i for i, v in enumerate(VERDICTS)}
    worst = {REGRESSION: 1.0, IMPROVEMENT: -1.0}
    listed = sorted((c for c in changes if show_all or c.verdict in _LISTED),
                    key=lambda c: (order[c.verdict], worst.get(c.verdict, 0.0) * (c.change or 0)))
    rows = [_cells(c) for c in listed]
    notes, totals = _notes(changes, listed, max_slowdown, alpha), _totals(changes, max_slowdown,
                                                                          alpha)
    title = ("old, new: speedup over NumPy (x NumPy) in the base run and the new one; "
             "change: new / old - 1")
    if fmt == "markdown":
        lines = [title, ""]
        if rows:
            lines += ["| " + " | ".join(md for _, md, _ in _COLUMNS) + " |",
                      "| " + " | ".join("---:" if right else "---" for _, _, right in _COLUMNS)
                      + " |"]
            lines += ["| " + " | ".join(_markdown_escape(cell) for cell in row) + " |"
                      for row in rows]
            lines.append("")
        if notes:
            lines += [f"- {note}".replace("\n ", "") for note in notes] + [""]
        lines.append(f"**{totals[0]}**")
        lines += [f"<br>{line}" for line in totals[1:]]
        return "\n".join(lines) + "\n"
    lines = [title]
    if rows:
        heads = [text for text, _, _ in _COLUMNS]
        widths = [max(len(cell) for cell in column) for column in zip(heads, *rows)]

        def line(cells: Sequence[str]) -> str:
            return " ".join(cell.rjust(w) if right else cell.ljust(w)
                            for cell, w, (_, _, right) in zip(cells, widths, _COLUMNS)).rstrip()
        head = line(heads)
        lines += [head, "-" * len(head)] + [line(row) for row in rows]
    return "\n".join(lines + notes + totals) + "\n"
