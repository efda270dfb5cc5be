"""lossfuse on Dask arrays: lazy, one kernel call per chunk of rows, with the results and the
errors of the in-memory call.

>>> import dask.array as da, numpy as np
>>> from lossfuse import dask as lfd
>>> y = da.from_array(np.arange(10.0), chunks=4)
>>> p = y + 0.5
>>> float(lfd.loss("squared_error", y, p).compute())
0.25

``loss(name, y_true, y_pred, sample_weight=None, reduction="mean", **params)`` is a 0-d Dask
array for ``"mean"`` and ``"sum"``, and for ``"none"`` an array of the shape and dtype that
``lossfuse.get_loss(name, **params).loss`` returns, chunked by ``y_pred``'s rows;
``loss_gradient`` returns ``(loss, gradient)`` as ``lossfuse.Loss.loss_gradient`` does, the
gradient chunked like ``y_pred``.  Any inputs (Dask, NumPy, lists) of the shapes the in-memory
methods take, chunked in any way: ``y_pred`` is rechunked to hold whole rows (its first axis
alone is split), ``y_true`` and ``sample_weight`` to its row chunks.

Each chunk of rows is one call of the in-memory method (for ``"mean"`` and ``"sum"``: its loss
sum, what the mean divides by, and its gradient); the call adds the partial sums, so the
result equals the in-memory one to the rounding of the sum.  Nothing is computed until asked.

Errors.  What the shapes, dtypes and parameters show is checked when the call is made, with
the in-memory call's exceptions and messages.  What only the values show -- a label outside
the loss's domain (hinge labels mixing {0, 1} and {-1, 1} across chunks included), a class
index outside ``[0, K)`` or not an integer, a probability outside [0, 1], sample weights that
sum to zero or no row left for ``"mean"`` -- raises at compute time the exception the
in-memory call raises for the whole array, with the same message: the same first offending
element, its index counted in the whole array.  So that no chunk of a result is returned for
inputs the in-memory call refuses, every chunk of a ``"none"`` loss or of a gradient waits for
the checks of all chunks whenever a check can fail there (``"mean"``, and losses with a domain
for ``y_true``); until then, the chunks computed are held in memory (or spilled by
``dask.distributed``).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

import numpy as np

from ._optional import import_optional

import_optional("dask.array", "lossfuse.dask")   # without dask: an error naming the extra
import dask.array as da  # noqa: E402
from dask.delayed import delayed  # noqa: E402

import lossfuse as lf  # noqa: E402
from . import _api  # noqa: E402
from ._api import (_MEAN, _NONE, _OP_LOSS, _OP_LOSS_GRADIENT, LossParameter,  # noqa: E402
                   RealArrayLike, Reduction, _Array)

__all__ = ["loss", "loss_gradient"]

# An element of y_true named in an in-memory error message ("y_true[7]", "y_true[(7, 2)]",
# "y_true[7, 2]"): group 2 is its row, counted in the array that call saw.
_ROW = re.compile(r"(y_true\[\(?)(\d+)")
# What "mean" divides by for an elementwise loss (the weight of the elements) depends on the
# weights alone: any elementwise loss computes it, this one on any labels.
_ANY_LABELS = lf.get_loss("squared_error")


# ------------------------------------------------------------------ checks at call time
def _dask_array(x: Any, name: str) -> da.Array:
    a = x if isinstance(x, da.Array) else da.asarray(_api._as_array(x, name))
    if any(s != s for s in a.shape):
        raise ValueError(f"{name} has chunks of unknown size; call {name}.compute_chunk_sizes() "
                         "first")
    return a


def _cross_entropy_rows(fn: lf.CrossEntropyLoss, y: da.Array, p: da.Array) -> int:
    """The rows of cross_entropy's inputs, after the in-memory checks of their shapes."""
    class_weight = fn.params["class_weight"]
    n, K = _api._logits_shape(p.shape, None if class_weight is None else len(class_weight))
    if y.dtype.kind not in "biuf":
        raise TypeError(f"y_true must be class indices or probabilities (real numbers), got "
                        f"dtype {y.dtype}")
    if y.shape != (n,) and y.shape != (n, K):
        raise ValueError(f"y_true must be class indices of shape ({n},) or class probabilities "
                         f"of shape {(n, K)}, got shape {y.shape}")
    return n


