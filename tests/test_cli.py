"""The ``lossfuse`` command as a command: its version, its help (every option explained, its
default shown, examples, no markup, 80 columns), its exit statuses, the checks of option
values, missing optional dependencies named with the extra that brings them, and progress
bars drawn only on a terminal."""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import pytest

import lossfuse as lf
from lossfuse import __main__ as cli
from lossfuse import _bench
from lossfuse._optional import EXTRAS, MissingDependencyError, import_optional

LOSSFUSE = [sys.executable, "-m", "lossfuse"]
HELPS = [[], ["bench"], ["score"], ["bench", "--load"]]


def lossfuse(*args, env=None, **kwargs):
    """``python -m lossfuse ARGS``, its output captured as text."""
    return subprocess.run(LOSSFUSE + [str(a) for a in args], capture_output=True, text=True,
                          env=None if env is None else {**os.environ, **env}, **kwargs)


def exits(capsys, *args):
    """``lossfuse ARGS`` in this process, for a command line argparse ends: (exit status,
    stdout, stderr)."""
    with pytest.raises(SystemExit) as stop:
        cli.main([str(a) for a in args])
    out = capsys.readouterr()
    return stop.value.code, out.out, out.err


# ------------------------------------------------------------------------------ --version
@pytest.mark.parametrize("command", [LOSSFUSE, [sys.executable, "-c",
                                     "import sys; from lossfuse.__main__ import main; "
                                     "sys.exit(main())"]])
def test_version(command):
    res = subprocess.run(command + ["--version"], capture_output=True, text=True)
    assert res.returncode == 0 and res.stderr == ""
    assert res.stdout == f"lossfuse {lf.__version__}\n"
    assert re.fullmatch(r"lossfuse \d+\.\d+\.\d+\S*\n", res.stdout)


# ------------------------------------------------------------------------------ the help
def parsers():
    """(the words that show its help, parser) for the top level and every command."""
    top = cli.build_parser()
    (commands,) = [a for a in top._actions if isinstance(a, argparse._SubParsersAction)]
    return ([([], top)] + [([name], p) for name, p in commands.choices.items()]
            + [(["bench", "--load"], cli.build_load_parser())])


def option_blocks(text):
    """The help of each option in `text`, by its first option string."""
    # "options:" since Python 3.10, "optional arguments:" before
    section = re.split(r"\n(?:options|optional arguments):\n", text, 1)[1].split("\n\n", 1)[0]
    blocks = {}
    for line in section.splitlines():
        m = re.match(r"  (-[-\w]+)", line)
        if m:
            key = m.group(1)
            blocks[key] = line
        else:
            blocks[key] += "\n" + line
    return {k: " ".join(v.split()) for k, v in blocks.items()}


def test_helps_cover_every_command():
    assert sorted(" ".join(words) for words, _ in parsers()) == sorted(
        " ".join(h) for h in HELPS)


@pytest.mark.parametrize("words", HELPS, ids=lambda w: " ".join(w) or "lossfuse")
@pytest.mark.parametrize("columns", ["200", "80"])
def test_help_is_complete_plain_and_80_columns(words, columns):
    res = lossfuse(*words, "--help", env={"COLUMNS": columns})
    text = res.stdout
    assert res.returncode == 0 and res.stderr == "" and text.startswith("usage: lossfuse")
    wide = [line for line in text.splitlines() if len(line) > 80]
    assert not wide, wide
    assert "``" not in text and not re.search(r":\w+:`", text), "reST markup in the help"
    assert "%(" not in text and "(default: None)" not in text and "(default: False)" not in text
    # an epilog with examples of this very command, and the exit statuses
    examples = text.split("\nexamples:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert examples and all(line.startswith("  lossfuse " + " ".join(words[:1]))
                            for line in examples if not line.startswith("      "))
    assert "\nexit status:\n  0  success\n  1  " in text and "\n  2  wrong command line" in text


@pytest.mark.parametrize("words,parser", parsers(),
                         ids=[" ".join(words) or "lossfuse" for words, _ in parsers()])
