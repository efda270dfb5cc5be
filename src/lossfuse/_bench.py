"""``lossfuse bench``: every loss's operations (``loss``, ``gradient``, the fused
``loss_gradient``, ``gradient_hessian``; ``--ops`` to choose) against NumPy, measured in one run.

For every loss, dtype, size and operation it times, interleaved round by round so that drift
hits all alike:

* ``lossfuse``  -- ``loss.loss_gradient(y, p, gradient_out=g, n_threads=1)`` (dispatched ISA;
  likewise ``loss``, ``gradient``, ``gradient_hessian``);
* ``baseline``  -- the same call, through the same facade, on the kernels of the next
  narrower instruction-set build (AVX2 when AVX-512 is dispatched, SSE2 when AVX2 is), to
  show what run-time dispatch buys (column ``x <isa>``);
* ``numpy``     -- the plain NumPy expression of what the operation returns (mean loss,
  gradient, hessian);
* ``np.add``    -- ``np.add(a, b, out=c)`` on arrays of the same size and dtype: two reads and
  one write, the traffic of a fused loss-and-gradient, i.e. the streaming limit;
* ``threads``   -- lossfuse on N threads (``--threads N``; by default the default call,
  ``n_threads=None``, on ``lossfuse.get_num_threads()`` threads), column ``x N thr``.

At n = 16 the ``lossfuse`` row is the whole facade call without ``gradient_out`` (what a
batch-scoring loop pays) and NumPy's is ``np.mean((p - y) ** 2)``.

Ratios are of medians over the rounds; ``spread`` is the largest relative spread of the
candidates a row compares (twice the median absolute deviation over the median): lossfuse,
the narrower build, NumPy and np.add for the row on one thread, lossfuse on N threads, NumPy
and np.add for the row on N.  A sample is the best of three loops of calls lasting about
SAMPLE_SECONDS (one call from LONG_CALL on), and a case gets as many rounds as fit in about
CASE_SECONDS, from 3 to 7 (``--rounds``: exactly that many).

The table is printed as the cases run (`lossfuse._bench_report`), then a summary per family.
``--save`` writes the results, each row with its per-round samples, and the machine as JSON
(schema SCHEMA); ``--report RUN.json`` prints a saved run's table and summary, or in Markdown
the README's tables; ``--compare BASE.json [NEW.json]`` times the cases of a saved run again
(or takes them from NEW.json) and compares each case's speedup over NumPy -- a ratio
measured within one run, so it carries across machines of different speed -- with a
Mann-Whitney U test on the rounds (`lossfuse._bench_compare`): exit status 1 where it fell
significantly by ``--max-slowdown`` or more.  ``--plot`` draws the run
(`lossfuse._bench_plot`).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import functools
import io
import json
import os
import sys
import time
from typing import (Any, Callable, Dict, List, Mapping, Optional, Sequence, TextIO, Tuple,
                    TypeVar, Union)

import numpy as np
from numpy.typing import DTypeLike, NDArray

import lossfuse as lf
from lossfuse import _api
from lossfuse._kernels import available, kernels
from lossfuse._bench_plot import check_plot, machine_title, plot
from lossfuse._bench_report import Table
from lossfuse._progress import ProgressBar

_T = TypeVar("_T")
_Floats = NDArray[np.floating[Any]]
#: A part of what a NumPy formulation returns: the mean loss, the gradient or the hessian
_Part = Union[np.floating[Any], _Floats]
_Parts = Tuple[_Part, ...]
#: The callables to time, by candidate name ("lossfuse", "numpy", ...)
Candidates = Dict[str, Callable[[], object]]
#: A case: (loss, operation, dtype, n, classes)
Case = Tuple[str, str, str, int, int]
#: A row of results, as --save writes it to JSON and --compare reads it back
Result = Dict[str, Any]
#: Rounds per case: that many, or as many as fit in CASE_SECONDS within (low, high) bounds,
#: or None: within ROUNDS
Rounds = Union[int, Tuple[int, int], None]

# the build one step narrower than the dispatched one: what the widest build is measured against
NARROWER = list(available)[max(0, list(available.values()).index(kernels) - 1)]

# The plain NumPy formulation of each mean loss, its gradient and its (diagonal) hessian, as a
# careful user writes it: `need` names the parts an operation asks for ("loss", "gradient",
# "hessian"), each computed only when needed, intermediates shared, returned in that order.
# `tests/test_bench.py` checks every one against lossfuse.
OPS = {"loss": ("loss",), "gradient": ("gradient",), "loss_gradient": ("loss", "gradient"),
       "gradient_hessian": ("gradient", "hessian")}


def _parts(need: Sequence[str], **parts: Callable[[], _Part]) -> _Parts:
    return tuple(parts[k]() for k in need)


def _once(compute: Callable[[], _T]) -> Callable[[], _T]:
    """`compute`, run at most once: an intermediate of the parts that need it, computed only
    if one of them is asked for."""
    return functools.lru_cache(maxsize=None)(compute)


def _np_squared_error(y: _Floats, p: _Floats, need: Sequence[str]) -> _Parts:
    d = p - y
    return _parts(need, loss=lambda: np.mean(d * d), gradient=lambda: 2 * d / d.size,
                  hessian=lambda: np.full_like(d, 2 / d.size))


def _np_absolute_error(y: _Floats, p: _Floats, need: Sequence[str]) -> _Parts:
    d = p - y
    return _parts(need, loss=lambda: np.mean(np.abs(d)), gradient=lambda: np.sign(d) / d.size,
                  hessian=lambda: np.zeros_like(d))


def _np_huber(y: _Floats, p: _Floats, need: Sequence[str], delta: float = 1.0) -> _Parts:
    d = p - y
    a = _once(lambda: np.abs(d))
    return _parts(need,
                  loss=lambda: np.mean(np.where(a() <= delta, 0.5 * d * d,
                                                delta * (a() - 0.5 * delta))),
                  gradient=lambda: np.clip(d, -delta, delta) / d.size,
                  hessian=lambda: (a() <= delta) * d.dtype.type(1 / d.size))


def _np_smooth_l1(y: _Floats, p: _Floats, need: Sequence[str], beta: float = 1.0) -> _Parts:
    d = p - y
    a = _once(lambda: np.abs(d))
    return _parts(need,
                  loss=lambda: np.mean(np.where(a() < beta, 0.5 * d * d / beta,
                                                a() - 0.5 * beta)),
                  gradient=lambda: np.clip(d / beta, -1, 1) / d.size,
                  hessian=lambda: (a() < beta) * d.dtype.type(1 / beta / d.size))


def _np_pseudo_huber(y: _Floats, p: _Floats, need: Sequence[str], delta: float = 1.0
                     ) -> _Parts:
    d = p - y
    s = np.sqrt(1 + (d / delta) ** 2)
    return _parts(need, loss=lambda: np.mean(delta * delta * (s - 1)),
                  gradient=lambda: d / s / d.size, hessian=lambda: s ** -3 / d.size)


def _np_log_cosh(y: _Floats, p: _Floats, need: Sequence[str]) -> _Parts:
    d = p - y
    t = _once(lambda: np.tanh(d))
    return _parts(need, loss=lambda: np.mean(np.logaddexp(d, -d) - np.log(2)),
                  gradient=lambda: t() / d.size, hessian=lambda: (1 - t() * t()) / d.size)


def _np_pinball(y: _Floats, p: _Floats, need: Sequence[str], alpha: float = 0.5) -> _Parts:
    d = p - y
    return _parts(need, loss=lambda: np.mean(np.where(d >= 0, (1 - alpha) * d, -alpha * d)),
                  gradient=lambda: np.where(d < 0, -alpha, 1 - alpha) / d.size,
                  hessian=lambda: np.zeros_like(d))


def _np_poisson(y: _Floats, p: _Floats, need: Sequence[str]) -> _Parts:
    # 2 (y log y - y p - y + mu), mu = exp(p), with y log y = 0 at y = 0
    mu = np.exp(p)

    def loss() -> np.floating[Any]:
        ylogy = y * np.log(y, out=np.zeros_like(y), where=y > 0)
        return np.mean(2 * (ylogy - y * p - y + mu))
    return _parts(need, loss=loss, gradient=lambda: 2 * (mu - y) / p.size,
                  hessian=lambda: 2 * mu / p.size)


def _np_gamma(y: _Floats, p: _Floats, need: Sequence[str]) -> _Parts:
    # 2 (log(mu / y) + y / mu - 1)
    z = y * np.exp(-p)
    return _parts(need, loss=lambda: np.mean(2 * (p - np.log(y) + z - 1)),
                  gradient=lambda: 2 * (1 - z) / p.size, hessian=lambda: 2 * z / p.size)


def _np_tweedie(y: _Floats, p: _Floats, need: Sequence[str], power: float = 1.5) -> _Parts:
    # 2 (y^(2-power) / ((1-power)(2-power)) - y mu^(1-power) / (1-power) + mu^(2-power) / (2-power))
    b = y * np.exp((1 - power) * p)
    c = np.exp((2 - power) * p)
    return _parts(need,
                  loss=lambda: np.mean(2 * (np.power(y, 2 - power) / ((1 - power) * (2 - power))
                                            - b / (1 - power) + c / (2 - power))),
                  gradient=lambda: 2 * (c - b) / p.size,
                  hessian=lambda: 2 * ((2 - power) * c - (1 - power) * b) / p.size)


def _np_binary_cross_entropy(y: _Floats, p: _Floats, need: Sequence[str]) -> _Parts:
    # softplus(p) - y p is the loss from logits; sigmoid as exp(-softplus(-p)), both stable
    s = _once(lambda: np.exp(-np.logaddexp(0, -p)))
    return _parts(need, loss=lambda: np.mean(np.logaddexp(0, p) - y * p),
                  gradient=lambda: (s() - y) / p.size, hessian=lambda: s() * (1 - s()) / p.size)


def _np_hinge(y: _Floats, p: _Floats, need: Sequence[str]) -> _Parts:
    t = 2 * y - 1
    m = 1 - t * p
    return _parts(need, loss=lambda: np.mean(np.maximum(m, 0)),
                  gradient=lambda: np.where(m > 0, -t, 0) / p.size,
                  hessian=lambda: np.zeros_like(p))


def _np_squared_hinge(y: _Floats, p: _Floats, need: Sequence[str]) -> _Parts:
    t = 2 * y - 1
    m = np.maximum(1 - t * p, 0)
    return _parts(need, loss=lambda: np.mean(m * m), gradient=lambda: -2 * t * m / p.size,
                  hessian=lambda: np.where(m > 0, 2 / p.size, 0))


def _np_exponential(y: _Floats, p: _Floats, need: Sequence[str]) -> _Parts:
    t = 2 * y - 1
    e = np.exp(-t * p)
    return _parts(need, loss=lambda: np.mean(e), gradient=lambda: -t * e / p.size,
                  hessian=lambda: e / p.size)


def _np_cross_entropy(y: NDArray[np.integer[Any]], p: _Floats,
                      need: Sequence[str] = ("loss", "gradient")) -> _Parts:
    # log-sum-exp with the row max; softmax minus one-hot, as a careful NumPy user writes it
    n: int = p.shape[0]
    rows = np.arange(n)
    m: _Floats = p.max(axis=1, keepdims=True)
    z = p - m
    e = np.exp(z)
    s: _Floats = e.sum(axis=1, keepdims=True)

    def gradient() -> _Floats:
        g = e / s
        g[rows, y] -= 1
        g /= n
        return g

    def hessian() -> _Floats:
        q: _Floats = e / s
        return q * (1 - q) / n
    return _parts(need, loss=lambda: np.mean(np.log(s[:, 0]) - z[rows, y]), gradient=gradient,
                  hessian=hessian)


CLASSIFICATION = ("binary_cross_entropy", "hinge", "squared_hinge", "exponential")
DEVIANCES = ("poisson", "gamma", "tweedie")          # tweedie at its default power, 1.5
# cross_entropy: (rows, classes) (--ce-shapes)
CE_CASES = ((16, 10), (100_000, 2), (100_000, 10), (10_000, 1000))
CE_QUICK = ((16, 10), (1_000, 10))
NUMPY: Dict[str, Callable[[_Floats, _Floats, Sequence[str]], _Parts]] = {
    name[4:]: f for name, f in globals().items()
    if name.startswith("_np_") and name != "_np_cross_entropy"}
LOSSES = sorted(list(NUMPY) + ["cross_entropy"])
SIZES = (16, 10_000, 1_000_000, 10_000_000)
DTYPES = ("float32", "float64")
QUICK_SIZES = (16, 1_000)      # --quick: these sizes (unless --sizes says), ...
QUICK_ROUNDS = 5               # ... this many rounds (unless --rounds says), ...
QUICK_SAMPLE_SECONDS = 2e-4    # ... and samples this long
CE_CLASSES = 10                # cross_entropy's classes for --sizes without --ce-shapes
COMPARE_ROUNDS = 5             # --compare: at least this many rounds (unless --rounds says):
#                                a U test of 5 against 3 or more reaches p < 0.05


#: The version of the JSON that --save writes: 2 added each row's per-round `samples` (which
#: --compare's significance test needs), its `family` and `classes` on every row.
SCHEMA = 2

SAMPLE_SECONDS = 2e-3    # one sample of a candidate: calls back to back for about this long
LONG_CALL = 0.02         # a call at least this long (n = 1e7) is a sample on its own
CASE_SECONDS = 1.0       # the timed rounds of a case: about this long by default ...
ROUNDS = (3, 7)          # ... but at least 3 rounds (the spread needs them) and at most 7


def _per_call(fn: Callable[[], object]) -> float:
    """Seconds per call of `fn`, after a first call (page in outputs, load code) unless that
    took LONG_CALL: loops of 1, 10, 100, ... calls until one lasts a tenth of SAMPLE_SECONDS."""
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    if first >= LONG_CALL:
        return first
    loops = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        dt = time.perf_counter() - t0
        if dt >= SAMPLE_SECONDS / 10 or loops >= 1_000_000:
            return dt / loops
        loops *= 10


def _timer(fn: Callable[[], object], per_call: float, repeats: int | None = None
           ) -> Tuple[Callable[[], float], float]:
    """A callable timing `fn` -- in a loop of calls lasting about SAMPLE_SECONDS, given its
    time `per_call` -- `repeats` times back to back, giving the least seconds per call, and
    the seconds that takes.  By default 3 times: the other candidates' memory traffic slows
    the first calls after them for longer than one call (measured at 1e6: the first of three
    np.add calls after NumPy's formulation up to 2-3x the others), and noise only adds time;
    once for calls of LONG_CALL or more, which stream their data from memory either way
    (measured at 1e7: the speedups over NumPy of best-of-one and best-of-three samples agree
    within the spread) and would otherwise take most of the run."""
    if repeats is None:
        repeats = 1 if per_call >= LONG_CALL else 3
    loops = max(1, round(SAMPLE_SECONDS / per_call))

    def timed() -> float:
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            for _ in range(loops):
                fn()
            best = min(best, (time.perf_counter() - t0) / loops)
        return best
    return timed, repeats * loops * per_call


def _time_all(candidates: Mapping[str, Callable[[], object]], rounds: Rounds = None
              ) -> Tuple[Dict[str, float], float]:
    """Median seconds per candidate and the largest relative spread among them
    (`_time_rounds`, `_stats`)."""
    med, spreads = _stats(_time_rounds(candidates, rounds))
    return med, max(spreads.values())


def _time_rounds(candidates: Mapping[str, Callable[[], object]], rounds: Rounds = None
                 ) -> Dict[str, List[float]]:
    """Seconds per call of each candidate, one sample per round, the candidates timed
    interleaved, round after round.

    A round's sample of a candidate is the best of a few calls back to back (see `_timer`),
    and the order of the candidates rotates from round to round, so that no candidate always
    follows the same one.  `rounds`: that many; (low, high): as many as fit in CASE_SECONDS
    within those bounds; None: within ROUNDS."""
    timers = {k: _timer(f, _per_call(f)) for k, f in candidates.items()}
    if not isinstance(rounds, int):
        low, high = rounds or ROUNDS
        cost = sum(c for _, c in timers.values())           # seconds per round
        rounds = min(high, max(low, int(CASE_SECONDS / cost)))
    names = list(timers)
    samples: Dict[str, List[float]] = {k: [] for k in timers}
    for r in range(rounds):
        for k in names[r % len(names):] + names[:r % len(names)]:
            samples[k].append(timers[k][0]())
    return samples


def _stats(samples: Mapping[str, Sequence[float]]
           ) -> Tuple[Dict[str, float], Dict[str, float]]:
    """Median and relative spread of each candidate's samples.  The spread is twice the
    median absolute deviation over the median: the interquartile range for normal noise, and
    like the median not thrown by one outlier among a few rounds (NumPy's formulations at
    1e7, which allocate hundreds of MB a call, take up to 10x their usual time now and
    then)."""
    med = {k: float(np.median(v)) for k, v in samples.items()}
    spreads = {k: 2 * float(np.median(np.abs(np.subtract(v, med[k])))) / med[k]
               for k, v in samples.items()}
    return med, spreads


# The candidates whose times make each row: the row on one thread, and that on `threads`.
_ONE_THREAD_ROW = ("lossfuse", "baseline", "numpy", "np.add")
_THREADS_ROW = ("threads", "numpy", "np.add")


def family(loss: str) -> str:
    """The family of a loss, as the summary and the plot group them: ``"regression"``,
    ``"deviance"``, ``"classification"`` (binary) or ``"multiclass"``."""
    return ("multiclass" if loss == "cross_entropy" else "deviance" if loss in DEVIANCES
            else "classification" if loss in CLASSIFICATION else "regression")


def _result(name: str, dtype: DTypeLike, n: int, samples: Mapping[str, Sequence[float]],
            nbytes: int, threads: int = 1, **extra: object) -> List[Result]:
    """The rows of results of one case from its `samples` (seconds per round by candidate):
    the row on one thread, and, when the case was timed on `threads` threads too, that row.
    Each row's ratios are of the medians of the candidates it compares, its ``spread`` the
    largest of theirs, and its ``samples`` its own per-round seconds and speedups over NumPy
    (the candidates of a round are timed together: their ratio is a sample of the speedup)."""
    med, spreads = _stats(samples)

    def row(k: str, candidates: Sequence[str], **fields: object) -> Result:
        return dict({
            "loss": name, "family": family(name), "dtype": np.dtype(dtype).name, "n": n,
            "seconds": med[k], "numpy_seconds": med["numpy"], "add_seconds": med["np.add"],
            "speedup_vs_numpy": med["numpy"] / med[k],
            "fraction_of_add": med["np.add"] / med[k],
            "gb_per_s": nbytes / med[k] / 1e9,
            "spread": max(spreads[c] for c in candidates if c in spreads),
            "samples": {"seconds": list(samples[k]),
                        "speedup_vs_numpy": [b / a for a, b in zip(samples[k],
                                                                  samples["numpy"])]},
        }, **fields, **extra)
    one = row("lossfuse", _ONE_THREAD_ROW, threads=1,
              baseline_seconds=med.get("baseline"), baseline_isa=NARROWER,
              dispatch_speedup=(med["baseline"] / med["lossfuse"]) if "baseline" in med
              else None,
              thread_speedup=(med["lossfuse"] / med["threads"]) if "threads" in med else None)
    if "threads" not in med:
        return [one]
    return [one, row("threads", _THREADS_ROW, threads=threads, baseline_seconds=None,
                     baseline_isa=NARROWER, dispatch_speedup=None, thread_speedup=None)]


# ---------------------------------------------------------------- the benchmark definitions
# One definition per case -- its data and the callables to time -- used by both runners:
# `lossfuse bench` (below) and airspeed velocity (bench/benchmarks/).

def _op_call(loss: lf.Loss, op: str, y: NDArray[Any], p: NDArray[Any],
             g: Optional[NDArray[Any]], h: Optional[NDArray[Any]],
             threads: int | None) -> Callable[[], object]:
    """lossfuse's call for operation `op`, into the outputs g, h (None: allocated), on
    `threads` threads (the default thread count is timed as the default call,
    ``n_threads=None``)."""
    if threads == lf.get_num_threads():
        threads = None
    if op == "loss":
        return lambda: loss.loss(y, p, n_threads=threads)
    if op == "gradient":
        return lambda: loss.gradient(y, p, gradient_out=g, n_threads=threads)
    if op == "loss_gradient":
        return lambda: loss.loss_gradient(y, p, gradient_out=g, n_threads=threads)
    return lambda: loss.gradient_hessian(y, p, gradient_out=g, hessian_out=h, n_threads=threads)


def _in_build(loss: lf.Loss, module: Any) -> lf.Loss:
    """A copy of `loss` whose calls run the kernels of `module` (another instruction-set
    build, `lossfuse._kernels.available`) through the same facade: both sides of the ``x
    baseline`` column are timed as a user's call runs them."""
    twin = copy.copy(loss)
    if isinstance(twin, lf.CrossEntropyLoss):
        object.__setattr__(twin, "_ce", module.CrossEntropyKernel(
            twin.params["ignore_index"], twin.params["label_smoothing"]))
        return twin
    kernel = module.LossKernel(loss._kernel.loss, loss._kernel.params)
    wide = getattr(loss._run32, "__self__", None) is not loss._kernel   # float32 in float64
    for key, value in (("_kernel", kernel), ("_run64", kernel.run_float64),
                       ("_run32", _api._in_float64(kernel) if wide else kernel.run_float32)):
        object.__setattr__(twin, key, value)
    return twin


def cross_entropy_problem(dtype: DTypeLike, n: int, K: int, seed: int = 0
                          ) -> Tuple[NDArray[np.int64], _Floats]:
    """(class indices, logits) of cross_entropy: n rows of K logits around 0 (sd 2)."""
    rng = np.random.default_rng(seed)
    p = rng.normal(0, 2, (n, K)).astype(dtype)
    return rng.integers(0, K, n), p


def cross_entropy_candidates(dtype: DTypeLike, n: int, K: int, threads: int = 1, seed: int = 0,
                             op: str = "loss_gradient") -> Candidates:
    """cross_entropy's operation `op` on n rows of K logits, class-index targets: the callables
    to time, by candidate name (see the module docstring)."""
    dtype = np.dtype(dtype)
    y, p = cross_entropy_problem(dtype, n, K, seed)
    g, h = np.empty_like(p), np.empty_like(p)
    c = np.empty_like(p)
    loss = lf.get_loss("cross_entropy")
    need = OPS[op]
    candidates: Candidates = {
        "lossfuse": _op_call(loss, op, y, p, g, h, 1),
        "baseline": _op_call(_in_build(loss, available[NARROWER]), op, y, p, g, h, 1),
        "numpy": lambda: _np_cross_entropy(y, p, need),
        "np.add": lambda: np.add(p, p, out=c),
    }
    if threads > 1 and n > 16:     # as for the elementwise losses: not for tiny inputs
        candidates["threads"] = _op_call(loss, op, y, p, g, h, threads)
    return candidates


@functools.lru_cache(maxsize=1)        # the next case is mostly another op on the same data
def problem(name: str, dtype: DTypeLike, n: int, seed: int = 0) -> Tuple[_Floats, _Floats]:
    """(y_true, y_pred) of size n for an elementwise loss: labels {0, 1} and logits for
    classification, counts or amounts around log-means for the deviances, else values with
    predictions spread around them."""
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(seed)
    y: NDArray[np.number[Any]]
    if name in CLASSIFICATION:
        y, p = rng.integers(0, 2, n), rng.normal(0, 2, n)
    elif name in DEVIANCES:        # poisson, tweedie: counts; gamma: amounts
        p = rng.normal(0, 1, n)
        mu = np.exp(p + rng.normal(0, 0.3, n))
        y = rng.gamma(2.0, mu / 2) if name == "gamma" else rng.poisson(mu)
    else:
        y = rng.normal(0, 1, n)
        p = y + rng.normal(0, 1, n)
    y_true, y_pred = y.astype(dtype), p.astype(dtype)
    y_true.flags.writeable = y_pred.flags.writeable = False    # shared by the cache: read only
    return y_true, y_pred


def candidates(name: str, dtype: DTypeLike, n: int, threads: int = 1, seed: int = 0,
               op: str = "loss_gradient") -> Candidates:
    """An elementwise loss's operation `op` (default parameters) on `problem` data: the
    callables to time, by candidate name (see the module docstring)."""
    dtype = np.dtype(dtype)
    y, p = problem(name, dtype, n, seed)
    g, h = np.empty_like(p), np.empty_like(p)
    c = np.empty_like(p)
    loss = lf.get_loss(name)
    numpy_fn, need = NUMPY[name], OPS[op]
    out: Candidates
    if n <= 16:                    # the whole facade call, as a batch-scoring loop pays it
        out = {
            "lossfuse": _op_call(loss, op, y, p, None, None, None),
            "numpy": lambda: np.mean((p - y) ** 2),
        }
    else:
        out = {
            "lossfuse": _op_call(loss, op, y, p, g, h, 1),
            "baseline": _op_call(_in_build(loss, available[NARROWER]), op, y, p, g, h, 1),
            "numpy": lambda: numpy_fn(y, p, need),
        }
        if threads > 1:
            out["threads"] = _op_call(loss, op, y, p, g, h, threads)
    out["np.add"] = lambda: np.add(y, p, out=c)
    return out


# bytes moved by each operation, in elements: inputs read, outputs written
TRAFFIC = {"loss": 2, "gradient": 3, "loss_gradient": 3, "gradient_hessian": 4}


def measure_cross_entropy(dtype: DTypeLike, n: int, K: int, rounds: Rounds = None,
                          seed: int = 0, threads: int = 1, op: str = "loss_gradient"
                          ) -> List[Result]:
    samples = _time_rounds(cross_entropy_candidates(dtype, n, K, threads, seed, op), rounds)
    moved = (1 if op == "loss" else TRAFFIC[op] - 1) * n * K * np.dtype(dtype).itemsize
    return _result("cross_entropy", dtype, n, samples, moved, threads, classes=K, op=op)


def measure(name: str, dtype: DTypeLike, n: int, rounds: Rounds = None, seed: int = 0,
            threads: int = 1, op: str = "loss_gradient") -> List[Result]:
    samples = _time_rounds(candidates(name, dtype, n, threads, seed, op), rounds)
    return _result(name, dtype, n, samples, TRAFFIC[op] * n * np.dtype(dtype).itemsize,
                   threads, classes=1, op=op)


# ------------------------------------------------------------------------------ the machine
def machine_info() -> Dict[str, object]:
    """What the numbers were measured on: CPU model and flags, cores, the instruction set the
    kernels dispatched to, compilers, versions, the git commit (of the checkout it runs from,
    else the one pip recorded or the kernels were built from) and the thread count rule."""
    import platform
    import sysconfig
    from importlib import metadata
    model = platform.processor() or platform.machine()
    flags: List[str] = []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and model in ("", platform.machine(),
                                                              platform.processor()):
                    model = value.strip()
                elif key.strip() in ("flags", "Features") and not flags:
                    flags = value.split()
    except OSError:
        pass

    def version(dist: str) -> Optional[str]:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None
    commit, dirty = _git_commit()
    if commit is None:             # installed: what pip recorded, else what built the kernels
        commit = _installed_commit() or kernels.GIT_COMMIT or None
    info = lf.kernel_info()
    return {
        "cpu": model, "cpu_flags": flags, "cores": os.cpu_count(),
        "isa": info["isa"], "isa_available": info["available"], "num_threads": info["num_threads"],
        "compiler": sysconfig.get_config_var("CC"), "python_compiler": platform.python_compiler(),
        "platform": platform.platform(), "python": platform.python_version(),
        "numpy": np.__version__, "cython": kernels.CYTHON_VERSION,
        "kernel_compiler": kernels.COMPILER, "lossfuse": lf.__version__,
        "git_commit": commit, "git_dirty": dirty, "threads_rule": threads_rule(),
    }


def _git_commit() -> Tuple[Optional[str], Optional[bool]]:
    """The commit of the checkout this package is imported from (src/lossfuse of a git work
    tree) and whether the tree has changes, or (None, None) when it is not in one."""
    import subprocess
    here = os.path.dirname(os.path.abspath(__file__))

    def git(*words: str) -> Optional[str]:
        try:
            out = subprocess.run(["git", *words], cwd=here, capture_output=True, text=True,
                                 timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None
    top = git("rev-parse", "--show-toplevel")
    if top is None or os.path.realpath(os.path.join(top, "src", "lossfuse")) != \
            os.path.realpath(here):                    # a site-packages inside another repo
        return None, None
    status = git("status", "--porcelain", "--untracked-files=no")
    return git("rev-parse", "HEAD"), (bool(status) if status is not None else None)


def _installed_commit() -> Optional[str]:
    """The commit pip recorded when it installed lossfuse from a git URL (its
    direct_url.json), if it did."""
    from importlib import metadata
    try:
        text = metadata.distribution("lossfuse").read_text("direct_url.json")
        commit = json.loads(text or "{}").get("vcs_info", {}).get("commit_id")
    except (metadata.PackageNotFoundError, ValueError, AttributeError):
        return None
    return commit if isinstance(commit, str) else None


def threads_rule() -> str:
    """How the default thread count was decided: lossfuse's order of precedence (see
    `lossfuse.get_num_threads`), as it stands in this process."""
    from lossfuse import _threads
    n = lf.get_num_threads()
    if _threads._process:
        return f"{n}: set by lossfuse.set_num_threads"
    chosen = _threads.environment_threads(warn=False)
    if chosen:
        return f"{n}: from {chosen[0]}={chosen[1]}"
    try:
        mask = f"affinity mask of {len(os.sched_getaffinity(0))} CPUs"
    except (AttributeError, OSError):
        mask = f"{os.cpu_count()} CPUs"
    quota = _threads.cgroup_cpu_quota()
    return (f"{n}: the CPUs this process may use ({mask}, cgroup CPU quota "
            + ("none" if quota is None else f"{quota:g}") + ")")


class _Progress:
    """A progress bar on stderr: the cases done, and the one running."""

    def __init__(self, total: int, stream: Optional[TextIO] = None) -> None:
        self.total, self.done, self.bar = total, 0, ProgressBar(24, stream)

    def step(self, label: str) -> None:
        self.bar.draw(self.done / max(self.total, 1), f"{self.done + 1}/{self.total} {label:40s}")
        self.done += 1

    def close(self) -> None:
        self.bar.close()


def _sizes(args: argparse.Namespace) -> Tuple[Sequence[int], Sequence[Tuple[int, int]]]:
    """The sizes of the elementwise losses and cross_entropy's shapes a run times: those
    given, else --quick's, else the defaults; --sizes alone gives cross_entropy those rows
    of CE_CLASSES classes."""
    sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
    shapes = args.ce_shapes or ([(n, CE_CLASSES) for n in args.sizes] if args.sizes
                                else CE_QUICK if args.quick else CE_CASES)
    return sizes, shapes


def _cases(args: argparse.Namespace) -> List[Case]:
    sizes, shapes = _sizes(args)
    return [(loss, op, dt, n, K) for loss in args.losses or LOSSES
            for dt in args.dtypes or DTYPES
            for n, K in (shapes if loss == "cross_entropy" else [(n, 1) for n in sizes])
            for op in args.ops or OPS]   # the ops of a case in a row: one `problem` for all


def _chosen(r: Result, args: argparse.Namespace) -> bool:
    """Whether a saved run's row is among the cases the options given choose (all, where
    none is given)."""
    if r["loss"] == "cross_entropy":
        size_ok = ((r["n"], r["classes"]) in args.ce_shapes if args.ce_shapes
                   else r["n"] in args.sizes if args.sizes else True)
    else:
        size_ok = not args.sizes or r["n"] in args.sizes
    return (size_ok and (not args.losses or r["loss"] in args.losses)
            and (not args.ops or r["op"] in args.ops)
            and (not args.dtypes or r["dtype"] in args.dtypes))


def _cases_of(results: Sequence[Result]) -> List[Case]:
    cases = [(r["loss"], r["op"], r["dtype"], r["n"], r["classes"]) for r in results]
    return sorted(set(cases), key=cases.index)          # one per thread count: once


def run(cases: Sequence[Case], rounds: Rounds = None, threads: int = 1,
        out: Optional[TextIO] = None, progress: bool = True, wide: bool = False
        ) -> List[Result]:
    """Time `cases` ((loss, op, dtype, n, classes) tuples), print the table (to `out`, default
    stdout; `wide`: with the secondary columns), return the results."""
    out = sys.stdout if out is None else out
    table = Table(cases, threads, NARROWER, wide)
    for line in table.header():
        print(line, file=out)
    bar = _Progress(len(cases)) if progress else None
    results: List[Result] = []
    for name, op, dt, n, K in cases:
        if bar:
            bar.step(f"{name} {op} {dt} n={n}" + (f"x{K}" if name == "cross_entropy" else ""))
        if name == "cross_entropy":
            rows = measure_cross_entropy(np.dtype(dt), n, K, rounds, threads=threads, op=op)
        else:
            rows = measure(name, np.dtype(dt), n, rounds, threads=threads, op=op)
        results += rows
        if bar:                            # the rows are printed where the bar was
            bar.close()
        for r in rows:
            print(table.row(r), file=out, flush=True)
    if bar:
        bar.close()
    return results


def save_json(path: str, data: Mapping[str, object]) -> None:
    """Write `data` to `path` as JSON (``--save``); an OSError names the file."""
    try:
        with open(path, "w") as f:
            json.dump(data, f, indent=1)
    except OSError as e:
        e.filename = e.filename or path
        raise


def _number(value: object, low: float = 0.0) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and low <= value < float("inf"))


def read_run(path: str, samples: bool = False) -> Dict[str, Any]:
    """A run saved with ``--save``: its rows checked to name cases this benchmark times and to
    hold their numbers, those of an older schema completed where they can be (`samples`:
    refused, when the per-round samples are needed but an older version did not save them);
    a ValueError (or OSError) says what is wrong."""
    with open(path) as f:
        try:
            data = json.load(f)
        except ValueError as e:
            raise ValueError(f"it is not JSON ({e})") from None
    if not isinstance(data, dict) or "results" not in data:
        raise ValueError("it holds no 'results' (a file that --save wrote does)")
    schema = data.get("schema", 1)
    if schema not in range(1, SCHEMA + 1):
        raise ValueError(f"its schema is {schema!r}: written by a newer lossfuse bench (this "
                         f"one, lossfuse {lf.__version__}, reads schemas 1 to {SCHEMA})")
    if samples and schema < 2:
        raise ValueError("it was written by an older lossfuse bench (schema 1), which did not "
                         "save each round's times: --compare's significance test needs them; "
                         "save the baseline again with this version")
    results = data["results"]
    if not isinstance(results, list):
        raise ValueError("'results' is not a list")
    for i, r in enumerate(results):
        if not isinstance(r, dict) or not all(k in r for k in ("loss", "dtype", "n")):
            raise ValueError(f"result {i} is not a case (loss, dtype, n)")
        r.setdefault("op", "loss_gradient")            # schema 1 rows lack these
        r.setdefault("classes", 1)
        r.setdefault("threads", 1)
        loss, op, dtype = r["loss"], r["op"], r["dtype"]
        if not all(isinstance(v, str) for v in (loss, op, dtype)) or loss not in LOSSES \
                or op not in OPS or dtype not in DTYPES:
            raise ValueError(f"result {i}: no case {loss!r} {op!r} {dtype!r} here")
        r.setdefault("family", family(loss))
        for name in ("n", "classes", "threads"):
            value = r[name]
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"result {i}: {name} is {value!r}, not a whole number >= 1")
        for name in ("seconds", "numpy_seconds", "add_seconds", "speedup_vs_numpy",
                     "fraction_of_add", "gb_per_s", "spread"):
            value = r.setdefault(name, 0.0) if name == "spread" else r.get(name)
            if not _number(value):
                raise ValueError(f"result {i}: {name} is {value!r}, not a number >= 0")
        got = r.get("samples")
        if schema >= 2 and not (isinstance(got, dict) and all(
                isinstance(got.get(k), list) and got[k] and all(map(_number, got[k]))
                for k in ("seconds", "speedup_vs_numpy"))):
            raise ValueError(f"result {i}: samples is {got!r}, not lists of seconds and "
                             "speedups")
    return data


