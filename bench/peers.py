"""lossfuse's fused ``loss_gradient`` against what a user would pick instead, timed interleaved
in rotating order in one run (the timing of ``lossfuse bench``).

Usage::

    python bench/peers.py                             # every case below, one thread
    python bench/peers.py --threads all               # every candidate on get_num_threads()
    python bench/peers.py --losses poisson --sizes 1e6 --dtypes float32
    python bench/peers.py --quick                     # small sizes: a smoke run of seconds
    python bench/peers.py --json peers.json           # also save the medians and the machine

Needs the ``peers`` extra (JAX, PyTorch, scikit-learn, numba); a candidate whose package is
missing is left out with a note.  Cases: squared_error, absolute_error, huber, smooth_l1,
pinball, binary_cross_entropy, poisson, gamma, tweedie (power 1.5) and exponential at
n = 1e4, 1e6, 1e7; cross_entropy on 1e5 rows of 10 logits and 1e4 rows of 1000; float32 and
float64; lossfuse's default parameters.  The data are those of ``lossfuse bench``.

Every candidate computes the same thing: the mean loss as lossfuse defines it (the deviances
keep their constant terms: poisson is ``2 (xlogy(y, y) - y p - y + exp(p))``) and its gradient
with respect to the predictions, that is the per-sample gradient divided by n:

* ``lossfuse`` -- ``get_loss(name).loss_gradient(y, p, gradient_out=g, n_threads=T)``.
* ``jax``      -- ``jax.jit(jax.value_and_grad(f))(p, y)`` and ``block_until_ready``, with `f`
  the mean loss written with ``jax.numpy``; compiled before the timing.
* ``torch``    -- forward and backward, ``x.grad = None; f(x, t).backward()``, with `f` the
  ``torch.nn.functional`` loss where there is one (``mse_loss``, ``l1_loss``, ``huber_loss``,
  ``smooth_l1_loss``, ``binary_cross_entropy_with_logits``, ``cross_entropy``), else the same
  expression as JAX's written with torch operations (``poisson_nll_loss`` is exp(p) - y p,
  with ``full=True`` plus Stirling's log(y!): not the deviance, so poisson is the expression).
* ``sklearn``  -- ``loss.loss_gradient(y, p, loss_out=l, gradient_out=g, n_threads=T)`` of
  scikit-learn's ``sklearn._loss.loss`` classes, then ``l.mean()``: the work a scikit-learn
  user's call does.  Those are half losses: ``HalfSquaredError`` is d^2 / 2,
  ``HalfPoissonLoss``, ``HalfGammaLoss`` and ``HalfTweedieLoss`` are half the deviance without
  its terms in y alone, ``HuberLoss(delta=beta)`` is smooth_l1 times beta; and the gradient is
  per sample.  Scaled and shifted by those known constants they are lossfuse's numbers, which
  is what the check compares.  ``HalfBinomialLoss``'s per-sample loss and gradient are
  binary_cross_entropy's, ``ExponentialLoss``'s exponential's, ``HalfMultinomialLoss``'s
  cross_entropy's (labels as floats).
* ``numba``    -- an ``@njit(fastmath=False)`` loop: one pass computing the loss sum and writing
  the gradient into a preallocated array (``parallel=True`` and ``prange`` on T > 1 threads,
  ``numba.set_num_threads(T)``); compiled before the timing.  Written as a user writes it, so
  with float32 data its arithmetic is in float64 (Python's float constants).
* ``numpy``    -- the NumPy formulation of ``lossfuse bench``, on one thread.
* ``np.add``   -- ``np.add(a, b, out=c)`` on arrays of the size and dtype of the predictions:
  two reads and one write, the traffic of a fused loss and gradient, the streaming limit.

Why the comparison is fair: every candidate gets the same data (copies where its package needs
its own arrays, made outside the timing), its own best call (compiled before timing,
preallocated outputs where the API takes them), the same thread count, and the same timing
loop, the candidates interleaved round by round in rotating order so that drift hits all
alike.  Before timing, each case checks every candidate's loss and gradient against lossfuse's
(relative tolerance 1e-5 in float32, 1e-10 in float64; the gradient's against its largest
element, except where y == p: absolute_error and pinball have no derivative there and
scikit-learn picks another subgradient) and stops with exit code 1 if one differs, so that no
candidate is timed computing something else.

Threads: ``--threads 1`` (the default), ``all`` (``lossfuse.get_num_threads()``) or N: lossfuse
and scikit-learn get ``n_threads=T``, torch ``torch.set_num_threads(T)``, numba a ``prange``
loop on T threads; NumPy and np.add use one thread whatever it is.  For JAX, the old
``XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"`` no longer
limits anything (measured with jax 0.10: element-wise programs still run on every CPU), and
XLA has no flag for the size of its CPU thread pool, which it takes from the CPUs the process
may use when JAX starts.  So JAX is started here, before any timing, with the calling thread
pinned to T of those CPUs, and every thread is unpinned afterwards (measured: with T = 1 the
process's CPU time equals the wall time of JAX's calls, against about 1.7x without).

Output: a row per case with each candidate's median time (``*`` marks the best peer), then
``x peer`` (best peer's time over lossfuse's: of jax, torch, sklearn, numba), ``x add``
(np.add's time over lossfuse's: 1 is the streaming limit), ``x numba`` and ``spread`` (the
largest relative spread of the timed candidates: twice the median absolute deviation over the
median).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from importlib import metadata

import numpy as np

import lossfuse as lf
from lossfuse import _bench

LOSSES = ("squared_error", "absolute_error", "huber", "smooth_l1", "pinball",
          "binary_cross_entropy", "poisson", "gamma", "tweedie", "exponential", "cross_entropy")
SIZES = (10_000, 1_000_000, 10_000_000)
CE_SHAPES = ((100_000, 10), (10_000, 1000))        # cross_entropy: (rows, classes)
QUICK_SIZES, CE_QUICK = (1000,), ((200, 10),)
PEERS = ("jax", "torch", "sklearn", "numba")
CANDIDATES = ("lossfuse",) + PEERS + ("numpy", "np.add")
RTOL = {"float32": 1e-5, "float64": 1e-10}
# the peers compute lossfuse's loss at its default parameters
PARAMS = {name: dict(lf.get_loss(name).params) for name in LOSSES}


class Mismatch(AssertionError):
    """A candidate's loss or gradient is not lossfuse's."""


# ------------------------------------------------------------------ the losses, for JAX and torch
# The mean loss of y_pred `p` given y_true `y`, written once for any array namespace `m` with
# NumPy's names (jax.numpy, torch).
def _ex_squared_error(m, y, p):
    return m.mean((p - y) ** 2)


def _ex_absolute_error(m, y, p):
    return m.mean(m.abs(p - y))


def _ex_huber(m, y, p, delta=PARAMS["huber"]["delta"]):
    d = p - y
    a = m.abs(d)
    return m.mean(m.where(a <= delta, 0.5 * d * d, delta * (a - 0.5 * delta)))


def _ex_smooth_l1(m, y, p, beta=PARAMS["smooth_l1"]["beta"]):
    return _ex_huber(m, y, p, beta) / beta


def _ex_pinball(m, y, p, alpha=PARAMS["pinball"]["alpha"]):
    d = p - y
    return m.mean(m.where(d >= 0, (1 - alpha) * d, -alpha * d))


def _ex_binary_cross_entropy(m, y, p):
    return m.mean(m.logaddexp(p, m.zeros_like(p)) - y * p)         # softplus(p) - y p


def _ex_poisson(m, y, p):
    ylogy = y * m.log(m.where(y > 0, y, 1.0))                       # 0 log 0 = 0
    return 2 * m.mean(ylogy - y * p - y + m.exp(p))


def _ex_gamma(m, y, p):
    return 2 * m.mean(p - m.log(y) + y * m.exp(-p) - 1)


def _ex_tweedie(m, y, p, power=PARAMS["tweedie"]["power"]):
    return 2 * m.mean(y ** (2 - power) / ((1 - power) * (2 - power))
                      - y * m.exp((1 - power) * p) / (1 - power)
                      + m.exp((2 - power) * p) / (2 - power))


def _ex_exponential(m, y, p):
    return m.mean(m.exp(-(2 * y - 1) * p))


EXPRESSIONS = {name[4:]: f for name, f in globals().items() if name.startswith("_ex_")}


def _problem(name: str, dtype, n: int, K: int = 1) -> tuple:
    """(y_true, y_pred) of ``lossfuse bench``: `problem`'s for an elementwise loss,
    `cross_entropy_problem`'s (n rows of K logits) for cross_entropy."""
    if name != "cross_entropy":
        return _bench.problem(name, dtype, n)
    return _bench.cross_entropy_problem(np.dtype(dtype), n, K)


