"""Benchmark: lossfuse's fused ``loss_gradient`` against NumPy, measured in one run.

For every loss, dtype and size it times, interleaved round by round so that drift hits all
alike:

* ``lossfuse``  -- ``loss.loss_gradient(y, p, gradient_out=g, n_threads=1)`` (dispatched ISA);
* ``baseline``  -- the same kernel from the next narrower instruction-set build (AVX2 when
  AVX-512 is dispatched, SSE2 when AVX2 is), to show what run-time dispatch buys (column
  ``x <isa>``);
* ``numpy``     -- the plain NumPy expression of the same mean loss and its gradient;
* ``np.add``    -- ``np.add(a, b, out=c)`` on arrays of the same size and dtype: two reads and
  one write, the traffic of a fused loss-and-gradient, i.e. the streaming limit.

At n = 16 the ``lossfuse`` row is the whole facade call without ``gradient_out`` (what a
batch-scoring loop pays) and NumPy's is ``np.mean((p - y) ** 2)``.

Ratios are of medians over the rounds; ``spread`` is the largest interquartile range of the
timed candidates, relative to their median.  Run ``python bench/run.py --help``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

import lossfuse as lf
from lossfuse._kernels import available, kernels

# the build one step narrower than the dispatched one: what the widest build is measured against
NARROWER = list(available)[max(0, list(available.values()).index(kernels) - 1)]

# The plain NumPy formulation of each mean loss and its gradient, as a careful user writes it.
def _np_squared_error(y, p):
    d = p - y
    return np.mean(d * d), 2 * d / d.size


def _np_absolute_error(y, p):
    d = p - y
    return np.mean(np.abs(d)), np.sign(d) / d.size


def _np_huber(y, p, delta=1.0):
    d = p - y
    a = np.abs(d)
    loss = np.where(a <= delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    return np.mean(loss), np.clip(d, -delta, delta) / d.size


def _np_smooth_l1(y, p, beta=1.0):
    d = p - y
    a = np.abs(d)
    loss = np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta)
    return np.mean(loss), np.clip(d / beta, -1, 1) / d.size


def _np_pseudo_huber(y, p, delta=1.0):
    d = p - y
    s = np.sqrt(1 + (d / delta) ** 2)
    return np.mean(delta * delta * (s - 1)), d / s / d.size


def _np_log_cosh(y, p):
    d = p - y
    return np.mean(np.logaddexp(d, -d) - np.log(2)), np.tanh(d) / d.size


def _np_pinball(y, p, alpha=0.5):
    d = p - y
    loss = np.where(d >= 0, (1 - alpha) * d, -alpha * d)
    return np.mean(loss), np.where(d < 0, -alpha, 1 - alpha) / d.size


def _np_poisson(y, p):
    # 2 (y log y - y p - y + mu), mu = exp(p), with y log y = 0 at y = 0
    mu = np.exp(p)
    ylogy = y * np.log(y, out=np.zeros_like(y), where=y > 0)
    return np.mean(2 * (ylogy - y * p - y + mu)), 2 * (mu - y) / p.size


def _np_gamma(y, p):
    # 2 (log(mu / y) + y / mu - 1)
    z = y * np.exp(-p)
    return np.mean(2 * (p - np.log(y) + z - 1)), 2 * (1 - z) / p.size


def _np_tweedie(y, p, power=1.5):
    # 2 (y^(2-power) / ((1-power)(2-power)) - y mu^(1-power) / (1-power) + mu^(2-power) / (2-power))
    b = y * np.exp((1 - power) * p)
    c = np.exp((2 - power) * p)
    loss = 2 * (np.power(y, 2 - power) / ((1 - power) * (2 - power)) - b / (1 - power)
                + c / (2 - power))
    return np.mean(loss), 2 * (c - b) / p.size


def _np_binary_cross_entropy(y, p):
    # softplus(p) - y p is the loss from logits; sigmoid as exp(-softplus(-p)), both stable
    loss = np.logaddexp(0, p) - y * p
    s = np.exp(-np.logaddexp(0, -p))
    return np.mean(loss), (s - y) / p.size


def _np_hinge(y, p):
    t = 2 * y - 1
    m = 1 - t * p
    return np.mean(np.maximum(m, 0)), np.where(m > 0, -t, 0) / p.size


def _np_squared_hinge(y, p):
    t = 2 * y - 1
    m = np.maximum(1 - t * p, 0)
    return np.mean(m * m), -2 * t * m / p.size


def _np_exponential(y, p):
    t = 2 * y - 1
    e = np.exp(-t * p)
    return np.mean(e), -t * e / p.size


def _np_cross_entropy(y, p):
    # log-sum-exp with the row max; softmax minus one-hot, as a careful NumPy user writes it
    n = p.shape[0]
    rows = np.arange(n)
    m = p.max(axis=1, keepdims=True)
    z = p - m
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    loss = np.mean(np.log(s[:, 0]) - z[rows, y])
    g = e / s
    g[rows, y] -= 1
    g /= n
    return loss, g


CLASSIFICATION = ("binary_cross_entropy", "hinge", "squared_hinge", "exponential")
DEVIANCES = ("poisson", "gamma", "tweedie")          # tweedie at its default power, 1.5
# cross_entropy: (rows, classes); --sizes does not apply (the bar is at 1e5 x 10)
CE_CASES = ((16, 10), (100_000, 2), (100_000, 10), (10_000, 1000))
CE_QUICK = ((16, 10), (1_000, 10))
NUMPY = {name[4:]: f for name, f in globals().items()
         if name.startswith("_np_") and name != "_np_cross_entropy"}
LOSSES = sorted(list(NUMPY) + ["cross_entropy"])
SIZES = (16, 10_000, 1_000_000, 10_000_000)


def _timer(fn, n, repeats=3):
    """A callable timing `fn` (in a loop of calls for small n) `repeats` times back to back,
    giving the least seconds per call: the other candidates' memory traffic slows the first
    calls after them for longer than one call (measured at 1e6: the first of three
    np.add calls after NumPy's formulation up to 2-3x the others), and noise only adds time."""
    loops = max(1, 200_000 // max(n, 1)) if n < 100_000 else 1

    def timed():
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            for _ in range(loops):
                fn()
            best = min(best, (time.perf_counter() - t0) / loops)
        return best
    return timed


def _time_all(candidates: dict, n: int, rounds: int) -> tuple:
    """Median seconds per candidate and the largest relative spread (IQR / median), the
    candidates timed interleaved, round after round.

    A round's sample of a candidate is the best of a few calls back to back (see `_timer`),
    and the order of the candidates rotates from round to round, so that no candidate always
    follows the same one."""
    timers = {k: _timer(f, n) for k, f in candidates.items()}
    names = list(timers)
    for t in timers.values():        # warm up: page in outputs, load code
        t()
    samples = {k: [] for k in timers}
    for r in range(rounds):
        for k in names[r % len(names):] + names[:r % len(names)]:
            samples[k].append(timers[k]())
    med = {k: float(np.median(v)) for k, v in samples.items()}
    spread = max(float(np.subtract(*np.percentile(v, [75, 25]))) / med[k]
                 for k, v in samples.items())
    return med, spread


def _result(name, dtype, n, med, spread, nbytes, **extra) -> dict:
    return dict({
        "loss": name, "dtype": np.dtype(dtype).name, "n": n, "threads": 1,
        "seconds": med["lossfuse"], "numpy_seconds": med["numpy"],
        "add_seconds": med["np.add"], "baseline_seconds": med.get("baseline"),
        "baseline_isa": NARROWER,
        "speedup_vs_numpy": med["numpy"] / med["lossfuse"],
        "fraction_of_add": med["np.add"] / med["lossfuse"],
        "dispatch_speedup": (med["baseline"] / med["lossfuse"]) if "baseline" in med else None,
        "gb_per_s": nbytes / med["lossfuse"] / 1e9,
        "spread": spread,
        "thread_speedup": (med["lossfuse"] / med["threads"]) if "threads" in med else None,
    }, **extra)


def measure_cross_entropy(dtype, n: int, K: int, rounds: int, seed: int = 0,
                          threads: int = 1) -> dict:
    """cross_entropy's loss_gradient on n rows of K logits, class-index targets."""
    rng = np.random.default_rng(seed)
    p = rng.normal(0, 2, (n, K)).astype(dtype)
    y = rng.integers(0, K, n)
    g = np.empty_like(p)
    c = np.empty_like(p)
    loss = lf.get_loss("cross_entropy")
    base = available[NARROWER].CrossEntropyKernel(None, 0.0)
    base_run = base.run_float64 if dtype == np.float64 else base.run_float32
    op = available[NARROWER].OPERATIONS["loss_gradient"]
    ones, y64 = np.ones(K, dtype), y.astype(np.int64)
    candidates = {
        "lossfuse": lambda: loss.loss_gradient(y, p, gradient_out=g, n_threads=1),
        "baseline": lambda: base_run(op, y64, None, p, None, ones, True, None, g, None, 1),
        "numpy": lambda: _np_cross_entropy(y, p),
        "np.add": lambda: np.add(p, p, out=c),
    }
    if threads > 1:
        candidates["threads"] = lambda: loss.loss_gradient(y, p, gradient_out=g,
                                                           n_threads=threads)
    med, spread = _time_all(candidates, n * K, rounds)
    return _result("cross_entropy", dtype, n, med, spread, 2 * n * K * np.dtype(dtype).itemsize,
                   classes=K)


def measure(name: str, dtype, n: int, rounds: int, seed: int = 0, threads: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    if name in CLASSIFICATION:     # labels {0, 1} and logits
        y = rng.integers(0, 2, n).astype(dtype)
        p = rng.normal(0, 2, n).astype(dtype)
    elif name in DEVIANCES:        # log-means, and counts (poisson, tweedie) or amounts (gamma)
        p = rng.normal(0, 1, n)
        mu = np.exp(p + rng.normal(0, 0.3, n))
        y = (rng.gamma(2.0, mu / 2) if name == "gamma" else rng.poisson(mu)).astype(dtype)
        p = p.astype(dtype)
    else:
        y = rng.normal(0, 1, n).astype(dtype)
        p = (y + rng.normal(0, 1, n)).astype(dtype)
    g = np.empty_like(p)
    c = np.empty_like(p)
    loss = lf.get_loss(name)
    kernel = loss._kernel
    base = available[NARROWER].LossKernel(kernel.loss, kernel.params)
    base_run = base.run_float64 if dtype == np.float64 else base.run_float32
    op = available[NARROWER].OPERATIONS["loss_gradient"]
    numpy_fn = NUMPY[name]
    if n <= 16:
        candidates = {
            "lossfuse": lambda: loss.loss_gradient(y, p),
            "numpy": lambda: np.mean((p - y) ** 2),
        }
    else:
        candidates = {
            "lossfuse": lambda: loss.loss_gradient(y, p, gradient_out=g, n_threads=1),
            "baseline": lambda: base_run(op, y, p, None, 1, None, g, None, 1.0 / n, 1),
            "numpy": lambda: numpy_fn(y, p),
        }
        if threads > 1:
            candidates["threads"] = lambda: loss.loss_gradient(y, p, gradient_out=g,
                                                               n_threads=threads)
    candidates["np.add"] = lambda: np.add(y, p, out=c)
    med, spread = _time_all(candidates, n, rounds)
    return _result(name, dtype, n, med, spread, 3 * n * np.dtype(dtype).itemsize)


def _fmt_t(s):
    return f"{s * 1e6:10.1f}" if s >= 1e-5 else f"{s * 1e6:10.3f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--losses", nargs="+", default=LOSSES, choices=LOSSES)
    ap.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    ap.add_argument("--sizes", nargs="+", type=lambda s: int(float(s)), default=list(SIZES))
    ap.add_argument("--rounds", type=int, default=7, help="interleaved rounds per case")
    ap.add_argument("--quick", action="store_true", help="small sizes, few rounds (smoke run)")
    ap.add_argument("--threads", type=int, default=1,
                    help="also time lossfuse on this many threads (column 'x threads')")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes, args.rounds = [16, 10_000], 3
    info = lf.kernel_info()
    print(f"# lossfuse {lf.__version__}, kernels: {info['isa']} (available: "
          f"{', '.join(info['available'])}), numpy {np.__version__}, one thread")
    head = (f"{'loss':15s} {'dtype':8s} {'n':>9s} {'lossfuse us':>11s} {'numpy us':>10s} "
            f"{'np.add us':>10s} {'x numpy':>8s} {'x np.add':>8s} {'GB/s':>6s} "
            f"{'x ' + NARROWER:>8s} {'spread':>6s}"
            + (f" {'x ' + str(args.threads) + ' thr':>9s}" if args.threads > 1 else ""))
    print(head)
    print("-" * len(head))
    results = []
    ce_cases = CE_QUICK if args.quick else CE_CASES
    cases = [(loss, dt, n, K) for loss in args.losses for dt in args.dtypes
             for n, K in (ce_cases if loss == "cross_entropy" else [(n, 1) for n in args.sizes])]
    for i, (name, dt, n, K) in enumerate(cases):
        print(f"[{i + 1}/{len(cases)}] {name} {dt} n={n}", end="\r", file=sys.stderr, flush=True)
        if name == "cross_entropy":
            r = measure_cross_entropy(np.dtype(dt), n, K, args.rounds, threads=args.threads)
        else:
            r = measure(name, np.dtype(dt), n, args.rounds, threads=args.threads)
        results.append(r)
        shown = f"{n}x{K}" if name == "cross_entropy" else str(n)
        gain = f"{r['dispatch_speedup']:8.2f}" if r["dispatch_speedup"] else f"{'':8s}"
        print(f"{name:15s} {dt:8s} {shown:>9s} {_fmt_t(r['seconds']):>11s} "
              f"{_fmt_t(r['numpy_seconds'])} {_fmt_t(r['add_seconds'])} "
              f"{r['speedup_vs_numpy']:8.2f} {r['fraction_of_add']:8.2f} "
              f"{r['gb_per_s']:6.1f} {gain} {r['spread']:6.2f}"
              + (f" {r['thread_speedup']:9.2f}" if r["thread_speedup"] else ""), flush=True)
    print(file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
