/* lossfuse's thread pool: one per process, shared by every kernel module.
 *
 * A job is `n_tasks` independent tasks (the chunks of a kernel call).  The calling thread
 * posts the job and then works on it like any worker: everyone claims tasks from one atomic
 * word (the caller from the front, workers from the back) until none is left.  At the end the
 * caller waits only for the tasks a worker has actually claimed; a worker that the OS has not scheduled yet claims nothing, so nobody
 * waits for it (if no worker shows up, the caller runs every task itself and returns).  Which
 * thread runs which task does not matter: tasks write disjoint outputs and slots of their own,
 * and the caller combines the slots in task order afterwards.
 *
 * One word holds the state of the current job, so that a claim is one compare-and-swap and a
 * worker can never claim a task of a job that has already ended or act on a newer job by
 * mistake:
 *
 *     ticket = generation (24 bits) | workers allowed (8) | workers joined (8)
 *              | first unclaimed task (12) | end of the unclaimed tasks (12)
 *
 * The job's function and context are written before its ticket is published, and read by a
 * worker only after a successful claim: the job cannot end while one of its tasks is unfinished,
 * so they are still valid then.
 *
 * Workers are started lazily, on the first call that wants them, and never more than the most
 * any call asked for.  An idle worker spins briefly (calls in a training loop come back to back)
 * and then sleeps on a futex (Linux) or a condition variable (elsewhere).  One caller owns the
 * pool at a time; a caller that finds it busy (another Python thread in a kernel, or a kernel
 * called from inside another library's threads) runs its tasks inline, which is what its share
 * of the cores amounts to anyway; and while another caller is at work, a caller runs inline
 * even if the pool is free (the cores are taken).
 *
 * When the cores are busy with other work, a second thread costs more than it gives.  A
 * worker that the OS wakes on its caller's CPU moves to another CPU (lf_sleep), and a caller
 * held up by preemption runs alone for a while (lf_parallel).
 *
 * Fork: a child process has only the thread that called fork().  A pthread_atfork handler
 * resets the child's pool to "no workers, not busy", so the child starts its own workers on its
 * first parallel call; nothing in the child waits for a thread of the parent.
 */
#ifndef LOSSFUSE_POOL_H
#define LOSSFUSE_POOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if defined(_WIN32)
#define LF_POOL_THREADS 0      /* no pool: every job runs on the caller */
#else
#define LF_POOL_THREADS 1
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sched.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#define LF_FUTEX 1
#else
#define LF_FUTEX 0
#endif
#endif

/* A task: `fn(ctx, task, NULL, NULL, NULL)`.  The three pointer arguments are unused; kernels
 * use them as compile-time tags (their Cython fused types select which instantiation runs). */
typedef void (*lf_task_fn)(void *ctx, ptrdiff_t task, const void *, const void *, const void *);

#define LF_MAX_WORKERS 255     /* workers allowed fits in 8 bits */
#define LF_MAX_TASKS 4095      /* tasks and the next task fit in 12 bits each */

/* Nanoseconds an idle worker spins before it sleeps, and a waiting caller before it sleeps.
 * (Offering the CPU with sched_yield while spinning was tried: under load a yielding worker
 * joins late, and the caller waits for the last chunk it took.  Measured with lossfuse bench
 * --load: p90 1.2-3.8x one thread's at 1e5-1e6, against 0.9-1.0x for a plain spin.) */
#define LF_WORKER_SPIN_NS 100000
#define LF_CALLER_SPIN_NS 50000
/* A caller held up more than LF_STALL_NS beyond twice its fastest task runs its calls alone
 * for the next LF_BACKOFF_NS (see lf_parallel). */
#define LF_STALL_NS 500000
/* Nanoseconds after callers last met each other during which idle workers do not spin. */
#define LF_CONTENDED_NS 10000000
#define LF_BACKOFF_NS 50000000

#define LF_T_END(t) ((uint32_t)((t) & 0xfff))
#define LF_T_NEXT(t) ((uint32_t)(((t) >> 12) & 0xfff))
#define LF_T_JOINED(t) ((uint32_t)(((t) >> 24) & 0xff))
#define LF_T_ALLOWED(t) ((uint32_t)(((t) >> 32) & 0xff))
#define LF_T_GEN(t) ((uint32_t)((t) >> 40))
#define LF_T_MAKE(gen, allowed, n) \
    ((((uint64_t)(gen) & 0xffffff) << 40) | ((uint64_t)(allowed) << 32) | (uint64_t)(n))