# ------------------------------------------------------------------ the candidates
# Each is a pair (call, result): `call()` is the work timed, `result()` does it once more and
# gives (mean loss, its gradient) as lossfuse defines them, as a float and a NumPy array.

def _lossfuse(name, y, p, threads):
    loss, g = lf.get_loss(name), np.empty_like(p)

    def call():
        return loss.loss_gradient(y, p, gradient_out=g, n_threads=threads)
    return call, lambda: (call()[0], g.copy())


def _numpy(name, y, p, threads):
    def call():
        if name == "cross_entropy":
            return _bench._np_cross_entropy(y, p)
        return _bench.NUMPY[name](y, p, ("loss", "gradient"))
    return call, lambda: tuple(map(np.asarray, call()))


def _jax(name, y, p, threads):
    import jax
    import jax.numpy as jnp
    if name == "cross_entropy":
        def f(p, y):
            return jnp.mean(jax.nn.logsumexp(p, axis=1)
                            - jnp.take_along_axis(p, y[:, None], axis=1)[:, 0])
    else:
        def f(p, y):
            return EXPRESSIONS[name](jnp, y, p)
    value_and_grad = jax.jit(jax.value_and_grad(f))
    pj, yj = jnp.asarray(p), jnp.asarray(y)

    def call():
        return jax.block_until_ready(value_and_grad(pj, yj))

    def result():
        v, g = call()
        return float(v), np.asarray(g)
    return call, result


