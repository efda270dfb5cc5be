"""``lossfuse bench --load``: call latency with the machine busy, default threads against one.

A scoring service with several worker processes, or lossfuse inside code that already runs in
parallel, calls the kernels while every core has other work.  This benchmark makes that
situation itself: for each condition -- no load, then one busy process per CPU at nice 0, then
the same at nice 19 -- it starts the load, times single calls of ``loss_gradient`` (float64,
``gradient_out`` given) with the default thread count and with ``n_threads=1``, interleaved
call by call so that both see the same conditions, and reports the 50th, 90th and 99th
percentiles of the call latency.  The load processes end when the condition ends, when the
benchmark is interrupted, and on their own if the benchmark dies.

The bar: the default call's p90 stays within 1.5x the one-thread call's p90 at every size.

Then code that is parallel already: four Python threads calling ``loss_gradient`` at once with
the default thread count, against two Python threads with ``n_threads=1`` (one per core on two
cores), in aggregate calls per second (bar: at least 0.9x); and, for scale, four Python threads
with ``n_threads=1`` against the same two (what four callers cost without any pool).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from typing import Callable, Dict, List, Optional, Sequence, TextIO, Tuple, TypedDict

import numpy as np

import lossfuse as lf

SIZES = (10_000, 100_000, 1_000_000, 10_000_000)
LOSSES = ("squared_error", "binary_cross_entropy")
CONDITIONS = (("idle", None), ("nice 0", 0), ("nice 19", 19))
BAR = 1.5                  # default p90 / one-thread p90
CASE_SECONDS = 2.0         # timing budget of one case (both call kinds together)
MIN_CALLS, MAX_CALLS = 40, 3000

# A busy loop at a given niceness that ends by itself once its parent is gone.
_BUSY = """
import os, sys
os.nice(int(sys.argv[1]))
parent = os.getppid()
while os.getppid() == parent:
    for _ in range(200000):
        pass