def test_every_option_is_explained_with_its_default(words, parser):
    text = lossfuse(*words, "--help").stdout
    blocks = option_blocks(text)
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or isinstance(action, argparse._SubParsersAction):
            continue
        assert action.help and len(action.help.split()) >= 3, action.option_strings
        if not action.option_strings:                                 # a positional
            assert action.metavar in text.split("\npositional arguments:\n", 1)[1]
            continue
        block = blocks[action.option_strings[0]]
        assert len(block.split()) > len(action.option_strings) + 3, block    # text beside it
        if action.default not in (None, False) and action.nargs != 0:
            assert "(default: " in block, block
            if not isinstance(action.default, list) and "%(default)" not in action.help:
                assert f"(default: {action.default})" in block, block


@pytest.mark.parametrize("words,names", [(["bench"], _bench.LOSSES),
                                         (["score"], lf.available_losses())])
def test_loss_names_are_listed_once(words, names):
    """One listing of the losses: not argparse's choices in the usage and beside the option
    as well."""
    text = lossfuse(*words, "--help").stdout
    assert "{" + names[0] not in text
    if words == ["bench"]:
        assert " ".join(text.split()).count(", ".join(names)) == 1
        assert "--losses LOSS [LOSS ...]" in text
    else:
        listing = text.split("\nlosses, their parameters", 1)[1].split("\n\n", 1)[0]
        listed = re.findall(r"^  (\w+)", listing, re.M)
        assert sorted(listed) == sorted(names)
        assert re.search(r"^  huber +delta=1\.0$", listing, re.M)
        assert "aliases mse, l2" in listing


def test_score_help_spells_out_data_and_sources():
    text = " ".join(lossfuse("score", "--help").stdout.split())
    for words in ("FILE.npy", "FILE.csv:COLUMN", "FILE.parquet:COLUMN", ".parquet (.pq)",
                  ".arrow (.feather, .ipc)", "DIRECTORY", "hive partitions", "GLOB",
                  "a header row naming the columns", "pip install 'lossfuse[score]'",
                  "what follows the last colon", "not standard input, a pipe", "--by",
                  "LOSS:NAME=VALUE", "a comma list", "--output FILE", "JSON array of records"):
        assert words in text, words


def test_the_help_of_every_command_is_reached_from_the_top():
    text = lossfuse("--help").stdout
    assert re.search(r"^    bench +\S", text, re.M) and re.search(r"^    score +\S", text, re.M)
    assert "lossfuse COMMAND --help" in text


# --------------------------------------------------------------- wrong command lines: 2
def test_no_command_prints_usage_to_stderr_and_exits_2():
    res = lossfuse()
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.startswith("usage: lossfuse ") and "required: COMMAND" in res.stderr


@pytest.mark.parametrize("words", [["frobnicate"], ["Bench"], ["frobnicate", "--help"]])
def test_an_unknown_command_exits_2(words):
    res = lossfuse(*words)
    assert res.returncode == 2 and res.stdout == "" and "Traceback" not in res.stderr
    assert res.stderr.startswith("usage: lossfuse ")
    assert f"unknown command {words[0]!r} (choose from bench, score)" in res.stderr