def _torch_function(name):
    import torch.nn.functional as F
    return {
        "squared_error": F.mse_loss,
        "absolute_error": F.l1_loss,
        "huber": lambda x, t: F.huber_loss(x, t, delta=PARAMS["huber"]["delta"]),
        "smooth_l1": lambda x, t: F.smooth_l1_loss(x, t, beta=PARAMS["smooth_l1"]["beta"]),
        "binary_cross_entropy": F.binary_cross_entropy_with_logits,
        "cross_entropy": F.cross_entropy,
    }.get(name)


def _torch(name, y, p, threads):
    import torch
    x = torch.tensor(p, requires_grad=True)          # copies: torch wants writable arrays
    t = torch.tensor(y)
    f = _torch_function(name) or (lambda x, t: EXPRESSIONS[name](torch, t, x))

    def call():
        x.grad = None
        v = f(x, t)
        v.backward()
        return v

    def result():
        v = call()
        return v.item(), x.grad.numpy().copy()
    return call, result


def _sklearn_loss(name, K):
    """scikit-learn's loss for `name`, and (factor, shift): lossfuse's per-sample loss is
    factor * (sklearn's + shift(y)) and its gradient factor * sklearn's (then / n for the
    mean); None where scikit-learn has no such loss."""
    from scipy.special import xlogy
    from sklearn._loss import loss as skl
    beta, power = PARAMS["smooth_l1"]["beta"], PARAMS["tweedie"]["power"]
    made = {
        "squared_error": (skl.HalfSquaredError, {}, 2, None),
        "absolute_error": (skl.AbsoluteError, {}, 1, None),
        "huber": (skl.HuberLoss, {"delta": PARAMS["huber"]["delta"]}, 1, None),
        "smooth_l1": (skl.HuberLoss, {"delta": beta}, 1 / beta, None),
        "pinball": (skl.PinballLoss, {"quantile": PARAMS["pinball"]["alpha"]}, 1, None),
        "binary_cross_entropy": (skl.HalfBinomialLoss, {}, 1, None),
        "poisson": (skl.HalfPoissonLoss, {}, 2, lambda y: xlogy(y, y) - y),
        "gamma": (skl.HalfGammaLoss, {}, 2, lambda y: -np.log(y) - 1),
        "tweedie": (skl.HalfTweedieLoss, {"power": power}, 2,
                    lambda y: y ** (2 - power) / ((1 - power) * (2 - power))),
        "exponential": (getattr(skl, "ExponentialLoss", None), {}, 1, None),
        "cross_entropy": (skl.HalfMultinomialLoss, {"n_classes": K}, 1, None),
    }.get(name)
    if made is None or made[0] is None:
        return None
    cls, kw, factor, shift = made
    return cls(**kw), factor, shift