def _inputs(fn: lf.Loss, y_true: Any, y_pred: Any, sample_weight: Any, red: int,
            reduction: Any) -> Tuple[da.Array, da.Array, Optional[da.Array], np.dtype[Any],
                                     Tuple[int, ...]]:
    """``(y, p, w, dtype, shape)``: the inputs as Dask arrays chunked alike by rows (whole
    along their other axes), the dtype computed in and y_pred's shape, after the in-memory
    call's checks of dtypes and shapes, in its order.  A 0-d input becomes one row."""
    p = _dask_array(y_pred, "y_pred")
    dt = _api._as_y_pred(np.empty(0, p.dtype)).dtype
    y = _dask_array(y_true, "y_true")
    if isinstance(fn, lf.CrossEntropyLoss):
        rows = size = _cross_entropy_rows(fn, y, p)
    else:
        _api._as_operand(np.empty(0, y.dtype), "y_true", dt)
        if y.shape != p.shape:
            raise ValueError(f"y_true and y_pred must have the same shape; got {y.shape} and "
                             f"{p.shape}")
        rows, size = (p.shape[0] if p.ndim else 1), p.size
    w = None
    if sample_weight is not None:
        w = _dask_array(sample_weight, "sample_weight")
        _api._as_operand(np.empty(0, w.dtype), "sample_weight", dt)
        if w.shape != (rows,) and not (p.ndim == 0 and w.ndim == 0):
            raise ValueError(f"sample_weight must have shape ({rows},) (one weight per row of "
                             f"y_pred), got {w.shape}")
        w = w.reshape(1) if w.ndim == 0 else w
    _api._check_reduction_args(red, reduction, None, size)
    shape = p.shape
    if p.ndim == 0:
        p, y = p.reshape(1), y.reshape(1)
    p = p.rechunk({axis: -1 for axis in range(1, p.ndim)})
    y = y.rechunk((p.chunks[0],) + tuple((s,) for s in y.shape[1:]))
    w = None if w is None else w.rechunk((p.chunks[0],))
    return y, p, w, dt, shape


# ------------------------------------------------------------------------- per chunk
# A chunk's outputs: losses for "none" (else None), gradient (None for the loss alone), for
# the gradient of the mean the rows it leaves at 0 (else None)
_Outputs = Tuple[Optional[_Array], Optional[_Array], Optional[_Array]]


class _Checked(NamedTuple):
    """What a chunk tells the whole-array checks: its (loss sum, mean denominator) or None,
    the rows of y_true that decide its errors and label sets ({row in the whole array: row}),
    and its own error (indices counted in the whole array) or None."""

    parts: Optional[Tuple[float, float]]
    evidence: Dict[int, _Array]
    error: Optional[ValueError]


def _renumber(message: str, row: Callable[[int], int]) -> str:
    """`message` with each element of y_true it names moved to row ``row(its row)``."""
    return _ROW.sub(lambda m: m.group(1) + str(row(int(m.group(2)))), message)


def _sign_rows(y: _Array, row0: int) -> Dict[int, _Array]:
    """The rows holding the chunk's first label 0 and first label -1 (the hinge family's two
    label sets), which the whole array must not mix."""
    flat = y.reshape(-1)
    row_len = flat.size // len(y) if len(y) else 1
    found = {}
    for label in (0, -1):
        hits = np.flatnonzero(flat == label)
        if hits.size:
            r = int(hits[0]) // row_len
            found[row0 + r] = np.array(y[r])
    return found


