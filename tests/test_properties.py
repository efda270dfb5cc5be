"""Property-based checks (hypothesis): arbitrary shapes, values, weights and thread counts."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import lossfuse as lf
from conftest import assert_close
from reference import DEVIANCES, LABELS, PARAMS, deviance_atol, reference

finite = st.floats(-5e3, 5e3, allow_nan=False, width=64)   # the long-double cosh of the
# reference overflows past |d| = 11356


LABEL_VALUES = {"unit": st.floats(0, 1) | st.sampled_from([0.0, 1.0]),
                "sign": st.sampled_from([0.0, 1.0]),
                "nonnegative": st.floats(0, 1e6) | st.sampled_from([0.0, 1.0]),
                "positive": st.floats(1e-6, 1e6) | st.sampled_from([1.0])}
log_mean = st.floats(-300, 300, allow_nan=False)      # exp stays finite in float64


@st.composite
def problems(draw, name):
    n = draw(st.integers(1, 300))
    y = draw(arrays(np.float64, n, elements=LABEL_VALUES[LABELS[name]] if name in LABELS
                    else finite))
    p = draw(arrays(np.float64, n, elements=log_mean if name in DEVIANCES else finite))
    w = draw(st.none() | arrays(np.float64, n, elements=st.floats(0.01, 100)))
    return y, p, w


@settings(max_examples=60, deadline=None)
@given(data=st.data(), name=st.sampled_from(sorted(PARAMS)),
       reduction=st.sampled_from(["none", "sum", "mean"]), n_threads=st.integers(1, 4))
def test_matches_reference_on_arbitrary_inputs(data, name, reduction, n_threads):
    y, p, w = data.draw(problems(name))
    loss = lf.get_loss(name, **PARAMS[name])
    value, grad = loss.loss_gradient(y, p, sample_weight=w, reduction=reduction,
                                     n_threads=n_threads)
    ref_value, ref_grad, _ = reference(name, y, p, w, reduction)
    atol_value, atol_grad = 1e-300, 1e-12 * np.max(np.abs(ref_grad))
    if name in DEVIANCES:     # differences of terms: within a few ulp of the terms
        atol_value, atol_grad = deviance_atol(name, y, p, w, reduction, 1e-13)
    assert_close(value, ref_value, 1e-12, atol_value, "loss")
    assert_close(grad, ref_grad, 1e-12, atol_grad, "gradient")
    # the summed loss is the sum of the per-sample losses it reports
    per_sample = loss.loss(y, p, sample_weight=w, reduction="none")
    total = loss.loss(y, p, sample_weight=w, reduction="sum")
    np.testing.assert_allclose(total, np.sum(per_sample), rtol=1e-12)