#define LF_LOAD(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define LF_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define LF_ADD(p, v) __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)
#define LF_CAS(p, expected, desired) \
    __atomic_compare_exchange_n((p), (expected), (desired), 0, __ATOMIC_SEQ_CST, \
                                __ATOMIC_SEQ_CST)

#if defined(__x86_64__) || defined(__i386__)
#define LF_PAUSE() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define LF_PAUSE() __asm__ __volatile__("yield")
#else
#define LF_PAUSE() ((void)0)
#endif

typedef struct {
    uint64_t ticket;           /* the current job (see above) */
    lf_task_fn fn;             /* the current job's task function, context and size */
    void *ctx;
    uint32_t n_tasks;
    uint32_t done;             /* tasks of the current job finished (futex word of the caller) */
    uint32_t caller_sleeps;    /* the caller sleeps on `done` */
    uint32_t posted;           /* bumped by every job (futex word of the idle workers) */
    uint32_t sleepers;         /* workers asleep, or about to be */
    uint32_t busy;             /* a caller owns the pool */
    uint32_t callers;          /* callers inside lf_parallel with more than one thread */
    uint64_t contended_at;     /* when a caller last found another one at work (lf_now_ns) */
    uint32_t gen;              /* generation of the last job (owner only) */
    int caller_cpu;            /* the CPU the current job's caller posted it from, or -1 */
    uint64_t stood_aside;      /* wake-ups on the caller's CPU left to it, for pool_info */
    uint64_t moved;            /* wake-ups on the caller's CPU moved off it, for pool_info */
    uint64_t backoff_until;    /* callers run alone until then (lf_now_ns) */
    uint64_t backoffs;         /* times callers started running alone, for pool_info */
    int n_workers;             /* started (owner only) */
    int failed_starts;         /* pthread_create failures, for pool_info */
    uint64_t jobs;             /* jobs run with the pool, for pool_info */
    uint64_t tasks_by_workers; /* tasks the workers ran, for pool_info */
#if LF_POOL_THREADS && !LF_FUTEX
    pthread_mutex_t mutex;
    pthread_cond_t cond;
#endif
} lf_pool_t;

static lf_pool_t lf_pool;

/* ------------------------------------------------------------------------------ timing */
static inline uint64_t lf_now_ns(void) {
#if LF_POOL_THREADS
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#else
    return 0;
#endif
}

/* ------------------------------------------------------------------ sleeping and waking */
#if LF_POOL_THREADS
static void lf_wait(uint32_t *addr, uint32_t value) {
#if LF_FUTEX
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, value, NULL, NULL, 0);
#else
    pthread_mutex_lock(&lf_pool.mutex);
    while (LF_LOAD(addr) == value)
        pthread_cond_wait(&lf_pool.cond, &lf_pool.mutex);
    pthread_mutex_unlock(&lf_pool.mutex);
#endif
}

static void lf_wake(uint32_t *addr, int count) {
#if LF_FUTEX
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
#else
    (void)addr; (void)count;
    pthread_mutex_lock(&lf_pool.mutex);
    pthread_cond_broadcast(&lf_pool.cond);
    pthread_mutex_unlock(&lf_pool.mutex);
#endif
}
#endif

/* ------------------------------------------------------------------------------ claiming */
/* Claim the next task of the job `gen` and run it; 0 when no task of that job is left. */
static inline int lf_run_one(uint32_t gen, int by_worker) {
    uint64_t t = LF_LOAD(&lf_pool.ticket);
    uint32_t task, n;
    for (;;) {
        if (LF_T_GEN(t) != (gen & 0xffffff) || LF_T_NEXT(t) >= LF_T_END(t))
            return 0;
        /* the caller takes tasks from the front, workers from the back: each thread streams
         * through memory in one direction (on two cores, as a static split would) */
        if (LF_CAS(&lf_pool.ticket, &t, by_worker ? t - 1 : t + (1u << 12)))
            break;             /* on failure `t` holds the current ticket: look again */
    }
    task = by_worker ? LF_T_END(t) - 1 : LF_T_NEXT(t);
    n = lf_pool.n_tasks;
    lf_pool.fn(lf_pool.ctx, (ptrdiff_t)task, NULL, NULL, NULL);
    if (by_worker)
        __atomic_add_fetch(&lf_pool.tasks_by_workers, 1, __ATOMIC_RELAXED);
    if (LF_ADD(&lf_pool.done, 1) == n && by_worker && LF_LOAD(&lf_pool.caller_sleeps))
        lf_wake(&lf_pool.done, 1);
    return 1;
}

