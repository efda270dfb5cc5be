# Stubs for lossfuse's thread pool (pool.h): private; see lossfuse.get_num_threads.
from typing import Dict, List, Tuple

HAS_THREADS: bool                          # False where the platform has no pool (Windows)
MAX_THREADS: int                           # most threads one call can use, caller included

def pool_info() -> Dict[str, int]: ...     # counters; "backing_off" is a bool
# test hook: (task index + 1 of each task, threads that could join)
def _run_tasks(n_tasks: int, n_threads: int, spin_ns: int = 0) -> Tuple[List[int], int]: ...
