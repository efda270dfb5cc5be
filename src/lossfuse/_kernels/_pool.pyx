# cython: language_level=3
# lossfuse's thread pool, one per process, shared by the kernel modules (_baseline, _avx2,
# _avx512): pool.h has the design.  The kernel modules reach `parallel_run` through Cython's
# cross-module C API (`from ._pool cimport parallel_run`).

from libc.stdint cimport uint64_t

cdef extern from "pool.h" nogil:
    ctypedef void (*lf_task_fn)(void* ctx, Py_ssize_t task, const void*, const void*,
                                const void*) noexcept nogil
    int lf_parallel(lf_task_fn fn, void* ctx, Py_ssize_t n_tasks, int n_threads) noexcept
    void lf_pool_info(int* n_workers, uint64_t* jobs, uint64_t* by_workers, int* failed,
                      uint64_t* moved, uint64_t* stood_aside, uint64_t* backoffs,
                      int* backing_off) noexcept
    uint64_t lf_now_ns() noexcept
    int LF_POOL_THREADS
    int LF_MAX_WORKERS
    int LF_MAX_TASKS


cdef int parallel_run(task_fn fn, void* ctx, Py_ssize_t n_tasks, int n_threads) noexcept nogil:
    return lf_parallel(<lf_task_fn>fn, ctx, n_tasks, n_threads)


#: whether this platform has the pool (elsewhere every kernel runs on the calling thread)
HAS_THREADS = bool(LF_POOL_THREADS)
#: the most threads one call can use (workers plus the caller)
MAX_THREADS = LF_MAX_WORKERS + 1


def pool_info():
    """The pool's counters: workers started in this process (a forked child starts at 0), jobs
    run with workers, tasks the workers ran, failed thread starts, wake-ups on the caller's CPU
    (the worker moved to another CPU, or stood aside where it could not), times callers went
    without workers for a while because the cores were busy, and whether they do now."""
    cdef int n_workers, failed, backing_off
    cdef uint64_t jobs, by_workers, moved, stood_aside, backoffs
    lf_pool_info(&n_workers, &jobs, &by_workers, &failed, &moved, &stood_aside, &backoffs,
                 &backing_off)
    return {"workers": n_workers, "jobs": jobs, "tasks_by_workers": by_workers,
            "failed_starts": failed, "moved": moved, "stood_aside": stood_aside,
            "backoffs": backoffs, "backing_off": bool(backing_off)}


cdef struct _Fill:
    long* out
    uint64_t spin_ns


cdef void _fill_task(void* ctx, Py_ssize_t task, const void* t0, const void* t1,
                     const void* t2) noexcept nogil:
    cdef _Fill* f = <_Fill*>ctx
    cdef uint64_t end = lf_now_ns() + f.spin_ns
    while lf_now_ns() < end:          # a little work, so that workers get a chance to join
        pass
    f.out[task] = task + 1


def _run_tasks(Py_ssize_t n_tasks, int n_threads, long spin_ns=0):
    """Test hook: run `n_tasks` tasks that each take about `spin_ns` nanoseconds and write
    their index + 1 into a list; return (that list, threads that could join)."""
    import array
    cdef long[::1] out = array.array("l", [0] * max(n_tasks, 1))
    cdef _Fill f
    cdef int used
    f.out = &out[0]
    f.spin_ns = max(spin_ns, 0)
    with nogil:
        used = lf_parallel(_fill_task, &f, n_tasks, n_threads)
    return list(out[:n_tasks]), used