def _sklearn(name, y, p, threads):
    K = p.shape[1] if p.ndim == 2 else 1
    made = _sklearn_loss(name, K)
    if made is None:
        return None
    loss, factor, shift = made
    ys = y.astype(p.dtype)                   # scikit-learn: y_true of the predictions' dtype
    lo, g = np.empty(len(p), p.dtype), np.empty_like(p)

    def call():
        loss.loss_gradient(ys, p, loss_out=lo, gradient_out=g, n_threads=threads)
        return lo.mean()

    def result():
        value = float(call())
        if shift is not None:
            value += float(np.mean(shift(ys.astype(np.float64))))
        return factor * value, factor * g / len(p)
    return call, result


@functools.lru_cache(maxsize=None)
def _numba_kernel(name: str, parallel: bool):
    """The numba loop for `name`: run(y, p, g, scale) writes scale * the per-sample gradient
    into g and returns scale * the loss sum, in one pass."""
    import math

    import numba as nb
    jit = functools.partial(nb.njit, fastmath=False, cache=False)
    if name == "cross_entropy":
        @jit(parallel=parallel)
        def run_rows(y, p, g, scale):
            total = 0.0
            for i in nb.prange(p.shape[0]):
                m = p[i, 0]
                for k in range(1, p.shape[1]):
                    m = max(m, p[i, k])
                s = 0.0
                for k in range(p.shape[1]):
                    e = math.exp(p[i, k] - m)
                    g[i, k] = e
                    s += e
                for k in range(p.shape[1]):
                    g[i, k] = g[i, k] / s * scale
                g[i, y[i]] -= scale
                total += math.log(s) + m - p[i, y[i]]
            return total * scale
        return run_rows
    point = jit(_numba_points()[name])

    @jit(parallel=parallel)
    def run(y, p, g, scale):
        total = 0.0
        for i in nb.prange(p.size):
            loss, grad = point(y[i], p[i])
            total += loss
            g[i] = grad * scale
        return total * scale
    return run


def _numba_points() -> dict:
    """Per sample (loss, gradient) of each elementwise loss, in plain Python for numba."""
    from math import exp, log, log1p
    delta, beta = PARAMS["huber"]["delta"], PARAMS["smooth_l1"]["beta"]
    alpha, power = PARAMS["pinball"]["alpha"], PARAMS["tweedie"]["power"]

    def squared_error(y, p):
        d = p - y
        return d * d, 2.0 * d

    def absolute_error(y, p):
        d = p - y
        return abs(d), (1.0 if d > 0 else (-1.0 if d < 0 else 0.0))

    def huber(y, p):
        d = p - y
        if abs(d) <= delta:
            return 0.5 * d * d, d
        return delta * (abs(d) - 0.5 * delta), (delta if d > 0 else -delta)

    def smooth_l1(y, p):
        d = p - y
        if abs(d) < beta:
            return 0.5 * d * d / beta, d / beta
        return abs(d) - 0.5 * beta, (1.0 if d > 0 else -1.0)

    def pinball(y, p):
        d = p - y
        if d >= 0:
            return (1 - alpha) * d, 1 - alpha
        return -alpha * d, -alpha

    def binary_cross_entropy(y, p):
        e = exp(-abs(p))                    # softplus and sigmoid without overflow
        softplus = max(p, 0.0) + log1p(e)
        sigmoid = 1 / (1 + e) if p >= 0 else e / (1 + e)
        return softplus - y * p, sigmoid - y

    def poisson(y, p):
        mu = exp(p)
        ylogy = y * log(y) if y > 0 else 0.0
        return 2 * (ylogy - y * p - y + mu), 2 * (mu - y)

    def gamma(y, p):
        z = y * exp(-p)
        return 2 * (p - log(y) + z - 1), 2 * (1 - z)

    def tweedie(y, p):
        b = y * exp((1 - power) * p)
        c = exp((2 - power) * p)
        return (2 * (y ** (2 - power) / ((1 - power) * (2 - power)) - b / (1 - power)
                     + c / (2 - power)), 2 * (c - b))

    def exponential(y, p):
        t = 2 * y - 1
        e = exp(-t * p)
        return e, -t * e
    return {f.__name__: f for f in (squared_error, absolute_error, huber, smooth_l1, pinball,
                                    binary_cross_entropy, poisson, gamma, tweedie, exponential)}


def _numba(name, y, p, threads):
    run = _numba_kernel(name, threads > 1)
    g, scale = np.empty_like(p), 1.0 / len(p)

    def call():
        return run(y, p, g, scale)
    return call, lambda: (float(call()), g.copy())