#if LF_POOL_THREADS
static inline int lf_cpu(void) {
#if defined(__linux__) && defined(__GLIBC__) && defined(_GNU_SOURCE)
    return sched_getcpu();
#else
    return -1;
#endif
}

/* Join the current job if it has work and room for one more worker, unless it is job `skip`;
 * return its generation, or -1. */
static inline int64_t lf_join(int64_t skip) {
    uint64_t t = LF_LOAD(&lf_pool.ticket);
    for (;;) {
        if (LF_T_NEXT(t) >= LF_T_END(t) || LF_T_JOINED(t) >= LF_T_ALLOWED(t)
                || (int64_t)LF_T_GEN(t) == skip)
            return -1;
        if (LF_CAS(&lf_pool.ticket, &t, t + (1u << 24)))
            return (int64_t)LF_T_GEN(t);
    }
}

/* Callers run their jobs alone for the next LF_BACKOFF_NS. */
static void lf_back_off(void) {
    __atomic_store_n(&lf_pool.backoff_until, lf_now_ns() + LF_BACKOFF_NS, __ATOMIC_RELAXED);
    __atomic_add_fetch(&lf_pool.backoffs, 1, __ATOMIC_RELAXED);
}

/* Move the calling thread to another CPU it may run on than `cpu`: 1 if it did.  (Its
 * affinity mask is narrowed, which migrates it at once, and then restored.) */
static int lf_move_off(int cpu) {
#if defined(__linux__) && defined(__GLIBC__) && defined(_GNU_SOURCE) && defined(CPU_COUNT)
    cpu_set_t mask, other;
    if (cpu < 0 || cpu >= CPU_SETSIZE || sched_getaffinity(0, sizeof mask, &mask) != 0)
        return 0;
    other = mask;
    CPU_CLR(cpu, &other);
    if (CPU_COUNT(&other) == 0 || sched_setaffinity(0, sizeof other, &other) != 0)
        return 0;
    sched_setaffinity(0, sizeof mask, &mask);
    return 1;
#else
    (void)cpu;
    return 0;
#endif
}

/* Sleep until a job is posted; return its generation to work on it, or -1 (woken for nothing).
 *
 * The OS may run a woken worker on the CPU of the caller that woke it, in the caller's place,
 * even with another CPU idle (seen on virtual machines, where an idle virtual CPU may look
 * taken): both then share one CPU, and when the cores are busy the caller may not get its
 * CPU back for a whole time slice of another process.  Such a worker moves to another CPU it
 * may use (and joins from there), or, where it cannot, stands aside: it sleeps again at once
 * and the caller does the job alone.  (lf_parallel backs off if the caller was held up all
 * the same.) */
static int64_t lf_sleep(void) {
    int64_t gen, skip = -1;
    uint64_t t;
    for (;;) {
        uint32_t posted;
        LF_ADD(&lf_pool.sleepers, 1);
        posted = LF_LOAD(&lf_pool.posted);
        gen = lf_join(skip);
        if (gen < 0)
            lf_wait(&lf_pool.posted, posted);
        LF_ADD(&lf_pool.sleepers, -1);
        if (gen >= 0)
            return gen;
        /* on the CPU of a caller that is still claiming tasks (a job that has ended tells
         * nothing: its caller may have left the CPU since) */
        t = LF_LOAD(&lf_pool.ticket);
        gen = (int64_t)LF_T_GEN(t);
        if (LF_T_NEXT(t) < LF_T_END(t) && gen != skip && LF_LOAD(&lf_pool.caller_cpu) >= 0
                && lf_cpu() == LF_LOAD(&lf_pool.caller_cpu)) {
            if (lf_move_off(LF_LOAD(&lf_pool.caller_cpu))) {
                __atomic_add_fetch(&lf_pool.moved, 1, __ATOMIC_RELAXED);
                return lf_join(-1);
            }
            __atomic_add_fetch(&lf_pool.stood_aside, 1, __ATOMIC_RELAXED);
            skip = gen;
            continue;
        }
        return lf_join(-1);
    }
}

