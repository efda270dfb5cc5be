"""bench/peers.py: every peer computes lossfuse's mean loss and gradient (the check the script
runs before timing, here at small n), the check catches a peer that computes something else,
and the command line works end to end (a --quick run: a row per case).  No timing is
asserted."""

import importlib.util
import json
import pathlib

import numpy as np
import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "bench" / "peers.py"
_spec = importlib.util.spec_from_file_location("peers", SCRIPT)
peers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(peers)

ELEMENTWISE = [name for name in peers.LOSSES if name != "cross_entropy"]
CASES = ([(name, 1000, 1) for name in ELEMENTWISE]
         + [("cross_entropy", 200, 10), ("cross_entropy", 20, 1000)])
MODULES = {"jax": "jax", "torch": "torch", "sklearn": "sklearn", "numba": "numba"}


@pytest.fixture(scope="module", autouse=True)
def jax_x64():
    """JAX in float64 as the script starts it (and torch's thread count put back after)."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def peer_candidates(peer, name, dtype, n, K, threads=1):
    if peer in MODULES:
        pytest.importorskip(MODULES[peer])
    cands = peers.candidates(name, dtype, n, K, threads, peers=("lossfuse", peer))
    assert peer in cands                       # every peer has every case of the benchmark
    return cands


@pytest.mark.parametrize("peer", list(MODULES) + ["numpy"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, n, K", CASES)
def test_every_peer_computes_lossfuses_loss_and_gradient(peer, name, n, K, dtype):
    peers.check(name, dtype, peer_candidates(peer, name, dtype, n, K),
                peers.ties(name, dtype, n, K))


@pytest.mark.parametrize("peer", ["numba", "sklearn"])
@pytest.mark.parametrize("name", ["huber", "poisson", "cross_entropy"])
def test_the_parallel_peers_compute_the_same_on_two_threads(peer, name):
    n, K = (200, 10) if name == "cross_entropy" else (1000, 1)
    peers.check(name, "float64", peer_candidates(peer, name, "float64", n, K, threads=2))


@pytest.mark.parametrize("peer", list(MODULES) + ["numpy"])
def test_the_results_are_scaled_as_lossfuse_defines_them(peer):
    """From first principles: poisson's deviance keeps its terms in y, and the gradient is the
    per-sample one over n, in every candidate's result."""
    y, p = peers._problem("poisson", np.dtype("float64"), 1000)
    mu = np.exp(p)
    ylogy = y * np.log(np.where(y > 0, y, 1))
    want = np.mean(2 * (ylogy - y * p - y + mu)), 2 * (mu - y) / y.size
    for who, (_, result) in peer_candidates(peer, "poisson", "float64", 1000, 1).items():
        value, grad = result()
        assert value == pytest.approx(want[0], rel=1e-12), who
        np.testing.assert_allclose(grad, want[1], rtol=1e-12, atol=0, err_msg=who)


# ---------------------------------------------------------------------- the check has teeth
def lossfuse_and(name, result, n=1000):
    cands = peers.candidates(name, "float64", n, peers=("lossfuse",))
    cands["other"] = (None, result)
    return cands


@pytest.mark.parametrize("what, result", [
    ("loss", lambda v, g: (v * (1 + 1e-8), g)),
    ("loss", lambda v, g: (float("nan"), g)),
    ("gradient", lambda v, g: (v, g * len(g))),                   # not divided by n
    ("gradient", lambda v, g: (v, np.where(np.arange(len(g)) == 7, -g, g))),   # one element
    ("gradient", lambda v, g: (v, g[:-1])),
])
def test_the_check_stops_a_peer_computing_something_else(what, result):
    cands = peers.candidates("gamma", "float64", 1000, peers=("lossfuse",))
    value, grad = cands["lossfuse"][1]()
    cands["other"] = (None, lambda: result(value, grad.copy()))
    with pytest.raises(peers.Mismatch, match=f"other.* gamma {what}"):
        peers.check("gamma", "float64", cands)


