"""``lossfuse score`` against the reader a user would otherwise pick, on the same files:

    python bench/score.py [--rows 5e6 2e7] [--repeat 3] [--dir DIR] [--json FILE]

For each ``--rows``, writes that many rows of ``y, p`` (float64) and a group key ``g``
(1,000 groups) as CSV, as one Parquet file, as a directory of 8 Parquet parts, and as two
``.npy`` files; then times, every command in a process of its own, interleaved ``--repeat``
times (best wall time, largest peak resident memory):

========================  =====================================================  =========
case                      against                                                bar
========================  =====================================================  =========
csv                       ``pyarrow.csv.read_csv`` + NumPy                       <= 1.2
parquet                   ``pyarrow.parquet.read_table`` + NumPy                 <= 1.1
parquet, 8 parts          the same on the directory                              <= 1.1
npy                       ``numpy.load`` + NumPy                                 (record)
csv, 3 losses             ``lossfuse score`` of one loss on the same CSV         <= 1.3
parquet, by g             ``lossfuse score`` without ``--by``, same file         <= 1.5
parquet, by g (polars)    polars ``scan_parquet().group_by().agg()``             (record)
========================  =====================================================  =========

and checks the answers first: the means agree with NumPy's to 1e-9 (relative), the grouped
means equal ``pandas.groupby`` of the losses computed in float64 to 1e-12, and lie within a
few ulp of lossfuse's own ungrouped loss on each group's rows.  Needs pyarrow and pandas (the
``test`` extra); polars where installed.  Linux and macOS (peak memory from ``os.wait4``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

GROUPS = 1000
LOSSES3 = "squared_error,absolute_error,huber"
MSE = "import numpy as np; print(repr(float(np.mean((p - y) ** 2))))"
REFERENCE = {
    "csv": "import pyarrow.csv as c; t = c.read_csv({path!r})",
    "parquet": "import pyarrow.parquet as q; t = q.read_table({path!r}, columns=['y', 'p'])",
}
REFERENCE_TAIL = "; y = t.column('y').to_numpy(); p = t.column('p').to_numpy(); " + MSE
NPY_REFERENCE = "import numpy as np; y = np.load({y!r}); p = np.load({p!r}); " + MSE
POLARS = ("import polars as pl; d = pl.scan_parquet({path!r}).group_by('g').agg("
          "((pl.col('p') - pl.col('y')) ** 2).mean().alias('mean'), pl.len())"
          ".sort('g').collect(); print(d.height)")
BARS = {"csv": 1.2, "parquet": 1.1, "parquet, 8 parts": 1.1, "csv, 3 losses": 1.3,
        "parquet, by g": 1.5}


def write_files(folder: str, rows: int, seed: int = 0) -> Dict[str, str]:
    """The data in every format: name -> path."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq
    rng = np.random.default_rng(seed)
    y = rng.normal(0, 2, rows)
    p = y + rng.normal(0, 1, rows)
    g = rng.integers(0, GROUPS, rows)
    paths = {k: os.path.join(folder, v) for k, v in [
        ("csv", "data.csv"), ("parquet", "data.parquet"), ("parts", "parts"),
        ("y", "y.npy"), ("p", "p.npy")]}
    pcsv.write_csv(pa.table({"y": y, "p": p}), paths["csv"])
    table = pa.table({"y": y, "p": p, "g": g})
    pq.write_table(table, paths["parquet"])
    os.mkdir(paths["parts"])
    step = -(-rows // 8)
    for k in range(8):
        pq.write_table(table.slice(k * step, step), os.path.join(paths["parts"], f"{k}.parquet"))
    np.save(paths["y"], y)
    np.save(paths["p"], p)
    return paths


def lossfuse(*args: str) -> List[str]:
    return [sys.executable, "-m", "lossfuse", "score", *args, "--no-progress"]


def output(argv: List[str]) -> str:
    """Run `argv`; what it prints."""
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:6])} failed: {done.stderr.strip()}")
    return done.stdout.strip()


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


def agree(what: str, ours: float, theirs: float, rtol: float = 1e-9) -> None:
    if not abs(ours - theirs) <= rtol * abs(theirs):
        raise RuntimeError(f"{what}: lossfuse gives {ours!r}, the reference {theirs!r}")


def check_groups(paths: Dict[str, str]) -> Dict[str, float]:
    """The grouped means of ``lossfuse score --by g`` against pandas' groupby of the losses
    in float64, and against lossfuse's ungrouped loss on each group's rows (in this
    process)."""
    import pandas as pd
    import pyarrow.parquet as pq

    import lossfuse as lf
    records = json.loads(output(lossfuse("squared_error", paths["parquet"], "--y-true", "y",
                                         "--y-pred", "p", "--by", "g", "--json")))
    frame = pq.read_table(paths["parquet"]).to_pandas()
    loss = lf.get_loss("squared_error")
    frame["l"] = loss.loss(frame["y"].to_numpy(), frame["p"].to_numpy(), reduction="none")
    expected = frame.groupby("g")["l"].mean()
    got = pd.Series({r["g"]: r["mean"] for r in records})
    if len(got) != len(expected):
        raise RuntimeError(f"--by g gives {len(got)} groups, pandas {len(expected)}")
    relative = float(np.max(np.abs(got[expected.index] - expected) / np.abs(expected)))
    if relative > 1e-12:
        raise RuntimeError(f"--by g differs from pandas' groupby by {relative:.3g} (relative)")
    ulps = 0.0
    for g, part in frame.groupby("g"):
        own = loss.loss(part["y"].to_numpy(), part["p"].to_numpy())
        ulps = max(ulps, abs(got[g] - own) / float(np.spacing(abs(own))))
    return {"groups": float(len(got)), "max_relative_vs_pandas": relative,
            "max_ulps_vs_ungrouped": ulps}