def _idle_rows(fn: lf.Loss, y: _Array, w: Optional[_Array]) -> Optional[_Array]:
    """cross_entropy's rows that count nothing (weight 0, or ignore_index), whose gradient
    the kernel writes as 0 whatever the mean divides by (NaN included); None otherwise."""
    if not isinstance(fn, lf.CrossEntropyLoss):
        return None
    ignore = fn.params["ignore_index"] if y.ndim == 1 else None
    if w is None and ignore is None:
        return None
    idle = np.zeros(len(y), bool) if w is None else np.asarray(w) == 0
    return idle | (y == ignore) if ignore is not None else idle


def _block(fn: lf.Loss, op: int, red: int, y: _Array, p: _Array, w: Optional[_Array],
           row0: int) -> Tuple[_Checked, Optional[_Outputs]]:
    """One chunk of rows (starting at row `row0`) through the in-memory method, as one kernel
    call: ``(_Checked, outputs or None on error)``, the outputs ``(losses for "none" or None,
    gradient or None, for the gradient of the mean the rows it leaves at 0 or None)``."""
    outputs: _Outputs
    parts: Optional[Tuple[float, float]]
    g: Optional[_Array]
    try:
        if red == _NONE:
            if op == _OP_LOSS_GRADIENT:
                losses, g = fn.loss_gradient(y, p, sample_weight=w, reduction="none")
            else:
                losses, g = fn.loss(y, p, sample_weight=w, reduction="none"), None
            outputs = (losses, g, None)
            parts = None
        else:
            parts, g = fn._sum_and_denominator(op, y, p, w)
            outputs = (None, g, _idle_rows(fn, y, w) if red == _MEAN else None)
    except ValueError as e:
        rows = [int(m.group(2)) for m in _ROW.finditer(str(e))]
        if not rows:            # not about the values of y_true: nothing to gather
            raise
        parts = None
        if red == _MEAN and not isinstance(fn, lf.CrossEntropyLoss):
            parts = _ANY_LABELS._sum_and_denominator(_OP_LOSS, p, p, w)[0]
        error = ValueError(_renumber(str(e), lambda r: row0 + r))
        return _Checked(parts, {row0 + r: np.array(y[r]) for r in rows}, error), None
    evidence = _sign_rows(y, row0) if getattr(fn, "_labels", None) == "sign" else {}
    return _Checked(parts, evidence, None), outputs


# ----------------------------------------------------------------- whole-array checks
def _replay(fn: lf.Loss, like: Tuple[_Array, _Array],
            rows: Optional[List[_Array]] = None) -> Optional[ValueError]:
    """The error the in-memory call raises for a few rows of y_true (`rows`, in order) with
    predictions of 0, or, with no rows, for the mean of one row of weight 0; None if there is
    none.  `like`: empty arrays of y_true's and y_pred's dtypes and trailing shapes."""
    y_like, p_like = like
    reduction: Reduction
    if rows is None:
        y, w, reduction = np.zeros((1,) + y_like.shape[1:], y_like.dtype), np.zeros(1), "mean"
    else:
        y, w, reduction = np.stack(rows), None, "sum"
    try:
        fn.loss(y, np.zeros((len(y),) + p_like.shape[1:], p_like.dtype), sample_weight=w,
                reduction=reduction)
    except ValueError as e:
        return e
    return None


