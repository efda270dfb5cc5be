"""lossfuse: fused loss, gradient and hessian kernels, in one pass over the data.

>>> import numpy as np, lossfuse as lf
>>> loss = lf.get_loss("huber", delta=1.0)
>>> value, grad = loss.loss_gradient(np.array([0.0, 1.0]), np.array([0.5, 3.0]))
>>> value, grad
(0.8125, array([0.25, 0.5 ]))
"""

from __future__ import annotations

from typing import Any, Dict

from ._api import CrossEntropyLoss, Loss, available_losses, get_loss
from ._threads import get_num_threads, set_num_threads, threads
from ._score import score

__version__ = "0.1.0"
__all__ = ["CrossEntropyLoss", "Loss", "available_losses", "get_loss", "get_num_threads",
           "kernel_info", "score", "set_num_threads", "threads"]


def kernel_info() -> Dict[str, Any]:
    """Which compiled kernels run here.

    Returns
    -------
    dict
        ``"isa"``: the instruction set of the kernels in use (``"sse2"``, ``"avx2"``,
        ``"avx512"``, ...); ``"available"``: the builds this CPU runs; ``"module"``: the
        module in use; ``"num_threads"``: `get_num_threads`; ``"pool"``: the thread pool's
        counters (workers started in this process, jobs and tasks they ran, ...).

    Examples
    --------
    >>> import lossfuse as lf
    >>> sorted(lf.kernel_info())
    ['available', 'isa', 'module', 'num_threads', 'pool']
    """
    from ._kernels import _pool as pool
    from ._kernels import available, kernels
    return {"isa": kernels.ISA, "available": sorted(available), "module": kernels.__name__,
            "num_threads": get_num_threads(), "pool": pool.pool_info()}
