"""``lossfuse bench --plot``: the throughput of a run's cases against n (needs matplotlib)."""

from __future__ import annotations

import os
from typing import Any, Dict, Sequence

from lossfuse._optional import import_optional

#: A row of results (see `lossfuse._bench`)
Result = Dict[str, Any]


def check_plot(path: str) -> None:
    """Set matplotlib to draw to files and check that it writes `path` (by its suffix): a
    MissingDependencyError without matplotlib, a ValueError for a file type it does not
    write."""
    matplotlib = import_optional("matplotlib", "--plot")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    suffix = os.path.splitext(path)[1][1:].lower()
    types = plt.figure().canvas.get_supported_filetypes()
    plt.close("all")
    if suffix and suffix not in types:
        raise ValueError(f"matplotlib does not write .{suffix} files; it writes "
                         + ", ".join("." + t for t in sorted(types)))


def plot(results: Sequence[Result], path: str) -> None:
    """Throughput (GB/s of the loss_gradient traffic) against n for each loss, float32 and
    float64, with NumPy's formulation and the streaming limit (np.add) on the same data as
    reference lines; cross_entropy is left out (its sizes are shapes).  Needs matplotlib."""
    check_plot(path)
    import matplotlib.pyplot as plt
    rows = [r for r in results if r["loss"] != "cross_entropy"]
    losses = sorted({r["loss"] for r in rows})
    cols = min(4, max(1, len(losses)))
    nrows = (len(losses) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(4 * cols, 3 * nrows), squeeze=False,
                             sharex=True)
    for ax, loss in zip(axes.flat, losses):
        for dtype, style in (("float32", "-"), ("float64", "--")):
            rs = sorted((r for r in rows if r["loss"] == loss and r["dtype"] == dtype),
                        key=lambda r: r["n"])
            if not rs:
                continue
            n = [r["n"] for r in rs]
            nbytes = [r["gb_per_s"] * r["seconds"] for r in rs]            # GB moved
            ax.plot(n, [r["gb_per_s"] for r in rs], "o" + style, color="C0",
                    label=f"lossfuse {dtype}")
            ax.plot(n, [b / r["numpy_seconds"] for b, r in zip(nbytes, rs)], style,
                    color="C1", label=f"NumPy {dtype}")
            ax.plot(n, [b / r["add_seconds"] for b, r in zip(nbytes, rs)], style,
                    color="0.6", label=f"np.add {dtype}")
        ax.set_xscale("log")
        ax.set_title(loss, fontsize=10)
        ax.set_xlabel("n")
        ax.set_ylabel("GB/s")
    for ax in list(axes.flat)[len(losses):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
