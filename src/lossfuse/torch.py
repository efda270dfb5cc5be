"""lossfuse as a PyTorch loss: one fused kernel call computes the loss and its gradient in the
forward pass; autograd's backward hands the saved gradient on.

>>> import torch
>>> from lossfuse.torch import loss
>>> mse = loss("squared_error")
>>> x = torch.tensor([0.5, 3.0], requires_grad=True)
>>> value = mse(x, torch.tensor([0.0, 1.0]))
>>> value.backward()
>>> value.item(), x.grad.tolist()
(2.125, [0.5, 2.0])

``loss(name, reduction="mean", n_threads=None, **params)`` returns a ``torch.nn.Module`` whose
``forward(input, target)`` follows PyTorch's argument order and reduction semantics
(``"mean"``, ``"sum"``, ``"none"``), for every lossfuse loss; ``torch.nn.functional``'s
``mse_loss``, ``l1_loss``, ``huber_loss``, ``binary_cross_entropy_with_logits`` and
``cross_entropy`` are ``squared_error``, ``absolute_error``, ``huber``,
``binary_cross_entropy`` and ``cross_entropy`` (whose ``ignore_index`` defaults to -100 here,
as in PyTorch).  Tensors are read and written through NumPy without copies; CPU tensors of
float32 or float64 only.  Gradients flow to ``input``; a ``target`` that requires a gradient
is refused rather than silently given none.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, SupportsIndex, Tuple

import numpy as np

from ._optional import import_optional

import_optional("torch", "lossfuse.torch")   # without torch: an error naming the extra
import torch  # noqa: E402

from . import _api  # noqa: E402
from ._api import LossParameter, Reduction  # noqa: E402

__all__ = ["LossfuseLoss", "loss"]

_DTYPES = (torch.float32, torch.float64)


def _array(t: torch.Tensor, name: str) -> _api._Array:
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if t.device.type != "cpu":
        raise TypeError(f"lossfuse.torch computes on CPU tensors; {name} is on {t.device} "
                        f"(move it with .cpu(), or use PyTorch's own loss there)")
    return t.detach().numpy()


class _Fused(torch.autograd.Function):
    """loss and d loss / d input in the forward pass (one kernel call); backward scales the
    saved gradient by the incoming one."""

    @staticmethod
    def forward(ctx: Any, input: torch.Tensor, target: torch.Tensor,
                weight: Optional[torch.Tensor], fn: _api.Loss, reduction: Reduction,
                n_threads: Optional[SupportsIndex]) -> torch.Tensor:
        p = _array(input, "input")
        y = _array(target, "target")
        w = None if weight is None else _array(weight, "sample_weight")
        if input.requires_grad:
            value, g = fn.loss_gradient(y, p, sample_weight=w, reduction=reduction,
                                        n_threads=n_threads)
            ctx.save_for_backward(torch.from_numpy(g))
        else:
            value = fn.loss(y, p, sample_weight=w, reduction=reduction, n_threads=n_threads)
        if reduction == "none":
            return torch.from_numpy(np.asarray(value))
        return torch.tensor(value, dtype=input.dtype)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad_output: torch.Tensor) -> Tuple[Optional[torch.Tensor], ...]:
        (g,) = ctx.saved_tensors                      # never changed: backward may run again
        if grad_output.dim() == 0:
            if grad_output.item() != 1.0:
                g = g * grad_output
        else:                                          # reduction="none" (cross_entropy: rows)
            g = g * (grad_output.reshape(g.shape[0], *([1] * (g.dim() - 1)))
                     if grad_output.shape != g.shape else grad_output)
        return g, None, None, None, None, None


# autograd's entry point (untyped in torch): _Fused.forward's arguments but ctx, its output
_fused: Callable[..., torch.Tensor] = _Fused.apply


class LossfuseLoss(torch.nn.Module):
    """A lossfuse loss as a ``torch.nn.Module``, for every lossfuse loss.

    ``forward(input, target)`` follows PyTorch's argument order (predictions first) and its
    reductions; one fused kernel call computes the loss and its gradient in the forward pass.

    Parameters
    ----------
    name : str
        A lossfuse loss name or alias, as for `lossfuse.get_loss`.
    reduction : {"mean", "sum", "none"}, default "mean"
        As PyTorch's losses reduce.
    n_threads : int, optional
        Threads per kernel call; default: `lossfuse.get_num_threads`.
    **params : float, array-like, Tensor or None
        The loss's parameters (a tensor becomes a list); ``cross_entropy``'s
        ``ignore_index`` defaults to -100, as in PyTorch.

    Raises
    ------
    ValueError
        For an unknown name or reduction, or an invalid parameter value.
    TypeError
        For an unknown parameter or one of the wrong type.

    See Also
    --------
    loss : The same, as a function.
    """

    def __init__(self, name: str, reduction: Reduction = "mean",
                 n_threads: SupportsIndex | None = None, **params: LossParameter) -> None:
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"reduction must be one of 'none', 'sum', 'mean'; got "
                             f"{reduction!r}")
        values = {k: (v.detach().cpu().tolist() if isinstance(v, torch.Tensor) else v)
                  for k, v in params.items()}
        if _api.get_loss(name).name == "cross_entropy":
            values.setdefault("ignore_index", -100)          # PyTorch's default
        self.fn = _api._make(name, values)
        self.reduction = reduction
        self.n_threads = n_threads

    def extra_repr(self) -> str:
        """What the module's repr shows between its parentheses.

        Returns
        -------
        str
            The loss's name and parameters, and the reduction.
        """
        args = "".join(f", {k}={v!r}" for k, v in self.fn.params.items())
        return f"{self.fn.name!r}{args}, reduction={self.reduction!r}"

    def forward(self, input: torch.Tensor, target: torch.Tensor,
                sample_weight: torch.Tensor | None = None) -> torch.Tensor:
        """The loss of `input` against `target`.

        Parameters
        ----------
        input : Tensor
            Predictions (logits for the classification losses): a CPU tensor of float32 or
            float64; the gradient flows to it.
        target : Tensor
            What the loss's ``y_true`` takes, of ``input``'s shape (class indices of shape
            ``(n,)`` for ``cross_entropy``); not requiring grad.
        sample_weight : Tensor, optional
            One weight per row (first axis).

        Returns
        -------
        Tensor
            0-d for ``"mean"`` and ``"sum"``, else per element (per row for
            ``cross_entropy``), of ``input``'s dtype.

        Raises
        ------
        TypeError
            For tensors not on the CPU, an `input` of another dtype, or what
            `lossfuse.Loss.loss` refuses.
        ValueError
            For a `target` that requires grad, or what `lossfuse.Loss.loss` refuses.
        """
        if isinstance(input, torch.Tensor) and input.dtype not in _DTYPES:
            raise TypeError(f"input must be float32 or float64, got {input.dtype}")
        if isinstance(target, torch.Tensor) and target.requires_grad:
            raise ValueError("lossfuse.torch gives no gradient for target; detach it (or use "
                             "PyTorch's own loss)")
        return _fused(input, target, sample_weight, self.fn, self.reduction, self.n_threads)


def loss(name: str, reduction: Reduction = "mean", n_threads: SupportsIndex | None = None,
         **params: LossParameter) -> LossfuseLoss:
    """The lossfuse loss `name` (with its `params`) as a ``torch.nn.Module``.

    Parameters
    ----------
    name : str
        A lossfuse loss name or alias, as for `lossfuse.get_loss`.
    reduction : {"mean", "sum", "none"}, default "mean"
        As for `LossfuseLoss`.
    n_threads : int, optional
        As for `LossfuseLoss`.
    **params : float, array-like, Tensor or None
        As for `LossfuseLoss`.

    Returns
    -------
    LossfuseLoss
        The module: ``forward(input, target, sample_weight=None)`` computes the loss.

    Raises
    ------
    ValueError, TypeError
        As `LossfuseLoss` raises them.

    Examples
    --------
    >>> import torch
    >>> from lossfuse.torch import loss
    >>> ce = loss("cross_entropy", label_smoothing=0.1)
    >>> logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]], requires_grad=True)
    >>> value = ce(logits, torch.tensor([0, 1]))
    >>> round(value.item(), 6)
    0.295095
    """
    return LossfuseLoss(name, reduction=reduction, n_threads=n_threads, **params)
