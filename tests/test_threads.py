"""Threads: where the default thread count comes from, the pool's contract (every task once,
nothing waits for a worker that does not come), determinism across thread counts and callers,
and forked children that work like their parents.

Every fork test runs in a subprocess with a timeout, so that a hang fails the test instead of
blocking the suite."""

import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import numpy as np
import pytest

import lossfuse as lf
from lossfuse import _threads
from lossfuse._kernels import _pool as pool

LARGE = 300_000          # several chunks: a parallel call


def _run_python(code: str, timeout: float = 120, env=None) -> str:
    """Run `code` in a fresh interpreter; its stdout, or a failed test (with its stderr) if it
    fails or does not finish within `timeout` seconds."""
    full_env = dict(os.environ, **(env or {}))
    try:
        out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                             text=True, timeout=timeout, env=full_env)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"hung: no result within {timeout} s\n{e.stdout}\n{e.stderr}")
    assert out.returncode == 0, out.stderr
    return out.stdout


# ------------------------------------------------------------------------- the thread count
@pytest.fixture
def clean_default():
    _threads.set_num_threads(None)
    yield
    _threads.set_num_threads(None)


def test_explicit_argument_wins(clean_default):
    lf.set_num_threads(3)
    with lf.threads(2):
        assert _threads.resolve(5) == 5
        assert _threads.resolve(None) == 2
    assert _threads.resolve(None) == 3


def test_set_num_threads_is_process_wide_and_none_restores_the_automatic_default(
        clean_default):
    automatic = lf.get_num_threads()
    lf.set_num_threads(7)
    assert lf.get_num_threads() == 7
    seen = []
    t = threading.Thread(target=lambda: seen.append(lf.get_num_threads()))
    t.start()
    t.join()
    assert seen == [7]
    lf.set_num_threads(None)
    assert lf.get_num_threads() == automatic


def test_context_manager_nests_restores_and_belongs_to_its_thread(clean_default):
    lf.set_num_threads(4)
    seen = []
    with lf.threads(2) as n:
        assert n == 2 and lf.get_num_threads() == 2
        with lf.threads(1):
            assert lf.get_num_threads() == 1
            t = threading.Thread(target=lambda: seen.append(lf.get_num_threads()))
            t.start()
            t.join()
        assert lf.get_num_threads() == 2
    assert lf.get_num_threads() == 4
    assert seen == [4]                       # another thread keeps the process default
    with pytest.raises(RuntimeError), lf.threads(3):
        raise RuntimeError                   # an exception leaves the block restored
    assert lf.get_num_threads() == 4


@pytest.mark.parametrize("bad, exc", [(0, ValueError), (-2, ValueError), (1.5, TypeError),
                                      (True, TypeError), ("2", TypeError)])
def test_bad_counts_are_refused_with_the_argument_named(bad, exc, clean_default):
    with pytest.raises(exc, match="^n must"):
        lf.set_num_threads(bad)
    with pytest.raises(exc, match="^n must"), lf.threads(bad):
        pass
    with pytest.raises(exc, match="n_threads"):
        lf.get_loss("mse").loss(np.zeros(3), np.ones(3), n_threads=bad)
    assert lf.get_num_threads() >= 1


def test_huge_counts_are_clipped():
    assert _threads.resolve(10**12) == _threads.MAX_THREADS == pool.MAX_THREADS


@pytest.mark.parametrize("environ, expected", [
    ({"LOSSFUSE_NUM_THREADS": "3", "OMP_NUM_THREADS": "5"}, 3),
    ({"OMP_NUM_THREADS": "5"}, 5),
    ({"OMP_NUM_THREADS": "4,2"}, 4),                  # OpenMP's nested list: the outer level
    ({"LOSSFUSE_NUM_THREADS": " 6 "}, 6),
    ({"LOSSFUSE_NUM_THREADS": "", "OMP_NUM_THREADS": "2"}, 2),
])
def test_environment_variables(environ, expected):
    assert _threads.default_threads(environ) == expected


@pytest.mark.parametrize("value", ["zero", "0", "-1", "1.5"])
def test_invalid_environment_values_are_skipped_with_a_warning(value):
    with pytest.warns(RuntimeWarning, match="LOSSFUSE_NUM_THREADS"):
        assert _threads.default_threads({"LOSSFUSE_NUM_THREADS": value,
                                         "OMP_NUM_THREADS": "3"}) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _threads.default_threads({"OMP_NUM_THREADS": value}) \
            == _threads.available_cpus()


