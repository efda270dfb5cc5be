"""The benchmark table against NumPy: the same as ``lossfuse bench`` (see
``src/lossfuse/_bench.py``, where the benchmark definitions live); kept so that
``python bench/run.py`` goes on working."""

import sys

from lossfuse._bench import main

if __name__ == "__main__":
    sys.exit(main())
