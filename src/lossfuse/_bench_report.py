"""What ``lossfuse bench`` prints: the table of a run as it goes (compact, or ``--wide``),
its summary, the README's Markdown tables of a saved run (``--report``) and the comparison of
two runs (``--compare``).  Nothing here times anything: it formats result rows (see
`lossfuse._bench.Result`)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

#: A row of results (see `lossfuse._bench`)
Result = Dict[str, Any]


def size(r: Result) -> str:
    """A case's size as the tables show it: n, or ROWSxK for cross_entropy."""
    return f"{r['n']}x{r['classes']}" if r["loss"] == "cross_entropy" else str(r["n"])


def duration(seconds: float) -> str:
    """`seconds` in the unit that shows it with 3-4 significant digits: ``"812 ns"``,
    ``"12.3 us"``, ``"4.56 ms"``, ``"1.23 s"``."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            break
    else:
        unit, scale = "ns", 1e-9
    v = seconds / scale
    return f"{v:#.3g} {unit}" if v < 100 else f"{v:.0f} {unit}"


def _ratio(v: Optional[float]) -> str:
    return "" if v is None else f"{v:.2f}"


class Table:
    """The table `lossfuse bench` prints row by row while it runs.

    Compact (the default, under 100 columns): loss, op, dtype, n, threads, lossfuse's time
    per call, the speedups over NumPy and over np.add (``x limit``: 1.0 is the streaming
    limit) and the spread.  `wide` adds NumPy's and np.add's times, GB/s, the speedup over the
    narrower instruction-set build and over N threads."""

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
        """The line of result row `r`."""
        cells = {"loss": r["loss"], "op": r["op"], "dtype": r["dtype"], "n": size(r),
                 "thr": str(r["threads"]), "time": duration(r["seconds"]),
                 "numpy": duration(r["numpy_seconds"]), "np.add": duration(r["add_seconds"]),
                 "x numpy": _ratio(r["speedup_vs_numpy"]),
                 "x limit": _ratio(r["fraction_of_add"]), "spread": f"{r['spread']:.2f}",
                 "GB/s": f"{r['gb_per_s']:.1f}"}
        cells.update((name, _ratio(r.get("dispatch_speedup"))) for name, _ in self.cols
                     if name.startswith("x ") and name not in cells and "thr" not in name)
        cells.update((name, _ratio(r.get("thread_speedup"))) for name, _ in self.cols
                     if name.endswith(" thr"))
        return self._line([cells[name] for name, _ in self.cols])
