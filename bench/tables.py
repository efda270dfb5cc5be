"""The README's speed tables (Markdown) from a saved run of ``lossfuse bench --save run.json``:

    python bench/tables.py run.json

1. the fused ``loss_gradient`` of every elementwise loss at every size, one thread, with the
   ratios to NumPy, to ``np.add``, to the narrower instruction-set build and of N threads;
2. every operation's speedup over NumPy at one size (``--n``, default 1e6), one thread;
3. ``cross_entropy``'s shapes, every operation.
"""

import argparse
import json
import sys


def _n(n: int) -> str:
    return f"1e{len(str(n)) - 1}" if n >= 10_000 and str(n).strip("0") == "1" else str(n)


def _us(seconds: float) -> str:
    us = seconds * 1e6
    return f"{us:.2f}" if us < 10 else f"{us:.1f}" if us < 1e5 else f"{us:.0f}"


def _x(v) -> str:
    return "" if v is None else f"{v:.2f}"


def tables(data: dict, n_ops: int = 1_000_000) -> str:
    res = data["results"]
    one = [r for r in res if r.get("threads", 1) == 1]
    threads = max(r.get("threads", 1) for r in res)
    narrower = next((r.get("baseline_isa") for r in res if r.get("baseline_isa")), "narrower")
    ops = list(dict.fromkeys(r.get("op", "loss_gradient") for r in res))
    out = []

    lg = [r for r in one if r.get("op", "loss_gradient") == "loss_gradient"
          and r["loss"] != "cross_entropy"]
    if lg:
        out += [f"| loss | dtype | n | lossfuse µs | NumPy µs | x NumPy | x np.add "
                f"| x {narrower.upper()} | x {threads} thr |",
                "|---|---|---|---:|---:|---:|---:|---:|---:|"]
        for r in sorted(lg, key=lambda r: (r["loss"], r["dtype"], r["n"])):
            small = r["n"] <= 16                 # the facade call against np.mean((p - y)**2)
            out.append(f"| {r['loss']} | {r['dtype']} | {_n(r['n'])} | {_us(r['seconds'])} | "
                       f"{_us(r['numpy_seconds'])} | {_x(r['speedup_vs_numpy'])} | "
                       f"{'' if small else _x(r['fraction_of_add'])} | "
                       f"{_x(r.get('dispatch_speedup'))} | {_x(r.get('thread_speedup'))} |")
        out.append("")

    at = [r for r in one if r["n"] == n_ops and r["loss"] != "cross_entropy"]
    if at:
        by = {(r["loss"], r["dtype"], r.get("op", "loss_gradient")): r for r in at}
        out += ["| loss | dtype | " + " | ".join(ops) + " |",
                "|---|---|" + "---:|" * len(ops)]
        for loss, dtype in sorted({(r["loss"], r["dtype"]) for r in at}):
            cells = [_x(by[(loss, dtype, op)]["speedup_vs_numpy"]) if (loss, dtype, op) in by
                     else "" for op in ops]
            out.append(f"| {loss} | {dtype} | " + " | ".join(cells) + " |")
        out.append("")

    ce = [r for r in one if r["loss"] == "cross_entropy" and r["n"] > 16]
    if ce:
        out += [f"| dtype | rows x classes | op | lossfuse µs | NumPy µs | x NumPy "
                f"| x {narrower.upper()} | x {threads} thr |",
                "|---|---|---|---:|---:|---:|---:|---:|"]
        for r in sorted(ce, key=lambda r: (r["dtype"], r["n"] * r.get("classes", 1),
                                           ops.index(r.get("op", "loss_gradient")))):
            out.append(f"| {r['dtype']} | {_n(r['n'])} x {r.get('classes', 1)} | "
                       f"{r.get('op', 'loss_gradient')} | {_us(r['seconds'])} | "
                       f"{_us(r['numpy_seconds'])} | {_x(r['speedup_vs_numpy'])} | "
                       f"{_x(r.get('dispatch_speedup'))} | {_x(r.get('thread_speedup'))} |")
        out.append("")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", help="a JSON file written by lossfuse bench --save")
    ap.add_argument("--n", type=lambda s: int(float(s)), default=1_000_000,
                    help="the size of the every-operation table (default 1e6)")
    args = ap.parse_args(argv)
    with open(args.run) as f:
        data = json.load(f)
    m = data.get("machine", {})
    print(f"<!-- {m.get('cpu')}, {m.get('cores')} cores, {m.get('isa')}, "
          f"python {m.get('python')}, numpy {m.get('numpy')}, cython {m.get('cython')}, "
          f"commit {m.get('git_commit')} -->\n")
    print(tables(data, args.n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
