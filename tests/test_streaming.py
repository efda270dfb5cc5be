"""loss_gradient writes float64 gradients larger than the last-level cache with non-temporal
stores: the same bits as plain stores, whatever the alignment of the output, its length (vector
tails) and the thread count, in every instruction-set build."""

import numpy as np
import pytest

from lossfuse._kernels import available

LOSSES = [("squared_error", ()), ("huber", (1.0,)), ("binary_cross_entropy", (1.0,)),
          ("poisson", ())]


def _run(module, name, prm, dtype, y, p, g, threads):
    k = module.LossKernel(module.LOSSES[name][0], prm)
    run = k.run_float64 if dtype == np.float64 else k.run_float32
    return run(module.OPERATIONS["loss_gradient"], y, p, None, 1, None, g, None, 0.25, threads)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])   # float32: plain stores always
@pytest.mark.parametrize("name,prm", LOSSES)
def test_streamed_gradient_is_the_plain_one(name, prm, dtype):
    rng = np.random.default_rng(7)
    for isa, module in available.items():
        for n in (1, 7, 17, 1023, 1025, 70_001):
            for offset in (0, 1, 3, 5):          # output addresses off every vector alignment
                y = rng.integers(0, 3, n).astype(dtype) if name == "poisson" else \
                    rng.integers(0, 2, n).astype(dtype)
                p = rng.normal(0, 1, n).astype(dtype)
                want = np.empty(n, dtype)
                old = module.set_stream_bytes(1 << 62)               # never stream
                try:
                    s_want = _run(module, name, prm, dtype, y, p, want, 1)
                finally:
                    module.set_stream_bytes(old)
                for threads in (1, 2):
                    buf = np.full(n + offset + 9, -3.5, dtype)
                    g = buf[offset:offset + n]
                    old = module.set_stream_bytes(0)                 # always stream
                    try:
                        s = _run(module, name, prm, dtype, y, p, g, threads)
                    finally:
                        module.set_stream_bytes(old)
                    assert s == s_want, (isa, n, offset, threads)
                    np.testing.assert_array_equal(g, want, err_msg=f"{isa} {n} {offset}")
                    assert np.all(buf[:offset] == -3.5) and np.all(buf[offset + n:] == -3.5)



def test_strided_gradients_and_the_default_threshold():
    """A strided gradient output takes the plain stores (streaming needs unit stride), with the
    same values; the default threshold is a cache size, at least 1 MiB."""
    module = next(iter(available.values()))
    rng = np.random.default_rng(1)
    y, p = rng.normal(size=5000), rng.normal(size=5000)
    wide = np.zeros(10_000)
    g = np.empty(5000)
    old = module.set_stream_bytes(0)
    try:
        _run(module, "squared_error", (), np.float64, y, p, wide[::2], 2)
        _run(module, "squared_error", (), np.float64, y, p, g, 2)
    finally:
        assert module.set_stream_bytes(old) == 0
    np.testing.assert_array_equal(wide[::2], g)
    assert np.all(wide[1::2] == 0)
    assert old == module._last_level_cache_bytes() >= 1 << 20