PACKAGES = {"jax": "jax", "torch": "torch", "sklearn": "scikit-learn", "numba": "numba"}
_MAKERS = {"lossfuse": _lossfuse, "jax": _jax, "torch": _torch, "sklearn": _sklearn,
           "numba": _numba, "numpy": _numpy}


def installed(peer: str) -> bool:
    """Whether the package of candidate `peer` can be imported."""
    import importlib.util
    return peer not in PACKAGES or importlib.util.find_spec(peer) is not None


def candidates(name: str, dtype, n: int, K: int = 1, threads: int = 1,
               peers=CANDIDATES) -> dict:
    """The candidates of case (`name`, `dtype`, n, K) among `peers` whose packages are
    installed, on `threads` threads: ``{candidate: (call, result)}`` (``result`` None for
    np.add), left out where the peer has no such loss."""
    y, p = _problem(name, np.dtype(dtype), n, K)
    out = {}
    for peer in peers:
        if peer == "np.add":
            c = np.empty_like(p)
            a = p if name == "cross_entropy" else y
            out[peer] = (lambda: np.add(a, p, out=c)), None
        elif installed(peer):
            made = _MAKERS[peer](name, y, p, threads)
            if made is not None:
                out[peer] = made
    return out


def ties(name: str, dtype, n: int, K: int = 1):
    """Where y_true == y_pred in case (`name`, `dtype`, n, K) (None for cross_entropy): the
    kink of absolute_error and pinball, where each package picks its own subgradient
    (scikit-learn -1 and -alpha; lossfuse, torch, JAX and NumPy 0 and 1 - alpha)."""
    if name == "cross_entropy":
        return None
    y, p = _problem(name, np.dtype(dtype), n, K)
    return y == p


def check(name: str, dtype, cands: dict, kinks=None) -> None:
    """Raise `Mismatch` unless every candidate's mean loss equals lossfuse's within RTOL of
    the dtype, and its gradient lossfuse's within RTOL of the largest gradient element, except
    where the boolean array `kinks` is true (see `ties`)."""
    rtol = RTOL[np.dtype(dtype).name]
    value, grad = cands["lossfuse"][1]()
    where = f"({np.dtype(dtype).name}, y_pred of shape {grad.shape})"
    for peer, (_, result) in cands.items():
        if result is None or peer == "lossfuse":
            continue
        v, g = result()
        if not abs(v - value) <= rtol * abs(value):
            raise Mismatch(f"{peer} computes another {name} loss {where}: {v!r}, lossfuse "
                           f"{value!r} (rtol {rtol:g})")
        g = np.asarray(g, dtype=np.float64)
        if g.shape != grad.shape:
            raise Mismatch(f"{peer}'s {name} gradient has shape {g.shape}, lossfuse's "
                           f"{grad.shape}")
        err = np.abs(g - grad)
        if kinks is not None:
            err[kinks] = 0.0
        worst = int(np.argmax(err))
        if not err.flat[worst] <= rtol * np.max(np.abs(grad)):
            raise Mismatch(f"{peer} computes another {name} gradient {where}: element {worst} "
                           f"is {g.flat[worst]!r}, lossfuse's {grad.flat[worst]!r} (rtol "
                           f"{rtol:g} of the largest)")


# ------------------------------------------------------------------ threads
def start_jax(threads: int) -> str | None:
    """Start JAX's CPU client with a thread pool of `threads` workers (XLA sizes it from the
    CPUs the process may use when the client starts: the calling thread is pinned to
    `threads` of them meanwhile, and every thread of the process unpinned afterwards).  None,
    or a note why the pool could not be sized (JAX already started, or no CPU affinity on
    this platform).  Enables float64 (``jax_enable_x64``)."""
    started = "jax" in sys.modules
    import jax
    jax.config.update("jax_enable_x64", True)
    if started:
        jax.devices()
        return "jax was started before: its thread pool is as it was started"
    if not hasattr(os, "sched_setaffinity"):
        jax.devices()
        return "no CPU affinity on this platform: jax uses its default thread pool"
    allowed = os.sched_getaffinity(0)
    if threads >= len(allowed):
        jax.devices()
        return None
    os.sched_setaffinity(0, sorted(allowed)[:threads])
    try:
        jax.devices()                   # creates the CPU client and its pool
    finally:
        for tid in os.listdir("/proc/self/task"):
            try:
                os.sched_setaffinity(int(tid), allowed)
            except OSError:             # a thread that has ended since
                pass
    return None


