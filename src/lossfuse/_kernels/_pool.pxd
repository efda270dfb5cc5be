# The process's thread pool (pool.h), for the kernel modules: `parallel_run` runs tasks
# 0 .. n_tasks-1 of `fn` on up to `n_threads` threads, the calling thread included.

ctypedef void (*task_fn)(void* ctx, Py_ssize_t task, const void* tag0, const void* tag1,
                         const void* tag2) noexcept nogil

cdef int parallel_run(task_fn fn, void* ctx, Py_ssize_t n_tasks, int n_threads) noexcept nogil