def test_the_check_stops_torchs_poisson_nll_loss_and_sklearns_unscaled_half_loss():
    """The tempting peers that compute another quantity: PyTorch's poisson_nll_loss lacks the
    deviance's terms in y and its factor 2; scikit-learn's half loss taken as it is."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    import torch.nn.functional as F
    y, p = peers._problem("poisson", np.dtype("float64"), 1000)
    x, t = torch.tensor(p, requires_grad=True), torch.tensor(y)

    def nll():
        v = F.poisson_nll_loss(x, t, log_input=True, full=True)
        x.grad = None
        v.backward()
        return v.item(), x.grad.numpy().copy()
    with pytest.raises(peers.Mismatch, match="poisson loss"):
        peers.check("poisson", "float64", lossfuse_and("poisson", nll))
    half, _, _ = peers._sklearn_loss("poisson", 1)

    def unscaled():
        return float(np.mean(half.loss(y, p))), half.gradient(y, p) / len(p)
    with pytest.raises(peers.Mismatch, match="poisson loss"):
        peers.check("poisson", "float64", lossfuse_and("poisson", unscaled))


def test_only_the_kinks_may_differ():
    """At y == p scikit-learn's subgradient of absolute_error is -1, lossfuse's 0: the check
    passes over the elements `ties` marks, and only those."""
    pytest.importorskip("sklearn")
    y, p = peers._problem("absolute_error", np.dtype("float64"), 1000)
    kinks = peers.ties("absolute_error", "float64", 1000)
    assert kinks.shape == p.shape and not kinks.any()      # random data: no ties
    assert peers.ties("cross_entropy", "float64", 200, 10) is None
    skl, _, _ = peers._sklearn_loss("absolute_error", 1)
    assert skl.gradient(p[:1], p[:1])[0] == -1              # scikit-learn's convention ...
    assert peers.lf.get_loss("absolute_error").gradient(p[:1], p[:1])[0] == 0   # ... ours

    value, grad = peers.candidates("absolute_error", "float64", 1000,
                                   peers=("lossfuse",))["lossfuse"][1]()
    i = int(np.argmax(grad > 0))
    other = grad.copy()
    other[i] = -1 / len(p)                                  # as if y[i] == p[i]
    cands = lossfuse_and("absolute_error", lambda: (value, other))
    kinks[i] = True
    peers.check("absolute_error", "float64", cands, kinks)
    with pytest.raises(peers.Mismatch, match=f"element {i} "):
        peers.check("absolute_error", "float64", cands)


# ---------------------------------------------------------------------- the command line
@pytest.fixture
def run(capsys):
    def run(*argv):
        code = peers.main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err
    return run


def table_rows(out):
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("---")) + 1
    return [line.split() for line in lines[start:]]


def test_quick_run_prints_a_row_per_case_and_saves_them(run, tmp_path):
    path = tmp_path / "peers.json"
    code, out, err = run("--quick", "--json", str(path))
    assert code == 0, err
    rows = table_rows(out)
    want = [(name, dt) for name in peers.LOSSES for dt in ("f32", "f64")]
    assert [tuple(r[:2]) for r in rows] == want
    assert max(len(line) for line in out.splitlines()) <= 120
    for r in rows:                      # every candidate timed, one of the peers the best
        assert len(r) == 3 + len(peers.COLUMNS) + 4 and "-" not in r
        assert sum(cell.endswith("*") for cell in r) == 1
    saved = json.loads(path.read_text())
    assert len(saved["results"]) == len(want)
    assert set(saved["results"][0]["seconds"]) == set(peers.CANDIDATES)
    assert saved["machine"]["versions"]["numpy"] == np.__version__
    assert saved["machine"]["threads"] == 1


def test_a_missing_package_is_left_out_with_a_note(run, monkeypatch):
    installed = peers.installed
    monkeypatch.setattr(peers, "installed", lambda peer: peer != "jax" and installed(peer))
    code, out, err = run("--quick", "--losses", "huber", "--dtypes", "float64")
    assert code == 0, err
    assert "# left out: jax (pip install jax)" in out
    (r,) = table_rows(out)
    assert r[4] == "-" and sum(cell.endswith("*") for cell in r) == 1


def test_a_peer_computing_something_else_stops_the_run(run, monkeypatch):
    monkeypatch.setitem(peers.EXPRESSIONS, "squared_error",
                        lambda m, y, p: m.sum((p - y) ** 2))
    code, out, err = run("--quick", "--losses", "squared_error", "--dtypes", "float64")
    assert code == 1
    assert "jax computes another squared_error loss" in err and "Traceback" not in err
    assert table_rows(out) == []


@pytest.mark.parametrize("argv, names", [
    (["--threads", "0"], "--threads"), (["--threads", "two"], "--threads"),
    (["--threads", "-1"], "--threads"),
    (["--sizes", "0"], "--sizes"), (["--sizes", "1.5"], "--sizes"), (["--sizes", "x"], "--sizes"),
    (["--sizes", "inf"], "--sizes"), (["--sizes", "nan"], "--sizes"),
    (["--sizes", "-1e3"], "--sizes"),
    (["--rounds", "0"], "--rounds"), (["--rounds", "2.0"], "--rounds"),
    (["--losses", "mse"], "--losses"), (["--dtypes", "float16"], "--dtypes"),
])
def test_a_bad_command_line_names_the_option(argv, names, capsys):
    with pytest.raises(SystemExit) as e:
        peers.main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert names in err and "Traceback" not in err


def test_threads_all_is_lossfuses_default():
    assert peers._threads("all") == peers.lf.get_num_threads()
    assert peers._threads("3") == 3
    assert peers._whole("--sizes", exponent=True)("1e6") == 1_000_000


@pytest.mark.parametrize("seconds, shown", [
    (9.4e-7, "940ns"), (1.69e-5, "16.9us"), (1.234e-4, "123us"), (0.0123, "12.3ms"),
    (1.5, "1.5s"), (123.4, "123s"),
])
def test_times_fit_their_column(seconds, shown):
    assert peers._fmt_time(seconds) == shown
    assert all(len(peers._fmt_time(s)) <= 6 for s in np.logspace(-9, 2.9, 200))


def test_a_row_fits_120_columns_whatever_the_times():
    seconds = dict.fromkeys(peers.CANDIDATES, 1.23e-4)
    seconds.update({"lossfuse": 9.4e-7, "numba": 0.0081, "sklearn": None})
    r = {"loss": "binary_cross_entropy", "dtype": "float64", "n": 10_000, "classes": 1000,
         "seconds": seconds, "best_peer": "jax", "spread": 1.5}
    for loss in ("binary_cross_entropy", "cross_entropy"):
        line = peers.row(dict(r, loss=loss))
        assert len(line) <= 120 and len(line) == len(peers.HEAD), line
        assert line.split()[3:] == ["940ns", "123us*", "123us", "-", "8.1ms", "123us", "123us",
                                    "131", "131", "8617", "1.50"], line
