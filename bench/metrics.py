"""lossfuse.metrics against scikit-learn's metrics of the same names, timed interleaved in one
run (the same timing as ``lossfuse bench``: rotating order, median of rounds):

    python bench/metrics.py [--sizes 16 1e6] [--dtypes float64 float32] [--save FILE.json]
    python bench/metrics.py --report FILE.json

Needs scikit-learn (the ``test`` extra).  Prints one row per metric, dtype and size: both
times, the speedup and the spread, then whether each metric that is one pass over the data
is at least 100x scikit-learn's speed at n = 16 and 5x from n = 1e6 on.  ``--report`` prints a
saved run as the Markdown table of README.md.
"""

import argparse
import json
import sys

import numpy as np
import sklearn
import sklearn.metrics as sk

from lossfuse import _bench, metrics

METRICS = {
    "mean_squared_error": {},
    "root_mean_squared_error": {},
    "mean_absolute_error": {},
    "mean_pinball_loss": {"alpha": 0.9},
    "mean_squared_log_error": {},
    "root_mean_squared_log_error": {},
    "mean_absolute_percentage_error": {},
    "r2_score": {},
    "explained_variance_score": {},
    "max_error": {},
    "mean_poisson_deviance": {},
    "mean_gamma_deviance": {},
    "mean_tweedie_deviance": {"power": 1.5},
    "log_loss": {},                     # binary: labels {0, 1}, probabilities of 1
    "median_absolute_error": {},
    "d2_pinball_score": {"alpha": 0.9},
    "d2_absolute_error_score": {},
    "d2_tweedie_score": {"power": 1.5},  # counts and positive means, as the deviances
    "brier_score_loss": {},             # binary: labels {0, 1}, probabilities of 1
    "hinge_loss": {},                   # binary: labels {0, 1}, decision scores
    "brier_score_loss_multiclass": {},  # K = 5 classes: labels 0..4, probability rows
    "hinge_loss_multiclass": {},        # K = 5 classes: labels 0..4, decision score rows
}
MULTICLASS = "_multiclass"              # a problem of K classes for the metric named before it
K = 5


#: the metrics that are not one pass, and why: a median or a quantile is a selection; the
#: Tweedie D^2 score needs the mean of y_true before the deviance of that constant model
NOT_ONE_PASS = {"median_absolute_error": "selection", "d2_pinball_score": "selection",
                "d2_absolute_error_score": "selection", "d2_tweedie_score": "two passes"}
#: the speedups over scikit-learn a one-pass metric is meant to reach: at n = 16, from 1e6 on
BARS = {16: 100.0, 1_000_000: 5.0}


def bar(n: int):
    """The speedup a one-pass metric is meant to reach at size n, or None."""
    return BARS[16] if n == 16 else (BARS[1_000_000] if n >= 1_000_000 else None)


def short_misses(results: list) -> list:
    """The results of one-pass metrics below their bar."""
    return [r for r in results if r["metric"] not in NOT_ONE_PASS and bar(r["n"]) is not None
            and r["speedup_vs_sklearn"] < bar(r["n"])]


def _size(n: int) -> str:
    return f"1e{len(str(n)) - 1}" if n >= 1000 and str(n).strip("0") == "1" else str(n)


def report(run: dict) -> str:
    """The Markdown table of a saved run: a row per metric and dtype, a column per size
    (x scikit-learn, and lossfuse's time), then the machine and the bars."""
    results = run["results"]
    sizes = sorted({r["n"] for r in results})
    cell = {(r["metric"], r["dtype"], r["n"]): r for r in results}
    lines = ["| metric | dtype | " + " | ".join(f"n = {_size(n)}" for n in sizes) + " |",
             "|---|---|" + "---:|" * len(sizes)]
    for name in dict.fromkeys(r["metric"] for r in results):
        for dt in dict.fromkeys(r["dtype"] for r in results if r["metric"] == name):
            cells = []
            for n in sizes:
                r = cell.get((name, dt, n))
                cells.append("" if r is None else
                             f"{r['speedup_vs_sklearn']:.1f}x ({_time(r['seconds'])})")
            mark = f" ({NOT_ONE_PASS[name]})" if name in NOT_ONE_PASS else ""
            lines.append(f"| `{name}`{mark} | {dt} | " + " | ".join(cells) + " |")
    m = run["machine"]
    misses = short_misses(results)
    lines += ["", f"x scikit-learn {m.get('sklearn', '')}: its time over lossfuse's, "
              "medians of interleaved rounds in one run (lossfuse's own time in brackets), "
              f"on {m.get('cpu', '?')}, {m.get('isa', '?')} kernels; `*{MULTICLASS}`: the "
              f"function on {K} classes, the others binary where they are classifiers. "
              + ("Every one-pass metric is at least 100x scikit-learn at n = 16 and 5x from "
                 "1e6 on." if not misses else
                 "Below the bars (100x at 16, 5x from 1e6): " + ", ".join(
                     f"`{r['metric']}` {r['dtype']} n = {_size(r['n'])} "
                     f"({r['speedup_vs_sklearn']:.1f}x)" for r in misses) + ".")]
    return "\n".join(lines) + "\n"


