"""``python -m lossfuse`` (and the ``lossfuse`` command): ``lossfuse bench [options]``,
``lossfuse score LOSS [options]``."""

import os
import sys

USAGE = """usage: lossfuse COMMAND [options]

commands:
  bench    time the kernels against NumPy (lossfuse bench --help)
  score    a loss over .npy, CSV or Parquet files, streamed in chunks (lossfuse score --help)
"""


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "bench":
        from ._bench import main as run
    elif command == "score":
        from ._score import main as run
    else:
        print(f"lossfuse: unknown command {command!r}\n{USAGE}", end="", file=sys.stderr)
        return 2
    try:
        return run(rest)
    except BrokenPipeError:            # the reader (head, less) went away: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