"""


class LatencyRow(TypedDict):
    """A row of `run` (and of its table, and of ``--save``): call latencies, in microseconds."""

    load: str                   # the condition: "idle", "nice 0", "nice 19"
    loss: str
    n: int
    calls: int                  # calls timed of each kind
    default_us: List[float]     # percentiles 50, 90, 99 of the default call
    one_thread_us: List[float]  # ... and of the call with n_threads=1
    p90_ratio: float            # default p90 / one-thread p90


class ThroughputRow(TypedDict):
    """A row of `run_nested`: aggregate calls per second of parallel callers."""

    loss: str
    n: int
    four_default: float         # four callers on the default thread count
    two_single: float           # two callers, n_threads=1
    four_single: float          # four callers, n_threads=1
    ratio: float                # four_default / two_single


class Load:
    """`n` busy processes at niceness `nice` while the ``with`` block runs (none for None)."""

    def __init__(self, n: int, nice: Optional[int]) -> None:
        self.n, self.nice = n, nice
        self.procs: List[subprocess.Popen[bytes]] = []

    def __enter__(self) -> "Load":
        if self.nice is not None:
            for _ in range(self.n):
                self.procs.append(subprocess.Popen(
                    [sys.executable, "-c", _BUSY, str(self.nice)],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL))
            time.sleep(0.3)        # let them start and settle on the cores
        return self

    def __exit__(self, *exc: object) -> None:
        for p in self.procs:
            p.kill()
        for p in self.procs:
            p.wait()
        self.procs = []


def latencies(name: str, n: int, seconds: float = CASE_SECONDS) -> Dict[str, List[float]]:
    """Seconds per call of `name`'s loss_gradient on n float64 elements, by call kind
    ("default", "1 thread"), the two kinds alternating call by call."""
    from ._bench import problem
    y, p = problem(name, np.float64, n)
    g = np.empty_like(p)
    loss = lf.get_loss(name)
    calls: Dict[str, Callable[[], object]] = {
        "default": lambda: loss.loss_gradient(y, p, gradient_out=g),
        "1 thread": lambda: loss.loss_gradient(y, p, gradient_out=g, n_threads=1)}
    for f in calls.values():       # warm up: pages of g, the pool's workers
        f()
        f()
    out: Dict[str, List[float]] = {k: [] for k in calls}
    clock = time.perf_counter
    end = clock() + seconds
    while len(out["default"]) < MAX_CALLS and (len(out["default"]) < MIN_CALLS
                                               or clock() < end):
        for k, f in calls.items():
            t0 = clock()
            f()
            out[k].append(clock() - t0)
    return out


def run(sizes: Sequence[int] = SIZES, losses: Sequence[str] = LOSSES,
        conditions: Sequence[Tuple[str, Optional[int]]] = CONDITIONS,
        seconds: float = CASE_SECONDS, out: Optional[TextIO] = None) -> List[LatencyRow]:
    """Time every (condition, loss, size); print a table to `out`; return the rows."""
    out = sys.stdout if out is None else out
    cpus = lf._threads.available_cpus()
    head = (f"{'load':8s} {'loss':21s} {'n':>9s} {'calls':>6s} | {'default us: p50':>15s} "
            f"{'p90':>9s} {'p99':>9s} | {'1 thread us: p50':>16s} {'p90':>9s} {'p99':>9s} | "
            f"{'p90 ratio':>9s}")
    print(f"# lossfuse {lf.__version__}, kernels {lf.kernel_info()['isa']}, default threads "
          f"{lf.get_num_threads()}, load: {cpus} busy process(es)", file=out)
    print(head, file=out)
    print("-" * len(head), file=out)
    rows: List[LatencyRow] = []
    for label, nice in conditions:
        with Load(cpus, nice):
            for name in losses:
                for n in sizes:
                    t = latencies(name, n, seconds)
                    q = {k: np.percentile(np.array(v) * 1e6, [50, 90, 99]) for k, v in t.items()}
                    ratio = q["default"][1] / q["1 thread"][1]
                    row: LatencyRow = {
                        "load": label, "loss": name, "n": n, "calls": len(t["default"]),
                        "default_us": q["default"].tolist(),
                        "one_thread_us": q["1 thread"].tolist(), "p90_ratio": ratio}
                    rows.append(row)
                    d, o = q["default"], q["1 thread"]
                    print(f"{label:8s} {name:21s} {n:9d} {row['calls']:6d} | {d[0]:15.1f} "
                          f"{d[1]:9.1f} {d[2]:9.1f} | {o[0]:16.1f} {o[1]:9.1f} {o[2]:9.1f} | "
                          f"{ratio:9.2f}{'' if ratio <= BAR else '  > ' + str(BAR)}",
                          file=out, flush=True)
    worst = max(rows, key=lambda r: r["p90_ratio"])
    print(f"worst p90 ratio {worst['p90_ratio']:.2f} ({worst['load']}, {worst['loss']}, "
          f"n={worst['n']}); bar: <= {BAR}", file=out)
    return rows


NESTED_SIZES = (100_000, 1_000_000)
NESTED_BAR = 0.9


def throughput(name: str, n: int, callers: int, n_threads: Optional[int],
               seconds: float = 1.0) -> float:
    """Calls per second of `callers` Python threads each calling `name`'s loss_gradient on n
    float64 elements (outputs of their own) with `n_threads`, all at once."""
    from ._bench import problem
    y, p = problem(name, np.float64, n)
    loss = lf.get_loss(name)
    counts = [0] * callers
    start, stop = threading.Barrier(callers + 1), threading.Event()

    def caller(k: int) -> None:
        g = np.empty_like(p)
        loss.loss_gradient(y, p, gradient_out=g, n_threads=n_threads)
        start.wait()
        while not stop.is_set():
            loss.loss_gradient(y, p, gradient_out=g, n_threads=n_threads)
            counts[k] += 1

    threads = [threading.Thread(target=caller, args=(k,)) for k in range(callers)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - t0)


def run_nested(sizes: Sequence[int] = NESTED_SIZES, losses: Sequence[str] = LOSSES,
               seconds: float = 1.0, rounds: int = 3,
               out: Optional[TextIO] = None) -> List[ThroughputRow]:
    """Four callers on the default thread count against two on one thread each, alternating
    `rounds` times (medians); print a table; return the rows."""
    out = sys.stdout if out is None else out
    head = (f"{'loss':21s} {'n':>9s} | {'4 callers, default':>18s} {'2 callers, 1 thread':>19s} "
            f"{'4 callers, 1 thread':>19s} | {'ratio':>6s} {'4 x 1 thread':>12s}")
    print(f"\n# parallel callers: aggregate calls/s\n{head}\n{'-' * len(head)}", file=out)
    rows: List[ThroughputRow] = []
    for name in losses:
        for n in sizes:
            four: List[float] = []
            two: List[float] = []
            four_single: List[float] = []
            for _ in range(rounds):
                four.append(throughput(name, n, 4, None, seconds))
                two.append(throughput(name, n, 2, 1, seconds))
                four_single.append(throughput(name, n, 4, 1, seconds))
            a, b, c = (float(np.median(x)) for x in (four, two, four_single))
            rows.append({"loss": name, "n": n, "four_default": a, "two_single": b,
                         "four_single": c, "ratio": a / b})
            print(f"{name:21s} {n:9d} | {a:18.1f} {b:19.1f} {c:19.1f} | {a / b:6.2f} "
                  f"{c / b:12.2f}{'' if a / b >= NESTED_BAR else '  < ' + str(NESTED_BAR)}",
                  file=out, flush=True)
    return rows


def command(args: argparse.Namespace) -> int:
    """``lossfuse bench --load`` on its parsed arguments (the command line is
    `lossfuse.__main__`'s): print the tables, return 0."""
    conditions = [c for c in CONDITIONS if c[0] in args.conditions]
    rows = run(args.sizes, args.losses, conditions, args.seconds)
    nested: List[ThroughputRow] = [] if args.no_nested else run_nested(losses=args.losses)
    if args.save:
        from ._bench import machine_info, save_json
        save_json(args.save, {"machine": machine_info(), "results": rows, "nested": nested})
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``lossfuse bench --load ARGS``: `argv` are the arguments after ``bench`` (default:
    ``sys.argv[1:]``; ``--load`` among them or not); returns the exit status."""
    from .__main__ import main as lossfuse
    return lossfuse(["bench", "--load", *(sys.argv[1:] if argv is None else argv)])