def _time(seconds: float) -> str:
    return f"{seconds * 1e6:.2f} us" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def problem(name: str, dtype, n: int, seed: int = 0) -> tuple:
    """(y_true, y_pred) for metric `name`: values and predictions around them (amounts for
    the logarithmic errors); counts (or amounts, for gamma) and positive means for the
    deviances and d2_tweedie_score; labels and probabilities for log_loss and
    brier_score_loss, labels and decision scores for hinge_loss (K classes for the
    *_multiclass problems)."""
    rng = np.random.default_rng(seed)
    if name in ("log_loss", "brier_score_loss"):
        return rng.integers(0, 2, n).astype(dtype), rng.uniform(0, 1, n).astype(dtype)
    if name == "hinge_loss":
        return rng.integers(0, 2, n).astype(dtype), rng.normal(0, 1, n).astype(dtype)
    if name == "brier_score_loss" + MULTICLASS:
        return np.arange(n) % K, rng.dirichlet(np.ones(K), n).astype(dtype)
    if name == "hinge_loss" + MULTICLASS:
        return np.arange(n) % K, rng.normal(0, 1, (n, K)).astype(dtype)
    if "deviance" in name or "tweedie" in name:
        mu = np.exp(rng.normal(0, 1, n))
        y = rng.gamma(2.0, mu / 2) if name == "mean_gamma_deviance" else rng.poisson(mu)
        return y.astype(dtype), mu.astype(dtype)
    y = rng.normal(0, 1, n)
    p = y + rng.normal(0, 1, n)
    if "log_error" in name:              # values above -1: amounts
        y, p = np.exp(y), np.exp(p)
    return y.astype(dtype), p.astype(dtype)


def candidates(name: str, dtype, n: int, seed: int = 0) -> dict:
    y, p = problem(name, dtype, n, seed)
    params = METRICS[name]
    function = name.removesuffix(MULTICLASS)
    ours, theirs = getattr(metrics, function), getattr(sk, function)
    return {"lossfuse": lambda: ours(y, p, **params),
            "sklearn": lambda: theirs(y, p, **params)}


sk_version = sklearn.__version__


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--metrics", nargs="+", default=list(METRICS), choices=list(METRICS))
    ap.add_argument("--sizes", nargs="+", type=lambda s: int(float(s)),
                    default=[16, 10_000, 1_000_000])
    ap.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    ap.add_argument("--save", metavar="FILE.json")
    ap.add_argument("--report", metavar="FILE.json",
                    help="print a saved run as README.md's Markdown table, and time nothing")
    args = ap.parse_args(argv)
    if args.report:
        with open(args.report) as f:
            print(report(json.load(f)), end="")
        return 0
    head = (f"{'metric':28s} {'dtype':8s} {'n':>9s} {'lossfuse us':>11s} {'sklearn us':>11s} "
            f"{'x sklearn':>9s} {'spread':>6s}")
    print(head)
    print("-" * len(head))
    results = []
    for name in args.metrics:
        for dt in args.dtypes:
            for n in args.sizes:
                med, spread = _bench._time_all(candidates(name, np.dtype(dt), n))
                r = {"metric": name, "dtype": dt, "n": n, "seconds": med["lossfuse"],
                     "sklearn_seconds": med["sklearn"],
                     "speedup_vs_sklearn": med["sklearn"] / med["lossfuse"], "spread": spread}
                results.append(r)
                print(f"{name:28s} {dt:8s} {n:9d} {med['lossfuse'] * 1e6:11.2f} "
                      f"{med['sklearn'] * 1e6:11.1f} {r['speedup_vs_sklearn']:9.1f} "
                      f"{spread:6.2f}", flush=True)
    misses = short_misses(results)
    print("one-pass metrics below the bars (100x at 16, 5x from 1e6): "
          + (", ".join(f"{r['metric']} {r['dtype']} {r['n']}" for r in misses) or "none"))
    if args.save:
        machine = dict(_bench.machine_info(), sklearn=sk_version)
        with open(args.save, "w") as f:
            json.dump({"machine": machine, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
