"""``lossfuse bench --plot``: the figure's panels, series, references and legend, read back
from the matplotlib objects, on synthetic runs with the keys and the structure of real ones
(every loss, op and dtype; sizes 16 to 1e6; a row on N threads from n = 1000; cross_entropy
as n x K)."""

import copy
import colorsys
import math
import statistics

import numpy as np
import pytest

from lossfuse import _bench

mpl = pytest.importorskip("matplotlib")

from lossfuse import _bench_plot  # noqa: E402  (after the skip: the module needs matplotlib)
from lossfuse._bench_plot import check_plot, figure, machine_title, plot  # noqa: E402

ELEMENTWISE = [loss for loss in _bench.LOSSES if loss != "cross_entropy"]
ARRAYS = {"loss": 2, "gradient": 3, "loss_gradient": 3, "gradient_hessian": 4}  # moved per call
MACHINE = {"cpu": "AMD EPYC", "cores": 2, "isa": "avx512", "numpy": "2.4.6",
           "lossfuse": "0.1.0", "python": "3.11.7"}


def row(loss, op, dtype, n, threads=1, classes=1, rng=None):
    """A result row with every key of a saved run's (schema 2), its times made up but
    consistent: gb_per_s is the bytes the op moves over seconds, the ratios are of the times."""
    rng = rng or np.random.default_rng(abs(hash((loss, op, dtype, n, threads, classes))))
    moved = ARRAYS[op] * np.dtype(dtype).itemsize * n * classes
    seconds, numpy_s, add_s = (float(moved / (g * 1e9)) for g in
                               (rng.uniform(1, 100), rng.uniform(0.1, 5), rng.uniform(20, 60)))
    base = None if n <= 16 or threads > 1 else seconds * rng.uniform(1, 2)
    return {"loss": loss, "family": _bench.family(loss), "op": op, "dtype": dtype, "n": n,
            "classes": classes, "threads": threads, "seconds": seconds,
            "numpy_seconds": numpy_s, "add_seconds": add_s,
            "speedup_vs_numpy": numpy_s / seconds, "fraction_of_add": add_s / seconds,
            "gb_per_s": moved / seconds / 1e9, "spread": 0.02, "baseline_seconds": base,
            "baseline_isa": "avx2", "dispatch_speedup": base and base / seconds,
            "thread_speedup": None,
            "samples": {"seconds": [seconds] * 5, "speedup_vs_numpy": [numpy_s / seconds] * 5}}


def run(losses=ELEMENTWISE + ["cross_entropy"], ops=tuple(ARRAYS), dtypes=("float32", "float64"),
        sizes=(16, 1000, 100_000, 1_000_000), threads=2, ks=(10,), ce_sizes=(16, 1000)):
    """The rows of a run as `lossfuse bench` makes them: every case on one thread, and on
    `threads` threads from n = 1000 (never at n <= 16)."""
    rows = []
    for loss in losses:
        shapes = ([(n, k) for n in ce_sizes for k in ks] if loss == "cross_entropy"
                  else [(n, 1) for n in sizes])
        for op in ops:
            for dtype in dtypes:
                for n, k in shapes:
                    one = row(loss, op, dtype, n, 1, k)
                    rows.append(one)
                    if threads > 1 and n > 16:      # NumPy and np.add: those of one thread
                        rows.append(dict(row(loss, op, dtype, n, threads, k),
                                         numpy_seconds=one["numpy_seconds"],
                                         add_seconds=one["add_seconds"]))
    return rows


@pytest.fixture(scope="module")
def full():
    """A whole run (every loss, op, dtype, four sizes, two thread counts), in an order of no
    meaning, and its figure."""
    rows = run()
    np.random.default_rng(0).shuffle(rows)
    return rows, figure(rows, title="a run")


# -------------------------------------------------------------------------------- helpers
def legend_texts(fig):
    (legend,) = [lg for sub in fig.subfigs for lg in sub.legends]
    return [t.get_text() for t in legend.get_texts()]


def lines(ax, gid):
    return [ln for ln in ax.get_lines() if ln.get_gid() == gid]


def series_of(rows):
    """The lines the rows of one panel make: label -> the rows' gb_per_s in order of n."""
    out = {}
    for r in sorted(rows, key=lambda r: r["n"]):
        name = r["loss"] if r["classes"] == 1 else f"{r['loss']} (K={r['classes']})"
        thr = f"{r['threads']} thread" + ("s" if r["threads"] > 1 else "")
        out.setdefault(f"{name}, {r['dtype']}, {thr}", []).append(r["gb_per_s"])
    return out


