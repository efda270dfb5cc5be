"""The facade: `get_loss`, `available_losses` and `Loss`.

It checks dtypes and shapes, converts what it must, allocates the outputs the caller did not
give, computes the mean's denominator, and hands typed arrays to one kernel call.  Everything
numeric happens in the kernel, in one pass over the data.  The common call (NumPy arrays of
one float dtype, no weights, no outputs given) takes a short path, because batch scoring makes
millions of calls on a few elements each.
"""

from __future__ import annotations

import math
import operator
import sys
from dataclasses import FrozenInstanceError
from typing import (Any, Callable, Dict, Iterator, List, Literal, Mapping, NoReturn, Optional,
                    Protocol, SupportsIndex, Tuple, TypeVar, Union, overload)

import numpy as np
from numpy.typing import NDArray

from . import _losses, _threads
from ._losses import CrossEntropyName
from ._threads import MAX_THREADS as _MAX_THREADS
from ._kernels import kernels as _kernels

__all__ = ["CrossEntropyLoss", "Loss", "available_losses", "get_loss"]

# ------------------------------------------------------------------------------------ types
# What the public signatures take and give.  Aliases are plain assignments of `typing` forms,
# evaluated at import, so they are written the Python 3.9 way (Union, Optional); annotations
# are strings (`from __future__ import annotations`) and may use `X | Y`.

#: The name of a reduction.
Reduction = Literal["none", "sum", "mean"]
#: The dtypes lossfuse computes in: an output takes the dtype of ``y_pred``.
Float = TypeVar("Float", np.float32, np.float64)
#: An output array where the argument types do not say which of the two dtypes it has
#: (``y_pred`` a list, a tensor, an array of float16 or of an integer dtype, ...).
FloatArray = NDArray[Union[np.float32, np.float64]]
#: A real number, as a loss parameter or a scalar input (bool is an int to a type checker).
Real = Union[float, np.integer[Any], np.floating[Any]]
_T_co = TypeVar("_T_co", covariant=True)


class _NestedSequence(Protocol[_T_co]):
    """A sequence of `_T_co`, or of such sequences, to any depth: lists, tuples, ranges,
    ``array.array``.  Not a str (its ``__contains__`` takes only str), a dict or an ndarray
    (neither has ``count`` and ``index``), which `_SupportsRealArray` covers instead.  The
    members of NumPy's own, so that NumPy's functions take what this describes."""

    def __len__(self, /) -> int: ...
    def __getitem__(self, index: int, /) -> _T_co | _NestedSequence[_T_co]: ...
    def __contains__(self, x: object, /) -> bool: ...
    def __iter__(self, /) -> Iterator[_T_co | _NestedSequence[_T_co]]: ...
    def __reversed__(self, /) -> Iterator[_T_co | _NestedSequence[_T_co]]: ...
    def count(self, value: Any, /) -> int: ...
    def index(self, value: Any, /) -> int: ...


class _SupportsRealArray(Protocol):
    """An object NumPy reads as an array of real numbers: an ndarray of a bool, integer or
    float dtype, or anything with ``__array__`` (pandas, xarray, tensors)."""

    def __array__(self) -> NDArray[np.bool_ | np.integer[Any] | np.floating[Any]]: ...


#: What lossfuse takes as an input array: anything ``numpy.asarray`` reads as real numbers
#: (arrays and NumPy scalars of a real dtype, objects with ``__array__``, nested sequences of
#: numbers, memoryviews).  Unlike ``numpy.typing.ArrayLike`` it excludes strings, complex
#: numbers and arrays of other dtypes, which the loss methods refuse; like it, it is a subtype
#: of ``numpy.typing.ArrayLike``.
RealArrayLike = Union[_SupportsRealArray, _NestedSequence[_SupportsRealArray], float,
                      _NestedSequence[float], memoryview]
#: A loss parameter: a number (``delta``, ``ignore_index``, ...), a sequence of numbers
#: (``class_weight``) or None.
LossParameter = Optional[RealArrayLike]

# Internal: arrays of any dtype, dtypes, the kernels' run functions, what an operation gives
# (loss -- a float, an array, or (sum, denominator) for _SUM_AND_DENOMINATOR --, gradient,
# hessian; None where it gives none), a weighted sum (`_mean_sums`).
_Array = NDArray[Any]
_DType = np.dtype[Any]
_Result = Tuple[Any, Any, Any]
_Total = TypeVar("_Total", float, _Array)
_Run = Callable[[int, Optional[_Array], Optional[_Array], Optional[_Array], int, Optional[_Array],
                 Optional[_Array], Optional[_Array], float, int], float]

# ---------------------------------------------------------------------------- operations
_F64: np.dtype[np.float64] = np.dtype(np.float64)
_F32: np.dtype[np.float32] = np.dtype(np.float32)
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


def available_losses() -> List[str]:
    """The canonical names of all losses, sorted.

    `get_loss` takes these and their aliases (``mse``, ``l1``, ``log_loss``, ...), in any
    case.

    Returns
    -------
    list of str
        Every loss's canonical name.

    Examples
    --------
    >>> import lossfuse as lf
    >>> lf.available_losses()[:4]
    ['absolute_error', 'binary_cross_entropy', 'cross_entropy', 'exponential']
    """
    return sorted(spec.name for spec in _losses.SPECS)


@overload
def get_loss(name: CrossEntropyName, *, class_weight: RealArrayLike | None = None,
             ignore_index: SupportsIndex | None = None,
             label_smoothing: Real = 0.0) -> CrossEntropyLoss: ...
@overload
def get_loss(name: str, **params: Real) -> Loss: ...
@overload
def get_loss(name: str, *, class_weight: RealArrayLike | None = None,
             ignore_index: SupportsIndex | None = None, label_smoothing: Real = 0.0) -> Loss: ...


def get_loss(name: str, **params: Any) -> Loss:
    """The loss called `name`, with its parameters.

    Parameters
    ----------
    name : str
        A canonical name (`available_losses`) or an alias, in any case.
    **params : float, or for cross_entropy also array-like or None
        The loss's parameters, keyword-only; those not given take their defaults:
        ``delta=1.0`` (``huber``, ``pseudo_huber``), ``beta=1.0`` (``smooth_l1``),
        ``alpha=0.5`` (``pinball``), ``power=1.5`` (``tweedie``), ``pos_weight=1.0``
        (``binary_cross_entropy``), and ``class_weight=None``, ``ignore_index=None``,
        ``label_smoothing=0.0`` (``cross_entropy``: see `CrossEntropyLoss`).

    Returns
    -------
    Loss
        A `CrossEntropyLoss` for ``cross_entropy``.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones) or an invalid parameter value.
    TypeError
        For a name that is not a string, an unknown parameter (the message lists the valid
        ones), or a parameter of the wrong type.

    Examples
    --------
    >>> import lossfuse as lf
    >>> lf.get_loss("huber", delta=2.0)
    Loss('huber', delta=2.0)
    >>> lf.get_loss("softmax", class_weight=[1.0, 2.0], ignore_index=-100)
    CrossEntropyLoss(class_weight=(1.0, 2.0), ignore_index=-100, label_smoothing=0.0)
    """
    spec = _spec(name)
    if spec.name == "cross_entropy":
        _check_param_names(spec, params)
        return CrossEntropyLoss(**params)
    return Loss(name, **params)


def _spec(name: Any) -> _losses.LossSpec:
    """The loss called `name` (canonical name or alias, any case)."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    spec = _losses.BY_NAME.get(name.lower())
    if spec is None:
        raise ValueError(f"unknown loss {name!r}; valid names: "
                         f"{', '.join(sorted(_losses.BY_NAME))}")
    return spec


class _Params(dict[str, Any]):
    """A loss's parameters: a dict (it prints, compares and serializes as one) that refuses
    every change, since the loss computes with the values it was made with."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("a loss's params are read-only; make another loss with "
                        "lossfuse.get_loss(name, **params)")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> Tuple[type, Tuple[Dict[str, Any]]]:
        return (_Params, (dict(self),))