def _verdict(fn: lf.Loss, red: int, like: Tuple[_Array, _Array],
             checked: List[_Checked]) -> Tuple[float, float]:
    """``(loss sum, mean denominator)`` of the whole array, or the in-memory call's error for
    it.  That error is the in-memory call's own, on the rows the chunks name: each chunk
    names the rows deciding its error and label sets, and among them are those deciding the
    whole array's (the first offender of the first check any chunk fails is the first
    offender of that check in its chunk)."""
    sums = [c.parts for c in checked if c.parts is not None]
    total, denominator = np.sum(sums, axis=0) if sums else (0.0, 0.0)
    no_weight = red == _MEAN and denominator == 0
    if no_weight and not isinstance(fn, lf.CrossEntropyLoss):   # checked before the labels
        raise _zero_weight(fn, like)
    evidence: Dict[int, _Array] = {}
    for c in checked:
        evidence.update(c.evidence)
    rows = sorted(evidence)
    error = _replay(fn, like, [evidence[r] for r in rows]) if rows else None
    if error is not None:
        raise ValueError(_renumber(str(error), rows.__getitem__))
    for c in checked:
        if c.error is not None:
            raise c.error
    if no_weight:                                               # cross_entropy: after them
        raise _zero_weight(fn, like)
    return float(total), float(denominator)


def _zero_weight(fn: lf.Loss, like: Tuple[_Array, _Array]) -> ValueError:
    """The in-memory call's error for a mean over a total weight of 0 (it always has one)."""
    error = _replay(fn, like)
    assert error is not None
    return error


def _value(verdict: Tuple[float, float], red: int) -> np.float64:
    total, denominator = verdict
    return np.float64(total / denominator if red == _MEAN else total)


def _take(checked: _Checked, outputs: Optional[_Outputs],
          verdict: Optional[Tuple[float, float]], k: int, red: int) -> _Array:
    """Output `k` of a chunk (0: losses, 1: gradient), once `verdict` (when given) has passed;
    the gradient of the mean is that of the sum over the whole array's denominator."""
    if outputs is None:
        assert checked.error is not None          # a chunk without outputs has its error
        raise checked.error
    out = outputs[k]
    assert out is not None                        # the graph asks for outputs it computed
    if k == 1 and red == _MEAN:          # a new array: a task's inputs are not its to change
        assert verdict is not None                # the mean's chunks wait for the verdict
        with np.errstate(invalid="ignore", over="ignore"):    # inf * 0: NaN, as in the kernel
            out = out * out.dtype.type(1.0 / verdict[1])
        if outputs[2] is not None:
            out[outputs[2]] = 0
    return out


# ------------------------------------------------------------------------------ graph
def _lazy(name: str, y_true: Any, y_pred: Any, sample_weight: Any, reduction: Any, op: int,
          params: Dict[str, LossParameter]) -> Tuple[da.Array, Optional[da.Array]]:
    """``(loss, gradient or None)`` of operation `op` (loss or loss_gradient): the graph."""
    fn = _api._make(name, params)
    red = _api._reduction(reduction)
    y, p, w, dt, shape = _inputs(fn, y_true, y_pred, sample_weight, red, reduction)
    like = (np.empty((0,) + y.shape[1:], y.dtype), np.empty((0,) + p.shape[1:], dt))
    starts = np.cumsum((0,) + p.chunks[0][:-1])
    wblocks = w.to_delayed().ravel() if w is not None else [None] * p.numblocks[0]
    blocks = [delayed(_block, nout=2)(fn, op, red, yb, pb, wb, int(r0))
              for yb, pb, wb, r0 in zip(y.to_delayed().ravel(), p.to_delayed().ravel(),
                                        wblocks, starts)]
    verdict = delayed(_verdict)(fn, red, like, [b[0] for b in blocks])
    # the chunks of array results wait for the whole-array checks only where they can fail
    labels_checked = isinstance(fn, lf.CrossEntropyLoss) or fn._labels is not None
    gate = verdict if red == _MEAN or labels_checked else None

    def stitch(k: int, trailing: Tuple[int, ...]) -> da.Array:
        parts = [da.from_delayed(delayed(_take)(checked, outputs, gate, k, red),
                                 shape=(n,) + trailing, dtype=dt)
                 for (checked, outputs), n in zip(blocks, p.chunks[0])]
        out: da.Array = da.concatenate(parts, axis=0)
        return out.reshape(()) if shape == () else out      # a 0-d input's one row

    if red == _NONE:
        value = stitch(0, () if isinstance(fn, lf.CrossEntropyLoss) else p.shape[1:])
    else:
        value = da.from_delayed(delayed(_value)(verdict, red), shape=(), dtype=np.float64)
    return value, (stitch(1, p.shape[1:]) if op == _OP_LOSS_GRADIENT else None)