def test_environment_variables_reach_a_new_process():
    code = "import lossfuse as lf; print(lf.get_num_threads())"
    env = {k: v for k, v in os.environ.items()
           if k not in ("LOSSFUSE_NUM_THREADS", "OMP_NUM_THREADS")}
    for extra, expected in [({"LOSSFUSE_NUM_THREADS": "3", "OMP_NUM_THREADS": "5"}, "3"),
                            ({"OMP_NUM_THREADS": "5"}, "5")]:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=dict(env, **extra), timeout=60)
        assert out.stdout.strip() == expected, out.stderr


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no affinity masks here")
def test_affinity_mask_bounds_the_default():
    cpu = sorted(os.sched_getaffinity(0))[0]
    env = {k: v for k, v in os.environ.items()
           if k not in ("LOSSFUSE_NUM_THREADS", "OMP_NUM_THREADS")}
    code = f"""
        import os
        os.sched_setaffinity(0, {{{cpu}}})
        import lossfuse as lf
        print(lf.get_num_threads())
    """
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, env=env, timeout=60)
    assert out.stdout.strip() == "1", out.stderr


def _fake_tree(tmp_path, cgroup, mountinfo, files):
    """A fake /proc/self/{cgroup,mountinfo} and cgroup file system under tmp_path."""
    proc = tmp_path / "proc" / "self"
    proc.mkdir(parents=True)
    (proc / "cgroup").write_text(cgroup)
    (proc / "mountinfo").write_text(mountinfo)
    for path, text in files.items():
        f = tmp_path / path
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
    return str(tmp_path)


V2_MOUNT = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
V1_MOUNTS = ("31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
             "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
             "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n")


def test_cgroup_v2_quota(tmp_path):
    root = _fake_tree(tmp_path, "0::/kubepods/pod1/box\n", V2_MOUNT, {
        "sys/fs/cgroup/kubepods/pod1/box/cpu.max": "250000 100000\n",
        "sys/fs/cgroup/kubepods/pod1/cpu.max": "max 100000\n",
        "sys/fs/cgroup/kubepods/cpu.max": "max 100000\n"})
    assert _threads.cgroup_cpu_quota(root) == 2.5
    assert _threads.available_cpus(root) == min(2, _threads.available_cpus())


def test_cgroup_v2_an_ancestor_limits_too(tmp_path):
    root = _fake_tree(tmp_path, "0::/a/b\n", V2_MOUNT, {
        "sys/fs/cgroup/a/b/cpu.max": "max 100000\n",
        "sys/fs/cgroup/a/cpu.max": "50000 100000\n"})
    assert _threads.cgroup_cpu_quota(root) == 0.5
    assert _threads.available_cpus(root) == 1           # rounded down, at least 1


def test_cgroup_v2_inside_a_container_namespace(tmp_path):
    # the process sees the host's path of its cgroup, but the mount is the cgroup itself
    root = _fake_tree(tmp_path, "0::/system.slice/docker-abc.scope\n", V2_MOUNT, {
        "sys/fs/cgroup/cpu.max": "200000 100000\n"})
    assert _threads.cgroup_cpu_quota(root) == 2.0


def test_cgroup_v1_quota(tmp_path):
    root = _fake_tree(tmp_path, "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/\n",
                      V1_MOUNTS, {
                          "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "150000\n",
                          "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
                          "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
                          "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n"})
    assert _threads.cgroup_cpu_quota(root) == 1.5
    assert _threads.available_cpus(root) == 1


def test_cgroup_without_a_quota(tmp_path):
    root = _fake_tree(tmp_path, "0::/user.slice\n", V2_MOUNT, {
        "sys/fs/cgroup/user.slice/cpu.max": "max 100000\n"})
    assert _threads.cgroup_cpu_quota(root) is None
    assert _threads.available_cpus(root) == _threads.available_cpus(str(tmp_path / "none"))
    assert _threads.cgroup_cpu_quota(str(tmp_path / "nothing here")) is None


def test_this_machine():
    quota = _threads.cgroup_cpu_quota()
    assert quota is None or quota > 0
    assert 1 <= _threads.available_cpus() <= (os.cpu_count() or 1)


# -------------------------------------------------------------------------------- the pool
@pytest.mark.parametrize("n_threads", [1, 2, 3, 8, 300])
@pytest.mark.parametrize("n_tasks", [0, 1, 2, 7, 256, 4095, 4096])
def test_every_task_runs_exactly_once(n_tasks, n_threads):
    for spin_ns in (0, 2000):
        done, _ = pool._run_tasks(n_tasks, n_threads, spin_ns)
        assert done == list(range(1, n_tasks + 1))


