"""lossfuse: fused loss, gradient and hessian kernels, in one pass over the data.

>>> import numpy as np, lossfuse as lf
>>> loss = lf.get_loss("huber", delta=1.0)
>>> value, grad = loss.loss_gradient(np.array([0.0, 1.0]), np.array([0.5, 3.0]))
>>> value, grad
(0.8125, array([0.25, 0.5 ]))
"""

from ._api import CrossEntropyLoss, Loss, available_losses, get_loss
from ._kernels import kernels as _kernels

__version__ = "0.1.0"
__all__ = ["CrossEntropyLoss", "Loss", "available_losses", "get_loss", "kernel_info"]


def kernel_info() -> dict:
    """Which compiled kernels run here: instruction set, OpenMP, and the available builds."""
    from ._kernels import available
    return {"isa": _kernels.ISA, "openmp": _kernels.OPENMP, "available": sorted(available),
            "module": _kernels.__name__}
