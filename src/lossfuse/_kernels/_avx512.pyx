# cython: language_level=3, cdivision=True, cpow=True
# The same kernels, built for AVX-512 (F, DQ, BW, VL) on 512-bit vectors; imported only on
# CPUs (and operating systems) that have all four.
include "pointwise.pxi"
include "loops.pxi"
include "softmax.pxi"
include "rows.pxi"
include "api.pxi"
include "moments.pxi"