# ----------------------------------------------------------------------------- input checks
def _as_array(x: Any, name: str) -> _Array:
    """`x` as a NumPy array, whatever array type it comes in, with errors naming the argument
    `name`: the one conversion of every input, here and in `lossfuse.metrics`.

    NumPy arrays pass as they are; anything else goes through ``np.asarray`` (lists, tuples,
    memoryviews, ``array.array``, pandas and xarray objects, CPU tensors).  pandas columns of
    nullable numbers (``Int64``, ``boolean``, ...) holding ``pd.NA`` become floats with NaN
    there, as scikit-learn converts them.  Refused with a TypeError: scipy sparse matrices
    (densifying one is the caller's decision) and tensors that require grad (lossfuse would
    silently cut the autograd graph)."""
    if type(x) is np.ndarray:
        return x
    if getattr(x, "requires_grad", False) is True:
        raise TypeError(f"{name} is a tensor that requires grad, which lossfuse does not "
                        f"differentiate through: pass {name}.detach() (or use "
                        "lossfuse.torch, whose losses autograd follows)")
    if _is_sparse(x):
        raise TypeError(f"{name} is a scipy sparse matrix, which lossfuse does not take: "
                        f"pass {name}.toarray()")
    try:
        a = np.asarray(x)
    except (ValueError, TypeError) as e:
        raise type(e)(f"{name} cannot be read as an array: {e}") from None
    if a.dtype.kind == "O" and hasattr(x, "to_numpy"):
        a = _pandas_numbers(x, a)
    return a


def _is_sparse(x: Any) -> bool:
    """Whether `x` is a scipy sparse matrix or array (none exists before scipy is imported)."""
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and sparse.issparse(x)


def _pandas_numbers(x: Any, a: _Array) -> _Array:
    """A pandas Series or DataFrame whose columns all hold numbers, some nullable with pd.NA
    (for which np.asarray gives objects), as floats with NaN for pd.NA; else `a`."""
    dtypes = list(x.dtypes) if getattr(x, "ndim", 1) == 2 else [x.dtype]
    if not all(getattr(d, "kind", "O") in "biuf" for d in dtypes):
        return a
    dt = np.result_type(*(getattr(d, "numpy_dtype", d) for d in dtypes))
    floats: _Array = x.to_numpy(dtype=dt if dt.kind == "f" else _F64, na_value=np.nan)
    return floats


def _as_y_pred(y_pred: Any) -> _Array:
    """y_pred as a native-order float32/float64 array (ints and bools become float64)."""
    a = y_pred if type(y_pred) is np.ndarray else _as_array(y_pred, "y_pred")
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


def _real_array(x: Any, name: str) -> _Array:
    """`x` as an array of real numbers (bools, integers, floats) of its own dtype."""
    a = x if type(x) is np.ndarray else _as_array(x, name)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array, got dtype {a.dtype}")
    return a


def _cast(a: _Array, dtype: _DType, name: str) -> _Array:
    """Real array `a` as `dtype` (y_pred's).  A finite value beyond the range of `dtype` is a
    ValueError naming the first: it would become infinite, and no result computed in `dtype`
    could be right."""
    if a.dtype is dtype:
        return a
    if a.dtype.kind != "f" or a.dtype.itemsize <= dtype.itemsize:
        return a.astype(dtype)                     # exact, or rounded: never out of range
    try:
        with np.errstate(over="raise", under="ignore"):
            return a.astype(dtype)
    except FloatingPointError:
        with np.errstate(over="ignore"):
            beyond = np.isfinite(a) & ~np.isfinite(a.astype(dtype))
        i = int(np.flatnonzero(beyond)[0])
        raise ValueError(f"{name} holds values beyond the range of {dtype}, the dtype of "
                         f"y_pred, in which lossfuse computes: {name}[{_index(a.shape, i)}] "
                         f"= {a.reshape(-1)[i]}; pass y_pred as float64") from None


def _index(shape: Tuple[int, ...], i: int) -> int | Tuple[int, ...]:
    """The index, for messages, of element `i` (in C order) of an array of `shape`."""
    return i if len(shape) <= 1 else tuple(int(k) for k in np.unravel_index(i, shape))


def _as_operand(x: Any, name: str, dtype: _DType) -> _Array:
    """`x` as an array of `dtype` (y_pred's): real numbers only, converted if needed."""
    return _cast(_real_array(x, name), dtype, name)


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


def _flat(a: _Array) -> _Array:
    """A 1-d view of `a` in C order when one exists, else a contiguous copy (inputs only)."""
    if a.ndim == 1:
        return a
    return a.reshape(-1)


def _output(out: Any, name: str, shape: Tuple[int, ...], dtype: _DType,
            inputs: Tuple[Optional[_Array], ...]) -> Tuple[_Array, _Array, bool]:
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


def _outputs(op: int, red: int, loss_out: Any, gradient_out: Any,
             hessian_out: Any) -> List[Tuple[bool, Any, str]]:
    """(whether operation `op` with reduction `red` writes it, the caller's array or None, its
    name) for loss_out, gradient_out and hessian_out, in that order."""
    return [(op in (_OP_LOSS, _OP_LOSS_GRADIENT) and red == _NONE, loss_out, "loss_out"),
            (op != _OP_LOSS, gradient_out, "gradient_out"),
            (op == _OP_GRADIENT_HESSIAN, hessian_out, "hessian_out")]


def _check_apart(outputs: List[Tuple[bool, Any, str]]) -> None:
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
                shared = np.shares_memory(a, b, max_work=_MAX_WORK)
            except np.exceptions.TooHardError:        # undecided: refuse rather than guess
                shared = True
            if shared:
                raise ValueError(f"{a_name} and {b_name} share memory: each output needs "
                                 "memory of its own")


# work bound of np.shares_memory (numpy's stubs know only -1, exact, and 0, may_share_memory)
_MAX_WORK: Any = 10**6


def _direct(out: Any, shape: Tuple[int, ...], dtype: _DType) -> bool:
    """Whether the kernel can write `out` as it is (overlap with the inputs aside, which the
    kernel checks): the right type, shape and dtype, C-contiguous, aligned, writeable."""
    return (type(out) is np.ndarray and out.dtype is dtype and out.shape == shape
            and out.flags.c_contiguous and out.flags.aligned and out.flags.writeable)


def _is_same(a: _Array, b: _Array) -> bool:
    """Same memory, element for element (writing a[i] after reading b[i] is then safe)."""
    return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
            and a.shape == b.shape and a.strides == b.strides)


def _label_flags(run: _Run, y: _Array) -> int:
    """The kernel's label-check bits for 1-d `y` (0 when it accepts them)."""
    try:
        run(_OP_LOSS, y, y, None, 1, None, None, None, 1.0, 1)
    except _kernels.LabelError as e:
        return e.flags
    return 0


# What y_true may hold, by the label domains of _losses.LossSpec, for the messages
_ALLOWED: Dict[Optional[str], str] = {
    "unit": "values in [0, 1]", "sign": "labels {0, 1} or {-1, 1}",
    "nonnegative": "values >= 0", "positive": "values > 0"}


def _label_error(name: str, labels: Optional[str], run: _Run, y: _Array, shape: Tuple[int, ...],
                 flags: int) -> ValueError:
    """The error for labels the kernel refused (`y`: the 1-d array it read, `shape`: y_true's),
    naming the first offending element.  The offender is found by bisection with the kernel's
    own check (`label_flags` in pointwise.pxi, the one definition of each domain): about 2n
    work, on the error path only."""
    def where(i: int) -> Tuple[int | Tuple[int, ...], Any]:
        return _index(shape, i), y[i]
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


def _check_param_names(spec: _losses.LossSpec, params: Mapping[str, Any]) -> None:
    unknown = set(params) - set(spec.params)
    if unknown:
        valid = ", ".join(spec.params) or "none"
        raise TypeError(f"{spec.name} got unexpected parameter(s) "
                        f"{', '.join(sorted(unknown))}; valid parameters: {valid}")


