"""Misuse of lossfuse's public API that a type checker must report.

Never run: tests/test_typing.py checks it with mypy.  Each line with a comment ``E: code``
must give exactly that error (mypy's error code; several separated by commas), and no other
line any error.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

import lossfuse as lf
from lossfuse import metrics

loss = lf.get_loss("huber")
y, p = np.zeros(3), np.ones(3)
out = np.empty(3)

# reductions are the three names, not any str
loss(y, p, reduction="nonee")  # E: call-overload
loss.gradient(y, p, reduction="avg")  # E: call-overload
chosen: str = "mean"
loss.loss(y, p, reduction=chosen)  # E: call-overload

# inputs are real numbers: not a str, complex numbers or None
loss.loss("0.5", p)  # E: call-overload
loss.gradient(y, "abc")  # E: call-overload
loss.loss_gradient(y, [1 + 2j, 0j, 1.0])  # E: arg-type
complex_pred = np.zeros(3, np.complex128)
loss.gradient(y, complex_pred)  # E: type-var
loss.gradient_hessian(y, p, sample_weight="w")  # E: call-overload
loss(None, p)  # E: call-overload

# a reduced loss is a float, the per-element loss an array
as_array: NDArray[np.float64] = loss(y, p)  # E: assignment
loss.loss(y, p).sum()  # E: attr-defined
as_float: float = loss.loss(y, p, reduction="none")  # E: assignment
value, gradient = loss.loss_gradient(y, p)
value.shape  # E: attr-defined
# outputs take y_pred's dtype
as_float32: NDArray[np.float32] = loss.gradient(y, p)  # E: assignment
# loss_out goes with reduction="none" only
loss.loss(y, p, loss_out=out)  # E: call-overload

# thread counts are ints
loss.gradient(y, p, n_threads="2")  # E: call-overload
loss(y, p, n_threads=1.5)  # E: call-overload
lf.set_num_threads("2")  # E: arg-type
lf.threads(2.0)  # E: arg-type

# loss parameters: numbers (and cross_entropy's class weights), keyword-only
lf.get_loss("huber", delta="2")  # E: call-overload
lf.get_loss("huber", delta=None)  # E: call-overload
lf.get_loss("huber", 2.0)  # E: call-overload
lf.get_loss(["huber"])  # E: call-overload
lf.Loss("huber", delta="2")  # E: arg-type
lf.CrossEntropyLoss(ignore_index=1.5)  # E: arg-type
lf.CrossEntropyLoss(class_weight="12")  # E: arg-type
lf.CrossEntropyLoss(delta=1.0)  # E: call-arg
# only cross_entropy's names give a CrossEntropyLoss
not_cross_entropy: lf.CrossEntropyLoss = lf.get_loss("huber")  # E: assignment
# a loss's parameters are read-only
loss.params["delta"] = 3.0  # E: index

# metrics: multioutput is "raw_values", "uniform_average" or output weights
metrics.mean_squared_error(y, p, multioutput="raw")  # E: call-overload
score: float = metrics.mean_absolute_error(y, p, multioutput="raw_values")  # E: assignment
per_output: NDArray[np.float64] = metrics.root_mean_squared_error(y, p)  # E: assignment
metrics.mean_pinball_loss(y, p, alpha="0.5")  # E: call-overload
metrics.mean_tweedie_deviance(y, p, power="1")  # E: arg-type
metrics.log_loss(y, p, normalize="yes")  # E: arg-type
