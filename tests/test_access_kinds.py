"""The kernels reach their operands in two ways -- as they are, when every operand has unit
stride, or through unit-stride copies of a few hundred elements when one is strided -- and
expand the weights of rows (row_len > 1) into a weight per element.  Whichever way, every
result must be the same bits: each element's loss, gradient and hessian, and the total."""

import numpy as np
import pytest

from lossfuse._kernels import available

from reference import PARAMS, sample

# lengths around the copies' pieces (256 elements) and the L1 blocks (1024)
SIZES = [1, 255, 257, 513, 1023, 1025, 2600]
OPS = ["loss", "gradient", "loss_gradient", "gradient_hessian"]


def kernels(name):
    """(module, LossKernel) of every build for the public loss `name` (PARAMS' parameters)."""
    import lossfuse as lf
    loss = lf.get_loss(name, **PARAMS[name])
    return [(m, m.LossKernel(loss._kernel.loss, loss._kernel.params))
            for m in available.values()]


def strided(a, step):
    """`a` as a view with stride `step` elements (the same values)."""
    if a is None:
        return None
    big = np.full(a.size * step, np.nan, a.dtype)
    big[::step] = a
    return big[::step]


def run(module, kernel, op, dtype, y, p, w, row_len, steps):
    """Run `op`; each operand (y, p, w, loss_out, gradient_out, hessian_out) with the stride
    of `steps`; return the total and the outputs as contiguous arrays."""
    n = p.size
    outs = [np.zeros(n, dtype) for _ in range(3)]
    views = [strided(a, s) for a, s in zip([y, p, w] + outs, steps)]
    code = module.OPERATIONS[op]
    lo = views[3]
    g = views[4] if op != "loss" else None
    h = views[5] if op == "gradient_hessian" else None
    f = kernel.run_float64 if dtype == np.float64 else kernel.run_float32
    total = f(code, views[0], views[1], views[2], row_len, lo, g, h, 0.5, 1)
    return total, [np.array(v) for v in views[3:]]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(PARAMS))
def test_every_access_gives_the_same_bits(name, dtype):
    rng = np.random.default_rng(11)
    for n in SIZES:
        y, p = (a.astype(dtype) for a in sample(name, rng, n))
        for row_len in (1, 3, 700):
            if n % row_len:
                continue
            for weighted in (False, True):
                w = (rng.uniform(0.25, 2, n // row_len).astype(dtype) if weighted else None)
                for module, kernel in kernels(name):
                    for op in OPS:
                        want = run(module, kernel, op, dtype, y, p, w, row_len, [1] * 6)
                        for k in range(6):           # each operand strided in turn
                            steps = [1] * 6
                            steps[k] = 3
                            got = run(module, kernel, op, dtype, y, p, w, row_len, steps)
                            where = f"{module.ISA} {op} n={n} row_len={row_len} strided={k}"
                            assert got[0] == want[0] or (np.isnan(got[0]) and
                                                         np.isnan(want[0])), where
                            for a, b in zip(got[1], want[1]):
                                np.testing.assert_array_equal(a, b, err_msg=where)


def test_row_weights_are_the_weights_of_their_rows():
    """A weight per row of row_len elements weighs each of them: the same bits as the weights
    repeated per element."""
    rng = np.random.default_rng(12)
    for module, kernel in kernels("huber"):
        for n, row_len in [(3000, 3), (3000, 1500), (2048, 1024), (5, 5)]:
            y, p = rng.normal(size=n), rng.normal(size=n)
            w = rng.uniform(0.25, 2, n // row_len)
            for op in OPS:
                a = run(module, kernel, op, np.float64, y, p, w, row_len, [1] * 6)
                b = run(module, kernel, op, np.float64, y, p, np.repeat(w, row_len), 1,
                        [1] * 6)
                assert a[0] == b[0]
                for u, v in zip(a[1], b[1]):
                    np.testing.assert_array_equal(u, v)
            ws = module.OPERATIONS["weight_sum"]
            s = kernel.run_float64(ws, None, None, strided(w, 2), row_len, None, None, None,
                                   1.0, 1)
            assert s == kernel.run_float64(ws, None, None, np.repeat(w, row_len), 1, None,
                                           None, None, 1.0, 1)


@pytest.mark.parametrize("step", [1, 3])
def test_outputs_may_be_the_inputs_themselves_at_any_stride(step):
    """An output that is an input (the same view) is read before it is written, element by
    element, also when the view is strided and goes through the copies."""
    rng = np.random.default_rng(13)
    for module, kernel in kernels("huber"):
        for n in (255, 1025, 2600):
            y, p = rng.normal(size=n), rng.normal(size=n)
            want = run(module, kernel, "gradient_hessian", np.float64, y, p, None, 1, [1] * 6)
            py, pp = strided(y, step), strided(p, step)
            code = module.OPERATIONS["gradient_hessian"]
            kernel.run_float64(code, py, pp, None, 1, None, pp, py, 0.5, 1)  # g -> p, h -> y
            np.testing.assert_array_equal(pp, want[1][1])
            np.testing.assert_array_equal(py, want[1][2])