def _real(key: str, value: Any) -> float:
    """A real-number parameter as a float (bools refused; -0.0 is 0.0, so that losses equal
    to each other repr alike)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{key} must be a real number, got {type(value).__name__}")
    return float(value) + 0.0


def _weights(sample_weight: Any, shape: Tuple[int, ...], dtype: _DType,
             mean: bool) -> Optional[_Array]:
    """sample_weight as a 1-d array of `dtype`, one weight per row of a y_pred of `shape` (a
    0-d y_pred takes a 0-d weight), or None; `mean`: they weigh a mean (`_as_weights`)."""
    if sample_weight is None:
        return None
    w = _real_array(sample_weight, "sample_weight")
    rows = shape[0] if shape else 1
    if w.shape != (rows,) and not (len(shape) == 0 and w.ndim == 0):
        raise ValueError(f"sample_weight must have shape ({rows},) (one weight per row of "
                         f"y_pred), got {w.shape}")
    return _as_weights(w.reshape(-1), dtype, "sample_weight", mean)


def _as_weights(w: _Array, dtype: _DType, name: str, relative: bool) -> _Array:
    """Real weights `w` (called `name`) as `dtype`.  When only their ratios matter
    (`relative`: they weigh a mean), weights that over- or underflow `dtype` are scaled by a
    power of two first (`_power_of_two_scaled`); otherwise such weights are an error
    (`_cast`)."""
    if not (relative and w.dtype.kind == "f" and w.dtype.itemsize > dtype.itemsize):
        return _cast(w, dtype, name)
    try:
        with np.errstate(over="raise", under="raise"):
            return w.astype(dtype)
    except FloatingPointError:
        scaled = _power_of_two_scaled(w)
        with np.errstate(over="ignore", under="ignore"):
            return (w if scaled is None else scaled).astype(dtype)


def _power_of_two_scaled(w: _Array) -> Optional[_Array]:
    """Float array `w` times the power of two that brings its largest magnitude into [1, 2);
    None when that power is 1, or `w` has no finite non-zero largest magnitude.  Exact: each
    element is the same to the bit, but for those that under- or overflow."""
    m = float(np.max(np.abs(w))) if w.size else 0.0
    if not 0 < m < math.inf:
        return None
    e = math.frexp(m)[1] - 1
    if e == 0:
        return None
    with np.errstate(under="ignore"):
        return np.ldexp(w, -e)


# Weight sums below this lose bits to underflow in w * loss (float32 kernels multiply in
# float32): the smallest normal number over the machine epsilon.
_SMALLEST_DENOMINATOR = {dt: float(np.finfo(dt).tiny / np.finfo(dt).eps) for dt in (_F64, _F32)}


def _rescaled(w: _Array, total: float, denominator: float) -> Optional[_Array]:
    """For a weighted mean ``sum(w * loss) / sum(w)`` whose sums, as computed (`total`,
    `denominator`), overflowed or underflowed: `w` scaled by a power of two to compute it
    again with.  None when the sums are sound, or when scaling cannot help (the weights hold
    NaN or infinity, or are already near 1: the loss itself is infinite).

    The mean, and its gradient, are the same to the bit for weights scaled by a power of two,
    but where an element under- or overflows -- so the scaled weights give the value the
    caller's weights define, which their sums could not hold.  The normal path pays two
    comparisons."""
    return None if _sums_sound(w.dtype, total, denominator) else _power_of_two_scaled(w)


def _sums_sound(dtype: _DType, total: float, denominator: float) -> bool:
    """Whether the sums of a weighted mean computed in `dtype` neither overflowed nor lost
    bits to underflow (`_rescaled`)."""
    return not math.isinf(total) and _SMALLEST_DENOMINATOR[dtype] <= abs(denominator) < math.inf


def _mean_sums(w: _Array, denominator_of: Callable[[_Array], float],
               total_of: Callable[[_Array, float], _Total],
               zero_weights: Callable[[_Array], Exception]) -> Tuple[_Total, float]:
    """``(total, denominator)`` of a weighted mean: ``denominator_of(w)``, the weight sum, and
    ``total_of(w, denominator)``, the sum of the weighted losses (a float, or an array of one
    per output) -- computed again with `w` scaled by a power of two where they over- or
    underflowed (`_rescaled`).  Weights that sum to zero raise ``zero_weights(w)``, before
    ``total_of`` runs."""
    while True:
        denominator = denominator_of(w)
        scaled = _rescaled(w, 0.0, denominator)
        if scaled is None:
            if denominator == 0:
                raise zero_weights(w)
            total = total_of(w, denominator)
            magnitude = abs(total) if isinstance(total, float) else float(np.max(np.abs(total)))
            scaled = _rescaled(w, magnitude, denominator)
            if scaled is None:
                return total, denominator
        w = scaled


def _check_reduction_args(red: int, reduction: Any, loss_out: Any, size: int) -> None:
    if loss_out is not None and red != _NONE:
        raise ValueError("loss_out is only used with reduction='none'; with "
                         f"reduction={reduction!r} the loss is a float")
    if red == _MEAN and size == 0:
        raise ValueError("reduction='mean' over zero samples (y_pred is empty)")


def _finish(red: int, copy_back: List[Tuple[_Array, _Array]], lo: Optional[_Array],
            g: Optional[_Array], h: Optional[_Array], total: float, denominator: float
            ) -> _Result:
    """Copy kernel outputs into the caller's arrays where needed; the (loss, g, h) to return."""
    for out, k in copy_back:
        out[...] = k.reshape(out.shape)
    if red == _NONE:
        return lo, g, h
    if red == _PARTS:
        return (total, denominator), g, h
    return (total / denominator if red == _MEAN else total), g, h


def _zero_weights(w: _Array) -> ValueError:
    return ValueError("reduction='mean' with sample weights that sum to zero")


@overload
def _aligned(a: _Array) -> _Array: ...
@overload
def _aligned(a: None) -> None: ...


def _aligned(a: Optional[_Array]) -> Optional[_Array]:
    return a if a is None or a.flags.aligned else a.copy()


# ------------------------------------------------------------------------------------ Loss
_F32_MAX = float(np.finfo(np.float32).max)


def _in_float64(kernel: _kernels.LossKernel) -> _Run:
    """`kernel.run_float32`, run on float64 copies of its operands, the outputs rounded back to
    float32: for a kernel whose parameters float32 cannot represent.  Outputs are checked as
    the kernel checks them (float32, 1-d, writeable) before anything runs."""
    def run(op: int, y: Optional[_Array], p: Optional[_Array], w: Optional[_Array],
            row_len: int, lo: Optional[_Array], g: Optional[_Array], h: Optional[_Array],
            scale: float, n_threads: int) -> float:
        outs = [o for o in (lo, g, h) if o is not None]
        for o in outs:
            if not (isinstance(o, np.ndarray) and o.dtype == np.float32 and o.ndim == 1
                    and o.flags.writeable):
                raise TypeError("outputs must be writeable 1-d float32 arrays")
        y64, p64, w64 = (None if a is None else np.asarray(a, np.float64) for a in (y, p, w))
        lo64, g64, h64 = (None if o is None else np.empty(o.shape, np.float64)
                          for o in (lo, g, h))
        total = kernel.run_float64(op, y64, p64, w64, row_len, lo64, g64, h64, scale, n_threads)
        with np.errstate(over="ignore"):     # inf is float32's rounding of what overflows it
            for out, t in zip((lo, g, h), (lo64, g64, h64)):
                if out is not None:
                    out[...] = t
        return total
    return run


