"""The facade: `get_loss`, `available_losses` and `Loss`.

It checks dtypes and shapes, converts what it must, allocates the outputs the caller did not
give, computes the mean's denominator, and hands typed arrays to one kernel call.  Everything
numeric happens in the kernel, in one pass over the data.  The common call (NumPy arrays of
one float dtype, no weights, no outputs given) takes a short path, because batch scoring makes
millions of calls on a few elements each.
"""

from __future__ import annotations

import operator
from typing import Any, Optional, Tuple

import numpy as np

from . import _losses, _threads
from ._threads import MAX_THREADS as _MAX_THREADS
from ._kernels import kernels as _kernels

__all__ = ["CrossEntropyLoss", "Loss", "available_losses", "get_loss"]

_F64 = np.dtype(np.float64)
_F32 = np.dtype(np.float32)
_OPS = _kernels.OPERATIONS
_OP_LOSS = _OPS["loss"]
_OP_GRADIENT = _OPS["gradient"]
_OP_LOSS_GRADIENT = _OPS["loss_gradient"]
_OP_GRADIENT_HESSIAN = _OPS["gradient_hessian"]
_OP_WEIGHT_SUM = _OPS["weight_sum"]
_NONE, _SUM, _MEAN, _PARTS = 0, 1, 2, 3
_REDUCTIONS = {"none": _NONE, "sum": _SUM, "mean": _MEAN}
# Internal reduction of the streaming callers (lossfuse score, lossfuse.dask), which add up
# chunks: like "sum" (the loss sum, gradients of the sum), and the loss comes back as
# (sum, what "mean" would divide it by) -- the facade's own rule for that denominator.
_SUM_AND_DENOMINATOR = object()


_PARALLEL_MIN = _kernels.PARALLEL_MIN      # fewer elements: one chunk, the calling thread


def available_losses() -> list:
    """Sorted canonical names of all losses (aliases are accepted by `get_loss` too)."""
    return sorted(spec.name for spec in _losses.SPECS)


def get_loss(name: str, **params: float) -> "Loss":
    """The loss called `name` (canonical name or alias), with keyword-only `params`.

    >>> import lossfuse as lf
    >>> lf.get_loss("huber", delta=2.0)
    Loss('huber', delta=2.0)
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    spec = _losses.BY_NAME.get(name.lower())
    if spec is None:
        raise ValueError(f"unknown loss {name!r}; valid names: "
                         f"{', '.join(sorted(_losses.BY_NAME))}")
    if spec.name == "cross_entropy":
        return CrossEntropyLoss(spec, params)
    return Loss(spec, params)


# ----------------------------------------------------------------------------- input checks
def _asarray(x: Any, name: str) -> np.ndarray:
    """np.asarray(x), with NumPy's refusal (a ragged list, say) naming the argument."""
    try:
        return np.asarray(x)
    except (ValueError, TypeError) as e:
        raise type(e)(f"{name} cannot be read as an array: {e}") from None


def _as_y_pred(y_pred: Any) -> np.ndarray:
    """y_pred as a native-order float32/float64 array (ints and bools become float64)."""
    a = y_pred if type(y_pred) is np.ndarray else _asarray(y_pred, "y_pred")
    dt = a.dtype
    if dt is _F64 or dt is _F32:
        return a
    if dt.kind == "f" and dt.itemsize == 8:            # non-native byte order
        return a.astype(_F64)
    if dt.kind == "f" and dt.itemsize in (2, 4):       # float16, or non-native float32
        return a.astype(_F32)
    if dt.kind in "biu":
        return a.astype(_F64)
    if dt.kind == "f":
        raise TypeError(f"y_pred has dtype {dt}, which lossfuse does not compute in; "
                        "convert it to float64 or float32")
    raise TypeError(f"y_pred must be a real numeric array, got dtype {dt}")


def _as_operand(x: Any, name: str, dtype: np.dtype) -> np.ndarray:
    """`x` as an array of `dtype` (y_pred's): real numbers only, converted if needed."""
    a = x if type(x) is np.ndarray else _asarray(x, name)
    if a.dtype is dtype:
        return a
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array, got dtype {a.dtype}")
    return a.astype(dtype)


_n_threads = _threads.resolve