def _settle():
    """Wait until callers use workers again (after earlier tests kept the cores busy, e.g.
    with more threads than CPUs, they go alone for a while)."""
    deadline = time.monotonic() + 5
    while pool.pool_info()["backing_off"] and time.monotonic() < deadline:
        time.sleep(0.01)


def test_workers_do_run_tasks():
    out = _run_python("""
        from lossfuse._kernels import _pool as pool
        for _ in range(200):                 # 64 tasks of 10 us each: 0.13 s in all
            pool._run_tasks(64, 2, 10_000)
        info = pool.pool_info()
        assert info["workers"] == 1 and info["failed_starts"] == 0, info
        print(info["tasks_by_workers"])
    """)
    assert int(out) > 0


def test_small_inputs_never_touch_the_pool():
    y, p = np.zeros(65_535), np.ones(65_535)
    loss = lf.get_loss("mse")
    jobs = pool.pool_info()["jobs"]
    for _ in range(20):
        loss.loss_gradient(y, p)
        loss.loss(y, p, n_threads=8)
    assert pool.pool_info()["jobs"] == jobs


def test_large_inputs_use_the_pool():
    y, p = np.zeros(LARGE), np.ones(LARGE)
    _settle()
    jobs = pool.pool_info()["jobs"]
    lf.get_loss("mse").loss_gradient(y, p, n_threads=2)
    assert pool.pool_info()["jobs"] == jobs + 1
    with lf.threads(1):
        lf.get_loss("mse").loss_gradient(y, p)
    assert pool.pool_info()["jobs"] == jobs + 1


# ------------------------------------------------------------------------------ determinism
def _work(seed=0, n=LARGE):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype(np.float64)
    p = rng.normal(0, 2, n)
    return y, p


def _results(n_threads=None):
    y, p = _work()
    bce = lf.get_loss("binary_cross_entropy")
    v, g = bce.loss_gradient(y, p, n_threads=n_threads)
    logits = p[:200_000].reshape(-1, 10)
    labels = (y[:20_000] * 7).astype(np.int64)
    ce_v, ce_g = lf.get_loss("cross_entropy").loss_gradient(labels, logits, n_threads=n_threads)
    return [v, g, ce_v, ce_g, lf.get_loss("poisson").loss(y, p, n_threads=n_threads)]


def _same(a, b):
    return all(np.array_equal(x, z) for x, z in zip(a, b))


@pytest.mark.parametrize("n_threads", [2, 3, 5, 16, 256])
def test_bitwise_identical_for_every_thread_count(n_threads):
    assert _same(_results(1), _results(n_threads))


