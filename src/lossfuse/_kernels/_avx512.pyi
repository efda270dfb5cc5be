from ._baseline import *  # noqa: F401,F403  (same API, built for AVX-512 F, DQ, BW and VL)
from ._baseline import LossKernel as LossKernel, MisalignedError as MisalignedError
from ._baseline import OverlapError as OverlapError, LabelError as LabelError
from ._baseline import CrossEntropyKernel as CrossEntropyKernel, TargetError as TargetError