def _reduction(reduction: Any) -> int:
    if reduction is _SUM_AND_DENOMINATOR:
        return _PARTS
    try:
        code = _REDUCTIONS.get(reduction)
    except TypeError:
        code = None
    if code is None:
        raise ValueError(f"reduction must be one of 'none', 'sum', 'mean'; got {reduction!r}")
    return code


def _flat(a: np.ndarray) -> np.ndarray:
    """A 1-d view of `a` in C order when one exists, else a contiguous copy (inputs only)."""
    if a.ndim == 1:
        return a
    return a.reshape(-1)


def _output(out: Any, name: str, shape: Tuple[int, ...], dtype: np.dtype,
            inputs: Tuple[Optional[np.ndarray], ...]) -> Tuple[np.ndarray, np.ndarray, bool]:
    """(array to return, 1-d array the kernel writes, whether to copy the latter into the
    former afterwards).  The kernel writes the caller's array directly unless it cannot (N-d
    non-contiguous, misaligned, or overlapping an input other than by being it)."""
    if out is None:
        a = np.empty(shape, dtype)
        return a, _flat(a), False
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != dtype:
        raise TypeError(f"{name} must have dtype {dtype} (that of y_pred), got {out.dtype}")
    if out.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {out.shape}")
    if not out.flags.writeable:
        raise ValueError(f"{name} is not writeable")
    direct = (out.ndim <= 1 or out.flags.c_contiguous) and out.dtype.isnative \
        and out.flags.aligned
    for x in inputs:
        if direct and x is not None and np.may_share_memory(out, x) and not _is_same(out, x):
            direct = False
    if direct:
        return out, _flat(out), False
    return out, np.empty(out.size, dtype), True


def _outputs(op: int, red: int, loss_out: Any, gradient_out: Any, hessian_out: Any) -> list:
    """(whether operation `op` with reduction `red` writes it, the caller's array or None, its
    name) for loss_out, gradient_out and hessian_out, in that order."""
    return [(op in (_OP_LOSS, _OP_LOSS_GRADIENT) and red == _NONE, loss_out, "loss_out"),
            (op != _OP_LOSS, gradient_out, "gradient_out"),
            (op == _OP_GRADIENT_HESSIAN, hessian_out, "hessian_out")]


def _check_apart(outputs: list) -> None:
    """A ValueError naming both when two outputs an operation writes share memory (there is no
    right answer then: one would overwrite the other).  `outputs`: as `_outputs` gives them.
    Views of one buffer that interleave without sharing an element are fine."""
    given = [(out, name) for written, out, name in outputs
             if written and isinstance(out, np.ndarray)]
    for i, (a, a_name) in enumerate(given):
        for b, b_name in given[i + 1:]:
            if not np.may_share_memory(a, b):
                continue
            try:
                shared = np.shares_memory(a, b, max_work=10**6)
            except np.exceptions.TooHardError:        # undecided: refuse rather than guess
                shared = True
            if shared:
                raise ValueError(f"{a_name} and {b_name} share memory: each output needs "
                                 "memory of its own")


def _direct(out: Any, shape: Tuple[int, ...], dtype: np.dtype) -> bool:
    """Whether the kernel can write `out` as it is (overlap with the inputs aside, which the
    kernel checks): the right type, shape and dtype, C-contiguous, aligned, writeable."""
    return (type(out) is np.ndarray and out.dtype is dtype and out.shape == shape
            and out.flags.c_contiguous and out.flags.aligned and out.flags.writeable)


def _is_same(a: np.ndarray, b: np.ndarray) -> bool:
    """Same memory, element for element (writing a[i] after reading b[i] is then safe)."""
    return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
            and a.shape == b.shape and a.strides == b.strides)


def _label_flags(run, y: np.ndarray) -> int:
    """The kernel's label-check bits for 1-d `y` (0 when it accepts them)."""
    try:
        run(_OP_LOSS, y, y, None, 1, None, None, None, 1.0, 1)
    except _kernels.LabelError as e:
        return e.flags
    return 0


# What y_true may hold, by the label domains of _losses.LossSpec, for the messages
_ALLOWED = {"unit": "values in [0, 1]", "sign": "labels {0, 1} or {-1, 1}",
            "nonnegative": "values >= 0", "positive": "values > 0"}


