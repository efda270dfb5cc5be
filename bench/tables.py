"""The README's speed tables (Markdown) from a saved run of ``lossfuse bench --save run.json``:

    python bench/tables.py run.json [--n 1e6]

prints `lossfuse._bench_report.readme_tables` of the run: the fused ``loss_gradient`` of
every elementwise loss at every size, every operation's speedup at one size (``--n``) and
``cross_entropy``'s shapes, with a line saying what the run ran on.  ``lossfuse bench --report
run.json --format markdown`` prints the same tables and the summary.
"""

import argparse
import json
import sys
from typing import Optional, Sequence

from lossfuse._bench_report import readme_tables


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Print the README's tables of the run named in `argv`; 2 (and a message) on an error."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", help="a JSON file written by lossfuse bench --save")
    ap.add_argument("--n", type=lambda s: int(float(s)), default=1_000_000,
                    help="the size of the every-operation table (default 1e6)")
    args = ap.parse_args(argv)
    try:
        with open(args.run) as f:
            text = readme_tables(json.load(f), args.n)
    except (OSError, TypeError, ValueError) as e:
        print(f"tables.py: error: {args.run}: {e}", file=sys.stderr)
        return 2
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
