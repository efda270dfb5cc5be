# cython: language_level=3, cdivision=True, cpow=True
# The same kernels, built with -mavx2 -mfma; imported only on CPUs that have both.
include "pointwise.pxi"
include "loops.pxi"
include "softmax.pxi"
include "rows.pxi"
include "api.pxi"
include "moments.pxi"