def _label_error(name: str, labels: str, run, y: np.ndarray, shape: Tuple[int, ...],
                 flags: int) -> ValueError:
    """The error for labels the kernel refused (`y`: the 1-d array it read, `shape`: y_true's),
    naming the first offending element.  The offender is found by bisection with the kernel's
    own check (`label_flags` in pointwise.pxi, the one definition of each domain): about 2n
    work, on the error path only."""
    def where(i):
        index = i if len(shape) <= 1 else tuple(int(k) for k in np.unravel_index(i, shape))
        return index, y[i]
    if flags & _kernels.LABEL_FLAGS["invalid"]:
        lo, hi = 0, y.size
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _label_flags(run, y[lo:mid]) & _kernels.LABEL_FLAGS["invalid"]:
                hi = mid
            else:
                lo = mid
        index, value = where(lo)
        allowed = _ALLOWED[labels]
        return ValueError(f"y_true must hold {allowed} for {name}; y_true[{index}] = {value}")
    i0, _ = where(int(np.flatnonzero(y == 0)[0]))
    i1, _ = where(int(np.flatnonzero(y == -1)[0]))
    return ValueError(f"y_true mixes the label sets {{0, 1}} and {{-1, 1}} for {name}: "
                      f"y_true[{i0}] = 0 and y_true[{i1}] = -1")


def _check_param_names(spec: _losses.LossSpec, params: dict) -> None:
    unknown = set(params) - set(spec.params)
    if unknown:
        valid = ", ".join(spec.params) or "none"
        raise TypeError(f"{spec.name} got unexpected parameter(s) "
                        f"{', '.join(sorted(unknown))}; valid parameters: {valid}")


def _real(key: str, value: Any) -> float:
    """A real-number parameter as a float (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{key} must be a real number, got {type(value).__name__}")
    return float(value)


def _weights(sample_weight: Any, rows: int, dtype: np.dtype) -> Optional[np.ndarray]:
    """sample_weight as a (rows,) array of `dtype`, or None."""
    if sample_weight is None:
        return None
    w = _as_operand(sample_weight, "sample_weight", dtype)
    if w.shape != (rows,):
        raise ValueError(f"sample_weight must have shape ({rows},) (one weight per row of "
                         f"y_pred), got {w.shape}")
    return w


def _check_reduction_args(red: int, reduction: Any, loss_out: Any, size: int) -> None:
    if loss_out is not None and red != _NONE:
        raise ValueError("loss_out is only used with reduction='none'; with "
                         f"reduction={reduction!r} the loss is a float")
    if red == _MEAN and size == 0:
        raise ValueError("reduction='mean' over zero samples (y_pred is empty)")


def _finish(red: int, copy_back: list, lo, g, h, total: float, denominator: float):
    """Copy kernel outputs into the caller's arrays where needed; the (loss, g, h) to return."""
    for out, k in copy_back:
        out[...] = k.reshape(out.shape)
    if red == _NONE:
        return lo, g, h
    if red == _PARTS:
        return (total, denominator), g, h
    return (total / denominator if red == _MEAN else total), g, h


def _aligned(a: Optional[np.ndarray]) -> Optional[np.ndarray]:
    return a if a is None or a.flags.aligned else a.copy()