@pytest.mark.parametrize("args,says", [
    (["bench", "--sizes", "0"], "argument --sizes: must be a whole number from 1 to"),
    (["bench", "--sizes", "-3"], "argument --sizes: must be a whole number from 1 to"),
    (["bench", "--sizes", "1.5"], "argument --sizes: '1.5' is not a whole number"),
    (["bench", "--sizes", "1e99"], "argument --sizes: must be a whole number from 1 to"),
    (["bench", "--sizes", "nan"], "argument --sizes: 'nan' is not a number"),
    (["bench", "--rounds", "0"], "argument --rounds: must be a whole number from 1 to"),
    (["bench", "--threads", "0"], "argument --threads: must be a whole number from 1 to"),
    (["bench", "--threads", "257"], "argument --threads: must be a whole number from 1 to 256"),
    (["bench", "--max-slowdown", "nan"], "argument --max-slowdown: 'nan' is not a number"),
    (["bench", "--max-slowdown", "-0.1"], "argument --max-slowdown: must be a number from 0"),
    (["bench", "--max-slowdown", "2"], "argument --max-slowdown: must be a number from 0"),
    (["bench", "--losses", "nope"], "argument --losses: invalid choice: 'nope'"),
    (["bench", "--losses", "mse"], "argument --losses: invalid choice: 'mse'"),
    (["bench", "--ops", "hessian"], "argument --ops: invalid choice: 'hessian'"),
    (["bench", "--dtypes", "float16"], "argument --dtypes: invalid choice: 'float16'"),
    (["bench", "--save", "{d}/no/such/dir/run.json"], "argument --save/--json: cannot write"),
    (["bench", "--save", "{d}"], "argument --save/--json: '{d}' is not a file name"),
    (["bench", "--plot", "{d}/no/such/dir/speed.png"], "argument --plot: cannot write"),
    (["bench", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    (["bench", "--load", "--seconds", "0"], "argument --seconds: must be a number of seconds"),
    (["bench", "--load", "--seconds", "inf"], "argument --seconds: 'inf' is not a number"),
    (["bench", "--load", "--sizes", "0"], "argument --sizes: must be a whole number from 1"),
    (["bench", "--load", "--losses", "cross_entropy"], "invalid choice: 'cross_entropy'"),
    (["bench", "--load", "--conditions", "busy"], "invalid choice: 'busy'"),
    (["bench", "--load", "--save", "{d}/no/such/dir/x.json"],
     "argument --save/--json: cannot write"),
    (["score", "mse", "--y-true", "y.npy"], "the following arguments are required: --y-pred"),
    (["score", "--y-true", "y.npy", "--y-pred", "y.npy"], "give a loss: LOSS or --loss"),
    (["score", "mse", "--y-true", "y.npy", "--y-pred", "y.npy", "--by", "g"],
     "--by needs DATA"),
    (["score", "--loss", "mse", "--y-true", "y.npy", "--y-pred", "y.npy", "--param", "a=1"],
     "--param is for LOSS"),
    (["score", "mse", "--y-true", "y.npy", "--y-pred", "y.npy", "--output", "x.txt"],
     "argument --output: x.txt: not a .parquet, .csv or .json file"),
    (["score", "mse", "--y-true", "y.npy", "--y-pred", "y.npy", "--chunk-size", "0"],
     "argument --chunk-size: must be a whole number from 1 to 1,099,511,627,776, got 0"),
    (["score", "mse", "--y-true", "y.npy", "--y-pred", "y.npy", "--progress=yes"],
     "ignored explicit argument 'yes'"),
])
def test_wrong_option_values_exit_2_naming_the_option(capsys, tmp_path, args, says):
    args = [a.format(d=tmp_path) for a in args]
    code, out, err = exits(capsys, *args)
    prog = "lossfuse bench --load" if "--load" in args else f"lossfuse {args[0]}"
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.startswith(f"usage: {prog} ")
    (message,) = [line for line in err.splitlines() if line.startswith(prog + ": error: ")]
    assert says.format(d=tmp_path) in message, err


def test_option_values_in_exponent_notation(capsys, tmp_path):
    """--sizes 1e3 is 1000 (and --sizes 1.5e1 is 15)."""
    path = tmp_path / "run.json"
    assert _bench.main(["--quick", "--rounds", "1", "--losses", "huber", "--dtypes", "float64",
                        "--ops", "loss", "--threads", "1", "--sizes", "1e3", "1.5e1",
                        "--save", str(path)]) == 0
    assert [r["n"] for r in json.loads(path.read_text())["results"]] == [1000, 15]


@pytest.mark.parametrize("option", ["--load", "--loa"])
def test_bench_load_takes_the_rest_of_the_command_line(capsys, option):
    code, out, err = exits(capsys, "bench", option, "--help")
    assert code == 0 and out.startswith("usage: lossfuse bench --load ") and err == ""
    assert "--conditions LOAD" in out
    code, out, _ = exits(capsys, "bench", "--help")
    assert code == 0 and "--conditions" not in out


# ------------------------------------------------------------- missing optional packages
BLOCK = ("import sys\nfor name in sys.argv[1].split(','):\n    sys.modules[name] = None\n"
         "from lossfuse.__main__ import main\nsys.exit(main(sys.argv[2:]))\n")


def without(modules, *args):
    """``lossfuse ARGS`` in a Python where `modules` cannot be imported (as if not
    installed)."""
    return subprocess.run([sys.executable, "-c", BLOCK, ",".join(modules), *map(str, args)],
                          capture_output=True, text=True)


@pytest.mark.parametrize("spec", ["{d}/t.parquet:y", "{d}/T.PQ:y", "{d}/d.csv:y",
                                  "{d}/t.arrow:y"])
@pytest.mark.parametrize("modules", [["pyarrow"]])
def test_tables_without_pyarrow_name_the_extra(tmp_path, spec, modules):
    np.save(tmp_path / "p.npy", np.zeros(3))
    (tmp_path / "d.csv").write_text("y\n0\n0\n0\n")
    res = without(modules, "score", "mse", "--y-true", spec.format(d=tmp_path), "--y-pred",
                  tmp_path / "p.npy")
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr == ("lossfuse score: reading CSV, Parquet and Arrow files needs "
                          "pyarrow, which is not installed: pip install 'lossfuse[score]'\n")
    res = without(modules, "score", "mse", tmp_path / "d.csv", "--y-true", "y", "--y-pred",
                  "y")
    assert res.returncode == 2 and "pip install 'lossfuse[score]'" in res.stderr


def test_plot_without_matplotlib_names_the_extra_before_timing(tmp_path):
    res = without(["matplotlib"], "bench", "--quick", "--losses", "huber", "--plot",
                  tmp_path / "speed.png")
    assert res.returncode == 2 and res.stdout == ""            # nothing was timed
    assert res.stderr == ("lossfuse bench: --plot needs matplotlib, which is not installed: "
                          "pip install 'lossfuse[plot]'\n")


def test_npy_sources_need_no_pyarrow(tmp_path):
    np.save(tmp_path / "y.npy", np.arange(3.0))
    np.save(tmp_path / "p.npy", np.zeros(3))
    res = without(["pyarrow"], "score", "mse", "--y-true", tmp_path / "y.npy", "--y-pred",
                  tmp_path / "p.npy", "--loss", "mae")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split("\n")[1].split()[:2] == ["mse", "3"]


def test_import_optional_returns_the_module():
    import json
    assert import_optional("json", "reading") is json
    assert import_optional("os.path", "reading") is os.path


@pytest.mark.parametrize("module,blocked", [("pyarrow", "pyarrow"),
                                            ("pyarrow.parquet", "pyarrow"),
                                            ("pyarrow.parquet", "pyarrow.parquet"),
                                            ("matplotlib.pyplot", "matplotlib")])
def test_import_optional_names_the_extra(monkeypatch, module, blocked):
    for name in list(sys.modules):
        if name == blocked or name.startswith(blocked + "."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, blocked, None)
    with pytest.raises(MissingDependencyError) as e:
        import_optional(module, "doing it")
    top = module.partition(".")[0]
    assert str(e.value) == (f"doing it needs {top}, which is not installed: "
                            f"pip install 'lossfuse[{EXTRAS[top]}]'")
    assert isinstance(e.value, ModuleNotFoundError)          # what callers catch already
    assert e.value.__cause__ is None and e.value.__suppress_context__


def test_a_package_without_an_extra_is_named_for_pip():
    with pytest.raises(MissingDependencyError, match=r"^it needs no_such_package_x, which is "
                       r"not installed: pip install no_such_package_x$"):
        import_optional("no_such_package_x.sub", "it")


@pytest.mark.parametrize("inside", ["import fakepkg._missing_piece",
                                    "import no_such_dependency_of_fakepkg"])
def test_an_installed_package_that_fails_to_import_is_not_called_missing(
        tmp_path, monkeypatch, inside):
    """A module missing *inside* an installed package (a broken build, a dependency of its
    own) is not what the extra brings: that error propagates as it is."""
    (tmp_path / "fakepkg").mkdir()
    (tmp_path / "fakepkg" / "__init__.py").write_text(inside + "\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError) as e:
        import_optional("fakepkg", "testing")
    assert not isinstance(e.value, MissingDependencyError)
    assert e.value.name == inside.split()[1]


def test_every_extra_named_is_one_of_the_package():
    tomllib = pytest.importorskip("tomllib")
    path = os.path.join(os.path.dirname(__file__), os.pardir, "pyproject.toml")
    with open(path, "rb") as f:
        extras = tomllib.load(f)["project"]["optional-dependencies"]
    for package, extra in EXTRAS.items():
        assert extra in extras, extra
        assert any(re.match(re.escape(package) + r"\b", req) for req in extras[extra]), \
            (package, extras[extra])


# ---------------------------------------------------------------------- other failures: 1
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_file_that_cannot_be_written_is_one_line_and_exit_1():
    res = lossfuse("bench", "--quick", "--rounds", "1", "--losses", "huber", "--dtypes",
                   "float64", "--ops", "loss", "--threads", "1", "--save", "/dev/full")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr == "lossfuse bench: error: /dev/full: No space left on device\n"


def test_a_plot_file_matplotlib_cannot_write_exits_2_before_timing(tmp_path):
    pytest.importorskip("matplotlib")
    res = lossfuse("bench", "--quick", "--losses", "huber", "--plot", tmp_path / "speed.xyz")
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.startswith(f"lossfuse bench: error: --plot {tmp_path}/speed.xyz: "
                                 "matplotlib does not write .xyz files; it writes ")
    assert ".png" in res.stderr and res.stderr.count("\n") == 1


# ------------------------------------------------------------------ progress on a terminal
try:
    import pty
except ImportError:                 # not on Windows
    pty = None


def on_terminal(*args, ci=None):
    """``python -m lossfuse ARGS`` with stderr on a pseudo-terminal and stdout to a file,
    the environment variable CI set to `ci` (None: unset): (exit status, stdout, what the
    terminal showed)."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    master, slave = pty.openpty()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(LOSSFUSE + [str(a) for a in args], stdin=subprocess.DEVNULL,
                                stdout=out, stderr=slave, env=env)
        os.close(slave)
        shown = b""
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:                   # EIO: every end of the terminal is closed
                break
            if not data:
                break
            shown += data
        os.close(master)
        code = proc.wait()
        out.seek(0)
        return code, out.read(), shown.decode()


@pytest.fixture
def long_input(tmp_path):
    """A score command line whose input spans 50 chunks."""
    np.save(tmp_path / "y.npy", np.arange(5000.0))
    np.save(tmp_path / "p.npy", np.zeros(5000))
    return ["score", "mse", "--y-true", tmp_path / "y.npy", "--y-pred", tmp_path / "p.npy",
            "--chunk-size", "100"]


BENCH = ["bench", "--quick", "--rounds", "1", "--losses", "huber", "--dtypes", "float64",
         "--ops", "loss", "--threads", "1"]


@pytest.mark.skipif(pty is None, reason="needs a pseudo-terminal")
@pytest.mark.parametrize("command,bar", [("score", "100.0% 5,000 rows"), ("bench", "] 2/2 ")])
def test_a_progress_bar_on_a_terminal_only(long_input, command, bar):
    args = long_input if command == "score" else BENCH
    code, out, shown = on_terminal(*args)
    assert code == 0 and bar in shown and "\r" in shown
    code, quiet, shown = on_terminal(*args, "--no-progress")     # asked not to
    assert code == 0 and shown == ""
    for ci in ("true", "1"):                                     # in CI
        assert on_terminal(*args, ci=ci)[::2] == (0, "")
        assert bar in on_terminal(*args, "--progress", ci=ci)[2]
    assert bar in on_terminal(*args, ci="false")[2]
    piped = lossfuse(*args)                          # stderr a pipe, as in CI
    assert piped.returncode == 0 and piped.stderr == ""
    forced = lossfuse(*args, "--progress")           # asked for
    assert forced.returncode == 0 and bar in forced.stderr
    if command == "score":                           # the result is the same every way
        want = f"{float(np.mean(np.arange(5000.0) ** 2))!r}\n"
        assert out == quiet == piped.stdout == forced.stdout == want


# ------------------------------------------------------------------------------ interrupts
@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
@pytest.mark.parametrize("args", [["bench", "--losses", "huber", "--sizes", "1e7"],
                                  ["bench", "--load", "--sizes", "1e7", "--conditions",
                                   "nice 19"]])
def test_an_interrupt_is_one_line_and_exit_130(args):
    import signal

    def as_at_a_terminal():
        # SIGINT at its default and not blocked: a suite started in the background of a
        # shell without job control inherits it ignored, and so would the command
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

    def signals(pid):              # what the child does with signals, for the message
        try:
            with open(f"/proc/{pid}/status") as f:
                return [line.strip() for line in f if line.startswith(("Sig", "ShdPnd"))]
        except OSError:
            return []
    proc = subprocess.Popen(LOSSFUSE + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=as_at_a_terminal)
    first = proc.stdout.readline()              # the run has started
    assert first.startswith("# lossfuse"), first
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:      # not acted on in 5 s: say so, and press it again
        state = signals(proc.pid)
        warnings.warn(f"lossfuse {args[0]}: SIGINT not acted on within 5 s: {state}")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err == f"lossfuse {args[0]}" + (
        " --load" if "--load" in args else "") + ": interrupted\n", (proc.returncode, err)