def band_at(collection, sizes):
    """The lowest and highest y of a shaded band at each of `sizes`."""
    v = collection.get_paths()[0].vertices
    return np.array([[v[v[:, 0] == x, 1].min() for x in sizes],
                     [v[v[:, 0] == x, 1].max() for x in sizes]])


def panels(fig):
    """(title, axes) of every panel of the figure."""
    return [(ax.get_title(), ax) for ax in fig.axes]


def rows_of(rows, title):
    """The rows the panel of `title` draws."""
    op, _, ce = title.partition(" (")
    return [r for r in rows if r["op"] == op and (r["loss"] == "cross_entropy") == bool(ce)]


# ------------------------------------------------------------------------- the whole run
def test_a_panel_per_op_and_cross_entropy_in_a_row_of_its_own(full):
    rows, fig = full
    titles = [t for t, _ in panels(fig)]
    assert titles == list(ARRAYS) + [f"{op} (cross_entropy)" for op in ARRAYS]
    for title, ax in panels(fig):
        drawn = {ln.get_label().split(",")[0] for ln in lines(ax, "lossfuse")}
        if "cross_entropy" in title:
            assert drawn == {"cross_entropy (K=10)"}
            assert ax.get_xlabel() == "n (rows of n x K)"
        else:
            assert drawn == set(ELEMENTWISE)
            assert ax.get_xlabel() == "n (elements)"
        assert ax.get_xscale() == ax.get_yscale() == "log"
    assert all("GB/s" in ax.get_ylabel() for ax in fig.axes[::4])
    assert fig._suptitle.get_text().startswith("a run\n")


def test_every_series_is_one_line_of_its_own_rows_in_order_of_n(full):
    """No zig-zag: a line joins the sizes of one (loss, op, dtype, threads), increasing in
    n, and its points are exactly those rows' throughputs."""
    rows, fig = full
    for title, ax in panels(fig):
        want = series_of(rows_of(rows, title))
        got = {ln.get_label(): ln for ln in lines(ax, "lossfuse")}
        assert set(got) == set(want) and len(lines(ax, "lossfuse")) == len(want)
        for label, ln in got.items():
            x = np.asarray(ln.get_xdata(), float)
            assert np.all(np.diff(x) > 0), label
            np.testing.assert_array_equal(ln.get_ydata(), want[label])


def test_the_legend_names_every_series_and_the_references(full):
    rows, fig = full
    texts = legend_texts(fig)
    for _, ax in panels(fig):
        for ln in lines(ax, "lossfuse"):
            name, dtype, threads = ln.get_label().split(", ")
            assert {name, dtype, threads} <= set(texts), ln.get_label()
    assert {"float32", "float64", "1 thread", "2 threads"} <= set(texts)
    assert _bench_plot.NP_ADD in texts and _bench_plot.NUMPY in texts
    assert {r["loss"] for r in rows} - {"cross_entropy"} <= set(texts)
    assert "cross_entropy (K=10)" in texts


def test_dtype_is_the_line_style_threads_the_marker_and_the_family_the_hue(full):
    _, fig = full
    ax = fig.axes[0]
    colour = {}
    for ln in lines(ax, "lossfuse"):
        name, dtype, threads = ln.get_label().split(", ")
        assert ln.get_linestyle() == {"float32": "-", "float64": "--"}[dtype]
        assert ln.get_marker() == {"1 thread": "o", "2 threads": "^"}[threads]
        assert (ln.get_markerfacecolor() == "none") == (threads == "2 threads")
        colour.setdefault(name, set()).add(ln.get_color())
    assert all(len(c) == 1 for c in colour.values())          # one colour per loss
    colour = {name: c.pop() for name, c in colour.items()}
    assert len(set(colour.values())) == len(colour)            # and a different one each
    hue = {name: colorsys.rgb_to_hls(*mpl.colors.to_rgb(c))[0] for name, c in colour.items()}
    by_family = {}
    for name, h in hue.items():
        by_family.setdefault(_bench.family(name), []).append(h)
    spans = [(min(h), max(h)) for h in by_family.values()]
    for i, (lo, hi) in enumerate(spans):           # the families' hues do not overlap
        assert hi - lo < 0.2
        assert all(hi < lo2 or hi2 < lo for lo2, hi2 in spans[i + 1:])


