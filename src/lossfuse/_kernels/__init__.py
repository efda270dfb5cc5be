"""Run-time choice of the compiled kernel module.

The same kernels are built for the baseline instruction set (``_baseline``) and, on x86-64,
for AVX2 + FMA (``_avx2``).  ``kernels`` is the AVX2 module when the CPU has AVX2 and FMA,
else the baseline one.  ``LOSSFUSE_ISA=baseline`` (or ``avx2``) forces a choice; forcing
``avx2`` on a CPU without it is an error rather than a crash.
"""

import os

from . import _baseline

try:
    from . import _avx2
except ImportError:  # not built (not x86-64)
    _avx2 = None

#: kernel modules available on this CPU, by name
available = {"baseline": _baseline}
if _avx2 is not None and _baseline.cpu_has_avx2_fma():
    available["avx2"] = _avx2


def _choose():
    wanted = os.environ.get("LOSSFUSE_ISA", "").strip().lower()
    if not wanted:
        return available.get("avx2", _baseline)
    if wanted not in available:
        raise ImportError(f"LOSSFUSE_ISA={wanted!r} is not available on this CPU/build; "
                          f"available: {sorted(available)}")
    return available[wanted]


kernels = _choose()
