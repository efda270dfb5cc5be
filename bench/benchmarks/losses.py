"""The benchmarks of ``lossfuse bench`` under airspeed velocity (asv): the same definitions
(``lossfuse._bench``: data and callables per case), timed by asv.  From ``bench/``:
``asv run -E existing --quick`` (the installed lossfuse), ``asv continuous`` between commits.

``time_*`` are asv's own timings; ``track_speedup_vs_numpy`` is the ratio ``lossfuse bench
--compare`` watches, measured interleaved within the benchmark (it carries across machines)."""

import numpy as np

from lossfuse import _bench

ELEMENTWISE = sorted(_bench.NUMPY)


def _speedup(candidates):
    """NumPy's median time over lossfuse's, the two timed interleaved (as lossfuse bench does)."""
    med, _ = _bench._time_all({k: candidates[k] for k in ("lossfuse", "numpy")}, 3)
    return med["numpy"] / med["lossfuse"]


class LossGradient:
    params = (ELEMENTWISE, ["float32", "float64"], [10_000, 1_000_000])
    param_names = ["loss", "dtype", "n"]

    def setup(self, loss, dtype, n):
        self.c = _bench.candidates(loss, np.dtype(dtype), n)

    def time_lossfuse(self, loss, dtype, n):
        self.c["lossfuse"]()

    def time_numpy(self, loss, dtype, n):
        self.c["numpy"]()

    def time_np_add(self, loss, dtype, n):
        self.c["np.add"]()

    def track_speedup_vs_numpy(self, loss, dtype, n):
        return _speedup(self.c)

    track_speedup_vs_numpy.unit = "x NumPy"


class CrossEntropy:
    params = ([f"{n}x{k}" for n, k in _bench.CE_CASES[1:]], ["float32", "float64"])
    param_names = ["shape", "dtype"]

    def setup(self, shape, dtype):
        self.n, self.k = (int(v) for v in shape.split("x"))
        self.c = _bench.cross_entropy_candidates(np.dtype(dtype), self.n, self.k)

    def time_lossfuse(self, shape, dtype):
        self.c["lossfuse"]()

    def time_numpy(self, shape, dtype):
        self.c["numpy"]()

    def track_speedup_vs_numpy(self, shape, dtype):
        return _speedup(self.c)

    track_speedup_vs_numpy.unit = "x NumPy"