def loss(name: str, y_true: RealArrayLike, y_pred: RealArrayLike,
         sample_weight: RealArrayLike | None = None, reduction: Reduction = "mean",
         **params: LossParameter) -> da.Array:
    """The loss `name` of Dask (or NumPy) arrays, lazily.

    Parameters
    ----------
    name : str
        A loss name or alias, as for `lossfuse.get_loss`.
    y_true : dask.array.Array or array-like
        As for `lossfuse.Loss.loss`; Dask arrays chunked in any way.
    y_pred : dask.array.Array or array-like
        As for `lossfuse.Loss.loss`; Dask arrays chunked in any way.
    sample_weight : dask.array.Array or array-like of shape (n,), optional
        Weights of the rows.
    reduction : {"mean", "sum", "none"}, default "mean"
        As for `lossfuse.Loss.loss`.
    **params : float, array-like or None
        The loss's parameters.

    Returns
    -------
    dask.array.Array
        0-d (float64) for ``"mean"`` and ``"sum"``; for ``"none"`` per-element ``w * loss``
        (per row for cross_entropy) in ``y_pred``'s dtype, chunked by its rows.

    Raises
    ------
    ValueError, TypeError
        At the call, what the in-memory call raises for the shapes, dtypes and parameters;
        at compute time, what it raises for the values (see the module docstring).

    Examples
    --------
    >>> import dask.array as da, numpy as np
    >>> from lossfuse import dask as lfd
    >>> y = da.from_array(np.array([0.0, 1.0, 0.0, 1.0]), chunks=2)
    >>> float(lfd.loss("bce", y, da.zeros(4, chunks=2), reduction="sum").compute())
    2.772588722239781
    """
    return _lazy(name, y_true, y_pred, sample_weight, reduction, _OP_LOSS, params)[0]


def loss_gradient(name: str, y_true: RealArrayLike, y_pred: RealArrayLike,
                  sample_weight: RealArrayLike | None = None, reduction: Reduction = "mean",
                  **params: LossParameter) -> Tuple[da.Array, da.Array]:
    """``(loss, gradient)`` of Dask (or NumPy) arrays, lazily.

    One kernel call per chunk computes both.

    Parameters
    ----------
    name : str
        A loss name or alias, as for `lossfuse.get_loss`.
    y_true : dask.array.Array or array-like
        As for `loss`.
    y_pred : dask.array.Array or array-like
        As for `loss`.
    sample_weight : dask.array.Array or array-like of shape (n,), optional
        As for `loss`.
    reduction : {"mean", "sum", "none"}, default "mean"
        As for `loss`.
    **params : float, array-like or None
        The loss's parameters.

    Returns
    -------
    loss : dask.array.Array
        As `loss` returns it.
    gradient : dask.array.Array
        The gradient of the returned loss with respect to ``y_pred``: its shape and dtype,
        chunked by its rows.

    Raises
    ------
    ValueError, TypeError
        As `loss` raises them.

    Examples
    --------
    >>> import dask.array as da, numpy as np
    >>> from lossfuse import dask as lfd
    >>> value, grad = lfd.loss_gradient("mse", np.zeros(4), da.ones(4, chunks=2))
    >>> float(value.compute()), grad.compute()
    (1.0, array([0.5, 0.5, 0.5, 0.5]))
    """
    value, gradient = _lazy(name, y_true, y_pred, sample_weight, reduction, _OP_LOSS_GRADIENT,
                            params)
    assert gradient is not None               # loss_gradient's graph has one
    return value, gradient