/* A worker's life: spin for a while after each job (calls in a loop come back to back), then
 * sleep until the next. */
static void *lf_worker_main(void *arg) {
    (void)arg;
    for (;;) {
        uint64_t until = lf_now_ns() + LF_WORKER_SPIN_NS;
        unsigned spins = 0;
        int64_t gen;
        /* no spinning while several callers are at work: the cores are theirs */
        if (lf_now_ns() - __atomic_load_n(&lf_pool.contended_at, __ATOMIC_RELAXED)
                < LF_CONTENDED_NS)
            until = 0;
        while ((gen = lf_join(-1)) < 0) {
            LF_PAUSE();
            if (++spins % 64 == 0 && lf_now_ns() >= until) {
                gen = lf_sleep();
                break;
            }
        }
        if (gen >= 0)
            while (lf_run_one((uint32_t)gen, 1))
                ;
    }
    return NULL;
}

static void lf_pool_reset(void) {
    memset(&lf_pool, 0, sizeof lf_pool);
#if !LF_FUTEX
    pthread_mutex_init(&lf_pool.mutex, NULL);
    pthread_cond_init(&lf_pool.cond, NULL);
#endif
}

/* In a forked child the workers do not exist; start afresh (the child is single-threaded). */
static void lf_pool_atfork_child(void) { lf_pool_reset(); }

static pthread_once_t lf_pool_once = PTHREAD_ONCE_INIT;

static void lf_pool_init(void) {
    lf_pool_reset();
    pthread_atfork(NULL, NULL, lf_pool_atfork_child);
}

/* Start workers until there are `want`; returns how many there are. */
static int lf_start_workers(int want) {
    pthread_attr_t attr;
    sigset_t all, old;
    if (want > LF_MAX_WORKERS)
        want = LF_MAX_WORKERS;
    if (lf_pool.n_workers >= want || lf_pool.failed_starts > 0)
        return lf_pool.n_workers;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 1 << 20);     /* the kernels use a few tens of KiB */
    sigfillset(&all);                             /* signals go to the application's threads */
    pthread_sigmask(SIG_SETMASK, &all, &old);
    while (lf_pool.n_workers < want) {
        pthread_t th;
        if (pthread_create(&th, &attr, lf_worker_main, NULL) != 0) {
            lf_pool.failed_starts++;
            break;
        }
#if defined(__linux__) && defined(__GLIBC__) && defined(_GNU_SOURCE)
        {
            char name[32];         /* the kernel keeps 15 characters */
            snprintf(name, sizeof name, "lossfuse-%d", lf_pool.n_workers + 1);
            name[15] = '\0';
            pthread_setname_np(th, name);
        }
#endif
        lf_pool.n_workers++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return lf_pool.n_workers;
}
#endif

/* Run tasks 0 .. n_tasks-1 of `fn` on up to `n_threads` threads, the caller included; return
 * the number of threads that could have joined (1: the caller ran everything inline).  Never
 * fails: without workers (none could be started, the pool is busy, or no threads on this
 * platform) the caller runs every task itself. */
