# cython: language_level=3, cdivision=True, cpow=True
# Kernels built for the baseline instruction set of the target (SSE2 on x86-64).
include "pointwise.pxi"
include "loops.pxi"
include "softmax.pxi"
include "rows.pxi"
include "api.pxi"
include "moments.pxi"