def test_the_references_are_np_add_and_numpy_on_the_same_data(full):
    """Per dtype: np.add's throughput (the op's bytes over add_seconds, the median over the
    losses) and NumPy's median with its range shaded, at every size of the panel."""
    rows, fig = full
    for title, ax in panels(fig):
        mine = rows_of(rows, title)
        for dtype, style in (("float32", "-"), ("float64", "--")):
            at = [r for r in mine if r["dtype"] == dtype and r["threads"] == 1]
            sizes = sorted({r["n"] for r in at})
            moved = {id(r): r["gb_per_s"] * r["seconds"] for r in at}
            add = [statistics.median(moved[id(r)] / r["add_seconds"] for r in at if r["n"] == n)
                   for n in sizes]
            numpy = [[moved[id(r)] / r["numpy_seconds"] for r in at if r["n"] == n]
                     for n in sizes]
            (a,) = [ln for ln in lines(ax, "np.add") if ln.get_linestyle() == style]
            (m,) = [ln for ln in lines(ax, "numpy") if ln.get_linestyle() == style]
            np.testing.assert_allclose(a.get_xdata(), sizes)
            np.testing.assert_allclose(a.get_ydata(), add, rtol=1e-12)
            np.testing.assert_allclose(m.get_ydata(), [statistics.median(v) for v in numpy],
                                       rtol=1e-12)
            bands = [band_at(c, sizes) for c in ax.collections]
            want = np.array([[min(v) for v in numpy], [max(v) for v in numpy]])
            assert any(np.allclose(got, want, rtol=1e-12) for got in bands), title


def test_the_references_count_a_loss_once_at_its_fewest_threads():
    """A row on N threads whose NumPy and np.add times differ from its one-thread row's (a
    hand-made file) does not move the references: they are one-thread times."""
    rows = run(losses=["huber"], ops=["loss"], dtypes=("float64",), sizes=(1000, 10_000))
    one = {r["n"]: r for r in rows if r["threads"] == 1}
    for r in rows:
        if r["threads"] == 2:
            r.update(numpy_seconds=r["numpy_seconds"] / 7, add_seconds=r["add_seconds"] * 3)
    (ax,) = figure(rows).axes
    (a,) = lines(ax, "np.add")
    (m,) = lines(ax, "numpy")
    moved = [one[n]["gb_per_s"] * one[n]["seconds"] for n in (1000, 10_000)]
    np.testing.assert_allclose(a.get_ydata(), [b / one[n]["add_seconds"]
                                               for b, n in zip(moved, (1000, 10_000))])
    np.testing.assert_allclose(m.get_ydata(), [b / one[n]["numpy_seconds"]
                                               for b, n in zip(moved, (1000, 10_000))])


# ------------------------------------------------------------------------------ the file
def test_the_png_is_at_least_1200_pixels_wide_and_plot_returns_the_figure(tmp_path):
    path = tmp_path / "speed.png"
    rows = run(losses=["huber", "poisson"], ops=["loss_gradient"], sizes=(1000,))
    fig = plot(rows, str(path))
    image = mpl.image.imread(str(path))
    assert image.shape[1] >= 1200 and image.shape[1] == fig.get_size_inches()[0] * fig.dpi
    assert {"huber", "poisson"} <= set(legend_texts(fig))


@pytest.mark.parametrize("suffix", [".svg", ".pdf"])
def test_other_file_types_matplotlib_writes(tmp_path, suffix):
    path = tmp_path / ("speed" + suffix)
    plot(run(losses=["huber"], ops=["loss"], sizes=(1000,)), str(path))
    assert path.stat().st_size > 0


@pytest.mark.parametrize("name", ["speed.xyz", "speed.PNGX", "dir/speed.doc"])
def test_an_unsupported_suffix_is_a_value_error_before_anything_is_drawn(tmp_path, name):
    path = tmp_path / name
    with pytest.raises(ValueError, match=r"matplotlib does not write \.\w+ files; it writes "
                                         r".*\.png"):
        check_plot(str(path))
    with pytest.raises(ValueError, match="does not write"):
        plot(run(losses=["huber"], ops=["loss"], sizes=(1000,)), str(path))
    assert not path.exists()


