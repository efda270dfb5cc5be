# The same API as _baseline, built with -mavx2 -mfma.
from ._baseline import *  # noqa: F401,F403
