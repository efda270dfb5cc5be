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

from typing import Any, Optional

import numpy as np
import torch

import lossfuse as lf

__all__ = ["LossfuseLoss", "loss"]

_DTYPES = (torch.float32, torch.float64)


def _array(t: torch.Tensor, name: str) -> np.ndarray:
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
    def forward(ctx, input, target, weight, fn, reduction, n_threads):
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
    def backward(ctx, grad_output):
        (g,) = ctx.saved_tensors                      # never changed: backward may run again
        if grad_output.dim() == 0:
            if grad_output.item() != 1.0:
                g = g * grad_output
        else:                                          # reduction="none" (cross_entropy: rows)
            g = g * (grad_output.reshape(g.shape[0], *([1] * (g.dim() - 1)))
                     if grad_output.shape != g.shape else grad_output)
        return g, None, None, None, None, None


class LossfuseLoss(torch.nn.Module):
    """A lossfuse loss as a ``torch.nn.Module`` (see :func:`loss`)."""

    def __init__(self, name: str, reduction: str = "mean", n_threads: Optional[int] = None,
                 **params: Any):
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"reduction must be one of 'none', 'sum', 'mean'; got "
                             f"{reduction!r}")
        params = {k: (v.detach().cpu().tolist() if isinstance(v, torch.Tensor) else v)
                  for k, v in params.items()}
        if lf.get_loss(name).name == "cross_entropy":
            params.setdefault("ignore_index", -100)          # PyTorch's default
        self.fn = lf.get_loss(name, **params)
        self.reduction = reduction
        self.n_threads = n_threads

    def extra_repr(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.fn.params.items())
        return f"{self.fn.name!r}{args}, reduction={self.reduction!r}"

    def forward(self, input: torch.Tensor, target: torch.Tensor,
                sample_weight: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The loss of `input` (predictions, logits) against `target`; `sample_weight`: one
        weight per row (first axis)."""
        if isinstance(input, torch.Tensor) and input.dtype not in _DTYPES:
            raise TypeError(f"input must be float32 or float64, got {input.dtype}")
        if isinstance(target, torch.Tensor) and target.requires_grad:
            raise ValueError("lossfuse.torch gives no gradient for target; detach it (or use "
                             "PyTorch's own loss)")
        return _Fused.apply(input, target, sample_weight, self.fn, self.reduction,
                            self.n_threads)


def loss(name: str, reduction: str = "mean", n_threads: Optional[int] = None,
         **params: Any) -> LossfuseLoss:
    """The lossfuse loss `name` (with its `params`) as a ``torch.nn.Module``."""
    return LossfuseLoss(name, reduction=reduction, n_threads=n_threads, **params)
