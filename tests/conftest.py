import platform

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


# The builds with hardware fused multiply-add: AVX2 and AVX-512 on x86-64; on aarch64 the
# baseline (NEON always has FMA).  They give identical bits; a baseline without FMA (SSE2)
# rounds a * b + c twice and may differ from them by 1 ulp per element.
BASELINE_HAS_FMA = platform.machine().lower() in ("aarch64", "arm64")


def has_fma(isa):
    return isa != "baseline" or BASELINE_HAS_FMA


def ulp_mismatches(a, b, ulps=1, atol=0.0):
    """Indices where a and b (same dtype and shape) are neither equal (NaNs and infinities
    included) nor within `ulps` ulp (in their dtype) or `atol` of each other."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
    if a.dtype.kind != "f":
        return np.flatnonzero(a != b)
    with np.errstate(invalid="ignore", over="ignore"):
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        diff = np.abs(a.astype(np.float64) - b)
        step = ulps * np.spacing(np.maximum(np.abs(a), np.abs(b))).astype(np.float64)
        near = np.isfinite(a) & np.isfinite(b) & ((diff <= step) | (diff <= atol))
    return np.flatnonzero(~(same | near))


def assert_builds_agree(results, data_dtype=np.float64, ulps=1, atol=0.0):
    """`results`: {isa: sequence of arrays and scalars (sums)}, the same computation in each
    build.  The FMA builds agree bit for bit.  A build without FMA rounds a * b + c twice in
    its exp and log, which then may differ from the FMA builds' by an ulp: its arrays must be
    within `ulps` ulp or `atol` (for outputs that are differences of exp and log terms: the
    size of an ulp of the terms) of the FMA builds', its sums within `ulps` ulp of the data's
    dtype relative to the sum, or `atol` times the number of elements summed."""
    def flat(items):         # tuples of sums (a kernel's return value) as their elements
        return [e for x in items for e in (x if isinstance(x, tuple) else (x,))]
    results = {k: flat(v) for k, v in results.items()}
    fma = {k: v for k, v in results.items() if has_fma(k)}
    plain = {k: v for k, v in results.items() if not has_fma(k)}
    ref = next(iter(fma.values())) if fma else next(iter(results.values()))
    for isa, got in fma.items():
        for x, z in zip(ref, got):
            if np.size(x) == 1:                    # a sum
                assert np.array_equal(x, z, equal_nan=True), (isa, x, z)
            else:
                np.testing.assert_array_equal(z, x, err_msg=isa)
    eps = np.finfo(data_dtype).eps
    size = max((np.size(x) for x in ref), default=1)
    for isa, got in plain.items():
        for x, z in zip(ref, got):
            if np.size(x) == 1:                    # a sum
                x, z = float(np.ravel(x)[0]), float(np.ravel(z)[0])
                assert (x == z or (x != x and z != z) or abs(x - z) <= ulps * eps * abs(x)
                        or abs(x - z) <= np.max(atol) * size), (isa, x, z)
            else:
                bad = ulp_mismatches(x, z, ulps, atol)
                assert bad.size == 0, (isa, bad[:5], np.ravel(x)[bad[:5]], np.ravel(z)[bad[:5]])


def run_score(*args):
    """Run ``lossfuse score ARGS --no-progress`` in this process: (exit code, stdout,
    stderr)."""
    import io
    import sys

    from lossfuse import _score
    out, err = io.StringIO(), io.StringIO()
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = _score.main([*map(str, args), "--no-progress"])
    finally:
        sys.stdout, sys.stderr = stdout, stderr
    return code, out.getvalue(), err.getvalue()


def assert_threads_give_serial_bits(calls, n_threads=8, rounds=5):
    """Calls made from `n_threads` Python threads at once (thread k runs calls[k % len] for
    `rounds` rounds) each give the bits of the same call made alone, and none raises."""
    import threading
    want = [f() for f in calls]
    got, errors = [[] for _ in calls], []

    def work(k):
        try:
            for _ in range(rounds):
                got[k].append(calls[k]())
        except BaseException as e:          # noqa: BLE001 -- reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k % len(calls),)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for k, values in enumerate(got):
        assert values and all(v == want[k] for v in values), (k, values, want[k])