# ---------------------------------------------------------------------- one size, parts
@pytest.mark.parametrize("threads", [1, 2])
def test_one_size_spreads_the_series_along_x_by_dtype(threads):
    """With a single n, no vertical smear: every series at an x of its own, float32's left
    of float64's, each dtype's references across its share, the ticks naming n and dtype."""
    rows = run(sizes=(1000,), ce_sizes=(1000,), threads=threads)
    fig = figure(rows)
    for title, ax in panels(fig):
        lo, hi = ax.get_xlim()
        xs = {}
        for ln in lines(ax, "lossfuse"):
            (x,) = ln.get_xdata()
            xs.setdefault(ln.get_label().split(", ")[1], []).append(x)
        every = sum(xs.values(), [])
        assert len(set(every)) == len(every) == len(series_of(rows_of(rows, title)))
        assert lo < min(every) and max(every) < hi and lo < 1000 < hi
        assert max(xs["float32"]) < min(xs["float64"])
        for dtype, style in (("float32", "-"), ("float64", "--")):
            for ref in [ln for ln in ax.get_lines() if ln.get_gid() in ("np.add", "numpy")
                        and ln.get_linestyle() == style]:
                x0, x1 = ref.get_xdata()
                y0, y1 = ref.get_ydata()
                assert y0 == y1 and x0 <= min(xs[dtype]) and max(xs[dtype]) <= x1
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert labels == ["1,000\nfloat32", "1,000\nfloat64"]


@pytest.mark.parametrize("ops", [["gradient_hessian", "loss"], ["loss_gradient"],
                                 ("gradient", "gradient", "loss")])
def test_ops_chooses_the_panels_and_their_order(ops):
    rows = run(losses=["huber", "hinge", "cross_entropy"], sizes=(16, 1000, 100_000))
    fig = figure(rows, ops=ops)
    want = list(dict.fromkeys(ops))
    assert [t for t, _ in panels(fig)] == want + [f"{op} (cross_entropy)" for op in want]
    for title, ax in panels(fig):
        got = {ln.get_label(): list(ln.get_ydata()) for ln in lines(ax, "lossfuse")}
        assert got == series_of(rows_of(rows, title))


@pytest.mark.parametrize("kw, absent", [
    (dict(losses=["cross_entropy"]), ELEMENTWISE),                   # cross_entropy alone
    (dict(losses=["gamma"], dtypes=("float64",), threads=1),         # one loss, dtype, thread
     ["float32", "2 threads", "huber", "cross_entropy (K=10)"]),
    (dict(losses=["poisson", "tweedie", "gamma"], ops=["gradient"]),  # one family, one op
     ["regression (colour)", "huber", "cross_entropy (K=10)"]),
])
def test_parts_of_a_run(kw, absent):
    """A panel per op of the rows; the legend names what they draw and nothing else."""
    rows = run(**kw)
    fig = figure(rows)
    assert len(fig.axes) == len({r["op"] for r in rows})
    texts = legend_texts(fig)
    for title, ax in panels(fig):
        assert {ln.get_label() for ln in lines(ax, "lossfuse")} == set(
            series_of(rows_of(rows, title)))
        for ln in lines(ax, "lossfuse"):
            assert set(ln.get_label().split(", ")) <= set(texts)
    assert not set(absent) & set(texts)


def test_an_op_run_for_cross_entropy_only_leaves_its_element_wise_panel_empty():
    rows = (run(losses=["huber"], ops=["loss"])
            + run(losses=["cross_entropy"], ops=["loss", "gradient"]))
    fig = figure(rows)
    titles = [t for t, _ in panels(fig)]
    assert titles == ["loss", "gradient", "loss (cross_entropy)", "gradient (cross_entropy)"]
    empty = fig.axes[1]
    assert lines(empty, "lossfuse") == [] and [t.get_text() for t in empty.texts] == ["not run"]
    assert all(lines(ax, "lossfuse") for ax in fig.axes if ax is not empty)


def test_several_k_are_told_apart():
    rows = run(losses=["cross_entropy"], ks=(3, 10, 100), ops=["loss_gradient"])
    fig = figure(rows)
    (ax,) = fig.axes
    colours = {ln.get_label().split(", ")[0]: ln.get_color() for ln in lines(ax, "lossfuse")}
    assert set(colours) == {"cross_entropy (K=3)", "cross_entropy (K=10)",
                            "cross_entropy (K=100)"}
    assert len(set(colours.values())) == 3
    assert set(colours) <= set(legend_texts(fig))


def test_the_input_is_not_modified_and_classes_may_be_missing():
    rows = run(losses=["huber"], ops=["loss"])
    for r in rows:
        del r["classes"]
    before = copy.deepcopy(rows)
    figure(rows)
    assert rows == before


# ---------------------------------------------------------------------------- bad input
def test_an_empty_selection_is_a_value_error():
    with pytest.raises(ValueError, match="results is empty"):
        figure([])
    rows = run(losses=["huber"], ops=["loss"])
    with pytest.raises(ValueError, match="ops is empty"):
        figure(rows, ops=[])
    with pytest.raises(ValueError, match=r"ops: results has no rows of 'gradient'"):
        figure(rows, ops=["loss", "gradient"])
    with pytest.raises(ValueError, match=r"ops: unknown operation 'hessian'"):
        figure(rows, ops=["hessian"])


