"""Run-time choice of the compiled kernel module.

The same kernels are built for the baseline instruction set (``_baseline``) and, on x86-64,
for AVX2 + FMA (``_avx2``) and AVX-512 (``_avx512``: F, DQ, BW, VL).  ``kernels`` is the
widest of them that the CPU supports.  ``LOSSFUSE_ISA=baseline`` (or ``avx2``, ``avx512``)
forces a choice; forcing one the CPU lacks is an error rather than a crash.  The builds with
hardware FMA (AVX2, AVX-512) give the same bits (fused multiply-adds written out, no FMA
contraction by the compiler, sums in a fixed order); the baseline rounds those fused
multiply-adds twice and may differ from them by 1 ulp per element.
"""

import importlib
import os

from . import _baseline

#: kernel modules available on this CPU, by name, narrowest first.  A wider build is imported
#: only once the CPU is known to run it: its module initialisation may already use the wider
#: instructions.
available = {"baseline": _baseline}
for _name, _supported in (("avx2", _baseline.cpu_has_avx2_fma),
                          ("avx512", _baseline.cpu_has_avx512)):
    if _supported():
        try:
            available[_name] = importlib.import_module(f"._{_name}", __name__)
        except ImportError:  # not built (not x86-64, or a compiler without it)
            pass


def _choose():
    wanted = os.environ.get("LOSSFUSE_ISA", "").strip().lower()
    if not wanted:
        return list(available.values())[-1]
    if wanted not in available:
        raise ImportError(f"LOSSFUSE_ISA={wanted!r} is not available on this CPU/build; "
                          f"available: {sorted(available)}")
    return available[wanted]


kernels = _choose()