class Loss:
    """A loss function with fused, single-pass loss, gradient and hessian kernels.

    Make one with `get_loss`, or as ``Loss(name, **params)`` (what its repr shows; for
    ``cross_entropy``, `CrossEntropyLoss`).  A loss is immutable, like a frozen dataclass:
    ``params`` is a read-only dict, attributes cannot be set, and losses of the same name and
    parameters are equal and hash alike; copies and pickles compute the same.

    Parameters
    ----------
    name : str
        A canonical name (`available_losses`) or an alias, in any case; not
        ``cross_entropy``.
    **params : float
        The loss's parameters (see `get_loss`); those not given take their defaults.

    Attributes
    ----------
    name : str
        The canonical name.
    params : Mapping[str, Any]
        Every parameter's value, defaults included (a read-only dict).

    Raises
    ------
    ValueError
        For an unknown name or an invalid parameter value.
    TypeError
        For ``cross_entropy``, an unknown parameter or a parameter that is not a real number.

    See Also
    --------
    get_loss : The same, for every loss.

    Notes
    -----
    Every method takes ``(y_true, y_pred)`` in the order of ``sklearn.metrics``, array-likes
    of the same shape (NumPy arrays, lists, pandas objects -- ``pd.NA`` of nullable dtypes
    becomes NaN --, xarray objects, CPU tensors that do not require grad, memoryviews;
    not sparse matrices).  ``y_pred`` is float32 or float64 (other real dtypes are converted:
    float16 to float32, integers and bools to float64) and outputs take its dtype; ``y_true``
    and the weights may be any real dtype, converted to that of ``y_pred`` (a value beyond
    its range is a ValueError, but for the weights of a mean: see below).  The other
    arguments are keyword-only:

    - ``sample_weight``, one weight per row (first axis).  A weighted mean depends only on
      their ratios, and is right even where their sums would overflow or underflow (weights
      of 1e308, or of 1e-320): such weights are scaled by a power of two, which changes no
      bit of the result.
    - ``reduction``: ``"none"`` gives per-element ``w * loss``, ``"sum"`` their sum (a
      float), ``"mean"`` (the default) the sum divided by ``sum(w)`` times the elements per
      row (the plain mean when unweighted).  Gradients and hessians are those of what is
      returned.
    - ``loss_out``, ``gradient_out``, ``hessian_out``: preallocated outputs (shape and dtype
      of ``y_pred``), filled and returned.  Two outputs of one call must not share memory (a
      ValueError names both).
    - ``n_threads``: threads to use, the calling thread included.  Default:
      `lossfuse.get_num_threads` (``with lossfuse.threads(n):``,
      `lossfuse.set_num_threads`, ``LOSSFUSE_NUM_THREADS``, ``OMP_NUM_THREADS``, else the
      CPUs this process may use).  Inputs below 65,536 elements run on the calling thread
      alone.  Results are bitwise identical for every ``n_threads``.

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

    To a type checker, ``reduction="none"`` gives an array and ``"sum"`` or ``"mean"`` a
    float; outputs are ``NDArray[np.float64]`` (or ``np.float32``) where ``y_pred`` is
    known to be an array of that dtype.

    Examples
    --------
    >>> import numpy as np, lossfuse as lf
    >>> loss = lf.Loss("huber", delta=1.0)
    >>> y, p = np.array([0.0, 1.0]), np.array([0.5, 3.0])
    >>> loss(y, p)
    0.8125
    >>> loss.loss(y, p, reduction="none")
    array([0.125, 1.5  ])
    """

    __slots__ = ("name", "params", "_labels", "_kernel", "_run64", "_run32")

    name: str
    params: Mapping[str, Any]
    _labels: Optional[str]              # the domain of y_true (`_losses.LossSpec.labels`)
    _kernel: _kernels.LossKernel
    _run64: _Run
    _run32: _Run

    def __init__(self, name: str, **params: Real) -> None:
        spec = _spec(name)
        if spec.name == "cross_entropy":
            raise TypeError("cross_entropy is a CrossEntropyLoss: make it with "
                            "lossfuse.CrossEntropyLoss(...) or lossfuse.get_loss(name, ...)")
        _check_param_names(spec, params)
        values = {}
        for key, default in spec.params.items():
            value = _real(key, params.get(key, default))
            spec.checks[key](value)
            values[key] = value
        kernel_name, kernel_params = spec.resolve(values)
        kernel = _kernels.LossKernel(_kernels.LOSSES[kernel_name][0], kernel_params)
        # a parameter beyond float32's range (binary_cross_entropy's pos_weight = 1e50) is
        # valid, but the float32 kernel cannot hold it: float32 data then runs in float64
        wide = any(abs(v) > _F32_MAX for v in kernel_params)
        self._freeze(name=spec.name, params=_Params(values), _labels=spec.label_domain(values),
                     _kernel=kernel, _run64=kernel.run_float64,
                     _run32=_in_float64(kernel) if wide else kernel.run_float32)

    # A loss is a value, as a frozen dataclass is: what it computes is fixed when it is made,
    # so its attributes (and params) refuse changes; it is hashable, equal to the losses of
    # the same name and parameters, and copies, pickles and reprs to one of those.
    def _freeze(self, **attributes: Any) -> None:
        for key, value in attributes.items():
            object.__setattr__(self, key, value)

    def __setattr__(self, key: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to {key!r}: {type(self).__name__} objects "
                                  "are immutable; make another with lossfuse.get_loss")

    def __delattr__(self, key: str) -> None:
        raise FrozenInstanceError(f"cannot delete {key!r}: {type(self).__name__} objects are "
                                  "immutable")

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"Loss({self.name!r}{args})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Loss):
            return NotImplemented
        return (type(self), self.name, self.params) == (type(other), other.name, other.params)

    def __hash__(self) -> int:
        return hash((self.name, tuple(self.params.items())))

    def __reduce__(self) -> Tuple[Callable[[str, Dict[str, Any]], Loss],
                                  Tuple[str, Dict[str, Any]]]:
        return (_make, (self.name, dict(self.params)))

    # ---------------------------------------------------------------------- public methods
    # Each method's overloads tell a type checker what it returns: an array for
    # reduction="none", a float for "sum" and "mean"; arrays of y_pred's dtype where y_pred
    # is known to be a float32 or float64 array.
    @overload
    def __call__(self, y_true: RealArrayLike, y_pred: RealArrayLike, *,
                 sample_weight: RealArrayLike | None = None,
                 reduction: Literal["sum", "mean"] = "mean",
                 n_threads: SupportsIndex | None = None) -> float: ...
    @overload
    def __call__(self, y_true: RealArrayLike, y_pred: NDArray[Float], *,
                 sample_weight: RealArrayLike | None = None, reduction: Literal["none"],
                 n_threads: SupportsIndex | None = None) -> NDArray[Float]: ...
    @overload
    def __call__(self, y_true: RealArrayLike, y_pred: RealArrayLike, *,
                 sample_weight: RealArrayLike | None = None, reduction: Literal["none"],
                 n_threads: SupportsIndex | None = None) -> FloatArray: ...

    def __call__(self, y_true: RealArrayLike, y_pred: RealArrayLike, *,
                 sample_weight: RealArrayLike | None = None, reduction: Reduction = "mean",
                 n_threads: SupportsIndex | None = None) -> float | FloatArray:
        """The loss: the same as `loss` (without ``loss_out``).

        Parameters
        ----------
        y_true : array-like
            True values, labels or class targets, of the shape of `y_pred` (any real
            dtype; see `Loss`).
        y_pred : array-like
            Raw predictions: float32 or float64 (other real dtypes are converted).
        sample_weight : array-like of shape (n,), optional
            One weight per row of `y_pred` (its first axis).
        reduction : {"mean", "sum", "none"}, default "mean"
            ``"none"``: per-element ``w * loss``; ``"sum"``: their sum; ``"mean"``: the
            sum over ``sum(w)`` times the elements per row.
        n_threads : int, optional
            Threads to use; default: `lossfuse.get_num_threads`.

        Returns
        -------
        float or ndarray
            A float for ``"sum"`` and ``"mean"``; for ``"none"`` an array of the shape and
            dtype of `y_pred`.

        Raises
        ------
        ValueError, TypeError
            As `loss` raises them.

        Examples
        --------
        >>> import lossfuse as lf
        >>> lf.get_loss("mse")([0.0, 1.0], [0.5, 3.0])
        2.125
        """
        value: float | FloatArray = self._execute(_OP_LOSS, y_true, y_pred, sample_weight,
                                                  reduction, None, None, None, n_threads)[0]
        return value

    @overload
    def loss(self, y_true: RealArrayLike, y_pred: RealArrayLike, *,
             sample_weight: RealArrayLike | None = None,
             reduction: Literal["sum", "mean"] = "mean", loss_out: None = None,
             n_threads: SupportsIndex | None = None, groups: None = None,
             n_groups: None = None) -> float: ...
    @overload
    def loss(self, y_true: RealArrayLike, y_pred: RealArrayLike, *,
             sample_weight: RealArrayLike | None = None,
             reduction: Literal["sum", "mean"] = "mean", loss_out: None = None,
             n_threads: SupportsIndex | None = None, groups: RealArrayLike,
             n_groups: SupportsIndex | None = None) -> NDArray[np.float64]: ...
    @overload
    def loss(self, y_true: RealArrayLike, y_pred: NDArray[Float], *,
             sample_weight: RealArrayLike | None = None, reduction: Literal["none"],
             loss_out: NDArray[Float] | None = None,
             n_threads: SupportsIndex | None = None, groups: None = None,
             n_groups: None = None) -> NDArray[Float]: ...
    @overload
    def loss(self, y_true: RealArrayLike, y_pred: RealArrayLike, *,
             sample_weight: RealArrayLike | None = None, reduction: Literal["none"],
             loss_out: FloatArray | None = None,
             n_threads: SupportsIndex | None = None, groups: None = None,
             n_groups: None = None) -> FloatArray: ...

    def loss(self, y_true: RealArrayLike, y_pred: RealArrayLike, *,
             sample_weight: RealArrayLike | None = None, reduction: Reduction = "mean",
             loss_out: FloatArray | None = None,
             n_threads: SupportsIndex | None = None, groups: RealArrayLike | None = None,
             n_groups: SupportsIndex | None = None) -> float | FloatArray:
        """The loss of `y_pred` against `y_true`, reduced as `reduction` says.

        Parameters
        ----------
        y_true : array-like
            True values, labels or class targets, of the shape of `y_pred` (any real
            dtype; see `Loss`).
        y_pred : array-like
            Raw predictions: float32 or float64 (other real dtypes are converted).
        sample_weight : array-like of shape (n,), optional
            One weight per row of `y_pred` (its first axis).
        reduction : {"mean", "sum", "none"}, default "mean"
            ``"none"``: per-element ``w * loss``; ``"sum"``: their sum; ``"mean"``: the
            sum over ``sum(w)`` times the elements per row.
        loss_out : ndarray, optional
            With ``reduction="none"`` only: the array to write the losses to (the shape
            and dtype of `y_pred`), which is returned.
        n_threads : int, optional
            Threads to use; default: `lossfuse.get_num_threads`.  A grouped loss runs on
            the calling thread.
        groups : array-like of int, shape (n,), optional
            A group id per row of `y_pred` (its first axis), each in ``[0, n_groups)``: the
            loss is then reduced per group, into a float64 array of `n_groups` values.  Each
            group's sums are kept in twice float64's precision as the rows arrive, in row
            order, and rounded once at the end: in practice the correctly rounded sum of the
            group's ``w * loss`` values (and of its weights), the same bits for every thread
            count.  A group without rows (or of weight zero) has ``"sum"`` 0 and ``"mean"``
            NaN.
        n_groups : int, optional
            With `groups`: the length of the result (default: the largest id plus one).

        Returns
        -------
        float or ndarray
            A float for ``"sum"`` and ``"mean"``; for ``"none"`` an array of the shape and
            dtype of `y_pred` (`loss_out` when given); with `groups`, a float64 array of one
            ``"sum"`` or ``"mean"`` per group.

        Raises
        ------
        ValueError
            For shapes that differ, `y_true` outside the loss's domain (naming the first
            offending element), an unknown `reduction` (the message lists the valid ones),
            ``"mean"`` over no elements or zero total weight, a `loss_out` of the wrong
            shape, not writeable or given with a reduced loss, a negative `n_threads`.
        TypeError
            For inputs that are not real numbers (strings, complex, objects), a `loss_out`
            that is not an ndarray of `y_pred`'s dtype, an `n_threads` that is not an int.

        Examples
        --------
        >>> import numpy as np, lossfuse as lf
        >>> mse = lf.get_loss("squared_error")
        >>> mse.loss([0.0, 1.0], [0.5, 3.0], sample_weight=[3.0, 1.0])
        1.1875
        >>> mse.loss(np.array([0.0, 1.0]), np.array([0.5, 3.0], np.float32), reduction="none")
        array([0.25, 4.  ], dtype=float32)
        """
        if groups is not None or n_groups is not None:
            if loss_out is not None:
                raise ValueError("loss_out is for reduction='none', which groups do not take")
            _n_threads(n_threads)        # checked, as without groups
            sums, weights, _ = self._group_sums(y_true, y_pred, sample_weight, groups,
                                                n_groups, reduction)
            if _reduction(reduction) == _SUM:
                return sums
            with np.errstate(divide="ignore", invalid="ignore"):
                means: NDArray[np.float64] = sums / weights
            return means
        value: float | FloatArray = self._execute(_OP_LOSS, y_true, y_pred, sample_weight,
                                                  reduction, loss_out, None, None,
                                                  n_threads)[0]
        return value

    @overload
    def gradient(self, y_true: RealArrayLike, y_pred: NDArray[Float], *,
                 sample_weight: RealArrayLike | None = None, reduction: Reduction = "mean",
                 gradient_out: NDArray[Float] | None = None,
                 n_threads: SupportsIndex | None = None) -> NDArray[Float]: ...
    @overload
    def gradient(self, y_true: RealArrayLike, y_pred: RealArrayLike, *,
                 sample_weight: RealArrayLike | None = None, reduction: Reduction = "mean",
                 gradient_out: FloatArray | None = None,
                 n_threads: SupportsIndex | None = None) -> FloatArray: ...

    def gradient(self, y_true: RealArrayLike, y_pred: RealArrayLike, *,
                 sample_weight: RealArrayLike | None = None, reduction: Reduction = "mean",
                 gradient_out: FloatArray | None = None,
                 n_threads: SupportsIndex | None = None) -> FloatArray:
        """The gradient, with respect to `y_pred`, of the loss reduced as `reduction` says.

        Parameters
        ----------
        y_true : array-like
            True values, labels or class targets, of the shape of `y_pred` (any real
            dtype; see `Loss`).
        y_pred : array-like
            Raw predictions: float32 or float64 (other real dtypes are converted).
        sample_weight : array-like of shape (n,), optional
            One weight per row of `y_pred` (its first axis).
        reduction : {"mean", "sum", "none"}, default "mean"
            ``"none"``: per-element ``w * loss``; ``"sum"``: their sum; ``"mean"``: the
            sum over ``sum(w)`` times the elements per row.
        gradient_out : ndarray, optional
            The array to write the gradient to (the shape and dtype of `y_pred`), which is
            returned.
        n_threads : int, optional
            Threads to use; default: `lossfuse.get_num_threads`.

        Returns
        -------
        ndarray
            The shape and dtype of `y_pred`: elementwise ``w * dloss/dy_pred`` for
            ``"none"`` and ``"sum"``, that over the mean's denominator for ``"mean"``.

        Raises
        ------
        ValueError, TypeError
            As `loss` raises them (`gradient_out` in place of `loss_out`).

        Examples
        --------
        >>> import lossfuse as lf
        >>> lf.get_loss("squared_error").gradient([0.0, 1.0], [0.5, 3.0])
        array([0.5, 2. ])
        """
        g: FloatArray = self._execute(_OP_GRADIENT, y_true, y_pred, sample_weight, reduction,
                                      None, gradient_out, None, n_threads)[1]
        return g

    @overload
    def loss_gradient(self, y_true: RealArrayLike, y_pred: NDArray[Float], *,
                      sample_weight: RealArrayLike | None = None,
                      reduction: Literal["sum", "mean"] = "mean", loss_out: None = None,
                      gradient_out: NDArray[Float] | None = None,
                      n_threads: SupportsIndex | None = None) -> Tuple[float, NDArray[Float]]:
        ...
    @overload
    def loss_gradient(self, y_true: RealArrayLike, y_pred: RealArrayLike, *,
                      sample_weight: RealArrayLike | None = None,
                      reduction: Literal["sum", "mean"] = "mean", loss_out: None = None,
                      gradient_out: FloatArray | None = None,
                      n_threads: SupportsIndex | None = None) -> Tuple[float, FloatArray]: ...
    @overload
    def loss_gradient(self, y_true: RealArrayLike, y_pred: NDArray[Float], *,
                      sample_weight: RealArrayLike | None = None, reduction: Literal["none"],
                      loss_out: NDArray[Float] | None = None,
                      gradient_out: NDArray[Float] | None = None,
                      n_threads: SupportsIndex | None = None
                      ) -> Tuple[NDArray[Float], NDArray[Float]]: ...
    @overload
    def loss_gradient(self, y_true: RealArrayLike, y_pred: RealArrayLike, *,
                      sample_weight: RealArrayLike | None = None, reduction: Literal["none"],
                      loss_out: FloatArray | None = None, gradient_out: FloatArray | None = None,
                      n_threads: SupportsIndex | None = None
                      ) -> Tuple[FloatArray, FloatArray]: ...

    def loss_gradient(self, y_true: RealArrayLike, y_pred: RealArrayLike, *,
                      sample_weight: RealArrayLike | None = None, reduction: Reduction = "mean",
                      loss_out: FloatArray | None = None, gradient_out: FloatArray | None = None,
                      n_threads: SupportsIndex | None = None
                      ) -> Tuple[float | FloatArray, FloatArray]:
        """``(loss, gradient)`` in one pass over the data.

        Parameters
        ----------
        y_true : array-like
            True values, labels or class targets, of the shape of `y_pred` (any real
            dtype; see `Loss`).
        y_pred : array-like
            Raw predictions: float32 or float64 (other real dtypes are converted).
        sample_weight : array-like of shape (n,), optional
            One weight per row of `y_pred` (its first axis).
        reduction : {"mean", "sum", "none"}, default "mean"
            ``"none"``: per-element ``w * loss``; ``"sum"``: their sum; ``"mean"``: the
            sum over ``sum(w)`` times the elements per row.
        loss_out : ndarray, optional
            As for `loss`.
        gradient_out : ndarray, optional
            As for `gradient`.
        n_threads : int, optional
            Threads to use; default: `lossfuse.get_num_threads`.

        Returns
        -------
        loss : float or ndarray
            As `loss` returns it.
        gradient : ndarray
            As `gradient` returns it: the gradient of the returned loss.

        Raises
        ------
        ValueError, TypeError
            As `loss` and `gradient` raise them; also when `loss_out` and `gradient_out`
            share memory.

        Examples
        --------
        >>> import lossfuse as lf
        >>> lf.get_loss("squared_error").loss_gradient([0.0, 1.0], [0.5, 3.0], reduction="sum")
        (4.25, array([1., 4.]))
        """
        return self._execute(_OP_LOSS_GRADIENT, y_true, y_pred, sample_weight, reduction,
                             loss_out, gradient_out, None, n_threads)[:2]

    @overload
    def gradient_hessian(self, y_true: RealArrayLike, y_pred: NDArray[Float], *,
                         sample_weight: RealArrayLike | None = None,
                         reduction: Reduction = "mean",
                         gradient_out: NDArray[Float] | None = None,
                         hessian_out: NDArray[Float] | None = None,
                         n_threads: SupportsIndex | None = None
                         ) -> Tuple[NDArray[Float], NDArray[Float]]: ...
    @overload
    def gradient_hessian(self, y_true: RealArrayLike, y_pred: RealArrayLike, *,
                         sample_weight: RealArrayLike | None = None,
                         reduction: Reduction = "mean", gradient_out: FloatArray | None = None,
                         hessian_out: FloatArray | None = None,
                         n_threads: SupportsIndex | None = None
                         ) -> Tuple[FloatArray, FloatArray]: ...

    def gradient_hessian(self, y_true: RealArrayLike, y_pred: RealArrayLike, *,
                         sample_weight: RealArrayLike | None = None,
                         reduction: Reduction = "mean", gradient_out: FloatArray | None = None,
                         hessian_out: FloatArray | None = None,
                         n_threads: SupportsIndex | None = None
                         ) -> Tuple[FloatArray, FloatArray]:
        """``(gradient, diagonal hessian)`` of the reduced loss, in one pass.

        Parameters
        ----------
        y_true : array-like
            True values, labels or class targets, of the shape of `y_pred` (any real
            dtype; see `Loss`).
        y_pred : array-like
            Raw predictions: float32 or float64 (other real dtypes are converted).
        sample_weight : array-like of shape (n,), optional
            One weight per row of `y_pred` (its first axis).
        reduction : {"mean", "sum", "none"}, default "mean"
            ``"none"``: per-element ``w * loss``; ``"sum"``: their sum; ``"mean"``: the
            sum over ``sum(w)`` times the elements per row.
        gradient_out : ndarray, optional
            As for `gradient`.
        hessian_out : ndarray, optional
            The array to write the hessian to (the shape and dtype of `y_pred`), which is
            returned.
        n_threads : int, optional
            Threads to use; default: `lossfuse.get_num_threads`.

        Returns
        -------
        gradient : ndarray
            As `gradient` returns it.
        hessian : ndarray
            The diagonal of the second derivative of the returned loss with respect to
            `y_pred` (0 on a loss's linear pieces), of its shape and dtype.

        Raises
        ------
        ValueError, TypeError
            As `gradient` raises them; also when `gradient_out` and `hessian_out` share
            memory.

        Examples
        --------
        >>> import lossfuse as lf
        >>> lf.get_loss("huber").gradient_hessian([0.0, 1.0], [0.5, 3.0], reduction="sum")
        (array([0.5, 1. ]), array([1., 0.]))
        """
        return self._execute(_OP_GRADIENT_HESSIAN, y_true, y_pred, sample_weight, reduction,
                             None, gradient_out, hessian_out, n_threads)[1:]

    def _sum_and_denominator(self, op: int, y_true: Any, y_pred: Any, sample_weight: Any = None,
                             n_threads: Any = None
                             ) -> Tuple[Tuple[float, float], Optional[_Array]]:
        """``((loss sum, denominator), gradient)`` for `op` (``_kernels.OPERATIONS``: loss or
        loss_gradient): the gradient (None for loss) is that of the sum, and the denominator
        is what ``reduction="mean"`` divides by (the weight of the elements; for
        cross_entropy the weight of the rows not ignored, class weights included).  For
        callers that add chunks up: lossfuse score, lossfuse.dask."""
        parts, g, _ = self._execute(op, y_true, y_pred, sample_weight, _SUM_AND_DENOMINATOR,
                                    None, None, None, n_threads)
        return parts, g

    def _group_sums(self, y_true: Any, y_pred: Any, sample_weight: Any, groups: Any,
                    n_groups: Any, reduction: Any = "sum"
                    ) -> Tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
        """Per group (`groups`: an id per row, `_group_ids`): the sum of ``w * loss``, the
        sum of the weights of its elements (a row's weight once per element; the element
        count without weights) and the number of rows, as float64, float64 and int64 arrays
        of `n_groups` values."""
        acc = GroupAccumulator(self)
        if _reduction(reduction) == _NONE:
            raise ValueError("groups take reduction 'sum' or 'mean', not 'none'")
        y, p, rows, _ = _operands(y_true, y_pred)
        w = _weights(sample_weight, p.shape, p.dtype, False)
        ids, n = _group_ids(groups, rows, n_groups)
        acc.grow(n)
        acc.add(y, p, w, ids)
        return acc.results()

    # ------------------------------------------------------------------------------ engine
    def _execute(self, op: int, y_true: Any, y_pred: Any, sample_weight: Any, reduction: Any,
                 loss_out: Any, gradient_out: Any, hessian_out: Any, n_threads: Any) -> _Result:
        """``(loss, gradient, hessian)`` of operation `op` (None where it gives none), the loss
        reduced as `reduction` says: every public method's one engine.  The arguments are the
        caller's, unchecked."""
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
            elif type(n_threads) is int and 0 < n_threads <= _MAX_THREADS:
                nt = n_threads
            else:
                nt = 0                   # the general path checks (and clips) it
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

    def _general(self, op: int, y_true: Any, y_pred: Any, sample_weight: Any, reduction: Any,
                 loss_out: Any, gradient_out: Any, hessian_out: Any, n_threads: Any) -> _Result:
        red = _reduction(reduction)
        nt = _n_threads(n_threads)
        y, p, rows, row_len = _operands(y_true, y_pred)
        dt = p.dtype
        shape = p.shape
        size = p.size
        w = _weights(sample_weight, shape, dt, red == _MEAN)
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

        def weight_sum(w_k: Optional[_Array]) -> float:
            return run(_OP_WEIGHT_SUM, None, None, w_k, 1, None, None, None, 1.0, nt) * row_len

        def total_of(w_k: Optional[_Array], denominator: float) -> float:
            try:
                return run(op, y_k, p_k, w_k, row_len, lo_k, g_k, h_k,
                           1.0 / denominator if red == _MEAN else 1.0, nt)
            except _kernels.LabelError as e:
                raise _label_error(self.name, self._labels, run, y_k, shape, e.flags) from None

        if red == _MEAN and w_k is not None:
            total, denominator = _mean_sums(w_k, weight_sum, total_of, _zero_weights)
        else:
            denominator = weight_sum(w_k) if red == _PARTS and w_k is not None else float(size)
            total = total_of(w_k, denominator)
        return _finish(red, copy_back, lo, g, h, total, denominator)