@pytest.mark.parametrize("results, match", [
    ({"results": []}, "results must be a sequence"),
    ("run.json", "results must be a sequence"),
    (None, "results must be a sequence"),
    ([["huber"]], r"results\[0\] must be a mapping"),
])
def test_results_of_the_wrong_type(results, match):
    with pytest.raises(TypeError, match=match):
        figure(results)


def test_ops_of_the_wrong_type():
    with pytest.raises(TypeError, match="ops must be a sequence of operation names"):
        figure(run(losses=["huber"], ops=["loss"]), ops="loss")


@pytest.mark.parametrize("key", ["loss", "op", "dtype", "n", "threads", "seconds", "gb_per_s",
                                 "numpy_seconds", "add_seconds"])
def test_a_row_without_a_key_names_it(key):
    rows = run(losses=["huber"], ops=["loss"])
    del rows[3][key]
    with pytest.raises(ValueError, match=rf"results\[3\] lacks '{key}'"):
        figure(rows)


@pytest.mark.parametrize("key", ["n", "seconds", "gb_per_s", "numpy_seconds", "add_seconds"])
@pytest.mark.parametrize("value", [0, -1.0, math.nan, math.inf, None, "1.5", True])
def test_a_throughput_or_time_that_is_not_positive_and_finite(key, value):
    rows = run(losses=["huber"], ops=["loss"])
    rows[2][key] = value
    with pytest.raises(ValueError, match=rf"results\[2\]\['{key}'\] must be a positive finite"):
        figure(rows)


@pytest.mark.parametrize("key", ["threads", "classes"])
@pytest.mark.parametrize("value", [0, -2, 1.5, "2", None, True])
def test_a_count_that_is_not_a_positive_integer(key, value):
    rows = run(losses=["huber"], ops=["loss"])
    rows[1][key] = value
    with pytest.raises(ValueError, match=rf"results\[1\]\['{key}'\] must be a positive integer"):
        figure(rows)


@pytest.mark.parametrize("key", ["loss", "op", "dtype"])
@pytest.mark.parametrize("value", ["", None, 3, ("huber",)])
def test_a_name_that_is_not_a_string(key, value):
    rows = run(losses=["huber"], ops=["loss"])
    rows[0][key] = value
    with pytest.raises(ValueError, match=rf"results\[0\]\['{key}'\] must be a name"):
        figure(rows)


def test_numpy_scalars_are_numbers():
    rows = run(losses=["huber"], ops=["loss"])
    for r in rows:
        r.update(n=np.int64(r["n"]), threads=np.int32(r["threads"]),
                 gb_per_s=np.float32(r["gb_per_s"]))
    (ax,) = figure(rows).axes
    assert {ln.get_label() for ln in lines(ax, "lossfuse")} == set(series_of(rows))


def test_more_thread_counts_and_dtypes_than_markers_and_styles():
    """Every (dtype, thread count) still a line of its own, each named in the legend."""
    rows = [r for t in (2, 3, 4, 6, 8, 16)
            for r in run(losses=["huber"], ops=["loss"], threads=t,
                         dtypes=("float16", "float32", "float64", "longdouble"))
            if t == 2 or r["threads"] > 1]
    fig = figure(rows)
    (ax,) = fig.axes
    got = {ln.get_label(): ln for ln in lines(ax, "lossfuse")}
    assert set(got) == set(series_of(rows)) and len(got) == 4 * 7
    assert {"float16", "longdouble", "16 threads", "1 thread"} <= set(legend_texts(fig))
    assert {got["huber, float32, 1 thread"].get_linestyle(),
            got["huber, float64, 1 thread"].get_linestyle()} == {"-", "--"}


def test_a_case_twice_is_a_value_error():
    rows = run(losses=["huber"], ops=["loss"])
    with pytest.raises(ValueError, match=r"results\[\d+\]: the case .*huber.* appears twice"):
        figure(rows + [dict(rows[1])])


# ------------------------------------------------------------------------------- title
def test_machine_title():
    assert machine_title(MACHINE) == ("lossfuse 0.1.0 on AMD EPYC, 2 cores: avx512 kernels, "
                                      "numpy 2.4.6")
    assert machine_title({"isa": "avx2"}) == "lossfuse: avx2 kernels"
    assert machine_title({}) == "lossfuse"
    fig = figure(run(losses=["huber"], ops=["loss"]), title=machine_title(MACHINE))
    assert fig._suptitle.get_text().startswith(machine_title(MACHINE) + "\n")
