# The same API as _baseline, built for AVX-512 F, DQ, BW and VL.
from ._baseline import *  # noqa: F401,F403