def _operands(y_true: Any, y_pred: Any) -> Tuple[_Array, _Array, int, int]:
    """y_true and y_pred as arrays of y_pred's float dtype and of one shape, with the rows
    (first axis) and the elements per row."""
    p = _as_y_pred(y_pred)
    y = _as_operand(y_true, "y_true", p.dtype)
    if y.shape != p.shape:
        raise ValueError(f"y_true and y_pred must have the same shape; got {y.shape} "
                         f"and {p.shape}")
    rows = p.shape[0] if p.ndim else 1
    return y, p, rows, max(1, p.size // rows) if rows else 1   # (5, 0): any row length


def _group_ids(groups: Any, rows: int, n_groups: Any) -> Tuple[NDArray[np.int64], int]:
    """`groups` (one integer id per row, each in [0, n_groups)) as a contiguous int64 array,
    and `n_groups` (default: the largest id plus one; 0 without rows)."""
    if groups is None:
        raise TypeError("n_groups is given without groups")
    g = _as_array(groups, "groups")
    if g.dtype.kind not in "iu":
        raise TypeError(f"groups must hold integers (group ids), not {g.dtype}")
    if g.shape != (rows,):
        raise ValueError(f"groups must have shape ({rows},) (one id per row of y_pred), got "
                         f"{g.shape}")
    n = None if n_groups is None else _integer("n_groups", n_groups)
    if n is not None and n < 0:
        raise ValueError(f"n_groups must be >= 0, got {n}")
    if rows:
        lo, hi = int(g.min()), int(g.max())
        bad = lo if lo < 0 else hi if n is not None and hi >= n else None
        if bad is not None:
            i = int(np.argmax(g == bad))
            raise ValueError(f"groups[{i}] = {bad} is " + (
                "negative: group ids are >= 0" if bad < 0 else f"outside [0, {n}) (n_groups)"))
        n = hi + 1 if n is None else n
    return np.ascontiguousarray(g, dtype=np.int64), 0 if n is None else n


class GroupAccumulator:
    """Per-group sums of a loss, added to batch after batch (`add`): the same bits however
    the rows are split into batches.  For callers that stream: `Loss.loss` with groups,
    ``lossfuse score --by``.

    Parameters
    ----------
    loss : Loss
        The loss.
    n_groups : int
        Groups to begin with; `grow` makes room for more.
    """

    def __init__(self, loss: Loss, n_groups: int = 0) -> None:
        if isinstance(loss, CrossEntropyLoss):
            raise ValueError("cross_entropy does not take groups")
        self.loss = loss
        self.acc = np.zeros((4, n_groups))      # loss sum hi, lo; weight sum hi, lo
        self.count = np.zeros(n_groups, np.int64)      # elements
        self.weighted = False
        self.row_len = 1

    def grow(self, n_groups: int) -> None:
        """Room for `n_groups` groups (the new ones empty)."""
        old = self.count.size
        if n_groups > old:
            acc = np.zeros((4, n_groups))
            acc[:, :old] = self.acc
            count = np.zeros(n_groups, np.int64)
            count[:old] = self.count
            self.acc, self.count = acc, count

    def add(self, y_true: Any, y_pred: Any, sample_weight: Any,
            ids: NDArray[np.int64]) -> None:
        """Add rows (`y_true`, `y_pred`, `sample_weight` or None, as `Loss.loss` takes them)
        to the groups `ids` (contiguous int64, one per row, each in [0, n_groups)).  A
        LabelError of the kernel becomes the loss's ValueError naming the element."""
        loss = self.loss
        y, p, rows, row_len = _operands(y_true, y_pred)
        w = _weights(sample_weight, p.shape, p.dtype, False)
        if ids.shape != (rows,):
            raise ValueError(f"groups must have shape ({rows},), got {ids.shape}")
        if row_len > 1:                  # the kernel takes an id (and a weight) per element
            ids = np.repeat(ids, row_len)
            w = None if w is None else np.repeat(w, row_len)
        self.row_len = row_len
        y, p = _flat(y), _flat(p)
        if p.dtype == _F32 and getattr(loss._run32, "__self__", None) is not loss._kernel:
            y, p = y.astype(_F64), p.astype(_F64)        # a parameter float32 cannot hold
            w = None if w is None else w.astype(_F64)
        run = loss._kernel.group_float64 if p.dtype == _F64 else loss._kernel.group_float32
        y, p, w = _aligned(y), _aligned(p), _aligned(w)
        self.weighted = self.weighted or w is not None
        try:
            run(y, p, w, ids, self.acc, self.count)
        except _kernels.LabelError as e:
            chunk = loss._run64 if p.dtype == _F64 else loss._run32
            raise _label_error(loss.name, loss._labels, chunk, y, y.shape, e.flags) from None

    def results(self) -> Tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
        """Per group: the sum of w * loss, the sum of the weights of its elements (a row's
        weight once per element; the element count without weights) and the rows added."""
        def total(hi: _Array, lo: _Array) -> NDArray[np.float64]:
            with np.errstate(invalid="ignore"):
                exact = hi + lo
            return np.where(np.isfinite(hi), exact, hi)   # lo is NaN once hi overflowed
        sums = total(self.acc[0], self.acc[1])
        weights = total(self.acc[2], self.acc[3]) if self.weighted \
            else self.count.astype(np.float64)
        return sums, weights, self.count // self.row_len


def _integer(name: str, value: Any, what: str = "an int") -> int:
    """`value` as a Python int (anything with __index__, not bool), or a TypeError naming
    `name` and saying it must be `what`."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be {what}, got bool")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}") from None


def _logits_shape(shape: Tuple[int, ...], n_class_weights: Optional[int]) -> Tuple[int, int]:
    """(n, K) of cross_entropy's logits of `shape`, checked against the class weights' count
    (None: no class weights); shared with lossfuse.dask, which knows only the shape."""
    if len(shape) != 2:
        raise ValueError(f"y_pred must be logits of shape (n, K) for cross_entropy, got shape "
                         f"{shape}")
    n, K = shape
    if K == 0:
        raise ValueError("y_pred must have at least one class (K >= 1)")
    if n_class_weights is not None and n_class_weights != K:
        raise ValueError(f"class_weight has {n_class_weights} elements but y_pred has K = {K} "
                         "classes")
    return n, K


class CrossEntropyLoss(Loss):
    """Softmax cross-entropy over logits of shape ``(n, K)``, as in PyTorch.

    The semantics of ``torch.nn.functional.cross_entropy``.  Its methods are those of
    `Loss`; ``get_loss("cross_entropy", **params)`` makes one too.

    Parameters
    ----------
    class_weight : array-like of shape (K,), optional
        Weight of each class (torch's ``weight``): finite numbers >= 0.
    ignore_index : int, optional
        Rows whose class index is this contribute nothing, and do not count in the mean.
        Applies to class-index targets only (as in torch).
    label_smoothing : float, default 0.0
        In [0, 1]: the target becomes ``(1 - label_smoothing) * target + label_smoothing / K``.

    Raises
    ------
    ValueError
        For class weights that are negative or not finite, an `ignore_index` beyond 64 bits, a
        `label_smoothing` outside [0, 1].
    TypeError
        For class weights that are not a 1-d sequence of real numbers, an `ignore_index` that
        is not an int, a `label_smoothing` that is not a real number, any other parameter.

    See Also
    --------
    Loss : The methods, and what they take.

    Notes
    -----
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

    Examples
    --------
    >>> import numpy as np, lossfuse as lf
    >>> loss = lf.CrossEntropyLoss(ignore_index=-100)
    >>> logits = np.array([[2.0, 0.0], [0.0, 0.0], [5.0, -5.0]])
    >>> round(loss(np.array([0, 1, -100]), logits), 6)
    0.410038
    >>> loss.loss(np.array([0, 1, -100]), logits, reduction="none").round(6)
    array([0.126928, 0.693147, 0.      ])
    """

    __slots__ = ("_class_weight", "_ce")

    _class_weight: Optional[NDArray[np.float64]]     # read-only
    _ce: _kernels.CrossEntropyKernel

    def __init__(self, *, class_weight: RealArrayLike | None = None,
                 ignore_index: SupportsIndex | None = None, label_smoothing: Real = 0.0) -> None:
        spec = _losses.BY_NAME["cross_entropy"]
        cw = None
        if class_weight is not None:
            arr = _as_array(class_weight, "class_weight")
            if arr.dtype.kind not in "biuf" or arr.ndim != 1 or arr.size == 0:
                raise TypeError("class_weight must be a 1-d sequence of real numbers, one per "
                                "class")
            arr = arr.astype(np.float64)
            if not np.all(np.isfinite(arr)) or np.any(arr < 0):
                raise ValueError("class_weight must hold finite numbers >= 0")
            cw = tuple(float(v) + 0.0 for v in arr)       # -0.0 is 0.0, as in `_real`
        ignore = None
        if ignore_index is not None:
            ignore = _integer("ignore_index", ignore_index, "an int or None")
            if not -2**63 <= ignore < 2**63:
                raise ValueError("ignore_index must fit in a 64-bit integer")
        smoothing = _real("label_smoothing", label_smoothing)
        if not 0.0 <= smoothing <= 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1], got {smoothing!r}")
        weights = None
        if cw is not None:
            weights = np.array(cw)
            weights.flags.writeable = False
        self._freeze(name=spec.name, params=_Params(class_weight=cw, ignore_index=ignore,
                                                     label_smoothing=smoothing),
                     _labels=spec.labels, _class_weight=weights,
                     _ce=_kernels.CrossEntropyKernel(ignore, smoothing))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"CrossEntropyLoss({args})"

    def _execute(self, op: int, y_true: Any, y_pred: Any, sample_weight: Any, reduction: Any,
                 loss_out: Any, gradient_out: Any, hessian_out: Any, n_threads: Any) -> _Result:
        red = _reduction(reduction)
        nt = _n_threads(n_threads)
        p = _as_y_pred(y_pred)
        dt = p.dtype
        n, K = _logits_shape(p.shape, None if self._class_weight is None
                             else self._class_weight.size)
        labels, probs, y = self._targets(y_true, n, K, dt)
        w = _weights(sample_weight, (n, K), dt, red == _MEAN)
        # With class indices, a row's weight is sample weight x class weight, in both sums of
        # the mean; with probabilities the class weights are in the losses alone.
        weighted_classes = self._class_weight is not None and red == _MEAN and labels is not None
        cw = np.ones(K, dt) if self._class_weight is None else \
            _as_weights(self._class_weight, dt, "class_weight", weighted_classes)
        _check_reduction_args(red, reduction, loss_out, n)
        written = _outputs(op, red, loss_out, gradient_out, hessian_out)
        _check_apart(written)
        wanted = [o + (shape,) for o, shape in zip(written, [(n,), (n, K), (n, K)])]
        run = self._ce.run_float64 if dt == _F64 else self._ce.run_float32
        p_k, w_k = _aligned(p), _aligned(w)
        while True:       # a weighted mean runs again with rescaled weights (`_rescaled`)
            zero = None
            for attempt in (0, 1):
                # First try: the caller's outputs as they are (the kernel checks overlap with
                # the inputs in O(1)); if it refuses, the general output handling (copies)
                # decides.
                outs: List[Tuple[Optional[_Array], Optional[_Array]]] = []
                copy_back: List[Tuple[_Array, _Array]] = []
                for needed, out, name, shape in wanted:
                    if not needed:
                        outs.append((None, None))
                    elif attempt == 0 and out is not None and _direct(out, shape, dt):
                        outs.append((out, out))
                    else:
                        ret, k, copy = _output(out, name, shape, dt, (y, p, w))
                        k = k.reshape(shape)
                        if attempt == 1 and out is not None and not copy:
                            k, copy = np.empty(shape, dt), True   # the kernel refused it as is
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
                except ValueError as e:
                    # the kernel's "total weight of zero", refused before anything is written:
                    # true, or products of tiny sample and class weights that underflowed
                    if type(e) is not ValueError or red != _MEAN:
                        raise
                    zero, total, denominator = e, 0.0, 0.0
                break
            scaled_w = None if w_k is None or red != _MEAN else \
                _rescaled(w_k, total, denominator)
            scaled_cw = _rescaled(cw, total, denominator) if weighted_classes else None
            if scaled_w is None and scaled_cw is None:
                if zero is not None:
                    raise zero
                return _finish(red, copy_back, outs[0][0], outs[1][0], outs[2][0], total,
                               denominator)
            w_k = w_k if scaled_w is None else scaled_w
            cw = cw if scaled_cw is None else scaled_cw

    def _targets(self, y_true: Any, n: int, K: int, dt: _DType
                 ) -> Tuple[Optional[_Array], Optional[_Array], _Array]:
        """(class indices as int64 or None, probabilities or None, y_true as an array)."""
        y = y_true if type(y_true) is np.ndarray else _as_array(y_true, "y_true")
        if y.dtype.kind not in "biuf":
            raise TypeError(f"y_true must be class indices or probabilities (real numbers), "
                            f"got dtype {y.dtype}")
        if y.shape == (n, K) and y.ndim == 2:
            return None, _aligned(_cast(y, dt, "y_true")), y
        if y.shape != (n,):
            raise ValueError(f"y_true must be class indices of shape ({n},) or class "
                             f"probabilities of shape {(n, K)}, got shape {y.shape}")
        if y.dtype.kind == "f":
            bad = ~(np.isfinite(y) & (np.floor(y) == y))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(f"y_true holds class indices, which must be integers; "
                                 f"y_true[{i}] = {y[i]}")
            out_of_range = np.abs(y) >= _TWO_TO_63     # compared in float64 (float16 too)
            if out_of_range.any():      # cannot be a class; say so instead of converting
                raise self._target_error(y, False, K, int(np.flatnonzero(out_of_range)[0]))
        elif y.dtype.kind == "u" and y.dtype.itemsize == 8:
            big = y > np.uint64(2**63 - 1)
            if big.any():
                raise self._target_error(y, False, K, int(np.flatnonzero(big)[0]))
        labels = y.astype(np.int64) if y.dtype != np.int64 or not y.dtype.isnative else y
        return _aligned(labels), None, y

    def _target_error(self, y: _Array, probabilities: bool, K: int, index: int) -> ValueError:
        if probabilities:
            i, c = divmod(index, K)
            return ValueError(f"y_true holds class probabilities, which must be in [0, 1]; "
                              f"y_true[{i}, {c}] = {y[i, c]}")
        ignore = self.params["ignore_index"]
        extra = "" if ignore is None else f" (or ignore_index={ignore})"
        return ValueError(f"y_true holds class indices, which must be in [0, {K}){extra}; "
                          f"y_true[{index}] = {y[index]}")


_TWO_TO_63 = np.float64(2.0**63)


def _make(name: str, params: Mapping[str, Any]) -> Loss:
    """The loss `name` with `params`: what pickled losses are made again with, and the
    adapters' `get_loss` for parameters they take through (checked as `get_loss` checks
    them)."""
    return get_loss(name, **params)