static int lf_parallel(lf_task_fn fn, void *ctx, ptrdiff_t n_tasks, int n_threads) {
    ptrdiff_t i;
#if LF_POOL_THREADS
    uint32_t expected = 0, d;
    int allowed = n_threads - 1, mine = 0;
    uint64_t start, claimed, until, fastest = UINT64_MAX, slowest = 0;
    if (allowed > n_tasks - 1)
        allowed = (int)(n_tasks - 1);
    if (allowed > LF_MAX_WORKERS)
        allowed = LF_MAX_WORKERS;
    if (allowed < 1 || n_tasks > LF_MAX_TASKS)
        goto inline_run;
    pthread_once(&lf_pool_once, lf_pool_init);
    /* Callers in a kernel right now: with others at work the cores are taken, and a worker
     * would only add a stream to share them (and the caches) with. */
    if (LF_ADD(&lf_pool.callers, 1) > 1)
        __atomic_store_n(&lf_pool.contended_at, lf_now_ns(), __ATOMIC_RELAXED);
    else if (__atomic_compare_exchange_n(&lf_pool.busy, &expected, 1, 0, __ATOMIC_ACQUIRE,
                                         __ATOMIC_RELAXED)) {
        start = lf_now_ns();
        if (start < __atomic_load_n(&lf_pool.backoff_until, __ATOMIC_RELAXED))
            allowed = 0;
        else
            allowed = lf_start_workers(allowed) < allowed ? lf_pool.n_workers : allowed;
        if (allowed >= 1) {
            uint32_t gen = ++lf_pool.gen;
            lf_pool.fn = fn;
            lf_pool.ctx = ctx;
            lf_pool.n_tasks = (uint32_t)n_tasks;
            LF_STORE(&lf_pool.caller_cpu, lf_cpu());
            LF_STORE(&lf_pool.done, 0);
            LF_STORE(&lf_pool.caller_sleeps, 0);
            LF_STORE(&lf_pool.ticket, LF_T_MAKE(gen, allowed, n_tasks));
            LF_ADD(&lf_pool.posted, 1);
            if (LF_LOAD(&lf_pool.sleepers))
                lf_wake(&lf_pool.posted, allowed);
            lf_pool.jobs++;
            claimed = start;
            while (lf_run_one(gen, 0)) {         /* the caller's share, each task timed */
                uint64_t now = lf_now_ns();
                fastest = now - claimed < fastest ? now - claimed : fastest;
                slowest = now - claimed > slowest ? now - claimed : slowest;
                claimed = now;
                mine++;
            }
            /* every task is claimed: wait for those a worker is still running */
            until = claimed + LF_CALLER_SPIN_NS;
            for (i = 0; (d = LF_LOAD(&lf_pool.done)) != (uint32_t)n_tasks; i++) {
                LF_PAUSE();
                if (i % 64 == 63 && lf_now_ns() > until) {
                    LF_STORE(&lf_pool.caller_sleeps, 1);
                    if ((d = LF_LOAD(&lf_pool.done)) != (uint32_t)n_tasks)
                        lf_wait(&lf_pool.done, d);
                }
            }
            /* A task of the caller's that took far longer than its fastest one means the
             * caller lost its CPU meanwhile (to the worker it woke, or to other processes);
             * waiting far longer than a task takes means a worker lost its CPU in the middle of
             * one.  Either way the cores are busy, and until the next time slice one thread
             * would have been faster.  Then callers run alone for a while, as fast as one
             * thread, and try the workers again after that; on an idle machine neither
             * happens. */
            if (mine > 0) {
                uint64_t end = lf_now_ns();
                if (slowest > LF_STALL_NS + 2 * fastest
                        || end - claimed > LF_STALL_NS + 2 * fastest)
                    lf_back_off();
            }
            __atomic_store_n(&lf_pool.busy, 0, __ATOMIC_RELEASE);
            LF_ADD(&lf_pool.callers, -1);
            return allowed + 1;
        }
        __atomic_store_n(&lf_pool.busy, 0, __ATOMIC_RELEASE);
    }
    for (i = 0; i < n_tasks; i++)
        fn(ctx, i, NULL, NULL, NULL);
    LF_ADD(&lf_pool.callers, -1);
    return 1;
inline_run:
#else
    (void)n_threads;
#endif
    for (i = 0; i < n_tasks; i++)
        fn(ctx, i, NULL, NULL, NULL);
    return 1;
}

/* Workers started, jobs run with them, tasks the workers ran, failed thread starts, wake-ups
 * on the caller's CPU (moved off it, or left to the caller), times callers went alone for a
 * while, and whether they do now. */
static void lf_pool_info(int *n_workers, uint64_t *jobs, uint64_t *by_workers, int *failed,
                         uint64_t *moved, uint64_t *stood_aside, uint64_t *backoffs,
                         int *backing_off) {
    *n_workers = lf_pool.n_workers;
    *jobs = lf_pool.jobs;
    *by_workers = __atomic_load_n(&lf_pool.tasks_by_workers, __ATOMIC_RELAXED);
    *failed = lf_pool.failed_starts;
    *moved = __atomic_load_n(&lf_pool.moved, __ATOMIC_RELAXED);
    *stood_aside = __atomic_load_n(&lf_pool.stood_aside, __ATOMIC_RELAXED);
    *backoffs = __atomic_load_n(&lf_pool.backoffs, __ATOMIC_RELAXED);
    *backing_off = lf_now_ns() < __atomic_load_n(&lf_pool.backoff_until, __ATOMIC_RELAXED);
}

#endif