def set_threads(threads: int, peers) -> list:
    """Give every candidate in `peers` `threads` threads where it has a setting of its own
    (torch, numba, JAX); the notes of what could not be done."""
    notes = []
    if "jax" in peers:
        notes.append(start_jax(threads))
    if "torch" in peers:
        import torch
        torch.set_num_threads(threads)
    if "numba" in peers and threads > 1:
        import numba
        if threads > numba.config.NUMBA_NUM_THREADS:
            notes.append(f"numba has {numba.config.NUMBA_NUM_THREADS} threads at most "
                         f"(NUMBA_NUM_THREADS)")
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    return [n for n in notes if n]


# ------------------------------------------------------------------ the run
def _fmt_time(s: float | None) -> str:
    """Seconds in at most 6 characters, 3 significant digits: 941ns, 16.9us, 123ms, 1.23s."""
    if s is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if s >= scale or unit == "ns":
            v = s / scale
            return f"{v:.3g}{unit}" if v < 100 else f"{v:.0f}{unit}"


def _fmt_n(n: int) -> str:
    """1e6 for 1000000, 25000 as it is."""
    mantissa, exponent = f"{n:e}".split("e")
    short = f"{float(mantissa):g}e{int(exponent)}"
    return short if n >= 1000 and len(short) < len(str(n)) and float(short) == n else str(n)


def _ratio(a: float | None, b: float) -> str:
    """a / b in at most 5 characters below 1e5: 0.42, 12.6, 8689."""
    if a is None:
        return "-"
    r = a / b
    return f"{r:.2f}" if r < 10 else (f"{r:.1f}" if r < 100 else f"{r:.0f}")


def measure(name: str, dtype, n: int, K: int = 1, threads: int = 1, rounds: int | None = None,
            peers=CANDIDATES) -> dict:
    """Check case (`name`, `dtype`, n, K) and time its candidates: a result row (medians in
    seconds by candidate, the best peer, the ratios, the spread)."""
    cands = candidates(name, dtype, n, K, threads, peers)
    check(name, dtype, cands, ties(name, dtype, n, K))
    med, spread = _bench._time_all({k: call for k, (call, _) in cands.items()}, rounds)
    ours = med["lossfuse"]
    timed_peers = [k for k in PEERS if k in med]
    best = min(timed_peers, key=med.get) if timed_peers else None
    return {
        "loss": name, "dtype": np.dtype(dtype).name, "n": n, "classes": K, "threads": threads,
        "seconds": med, "spread": spread, "best_peer": best,
        "x_best_peer": med[best] / ours if best else None,
        "x_np_add": med["np.add"] / ours if "np.add" in med else None,
        "x_numba": med["numba"] / ours if "numba" in med else None,
    }


COLUMNS = ("lossfuse",) + PEERS + ("numpy", "np.add")
HEAD = (f"{'loss':20s} {'dtype':5s} {'n':>8s} {'lossfuse':>8s}"
        + "".join(f" {c:>7s}" for c in COLUMNS[1:])
        + f" {'x peer':>6s} {'x add':>5s} {'x numba':>7s} {'spread':>6s}")


def row(r: dict) -> str:
    """The table's line for result `r`."""
    med = r["seconds"]
    shown = _fmt_n(r["n"]) + (f"x{r['classes']}" if r["loss"] == "cross_entropy" else "")
    cells = [_fmt_time(med.get(c)) + ("*" if c == r["best_peer"] else "") for c in COLUMNS]
    ours = med["lossfuse"]
    return (f"{r['loss']:20s} {r['dtype'].replace('float', 'f'):5s} {shown:>8s} {cells[0]:>8s}"
            + "".join(f" {c:>7s}" for c in cells[1:])
            + f" {_ratio(med.get(r['best_peer']), ours):>6s}"
            + f" {_ratio(med.get('np.add'), ours):>5s} {_ratio(med.get('numba'), ours):>7s}"
            + f" {r['spread']:6.2f}")


