"""``lossfuse score`` against the reader a user would otherwise pick, on the same files:

    python bench/score.py [--rows 5e6] [--repeat 3] [--dir DIR] [--json FILE]

Writes ``--rows`` rows of ``y,p`` (float64) as CSV, Parquet (one file), and two ``.npy``
files, then times the mean squared error of each, every command in a process of its own:

* ``lossfuse score squared_error --y-true SRC --y-pred SRC``;
* the reference: the file read whole by pyarrow (``pyarrow.csv.read_csv``,
  ``pyarrow.parquet.read_table``) or ``numpy.load``, then ``np.mean((p - y) ** 2)``.

Prints, per format, the best wall time of ``--repeat`` runs and the peak resident memory of
each, their ratio, and checks that both give the same loss (relative 1e-9).  Needs pyarrow
(the ``parquet`` extra).  Linux and macOS (peak memory from ``os.wait4``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from typing import Dict, List, Tuple

import numpy as np

REFERENCE = {
    "csv": "import pyarrow.csv as c; t = c.read_csv({path!r})",
    "parquet": "import pyarrow.parquet as q; t = q.read_table({path!r}, columns=['y', 'p'])",
}
REFERENCE_TAIL = ("; y = t.column('y').to_numpy(); p = t.column('p').to_numpy()"
                  "; import numpy as np; print(repr(float(np.mean((p - y) ** 2))))")
NPY_REFERENCE = ("import numpy as np; y = np.load({y!r}); p = np.load({p!r})"
                 "; print(repr(float(np.mean((p - y) ** 2))))")


def write_files(folder: str, rows: int, seed: int = 0) -> Dict[str, Tuple[str, str]]:
    """The data in every format: format -> (y_true SRC, y_pred SRC) for `lossfuse score`."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq
    rng = np.random.default_rng(seed)
    y = rng.normal(0, 2, rows)
    p = y + rng.normal(0, 1, rows)
    table = pa.table({"y": y, "p": p})
    csv, parquet = os.path.join(folder, "data.csv"), os.path.join(folder, "data.parquet")
    pcsv.write_csv(table, csv)
    pq.write_table(table, parquet)
    np.save(os.path.join(folder, "y.npy"), y)
    np.save(os.path.join(folder, "p.npy"), p)
    return {"csv": (f"{csv}:y", f"{csv}:p"),
            "parquet": (f"{parquet}:y", f"{parquet}:p"),
            "npy": (os.path.join(folder, "y.npy"), os.path.join(folder, "p.npy"))}


def value(argv: List[str]) -> float:
    """Run `argv`; the number it prints."""
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:5])} failed: {done.stderr.strip()}")
    return float(done.stdout.strip())


def measured(argv: List[str]) -> Tuple[float, int]:
    """Wall time (s) and peak resident memory (bytes) of `argv`, run under a small Python
    parent that waits for it with os.wait4."""
    probe = ("import os, subprocess, sys, time, json; t = time.perf_counter(); "
             "pid = subprocess.Popen(sys.argv[1:], stdout=open(os.devnull, 'w')).pid; "
             "_, status, ru = os.wait4(pid, 0); w = time.perf_counter() - t; "
             "print(json.dumps([w, status, ru.ru_maxrss]))")
    out = subprocess.run([sys.executable, "-c", probe] + argv, capture_output=True, text=True,
                         check=True).stdout
    wall, status, maxrss = json.loads(out)
    if status != 0:
        raise RuntimeError(f"{argv[:4]} failed with status {status}")
    scale = 1 if sys.platform == "darwin" else 1024          # bytes on macOS, KiB on Linux
    return wall, maxrss * scale


def case(fmt: str, srcs: Tuple[str, str], repeat: int) -> Dict[str, object]:
    """Time `lossfuse score` and the reference on one format; check they agree."""
    ours = [sys.executable, "-m", "lossfuse", "score", "squared_error", "--y-true", srcs[0],
            "--y-pred", srcs[1], "--no-progress"]
    if fmt == "npy":
        code = NPY_REFERENCE.format(y=srcs[0], p=srcs[1])
    else:
        code = REFERENCE[fmt].format(path=srcs[0].rpartition(":")[0]) + REFERENCE_TAIL
    theirs = [sys.executable, "-c", code]
    value_ours, value_theirs = value(ours), value(theirs)
    if not abs(value_ours - value_theirs) <= 1e-9 * abs(value_theirs):
        raise RuntimeError(f"{fmt}: lossfuse gives {value_ours!r}, the reference "
                           f"{value_theirs!r}")
    times: Dict[str, List[Tuple[float, int]]] = {"lossfuse": [], "reference": []}
    for _ in range(repeat):                  # interleaved, so drift hits both alike
        for name, argv in (("lossfuse", ours), ("reference", theirs)):
            wall, rss = measured(argv)
            times[name].append((wall, rss))
    best = {k: min(w for w, _ in v) for k, v in times.items()}
    peak = {k: max(r for _, r in v) for k, v in times.items()}
    return {"format": fmt, "loss": value_ours,
            "lossfuse_s": best["lossfuse"], "lossfuse_rss": peak["lossfuse"],
            "reference_s": best["reference"], "reference_rss": peak["reference"],
            "ratio": best["lossfuse"] / best["reference"]}


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="lossfuse score against pyarrow/NumPy readers on the same files",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--rows", type=float, default=5e6, help="rows of y,p")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command (best)")
    parser.add_argument("--dir", default=None,
                        help="where to write the files (default: a temporary folder)")
    parser.add_argument("--json", default=None, metavar="FILE", help="save the rows as JSON")
    args = parser.parse_args(argv)
    rows = int(args.rows)
    if rows < 1 or args.repeat < 1:
        parser.error("--rows and --repeat must be at least 1")
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        files = write_files(folder, rows)
        results = [case(fmt, srcs, args.repeat) for fmt, srcs in files.items()]
    print(f"{rows:,} rows of y,p (float64); squared_error; best of {args.repeat}")
    print(f"{'format':8s} {'lossfuse':>10s} {'peak RSS':>10s} {'reference':>10s} "
          f"{'peak RSS':>10s} {'x reference':>12s}")
    for r in results:
        print(f"{r['format']:8s} {r['lossfuse_s']:9.3f}s {r['lossfuse_rss'] / 2**20:7.0f} MB "
              f"{r['reference_s']:9.3f}s {r['reference_rss'] / 2**20:7.0f} MB "
              f"{r['ratio']:12.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