def _say_error(message: str) -> int:
    print(f"lossfuse bench: error: {message}", file=sys.stderr)
    return 2


def command(args: argparse.Namespace) -> int:
    """``lossfuse bench`` on its parsed arguments (the command line is `lossfuse.__main__`'s):
    time the cases and print the table and summary (or, with ``--report``, those of a saved
    run); return 0, or with ``--compare`` 1 on a regression, 2 on a wrong command line."""
    global SAMPLE_SECONDS
    from lossfuse import _bench_report
    if args.report and args.compare:
        return _say_error("--report and --compare: to compare two saved runs, give both to "
                          "--compare: --compare BASE.json NEW.json")
    if args.compare and len(args.compare) > 2:
        return _say_error(f"--compare takes BASE.json and at most NEW.json, got "
                          f"{len(args.compare)} files")
    if args.plot:                  # before the run, not after it
        try:
            check_plot(args.plot)
        except ValueError as e:
            return _say_error(f"--plot {args.plot}: {e}")
    runs = []
    for option, path in ([("--report", args.report)] if args.report else []) + [
            ("--compare", p) for p in args.compare or []]:
        try:
            data = read_run(path, samples=option == "--compare")
        except (OSError, ValueError) as e:
            return _say_error(f"{option}: cannot read {path}: {getattr(e, 'strerror', None) or e}")
        data["results"] = [r for r in data["results"] if _chosen(r, args)]
        if not data["results"]:
            return _say_error(f"{option}: {path} holds no case that --losses, --ops, --dtypes, "
                              "--sizes and --ce-shapes choose")
        runs.append(data)
    markdown = args.format == "markdown"
    if args.report or len(runs) == 2:               # nothing to time
        new = runs[-1]
    else:
        base = runs[0]["results"] if runs else None
        threads = max(r["threads"] for r in base) if base else args.threads
        rounds = args.rounds or (
            (QUICK_ROUNDS if args.quick else None) if base is None
            else (max(QUICK_ROUNDS, COMPARE_ROUNDS) if args.quick
                  else (COMPARE_ROUNDS, ROUNDS[1])))
        cases = _cases_of(base) if base else _cases(args)
        info = lf.kernel_info()
        if not markdown:
            print(f"# lossfuse {lf.__version__}, kernels: {info['isa']} (available: "
                  f"{', '.join(info['available'])}), numpy {np.__version__}, threads: 1"
                  + (f" and {threads}" if threads > 1 else ""))
        sample_seconds = SAMPLE_SECONDS
        if args.quick:
            SAMPLE_SECONDS = QUICK_SAMPLE_SECONDS
        try:
            results = run(cases, rounds, threads, progress=args.progress, wide=args.wide,
                          out=io.StringIO() if markdown else None)
        finally:
            SAMPLE_SECONDS = sample_seconds
        new = {"schema": SCHEMA, "machine": machine_info(), "results": results}
        if args.save:
            save_json(args.save, new)
        if not args.compare:
            print(_bench_report.report(new, "markdown") if markdown
                  else "\n" + _bench_report.summary(results))
    if args.report:
        print(_bench_report.report(new, args.format, wide=args.wide), end="")
    if args.plot:
        timed = {r["op"] for r in new["results"]}
        plot(new["results"], args.plot, ops=[op for op in args.ops or OPS if op in timed],
             title=machine_title(new.get("machine", {})))
        print(f"plot: {args.plot}", file=sys.stderr if markdown else sys.stdout)
    if not args.compare:
        return 0
    from lossfuse import _bench_compare
    changes = _bench_compare.compare(runs[0]["results"], new["results"], args.max_slowdown,
                                     args.alpha)
    against = args.compare[1] if len(args.compare) == 2 else "this run"
    print(f"{'**' if markdown else ''}{against} against {args.compare[0]}"
          f"{'**' if markdown else ''}" + ("" if markdown else "\n"))
    print(_bench_compare.compare_table(changes, args.format, args.max_slowdown, args.alpha,
                                       show_all=args.all), end="")
    if args.save:                  # the run, and what the comparison found
        save_json(args.save, dict(new, comparison={
            "base": args.compare[0], "max_slowdown": args.max_slowdown, "alpha": args.alpha,
            "test": "two-sided Mann-Whitney U on the per-round speedups over NumPy",
            "changes": [dataclasses.asdict(c) for c in changes]}))
    return 1 if _bench_compare.regressions(changes) else 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``lossfuse bench ARGS``: `argv` are the arguments after ``bench`` (default:
    ``sys.argv[1:]``); returns the exit status."""
    from .__main__ import main as lossfuse
    return lossfuse(["bench", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