def versions() -> dict:
    """The versions of the candidates' packages (None: not installed)."""
    out = {}
    for dist in ("numpy", "jax", "jaxlib", "torch", "scikit-learn", "numba", "llvmlite"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _whole(option: str, exponent: bool = False):
    """The argparse type of `option`: a positive whole number (with `exponent`, also written
    as 1e6)."""
    def parse(text: str) -> int:
        try:
            v = float(text) if exponent else int(text)
        except ValueError:
            v = 0
        if not (1 <= v < float("inf") and v == int(v)):
            raise argparse.ArgumentTypeError(f"{option} takes positive whole numbers"
                                             + (" (1e6 is one)" if exponent else "")
                                             + f", not {text!r}")
        return int(v)
    return parse


def _threads(text: str) -> int:
    """--threads: 1, all (lossfuse.get_num_threads()) or N."""
    return lf.get_num_threads() if text == "all" else _whole("--threads {1,all,N}")(text)


def cases(losses, sizes, dtypes, ce_shapes) -> list:
    """The (loss, dtype, n, classes) cases of a run, in the order of the table."""
    return [(name, dt, n, K) for name in losses for dt in dtypes
            for n, K in (ce_shapes if name == "cross_entropy" else [(n, 1) for n in sizes])]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python bench/peers.py",
                                 description=__doc__.split("\n\n")[0],
                                 epilog="See the module docstring for what each candidate "
                                        "computes.")
    ap.add_argument("--losses", nargs="+", default=list(LOSSES), choices=LOSSES)
    ap.add_argument("--sizes", nargs="+", type=_whole("--sizes", exponent=True), default=None,
                    help="n of the elementwise losses (default: 1e4 1e6 1e7); cross_entropy "
                         "is timed on 1e5 x 10 and 1e4 x 1000")
    ap.add_argument("--dtypes", nargs="+", default=["float32", "float64"],
                    choices=["float32", "float64"])
    ap.add_argument("--threads", type=_threads, default=1, metavar="{1,all,N}",
                    help="threads of every candidate that has a setting (default 1; all: "
                         "lossfuse.get_num_threads())")
    ap.add_argument("--rounds", type=_whole("--rounds"),
                    help="interleaved rounds per case (default: as many as fit in about a "
                         "second, from 3 to 7)")
    ap.add_argument("--quick", action="store_true",
                    help="small sizes, short timing loops, 2 rounds: a smoke run")
    ap.add_argument("--json", metavar="PATH",
                    help="write every median, the machine and the versions as JSON")
    args = ap.parse_args(argv)
    if args.json:                       # a path that cannot be written: before the timing
        try:
            open(args.json, "w").close()
        except OSError as e:
            ap.error(f"--json: cannot write {args.json}: {e.strerror}")
    sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
    todo = cases(dict.fromkeys(args.losses), dict.fromkeys(sizes), dict.fromkeys(args.dtypes),
                 CE_QUICK if args.quick else CE_SHAPES)
    peers = [c for c in CANDIDATES if installed(c)]
    missing = [f"{c} (pip install {PACKAGES[c]})" for c in CANDIDATES if not installed(c)]
    notes = set_threads(args.threads, peers)
    info, ver = lf.kernel_info(), versions()
    machine = _bench.machine_info()
    print(f"# {machine['cpu']}, {machine['cores']} CPUs; lossfuse {lf.__version__}: kernels "
          f"{info['isa']} (available: {', '.join(info['available'])}), "
          f"{info['num_threads']} threads by default")
    print("# " + ", ".join(f"{k} {ver[k]}" for k in ("numpy", "jax", "torch", "scikit-learn",
                                                       "numba") if ver[k]))
    print(f"# {args.threads} thread{'s' if args.threads > 1 else ''} each; mean loss and its "
          f"gradient; medians of the rounds; * the best peer")
    for note in notes + ([f"left out: {', '.join(missing)}"] if missing else []):
        print(f"# {note}")
    print(HEAD)
    print("-" * len(HEAD))
    saved_sample = _bench.SAMPLE_SECONDS
    if args.quick:
        _bench.SAMPLE_SECONDS = 2e-4
    results = []
    try:
        for name, dt, n, K in todo:
            r = measure(name, dt, n, K, args.threads, args.rounds or (2 if args.quick else None),
                        peers)
            results.append(r)
            print(row(r), flush=True)
    except Mismatch as e:
        print(f"peers: stopped, nothing timed for this case: {e}", file=sys.stderr)
        return 1
    finally:
        _bench.SAMPLE_SECONDS = saved_sample
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": dict(machine, versions=ver, threads=args.threads,
                                       notes=notes, left_out=missing),
                       "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
