"""lossfuse.torch against torch.nn.functional: forward plus backward, one thread each, timed
interleaved in one run (the timing of ``lossfuse bench``):

    python bench/torch_losses.py [--sizes 1e4 1e6] [--dtypes float32 float64]

Needs PyTorch (the ``torch`` extra).  mse_loss, l1_loss, huber_loss,
binary_cross_entropy_with_logits (on n elements) and cross_entropy (n / 10 rows of 10 logits).
"""

import argparse
import sys

import numpy as np
import torch
import torch.nn.functional as F

from lossfuse import _bench
from lossfuse.torch import loss

CASES = {
    "squared_error": (F.mse_loss, "values"),
    "absolute_error": (F.l1_loss, "values"),
    "huber": (F.huber_loss, "values"),
    "binary_cross_entropy": (F.binary_cross_entropy_with_logits, "labels"),
    "cross_entropy": (F.cross_entropy, "classes"),
}


def candidates(name: str, dtype, n: int, seed: int = 0) -> dict:
    theirs, kind = CASES[name]
    g = torch.Generator().manual_seed(seed)
    tdt = getattr(torch, np.dtype(dtype).name)
    if kind == "classes":
        x = torch.randn(n // 10, 10, generator=g, dtype=tdt, requires_grad=True)
        t = torch.randint(0, 10, (n // 10,), generator=g)
    else:
        x = torch.randn(n, generator=g, dtype=tdt, requires_grad=True)
        t = (torch.randint(0, 2, (n,), generator=g).to(tdt) if kind == "labels"
             else torch.randn(n, generator=g, dtype=tdt))
    ours = loss(name, n_threads=1)

    def run(f):
        def call():
            x.grad = None
            f(x, t).backward()
        return call
    return {"lossfuse": run(ours), "torch": run(theirs)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="+", type=lambda s: int(float(s)),
                    default=[10_000, 1_000_000])
    ap.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    print(f"# torch {torch.__version__}, one thread each; forward + backward")
    head = (f"{'loss':22s} {'dtype':8s} {'n':>9s} {'lossfuse us':>11s} {'torch us':>10s} "
            f"{'x torch':>8s} {'spread':>6s}")
    print(head)
    print("-" * len(head))
    for name in CASES:
        for dt in args.dtypes:
            for n in args.sizes:
                med, spread = _bench._time_all(candidates(name, np.dtype(dt), n))
                print(f"{name:22s} {dt:8s} {n:9d} {med['lossfuse'] * 1e6:11.1f} "
                      f"{med['torch'] * 1e6:10.1f} {med['torch'] / med['lossfuse']:8.2f} "
                      f"{spread:6.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