# ------------------------------------------------------------------------------------ Loss
class Loss:
    """A loss function with fused, single-pass loss, gradient and hessian kernels.

    Make one with :func:`get_loss`.  Every method takes ``(y_true, y_pred)`` in the order of
    ``sklearn.metrics``, any array-likes of the same shape (``y_pred`` float32 or float64;
    outputs take its dtype; other real dtypes are converted), and keyword-only:

    sample_weight : array of shape (n,), optional
        Weights of the rows (first axis).
    reduction : {"mean", "sum", "none"}
        ``"none"``: per-element ``w * loss``; ``"sum"``: their sum; ``"mean"``: the sum
        divided by ``sum(w)`` times the elements per row (the plain mean when unweighted).
        Gradients and hessians are those of what is returned.
    *_out : ndarray, optional
        Preallocated outputs (shape and dtype of ``y_pred``); filled and returned.  Two
        outputs of one call must not share memory (a ValueError names both).
    n_threads : int, optional
        Threads to use, the calling thread included.  Default: `lossfuse.get_num_threads`
        (``with lossfuse.threads(n):``, `lossfuse.set_num_threads`, ``LOSSFUSE_NUM_THREADS``,
        ``OMP_NUM_THREADS``, else the CPUs this process may use).  Inputs below 65,536
        elements run on the calling thread alone.  Results are bitwise identical for every
        ``n_threads``.

    Losses with a domain for ``y_true`` check it in the same pass that computes the loss
    (``binary_cross_entropy``: in [0, 1]; ``hinge``, ``squared_hinge``, ``exponential``: all
    in {0, 1} or all in {-1, 1}; ``poisson``: >= 0; ``gamma``: > 0; ``tweedie``: >= 0 for
    1 <= power < 2, > 0 for power >= 2, any for power <= 0), and raise ``ValueError`` naming
    the first offending element.  When they do, ``*_out`` arrays the caller gave may already
    be partly written.  NaN is not an error anywhere: it propagates.

    ``poisson``, ``gamma`` and ``tweedie`` take ``y_pred`` as the log of the mean (log link):
    their loss is the unit deviance of ``y`` at ``mu = exp(y_pred)``, 0 at ``y == mu``, so
    that the mean equals scikit-learn's ``mean_poisson_deviance(y, mu)`` (likewise gamma and
    tweedie).
    """

    __slots__ = ("name", "params", "_labels", "_kernel", "_run64", "_run32")

    def __init__(self, spec: _losses.LossSpec, params: dict):
        _check_param_names(spec, params)
        values = {}
        for key, default in spec.params.items():
            value = _real(key, params.get(key, default))
            spec.checks[key](value)
            values[key] = value
        self.name = spec.name
        self.params = values
        self._labels = spec.label_domain(values)
        kernel_name, kernel_params = spec.resolve(values)
        self._kernel = _kernels.LossKernel(_kernels.LOSSES[kernel_name][0], kernel_params)
        self._run64 = self._kernel.run_float64
        self._run32 = self._kernel.run_float32

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"Loss({self.name!r}{args})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Loss) and (self.name, self.params) == (other.name, other.params)

    def __hash__(self) -> int:
        return hash((self.name, tuple(self.params.items())))

    def __reduce__(self):
        return (_make, (self.name, self.params))

    # ---------------------------------------------------------------------- public methods
    def __call__(self, y_true, y_pred, *, sample_weight=None, reduction="mean",
                 n_threads=None):
        """Same as :meth:`loss`."""
        return self._execute(_OP_LOSS, y_true, y_pred, sample_weight, reduction, None, None,
                             None, n_threads)[0]

    def loss(self, y_true, y_pred, *, sample_weight=None, reduction="mean", loss_out=None,
             n_threads=None):
        """The loss: a float for ``"sum"``/``"mean"``, per-element ``w * loss`` for ``"none"``."""
        return self._execute(_OP_LOSS, y_true, y_pred, sample_weight, reduction, loss_out,
                             None, None, n_threads)[0]

    def gradient(self, y_true, y_pred, *, sample_weight=None, reduction="mean",
                 gradient_out=None, n_threads=None):
        """The gradient of the reduced loss with respect to ``y_pred``."""
        return self._execute(_OP_GRADIENT, y_true, y_pred, sample_weight, reduction, None,
                             gradient_out, None, n_threads)[1]

    def loss_gradient(self, y_true, y_pred, *, sample_weight=None, reduction="mean",
                      loss_out=None, gradient_out=None, n_threads=None):
        """``(loss, gradient)`` in one pass over the data."""
        return self._execute(_OP_LOSS_GRADIENT, y_true, y_pred, sample_weight, reduction,
                             loss_out, gradient_out, None, n_threads)[:2]

    def gradient_hessian(self, y_true, y_pred, *, sample_weight=None, reduction="mean",
                         gradient_out=None, hessian_out=None, n_threads=None):
        """``(gradient, diagonal hessian)`` of the reduced loss, in one pass."""
        return self._execute(_OP_GRADIENT_HESSIAN, y_true, y_pred, sample_weight, reduction,
                             None, gradient_out, hessian_out, n_threads)[1:]

    def _sum_and_denominator(self, op, y_true, y_pred, sample_weight=None, n_threads=None):
        """``((loss sum, denominator), gradient)`` for `op` (``_kernels.OPERATIONS``: loss or
        loss_gradient): the gradient (None for loss) is that of the sum, and the denominator
        is what ``reduction="mean"`` divides by (the weight of the elements; for
        cross_entropy the weight of the rows not ignored, class weights included).  For
        callers that add chunks up: lossfuse score, lossfuse.dask."""
        parts, g, _ = self._execute(op, y_true, y_pred, sample_weight, _SUM_AND_DENOMINATOR,
                                    None, None, None, n_threads)
        return parts, g

    # ------------------------------------------------------------------------------ engine
    def _execute(self, op, y_true, y_pred, sample_weight, reduction, loss_out, gradient_out,
                 hessian_out, n_threads):
        # Short path: 1-d float arrays of one dtype, no weights, a reduced loss.  Outputs the
        # caller gave go straight to the kernel, which checks them in O(1) (dtype, length,
        # writeability, alignment, overlap with an input); anything it refuses takes the
        # general path, which either copes (misaligned, overlapping) or says what is wrong.
        if (type(y_pred) is np.ndarray and type(y_true) is np.ndarray and sample_weight is None
                and loss_out is None and y_pred.ndim == 1 and y_true.dtype is y_pred.dtype
                and type(reduction) is str and (reduction == "mean" or reduction == "sum")):
            dt = y_pred.dtype
            n = y_pred.shape[0]
            if n_threads is None:
                nt = 1 if n < _PARALLEL_MIN else _n_threads(None)
            else:
                nt = min(n_threads, _MAX_THREADS) \
                    if type(n_threads) is int and n_threads > 0 else 0
            if (dt is _F64 or dt is _F32) and y_true.shape[0] == n and y_true.ndim == 1 and n \
                    and nt:
                mean = reduction == "mean"
                g = h = None
                if op != _OP_LOSS:
                    g = np.empty(n, dt) if gradient_out is None else gradient_out
                    if op == _OP_GRADIENT_HESSIAN:
                        h = np.empty(n, dt) if hessian_out is None else hessian_out
                        if gradient_out is not None and hessian_out is not None \
                                and np.may_share_memory(g, h):   # the general path decides
                            return self._general(op, y_true, y_pred, sample_weight, reduction,
                                                 loss_out, gradient_out, hessian_out, n_threads)
                try:
                    total = (self._run64 if dt is _F64 else self._run32)(
                        op, y_true, y_pred, None, 1, None, g, h, 1.0 / n if mean else 1.0, nt)
                except (TypeError, ValueError):
                    pass     # refused before anything was written: the general path decides
                else:
                    return (total / n if mean else total), g, h
        return self._general(op, y_true, y_pred, sample_weight, reduction, loss_out,
                             gradient_out, hessian_out, n_threads)

    def _general(self, op, y_true, y_pred, sample_weight, reduction, loss_out, gradient_out,
                 hessian_out, n_threads):
        red = _reduction(reduction)
        nt = _n_threads(n_threads)
        p = _as_y_pred(y_pred)
        dt = p.dtype
        y = _as_operand(y_true, "y_true", dt)
        if y.shape != p.shape:
            raise ValueError(f"y_true and y_pred must have the same shape; got {y.shape} "
                             f"and {p.shape}")
        shape = p.shape
        size = p.size
        rows = shape[0] if p.ndim else 1
        row_len = max(1, size // rows) if rows else 1    # (5, 0): no elements, any row length
        w = None
        if sample_weight is not None:
            w = _as_operand(sample_weight, "sample_weight", dt)
            if w.shape != (rows,) and not (p.ndim == 0 and w.ndim == 0):
                raise ValueError(f"sample_weight must have shape ({rows},) (one weight per "
                                 f"row of y_pred), got {w.shape}")
            w = w.reshape(-1)
        _check_reduction_args(red, reduction, loss_out, size)
        wanted = _outputs(op, red, loss_out, gradient_out, hessian_out)
        _check_apart(wanted)
        made = []          # per output: (array to return, 1-d array the kernel writes)
        copy_back = []
        for needed, out, name in wanted:
            ret = k = None
            if needed:
                ret, k, copy = _output(out, name, shape, dt, (y, p, w))
                copy_back += [(ret, k)] if copy else []
            made.append((ret, k))
        (lo, lo_k), (g, g_k), (h, h_k) = made

        y_k, p_k, w_k = _aligned(_flat(y)), _aligned(_flat(p)), _aligned(w)
        run = self._run64 if dt == _F64 else self._run32
        denominator = 1.0
        if red == _MEAN or red == _PARTS:
            if w_k is None:
                denominator = float(size)
            else:
                denominator = run(_OP_WEIGHT_SUM, None, None, w_k, 1, None, None, None,
                                  1.0, nt) * row_len
                if denominator == 0 and red == _MEAN:
                    raise ValueError("reduction='mean' with sample weights that sum to zero")
        try:
            total = run(op, y_k, p_k, w_k, row_len, lo_k, g_k, h_k,
                        1.0 / denominator if red == _MEAN else 1.0, nt)
        except _kernels.LabelError as e:
            raise _label_error(self.name, self._labels, run, y_k, shape, e.flags) from None
        return _finish(red, copy_back, lo, g, h, total, denominator)


class CrossEntropyLoss(Loss):
    """Softmax cross-entropy over logits ``y_pred`` of shape ``(n, K)``, with the semantics of
    ``torch.nn.functional.cross_entropy``.

    Parameters (keyword-only, through :func:`get_loss`):

    class_weight : sequence of K non-negative numbers, optional
        Weight of each class (torch's ``weight``).
    ignore_index : int, optional
        Rows whose class index is this contribute nothing, and do not count in the mean.
        Applies to class-index targets only (as in torch).
    label_smoothing : float in [0, 1]
        The target becomes ``(1 - label_smoothing) * target + label_smoothing / K``.

    ``y_true`` is either class indices of shape ``(n,)`` (any integer dtype, or floats that are
    integral) or class probabilities of shape ``(n, K)`` (values in [0, 1]).  With class
    weights ``w``, a row's loss is ``-sum_c a_c log softmax(y_pred)_c`` with ``a_c`` the
    (smoothed) target times ``w_c``; ``reduction="mean"`` divides the sum by the total weight
    of the non-ignored rows, ``sample_weight[i] * w[y_i]`` (class indices), or by
    ``sum(sample_weight)`` (probabilities; ``n`` without weights), exactly as torch does.
    ``reduction="none"`` gives one loss per row (shape ``(n,)``); gradients and hessians have
    the shape of ``y_pred``.  The targets are checked before anything is written: a class index
    outside ``[0, K)`` (other than ``ignore_index``), a non-integral one, or a probability
    outside [0, 1] is a ``ValueError`` naming the first offending element.  Logits of -inf are
    fine for classes whose target is 0.
    """

    __slots__ = ("_class_weight", "_ce")

    def __init__(self, spec: _losses.LossSpec, params: dict):
        _check_param_names(spec, params)
        cw = params.get("class_weight")
        if cw is not None:
            arr = _asarray(cw, "class_weight")
            if arr.dtype.kind not in "biuf" or arr.ndim != 1 or arr.size == 0:
                raise TypeError("class_weight must be a 1-d sequence of real numbers, one per "
                                "class")
            arr = arr.astype(np.float64)
            if not np.all(np.isfinite(arr)) or np.any(arr < 0):
                raise ValueError("class_weight must hold finite numbers >= 0")
            cw = tuple(float(v) for v in arr)
        ignore = params.get("ignore_index")
        if ignore is not None:
            if isinstance(ignore, bool):
                raise TypeError("ignore_index must be an int or None, got bool")
            try:
                ignore = operator.index(ignore)
            except TypeError:
                raise TypeError("ignore_index must be an int or None, got "
                                f"{type(ignore).__name__}") from None
            if not -2**63 <= ignore < 2**63:
                raise ValueError("ignore_index must fit in a 64-bit integer")
        smoothing = _real("label_smoothing", params.get("label_smoothing", 0.0))
        if not 0.0 <= smoothing <= 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1], got {smoothing!r}")
        self.name = spec.name
        self.params = {"class_weight": cw, "ignore_index": ignore,
                       "label_smoothing": smoothing}
        self._class_weight = None if cw is None else np.array(cw)
        self._ce = _kernels.CrossEntropyKernel(ignore, smoothing)
        self._kernel = self._ce
        self._run64 = self._run32 = None

    def _execute(self, op, y_true, y_pred, sample_weight, reduction, loss_out, gradient_out,
                 hessian_out, n_threads):
        red = _reduction(reduction)
        nt = _n_threads(n_threads)
        p = _as_y_pred(y_pred)
        dt = p.dtype
        if p.ndim != 2:
            raise ValueError(f"y_pred must be logits of shape (n, K) for cross_entropy, got "
                             f"shape {p.shape}")
        n, K = p.shape
        if K == 0:
            raise ValueError("y_pred must have at least one class (K >= 1)")
        if self._class_weight is not None and self._class_weight.size != K:
            raise ValueError(f"class_weight has {self._class_weight.size} elements but "
                             f"y_pred has K = {K} classes")
        cw = np.ones(K, dt) if self._class_weight is None else self._class_weight.astype(dt)
        labels, probs, y = self._targets(y_true, n, K, dt)
        w = _weights(sample_weight, n, dt)
        _check_reduction_args(red, reduction, loss_out, n)
        written = _outputs(op, red, loss_out, gradient_out, hessian_out)
        _check_apart(written)
        wanted = [o + (shape,) for o, shape in zip(written, [(n,), (n, K), (n, K)])]
        run = self._ce.run_float64 if dt == _F64 else self._ce.run_float32
        p_k, w_k = _aligned(p), _aligned(w)
        for attempt in (0, 1):
            # First try: the caller's outputs as they are (the kernel checks overlap with the
            # inputs in O(1)); if it refuses, the general output handling (copies) decides.
            outs, copy_back = [], []
            for needed, out, name, shape in wanted:
                if not needed:
                    outs.append((None, None))
                elif attempt == 0 and out is not None and _direct(out, shape, dt):
                    outs.append((out, out))
                else:
                    ret, k, copy = _output(out, name, shape, dt, (y, p, w))
                    k = k.reshape(shape)
                    if attempt == 1 and out is not None and not copy:
                        k, copy = np.empty(shape, dt), True    # the kernel refused it as is
                    outs.append((ret, k))
                    copy_back += [(ret, k)] if copy else []
            try:
                total, denominator = run(op, labels, probs, p_k, w_k, cw, red == _MEAN,
                                         outs[0][1], outs[1][1], outs[2][1], nt)
            except _kernels.TargetError as e:
                raise self._target_error(y, probs is not None, K, e.index) from None
            except _kernels.OverlapError:
                if attempt == 0:
                    continue
                raise
            break
        return _finish(red, copy_back, outs[0][0], outs[1][0], outs[2][0], total, denominator)

    def _targets(self, y_true, n, K, dt):
        """(class indices as int64 or None, probabilities or None, y_true as an array)."""
        y = y_true if type(y_true) is np.ndarray else _asarray(y_true, "y_true")
        if y.dtype.kind not in "biuf":
            raise TypeError(f"y_true must be class indices or probabilities (real numbers), "
                            f"got dtype {y.dtype}")
        if y.shape == (n, K) and y.ndim == 2:
            return None, _aligned(y.astype(dt, copy=False) if y.dtype != dt or
                                  not y.dtype.isnative else y), y
        if y.shape != (n,):
            raise ValueError(f"y_true must be class indices of shape ({n},) or class "
                             f"probabilities of shape {(n, K)}, got shape {y.shape}")
        if y.dtype.kind == "f":
            bad = ~(np.isfinite(y) & (np.floor(y) == y))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(f"y_true holds class indices, which must be integers; "
                                 f"y_true[{i}] = {y[i]}")
            out_of_range = np.abs(y) >= 2.0**63
            if out_of_range.any():      # cannot be a class; say so instead of converting
                raise self._target_error(y, False, K, int(np.flatnonzero(out_of_range)[0]))
        elif y.dtype.kind == "u" and y.dtype.itemsize == 8:
            big = y > np.uint64(2**63 - 1)
            if big.any():
                raise self._target_error(y, False, K, int(np.flatnonzero(big)[0]))
        labels = y.astype(np.int64) if y.dtype != np.int64 or not y.dtype.isnative else y
        return _aligned(labels), None, y

    def _target_error(self, y, probabilities, K, index):
        if probabilities:
            i, c = divmod(index, K)
            return ValueError(f"y_true holds class probabilities, which must be in [0, 1]; "
                              f"y_true[{i}, {c}] = {y[i, c]}")
        ignore = self.params["ignore_index"]
        extra = "" if ignore is None else f" (or ignore_index={ignore})"
        return ValueError(f"y_true holds class indices, which must be in [0, {K}){extra}; "
                          f"y_true[{index}] = {y[index]}")


def _make(name: str, params: dict) -> Loss:
    return get_loss(name, **params)