def cases(paths: Dict[str, str]) -> Dict[str, Tuple[List[str], List[str], str]]:
    """name -> (lossfuse's command, the command it is compared with, what that is)."""
    def reference(fmt: str, path: str) -> List[str]:
        return [sys.executable, "-c", REFERENCE[fmt].format(path=path) + REFERENCE_TAIL]
    one_csv = lossfuse("squared_error", paths["csv"], "--y-true", "y", "--y-pred", "p")
    one_parquet = lossfuse("squared_error", paths["parquet"], "--y-true", "y", "--y-pred", "p")
    out = {
        "csv": (one_csv, reference("csv", paths["csv"]), "pyarrow read_csv + NumPy"),
        "parquet": (one_parquet, reference("parquet", paths["parquet"]),
                    "pyarrow read_table + NumPy"),
        "parquet, 8 parts": (
            lossfuse("squared_error", paths["parts"], "--y-true", "y", "--y-pred", "p"),
            reference("parquet", paths["parts"]), "pyarrow read_table + NumPy"),
        "npy": (lossfuse("squared_error", "--y-true", paths["y"], "--y-pred", paths["p"]),
                [sys.executable, "-c", NPY_REFERENCE.format(y=paths["y"], p=paths["p"])],
                "numpy.load + NumPy"),
        "csv, 3 losses": (lossfuse(LOSSES3, paths["csv"], "--y-true", "y", "--y-pred", "p"),
                          one_csv, "lossfuse score, 1 loss"),
        "parquet, by g": (one_parquet[:-1] + ["--by", "g", "--no-progress"], one_parquet,
                          "lossfuse score, no --by"),
    }
    try:
        import polars  # noqa: F401
    except ImportError:
        pass
    else:
        out["parquet, by g (polars)"] = (
            out["parquet, by g"][0],
            [sys.executable, "-c", POLARS.format(path=paths["parquet"])],
            "polars group_by().agg()")
    return out


def check(name: str, ours: List[str], theirs: List[str]) -> Optional[float]:
    """Run both commands once and check that they agree; lossfuse's value (None for
    tables)."""
    a = output(ours)
    b = output(theirs)
    if name in ("csv", "parquet", "parquet, 8 parts", "npy"):
        agree(name, float(a), float(b))
        return float(a)
    if name == "csv, 3 losses":
        agree(name, float(a.splitlines()[1].split()[-1]), float(b))
    return None


def run_case(name: str, ours: List[str], theirs: List[str], repeat: int) -> Dict[str, Any]:
    times: Dict[str, List[Tuple[float, int]]] = {"ours": [], "theirs": []}
    for _ in range(repeat):                  # interleaved, so drift hits both alike
        for who, argv in (("ours", ours), ("theirs", theirs)):
            times[who].append(measured(argv))
    best = {k: min(w for w, _ in v) for k, v in times.items()}
    peak = {k: max(r for _, r in v) for k, v in times.items()}
    return {"lossfuse_s": best["ours"], "lossfuse_rss": peak["ours"],
            "reference_s": best["theirs"], "reference_rss": peak["theirs"],
            "ratio": best["ours"] / best["theirs"]}


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="lossfuse score against pyarrow/NumPy/polars on the same files",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--rows", type=float, nargs="+", default=[5e6, 2e7],
                        help="rows of y, p, g (one run per value)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command (best)")
    parser.add_argument("--dir", default=None,
                        help="where to write the files (default: a temporary folder)")
    parser.add_argument("--json", default=None, metavar="FILE", help="save the rows as JSON")
    args = parser.parse_args(argv)
    sizes = [int(r) for r in args.rows]
    if min(sizes) < 1 or args.repeat < 1:
        parser.error("--rows and --repeat must be at least 1")
    saved: Dict[str, Any] = {"runs": []}
    for rows in sizes:
        with tempfile.TemporaryDirectory(dir=args.dir) as folder:
            paths = write_files(folder, rows)
            groups = check_groups(paths)
            results = []
            for name, (ours, theirs, against) in cases(paths).items():
                value = check(name, ours, theirs)
                r = {"case": name, "against": against, "loss": value, "bar": BARS.get(name),
                     **run_case(name, ours, theirs, args.repeat)}
                results.append(r)
        saved["runs"].append({"rows": rows, "groups": groups, "results": results})
        print(f"\n{rows:,} rows of y, p, g (float64, {GROUPS:,} groups); best of "
              f"{args.repeat}; grouped means vs pandas: {groups['max_relative_vs_pandas']:.1e} "
              f"relative, vs the ungrouped loss: {groups['max_ulps_vs_ungrouped']:.0f} ulp")
        print(f"{'case':24s} {'lossfuse':>9s} {'peak RSS':>9s} {'against':>9s} {'peak RSS':>9s}"
              f" {'ratio':>6s} {'bar':>5s}  against")
        for r in results:
            bar = "" if r["bar"] is None else f"{r['bar']:.1f}"
            flag = " !" if r["bar"] is not None and r["ratio"] > r["bar"] else ""
            print(f"{r['case']:24s} {r['lossfuse_s']:8.3f}s {r['lossfuse_rss'] / 2**20:6.0f} MB "
                  f"{r['reference_s']:8.3f}s {r['reference_rss'] / 2**20:6.0f} MB "
                  f"{r['ratio']:6.2f} {bar:>5s}{flag:2s} {r['against']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(saved, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