def test_concurrent_callers_get_the_single_thread_bits():
    want = _results(1)
    errors = []

    def caller(k):
        for _ in range(5):
            got = _results(None if k % 2 else 2)
            if not _same(want, got):
                errors.append(k)

    threads = [threading.Thread(target=caller, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_a_caller_inside_a_busy_pool_runs_inline():
    # another thread holds the pool: this call still finishes, on its own thread, correctly
    want = _results(1)
    stop = threading.Event()
    y, p = _work(1, 5_000_000)

    def hog():
        while not stop.is_set():
            lf.get_loss("log_cosh").loss_gradient(y, p, n_threads=2)

    t = threading.Thread(target=hog)
    t.start()
    try:
        for _ in range(10):
            assert _same(want, _results(2))
    finally:
        stop.set()
        t.join()


# ------------------------------------------------------------------------------------ fork
FORK_PRELUDE = """
    import os, sys, threading, pickle
    import numpy as np, lossfuse as lf
    from lossfuse._kernels import _pool as pool
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400_000).astype(np.float64); p = rng.normal(0, 2, 400_000)
    L = lf.get_loss("binary_cross_entropy")
    def result():
        v, g = L.loss_gradient(y, p, n_threads=2)
        return v, g.tobytes()
    parent = result()                      # the parent has run multi-threaded calls
    assert pool.pool_info()["workers"] >= 1

    def in_child(fn):
        # run fn() in a forked child; True if it returned the parent's bits
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                ok = fn()
            except BaseException:
                ok = False
            os.write(w, b"1" if ok else b"0")
            os._exit(0)
        os.close(w)
        got = os.read(r, 1)
        os.close(r)
        os.waitpid(pid, 0)
        return got == b"1"

    def child_matches():
        before = pool.pool_info()["workers"]        # 0: the parent's workers are not here
        ok = before == 0 and all(result() == parent for _ in range(3))
        return ok and pool.pool_info()["workers"] >= 1     # threaded again
"""


def _fork_test(body: str) -> None:
    out = _run_python(textwrap.dedent(FORK_PRELUDE) + textwrap.dedent(body), timeout=120)
    assert out.strip().endswith("OK"), out


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_fork_after_threaded_calls():
    _fork_test("""
        assert in_child(child_matches)
        assert result() == parent           # and the parent's pool still works
        print("OK")
    """)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_multiprocessing_pool_with_fork():
    _fork_test("""
        import multiprocessing as mp
        def task(k):
            return result() == parent and pool.pool_info()["workers"] >= 1
        with mp.get_context("fork").Pool(2) as procs:
            assert all(procs.map(task, range(8)))
        print("OK")
    """)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_fork_from_a_non_main_thread():
    _fork_test("""
        box = []
        t = threading.Thread(target=lambda: box.append(in_child(child_matches)))
        t.start(); t.join()
        assert box == [True]
        print("OK")
    """)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_fork_while_another_thread_is_inside_a_kernel():
    _fork_test("""
        import warnings
        warnings.simplefilter("ignore", DeprecationWarning)   # 3.12+: fork with threads
        big_y, big_p = np.zeros(20_000_000), np.ones(20_000_000)
        stop = threading.Event()
        inside = threading.Event()
        def busy():
            while not stop.is_set():
                inside.set()
                lf.get_loss("log_cosh").loss_gradient(big_y, big_p, n_threads=2)
        t = threading.Thread(target=busy)
        t.start()
        inside.wait()
        try:
            results = [in_child(child_matches) for _ in range(10)]
        finally:
            stop.set(); t.join()
        assert all(results), results
        print("OK")
    """)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_fork_of_a_fork():
    _fork_test("""
        def grandchild():
            return child_matches() and in_child(child_matches) and result() == parent
        assert in_child(grandchild)
        print("OK")
    """)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_fork_in_cross_entropy_and_metrics():
    _fork_test("""
        from lossfuse import metrics
        logits = p[:300_000].reshape(-1, 3)
        labels = (y[:100_000] * 2).astype(np.int64)
        CE = lf.get_loss("cross_entropy")
        def both():
            v, g = CE.loss_gradient(labels, logits, n_threads=2)
            return v, g.tobytes(), metrics.mean_squared_error(y, p)
        want = both()
        assert in_child(lambda: both() == want and both() == want)
        print("OK")
    """)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no affinity masks here")
def test_more_threads_than_cpus_on_one_cpu():
    # every worker shares the caller's only CPU: calls finish and give the one-thread bits
    cpu = sorted(os.sched_getaffinity(0))[0]
    out = _run_python(f"""
        import os
        os.sched_setaffinity(0, {{{cpu}}})
        import numpy as np, lossfuse as lf
        from lossfuse._kernels import _pool as pool
        rng = np.random.default_rng(0)
        y = rng.integers(0, 2, 1_000_000).astype(np.float64); p = rng.normal(0, 2, 1_000_000)
        L = lf.get_loss("binary_cross_entropy")
        v1, g1 = L.loss_gradient(y, p, n_threads=1)
        for nt in (2, 4) * 50:
            v, g = L.loss_gradient(y, p, n_threads=nt)
            assert v == v1 and np.array_equal(g, g1)
        print("OK", pool.pool_info())
    """, timeout=120)
    assert out.startswith("OK"), out


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_metrics_after_fork_give_the_parents_bits():
    """lossfuse.metrics' one-pass kernels (the moments of R^2, the largest error, the
    logarithmic error, the checked multiclass rows, the deviances) in a forked child of a
    parent that ran them threaded."""
    _fork_test("""
        from lossfuse import metrics
        lf.set_num_threads(2)               # whatever the environment says: threaded calls
        yy = 1e6 + rng.normal(0, 1, 300_000); pp = yy + rng.normal(0, 0.5, 300_000)
        cls = np.arange(300_000) % 5; q = rng.dirichlet(np.ones(5), 300_000)
        sc = rng.normal(0, 1, (300_000, 5))
        cnt = rng.poisson(2.0, 300_000).astype(float); mu = rng.uniform(0.5, 4, 300_000)
        def scores():
            return (metrics.r2_score(yy, pp), metrics.explained_variance_score(yy, pp),
                    metrics.max_error(yy, pp), metrics.mean_squared_log_error(yy, pp),
                    metrics.brier_score_loss(cls, q), metrics.hinge_loss(cls, sc),
                    metrics.mean_poisson_deviance(cnt, mu),
                    metrics.d2_tweedie_score(cnt, mu, power=1.5))
        mine = scores()
        assert in_child(lambda: scores() == mine and pool.pool_info()["workers"] >= 1)
        assert scores() == mine
        print("OK")
    """)
