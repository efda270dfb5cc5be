"""lossfuse on Dask arrays: lazy, one kernel call per chunk, partial sums and weights added in
a tree.

>>> import dask.array as da, numpy as np
>>> from lossfuse import dask as lfd
>>> y = da.from_array(np.arange(10.0), chunks=4)
>>> p = y + 0.5
>>> float(lfd.loss("squared_error", y, p).compute())
0.25

``loss(name, y_true, y_pred, sample_weight=None, reduction="mean", **params)`` is a 0-d Dask
array (``reduction="none"``: an array chunked like ``y_pred``); ``loss_gradient`` returns
``(loss, gradient)``, the gradient chunked like ``y_pred`` and that of what is returned, as
``lossfuse.Loss.loss_gradient`` gives it.  Each chunk of rows is one kernel call (``sum``
reduction: its weighted loss sum, and for ``loss_gradient`` its gradient), together with
what the mean divides by; the partials are added by Dask's tree reduction, so the result
equals the in-memory one to rounding.  ``y_true`` and ``sample_weight`` are rechunked to
``y_pred``'s rows; a 2-d ``y_pred`` (``cross_entropy``'s logits) must be chunked by rows only
(it is rechunked to one chunk along its second axis).  Nothing is computed until asked.
"""

from __future__ import annotations

from typing import Any

import dask
import dask.array as da
import numpy as np

import lossfuse as lf
from ._api import _OP_LOSS, _OP_LOSS_GRADIENT

__all__ = ["loss", "loss_gradient"]


def _align(name, y_true, y_pred, sample_weight):
    """The three inputs as Dask arrays with y_pred's row chunks (y_pred whole along axis 1)."""
    p = da.asarray(y_pred)
    if p.ndim == 2:
        p = p.rechunk({1: -1})
    elif p.ndim != 1:
        raise ValueError(f"y_pred must be 1-d, or 2-d for cross_entropy; got {p.ndim}-d")
    y = da.asarray(y_true)
    if y.shape[0] != p.shape[0]:
        raise ValueError(f"y_true and y_pred must have the same number of rows; got "
                         f"{y.shape[0]} and {p.shape[0]}")
    y = y.rechunk((p.chunks[0],) + tuple((s,) for s in y.shape[1:]))
    w = None
    if sample_weight is not None:
        w = da.asarray(sample_weight)
        if w.shape != (p.shape[0],):
            raise ValueError(f"sample_weight must have shape ({p.shape[0]},) (one weight per "
                             f"row of y_pred), got {w.shape}")
        w = w.rechunk((p.chunks[0],))
    return y, p, w


def _blocks(a):
    return None if a is None else a.to_delayed().ravel()


def _partial(fn, y, p, w, reduction: str, gradient: bool):
    """One chunk, one kernel call: (array [weighted loss sum, mean denominator], per-element
    losses for reduction "none" or None, gradient of the sum (or of each element) or None)."""
    if reduction == "none":
        if gradient:
            losses, g = fn.loss_gradient(y, p, sample_weight=w, reduction="none")
            return None, losses, g
        return None, fn.loss(y, p, sample_weight=w, reduction="none"), None
    parts, g = fn._sum_and_denominator(_OP_LOSS_GRADIENT if gradient else _OP_LOSS, y, p, w)
    return np.array(parts), None, g


def _reduced(name: str, y_true, y_pred, sample_weight, reduction: str, gradient: bool,
             params: dict):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be one of 'none', 'sum', 'mean'; got {reduction!r}")
    fn = lf.get_loss(name, **params)
    y, p, w = _align(name, y_true, y_pred, sample_weight)
    if p.shape[0] == 0 and reduction == "mean":
        raise ValueError("reduction='mean' over zero samples (y_pred is empty)")
    dt = np.float32 if p.dtype == np.float32 else np.float64
    wblocks = _blocks(w) if w is not None else [None] * p.numblocks[0]
    parts = [dask.delayed(_partial, nout=3)(fn, yb, pb, wb, reduction, gradient)
             for yb, pb, wb in zip(_blocks(y), _blocks(p), wblocks)]

    def stitch(k, shape_of):
        return da.concatenate([da.from_delayed(part[k], shape=shape_of(n), dtype=dt)
                               for part, n in zip(parts, p.chunks[0])], axis=0)
    g = None
    if gradient:
        g = stitch(2, lambda n: (n,) + p.shape[1:])
    if reduction == "none":
        value = stitch(1, lambda n: (n,))
        return (value, g) if gradient else value
    sums = da.stack([da.from_delayed(part[0], shape=(2,), dtype=np.float64) for part in parts])
    total = sums.sum(axis=0)                          # Dask's tree reduction of the partials
    value = total[0] / total[1] if reduction == "mean" else total[0]
    if not gradient:
        return value
    if reduction == "mean":
        g = g * (1.0 / total[1]).astype(dt)
    return value, g


def loss(name: str, y_true, y_pred, sample_weight=None, reduction: str = "mean",
         **params: Any):
    """The loss `name` of Dask (or NumPy) arrays, lazily: a 0-d Dask array for ``"mean"``
    and ``"sum"``, per-element ``w * loss`` for ``"none"``."""
    return _reduced(name, y_true, y_pred, sample_weight, reduction, False, params)


def loss_gradient(name: str, y_true, y_pred, sample_weight=None, reduction: str = "mean",
                  **params: Any):
    """``(loss, gradient)`` of Dask arrays, lazily; one kernel call per chunk computes both."""
    return _reduced(name, y_true, y_pred, sample_weight, reduction, True, params)
