import numpy as np
import pytest

LAYOUTS = ("contiguous", "strided", "readonly", "byteswapped")


def make_layout(a, layout):
    """`a`'s values in the given memory layout (the values themselves unchanged)."""
    if layout == "contiguous":
        return np.ascontiguousarray(a)
    if layout == "strided":
        big = np.empty((a.shape[0] * 3,) + a.shape[1:], dtype=a.dtype)
        big[::3] = a
        return big[::3]
    if layout == "readonly":
        b = a.copy()
        b.flags.writeable = False
        return b
    if layout == "byteswapped":
        return a.astype(a.dtype.newbyteorder("S"))
    raise ValueError(layout)


def ulp_rtol(dtype, ulps):
    return ulps * np.finfo(dtype).eps


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def assert_close(got, want, rtol, atol, what=""):
    """|got - want| <= atol + rtol |want| elementwise, with `atol` an array or a number (numpy's
    assert_allclose cannot report an array atol); equal infinities and NaNs pass."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(got - want) <= atol + rtol * np.abs(want))
    bad &= ~((got == want) | (np.isnan(got) & np.isnan(want)))
    where = np.flatnonzero(bad)[:5]
    assert not bad.any(), (what, where, got.ravel()[where], want.ravel()[where])
