"""How many threads a kernel call uses: `set_num_threads`, `get_num_threads`, `threads`.

A call's thread count is, in order of precedence:

1. its ``n_threads`` argument;
2. ``with lossfuse.threads(n):`` around it (this thread or task only: a `contextvars` value,
   so concurrent threads and asyncio tasks each keep their own);
3. ``lossfuse.set_num_threads(n)`` (the whole process);
4. the environment variable ``LOSSFUSE_NUM_THREADS``, else ``OMP_NUM_THREADS`` (its first
   value, as OpenMP reads ``"4,2"``), read once, at the first call that needs it;
5. the CPUs this process may use: its affinity mask (``taskset``, ``cpuset``), and the cgroup
   CPU quota of a container (v2 ``cpu.max``, v1 ``cpu.cfs_quota_us``), rounded down, at least 1.

The count is an upper bound: a call uses at most one thread per chunk of work (a chunk is
32,768 elements or more), so small inputs run on the calling thread alone.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import operator
import os
import warnings
from typing import Callable, Iterator, Mapping, Optional, SupportsIndex, Tuple

__all__ = ["get_num_threads", "set_num_threads", "threads"]

#: more threads than one call could ever use (it has at most 256 chunks); larger requests are
#: clipped to this
MAX_THREADS = 256

_ENV_VARS = ("LOSSFUSE_NUM_THREADS", "OMP_NUM_THREADS")

# 0 means "not set": the context's value, then the process's, then the automatic default.
_context: contextvars.ContextVar[int] = contextvars.ContextVar("lossfuse_num_threads", default=0)
_process = 0
_automatic: Optional[int] = None


def _check(n: object, name: str = "n_threads") -> int:
    """`n` as a thread count >= 1 (clipped to MAX_THREADS), or a TypeError/ValueError naming
    `name`."""
    kind = "an int or None" if name == "n_threads" else "an int"
    if isinstance(n, bool):
        raise TypeError(f"{name} must be {kind}, got bool")
    try:
        k = operator.index(n)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be {kind}, got {type(n).__name__}") from None
    if k < 1:
        raise ValueError(f"{name} must be >= 1, got {k}")
    return min(k, MAX_THREADS)


def resolve(n_threads: object) -> int:
    """The thread count of one call: `n_threads` if given (checked), else the default."""
    if n_threads is None:
        return _context.get() or _process or _automatic or _compute_automatic()
    if type(n_threads) is int and 1 <= n_threads <= MAX_THREADS:    # the common case, fast
        return n_threads
    return _check(n_threads)


def get_num_threads() -> int:
    """The number of threads a call with ``n_threads=None`` may use here and now.

    It is the value of an enclosing ``with lossfuse.threads(n):``, else that of
    `set_num_threads`, else ``LOSSFUSE_NUM_THREADS``, else ``OMP_NUM_THREADS``, else the number
    of CPUs this process may use (affinity mask and cgroup CPU quota).

    Returns
    -------
    int
        At least 1.

    Examples
    --------
    >>> import lossfuse as lf
    >>> with lf.threads(1):
    ...     lf.get_num_threads()
    1
    """
    return resolve(None)


def set_num_threads(n: Optional[SupportsIndex]) -> None:
    """Set the process-wide default thread count of kernel calls.

    Parameters
    ----------
    n : int or None
        At least 1 (larger counts than a call can use are clipped to 256).  ``None`` goes
        back to the automatic default (environment variables, then the CPUs this process may
        use).

    Raises
    ------
    TypeError
        For an `n` that is not an int (a bool, a float, a str).
    ValueError
        For an `n` below 1.

    Notes
    -----
    An explicit ``n_threads`` argument and ``with lossfuse.threads(n):`` take precedence.
    Results are bitwise identical for every thread count, so this changes speed only.

    Examples
    --------
    >>> import lossfuse as lf
    >>> lf.set_num_threads(2)
    >>> lf.get_num_threads()
    2
    >>> lf.set_num_threads(None)
    """
    global _process
    _process = 0 if n is None else _check(n, "n")


@contextlib.contextmanager
def threads(n: SupportsIndex) -> Iterator[int]:
    """Within the ``with`` block, calls without ``n_threads`` use at most `n` threads.

    The setting belongs to the current thread (and asyncio task), like `decimal.localcontext`:
    other threads keep theirs.  Blocks nest; leaving one restores the previous value.

    Parameters
    ----------
    n : int
        At least 1 (larger counts than a call can use are clipped to 256).

    Yields
    ------
    int
        The thread count in effect within the block.

    Raises
    ------
    TypeError
        For an `n` that is not an int.
    ValueError
        For an `n` below 1.

    Examples
    --------
    >>> import numpy as np, lossfuse as lf
    >>> with lf.threads(1):   # e.g. inside the tasks of a process or thread pool
    ...     float(lf.get_loss("mse").loss(np.zeros(3), np.ones(3)))
    1.0
    """
    token = _context.set(_check(n, "n"))
    try:
        yield _context.get()
    finally:
        _context.reset(token)


# ------------------------------------------------------------------------ automatic default
def _compute_automatic() -> int:
    global _automatic
    _automatic = default_threads()
    return _automatic


def _reset_automatic() -> None:
    """Forget the automatic default (tests; a forked child keeps its parent's)."""
    global _automatic
    _automatic = None


def default_threads(environ: Optional[Mapping[str, str]] = None, root: str = "/") -> int:
    """The automatic default: the first valid of ``LOSSFUSE_NUM_THREADS`` and
    ``OMP_NUM_THREADS`` in `environ`, else `available_cpus`.  An invalid value is skipped with
    a RuntimeWarning that names the variable."""
    chosen = environment_threads(environ)
    return chosen[2] if chosen else available_cpus(root)


def environment_threads(environ: Optional[Mapping[str, str]] = None, warn: bool = True
                        ) -> Optional[Tuple[str, str, int]]:
    """(variable, its value, the thread count) of the first valid of ``LOSSFUSE_NUM_THREADS``
    and ``OMP_NUM_THREADS`` in `environ` (default: the process's), or None; an invalid value is
    skipped (with a RuntimeWarning naming the variable, if `warn`)."""
    env = os.environ if environ is None else environ
    for var in _ENV_VARS:
        value = env.get(var, "").strip()
        if not value:
            continue
        first = value.split(",")[0].strip()   # OpenMP's nested list: the outer level
        try:
            n = int(first)
        except ValueError:
            n = 0
        if n >= 1:
            return var, value, min(n, MAX_THREADS)
        if warn:
            warnings.warn(f"lossfuse: ignoring {var}={value!r} (not a positive integer)",
                          RuntimeWarning, stacklevel=4)
    return None


def available_cpus(root: str = "/") -> int:
    """The CPUs this process may use: the size of its affinity mask, lowered to its cgroup CPU
    quota (rounded down, at least 1).  `root` prefixes every path read (``/proc/self/...``
    and the cgroup mounts), for tests."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    quota = cgroup_cpu_quota(root)
    if quota is not None:
        n = min(n, max(1, math.floor(quota)))
    return max(1, min(n, MAX_THREADS))


def _read(path: str) -> Optional[str]:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def cgroup_cpu_quota(root: str = "/") -> Optional[float]:
    """The CPU quota of this process's cgroup, in CPUs (quota / period; the lowest of the
    cgroup and its ancestors), or None without one.  Reads cgroup v2 ``cpu.max`` and v1
    ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` at the mounts listed in
    ``/proc/self/mountinfo``."""
    cgroups = _read(os.path.join(root, "proc/self/cgroup"))
    mounts = _read(os.path.join(root, "proc/self/mountinfo"))
    if not cgroups or not mounts:
        return None
    v2_path = v1_path = None
    for line in cgroups.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":
            v2_path = parts[2]
        elif "cpu" in parts[1].split(","):
            v1_path = parts[2]
    limits = []
    for line in mounts.splitlines():
        # id parent major:minor root mount-point options [optional fields] - type source super
        left, sep, right = line.partition(" - ")
        fields, rest = left.split(), right.split()
        if not sep or len(fields) < 5 or len(rest) < 3:
            continue
        fstype, mount_root, mount_point = rest[0], fields[3], fields[4]
        if fstype == "cgroup2" and v2_path is not None:
            limits.append(_walk(root, mount_root, mount_point, v2_path, _v2_limit))
        elif (fstype == "cgroup" and v1_path is not None
              and "cpu" in rest[2].split(",")):
            limits.append(_walk(root, mount_root, mount_point, v1_path, _v1_limit))
    found = [q for q in limits if q is not None]
    return min(found) if found else None


def _walk(root: str, mount_root: str, mount_point: str, path: str,
          limit: Callable[[str], Optional[float]]) -> Optional[float]:
    """The lowest limit of the cgroup `path` and its ancestors within one mount.  Inside a
    container the mount's root is the container's own cgroup and `path` may name the host's
    view of it: then only the mount point itself is read."""
    base = os.path.join(root, mount_point.lstrip("/"))
    rel = path
    if mount_root != "/" and (path == mount_root or path.startswith(mount_root + "/")):
        rel = path[len(mount_root):]
    rel = rel.strip("/")
    if rel and not os.path.isdir(os.path.join(base, rel)):
        rel = ""
    best = None
    while True:
        q = limit(os.path.join(base, rel) if rel else base)
        if q is not None and (best is None or q < best):
            best = q
        if not rel:
            return best
        rel = os.path.dirname(rel)


def _v2_limit(directory: str) -> Optional[float]:
    text = _read(os.path.join(directory, "cpu.max"))
    if not text:
        return None
    parts = text.split()
    try:
        if parts[0] == "max":
            return None
        return int(parts[0]) / int(parts[1] if len(parts) > 1 else 100000)
    except (ValueError, IndexError, ZeroDivisionError):
        return None


def _v1_limit(directory: str) -> Optional[float]:
    quota = _read(os.path.join(directory, "cpu.cfs_quota_us"))
    period = _read(os.path.join(directory, "cpu.cfs_period_us"))
    try:
        q, p = int(quota or ""), int(period or "")
    except ValueError:
        return None
    return q / p if q > 0 and p > 0 else None
